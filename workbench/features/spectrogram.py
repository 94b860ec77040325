"""Spectrograms of waveforms: mel, MFCC, linear STFT and constant-Q, configured by one dataclass.

Shapes: a waveform `(..., samples)` becomes `(..., num_bins, n_frames)`; `num_bins` is `n_mels`,
`n_mfcc`, `n_fft // 2 + 1` or `n_bins` (cqt). Frame `t` is centred on sample `t * hop_length`
(`center=True`), so `n_frames = 1 + samples // hop_length` and the time axis runs at
`frame_rate = sample_rate / hop_length` frames per second. The cqt kind (librosa) keeps the same count.

Padding a batch never changes an item: with `lengths`, samples past each item's length are zeroed
before the STFT (whose centre padding is zeros too), dB clamping and normalisation use only the
item's valid frames, and frames past `num_frames(length)` come out as exactly 0.

The mel filterbank is librosa's default: Slaney mel scale (`mel_scale="htk"` for HTK) with Slaney
area normalisation, so `librosa.feature.melspectrogram(..., htk=False, norm="slaney")` agrees.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Literal

import librosa
import numpy as np
import torch
import torchaudio
from torch import Tensor, nn

from workbench.errors import ConfigError

logger = logging.getLogger(__name__)

KINDS = ("mel", "mfcc", "stft", "cqt")
WINDOWS = ("hann", "hamming", "blackman", "rectangular")
SCALES = ("db", "log", "linear", "pcen")
NORMALIZATIONS = ("none", "utterance", "utterance_mean", "frame", "peak")
MEL_SCALES = ("slaney", "htk")
CQT_DEFAULT_FMIN = 32.703195662574764  # C1, librosa's default; used when fmin is 0
LOG_OFFSET = 1e-6  # scale="log" is log(S + LOG_OFFSET)
DB_AMIN = 1e-10  # power floor before dB, as librosa.power_to_db
NORM_EPS = 1e-5  # variance floor of the normalisations


@dataclass(frozen=True)
class SpectrogramConfig:
    """How to turn a waveform into a spectrogram; see the module docstring for shapes."""

    kind: Literal["mel", "mfcc", "stft", "cqt"] = "mel"
    sample_rate: int = 16_000
    n_fft: int = 400  # 25 ms at 16 kHz
    win_length: int | None = None  # None -> n_fft
    hop_length: int = 160  # 10 ms -> 100 frames/s
    window: Literal["hann", "hamming", "blackman", "rectangular"] = "hann"
    n_mels: int = 64
    n_mfcc: int = 20
    fmin: float = 0.0  # cqt: 0 means C1 (32.70 Hz)
    fmax: float | None = None  # None -> sample_rate / 2 (mel)
    power: float = 2.0  # 2: power, 1: magnitude
    scale: Literal["db", "log", "linear", "pcen"] = "db"  # mfcc: the log of the mel before the DCT
    top_db: float | None = 80.0  # dB floor below each item's own maximum
    # utterance: zero mean, unit variance per bin over valid frames; utterance_mean: zero mean only (CMN);
    # frame: zero mean, unit variance across bins; peak: dB above the item's floor (db scale and top_db only)
    normalize: Literal["none", "utterance", "utterance_mean", "frame", "peak"] = "none"
    center: bool = True
    bins_per_octave: int = 12  # cqt
    n_bins: int = 84  # cqt
    mel_scale: Literal["slaney", "htk"] = "slaney"  # mel/mfcc filterbank spacing
    # scale="pcen": per-channel energy normalisation (Wang et al. 2017, librosa.pcen's parameters) of the spectrogram
    # of the waveform scaled to 32-bit integer range: each bin divided by its own smoothed past (an automatic gain
    # that stresses onsets over steady sound), then compressed. Its time constant in seconds, gain, bias and power:
    pcen_time_s: float = 0.4
    pcen_gain: float = 0.98
    pcen_bias: float = 2.0
    pcen_power: float = 0.5

    def __post_init__(self) -> None:
        for name, allowed in (("kind", KINDS), ("window", WINDOWS), ("scale", SCALES),
                              ("normalize", NORMALIZATIONS), ("mel_scale", MEL_SCALES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be one of {allowed}")
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels", "n_mfcc", "bins_per_octave", "n_bins"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)} must be positive")
        if self.win_length is not None and not 0 < self.win_length <= self.n_fft:
            raise ConfigError(f"win_length={self.win_length} must be in 1..n_fft={self.n_fft}")
        if self.normalize == "peak" and (self.scale != "db" or self.top_db is None or self.kind == "mfcc"):
            raise ConfigError("normalize='peak' needs scale='db' with a top_db floor, and not kind='mfcc'")
        if self.hop_length > self.n_fft:
            raise ConfigError(f"hop_length={self.hop_length} must not exceed n_fft={self.n_fft}")
        if self.power <= 0:
            raise ConfigError(f"power={self.power} must be positive")
        if self.top_db is not None and self.top_db <= 0:
            raise ConfigError(f"top_db={self.top_db} must be positive or None")
        self._check_frequencies()
        if self.kind == "mfcc" and self.scale in ("linear", "pcen"):
            raise ConfigError("kind='mfcc' takes the DCT of a log-mel: scale must be 'db' or 'log'")
        if self.pcen_time_s <= 0 or self.pcen_gain < 0 or self.pcen_bias <= 0 or self.pcen_power <= 0:
            raise ConfigError("pcen_time_s, pcen_bias and pcen_power must be positive and pcen_gain not negative")
        if self.kind == "mfcc" and self.n_mfcc > self.n_mels:
            raise ConfigError(f"n_mfcc={self.n_mfcc} must not exceed n_mels={self.n_mels}")
        if self.kind == "cqt":
            self._check_cqt()

    def _check_frequencies(self) -> None:
        nyquist = self.sample_rate / 2
        if self.fmin < 0:
            raise ConfigError(f"fmin={self.fmin} must not be negative")
        if self.fmax is not None and not 0 < self.fmax <= nyquist:
            raise ConfigError(f"fmax={self.fmax} must be in (0, sample_rate/2={nyquist:g}]")
        if self.fmin >= self.max_frequency:
            raise ConfigError(f"fmin={self.fmin} must be below fmax={self.max_frequency:g}")

    def _check_cqt(self) -> None:
        if not self.center:
            raise ConfigError("kind='cqt' always centres its frames: center must be True")
        top = self.cqt_fmin * 2 ** (self.n_bins / self.bins_per_octave)
        if top > self.sample_rate / 2:
            raise ConfigError(
                f"cqt top bin {top:.0f} Hz (fmin={self.cqt_fmin:.2f}, n_bins={self.n_bins}, "
                f"bins_per_octave={self.bins_per_octave}) exceeds sample_rate/2={self.sample_rate / 2:g}; "
                "lower n_bins or fmin")

    @property
    def num_bins(self) -> int:
        """Rows of the output: n_mels, n_mfcc, n_fft // 2 + 1 or n_bins (cqt)."""
        return {"mel": self.n_mels, "mfcc": self.n_mfcc, "stft": self.n_fft // 2 + 1, "cqt": self.n_bins}[self.kind]

    @property
    def frame_rate(self) -> float:
        """Frames per second of the time axis."""
        return self.sample_rate / self.hop_length

    @property
    def max_frequency(self) -> float:
        """fmax, or the Nyquist frequency when fmax is None."""
        return self.fmax if self.fmax is not None else self.sample_rate / 2

    @property
    def cqt_fmin(self) -> float:
        """Centre frequency of the lowest cqt bin: fmin, or C1 when fmin is 0."""
        return self.fmin if self.fmin > 0 else CQT_DEFAULT_FMIN


def num_frames(num_samples: int | Tensor, cfg: SpectrogramConfig) -> int | Tensor:
    """Frames produced for `num_samples` samples (an int, or a lengths tensor `(B,)`)."""
    if cfg.center:
        return 1 + num_samples // cfg.hop_length
    count = 1 + (num_samples - cfg.n_fft) // cfg.hop_length
    return count.clamp(min=0) if isinstance(count, Tensor) else max(count, 0)


def spectrogram(waveform: Tensor, cfg: SpectrogramConfig, lengths: Tensor | None = None) -> Tensor:
    """Spectrogram of `waveform` `(..., samples)` -> `(..., num_bins, n_frames)` on its device.

    `lengths` (same shape as the leading dims) gives each item's valid sample count; frames past an
    item's `num_frames(length)` are 0. Builds the filterbanks each call: keep a `Spectrogram` module
    when calling many times.
    """
    return Spectrogram(cfg).to(waveform.device)(waveform, lengths)


def _window(cfg: SpectrogramConfig) -> Tensor:
    size = cfg.win_length or cfg.n_fft
    if cfg.window == "rectangular":
        return torch.ones(size)
    # periodic windows, as librosa/scipy.signal.get_window(fftbins=True)
    return {"hann": torch.hann_window, "hamming": torch.hamming_window,
            "blackman": torch.blackman_window}[cfg.window](size, periodic=True)


def _mel_filterbank(cfg: SpectrogramConfig) -> Tensor:
    """(n_mels, n_fft // 2 + 1) triangular filters; warns (via logging) when some filter is empty."""
    with warnings.catch_warnings():  # replaced by our own message below, which names the fix
        warnings.filterwarnings("ignore", message="At least one mel filterbank")
        fb = torchaudio.functional.melscale_fbanks(
            cfg.n_fft // 2 + 1, cfg.fmin, cfg.max_frequency, cfg.n_mels, cfg.sample_rate,
            norm="slaney", mel_scale=cfg.mel_scale)
    num_empty = int((fb.amax(dim=0) == 0).sum())
    if num_empty:
        logger.warning("%d of n_mels=%d mel filters are empty at n_fft=%d; lower n_mels or raise n_fft",
                       num_empty, cfg.n_mels, cfg.n_fft)
    return fb.T.contiguous()


class Spectrogram(nn.Module):
    """`spectrogram()` with its window, mel filterbank and DCT matrix as buffers that follow `.to(device)`.

    forward(waveform `(B, samples)` or `(samples,)`, lengths `(B,)` or None) -> `(B, num_bins, n_frames)`
    (or `(num_bins, n_frames)`); any leading dims work. The cqt kind runs librosa on the CPU, one
    item at a time, and returns the result on the input's device.
    """

    def __init__(self, cfg: SpectrogramConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("window", _window(cfg), persistent=False)
        if cfg.kind in ("mel", "mfcc"):
            self.register_buffer("mel_fb", _mel_filterbank(cfg), persistent=False)
            # the same filters for interleaved (re, im) parts, transposed for the fast power path: (2 * n_freqs, n_mels)
            self.register_buffer("mel_fb_parts", self.mel_fb.repeat_interleave(2, dim=1).T.contiguous(), persistent=False)
        if cfg.kind == "mfcc":
            dct = torchaudio.functional.create_dct(cfg.n_mfcc, cfg.n_mels, norm="ortho")  # (n_mels, n_mfcc)
            self.register_buffer("dct", dct.T.contiguous(), persistent=False)

    def forward(self, waveform: Tensor, lengths: Tensor | None = None) -> Tensor:
        if not waveform.is_floating_point():
            raise TypeError(f"waveform must be a float tensor, got {waveform.dtype}")
        lead = waveform.shape[:-1]
        x = waveform.reshape(-1, waveform.shape[-1])  # (N, samples): leading dims flattened
        frame_mask = None  # (N, n_frames) True on valid frames; None: every frame valid, no masks
        if lengths is not None:
            lengths = self._check_lengths(lengths, lead, x.shape[-1]).reshape(-1).to(x.device)
            frame_mask = self._frame_mask(lengths, x.shape[-1])
            if bool(frame_mask.all()):  # a long file or equal-length clips: masks skipped
                frame_mask = None
        if self.cfg.kind == "cqt":
            spec = self._cqt_power(x, lengths)
        else:
            spec = self._stft_power(x, lengths)
        spec = self._scale(spec, frame_mask)
        if self.cfg.kind == "mfcc":
            spec = torch.matmul(self.dct.to(spec.dtype), spec)  # (N, n_mfcc, n_frames)
        spec = self._normalize(spec, frame_mask)
        if frame_mask is not None:  # zero the padded frames
            spec = spec.masked_fill(~frame_mask[:, None, :], 0.0)
        return spec.reshape(*lead, *spec.shape[-2:])  # (..., num_bins, n_frames)

    @staticmethod
    def _check_lengths(lengths: Tensor, lead: torch.Size, num_samples: int) -> Tensor:
        if lengths.shape != lead:
            raise ValueError(f"lengths shape {tuple(lengths.shape)} must match waveform's leading dims {tuple(lead)}")
        if bool((lengths < 0).any()) or bool((lengths > num_samples).any()):
            raise ValueError(f"lengths must lie in 0..{num_samples}")
        return lengths.long()

    def _frame_mask(self, lengths: Tensor, num_samples: int) -> Tensor:
        total = num_frames(num_samples, self.cfg)
        valid = num_frames(lengths, self.cfg)
        return torch.arange(total, device=lengths.device) < valid[:, None]

    def _stft_power(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """|STFT|^power (N, n_fft//2+1, n_frames), mel-filtered for mel/mfcc. lengths None: all valid."""
        cfg = self.cfg
        if lengths is not None and bool((lengths < x.shape[-1]).any()):  # zero past each length: padding never leaks
            keep = torch.arange(x.shape[-1], device=x.device) < lengths[:, None]
            x = x * keep
        stft = torch.stft(x, cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length or cfg.n_fft,
                          window=self.window.to(x.dtype), center=cfg.center, pad_mode="constant",
                          return_complex=True)  # (N, n_freqs, n_frames) complex, stored frame-major
        if cfg.kind in ("mel", "mfcc") and cfg.power == 2.0:
            # Fast path (3x faster than |X|^2 then filtering on CPU): torch.stft stores (N, n_frames, n_freqs, 2)
            # floats, so square them in place in memory order and let one matmul sum re^2 + im^2 per filter.
            parts = torch.view_as_real(stft).transpose(1, 2).flatten(2)  # (N, n_frames, 2 * n_freqs), a view on CPU
            return torch.matmul(parts.square(), self.mel_fb_parts.to(parts.dtype)).transpose(1, 2).contiguous()  # (N, n_mels, n_frames)
        spec = stft.abs() if cfg.power == 1.0 else stft.real.square() + stft.imag.square()  # |X| or |X|^2
        if cfg.power not in (1.0, 2.0):
            spec = spec.pow(cfg.power / 2)
        if cfg.kind in ("mel", "mfcc"):
            spec = torch.matmul(self.mel_fb.to(spec.dtype), spec)  # (N, n_mels, n_frames)
        return spec

    def _cqt_power(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """|CQT|^power (N, n_bins, n_frames) by librosa on the CPU, each item on its valid samples only."""
        cfg = self.cfg
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[-1], dtype=torch.long)
        total = num_frames(x.shape[-1], cfg)
        out = np.zeros((x.shape[0], cfg.n_bins, total), dtype=np.float32 if x.dtype != torch.float64 else np.float64)
        signal = x.detach().cpu().numpy()
        window = "boxcar" if cfg.window == "rectangular" else cfg.window
        for i, length in enumerate(lengths.tolist()):
            if length == 0:
                continue
            with warnings.catch_warnings():  # librosa warns that short inputs fit few octaves; that is fine
                warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
                cqt = librosa.cqt(signal[i, :length], sr=cfg.sample_rate, hop_length=cfg.hop_length,
                                  fmin=cfg.cqt_fmin, n_bins=cfg.n_bins, bins_per_octave=cfg.bins_per_octave,
                                  window=window)
            out[i, :, : cqt.shape[-1]] = np.abs(cqt) ** cfg.power
        return torch.from_numpy(out).to(x.device)

    def _scale(self, spec: Tensor, frame_mask: Tensor | None) -> Tensor:
        """db: (10 * 2 / power) * log10, floored at top_db below each item's own valid maximum."""
        cfg = self.cfg
        if cfg.scale == "linear":
            return spec
        if cfg.scale == "log":
            return torch.log(spec + LOG_OFFSET)
        if cfg.scale == "pcen":
            return _pcen(spec * float(2 ** 31) ** cfg.power, cfg)
        amin = DB_AMIN ** (cfg.power / 2)  # 1e-10 for power, 1e-5 for magnitude, as librosa
        db = (20.0 / cfg.power) * torch.log10(spec.clamp_min(amin))
        if cfg.top_db is None:
            return db
        valid = db if frame_mask is None else db.masked_fill(~frame_mask[:, None, :], -math.inf)
        floor = valid.amax(dim=(-2, -1), keepdim=True) - cfg.top_db
        db = torch.maximum(db, floor)  # empty items: max(-inf)=-inf leaves db as is
        if cfg.normalize == "peak":  # dB above the floor: level gone, shape kept (here, where the floor is known)
            return torch.nan_to_num(db - floor, posinf=0.0)   # an item without valid frames: all zero
        return db

    def _normalize(self, spec: Tensor, frame_mask: Tensor | None) -> Tensor:
        # "peak" is done in _scale, which knows each item's floor; frame_mask None: every frame valid
        if self.cfg.normalize == "frame":  # each frame: zero mean, unit variance across bins
            mean = spec.mean(dim=-2, keepdim=True)
            var = spec.var(dim=-2, unbiased=False, keepdim=True)
            return (spec - mean) / torch.sqrt(var + NORM_EPS)
        if self.cfg.normalize in ("utterance", "utterance_mean"):  # each bin, over valid frames
            if frame_mask is None:
                frame_mask = torch.ones_like(spec[:, 0], dtype=torch.bool)  # (N, n_frames)
            mask = frame_mask[:, None, :].to(spec.dtype)  # (N, 1, n_frames)
            count = mask.sum(dim=-1, keepdim=True).clamp_min(1.0)
            mean = (spec * mask).sum(dim=-1, keepdim=True) / count
            if self.cfg.normalize == "utterance_mean":
                return (spec - mean) * mask
            var = ((spec - mean) * mask).square().sum(dim=-1, keepdim=True) / count
            return (spec - mean) / torch.sqrt(var + NORM_EPS)
        return spec


PCEN_EPS = 1e-6


def _pcen(energy: Tensor, cfg: SpectrogramConfig) -> Tensor:
    """Per-channel energy normalisation (Wang et al. 2017) as librosa.pcen computes it (its smoother starting from
    the state a constant input of 1 leaves): (N, bins, frames) -> (N, bins, frames)."""
    t_frames = cfg.pcen_time_s * cfg.sample_rate / cfg.hop_length
    b = (math.sqrt(1 + 4 * t_frames ** 2) - 1) / (2 * t_frames ** 2)
    dtype = energy.dtype
    a_coeffs = torch.tensor([1.0, b - 1.0], dtype=dtype, device=energy.device)
    b_coeffs = torch.tensor([b, 0.0], dtype=dtype, device=energy.device)
    smooth = torchaudio.functional.lfilter(energy, a_coeffs, b_coeffs, clamp=False)
    decay = (1.0 - b) ** torch.arange(1, energy.shape[-1] + 1, dtype=dtype, device=energy.device)
    smooth = smooth + decay
    gain = torch.exp(-cfg.pcen_gain * (math.log(PCEN_EPS) + torch.log1p(smooth / PCEN_EPS)))
    bias, power = cfg.pcen_bias, cfg.pcen_power
    return bias ** power * torch.expm1(power * torch.log1p(energy * gain / bias))
