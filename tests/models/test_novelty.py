import pytest
import torch

from workbench.errors import ConfigError
from workbench.models import NoveltyStats, fit_novelty, novelty


def _clusters(num_per_class=400, dim=16, seed=0):
    """Three Gaussian classes in `dim` dimensions, their means 6 apart along the first three axes."""
    gen = torch.Generator().manual_seed(seed)
    means = 6.0 * torch.eye(dim)[:3]
    labels = torch.arange(3).repeat_interleave(num_per_class)
    return means[labels] + torch.randn(len(labels), dim, generator=gen), labels, means


def test_novelty_is_zero_at_the_training_median_and_one_at_its_99th_percentile():
    x, labels, _ = _clusters()
    scores = novelty(fit_novelty(x, labels, 3), x)
    assert float(scores.median()) == pytest.approx(0.0, abs=1e-4)
    assert float(torch.quantile(scores, 0.99)) == pytest.approx(1.0, abs=1e-3)


def test_new_points_of_the_classes_pass_and_points_between_or_beyond_them_do_not():
    x, labels, means = _clusters()
    stats = fit_novelty(x, labels, 3)
    fresh, fresh_labels, _ = _clusters(seed=1)                    # the same classes, drawn again
    assert float((novelty(stats, fresh) > 1.5).float().mean()) < 0.02
    between = (means[0] + means[1]) / 2 + torch.randn(200, 16, generator=torch.Generator().manual_seed(2))
    beyond = -2 * means[0] + torch.randn(200, 16, generator=torch.Generator().manual_seed(3))
    assert float((novelty(stats, between) > 1.5).float().mean()) > 0.5      # 0.70 measured
    assert bool((novelty(stats, beyond) > 1.5).all())


def test_novelty_stats_round_trip_through_named_tensors_and_reject_damaged_ones():
    x, labels, _ = _clusters()
    stats = fit_novelty(x, labels, 3)
    again = NoveltyStats.from_tensors(stats.to_tensors())
    torch.testing.assert_close(novelty(again, x), novelty(stats, x))
    tensors = stats.to_tensors()
    with pytest.raises(ConfigError, match="missing scale"):
        NoveltyStats.from_tensors({k: v for k, v in tensors.items() if k != "scale"}, "x.safetensors")
    with pytest.raises(ConfigError, match="precision has shape"):
        NoveltyStats.from_tensors({**tensors, "precision": torch.eye(4)})
    with pytest.raises(ConfigError, match=r"\(N, 16\)"):
        novelty(stats, torch.zeros(2, 8))


def test_fitting_needs_every_class_and_matching_labels():
    x, labels, _ = _clusters()
    with pytest.raises(ConfigError, match=r"class ids \[3\]"):
        fit_novelty(x, labels, 4)
    with pytest.raises(ConfigError, match="label ids"):
        fit_novelty(x, labels[:-1], 3)
