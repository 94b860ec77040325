"""Plots: valid PNGs of a sane size, and axes that say the right thing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from matplotlib.collections import PolyCollection, QuadMesh

from workbench.features import SpectrogramConfig, plot_frame_strip, plot_spectrogram, plot_waveform, spectrogram
from workbench.features.plots import frame_strip_figure, spectrogram_figure, waveform_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _decoded(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "cv2 could not decode the PNG"
    return image


def _noise(*shape: int) -> torch.Tensor:
    return 0.1 * torch.randn(*shape, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("kind", ["mel", "mfcc", "stft", "cqt"])
def test_spectrogram_png(kind):
    cfg = SpectrogramConfig(kind=kind)
    image = _decoded(plot_spectrogram(spectrogram(_noise(16_000), cfg), cfg, title=kind))
    assert image.shape == (400, 1000, 3)
    assert image.std() > 10  # something was drawn


@pytest.mark.parametrize(("kind", "scale", "label", "low", "high"), [
    ("mel", "function", "frequency (Hz, mel scale)", 0.0, 8000.0),
    ("stft", "linear", "frequency (Hz)", 0.0, 8000.0),
    ("mfcc", "linear", "MFCC coefficient", -0.5, 19.5),
    ("cqt", "log", "frequency (Hz, log scale)", 32.70 * 2 ** (-0.5 / 12), 32.70 * 2 ** (83.5 / 12)),
])
def test_spectrogram_axes(kind, scale, label, low, high):
    cfg = SpectrogramConfig(kind=kind)
    spec = spectrogram(_noise(24_000), cfg)  # 1.5 s -> 151 frames at 100 frames/s
    fig = spectrogram_figure(spec, cfg)
    ax, colorbar = fig.axes
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == label
    assert ax.get_xlim() == pytest.approx((0.0, 1.51))
    assert ax.get_ylim() == pytest.approx((low, high), rel=1e-3)
    assert ax.get_yscale() == scale
    assert colorbar.get_ylabel() == ("coefficient" if kind == "mfcc" else "dB")


def test_mel_axis_follows_fmin_fmax_and_labels_normalised_values():
    cfg = SpectrogramConfig(fmin=100.0, fmax=6000.0, normalize="utterance")
    ax, colorbar = spectrogram_figure(spectrogram(_noise(8000), cfg), cfg).axes
    assert ax.get_ylim() == pytest.approx((100.0, 6000.0))
    assert colorbar.get_ylabel() == "normalised (utterance)"


def test_long_spectrogram_is_pooled_in_time():
    cfg = SpectrogramConfig()
    spec = torch.randn(64, 30_000)  # 5 minutes at 100 frames/s
    fig = spectrogram_figure(spec, cfg)
    mesh = next(c for c in fig.axes[0].collections if isinstance(c, QuadMesh))
    assert mesh.get_array().shape == (64, 2000)
    assert fig.axes[0].get_xlim() == pytest.approx((0.0, 300.0))


def test_waveform_png_has_one_subplot_per_channel():
    waveform = _noise(2, 4000)  # up to MAX_POINTS samples are drawn as they are
    fig = waveform_figure(waveform, 16_000, title="two channels")
    assert [ax.get_ylabel() for ax in fig.axes] == ["channel 0", "channel 1"]
    assert fig.axes[-1].get_xlabel() == "time (s)"
    assert fig.axes[0].get_xlim() == pytest.approx((0.0, 0.25))
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), waveform[0].numpy())
    image = _decoded(plot_waveform(waveform, 16_000))
    assert image.shape == (440, 1000, 3)


def test_ten_minutes_of_audio_plot_as_an_envelope():
    sample_rate = 16_000
    waveform = _noise(1, 600 * sample_rate)
    waveform[0, 300 * sample_rate] = 0.99  # one spike in the middle must survive downsampling
    fig = waveform_figure(waveform, sample_rate)
    ax = fig.axes[0]
    assert not ax.lines
    (envelope,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    vertices = envelope.get_paths()[0].vertices
    assert len(vertices) < 10_000  # 2000 buckets, not 9.6 million points
    assert vertices[:, 1].max() == pytest.approx(0.99)
    assert ax.get_xlim() == pytest.approx((0.0, 600.0))
    _decoded(plot_waveform(waveform, sample_rate))


def test_frame_strip_labels_each_thumbnail_with_its_time():
    frames = torch.randint(0, 256, (5, 48, 64, 3), dtype=torch.uint8)
    times_s = torch.tensor([0.0, 0.5, 1.0, 1.5, 12.25], dtype=torch.float64)
    fig = frame_strip_figure(frames, times_s, title="strip")
    assert [ax.get_xlabel() for ax in fig.axes] == ["0.00 s", "0.50 s", "1.00 s", "1.50 s", "12.25 s"]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), frames[0].numpy())
    image = _decoded(plot_frame_strip(frames, times_s))
    assert 100 < image.shape[0] < 400 and 500 < image.shape[1] <= 1000


def test_long_frame_strip_wraps_into_rows():
    frames = torch.zeros(12, 32, 32, 3, dtype=torch.uint8)
    fig = frame_strip_figure(frames, torch.arange(12.0))
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 12 and len(fig.axes) == 16  # 2 rows of 8, the last 4 slots blank
    image = _decoded(plot_frame_strip(frames, torch.arange(12.0)))
    assert image.shape[1] == 1000 and image.shape[0] > 200


@pytest.mark.parametrize(("call", "args"), [
    (plot_spectrogram, (torch.zeros(2, 64, 10), SpectrogramConfig())),
    (plot_waveform, (torch.zeros(100), 16_000)),
    (plot_waveform, (torch.zeros(1, 100), 0)),
    (plot_frame_strip, (torch.zeros(2, 8, 8, 3), torch.zeros(2))),
    (plot_frame_strip, (torch.zeros(2, 8, 8, 3, dtype=torch.uint8), torch.zeros(3))),
    (plot_frame_strip, (torch.zeros(0, 8, 8, 3, dtype=torch.uint8), torch.zeros(0))),
])
def test_bad_inputs_are_rejected(call, args):
    with pytest.raises(ValueError):
        call(*args)


def test_confusion_plot_is_a_png_with_labelled_axes():
    import cv2
    import numpy as np

    from workbench.features.plots import confusion_figure, plot_confusion

    confusion = [[5, 1, 0], [0, 6, 0], [2, 0, 4]]
    png = plot_confusion(confusion, ["0", "1", "2"])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[0] > 100
    ax = confusion_figure(confusion, ["0", "1", "2"]).axes[0]
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert [t.get_text() for t in ax.texts] == ["5", "1", "0", "0", "6", "0", "2", "0", "4"]
