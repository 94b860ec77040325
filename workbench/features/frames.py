"""Video frames as CNN input: uint8 RGB `(..., H, W, 3)` -> float32 `(..., 3, size, size)`, normalised.

Frames that are not already `size x size` are resized to exactly that (aspect ratio not kept, as
`media.read_frames(size=int)` does) with bilinear interpolation and antialiasing. Pixels are scaled
to [0, 1], then `(x - mean) / std` per channel (ImageNet statistics by default).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from workbench.errors import ConfigError


@dataclass(frozen=True)
class FrameConfig:
    """Which frames to take and how to turn them into model input."""

    sampling: str = "uniform:16"  # parsed by media.Sampling.parse at the task layer
    size: int = 112
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)

    def __post_init__(self) -> None:
        if not isinstance(self.sampling, str) or not self.sampling.strip():
            raise ConfigError(f"sampling={self.sampling!r} must be a non-empty string such as 'uniform:16'")
        if self.size <= 0:
            raise ConfigError(f"size={self.size} must be positive")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ConfigError(f"mean and std need 3 values (R, G, B), got {self.mean!r} and {self.std!r}")
        if any(s <= 0 for s in self.std):
            raise ConfigError(f"std={self.std!r} must be positive")


def _normalized(frames: Tensor, size: int, mean: Tensor, std: Tensor) -> Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, size, size) float32; mean/std are (1, 3, 1, 1) on frames' device."""
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (N, H, W, 3) uint8, got {tuple(frames.shape)} {frames.dtype}")
    x = frames.permute(0, 3, 1, 2).float() / 255.0  # (N, 3, H, W) in [0, 1]
    if x.shape[-2:] != (size, size):  # interpolate rejects empty batches, hence the T == 0 case
        x = (F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
             if x.shape[0] else x.new_zeros(0, 3, size, size))
    return (x - mean) / std


def frames_to_tensor(frames: Tensor, cfg: FrameConfig) -> Tensor:
    """Decoded frames `(T, H, W, 3)` uint8 -> `(T, 3, size, size)` float32, resized and normalised."""
    mean = torch.tensor(cfg.mean, device=frames.device).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std, device=frames.device).view(1, 3, 1, 1)
    return _normalized(frames, cfg.size, mean, std)


class FrameExtractor(nn.Module):
    """Batched `frames_to_tensor`: `(B, T, H, W, 3)` uint8 -> `(B, T, 3, size, size)` float32 on any device."""

    def __init__(self, cfg: FrameConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("mean", torch.tensor(cfg.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std).view(1, 3, 1, 1), persistent=False)

    def forward(self, frames: Tensor) -> Tensor:
        if frames.ndim != 5:
            raise ValueError(f"frames must be (B, T, H, W, 3) uint8, got {tuple(frames.shape)}")
        batch, steps = frames.shape[:2]
        x = _normalized(frames.flatten(0, 1), self.cfg.size, self.mean, self.std)  # (B*T, 3, S, S): one by one
        return x.unflatten(0, (batch, steps))  # (B, T, 3, S, S): back to sequences
