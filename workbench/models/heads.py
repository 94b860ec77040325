"""Output heads: many-to-one pooling (last state, mean, attention) and many-to-many (one label per step)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from workbench.models.encoder import time_mask

HeadKind = Literal["last", "mean", "attention", "frames"]


def masked_mean(seq: Tensor, lengths: Tensor | None) -> Tensor:
    """(B, T, D), (B,) valid steps or None (all valid) -> (B, D) mean over the valid steps."""
    if lengths is None:
        return seq.mean(1)
    mask = time_mask(lengths, seq.shape[1])                              # (B, T)
    return (seq * mask[..., None]).sum(1) / lengths[:, None].to(seq.dtype)


class PoolingHead(nn.Module):
    """Many-to-one: pool a sequence into one vector, then a linear classifier -> (B, num_classes)."""

    def __init__(self, kind: HeadKind, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.kind = kind
        self.score = nn.Linear(in_dim, 1) if kind == "attention" else None
        self.out = nn.Linear(in_dim, num_classes)

    def forward(self, seq: Tensor, final: Tensor, lengths: Tensor | None) -> Tensor:
        """seq (B, T, D), final (B, D), lengths (B,) or None (all full) -> logits (B, num_classes)."""
        return self.out(self.pool(seq, final, lengths))

    def pool(self, seq: Tensor, final: Tensor, lengths: Tensor | None) -> Tensor:
        if self.kind == "last":
            return final
        if self.kind == "mean":
            return masked_mean(seq, lengths)
        return (self.attention_weights(seq, lengths)[..., None] * seq).sum(1)

    def attention_weights(self, seq: Tensor, lengths: Tensor | None) -> Tensor:
        """(B, T, D), (B,) -> (B, T) softmax weights, zero on padded steps."""
        scores = self.score(seq).squeeze(-1)                              # (B, T)
        if lengths is not None:
            scores = scores.masked_fill(~time_mask(lengths, seq.shape[1]), float("-inf"))
        return torch.softmax(scores, dim=1)


class FramesHead(nn.Module):
    """Many-to-many: one label distribution per step -> (B, T, num_classes)."""

    def __init__(self, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.out = nn.Linear(in_dim, num_classes)

    def forward(self, seq: Tensor, final: Tensor, lengths: Tensor | None) -> Tensor:
        return self.out(seq)
