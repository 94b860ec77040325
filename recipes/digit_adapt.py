"""How much adapting to a new speaker helps (`workbench adapt`): fold models on the speaker they never heard.

    python -m recipes.digit_adapt SWEEP [SWEEP ...] --data PATH/TO/fsdd [--per-digit 1,2,3,5] [--draws 5] [--json]

For each held-out speaker and each `recipes.digit_sweep` run's fold model for them (trained without them), `--draws`
times per count in `--per-digit`: that many of the speaker's recordings of every digit are drawn (seeded), the model's
head is refit on them as `workbench adapt` does (`tasks.adapt.fit_head`), and the model is tested on the speaker's
other recordings, before and after. The same draws for every model. `--room RT60` and `--snr DB` first put every
recording of the speaker in a simulated room and pink noise (`recipes.spoken_digits.record_in`, as the model card's
recording table does): adapting to a speaker in a room, both the clips adapted on and those tested.

With `--write NAME --rest DIR` it instead adapts each fold model of the one SWEEP on one draw of `--per-digit` clips of
every digit (`workbench adapt`'s `tasks.adapt.adapt`), writes the adapted bundles as a sweep NAME under `--runs`,
prints what adapting cost on the other speakers (those the fold model was trained on), and links every recording not
adapted on into DIR/recordings, so that other recipes can compare the two sweeps on them:

    python -m recipes.digit_adapt splice50_s0 --data PATH/TO/fsdd --per-digit 3 --write adapt3_s0 --rest /tmp/rest
    python -m recipes.connected_digits splice50_s0 adapt3_s0 --data /tmp/rest
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from recipes.digit_sweep import add_fold_model_arguments, fold_model
from recipes.spoken_digits import record_in, room_responses
from workbench.data import Example, decode_examples, find_examples
from workbench.tasks import classify
from workbench.tasks.adapt import AdaptConfig, adapt, cross_validate, fit_head, heard_right, pooled_vectors


def adapted_accuracy(bundle: classify.LoadedBundle, pooled: torch.Tensor, label_ids: torch.Tensor, per_digit: int,
                     draws: int, cfg: AdaptConfig, seed: int = 0) -> tuple[float, float, float]:
    """Mean accuracy over `draws` draws of `per_digit` adaptation clips of every label, on the clips not drawn:
    (before, after) adapting, and what `workbench adapt` would have estimated for "after" from the drawn clips alone
    (`tasks.adapt.cross_validate`). `pooled` (N, D) the clips' pooled vectors, `label_ids` (N,)."""
    head = bundle.model.net.head.out
    rng = np.random.default_rng(seed)
    before, after, estimate = [], [], []
    for _ in range(draws):
        chosen = draw(label_ids.numpy(), per_digit, rng)
        rest = torch.from_numpy(np.setdiff1d(np.arange(len(label_ids)), chosen))
        chosen = torch.from_numpy(chosen)
        weight, bias = fit_head(head.weight, head.bias, pooled[chosen], label_ids[chosen], cfg)
        before.append(float(heard_right(head.weight, head.bias, pooled[rest], label_ids[rest]).float().mean()))
        after.append(float(heard_right(weight, bias, pooled[rest], label_ids[rest]).float().mean()))
        estimate.append(cross_validate(head.weight, head.bias, pooled[chosen], label_ids[chosen], cfg))
    return float(np.mean(before)), float(np.mean(after)), float(np.mean(estimate))


