"""Model building blocks shared by the tasks: CNN encoders, the recurrent block, heads, and the models built from them."""

from workbench.models.classifier import AudioClassifier, ClassifierConfig
from workbench.models.encoder import (
    EncoderConfig,
    FrameEncoder,
    FrameEncoderConfig,
    SpectrogramEncoder,
    downsample_lengths,
    time_mask,
)
from workbench.models.heads import FramesHead, PoolingHead, masked_mean
from workbench.models.novelty import NoveltyStats, fit_novelty, novelty
from workbench.models.recurrent import Recurrent, RecurrentConfig

__all__ = [
    "AudioClassifier", "ClassifierConfig", "EncoderConfig", "FrameEncoder", "FrameEncoderConfig",
    "FramesHead", "PoolingHead", "Recurrent", "RecurrentConfig", "SpectrogramEncoder",
    "NoveltyStats", "downsample_lengths", "fit_novelty", "masked_mean", "novelty", "time_mask",
]
