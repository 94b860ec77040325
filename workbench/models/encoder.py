"""CNN encoders that turn a spectrogram or a frame sequence into a sequence of feature vectors.

Both keep the time axis, so a recurrent block can run over their output:
- `SpectrogramEncoder`: (B, num_bins, n_frames) -> (B, n_steps, out_dim), conv blocks that shrink
  frequency and optionally time (n_steps = n_frames // prod(time_pool)).
- `FrameEncoder`: (B, T, 3, H, W) -> (B, T, out_dim), a 2D CNN applied to each frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from workbench.errors import ConfigError


@dataclass(frozen=True)
class EncoderConfig:
    num_bins: int = 40                      # spectrogram bins (n_mels) the encoder expects
    channels: tuple[int, ...] = (16, 32, 64)
    time_pool: tuple[int, ...] = (2, 2, 1)  # time downsampling of each block
    freq_pool: int = 2                      # frequency downsampling of every block
    out_dim: int = 128
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.time_pool):
            raise ConfigError(f"channels {self.channels} and time_pool {self.time_pool} must have the same length")
        if any(c <= 0 for c in self.channels) or any(p <= 0 for p in self.time_pool):
            raise ConfigError("channels and time_pool must be positive")
        if self.num_bins // self.freq_pool ** len(self.channels) < 1:
            raise ConfigError(f"num_bins={self.num_bins} is too small for {len(self.channels)} blocks of freq_pool={self.freq_pool}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout={self.dropout} must be in [0, 1)")

    @property
    def time_stride(self) -> int:
        return math.prod(self.time_pool)


def downsample_lengths(lengths: Tensor, time_pool: tuple[int, ...]) -> Tensor:
    """Valid steps left after each block's floor-mode pooling: (B,) -> (B,)."""
    for pool in time_pool:
        lengths = torch.div(lengths, pool, rounding_mode="floor")
    return lengths.clamp(min=1)


def time_mask(lengths: Tensor, n_steps: int) -> Tensor:
    """(B,) lengths -> (B, n_steps) bool, True on valid steps."""
    return torch.arange(n_steps, device=lengths.device)[None, :] < lengths[:, None]


class _ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, pool: tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(pool) if pool != (1, 1) else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.norm(self.conv(x)))
        if isinstance(self.pool, nn.Identity):
            return x
        # CPU max-pooling is ~4x faster on channels-last tensors (measured: 300 -> 70 us for (1, 16, 40, 101))
        return self.pool(x.contiguous(memory_format=torch.channels_last)).contiguous()

    def fold_batch_norm(self) -> None:
        """Inference only: fold the (eval-mode) batch norm into the convolution; same outputs, fewer ops."""
        if isinstance(self.norm, nn.Identity):
            return
        self.conv = fuse_conv_bn_eval(self.conv.eval(), self.norm.eval())
        self.norm = nn.Identity()


class SpectrogramEncoder(nn.Module):
    """Conv blocks (conv 3x3, batch norm, ReLU, max-pool) over a spectrogram, then a projection.

    Padded time steps are zeroed after every block, so zero padding a batch never changes the
    encoding of an item's valid steps.
    """

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = (1, *cfg.channels)
        self.blocks = nn.ModuleList(
            _ConvBlock(widths[i], widths[i + 1], (cfg.freq_pool, cfg.time_pool[i])) for i in range(len(cfg.channels))
        )
        freq_left = cfg.num_bins // cfg.freq_pool ** len(cfg.channels)
        self.proj = nn.Linear(cfg.channels[-1] * freq_left, cfg.out_dim)
        self.dropout = nn.Dropout(cfg.dropout)
        self.folded = False                                     # see fold_batch_norm

    def fold_batch_norm(self) -> None:
        """Make this encoder inference-only: batch norms folded into the convolutions (~0.15 ms less per
        clip at batch 1 on one CPU thread). The weights no longer match a bundle's, and training it is an error."""
        for block in self.blocks:
            block.fold_batch_norm()
        self.folded = True

    def train(self, mode: bool = True) -> "SpectrogramEncoder":
        if mode and self.folded:
            raise ConfigError("this encoder's batch norms are folded for inference; it cannot be trained")
        return super().train(mode)

    def forward(self, spec: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(B, num_bins, n_frames), (B,) -> (B, n_steps, out_dim), (B,) step lengths.

        `lengths=None` means every item fills all frames (no masking: the export-friendly path).
        """
        x = spec.unsqueeze(1)                                   # (B, 1, F, T): one input channel
        for block, pool in zip(self.blocks, self.cfg.time_pool):
            x = block(x)
            if lengths is not None:
                lengths = downsample_lengths(lengths, (pool,))
                x = x * time_mask(lengths, x.shape[-1])[:, None, None, :]   # zero the padded steps
        x = x.flatten(1, 2).transpose(1, 2)                     # (B, T', C*F'): one vector per step
        return self.dropout(torch.relu(self.proj(x))), lengths


@dataclass(frozen=True)
class FrameEncoderConfig:
    channels: tuple[int, ...] = (16, 32, 64, 128)
    out_dim: int = 128
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if not self.channels or any(c <= 0 for c in self.channels):
            raise ConfigError(f"channels {self.channels} must be a non-empty tuple of positive ints")


class FrameEncoder(nn.Module):
    """A small 2D CNN applied to each frame, globally average-pooled: (B, T, 3, H, W) -> (B, T, out_dim)."""

    def __init__(self, cfg: FrameEncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = (3, *cfg.channels)
        self.blocks = nn.Sequential(*(_ConvBlock(widths[i], widths[i + 1], (2, 2)) for i in range(len(cfg.channels))))
        self.proj = nn.Linear(cfg.channels[-1], cfg.out_dim)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, frames: Tensor) -> Tensor:
        batch, steps = frames.shape[:2]
        x = frames.flatten(0, 1)                                # (B*T, 3, H, W): the CNN sees frames one by one
        x = self.blocks(x).mean(dim=(2, 3))                     # (B*T, C): global average pool
        x = x.unflatten(0, (batch, steps))                      # (B, T, C): back to sequences
        return self.dropout(torch.relu(self.proj(x)))
