"""Compare spoken-digit recipe variants on held-out speakers (the experiments behind the shipped recipe).

    python -m recipes.digit_sweep NAME --data PATH/TO/fsdd [--synthetic DIR] [--speakers a,b,c]
        [--epochs 20] [--jobs 2] [--device cpu] [--set key=value ...]

Trains `recipes.spoken_digits.recipe_config(--epochs)` with the `--set` overrides (the same
`a.b=value` syntax as `workbench train classifier --set`) once per held-out speaker, `--jobs` folds
at a time on one CPU thread each (their models on `--device`: on CUDA the folds share the GPU and
train with mixed precision, so compare variants only with a baseline run on the same device), and
tests each on every recording of its speaker. With weight
averaging on (`train.average_epochs`), it also tests the same run's best-validation epoch, a paired
comparison free of run-to-run noise. One JSON line per sweep is appended to `--runs`/results.jsonl.
`--synthetic` is a folder made by `python -m recipes.synthetic_digits` (its manifest is used).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from recipes.spoken_digits import loso_fold, recipe_config
from workbench.bundle import read_weights
from workbench.config import apply_overrides
from workbench.data import find_examples, labels_of
from workbench.tasks import classify


def add_fold_model_arguments(parser: argparse.ArgumentParser) -> None:
    """What a script reading sweeps' fold models takes: SWEEP names, --data, --runs and --speakers."""
    parser.add_argument("sweeps", nargs="+", help="recipes.digit_sweep run names under --runs")
    parser.add_argument("--data", required=True, help="FSDD folder (holding recordings/) or the recordings folder")
    parser.add_argument("--runs", default="runs/digit-sweep")
    parser.add_argument("--speakers", default="jackson,lucas,nicolas,theo,yweweler")


def fold_model(runs: Path, sweep: str, speaker: str) -> Path | None:
    """A sweep's bundle for `speaker` held out (trained without them), or None when the sweep skipped that fold."""
    model_dir = Path(runs) / sweep / speaker / "model"
    return model_dir if (model_dir / "model.safetensors").is_file() else None


def fold(cfg: classify.ClassifyConfig, examples, run_dir: Path, speaker: str, device: str = "cpu") -> dict:
    """`recipes.spoken_digits`'s fold (in a worker process), plus the best epoch's accuracy when averaging."""
    row = loso_fold(cfg, examples, run_dir, device, speaker, threads=1)
    if cfg.train.average_epochs:
        labels = labels_of(examples)
        model = classify.build_model(cfg, labels)
        read_weights(model, run_dir / "best.safetensors")
        bundle = classify.LoadedBundle("classify", run_dir, cfg, labels, model.eval(), torch.device("cpu"), {})
        row["best_epoch_accuracy"] = classify.evaluate(bundle, [e for e in examples if e.group == speaker]).accuracy
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="the sweep's name: its runs go to --runs/NAME/<speaker>")
    parser.add_argument("--data", required=True, help="FSDD folder (holding recordings/) or the recordings folder")
    parser.add_argument("--synthetic", default=None, help="a recipes.synthetic_digits output folder to train on too")
    parser.add_argument("--speakers", default="jackson,lucas,nicolas,yweweler")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="where the folds' models train: cpu or cuda")
    parser.add_argument("--runs", default="runs/digit-sweep")
    parser.add_argument("--set", nargs="*", default=[], help="config overrides, e.g. features.normalize=utterance")
    args = parser.parse_args(argv)
    cfg = apply_overrides(recipe_config(args.epochs), args.set)
    examples = find_examples(args.data)
    if args.synthetic:
        examples += find_examples(Path(args.synthetic) / "manifest.csv")
    runs = Path(args.runs)
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {s: pool.submit(fold, cfg, examples, runs / args.name / s, s, args.device) for s in args.speakers.split(",")}
        table = {}
        for speaker, future in futures.items():
            table[speaker] = future.result()
            print(speaker, table[speaker], flush=True)
    line = {"name": args.name, "set": args.set, "epochs": args.epochs, "synthetic": args.synthetic, "device": args.device,
            "mean": round(sum(r["accuracy"] for r in table.values()) / len(table), 4), **table,
            "minutes": round((time.perf_counter() - start) / 60, 1)}
    if all("best_epoch_accuracy" in r for r in table.values()):
        line["mean_best_epoch"] = round(sum(r["best_epoch_accuracy"] for r in table.values()) / len(table), 4)
    print(json.dumps(line), flush=True)
    runs.mkdir(parents=True, exist_ok=True)
    with (runs / "results.jsonl").open("a") as f:
        f.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