def draw(labels: np.ndarray, per_digit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `per_digit` clips of every label in `labels` (N,), drawn without replacement, label by label."""
    return np.concatenate([rng.choice(np.flatnonzero(labels == label), per_digit, replace=False)
                           for label in np.unique(labels)])


def write_adapted(args: argparse.Namespace, examples: list[Example], cfg: AdaptConfig) -> int:
    """`--write`: the sweep's fold models adapted on one draw each, and the recordings not drawn linked into --rest."""
    rng = np.random.default_rng(0)
    drawn = set()
    for speaker in args.speakers.split(","):
        model_dir = fold_model(args.runs, args.sweeps[0], speaker)
        if model_dir is None:
            continue
        mine = [e for e in examples if e.group == speaker]
        chosen = [mine[i] for i in draw(np.array([e.label for e in mine]), int(args.per_digit.split(",")[0]), rng)]
        drawn |= {e.path for e in chosen}
        bundle = classify.load(model_dir)
        result = adapt(bundle, chosen, Path(args.runs) / args.write / speaker / "model", cfg)
        others = [e for e in examples if e.group != speaker]     # the speakers the fold model was trained on
        before = classify.evaluate(bundle, others).accuracy
        after = classify.evaluate(classify.load(result.bundle_dir), others).accuracy
        print(f"{speaker:9s} adapted on {result.num_clips} clips -> {result.bundle_dir}; on the other speakers' "
              f"{len(others)} recordings {before:.4f} -> {after:.4f}", flush=True)
    rest = Path(args.rest) / "recordings"
    rest.mkdir(parents=True, exist_ok=True)
    for example in examples:
        link = rest / Path(example.path).name
        if example.path not in drawn and not link.exists():
            os.symlink(os.path.abspath(example.path), link)
    print(f"{len(examples) - len(drawn)} recordings not adapted on -> {rest}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fold_model_arguments(parser)
    parser.add_argument("--per-digit", default="1,2,3,5", help="adaptation clips of every digit, comma-separated counts")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--weight-decay", type=float, default=AdaptConfig.weight_decay)
    parser.add_argument("--room", type=float, default=None, metavar="RT60",
                        help="put the recordings in a simulated room of this reverberation time (s) first")
    parser.add_argument("--snr", type=float, default=None, metavar="DB", help="and in pink noise at this SNR")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--write", metavar="NAME", help="write the adapted fold models as sweep NAME (see above)")
    parser.add_argument("--rest", metavar="DIR", help="with --write: where the recordings not adapted on are linked")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.per_digit.split(",")]
    cfg = AdaptConfig(weight_decay=args.weight_decay)
    examples = find_examples(args.data)
    if args.write:
        if len(args.sweeps) != 1 or not args.rest:
            parser.error("--write takes one SWEEP and --rest DIR")
        return write_adapted(args, examples, cfg)
    table: dict = {}
    for speaker in args.speakers.split(","):
        held_out = [e for e in examples if e.group == speaker]
        if len(held_out) < 2 * max(counts) * 10:
            parser.error(f"{args.data}: {len(held_out)} recordings of {speaker}; --per-digit {max(counts)} needs more")
        for sweep in args.sweeps:
            model_dir = fold_model(args.runs, sweep, speaker)
            if model_dir is None:
                continue
            bundle = classify.load(model_dir)
            items, _ = decode_examples(held_out, bundle.cfg.features.sample_rate, bundle.cfg.max_duration_s)
            index = {label: i for i, label in enumerate(bundle.labels)}
            label_ids = torch.tensor([index[e.label] for e, _ in items])
            waveforms = [w for _, w in items]
            if args.room is not None or args.snr is not None:
                rate = bundle.cfg.features.sample_rate
                bank = room_responses(args.room, rate) if args.room is not None else None
                waveforms = [record_in(w, rate, 0.0, args.snr, i, bank[i % len(bank)] if bank else None)
                             for i, w in enumerate(waveforms)]
            with torch.inference_mode():
                pooled = pooled_vectors(bundle, waveforms)
            for n in counts:
                before, after, estimate = adapted_accuracy(bundle, pooled, label_ids, n, args.draws, cfg)
                table.setdefault(sweep, {}).setdefault(str(n), {})[speaker] = {
                    "before": round(before, 4), "after": round(after, 4), "estimate": round(estimate, 4)}
                if not args.json:
                    print(f"{speaker:9s} {sweep:16s} {n} per digit: {before:.3f} -> {after:.3f} (estimated from the "
                          f"drawn clips: {estimate:.3f})", flush=True)
    summary = {sweep: {n: {key: round(float(np.mean([row[key] for row in by_speaker.values()])), 4)
                           for key in ("before", "after", "estimate")} for n, by_speaker in by_count.items()}
               for sweep, by_count in table.items()}
    if args.json:
        print(json.dumps({"speakers": table, "mean": summary}))
    else:
        for sweep, by_count in summary.items():
            for n, row in by_count.items():
                print(f"mean {sweep} {n} per digit: {row['before']:.4f} -> {row['after']:.4f} (estimated {row['estimate']:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
