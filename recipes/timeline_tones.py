"""A timeline over words under a steady tone (a whine, mains hum) or noise, with and without the notch that removes it.

    python -m recipes.timeline_tones SWEEP [SWEEP ...] --data PATH/TO/fsdd [--speakers S,...] [--recordings 2]
        [--conditions none,whine1000@10,hum60@10,pink@10] [--single] [--json]

For every speaker, a fold model of each `recipes.digit_sweep` SWEEP that never heard them labels `--recordings`
recordings of 20 of their words (each scaled to a peak of 0.5, 0.4 to 1 s apart) with a sound added under them
at an SNR against the words' level: `whineF` a sine of F Hz, `humF` mains hum (F Hz and its first six harmonics),
`pink` pink noise, `none` nothing. Each recording goes through `workbench classify --timeline`'s timeline with the
notch (`TimelineConfig.notch_lines`, the default) and without it. A word is found when a segment overlaps it by
more than 50 ms, and labelled right when a segment with its label covers its midpoint; a line gives the words found
and right, and the segments, with the notch and without it.

`--single`: every recording of each speaker instead, one word at a time as `workbench classify` labels a file, the
sound added at the SNR against that recording's own level, each labelled with a single clip's notch
(`ClassifyConfig.notch_lines`) and without it; a line gives the words labelled right either way.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import torch

from recipes.digit_sweep import add_fold_model_arguments, fold_model
from recipes.timeline_mixes import Item
from recipes.timeline_mixes import score as score_mix
from workbench.data import Example, find_examples
from workbench.tasks import classify
from workbench.tasks.timeline import TimelineConfig, timeline

SAMPLE_RATE = 8000
WORDS_PER_RECORDING = 20
CONDITIONS = "none,whine1000@10,whine2500@10,whine440@10,whine1000@20,hum60@10,hum50@10,pink@10"


@dataclass(frozen=True)
class Condition:
    kind: str               # "none", "whine", "hum" or "pink"
    freq_hz: float = 0.0    # the whine's or the hum's fundamental
    snr_db: float = 0.0     # against the words' level (the RMS of the words alone)

    @classmethod
    def parse(cls, text: str) -> "Condition":
        """'none', 'pink@10', 'whine1000@10', 'hum60@20'."""
        if text == "none":
            return cls("none")
        name, _, snr = text.partition("@")
        kind = next((k for k in ("whine", "hum", "pink") if name.startswith(k)), None)
        if kind is None or not snr or (kind != "pink" and name == kind):
            raise ValueError(f"condition {text!r} is not none, pink@SNR, whineHZ@SNR or humHZ@SNR")
        return cls(kind, float(name[len(kind):] or 0), float(snr))


def make_recording(examples: list[Example], condition: Condition, rng: np.random.Generator
                   ) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """(samples,) of WORDS_PER_RECORDING of `examples`' words under `condition`'s sound, and each word's label,
    start and end (s)."""
    parts, words, at = [np.zeros(SAMPLE_RATE // 2, np.float32)], [], SAMPLE_RATE // 2
    for i in rng.choice(len(examples), WORDS_PER_RECORDING, replace=False):
        clip, _ = soundfile.read(examples[i].path, dtype="float32")
        clip = 0.5 * clip / (np.abs(clip).max() + 1e-9)
        gap = np.zeros(int(rng.uniform(0.4, 1.0) * SAMPLE_RATE), np.float32)
        words.append((examples[i].label, at / SAMPLE_RATE, (at + len(clip)) / SAMPLE_RATE))
        parts += [clip, gap]
        at += len(clip) + len(gap)
    audio = np.concatenate(parts)
    level = np.sqrt(np.mean(np.concatenate(parts[1::2]) ** 2))      # the words alone
    return with_sound(audio, condition, level, rng), words


def with_sound(audio: np.ndarray, condition: Condition, level: float, rng: np.random.Generator) -> np.ndarray:
    """`audio` (samples,) with `condition`'s sound added throughout, `condition.snr_db` under an RMS of `level`."""
    if condition.kind == "none":
        return audio
    t = np.arange(len(audio)) / SAMPLE_RATE
    if condition.kind == "whine":
        sound = np.sin(2 * np.pi * condition.freq_hz * t)
    elif condition.kind == "hum":
        sound = sum(np.sin(2 * np.pi * condition.freq_hz * k * t + k) / k for k in range(1, 8))
    else:                                                           # pink: white noise shaped by 1/sqrt(f)
        white = np.fft.rfft(rng.standard_normal(len(audio)))
        sound = np.fft.irfft(white / np.sqrt(np.arange(len(white)) + 1.0), len(audio))
    sound = sound / np.sqrt(np.mean(sound ** 2)) * level * 10 ** (-condition.snr_db / 20)
    return (audio + sound).astype(np.float32)


