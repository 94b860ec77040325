"""How far averaging models gets on held-out speakers: an upper bound for the spoken-digit recipes.

    python -m recipes.digit_ensemble SWEEP [SWEEP ...] --data PATH/TO/fsdd [--runs runs/digit-sweep] [--json]

Each `recipes.digit_sweep` run leaves one model per held-out speaker in `--runs/SWEEP/<speaker>/model`,
trained without that speaker. For every speaker, this averages the probabilities of all those fold
models on the speaker's own recordings and reports the averaged models' accuracy next to their single
accuracies. Averaging N models costs N times the inference, so it is not a recipe to ship (the 500x
real-time goal allows one); it measures whether the errors differ between recipes and seeds, or are
made by every model alike.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recipes.digit_sweep import add_fold_model_arguments, fold_model
from workbench.data import Example, find_examples
from workbench.tasks import classify


@dataclass(frozen=True)
class SpeakerEnsemble:
    speaker: str
    models: list[str]               # the sweeps that have a fold model for this speaker
    n: int                          # recordings of the speaker classified
    single: list[float]             # each model's accuracy, in `models` order
    accuracy: float                 # the averaged probabilities' accuracy


def fold_probabilities(model_dir: Path, examples: list[Example]) -> np.ndarray:
    """(len(examples), num_labels) probabilities of one fold model, columns in sorted label order."""
    bundle = classify.load(model_dir)
    labels = sorted(bundle.labels)
    rows = []
    for example, outcome in zip(examples, classify.predict_files(bundle, [e.path for e in examples])):
        if not outcome.ok:
            raise RuntimeError(f"{example.path}: {outcome.error}")
        rows.append([outcome.value.probabilities[label] for label in labels])
    return np.asarray(rows)


def speaker_ensemble(runs: Path, sweeps: list[str], examples: list[Example], speaker: str) -> SpeakerEnsemble | None:
    """Average every sweep's fold model for `speaker` on that speaker's recordings; None when no sweep has one."""
    held_out = [e for e in examples if e.group == speaker]
    labels = sorted({e.label for e in examples})
    truth = np.array([labels.index(e.label) for e in held_out])
    models, probs = [], []
    for sweep in sweeps:
        if (model_dir := fold_model(runs, sweep, speaker)) is not None:
            models.append(sweep)
            probs.append(fold_probabilities(model_dir, held_out))
    if not models:
        return None
    single = [float((p.argmax(1) == truth).mean()) for p in probs]
    mean = np.mean(probs, axis=0)                              # (n, num_labels): the models' average
    return SpeakerEnsemble(speaker, models, len(held_out), single, float((mean.argmax(1) == truth).mean()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fold_model_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    examples = find_examples(args.data)
    rows = [r for s in args.speakers.split(",") if (r := speaker_ensemble(Path(args.runs), args.sweeps, examples, s))]
    if not rows:
        parser.error(f"no fold models of {', '.join(args.sweeps)} under {args.runs}")
    mean = sum(r.accuracy for r in rows) / len(rows)
    mean_single = sum(np.mean(r.single) for r in rows) / len(rows)
    if args.json:
        print(json.dumps({"speakers": {r.speaker: {"models": r.models, "n": r.n, "single": r.single, "accuracy": r.accuracy}
                                       for r in rows}, "mean_accuracy": mean, "mean_single_accuracy": mean_single}))
        return 0
    print(f"{'speaker':<10} {'models':>6} {'single (mean)':>14} {'averaged':>9}")
    for r in rows:
        print(f"{r.speaker:<10} {len(r.models):>6} {np.mean(r.single):>14.4f} {r.accuracy:>9.4f}")
    print(f"{'mean':<10} {'':>6} {mean_single:>14.4f} {mean:>9.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
