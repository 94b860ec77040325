"""Labelled data for training and evaluation: sources, splits, augmentation and datasets."""

from workbench.data.augment import (
    AugmentConfig, Spliced, augment_waveform, mix_style, mix_up, spec_augment, splice_clips, step_targets, stretch_time,
    warp_frequency,
)
from workbench.data.dataset import AudioBatch, AudioDataset, LoadFailure, collate, decode_examples
from workbench.data.sources import (
    Example, find_examples, group_of, labels_of, leave_one_group_out, media_files, split_by_group,
)

__all__ = [
    "AudioBatch", "AudioDataset", "AugmentConfig", "Example", "LoadFailure", "augment_waveform", "collate",
    "decode_examples", "find_examples", "group_of", "labels_of", "leave_one_group_out", "media_files", "mix_style", "mix_up",
    "Spliced", "spec_augment", "splice_clips", "step_targets",
    "split_by_group", "stretch_time", "warp_frequency",
]
