import csv
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from workbench.train import TrainConfig, fit, latest_checkpoint


@dataclass
class Batch:
    x: torch.Tensor
    y: torch.Tensor

    def to(self, device):
        return Batch(self.x.to(device), self.y.to(device))


def _problem(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 8, generator=gen)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, 2))


def _run(run_dir, cfg, resume=False, stop_after=None, validate=None):
    x, y = _problem()
    model = _model()

    def batches(epoch):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        return [Batch(x[order[i:i + 16]], y[order[i:i + 16]]) for i in range(0, len(x), 16)]

    def default_validate(m):
        return {"accuracy": float((m(x).argmax(1) == y).float().mean())}

    def on_epoch(log):
        if stop_after is not None and log.epoch == stop_after:
            raise KeyboardInterrupt

    result = fit(model, batches, lambda m, b: F.cross_entropy(m(b.x), b.y), validate or default_validate, cfg,
                 run_dir, torch.device("cpu"), steps_per_epoch=6, resume=resume, on_epoch=on_epoch)
    return model, result


def test_loss_falls_and_logs_every_layer_gradient(tmp_path):
    cfg = TrainConfig(epochs=6, lr=0.05, patience=0, warmup_epochs=0)
    model, result = _run(tmp_path, cfg)
    losses = [e.train_loss for e in result.epochs]
    assert losses[-1] < 0.6 * losses[0]
    assert result.best_val["accuracy"] > 0.9
    rows = list(csv.DictReader((tmp_path / "steps.csv").open()))
    assert len(rows) == 6 * 6
    assert {"grad_norm/0", "grad_norm/3"} <= set(rows[0])
    assert all(float(r["grad_norm/0"]) > 0 for r in rows)
    assert len(list(csv.DictReader((tmp_path / "epochs.csv").open()))) == 6
    assert any((tmp_path / "tensorboard").iterdir())


def test_clipping_is_reported_when_the_norm_exceeds_the_limit(tmp_path):
    _run(tmp_path, TrainConfig(epochs=1, grad_clip=1e-4, patience=0))
    rows = list(csv.DictReader((tmp_path / "steps.csv").open()))
    assert all(r["clipped"] == "1" for r in rows)


def test_same_seed_gives_the_same_weights(tmp_path):
    cfg = TrainConfig(epochs=2, patience=0)
    a, _ = _run(tmp_path / "a", cfg)
    b, _ = _run(tmp_path / "b", cfg)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)


def test_resume_continues_where_it_stopped(tmp_path):
    cfg = TrainConfig(epochs=4, patience=0)
    _run(tmp_path / "full", cfg)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "cut", cfg, stop_after=2)
    assert latest_checkpoint(tmp_path / "cut") == 2
    _, result = _run(tmp_path / "cut", cfg, resume=True)
    assert [e.epoch for e in result.epochs] == [1, 2, 3, 4]
    full = load_file(tmp_path / "full" / "checkpoints" / "epoch_004.safetensors")
    cut = load_file(tmp_path / "cut" / "checkpoints" / "epoch_004.safetensors")
    for name in full:
        torch.testing.assert_close(full[name], cut[name], rtol=0, atol=0)
    assert len(list(csv.DictReader((tmp_path / "cut" / "epochs.csv").open()))) == 4


def test_resuming_nothing_or_training_over_a_run_says_so(tmp_path, caplog):
    cfg = TrainConfig(epochs=1, patience=0)
    with caplog.at_level("WARNING", logger="workbench"):
        _, result = _run(tmp_path, cfg, resume=True)                # nothing there yet: trains from epoch 1
    assert [e.epoch for e in result.epochs] == [1]
    assert [r.getMessage() for r in caplog.records] == [f"{tmp_path}: nothing to resume (no checkpoint there); "
                                                       "training from the first epoch"]
    _run(tmp_path, TrainConfig(epochs=3, patience=0))                # a longer run there, then a shorter one over it
    caplog.clear()
    with caplog.at_level("WARNING", logger="workbench"):
        _run(tmp_path, cfg)                                         # the same folder again, without resume
    assert len(caplog.records) == 1 and "already holds a run (checkpoints up to epoch 3)" in caplog.messages[0]
    assert latest_checkpoint(tmp_path) == 1                         # a resume now continues this run, not the old one
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch_001.safetensors", "epoch_001.state.pt"]


def test_early_stopping_when_validation_stops_improving(tmp_path):
    _, result = _run(tmp_path, TrainConfig(epochs=20, patience=2), validate=lambda m: {"accuracy": 0.5})
    assert result.stopped_early
    assert [e.epoch for e in result.epochs] == [1, 2, 3] and result.best_epoch == 1


def test_weight_averaging_returns_the_mean_of_the_last_epochs_with_fresh_batch_norm_statistics(tmp_path):
    x, y = _problem()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 2))

    def batches(epoch):
        return [Batch(x[i:i + 16], y[i:i + 16]) for i in range(0, len(x), 16)]

    cfg = TrainConfig(epochs=5, lr=0.05, patience=0, warmup_epochs=0, average_epochs=3)
    result = fit(model, batches, lambda m, b: F.cross_entropy(m(b.x), b.y),
                 lambda m: {"accuracy": float((m(x).argmax(1) == y).float().mean())}, cfg, tmp_path,
                 torch.device("cpu"), steps_per_epoch=6)
    snapshots = [load_file(tmp_path / "checkpoints" / f"epoch_{e:03d}.safetensors") for e in (3, 4, 5)]
    for name in ("0.weight", "0.bias", "3.weight", "1.weight"):
        torch.testing.assert_close(model.state_dict()[name], sum(s[name] for s in snapshots) / 3)
    assert not torch.allclose(model.state_dict()["0.weight"], snapshots[-1]["0.weight"])
    with torch.no_grad():                        # batch norm statistics of the averaged weights, over the data
        torch.testing.assert_close(model[1].running_mean, model[0](x).mean(0), atol=1e-5, rtol=1e-4)
    assert result.best_epoch == 5 and result.best_val["accuracy"] > 0.9
    torch.testing.assert_close(load_file(tmp_path / "average.safetensors")["0.weight"], model.state_dict()["0.weight"])
