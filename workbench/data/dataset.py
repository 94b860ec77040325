"""Decoded, labelled audio ready for a DataLoader, and the padded batch it yields."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset

from workbench import batch as batch_run
from workbench.data.augment import AugmentConfig, augment_waveform
from workbench.data.sources import Example
from workbench.media import load_audio


@dataclass(frozen=True)
class AudioBatch:
    waveforms: Tensor      # (B, samples) float32 mono, zero-padded
    lengths: Tensor        # (B,) int64 valid samples
    label_ids: Tensor      # (B,) int64

    def to(self, device: torch.device) -> "AudioBatch":
        return AudioBatch(self.waveforms.to(device), self.lengths.to(device), self.label_ids.to(device))


@dataclass(frozen=True)
class LoadFailure:
    path: str
    error: str


def decode_examples(
    examples: list[Example], sample_rate: int, max_duration_s: float | None = None, workers: int = 1
) -> tuple[list[tuple[Example, Tensor]], list[LoadFailure]]:
    """Decode every example to mono at `sample_rate` (cropped to `max_duration_s`); bad files are reported, not fatal."""

    def load(example: Example) -> Tensor:
        return load_audio(example.path, sample_rate=sample_rate, mono=True, duration_s=max_duration_s).waveform[0]

    outcomes = batch_run.run(examples, load, workers=workers)
    loaded = [(o.item, o.value) for o in outcomes if o.ok]
    failed = [LoadFailure(o.item.path, o.error) for o in outcomes if not o.ok]
    return loaded, failed


class AudioDataset(Dataset):
    """(waveform (samples,), label_id) pairs held in memory; augmented when `augment` is given.

    Augmentation is seeded per (seed, epoch, index): call `set_epoch` before each epoch so a run
    is reproducible and a resumed run sees the same data as an uninterrupted one.
    """

    def __init__(
        self, items: list[tuple[Example, Tensor]], labels: list[str], sample_rate: int,
        augment: AugmentConfig | None = None, seed: int = 0,
    ) -> None:
        index = {label: i for i, label in enumerate(labels)}
        self.examples = [e for e, _ in items]
        self.waveforms = [w for _, w in items]
        self.label_ids = [index[e.label] for e in self.examples]
        self.sample_rate = sample_rate
        self.augment = augment
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.waveforms)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        waveform = self.waveforms[i]
        if self.augment is not None:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch * 100_003 + i)
            waveform = augment_waveform(waveform, self.sample_rate, self.augment, gen)
        return waveform, self.label_ids[i]


def collate(items: list[tuple[Tensor, int]]) -> AudioBatch:
    """Pad a list of (waveform (samples,), label_id) into an AudioBatch."""
    lengths = torch.tensor([w.shape[0] for w, _ in items], dtype=torch.int64)
    waveforms = torch.zeros(len(items), int(lengths.max()))
    for row, (w, _) in enumerate(items):
        waveforms[row, : w.shape[0]] = w
    return AudioBatch(waveforms, lengths, torch.tensor([label for _, label in items], dtype=torch.int64))
