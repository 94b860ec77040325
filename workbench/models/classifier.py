"""The audio classifier: spectrogram CNN encoder -> LSTM/GRU -> head."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from workbench.errors import ConfigError
from workbench.models.encoder import EncoderConfig, SpectrogramEncoder, downsample_lengths
from workbench.models.heads import FramesHead, HeadKind, PoolingHead
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
        self._traced: torch.jit.ScriptModule | None = None       # see trace_for_cpu; not a submodule

    def trace_for_cpu(self) -> None:
        """Inference only: from now on, unpadded batches on the CPU in eval mode run through a TorchScript
        trace of this network, which shares its weights and gives the same outputs without Python
        between the ops (about 0.3 ms less per 1 s clip at batch 1 on one CPU thread). Padded batches,
        training, CUDA and export keep the eager path. Call it after the weights are final."""
        example = torch.zeros(1, self.cfg.encoder.num_bins, 8 * self.cfg.encoder.time_stride)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")     # torch.jit.trace's deprecation notice and the LSTM's shape-check notes
            traced = torch.jit.trace(self, (example,), check_trace=False)
        object.__setattr__(self, "_traced", traced)     # kept out of state_dict(), children() and export

    def __getstate__(self) -> dict:
        """Pickled and copied without the trace (TorchScript does not pickle); call trace_for_cpu again if needed."""
        return {**self.__dict__, "_traced": None}

    def forward(self, spec: Tensor, lengths: Tensor | None = None) -> Tensor:
        """`lengths=None`: every item fills all frames (the path exported to ONNX and TorchScript)."""
        if lengths is not None and not torch.jit.is_tracing() and bool((lengths == spec.shape[-1]).all()):
            lengths = None          # no padding: skip masks and packing (same outputs, ~2x faster at batch 1)
        if lengths is None and self._traced is not None and not self.training and spec.device.type == "cpu" \
                and not torch.jit.is_tracing():
            # the interpreter without the profiling executor: no warm-up calls, no re-specialising per clip length
            with torch.jit.optimized_execution(False):
                return self._traced(spec)
        x, steps = self.encoder(spec, lengths)                   # (B, T', D), (B,)
        seq, final = self.recurrent(x, steps)                     # (B, T', H*dirs), (B, H*dirs)
        return self.head(seq, final, steps)

    def step_lengths(self, lengths: Tensor) -> Tensor:
        """Frame lengths (B,) -> the number of valid output steps (B,) of the frames head."""
        return downsample_lengths(lengths, self.cfg.encoder.time_pool)
