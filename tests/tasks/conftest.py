"""A tiny labelled data set made here (tones whose pitch names the class, one 'speaker' per group),
and a classifier bundle trained on it once per session."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import soundfile
import torch

from workbench.data import AugmentConfig, find_examples
from workbench.tasks import classify

TONES_HZ = {"low": 300.0, "mid": 800.0, "high": 2000.0}
SAMPLE_RATE = 16_000


def tone(freq_hz: float, seconds: float, sample_rate: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """A tone with two harmonics, a short fade in/out and a little noise: (samples,) float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = sum(0.3 / k * np.sin(2 * math.pi * k * freq_hz * t) for k in (1, 2, 3))
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)
    return (wave * fade + 0.005 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="session")
def tone_data(tmp_path_factory):
    """root/<label>_<group>_<n>.wav is not FSDD-shaped, so write a CSV manifest with groups."""
    root = tmp_path_factory.mktemp("tones")
    rows = ["path,label,group"]
    for g, group in enumerate(["ann", "bob", "cyd", "dee"]):
        for label, freq in TONES_HZ.items():
            for n in range(8):
                name = f"{label}_{group}_{n}.wav"
                pitch = freq * (1 + 0.04 * (g - 1.5)) * (1 + 0.01 * n)
                soundfile.write(root / name, tone(pitch, 0.3 + 0.05 * n, seed=g * 100 + n), SAMPLE_RATE)
                rows.append(f"{name},{label},{group}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def tiny_config(epochs: int = 10) -> classify.ClassifyConfig:
    base = classify.ClassifyConfig()
    return dataclasses.replace(
        base,
        # per-bin mean removal (the default, right for speech) would erase a steady tone: keep levels
        features=dataclasses.replace(base.features, normalize="none"),
        augment=AugmentConfig(),          # the milder class defaults: 48 training tones are few
        train=dataclasses.replace(base.train, epochs=epochs, batch_size=16, lr=5e-3, patience=0),
        split=classify.SplitConfig(test_fraction=0.25, val_fraction=0.25, val_by="group", seed=0),
    )


@pytest.fixture(scope="session")
def tone_run(tone_data, tmp_path_factory):
    """A classifier trained on the tones with speaker 'dee' held out; returns the TrainReport."""
    torch.set_num_threads(1)
    examples = find_examples(tone_data / "manifest.csv")
    run_dir = tmp_path_factory.mktemp("runs") / "tones"
    return classify.train(tiny_config(), examples, run_dir, torch.device("cpu"), test_groups=["dee"])


@pytest.fixture(scope="session")
def frames_run(tone_data, tmp_path_factory):
    """The same, with the many-to-many "frames" head (a label per step), learning from the clip labels."""
    torch.set_num_threads(1)
    cfg = tiny_config()
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, head="frames"))
    examples = find_examples(tone_data / "manifest.csv")
    run_dir = tmp_path_factory.mktemp("runs") / "tones-frames"
    return classify.train(cfg, examples, run_dir, torch.device("cpu"), test_groups=["dee"])
