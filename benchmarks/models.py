"""Model section: the classifier's real-time factor (audio seconds per compute second) and training speed.

Uses the shipped spoken-digits bundle when it exists, else a freshly built classifier with the
default ClassifyConfig (same architecture, random weights: the speed is the same). One-second clips
at the bundle's sample rate through `classify.probabilities_and_novelty` (trim when the bundle has one, padding,
features, model, softmax, the novelty score when the bundle has its stats; on the CPU the loaded bundle's
TorchScript trace), batch 1 and batch 32, one thread,
inference mode; on CUDA too when there is a device. Training: steps per second of
`workbench.train.train_step` (the task's loss with features, SpecAugment and frequency warp, backward,
per-layer gradient norms, clipping, AdamW) on batches of 32 such clips, on one CPU thread (how the
recipe trains its folds) and on CUDA in float32 and with mixed precision (float16 autocast and a
gradient scaler).
The timeline: `workbench classify --timeline` over the long sample in assets/samples, one thread (CUDA too).
The captioner and foley tasks do not exist yet.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from benchmarks.report import Results, Row
from benchmarks.timing import Budget, Failed, Timing, race, threads
from workbench import tasks
from workbench.data import AudioBatch
from workbench.media import probe
from workbench.tasks import classify
from workbench.tasks.classify import ClassifyConfig, build_model
from workbench.tasks.timeline import timeline
from workbench.train import train_step

BUNDLE = Path(__file__).resolve().parents[1] / "assets" / "models" / "spoken-digits"
LONG_SAMPLE = BUNDLE.parents[1] / "samples" / "digits_sequence.wav"     # ten words with pauses and noise, 11 s
CALLS_PER_RUN = {1: 20, 32: 2}


TRAIN_BATCH, TRAIN_STEPS_PER_RUN = 32, 5


def classifier(device: str = "cpu") -> tuple[classify.LoadedBundle, str]:
    """(the bundle to time, loaded on `device` as `workbench classify --device` loads it, where it came from)."""
    if (BUNDLE / "config.json").exists():
        return tasks.load(BUNDLE, device), f"bundle {BUNDLE.name}"
    cfg, labels = ClassifyConfig(), list("0123456789")
    model = build_model(cfg, labels).eval().to(device)
    bundle = classify.LoadedBundle("classify", BUNDLE, cfg, labels, model, torch.device(device), {})
    return bundle, "no bundle: fresh build_model(ClassifyConfig()), random weights"


def _inference(bundle: classify.LoadedBundle, batch_size: int):
    """One call classifies `batch_size` 1 s clips with `classify.probabilities_and_novelty`, as `workbench
    classify` does: each clip trimmed first when the bundle says so, the padded batch, the model,
    the softmax and novelty, back on the CPU."""
    rate = bundle.cfg.features.sample_rate
    clips = list(0.1 * torch.randn(batch_size, rate, generator=torch.Generator().manual_seed(0)))   # 1 s each
    return lambda: classify.probabilities_and_novelty(bundle, clips)


def _training_step(device: str, amp: bool):
    """One call = TRAIN_STEPS_PER_RUN steps of `workbench.train.train_step` on a fresh model with the bundle's (or default) config."""
    cfg = tasks.load(BUNDLE).cfg if (BUNDLE / "config.json").exists() else ClassifyConfig()
    train_cfg = dataclasses.replace(cfg.train, amp=amp)
    torch.manual_seed(0)
    model = build_model(cfg, labels=list("0123456789")).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    rate = cfg.features.sample_rate
    generator = torch.Generator().manual_seed(0)
    batch = AudioBatch(0.1 * torch.randn(TRAIN_BATCH, rate, generator=generator),
                       torch.full((TRAIN_BATCH,), rate, dtype=torch.long),
                       torch.randint(0, 10, (TRAIN_BATCH,), generator=generator))
    spec_gen = torch.Generator().manual_seed(0)
    loss_fn = lambda m, b: classify.loss(m, b, cfg.augment, spec_gen)   # noqa: E731

    def run() -> None:
        for _ in range(TRAIN_STEPS_PER_RUN):
            train_step(model, batch, loss_fn, opt, scaler, train_cfg, torch.device(device))
        if device == "cuda":
            torch.cuda.synchronize()
    return run


