"""Spectrogram section: log-mel, MFCC and CQT, ours vs librosa with matching parameters.

On one long file (the WAV) and on a batch of 64 one-second clips: librosa one clip at a time (how
people use it) and on the stacked (64, samples) array; with 1 and 2 threads (torch's intra-op
threads and the BLAS/OpenMP pools librosa's numpy and scipy use), and on CUDA when there is one.
Ours is a `Spectrogram` module built once, as a model's front end is. dB is 10*log10(power) floored
80 dB below the maximum (librosa: power_to_db(ref=1.0, top_db=80); over the whole stacked array,
ours per item). Our CQT calls librosa.cqt itself, so its figure shows our overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import warnings

import numpy as np
import soundfile
import torch

from benchmarks.report import Measure, Results, compare
from benchmarks.timing import Budget, Timing, race, threads
from workbench.features import Spectrogram, SpectrogramConfig

RATE = 16_000
NUM_CLIPS = 64
THREAD_COUNTS = (1, 2)
CONFIGS = {
    "mel": SpectrogramConfig(kind="mel", sample_rate=RATE, n_fft=400, hop_length=160, n_mels=64),
    "mfcc": SpectrogramConfig(kind="mfcc", sample_rate=RATE, n_fft=400, hop_length=160, n_mels=64, n_mfcc=20),
    "cqt": SpectrogramConfig(kind="cqt", sample_rate=RATE, hop_length=160, n_bins=84, bins_per_octave=12),
}


def librosa_features(kind: str) -> Callable[[np.ndarray], np.ndarray]:
    """librosa's computation of CONFIGS[kind] on a (..., samples) float32 array."""
    import librosa
    cfg = CONFIGS[kind]
    if kind == "mel":
        return lambda y: librosa.power_to_db(librosa.feature.melspectrogram(
            y=y, sr=RATE, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels), ref=1.0, top_db=80.0)
    if kind == "mfcc":
        return lambda y: librosa.feature.mfcc(y=y, sr=RATE, n_mfcc=cfg.n_mfcc, n_fft=cfg.n_fft,
                                              hop_length=cfg.hop_length, n_mels=cfg.n_mels)
    return lambda y: librosa.power_to_db(np.abs(librosa.cqt(
        y, sr=RATE, hop_length=cfg.hop_length, fmin=cfg.cqt_fmin, n_bins=cfg.n_bins,
        bins_per_octave=cfg.bins_per_octave)) ** 2, ref=1.0, top_db=80.0)


def cuda_contender(module: Spectrogram, waveform: torch.Tensor) -> Callable[[], torch.Tensor]:
    on_gpu, x = module.to("cuda"), waveform.to("cuda")

    def run() -> torch.Tensor:
        out = on_gpu(x)
        torch.cuda.synchronize()
        return out
    return run


def bench_spectrograms(results: Results, wav: Path, audio_s: float, budget: Budget,
                       thread_counts: tuple[int, ...] = THREAD_COUNTS) -> None:
    """Each kind on the long file and on the batch of clips, at each thread count (+ CUDA)."""
    # librosa warns that 1 s clips fit few CQT octaves, for ours and librosa alike: that is fine here
    warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
    samples, rate = soundfile.read(str(wav), dtype="float32")
    assert rate == RATE, f"{wav} should be {RATE} Hz, is {rate}"
    long_wave = torch.from_numpy(samples)                       # (samples,)
    clips = _clips(samples)                                     # (64, 16000)
    for kind in CONFIGS:
        librosa_fn = librosa_features(kind)
        module = Spectrogram(CONFIGS[kind])
        for num_threads in thread_counts:
            tag = "" if num_threads == 1 else f"_{num_threads}t"
            with threads(num_threads):
                outcomes = race({"ours": lambda: module(long_wave), "librosa": lambda: librosa_fn(samples)}, budget)
                compare(results, Measure(f"{kind}{tag}", "seconds", "speedup"), outcomes,
                        {"librosa": "librosa"}, f"{kind} of {audio_s / 60:g} min 16 kHz, CPU",
                        f"{num_threads} thread(s)")
                _bench_batch(results, kind, module, librosa_fn, clips, tag, num_threads, budget)
        if torch.cuda.is_available():
            cuda = race({"ours": cuda_contender(module, long_wave), "librosa": lambda: librosa_fn(samples)}, budget)
            compare(results, Measure(f"{kind}_cuda", "seconds", "speedup"), cuda, {"librosa": "librosa (CPU)"},
                    f"{kind} of {audio_s / 60:g} min 16 kHz, CUDA", torch.cuda.get_device_name(0))


def _bench_batch(results: Results, kind: str, module: Spectrogram, librosa_fn, clips: np.ndarray, tag: str,
                 num_threads: int, budget: Budget) -> None:
    batch = torch.from_numpy(clips)
    contenders = {
        "ours": lambda: module(batch),
        "librosa": lambda: [librosa_fn(clip) for clip in clips],
        "librosa_stacked": lambda: librosa_fn(clips),
    }
    if torch.cuda.is_available() and num_threads == 1:
        contenders["ours_cuda"] = cuda_contender(Spectrogram(CONFIGS[kind]), batch)
    outcomes = race(contenders, budget)
    labels = {"librosa": "librosa one clip at a time", "librosa_stacked": "librosa on the stacked array"}
    compare(results, Measure(f"{kind}_batch{tag}", "seconds", "speedup"),
            {k: v for k, v in outcomes.items() if k != "ours_cuda"}, labels,
            f"{kind} of {NUM_CLIPS} x 1 s clips, CPU", f"{num_threads} thread(s)")
    if isinstance(outcomes.get("ours_cuda"), Timing):
        compare(results, Measure(f"{kind}_batch_cuda", "seconds", "speedup"),
                {"ours": outcomes["ours_cuda"], "librosa": outcomes["librosa"]}, {"librosa": labels["librosa"]},
                f"{kind} of {NUM_CLIPS} x 1 s clips, CUDA", torch.cuda.get_device_name(0))


def _clips(samples: np.ndarray) -> np.ndarray:
    """(64, 16000): consecutive one-second clips of the file, wrapping around when it is shorter."""
    need = NUM_CLIPS * RATE
    tiled = np.resize(samples, need) if len(samples) < need else samples[:need]
    return np.ascontiguousarray(tiled.reshape(NUM_CLIPS, RATE))
