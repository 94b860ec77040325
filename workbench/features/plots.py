"""Pictures of features as PNG bytes: spectrograms, waveforms and strips of video frames.

Each `plot_*` function renders the matching `*_figure` (a `matplotlib.figure.Figure`, handy for
checking axes in tests or adding to them) to PNG bytes. We build figures with `Figure` and the Agg
canvas directly, never `pyplot`: no global backend switch, no figure registry, safe in threads and in
a Streamlit server whatever backend the user's own code picked.
"""

from __future__ import annotations

import io
import math

import librosa
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from workbench.features.spectrogram import SpectrogramConfig

DPI = 100
MAX_COLUMNS = 2000  # spectrogram columns drawn; longer ones are max-pooled in time
MAX_POINTS = 4000  # waveform samples drawn as a line; longer ones become a min/max envelope
ENVELOPE_BUCKETS = 2000
STRIP_COLUMNS = 8  # thumbnails per row of a frame strip


def to_png(fig: Figure) -> bytes:
    """Render a figure with the Agg canvas and return the PNG bytes."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _frequency_axis(cfg: SpectrogramConfig, num_bins: int) -> tuple[np.ndarray, str, dict]:
    """Row edges (num_bins + 1,), y label and set_yscale kwargs for a spectrogram of `cfg`."""
    if cfg.kind == "mfcc":
        return np.arange(num_bins + 1) - 0.5, "MFCC coefficient", {"value": "linear"}
    if cfg.kind == "mel":
        htk = cfg.mel_scale == "htk"
        lo, hi = librosa.hz_to_mel(cfg.fmin, htk=htk), librosa.hz_to_mel(cfg.max_frequency, htk=htk)
        edges = librosa.mel_to_hz(np.linspace(lo, hi, num_bins + 1), htk=htk)

        def forward(hz):
            return librosa.hz_to_mel(np.asarray(hz, dtype=float), htk=htk)

        def inverse(mel):
            return librosa.mel_to_hz(np.asarray(mel, dtype=float), htk=htk)

        return edges, "frequency (Hz, mel scale)", {"value": "function", "functions": (forward, inverse)}
    if cfg.kind == "cqt":  # bin k is centred on fmin * 2 ** (k / bins_per_octave)
        edges = cfg.cqt_fmin * 2.0 ** ((np.arange(num_bins + 1) - 0.5) / cfg.bins_per_octave)
        return edges, "frequency (Hz, log scale)", {"value": "log", "base": 2}
    edges = np.clip((np.arange(num_bins + 1) - 0.5) * cfg.sample_rate / cfg.n_fft, 0, cfg.sample_rate / 2)
    return edges, "frequency (Hz)", {"value": "linear"}


def _value_label(cfg: SpectrogramConfig) -> str:
    if cfg.normalize != "none":
        return f"normalised ({cfg.normalize})"
    if cfg.kind == "mfcc":
        return "coefficient"
    quantity = "power" if cfg.power == 2 else "magnitude" if cfg.power == 1 else f"|X|^{cfg.power:g}"
    return {"db": "dB", "log": f"log {quantity}", "linear": quantity}[cfg.scale]


def spectrogram_figure(spec: Tensor, cfg: SpectrogramConfig, title: str | None = None) -> Figure:
    """Figure of one spectrogram `(num_bins, n_frames)` made with `cfg`.

    Column t covers [t, t + 1) / frame_rate seconds, so the time axis runs 0..n_frames / frame_rate;
    rows are in Hz on a mel (mel), log (cqt) or linear (stft) axis, or MFCC index; with a colorbar.
    """
    if spec.ndim != 2:
        raise ValueError(f"spec must be (num_bins, n_frames), got {tuple(spec.shape)}")
    values = spec.detach().float().cpu()
    num_bins, total = values.shape
    if total > MAX_COLUMNS:  # keep peaks visible while drawing at most MAX_COLUMNS columns
        values = F.adaptive_max_pool1d(values[None], MAX_COLUMNS)[0]
    duration_s = total / cfg.frame_rate
    time_edges = np.linspace(0.0, duration_s, values.shape[1] + 1)
    freq_edges, y_label, yscale = _frequency_axis(cfg, num_bins)
    fig = Figure(figsize=(10, 4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    mesh = ax.pcolormesh(time_edges, freq_edges, values.numpy(), shading="flat", cmap="magma", rasterized=True)
    ax.set_yscale(**yscale)
    ax.set_xlim(0.0, duration_s)
    ax.set_ylim(freq_edges[0], freq_edges[-1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel(y_label)
    fig.colorbar(mesh, ax=ax, label=_value_label(cfg))
    if title:
        ax.set_title(title)
    return fig


def plot_spectrogram(spec: Tensor, cfg: SpectrogramConfig, title: str | None = None) -> bytes:
    """PNG of one spectrogram `(num_bins, n_frames)`; see `spectrogram_figure`."""
    return to_png(spectrogram_figure(spec, cfg, title))


def _envelope(channel: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucket start times and per-bucket min and max of a long 1-D signal (ENVELOPE_BUCKETS buckets)."""
    bucket = math.ceil(channel.size / ENVELOPE_BUCKETS)
    padded = np.pad(channel, (0, bucket * ENVELOPE_BUCKETS - channel.size), mode="edge")
    chunks = padded.reshape(ENVELOPE_BUCKETS, bucket)  # (buckets, samples per bucket)
    times = np.arange(ENVELOPE_BUCKETS + 1) * bucket / sample_rate
    lows, highs = chunks.min(axis=1), chunks.max(axis=1)
    # one more point so the last bucket is drawn to its end (step="post")
    return np.minimum(times, channel.size / sample_rate), np.append(lows, lows[-1]), np.append(highs, highs[-1])


