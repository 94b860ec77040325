"""The recurrent block shared by every task: an LSTM or GRU over padded sequences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from workbench.errors import ConfigError


@dataclass(frozen=True)
class RecurrentConfig:
    kind: Literal["lstm", "gru"] = "lstm"
    hidden_size: int = 96
    num_layers: int = 1
    dropout: float = 0.0           # between stacked layers
    bidirectional: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("lstm", "gru"):
            raise ConfigError(f"recurrent kind must be 'lstm' or 'gru', got {self.kind!r}")
        if self.hidden_size <= 0 or self.num_layers <= 0:
            raise ConfigError("hidden_size and num_layers must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout={self.dropout} must be in [0, 1)")

    @property
    def out_dim(self) -> int:
        return self.hidden_size * (2 if self.bidirectional else 1)


class Recurrent(nn.Module):
    """Runs over valid steps only (packed sequences), so padding never changes the outputs."""

    def __init__(self, cfg: RecurrentConfig, input_size: int) -> None:
        super().__init__()
        self.cfg = cfg
        rnn = nn.LSTM if cfg.kind == "lstm" else nn.GRU
        self.rnn = rnn(
            input_size, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True,
            dropout=cfg.dropout if cfg.num_layers > 1 else 0.0, bidirectional=cfg.bidirectional,
        )

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(B, T, input_size), (B,) -> outputs (B, T, out_dim) zero past each length, final (B, out_dim).

        `final` is the last layer's state at the end of each sequence: for a bidirectional block, the
        forward direction after the last valid step joined with the backward direction after step 0.
        """
        if lengths is None:                     # every sequence fills all steps: no packing (exportable)
            out, state = self.rnn(x)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, state = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        hidden = state[0] if self.cfg.kind == "lstm" else state          # (layers*dirs, B, H)
        dirs = 2 if self.cfg.bidirectional else 1
        last_layer = hidden[-dirs:]                                       # (dirs, B, H)
        final = last_layer.transpose(0, 1).flatten(1)                     # (B, dirs*H)
        return out, final
