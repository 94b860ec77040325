"""recipes/digit_ensemble.py: averaging held-out-speaker fold models."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from recipes.digit_ensemble import main, speaker_ensemble
from workbench.data import Example
from workbench.tasks import classify

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SHIPPED = ASSETS / "models" / "spoken-digits"


def sample_examples() -> list[Example]:
    samples = sorted((ASSETS / "samples").glob("digit_*_*_*.wav"))      # digit_<label>_<speaker>_<n>.wav
    return [Example(str(p), p.stem.split("_")[1], p.stem.split("_")[2]) for p in samples]


def biased_copy(out: Path, label_id: int, bias: float) -> Path:
    """The shipped bundle with one output's bias raised: a second, different model."""
    shutil.copytree(SHIPPED, out)
    weights = load_file(out / "model.safetensors")
    weights["net.head.out.bias"][label_id] += bias
    save_file(weights, out / "model.safetensors")
    return out


def probabilities(model_dir: Path, examples: list[Example]) -> np.ndarray:
    bundle = classify.load(model_dir)
    return np.array([[classify.predict(bundle, e.path).probabilities[str(d)] for d in range(10)]
                     for e in examples])


def test_the_ensemble_averages_the_fold_models_probabilities(tmp_path):
    examples = sample_examples()
    speaker = "nicolas"
    held_out = [e for e in examples if e.group == speaker]
    shutil.copytree(SHIPPED, tmp_path / "a" / speaker / "model")
    biased_copy(tmp_path / "b" / speaker / "model", label_id=8, bias=4.0)
    truth = np.array([int(e.label) for e in held_out])
    pa, pb = probabilities(tmp_path / "a" / speaker / "model", held_out), probabilities(tmp_path / "b" / speaker / "model", held_out)

    row = speaker_ensemble(tmp_path, ["a", "b", "missing"], examples, speaker)
    assert row.models == ["a", "b"] and row.n == len(held_out) == 2
    assert row.single == pytest.approx([(pa.argmax(1) == truth).mean(), (pb.argmax(1) == truth).mean()])
    assert row.single[1] < row.single[0]                                  # the bias made the second model worse
    assert row.accuracy == pytest.approx((((pa + pb) / 2).argmax(1) == truth).mean())
    assert speaker_ensemble(tmp_path, ["missing"], examples, speaker) is None


def test_the_command_prints_the_table_and_fails_clearly_without_models(tmp_path, capsys):
    data = tmp_path / "fsdd"
    data.mkdir()
    for e in sample_examples():                                            # FSDD names: {label}_{speaker}_{n}.wav
        shutil.copy(e.path, data / f"{e.label}_{e.group}_0.wav")
    for speaker in ("jackson", "theo"):
        shutil.copytree(SHIPPED, tmp_path / "runs" / "a" / speaker / "model")
    assert main(["a", "--data", str(data), "--runs", str(tmp_path / "runs"), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"jackson"' in out and '"theo"' in out and '"nicolas"' not in out and '"mean_accuracy"' in out
    with pytest.raises(SystemExit):
        main(["nothing", "--data", str(data), "--runs", str(tmp_path / "runs")])
    assert "no fold models of nothing" in capsys.readouterr().err