def bench_training(results: Results, budget: Budget) -> None:
    """classifier_train_steps_per_s_{cpu,cuda,cuda_amp}: optimiser steps per second, batch 32 x 1 s."""
    contenders = {"cpu": lambda: _training_step("cpu", amp=False)}
    if torch.cuda.is_available():
        contenders |= {"cuda": lambda: _training_step("cuda", amp=False), "cuda_amp": lambda: _training_step("cuda", amp=True)}
    with threads(1):
        outcomes = race({name: make() for name, make in contenders.items()}, budget)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    notes = {"cpu": "1 CPU thread", "cuda": f"{gpu}, float32", "cuda_amp": f"{gpu}, float16 autocast + GradScaler"}
    cpu = outcomes["cpu"]
    for name, outcome in outcomes.items():
        key = f"classifier_train_steps_per_s_{name}"
        if isinstance(outcome, Failed):
            results.missing(key, f"Classifier training steps/s ({name})", outcome.reason)
            continue
        value = TRAIN_STEPS_PER_RUN / outcome.median_s
        results.figures[key] = value
        ratio = f"{cpu.median_s / outcome.median_s:.2f}x" if isinstance(cpu, Timing) and name != "cpu" else "—"
        results.rows.append(Row(f"Classifier training, batch {TRAIN_BATCH} x 1 s: steps/s ({name})",
                                f"{value:,.1f} steps/s", "1 CPU thread" if name != "cpu" else "—", ratio,
                                f"{notes[name]}; workbench.train.train_step: loss, SpecAugment, backward, per-layer gradient norms, clipping, AdamW"))


def bench_timeline(results: Results, budget: Budget, devices: tuple[str, ...]) -> None:
    """timeline_x_realtime[_cuda]: seconds of the long sample per second of `workbench classify --timeline`
    (decoding, the search for steady lines and their notches, the energy gate, the windows through the network with
    their novelty, voice and tone checks, the merge)."""
    if not LONG_SAMPLE.exists():
        results.missing("timeline_x_realtime", "Timeline real-time factor", f"{LONG_SAMPLE} is missing")
        return
    duration_s = probe(LONG_SAMPLE).duration_s
    with threads(1):
        for device in devices:
            on_device, source = classifier(device)
            key = "timeline_x_realtime" + ("" if device == "cpu" else "_cuda")
            outcome = race({"ours": lambda: timeline(on_device, LONG_SAMPLE)}, budget)["ours"]
            if isinstance(outcome, Failed):
                results.missing(key, f"Timeline, {device}", outcome.reason)
                continue
            results.figures[key] = duration_s / outcome.median_s
            where = "1 thread" if device == "cpu" else torch.cuda.get_device_name(0)
            results.rows.append(Row(f"Timeline real-time factor, {LONG_SAMPLE.name} ({duration_s:.0f} s), {device}",
                                    f"{results.figures[key]:,.0f}x RT", "—", "—",
                                    f"{where}; decoding, line notch, gate, windows, novelty, voice and tone checks, "
                                    f"merge; {source}"))


def bench_models(results: Results, budget: Budget) -> None:
    """classifier_x_realtime[_batch32][_cuda] (one CPU thread; CUDA when present), then the training steps."""
    devices = ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)
    with threads(1):
        for device in devices:
            on_device, source = classifier(device)    # the whole bundle on the device: model and novelty stats
            rate = on_device.cfg.features.sample_rate
            for batch_size in (1, 32):
                outcome = race({"ours": _inference(on_device, batch_size)}, budget,
                               number=CALLS_PER_RUN[batch_size])["ours"]
                key = "classifier_x_realtime" + ("" if batch_size == 1 else f"_batch{batch_size}") + \
                      ("" if device == "cpu" else "_cuda")
                if isinstance(outcome, Failed):
                    results.missing(key, f"Classifier, batch {batch_size}, {device}", outcome.reason)
                    continue
                value = batch_size / outcome.median_s     # seconds of audio per second of compute
                results.figures[key] = value
                where = "1 thread" if device == "cpu" else torch.cuda.get_device_name(0)
                results.rows.append(Row(f"Classifier real-time factor, batch {batch_size} x 1 s @ {rate} Hz, {device}",
                                        f"{value:,.0f}x RT", "—", "—", f"{where}, features included; {source}"))
    bench_timeline(results, budget, devices)
    bench_training(results, budget)
    results.missing("captioner_clips_per_s", "Captioner clips/s", "the caption task does not exist yet")
    results.missing("foley_x_realtime", "Foley real-time factor", "the foley task does not exist yet")
