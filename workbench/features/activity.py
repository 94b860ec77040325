"""Where the sound is: frame energies and the active span of a clip (for trimming silence)."""

from __future__ import annotations

import torch
from torch import Tensor


def frame_energy_db(waveform: Tensor, frame_length: int) -> Tensor:
    """Mean-square energy in dBFS of consecutive frames: (samples,) -> (samples // frame_length,)."""
    usable = waveform.shape[-1] // frame_length * frame_length
    frames = waveform[..., :usable].reshape(-1, frame_length).double()
    return 10 * torch.log10(frames.pow(2).mean(dim=1) + 1e-12)


def active_span(waveform: Tensor, sample_rate: int, threshold_db: float = 40.0, frame_s: float = 0.01) -> tuple[int, int]:
    """(start, end) samples from the first to the last frame within `threshold_db` of the loudest frame.

    A clip shorter than one frame, or silent throughout, is returned whole.
    """
    frame = max(1, round(frame_s * sample_rate))
    energy = frame_energy_db(waveform, frame)
    if energy.numel() == 0:
        return 0, waveform.shape[-1]
    loud = torch.nonzero(energy > energy.max() - threshold_db).flatten()
    if energy.max() <= -100 or loud.numel() == 0:
        return 0, waveform.shape[-1]
    return int(loud[0]) * frame, min(waveform.shape[-1], (int(loud[-1]) + 1) * frame)


def trim_silence(waveform: Tensor, sample_rate: int, threshold_db: float = 40.0) -> Tensor:
    """The active span of a mono clip (samples,), see `active_span`."""
    start, end = active_span(waveform, sample_rate, threshold_db)
    return waveform[start:end]


def trim_noise(waveform: Tensor, sample_rate: int, margin_db: float = 12.0, quantile: float = 0.1,
               frame_s: float = 0.01) -> Tensor:
    """Cut a mono clip's leading and trailing sound that is less than `margin_db` above its noise floor:
    (samples,) -> (samples',).

    The floor is the `quantile` of its frame energies, which is the background when the clip is
    mostly background (a word recorded with a second of a noisy room around it). A trim relative to
    the peak keeps such noise when it is within its threshold of the peak; this one does not. Keep it
    for clips known to hold more than their word: in a clip that is the word alone, the floor is the
    word's own quiet part (an "s", a "f") and this would cut it. A clip whose floor is within
    `margin_db` of its peak (noise, or a steady sound, throughout) is returned whole.
    """
    frame = max(1, round(frame_s * sample_rate))
    energy = frame_energy_db(waveform, frame)
    if energy.numel() == 0:
        return waveform
    above_floor_db = float(energy.max() - torch.quantile(energy, quantile)) - margin_db
    if above_floor_db <= 0:
        return waveform
    start, end = active_span(waveform, sample_rate, above_floor_db, frame_s)
    return waveform[start:end]