def single_words_right(bundle: classify.LoadedBundle, examples: list[Example], condition: Condition,
                       rng: np.random.Generator) -> dict[str, int]:
    """How many of `examples` (one word each) `bundle` labels right under `condition`'s sound (at its SNR against
    each recording's own RMS), with a single clip's notch and without it: {"right_notched", "right_left_in"}."""
    clips = []
    for example in examples:
        word, _ = soundfile.read(example.path, dtype="float32")
        clips.append(torch.from_numpy(with_sound(word, condition, float(np.sqrt(np.mean(word ** 2))), rng)))
    row = {}
    for notch, key in ((True, "right_notched"), (False, "right_left_in")):
        heard = classify.classify_waveforms(
            dataclasses.replace(bundle, cfg=dataclasses.replace(bundle.cfg, notch_lines=notch)), clips).argmax(1)
        row[key] = sum(bundle.labels[int(i)] == e.label for i, e in zip(heard, examples))
    return row


def score(segments, words: list[tuple[str, float, float]]) -> tuple[int, int]:
    """Words found and labelled right, as `recipes.timeline_mixes.score` counts them."""
    row = score_mix(segments, [Item("word", label, start, end) for label, start, end in words])
    return row["found"], row["right"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fold_model_arguments(parser)
    parser.add_argument("--recordings", type=int, default=2, help="recordings per speaker and condition")
    parser.add_argument("--conditions", default=CONDITIONS, help="comma-separated: none, pink@SNR, whineHZ@SNR, humHZ@SNR")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--single", action="store_true",
                        help="every recording of each speaker, one word at a time, with a single clip's notch and without")
    parser.add_argument("--json", action="store_true", help="one JSON object per sweep and condition")
    args = parser.parse_args(argv)
    try:
        conditions = [Condition.parse(c) for c in args.conditions.split(",")]
    except ValueError as err:
        parser.error(str(err))
    examples = find_examples(args.data)
    totals: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for speaker in args.speakers.split(","):
            own = [e for e in examples if e.group == speaker]
            if len(own) < WORDS_PER_RECORDING:
                parser.error(f"{args.data}: {len(own)} recordings of speaker {speaker}; a recording takes "
                             f"{WORDS_PER_RECORDING}")
            for sweep in args.sweeps:
                if (model_dir := fold_model(Path(args.runs), sweep, speaker)) is None:
                    continue
                bundle = classify.load(model_dir)
                for name, condition in zip(args.conditions.split(","), conditions):
                    rng = np.random.default_rng([args.seed, sum(map(ord, speaker))])   # the same words every condition
                    row = totals.setdefault((sweep, name), {"sweep": sweep, "condition": name, "words": 0})
                    if args.single:
                        row["words"] += len(own)
                        for key, value in single_words_right(bundle, own, condition, rng).items():
                            row[key] = row.get(key, 0) + value
                        continue
                    for _ in range(args.recordings):
                        audio, words = make_recording(own, condition, rng)
                        path = Path(tmp) / "recording.wav"
                        soundfile.write(path, audio, SAMPLE_RATE)
                        row["words"] += len(words)
                        for notch in (True, False):
                            segments = timeline(bundle, path, TimelineConfig(notch_lines=notch))
                            found, right = score(segments, words)
                            key = "notched" if notch else "left_in"
                            for field, value in (("found", found), ("right", right), ("segments", len(segments))):
                                row[f"{field}_{key}"] = row.get(f"{field}_{key}", 0) + value
    for row in totals.values():
        if args.single and not args.json:
            print(f"{row['sweep']:14s} {row['condition']:14s} single words right {row['right_left_in']:4d} -> "
                  f"{row['right_notched']:4d} of {row['words']}, the sound left in -> notched out")
            continue
        print(json.dumps(row) if args.json else
              f"{row['sweep']:14s} {row['condition']:14s} words right {row['right_left_in']:4d} -> {row['right_notched']:4d} "
              f"of {row['words']} (found {row['found_left_in']} -> {row['found_notched']}; segments "
              f"{row['segments_left_in']} -> {row['segments_notched']}), the sound left in -> notched out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
