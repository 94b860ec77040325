"""Model inference section: the classifier's real-time factor (audio seconds per compute second).

Uses the shipped spoken-digits bundle when it exists, else a freshly built classifier with the
default ClassifyConfig (same architecture, random weights: the speed is the same). One-second clips
at the bundle's sample rate, feature front end included, batch 1 and batch 32, one thread,
inference mode. The captioner and foley tasks do not exist yet.
"""

from __future__ import annotations

from pathlib import Path

import torch

from benchmarks.report import Results, Row
from benchmarks.timing import Budget, Failed, race, threads
from workbench import tasks
from workbench.tasks.classify import ClassifyConfig, build_model

BUNDLE = Path(__file__).resolve().parents[1] / "assets" / "models" / "spoken-digits"
CALLS_PER_RUN = {1: 20, 32: 2}


def classifier() -> tuple[torch.nn.Module, int, str]:
    """(model in eval mode, its sample rate, where it came from)."""
    if (BUNDLE / "config.json").exists():
        bundle = tasks.load(BUNDLE)
        return bundle.model, bundle.cfg.features.sample_rate, f"bundle {BUNDLE.name}"
    cfg = ClassifyConfig()
    model = build_model(cfg, labels=list("0123456789")).eval()
    return model, cfg.features.sample_rate, "no bundle: fresh build_model(ClassifyConfig()), random weights"


def bench_models(results: Results, budget: Budget) -> None:
    """classifier_x_realtime (batch 1) and classifier_x_realtime_batch32, one thread."""
    model, rate, source = classifier()
    generator = torch.Generator().manual_seed(0)
    with threads(1):
        for batch_size in (1, 32):
            waveforms = 0.1 * torch.randn(batch_size, rate, generator=generator)   # (B, samples): 1 s clips
            lengths = torch.full((batch_size,), rate, dtype=torch.long)

            def run() -> torch.Tensor:
                with torch.inference_mode():
                    return model(waveforms, lengths)
            outcome = race({"ours": run}, budget, number=CALLS_PER_RUN[batch_size])["ours"]
            key = "classifier_x_realtime" + ("" if batch_size == 1 else f"_batch{batch_size}")
            if isinstance(outcome, Failed):
                results.missing(key, f"Classifier, batch {batch_size}", outcome.reason)
                continue
            value = batch_size / outcome.median_s     # seconds of audio per second of compute
            results.figures[key] = value
            results.rows.append(Row(f"Classifier real-time factor, batch {batch_size} x 1 s @ {rate} Hz",
                                    f"{value:,.0f}x RT", "—", "—",
                                    f"1 thread, features included; {source}"))
    results.missing("captioner_clips_per_s", "Captioner clips/s", "the caption task does not exist yet")
    results.missing("foley_x_realtime", "Foley real-time factor", "the foley task does not exist yet")
