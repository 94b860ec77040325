"""Recipe: the spoken-digit demo samples in assets/samples/, built from FSDD recordings.

    python -m recipes.digit_samples --data PATH/TO/fsdd --out assets/samples

Copies one take of each digit (official test indices 0-4, speakers in turn) as `digit_<d>_<speaker>_<n>.wav`,
and builds `digits_sequence.wav`: ten takes spoken one after another with pauses of 0.4-0.9 s over
quiet pink noise (about 25 dB below the speech), plus `digits_sequence.json` with the true segments.
Deterministic for a given --seed. FSDD is CC BY-SA 4.0 (Zohar Jackson and contributors); so are these files.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import soundfile

from workbench.data import find_examples

SPEAKERS = ["jackson", "nicolas", "theo", "yweweler", "lucas"]


def pink_noise(num_samples: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    spectrum /= np.sqrt(np.maximum(1.0, np.arange(len(spectrum))))
    noise = np.fft.irfft(spectrum, n=num_samples)
    return noise / np.sqrt(np.mean(noise**2))


def build_sequence(takes: list[tuple[str, Path]], rng: np.random.Generator, sample_rate: int = 8000):
    """Concatenate normalised takes with random pauses over pink noise; return audio and the true segments."""
    parts, segments, t = [np.zeros(int(0.5 * sample_rate))], [], 0.5
    for label, path in takes:
        clip, rate = soundfile.read(path, dtype="float64")
        assert rate == sample_rate, f"{path}: expected {sample_rate} Hz"
        clip = clip - clip.mean()
        clip *= 0.25 / max(1e-6, np.sqrt(np.mean(clip**2)) * 4)    # every take at the same RMS (about -24 dBFS)
        pause = rng.uniform(0.4, 0.9)
        segments.append({"start_s": round(t, 4), "end_s": round(t + len(clip) / sample_rate, 4), "label": label,
                         "source": path.name})
        parts += [clip, np.zeros(int(pause * sample_rate))]
        t += len(clip) / sample_rate + int(pause * sample_rate) / sample_rate
    audio = np.concatenate(parts)
    audio += pink_noise(len(audio), rng) * 0.0625 * 10 ** (-25 / 20)
    return np.clip(audio, -1, 1).astype(np.float32), segments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="FSDD folder (holding recordings/) or the recordings folder")
    parser.add_argument("--out", default="assets/samples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    by_name = {Path(e.path).name: Path(e.path) for e in find_examples(args.data)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for digit in range(10):                                    # one clip of each digit, speakers in turn
        name = f"{digit}_{SPEAKERS[digit % 5]}_{digit % 5}.wav"
        shutil.copyfile(by_name[name], out / f"digit_{name}")
    order = rng.permutation(10)
    takes = [(str(d), by_name[f"{d}_{SPEAKERS[(d + 2) % 5]}_{(d + 1) % 5}.wav"]) for d in order]
    audio, segments = build_sequence(takes, rng)
    soundfile.write(out / "digits_sequence.wav", audio, 8000, subtype="PCM_16")
    (out / "digits_sequence.json").write_text(json.dumps({"sample_rate": 8000, "segments": segments}, indent=2) + "\n")
    print(f"wrote 10 clips and digits_sequence.wav ({len(audio) / 8000:.1f} s, {len(segments)} digits) to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
