"""How unlike its training clips a clip looks to a classifier: relative Mahalanobis distance on its embedding.

A classifier always answers with one of its labels, often confidently for a sound it has never met
(the shipped digit model calls a beep "7"). Its embedding (`AudioClassifier.logits_and_embedding`)
shows more: a clip that is none of the classes lands far from every class's cloud of training
embeddings. Following Lee et al. 2018 ("A simple unified framework for detecting out-of-distribution
samples") with the relative form of Ren et al. 2021 ("A simple fix to Mahalanobis distance"):

    raw(x)     = min_c (x - mu_c)' P (x - mu_c)  -  (x - mu)' P0 (x - mu)

mu_c the class means and P the inverse of their shared covariance, mu and P0 the mean and inverse
covariance of all training embeddings (the second term takes out what every clip shares, such as
loudness or a speaker's voice). The novelty is raw(x) rescaled on the training clips' own raws,
0 at their median and 1 at their 99th percentile, so one threshold means the same for any model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

from workbench.errors import ConfigError

# The covariances are shrunk this far towards a multiple of the identity (a few thousand clips in
# 256 dimensions give a noisy estimate whose inverse exaggerates the least-used directions).
SHRINKAGE = 0.1
TRAINING_QUANTILE = 0.99     # the training clips' raw at this quantile is novelty 1


@dataclass(frozen=True)
class NoveltyStats:
    class_means: Tensor            # (C, D)
    precision: Tensor              # (D, D) inverse of the within-class covariance, shared by the classes
    mean: Tensor                   # (D,) of all training embeddings
    background_precision: Tensor   # (D, D) inverse of their covariance around `mean`
    center: Tensor                 # () the training clips' median raw score: novelty 0
    scale: Tensor                  # () their 99th-percentile raw minus the median: one unit of novelty

    def to_tensors(self) -> dict[str, Tensor]:
        """The stats as named tensors, for a safetensors file."""
        return {name: getattr(self, name).detach().cpu().contiguous() for name in self.__dataclass_fields__}

    @classmethod
    def from_tensors(cls, tensors: dict[str, Tensor], where: str = "novelty stats") -> "NoveltyStats":
        missing = sorted(set(cls.__dataclass_fields__) - set(tensors))
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}")
        stats = cls(**{name: tensors[name].float() for name in cls.__dataclass_fields__})
        num_classes, dim = stats.class_means.shape
        shapes = {"precision": (dim, dim), "mean": (dim,), "background_precision": (dim, dim), "center": (), "scale": ()}
        for name, shape in shapes.items():
            if tuple(getattr(stats, name).shape) != shape:
                raise ConfigError(f"{where}: {name} has shape {tuple(getattr(stats, name).shape)}, expected {shape}")
        return stats

    def to(self, device: torch.device | str) -> "NoveltyStats":
        return NoveltyStats(**{name: getattr(self, name).to(device) for name in self.__dataclass_fields__})


def _shrunk_precision(centered: Tensor) -> Tensor:
    """(N, D) centred rows -> (D, D) inverse of their covariance, shrunk towards the identity by SHRINKAGE."""
    cov = centered.T @ centered / centered.shape[0]
    dim = cov.shape[0]
    cov = (1 - SHRINKAGE) * cov + SHRINKAGE * torch.trace(cov) / dim * torch.eye(dim, dtype=cov.dtype)
    return torch.linalg.inv(cov)


def fit_novelty(embeddings: Tensor, label_ids: Tensor, num_classes: int) -> NoveltyStats:
    """Stats of training embeddings (N, D) with their label ids (N,); every class needs a clip."""
    if embeddings.ndim != 2 or label_ids.shape != (embeddings.shape[0],):
        raise ConfigError(f"embeddings must be (N, D) with (N,) label ids, got {tuple(embeddings.shape)} "
                          f"and {tuple(label_ids.shape)}")
    counts = torch.bincount(label_ids, minlength=num_classes)
    if bool((counts == 0).any()):
        raise ConfigError(f"novelty stats need clips of every class; none of class ids "
                          f"{(counts == 0).nonzero().flatten().tolist()}")
    x = embeddings.detach().double().cpu()
    labels = label_ids.cpu()
    class_means = torch.stack([x[labels == c].mean(0) for c in range(num_classes)])    # (C, D)
    mean = x.mean(0)
    stats = NoveltyStats(class_means.float(), _shrunk_precision(x - class_means[labels]).float(), mean.float(),
                         _shrunk_precision(x - mean).float(), torch.tensor(0.0), torch.tensor(1.0))
    raw = _raw_scores(stats, embeddings.detach().float().cpu())      # as `novelty` will compute it
    center = raw.median()
    scale = (torch.quantile(raw, TRAINING_QUANTILE) - center).clamp_min(1e-6)
    return dataclasses.replace(stats, center=center, scale=scale)


def _raw_scores(stats: NoveltyStats, embeddings: Tensor) -> Tensor:
    """(N, D) -> (N,) nearest class's squared Mahalanobis distance minus the background one."""
    to_class = embeddings[:, None, :] - stats.class_means[None]                         # (N, C, D)
    class_d2 = torch.einsum("ncd,de,nce->nc", to_class, stats.precision, to_class)     # (N, C)
    to_mean = embeddings - stats.mean                                                   # (N, D)
    background_d2 = torch.einsum("nd,de,ne->n", to_mean, stats.background_precision, to_mean)
    return class_d2.min(1).values - background_d2


def novelty(stats: NoveltyStats, embeddings: Tensor) -> Tensor:
    """(N, D) embeddings -> (N,) novelty: 0 at the training clips' median, 1 at their 99th percentile."""
    if embeddings.ndim != 2 or embeddings.shape[1] != stats.mean.shape[0]:
        raise ConfigError(f"embeddings must be (N, {stats.mean.shape[0]}), got {tuple(embeddings.shape)}")
    return (_raw_scores(stats, embeddings.float()) - stats.center) / stats.scale
