"""The audio classifier: spectrogram CNN encoder -> LSTM/GRU -> head."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from workbench.errors import ConfigError
from workbench.models.encoder import EncoderConfig, SpectrogramEncoder, downsample_lengths
from workbench.models.heads import FramesHead, HeadKind, PoolingHead, masked_mean
from workbench.models.recurrent import Recurrent, RecurrentConfig


@dataclass(frozen=True)
class ClassifierConfig:
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    recurrent: RecurrentConfig = field(default_factory=RecurrentConfig)
    head: HeadKind = "attention"   # "last" | "mean" | "attention" (many-to-one) | "frames" (many-to-many)

    def __post_init__(self) -> None:
        if self.head not in ("last", "mean", "attention", "frames"):
            raise ConfigError(f"head must be last, mean, attention or frames, got {self.head!r}")


class AudioClassifier(nn.Module):
    """(B, num_bins, n_frames) spectrograms + (B,) frame lengths -> logits.

    Many-to-one heads give (B, num_classes); the "frames" head gives (B, n_steps, num_classes) with
    n_steps = n_frames // cfg.encoder.time_stride (see `step_lengths`).
    """

    def __init__(self, cfg: ClassifierConfig, num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise ConfigError(f"a classifier needs at least 2 classes, got {num_classes}")
        self.cfg = cfg
        self.num_classes = num_classes
        self.encoder = SpectrogramEncoder(cfg.encoder)
        self.recurrent = Recurrent(cfg.recurrent, cfg.encoder.out_dim)
        out_dim = cfg.recurrent.out_dim
        self.head = FramesHead(out_dim, num_classes) if cfg.head == "frames" else PoolingHead(cfg.head, out_dim, num_classes)

    def _sequences(self, spec: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """Encoder output (B, T', D), recurrent outputs (B, T', H*dirs) and final state (B, H*dirs), step lengths."""
        if lengths is not None and not torch.jit.is_tracing() and bool((lengths == spec.shape[-1]).all()):
            lengths = None          # no padding: skip masks and packing (same outputs, ~2x faster at batch 1)
        x, steps = self.encoder(spec, lengths)                   # (B, T', D), (B,)
        seq, final = self.recurrent(x, steps)                     # (B, T', H*dirs), (B, H*dirs)
        return x, seq, final, steps

    def forward(self, spec: Tensor, lengths: Tensor | None = None) -> Tensor:
        """`lengths=None`: every item fills all frames (the path exported to ONNX and TorchScript)."""
        _, seq, final, steps = self._sequences(spec, lengths)
        return self.head(seq, final, steps)

    def clip_logits(self, spec: Tensor, lengths: Tensor | None = None) -> Tensor:
        """One label distribution per clip (B, num_classes) whatever the head: `forward`'s for a many-to-one
        head; for the frames head, the mean of its steps' logits (the head is linear, so it is the logits
        of the steps' mean vector). A frames head learns from clip labels through this mean."""
        if isinstance(self.head, PoolingHead):
            return self(spec, lengths)
        _, seq, _, steps = self._sequences(spec, lengths)
        return self.head.out(masked_mean(seq, steps))

    def logits_and_embedding(self, spec: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """`clip_logits` (B, num_classes) and an embedding (B, H*dirs + D) of what the network heard: the
        vector its head classifies (the frames head: the mean of its steps) beside the encoder's output
        averaged over time. `models.novelty` measures how far it lies from the training clips'."""
        x, seq, final, steps = self._sequences(spec, lengths)
        pooled = self.head.pool(seq, final, steps) if isinstance(self.head, PoolingHead) else masked_mean(seq, steps)
        return self.head.out(pooled), torch.cat([pooled, masked_mean(x, steps)], dim=1)   # (B, H*dirs + D)

    def steps_and_embedding(self, spec: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The frames head's logits for every step (B, T', num_classes) and every step's embedding (B, T', H*dirs + D),
        in one pass: what a timeline needs of each window. The mean of a clip's step embeddings over its steps is
        `logits_and_embedding`'s embedding."""
        if not isinstance(self.head, FramesHead):
            raise ConfigError(f"steps_and_embedding needs the many-to-many 'frames' head, not {self.cfg.head!r}")
        x, seq, _, _ = self._sequences(spec, lengths)
        return self.head.out(seq), torch.cat([seq, x], dim=2)

    def step_lengths(self, lengths: Tensor) -> Tensor:
        """Frame lengths (B,) -> the number of valid output steps (B,) of the frames head."""
        return downsample_lengths(lengths, self.cfg.encoder.time_pool)

