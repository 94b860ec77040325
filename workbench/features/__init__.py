"""Features of decoded media: spectrograms of waveforms, CNN-ready frame tensors, and their plots.

Feature code takes tensors and never opens a file; decoding is `workbench.media`'s job.
"""

from workbench.features.activity import (
    active_span, frame_energy_db, is_steady_noise, is_steady_tone, longest_pitch_run, longest_steady_pitch,
    longest_steady_tone, noise_span, pitch_periods, spectral_change_db, steady_tone_frames, trim_noise, trim_silence,
    without_dc,
)
from workbench.features.frames import FrameConfig, FrameExtractor, frames_to_tensor
from workbench.features.plots import plot_confusion, plot_frame_strip, plot_spectrogram, plot_waveform
from workbench.features.spectrogram import Spectrogram, SpectrogramConfig, num_frames, spectrogram

__all__ = [
    "active_span",
    "frame_energy_db",
    "is_steady_noise",
    "is_steady_tone",
    "longest_pitch_run",
    "longest_steady_pitch",
    "longest_steady_tone",
    "noise_span",
    "pitch_periods",
    "spectral_change_db",
    "steady_tone_frames",
    "trim_noise",
    "trim_silence",
    "without_dc",
    "FrameConfig",
    "FrameExtractor",
    "Spectrogram",
    "SpectrogramConfig",
    "frames_to_tensor",
    "num_frames",
    "plot_confusion",
    "plot_frame_strip",
    "plot_spectrogram",
    "plot_waveform",
    "spectrogram",
]
