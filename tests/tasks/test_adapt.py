"""Adapting a classifier to a new speaker: the head refit on a few of their clips, every other weight kept."""

import json
from pathlib import Path

import pytest
import soundfile
import torch
from safetensors.torch import load_file

from workbench import cli, tasks
from workbench.data import find_examples
from workbench.errors import ConfigError
from workbench.media import load_audio
from workbench.tasks import adapt, classify

from tests.tasks.conftest import SAMPLE_RATE, tone

# A new "speaker" whose every class sits between that class's training pitch (300, 800, 2000 Hz) and the
# next one up: the model trained on the other speakers hears most of them as another class.
EVE_HZ = {"low": 560.0, "mid": 1500.0, "high": 3400.0}


@pytest.fixture(scope="module")
def eve(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eve")
    rows = ["path,label,group"]
    for label, freq in EVE_HZ.items():
        for n in range(10):
            name = f"{label}_eve_{n}.wav"
            soundfile.write(root / name, tone(freq * (1 + 0.01 * n), 0.3 + 0.02 * n, seed=500 + n), SAMPLE_RATE)
            rows.append(f"{name},{label},eve")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def _split(eve: Path):
    """Three clips of every label to adapt on (across the speaker's range of pitch), seven to test on."""
    examples = find_examples(eve / "manifest.csv")
    enrol = [e for e in examples if int(Path(e.path).stem.rsplit("_", 1)[1]) in (0, 4, 9)]
    return enrol, [e for e in examples if e not in enrol]


@pytest.mark.parametrize("run", ["tone_run", "frames_run"])       # attention pooling, and a label per step
def test_adapting_on_a_few_clips_of_a_new_speaker_gets_their_other_clips_right(run, eve, tmp_path, request):
    bundle = tasks.load(request.getfixturevalue(run).bundle_dir)
    enrol, rest = _split(eve)
    before = classify.evaluate(bundle, rest).accuracy
    result = adapt.adapt(bundle, enrol, tmp_path / "eve-model")
    assert result.per_label == {"high": 3, "low": 3, "mid": 3} and result.num_clips == 9 and not result.failures
    assert result.accuracy_after == 1.0 and result.accuracy_before < 1.0
    assert result.accuracy_estimate >= 0.75          # leave-one-out over the 9 clips: what the other clips get
    adapted = tasks.load(result.bundle_dir)
    after = classify.evaluate(adapted, rest).accuracy
    assert before <= 0.7, f"the new speaker should be hard before adapting ({before})"
    assert after >= 0.95 > before


def test_the_adapted_bundle_is_the_source_but_for_its_head(tone_run, eve, tmp_path):
    bundle = tasks.load(tone_run.bundle_dir)
    enrol, _ = _split(eve)
    out = adapt.adapt(bundle, enrol, tmp_path / "eve-model").bundle_dir
    source, adapted = Path(bundle.path), Path(out)
    old, new = load_file(str(source / "model.safetensors")), load_file(str(adapted / "model.safetensors"))
    assert old.keys() == new.keys()
    changed = {name for name in old if not torch.equal(old[name], new[name])}
    assert changed == {"net.head.out.weight", "net.head.out.bias"}
    assert (source / "novelty.safetensors").read_bytes() == (adapted / "novelty.safetensors").read_bytes()
    old_cfg, new_cfg = (json.loads((d / "config.json").read_text()) for d in (source, adapted))
    assert {k: v for k, v in old_cfg.items() if k != "versions"} == {k: v for k, v in new_cfg.items() if k != "versions"}
    metrics = json.loads((adapted / "metrics.json").read_text())
    assert metrics["adapted"]["clips"] == 9 and metrics["adapted"]["from"] == str(source)
    assert "## Adapted" in (adapted / "README.md").read_text()
    # what the recipe measures with (fit_head on the pooled vectors) is what the bundle holds
    items = [load_audio(e.path, sample_rate=bundle.cfg.features.sample_rate, mono=True).waveform[0] for e in enrol]
    index = {label: i for i, label in enumerate(bundle.labels)}
    with torch.inference_mode():
        pooled = adapt.pooled_vectors(bundle, items)
    weight, bias = adapt.fit_head(bundle.model.net.head.out.weight, bundle.model.net.head.out.bias, pooled,
                                  torch.tensor([index[e.label] for e in enrol]))
    torch.testing.assert_close(new["net.head.out.weight"], weight, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(new["net.head.out.bias"], bias, atol=1e-5, rtol=1e-4)


def test_fit_head_is_pulled_to_its_weights_by_the_decay_and_checks_shapes():
    gen = torch.Generator().manual_seed(0)
    weight, bias = torch.zeros(2, 4), torch.zeros(2)
    pooled = torch.randn(20, 4, generator=gen)
    labels = (pooled[:, 0] > 0).long()                                    # separable on the first dimension
    free_w, free_b = adapt.fit_head(weight, bias, pooled, labels, adapt.AdaptConfig(weight_decay=0.0))
    assert bool(((pooled @ free_w.T + free_b).argmax(1) == labels).all())
    held_w, _ = adapt.fit_head(weight, bias, pooled, labels, adapt.AdaptConfig(weight_decay=1e4))
    assert held_w.abs().max() < 1e-3 < free_w.abs().max()
    assert torch.equal(weight, torch.zeros(2, 4))                         # the inputs are left as they are
    with pytest.raises(ConfigError, match=r"\(N, 4\)"):
        adapt.fit_head(weight, bias, torch.randn(5, 3), labels[:5])
    with pytest.raises(ConfigError, match="weight_decay"):
        adapt.AdaptConfig(weight_decay=-1.0)
    # cross-validation: separable clips are right when left out, and a refit that can only learn clips by heart
    # (random labels) is right on left-out clips about as often as chance
    assert adapt.cross_validate(weight, bias, pooled, labels, adapt.AdaptConfig(weight_decay=0.0)) >= 0.9
    noise = torch.randint(0, 2, (20,), generator=gen)
    assert adapt.cross_validate(weight, bias, pooled, noise, adapt.AdaptConfig(weight_decay=0.0)) <= 0.75
    with pytest.raises(ConfigError, match="at least 2 clips"):
        adapt.cross_validate(weight, bias, pooled[:1], labels[:1])


def test_an_unknown_label_or_no_readable_clip_is_an_error_and_a_bad_clip_is_left_out(tone_run, eve, tmp_path):
    bundle = tasks.load(tone_run.bundle_dir)
    enrol, _ = _split(eve)
    odd = tmp_path / "whistle_eve_0.wav"
    soundfile.write(odd, tone(5000.0, 0.3), SAMPLE_RATE)
    stranger = type(enrol[0])(str(odd), "whistle", "eve")
    with pytest.raises(ConfigError, match="whistle_eve_0.wav: label 'whistle' is not one of the model's"):
        adapt.adapt(bundle, enrol + [stranger], tmp_path / "out")
    broken = tmp_path / "low_eve_99.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really")
    bad = type(enrol[0])(str(broken), "low", "eve")
    with pytest.raises(ConfigError, match="none of the 1 clips"):
        adapt.adapt(bundle, [bad], tmp_path / "out")
    with pytest.raises(ConfigError, match="no clips"):
        adapt.adapt(bundle, [], tmp_path / "out")
    result = adapt.adapt(bundle, enrol + [bad], tmp_path / "out")
    assert result.num_clips == 9 and [Path(f.path).name for f in result.failures] == ["low_eve_99.wav"]
    assert "low_eve_99.wav" in result.failures[0].error


def test_workbench_adapt_writes_a_bundle_that_classify_uses(tone_run, eve, tmp_path, capsys):
    out = tmp_path / "eve-model"
    assert cli.main(["adapt", "--model", str(tone_run.bundle_dir), "--data", str(eve / "manifest.csv"),
                     "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["clips"] == 30 and summary["per_label"] == {"high": 10, "low": 10, "mid": 10}
    assert cli.main(["classify", "--model", str(out), str(eve / "mid_eve_5.wav"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] == "mid"
    (eve / "notes.csv").write_text("path,label\nlow_eve_0.wav,whistle\n")
    assert cli.main(["adapt", "--model", str(tone_run.bundle_dir), "--data", str(eve / "notes.csv"),
                     "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "low_eve_0.wav: label 'whistle'" in err[0]
