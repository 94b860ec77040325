"""Audio loading section: a 44.1 kHz stereo MP3 to 16 kHz mono, and a 16 kHz WAV as it is.

All contenders make float32 mono at 16 kHz. soundfile and librosa resample with soxr (HQ, librosa's
default too), PyAV with its AudioResampler (libswresample); ours decodes with PyAV and resamples
with soxr HQ. One thread: none of them uses more here.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile
import soxr

from benchmarks.report import Measure, Results, compare
from benchmarks.timing import Budget, race, threads
from workbench.media import load_audio

RATE = 16_000


def soundfile_soxr(path: Path) -> np.ndarray:
    """soundfile.read (libsndfile reads MP3 since 1.1), mono mix, soxr HQ resampling."""
    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)   # (samples, channels)
    return soxr.resample(samples.mean(axis=1), rate, RATE, quality="HQ")


def librosa_load(path: Path) -> np.ndarray:
    import librosa
    return librosa.load(str(path), sr=RATE, mono=True)[0]


def pyav_resampled(path: Path) -> np.ndarray:
    """PyAV decoding, every frame through av.AudioResampler to 16 kHz mono float."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
        chunks += [f.to_ndarray()[0] for f in resampler.resample(None)]   # flush what the resampler holds
    return np.concatenate(chunks)


def bench_audio(results: Results, mp3: Path, wav: Path, audio_s: float, budget: Budget) -> None:
    """load_audio(path, sample_rate=16000) vs librosa, soundfile + soxr, PyAV; the WAV vs soundfile.read."""
    with threads(1):
        outcomes = race({
            "ours": lambda: load_audio(mp3, sample_rate=RATE),
            "librosa": lambda: librosa_load(mp3),
            "soundfile_soxr": lambda: soundfile_soxr(mp3),
            "pyav_resampler": lambda: pyav_resampled(mp3),
        }, budget)
        labels = {"librosa": "librosa.load(sr=16000) (reference)", "soundfile_soxr": "soundfile + soxr HQ",
                  "pyav_resampler": "PyAV + AudioResampler"}
        compare(results, Measure("audio_load", "x_realtime", "speedup", audio_s), outcomes, labels,
                f"Load {audio_s / 60:g} min 44.1 kHz stereo MP3 → 16 kHz mono", "ours: PyAV + soxr HQ; 1 thread")
        outcomes = race({
            "ours": lambda: load_audio(wav),
            "soundfile": lambda: soundfile.read(str(wav), dtype="float32", always_2d=True),
        }, budget)
        compare(results, Measure("wav_load", "x_realtime", "speedup", audio_s), outcomes,
                {"soundfile": "soundfile.read"}, f"Load {audio_s / 60:g} min 16 kHz WAV", "1 thread")
