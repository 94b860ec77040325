"""The CUDA path: device choice, features, AMP training and inference give what the CPU gives.

Skipped where there is no CUDA device (CI has none); run them on a GPU machine with
`python -m pytest -m gpu`.
"""

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from workbench import cli, tasks
from workbench.config import device as pick_device
from workbench.data import AudioBatch, find_examples
from workbench.errors import ConfigError
from workbench.features import Spectrogram, SpectrogramConfig
from workbench.media import load_audio
from workbench.tasks import classify
from workbench.tasks.timeline import timeline

from tests.tasks.conftest import tiny_config

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SHIPPED = ASSETS / "models" / "spoken-digits"
CLIPS = sorted((ASSETS / "samples").glob("digit_*.wav"))


def test_the_best_device_is_cuda_and_a_missing_index_is_a_clear_error():
    assert pick_device(None).type == "cuda"
    assert pick_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ConfigError, match="CUDA device"):
        pick_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("normalize", ["peak", "utterance_mean", "none"])
def test_batched_spectrograms_on_cuda_match_the_cpu(normalize):
    cfg = SpectrogramConfig(kind="mel", sample_rate=8_000, n_fft=256, hop_length=80, n_mels=40,
                            scale="db", top_db=80.0, normalize=normalize)
    gen = torch.Generator().manual_seed(0)
    waves = 0.1 * torch.randn(16, 8_000, generator=gen) * torch.logspace(-3, 0, 16)[:, None]   # (B, samples), 60 dB of levels
    lengths = torch.randint(2_000, 8_001, (16,), generator=gen)
    on_cpu = Spectrogram(cfg)(waves, lengths)
    on_gpu = Spectrogram(cfg).cuda()(waves.cuda(), lengths.cuda())
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, atol=2e-3, rtol=1e-4)   # dB: agree to a thousandth of a dB


@pytest.fixture(scope="module")
def cuda_run(tone_data, tmp_path_factory):
    """The tone classifier of tests/tasks/conftest.py, trained on CUDA with mixed precision."""
    cfg = tiny_config()
    assert cfg.train.amp
    examples = find_examples(tone_data / "manifest.csv")
    return classify.train(cfg, examples, tmp_path_factory.mktemp("gpu") / "tones", torch.device("cuda"),
                          test_groups=["dee"])


def test_amp_training_on_cuda_learns_and_logs_finite_gradient_norms(cuda_run):
    losses = [e.train_loss for e in cuda_run.fit.epochs]
    assert losses[-1] < 0.5 * losses[0]
    assert cuda_run.test.accuracy >= 0.9                 # the held-out speaker, as on the CPU
    rows = (cuda_run.run_dir / "steps.csv").read_text().splitlines()
    header, last = rows[0].split(","), rows[-1].split(",")
    norms = [float(v) for k, v in zip(header, last) if k.startswith("grad_norm") and v]
    assert norms and all(n == n and n != float("inf") for n in norms)


def test_a_bundle_trained_on_cuda_loads_on_the_cpu_and_agrees(cuda_run, tone_data):
    examples = find_examples(tone_data / "manifest.csv")
    on_cpu = classify.evaluate(tasks.load(cuda_run.bundle_dir, "cpu"), examples)
    on_gpu = classify.evaluate(tasks.load(cuda_run.bundle_dir, "cuda"), examples)
    assert on_cpu.confusion == on_gpu.confusion


def test_shipped_model_on_cuda_gives_the_cpu_probabilities():
    waves = [load_audio(p, sample_rate=8_000).waveform[0] for p in CLIPS]
    on_cpu = classify.classify_waveforms(tasks.load(SHIPPED, "cpu"), waves)
    on_gpu = classify.classify_waveforms(tasks.load(SHIPPED, "cuda"), waves)
    torch.testing.assert_close(on_gpu, on_cpu, atol=1e-3, rtol=0)
    assert on_gpu.argmax(-1).tolist() == [int(p.name.split("_")[1]) for p in CLIPS]


def test_shipped_model_novelty_on_cuda_gives_the_cpu_scores():
    """The novelty stats travel with the bundle to the device (a model moved alone would meet them on the CPU)."""
    waves = [load_audio(p, sample_rate=8_000).waveform[0] for p in CLIPS]
    probs_cpu, novelty_cpu = classify.probabilities_and_novelty(tasks.load(SHIPPED, "cpu"), waves)
    probs_gpu, novelty_gpu = classify.probabilities_and_novelty(tasks.load(SHIPPED, "cuda"), waves)
    assert novelty_cpu is not None and novelty_gpu is not None
    torch.testing.assert_close(probs_gpu, probs_cpu, atol=1e-3, rtol=0)
    torch.testing.assert_close(novelty_gpu, novelty_cpu, atol=1e-2, rtol=1e-3)


def test_timeline_on_cuda_gives_the_cpu_segments():
    path = ASSETS / "samples" / "digits_sequence.wav"
    on_cpu = timeline(tasks.load(SHIPPED, "cpu"), path)
    on_gpu = timeline(tasks.load(SHIPPED, "cuda"), path)
    assert [(s.label, s.start_s, s.end_s) for s in on_gpu] == [(s.label, s.start_s, s.end_s) for s in on_cpu]
    assert [s.confidence for s in on_gpu] == pytest.approx([s.confidence for s in on_cpu], abs=1e-3)
    assert [s.novelty for s in on_gpu] == pytest.approx([s.novelty for s in on_cpu], abs=1e-2)


def test_cli_classify_on_cuda(capsys):
    assert cli.main(["--device", "cuda", "classify", "--model", str(SHIPPED), "--json", *map(str, CLIPS)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line["label"] for line in lines] == [p.name.split("_")[1] for p in CLIPS]


def test_the_spliced_loss_on_cuda_is_the_cpus():
    """Clips joined into connected speech (augment.splice_prob) give the same loss on the GPU: the joins,
    the step targets and the two cross-entropies follow the batch to its device."""
    base = tiny_config()
    augment = dataclasses.replace(base.augment, splice_prob=0.5, speed_prob=0.0, time_masks=0, freq_masks=0)
    cfg = dataclasses.replace(base, model=dataclasses.replace(base.model, head="frames"), augment=augment)
    model = classify.build_model(cfg, ["a", "b", "c"]).eval()
    gen = torch.Generator().manual_seed(1)
    lengths = torch.randint(2_000, 6_000, (12,), generator=gen)
    waves = 0.1 * torch.randn(12, 6_000, generator=gen) * (torch.arange(6_000)[None] < lengths[:, None])
    batch = AudioBatch(waves, lengths, torch.randint(0, 3, (12,), generator=gen))
    on_cpu = classify.loss(model, batch, augment, torch.Generator().manual_seed(3))
    on_gpu = classify.loss(model.cuda(), batch.to(torch.device("cuda")), augment, torch.Generator().manual_seed(3))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, atol=1e-4, rtol=1e-4)
