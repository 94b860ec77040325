"""recipes/digit_adapt.py: fold models adapted to the speaker they never heard, tested on that speaker's other clips."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from recipes.digit_adapt import adapted_accuracy, main
from workbench.tasks.adapt import AdaptConfig


def test_the_clips_adapted_on_are_not_the_clips_tested_on():
    # 20 clips of each of 10 labels, each pooled vector random: a head refit without decay learns the drawn
    # clips by heart and nothing else, so only a test that included them would score above chance
    gen = torch.Generator().manual_seed(0)
    pooled, labels = torch.randn(200, 64, generator=gen), torch.arange(10).repeat_interleave(20)
    bundle = SimpleNamespace(model=SimpleNamespace(net=SimpleNamespace(head=SimpleNamespace(out=torch.nn.Linear(64, 10)))))
    before, after, estimate = adapted_accuracy(bundle, pooled, labels, per_digit=5, draws=3,
                                               cfg=AdaptConfig(weight_decay=0.0))
    assert before < 0.25 and after < 0.25          # chance is 0.1; with the 50 learnt clips among 200 it would be ~0.3
    assert estimate < 0.3                          # and cross-validation on the drawn clips knows it learnt nothing


def test_main_reports_before_and_after_adapting_each_fold_model(tmp_path, capsys, fsdd_dir):
    model = tmp_path / "runs" / "shipped" / "theo" / "model"
    model.parent.mkdir(parents=True)
    model.symlink_to(Path(__file__).resolve().parents[2] / "assets" / "models" / "spoken-digits")
    assert main(["shipped", "--data", str(fsdd_dir), "--runs", str(tmp_path / "runs"), "--speakers", "theo",
                 "--per-digit", "3", "--draws", "1", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["speakers"]["shipped"]["3"]["theo"]
    # the shipped model heard theo in training: adapting to him keeps what it had
    assert row["before"] > 0.97 and row["after"] >= row["before"] - 0.01 and 0.9 <= row["estimate"] <= 1.0


def test_a_speaker_with_too_few_recordings_is_a_usage_error(tmp_path, capsys, fsdd_dir):
    with pytest.raises(SystemExit) as exit_info:
        main(["shipped", "--data", str(fsdd_dir), "--runs", str(tmp_path), "--speakers", "nobody"])
    assert exit_info.value.code == 2 and "0 recordings of nobody" in capsys.readouterr().err


def test_write_adapts_each_fold_model_and_links_the_recordings_not_adapted_on(tmp_path, capsys, fsdd_dir):
    model = tmp_path / "runs" / "shipped" / "theo" / "model"
    model.parent.mkdir(parents=True)
    model.symlink_to(Path(__file__).resolve().parents[2] / "assets" / "models" / "spoken-digits")
    runs, rest = tmp_path / "runs", tmp_path / "rest"
    with pytest.raises(SystemExit):
        main(["shipped", "--data", str(fsdd_dir), "--runs", str(runs), "--speakers", "theo", "--write", "adapted"])
    assert "--rest" in capsys.readouterr().err
    assert main(["shipped", "--data", str(fsdd_dir), "--runs", str(runs), "--speakers", "theo", "--per-digit", "2",
                 "--write", "adapted", "--rest", str(rest)]) == 0
    adapted = json.loads((runs / "adapted" / "theo" / "model" / "metrics.json").read_text())["adapted"]
    assert adapted["clips"] == 20 and set(adapted["per_label"].values()) == {2}
    linked = {p.name for p in (rest / "recordings").iterdir()}
    recordings = {p.name for p in Path(fsdd_dir).glob("*.wav")}
    assert len(linked) == len(recordings) - 20 and linked < recordings


def test_snr_puts_the_speakers_recordings_in_noise_before_adapting(tmp_path, capsys, fsdd_dir):
    model = tmp_path / "runs" / "shipped" / "theo" / "model"
    model.parent.mkdir(parents=True)
    model.symlink_to(Path(__file__).resolve().parents[2] / "assets" / "models" / "spoken-digits")
    rows = []
    for extra in ([], ["--snr", "0"]):
        assert main(["shipped", "--data", str(fsdd_dir), "--runs", str(tmp_path / "runs"), "--speakers", "theo",
                     "--per-digit", "3", "--draws", "1", "--json", *extra]) == 0
        rows.append(json.loads(capsys.readouterr().out)["speakers"]["shipped"]["3"]["theo"])
    clean, noisy = rows
    assert noisy["before"] < clean["before"] - 0.05          # pink noise as loud as the word costs the model
    assert noisy["after"] > noisy["before"]                   # and adapting to the noisy clips wins some back
