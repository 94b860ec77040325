"""Synthetic spoken digits from espeak-ng: many voices, accents, rates and pitches.

    python -m recipes.synthetic_digits --out runs/synthetic-digits [--per-digit 80]

FSDD has only five speakers here; a model trained on four of them meets a new voice and a new
microphone at test time. These clips add speaker variety (espeak-ng's English accents, its male
and female voice variants, speaking rates and pitches). They are 8 kHz mono WAVs trimmed of
silence like FSDD's, listed in `manifest.csv` (path,label,group) with one group per voice so that
splits keep a voice on one side. Needs the Debian package espeak-ng. Deterministic for a --seed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile
import soxr

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3"]
SAMPLE_RATE = 8000


def trim_silence(audio: np.ndarray, sample_rate: int, threshold_db: float = -40.0) -> np.ndarray:
    """Cut leading and trailing 10 ms frames quieter than threshold_db below the loudest frame."""
    frame = sample_rate // 100
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = np.flatnonzero(energy > energy.max() + threshold_db)
    if len(loud) == 0:
        return audio
    return audio[loud[0] * frame:(loud[-1] + 1) * frame]


def speak(word: str, voice: str, rate_wpm: int, pitch: int, workdir: Path) -> np.ndarray:
    """espeak-ng's rendering of `word`, at 8 kHz, trimmed: (samples,) float32."""
    wav = workdir / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "-w", str(wav), word],
                   check=True, capture_output=True, timeout=30)
    audio, rate = soundfile.read(wav, dtype="float32")
    audio = soxr.resample(audio, rate, SAMPLE_RATE)
    return trim_silence(audio, SAMPLE_RATE).astype(np.float32)


def make_synthetic_digits(out: Path, per_digit: int = 80, seed: int = 0) -> Path:
    """Write `per_digit` clips of every digit and a manifest; return the manifest's path."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed (sudo apt-get install espeak-ng)")
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    rows = ["path,label,group"]
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(per_digit):
            voice = f"{rng.choice(ACCENTS)}+{rng.choice(VARIANTS)}"
            rate_wpm, pitch = rng.randint(110, 210), rng.randint(15, 85)
            group = f"espeak-{voice}"
            for digit, word in enumerate(WORDS):
                name = f"{digit}_synth_{n:03d}.wav"
                soundfile.write(out / name, speak(word, voice, rate_wpm, pitch, Path(tmp)), SAMPLE_RATE, subtype="PCM_16")
                rows.append(f"{name},{digit},{group}")
    manifest = out / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/synthetic-digits")
    parser.add_argument("--per-digit", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    manifest = make_synthetic_digits(Path(args.out), args.per_digit, args.seed)
    print(f"wrote {args.per_digit * 10} clips and {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