def waveform_figure(waveform: Tensor, sample_rate: int, title: str | None = None) -> Figure:
    """Figure of a waveform `(channels, samples)`: one subplot per channel, time in seconds.

    Signals longer than MAX_POINTS samples are drawn as a min/max envelope of ENVELOPE_BUCKETS
    buckets, so ten minutes of audio plot as fast as one second.
    """
    if waveform.ndim != 2 or waveform.shape[0] == 0:
        raise ValueError(f"waveform must be (channels, samples), got {tuple(waveform.shape)}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate={sample_rate} must be positive")
    signal = waveform.detach().float().cpu().numpy()
    num_channels, num_samples = signal.shape
    duration_s = num_samples / sample_rate
    fig = Figure(figsize=(10, 1.2 + 1.6 * num_channels), dpi=DPI, layout="constrained")
    axes = fig.subplots(num_channels, 1, sharex=True, squeeze=False)[:, 0]
    for index, (ax, channel) in enumerate(zip(axes, signal)):
        if num_samples > MAX_POINTS:
            times, lows, highs = _envelope(channel, sample_rate)
            ax.fill_between(times, lows, highs, step="post", linewidth=0.5, color="tab:blue")
        else:
            ax.plot(np.arange(num_samples) / sample_rate, channel, linewidth=0.8, color="tab:blue")
        ax.set_xlim(0.0, duration_s)
        ax.set_ylabel(f"channel {index}")
    axes[-1].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    return fig


def plot_waveform(waveform: Tensor, sample_rate: int, title: str | None = None) -> bytes:
    """PNG of a waveform `(channels, samples)`; see `waveform_figure`."""
    return to_png(waveform_figure(waveform, sample_rate, title))


def frame_strip_figure(frames: Tensor, times_s: Tensor, title: str | None = None) -> Figure:
    """Figure of frames `(T, H, W, 3)` uint8 as thumbnails, each labelled with its time `times_s[t]` in s.

    Thumbnails run left to right, STRIP_COLUMNS to a row.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {tuple(frames.shape)} {frames.dtype}")
    if frames.shape[0] == 0 or times_s.shape != frames.shape[:1]:
        raise ValueError(f"need T > 0 frames and times_s of shape (T,), got {tuple(frames.shape)}, "
                         f"{tuple(times_s.shape)}")
    count, height, width = frames.shape[:3]
    num_columns = min(count, STRIP_COLUMNS)
    num_rows = math.ceil(count / num_columns)
    thumb_w = 10 / STRIP_COLUMNS  # inches, so a full row is 10 in wide
    fig = Figure(figsize=(thumb_w * num_columns, (thumb_w * height / width + 0.4) * num_rows + 0.4),
                 dpi=DPI, layout="constrained")
    axes = fig.subplots(num_rows, num_columns, squeeze=False).ravel()
    images = frames.detach().cpu().numpy()
    for ax, image, time_s in zip(axes, images, times_s.tolist()):
        ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"{time_s:.2f} s")
    for ax in axes[count:]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


def plot_frame_strip(frames: Tensor, times_s: Tensor, title: str | None = None) -> bytes:
    """PNG of frames `(T, H, W, 3)` uint8 labelled with their times; see `frame_strip_figure`."""
    return to_png(frame_strip_figure(frames, times_s, title))


def confusion_figure(confusion: list[list[int]], labels: list[str], title: str | None = None) -> Figure:
    """Confusion matrix, rows the true label and columns the predicted one, each cell's count written in."""
    counts = np.asarray(confusion, dtype=np.int64)
    size = max(4.0, 0.5 * len(labels) + 2.0)
    fig = Figure(figsize=(size + 1.0, size))
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, label="files")
    ax.set_xticks(range(len(labels)), labels, rotation=45 if max(map(len, labels), default=0) > 3 else 0)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, col), value in np.ndenumerate(counts):
        ax.text(col, row, str(value), ha="center", va="center", fontsize=8,
                color="white" if value > threshold else "black")
    ax.set_title(title or "confusion matrix")
    fig.tight_layout()
    return fig


def plot_confusion(confusion: list[list[int]], labels: list[str], title: str | None = None) -> bytes:
    """PNG of a confusion matrix; see `confusion_figure`."""
    return to_png(confusion_figure(confusion, labels, title))
