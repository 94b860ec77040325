"""How well the spoken-digit models' novelty warning tells other sounds from digits said by a new voice.

    python -m recipes.digit_novelty SWEEP --data PATH/TO/fsdd --synthetic runs/syn-ef [--threshold X] [--json]

For every fold model a `recipes.digit_sweep` run left (`runs/digit-sweep/SWEEP/<speaker>/model`, trained
without that speaker), this fits the novelty stats (`models.novelty`) on the fold's own training clips
(the other speakers' recordings and the synthetic takes), then scores:
- the held-out speaker's 500 recordings: digits, from a voice the model never heard; a warning there is false;
- those recordings played backwards: speech sounds, but no digit;
- sounds made here (`make_other_sounds`): beeps, music, knocks, and 44 other English words said by
  espeak-ng and Flite voices (not digits, nor words that sound like one).
It prints, per held-out speaker, the share of each set warned at `--threshold`, and the threshold that
keeps every held-out speaker's recordings at most 1% warned (how the recipe's NOVELTY_THRESHOLD was set).
The "no voiced sound" warning (`ClassifyConfig.warn_no_voice`) is counted beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np
import soundfile
import torch

from recipes.synthetic_digits import speak, speak_flite
from workbench.data import decode_examples, find_examples
from workbench.media import load_audio
from workbench.tasks import classify

SAMPLE_RATE = 8000
OTHER_WORDS = ["hello", "yes", "no", "stop", "go", "left", "right", "up", "down", "off", "cat", "dog", "house",
               "water", "apple", "banana", "music", "computer", "table", "chair", "window", "green", "blue", "red",
               "happy", "morning", "please", "maybe", "bird", "tree", "hundred", "thousand", "dozen", "first",
               "second", "bed", "wow", "learn", "follow", "visual", "sheila", "marvin", "forward", "backward"]
ESPEAK_VOICES = ["en-us", "en", "en-us+m3", "en+f2", "en-us+f4", "en+m7"]
FLITE_VOICES = ["slt", "rms", "awb", "kal"]
KINDS = ("beeps", "music", "knocks", "words")


def make_other_sounds(out: Path, seed: int = 0, kinds: tuple[str, ...] = KINDS) -> dict[str, list[Path]]:
    """Write 100 beeps, 100 snippets of music, 100 knocks and 220 other words (8 kHz WAV) under `out/<kind>/`,
    or only the `kinds` asked for (each kind draws from its own generator, so a subset is the same files)."""

    def envelope(n: int, attack_s: float, decay_s: float) -> np.ndarray:
        t = np.arange(n) / SAMPLE_RATE
        return np.minimum(1.0, t / attack_s) * np.exp(-t / decay_s)

    def tone(freq: float, duration_s: float, harmonics: int = 1, square: bool = False) -> np.ndarray:
        t = np.arange(int(duration_s * SAMPLE_RATE)) / SAMPLE_RATE
        if square:
            return 0.5 * np.sign(np.sin(2 * np.pi * freq * t))
        return sum(np.sin(2 * np.pi * freq * k * t) / k ** 1.2 for k in range(1, harmonics + 1) if freq * k < SAMPLE_RATE / 2)

    def save(path: Path, x: np.ndarray) -> None:
        x = x / (np.abs(x).max() + 1e-9) * rng.uniform(0.1, 0.9)
        x = x + rng.normal(0, 10 ** (rng.uniform(-80, -50) / 20), x.shape)     # a recording's noise floor
        soundfile.write(path, x.astype(np.float32), SAMPLE_RATE)

    for kind in kinds:
        (out / kind).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, KINDS.index("beeps")])
    for i in range(100 if "beeps" in kinds else 0):        # beeps: 1-3 tones of 150-3000 Hz, 50-600 ms each
        parts = []
        for _ in range(rng.integers(1, 4)):
            b = tone(rng.uniform(150, 3000), rng.uniform(0.05, 0.6), int(rng.integers(1, 4)), rng.random() < 0.3)
            parts += [b * envelope(len(b), 0.005, rng.uniform(0.05, 2.0)), np.zeros(int(rng.uniform(0.05, 0.3) * SAMPLE_RATE))]
        save(out / "beeps" / f"beep_{i:03d}.wav", np.concatenate(parts))
    rng = np.random.default_rng([seed, KINDS.index("music")])
    for i in range(100 if "music" in kinds else 0):        # music: 2-8 notes or chords of harmonic tones
        notes, root = [], rng.uniform(110, 440)
        for _ in range(rng.integers(2, 9)):
            duration_s = rng.uniform(0.1, 0.5)
            chord = [root * 2 ** (s / 12) for s in rng.choice([0, 2, 4, 5, 7, 9, 11, 12], rng.integers(1, 4))]
            n = sum(tone(f, duration_s, harmonics=6) for f in chord)
            notes.append(n * envelope(len(n), 0.01, rng.uniform(0.1, 1.0)))
        save(out / "music" / f"music_{i:03d}.wav", np.concatenate(notes))
    rng = np.random.default_rng([seed, KINDS.index("knocks")])
    for i in range(100 if "knocks" in kinds else 0):       # knocks, taps and thuds: 1-5 decaying bursts of noise
        x = np.zeros(int(rng.uniform(0.3, 1.5) * SAMPLE_RATE))
        for _ in range(rng.integers(1, 6)):
            n = int(0.15 * SAMPLE_RATE)
            burst = rng.normal(0, 1, n) * envelope(n, 0.0005, rng.uniform(0.003, 0.04))
            if rng.random() < 0.5:
                burst = np.convolve(burst, np.ones(int(rng.integers(3, 20))) / 10, "same")     # a thud: low-passed
            start = int(rng.integers(0, len(x) - n))
            x[start:start + n] += burst
        save(out / "knocks" / f"knock_{i:03d}.wav", x)
    rng = np.random.default_rng([seed, KINDS.index("words")])
    with tempfile.TemporaryDirectory() as tmp:
        for i, word in enumerate(OTHER_WORDS if "words" in kinds else []):
            for j in range(3):
                voice = ESPEAK_VOICES[(i + j) % len(ESPEAK_VOICES)]
                save(out / "words" / f"{word}_espeak_{j}.wav",
                     speak(word, voice, int(rng.integers(120, 220)), int(rng.integers(20, 80)), Path(tmp)))
            for j in range(2):
                save(out / "words" / f"{word}_flite_{j}.wav", speak_flite(
                    word, FLITE_VOICES[(i + j) % len(FLITE_VOICES)], rng.uniform(0.8, 1.3), rng.uniform(90, 220), Path(tmp)))
    return {kind: sorted((out / kind).glob("*.wav")) for kind in kinds}


def _scores(bundle: classify.LoadedBundle, waveforms: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """Each clip's novelty, and whether `predict` would warn that it holds no voiced sound."""
    novelty = torch.cat([classify.probabilities_and_novelty(bundle, waveforms[i:i + 64])[1]
                         for i in range(0, len(waveforms), 64)]).numpy()
    cfg = dataclasses.replace(bundle.cfg, warn_no_voice=True)     # fold models trained before the warning existed
    return novelty, np.asarray([classify.voice_warning(cfg, w, float(n)) is not None for w, n in zip(waveforms, novelty)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help="a recipes.digit_sweep run name under --runs")
    parser.add_argument("--data", required=True, help="FSDD folder (holding recordings/) or the recordings folder")
    parser.add_argument("--synthetic", required=True, help="the synthetic takes the sweep trained on (their manifest)")
    parser.add_argument("--runs", default="runs/digit-sweep")
    parser.add_argument("--speakers", default="jackson,lucas,nicolas,theo,yweweler")
    parser.add_argument("--threshold", default=None,
                        help="default: the recipe's NOVELTY_THRESHOLD; several, comma-separated, also print each set's "
                             "mean warned share at the others (one pass over the models)")
    parser.add_argument("--sounds", default=None, help="a folder for the other sounds (default: a temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from recipes.spoken_digits import NOVELTY_THRESHOLD

    thresholds = [NOVELTY_THRESHOLD] if args.threshold is None else [float(t) for t in args.threshold.split(",")]
    threshold = thresholds[0]
    real = find_examples(args.data)
    synthetic = find_examples(Path(args.synthetic) / "manifest.csv")
    with tempfile.TemporaryDirectory() as tmp:
        sounds = make_other_sounds(Path(args.sounds or tmp))
        others = {kind: [load_audio(p, sample_rate=SAMPLE_RATE, mono=True).waveform[0] for p in paths]
                  for kind, paths in sounds.items()}
    rows, held_out_q99 = [], []
    at = {t: {} for t in thresholds}        # threshold -> set -> each speaker's warned share
    for speaker in args.speakers.split(","):
        model_dir = Path(args.runs) / args.sweep / speaker / "model"
        classify.add_novelty_stats(model_dir, [e for e in real if e.group != speaker] + synthetic)
        bundle = classify.load(model_dir)
        items, _ = decode_examples([e for e in real if e.group == speaker], SAMPLE_RATE)
        recordings = [w for _, w in items]
        sets = {"digits": recordings, "reversed": [w.flip(0) for w in recordings], **others}
        row = {"speaker": speaker}
        for name, waveforms in sets.items():
            novelty, voiceless = _scores(bundle, waveforms)
            row[name] = {"novel": float(np.mean(novelty > threshold)), "no_voice": float(np.mean(voiceless)),
                         "either": float(np.mean((novelty > threshold) | voiceless)), "n": len(waveforms)}
            for t in thresholds:
                at[t].setdefault(name, []).append(float(np.mean((novelty > t) | voiceless)))
            if name == "digits":
                held_out_q99.append(float(np.quantile(novelty, 0.99)))
        rows.append(row)
        print(f"{speaker:9s} " + "  ".join(f"{k} {v['either']:.3f} ({v['novel']:.3f} novel, {v['no_voice']:.3f} no voice)"
                                           for k, v in row.items() if k != "speaker"), flush=True)
    summary = {"sweep": args.sweep, "threshold": threshold, "speakers": rows,
               "threshold_for_1_percent": max(held_out_q99),
               "at": {f"{t:g}": {name: {"mean": float(np.mean(shares)), "max": max(shares)} for name, shares in by_set.items()}
                      for t, by_set in at.items()}}
    summary["mean"] = {name: v["mean"] for name, v in summary["at"][f"{threshold:g}"].items()}   # at --threshold's first
    print(json.dumps(summary) if args.json else
          "\n".join(f"mean warned at {t}: " + ", ".join(f"{k} {v['mean']:.3f}" for k, v in by_set.items())
                    + f" (digits: most of one speaker {by_set['digits']['max']:.3f})" for t, by_set in summary["at"].items())
          + f"\nthreshold keeping every held-out speaker's digits at most 1% novel: {summary['threshold_for_1_percent']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
