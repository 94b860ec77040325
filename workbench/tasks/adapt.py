"""Adapt a classifier bundle to one new speaker (or microphone, or room) from a few labelled clips of theirs.

A model trained on a handful of voices hears a new one with systematic errors: the shipped digit model,
on a speaker it never heard, may take one of that speaker's digits for another two times in five. The
network's embedding of the clips mostly still tells that speaker's words apart; it is the last layer, fit
to other voices, that draws the borders in the wrong place. `adapt` refits only that layer (the head's
linear map from the pooled vector to the labels) on the new clips, pulled towards its trained weights by
an L2 penalty, and writes a new bundle that is the old one in every other respect: the same config,
features, encoder and recurrent weights, and so the same novelty stats. Everything that reads a bundle
(`workbench classify`, `--timeline`, `evaluate`, `export`) uses it as it is. The new bundle is that speaker's:
the borders it moved for them can move other voices across (README: the digit model adapted to one FSDD
speaker lost up to 4 points on the others), so keep the original for everyone else.

    workbench adapt --model assets/models/spoken-digits --data my_digits/ --out runs/my-voice
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from workbench.bundle import CARD, WEIGHTS, read_bundle, read_tensors, read_weights, save_bundle
from workbench.data import Example, LoadFailure, decode_examples
from workbench.errors import ConfigError
from workbench.tasks.classify import NOVELTY_FILE, LoadedBundle, build_model, clip_embeddings, prepare


@dataclass(frozen=True)
class AdaptConfig:
    weight_decay: float = 0.01     # pull of the refit layer towards its trained weights: this times their squared distance
    max_iter: int = 100            # L-BFGS iterations (the fit is convex: it converges well within them)

    def __post_init__(self) -> None:
        if self.weight_decay < 0 or self.max_iter < 1:
            raise ConfigError(f"weight_decay must be >= 0 and max_iter >= 1, got {self.weight_decay} and {self.max_iter}")


@dataclass(frozen=True)
class Adaptation:
    bundle_dir: Path
    per_label: dict[str, int]       # adaptation clips read, by label (every label of the model, 0 for none)
    failures: list[LoadFailure]     # files that could not be read (left out)
    accuracy_before: float          # on the adaptation clips: the model as trained (a fair estimate for this speaker)
    accuracy_after: float           # the adapted model on the clips it was fit to (a check that the fit took)
    accuracy_estimate: float | None  # the adapted model on clips left out of its fit (`cross_validate`): what to expect;
                                     # None from a single clip

    @property
    def num_clips(self) -> int:
        return sum(self.per_label.values())

    def to_dict(self) -> dict:
        return {"bundle": str(self.bundle_dir), "clips": self.num_clips, "per_label": self.per_label,
                "accuracy_before": self.accuracy_before, "accuracy_after": self.accuracy_after,
                "accuracy_estimate": self.accuracy_estimate,
                "unreadable": [{"path": str(f.path), "error": f.error} for f in self.failures]}


def fit_head(weight: Tensor, bias: Tensor, pooled: Tensor, label_ids: Tensor,
             cfg: AdaptConfig = AdaptConfig()) -> tuple[Tensor, Tensor]:
    """A linear head (num_classes, D) and (num_classes,) refit on pooled vectors (N, D) with their label ids (N,):
    the mean cross-entropy plus cfg.weight_decay times the squared distance to the given weights, minimised
    by L-BFGS. Returns the new weight and bias; the inputs are left as they are."""
    if pooled.ndim != 2 or pooled.shape[1] != weight.shape[1] or label_ids.shape != (pooled.shape[0],):
        raise ConfigError(f"pooled vectors must be (N, {weight.shape[1]}) with (N,) label ids, got "
                          f"{tuple(pooled.shape)} and {tuple(label_ids.shape)}")
    start_w, start_b = weight.detach().double().cpu(), bias.detach().double().cpu()
    w, b = start_w.clone().requires_grad_(True), start_b.clone().requires_grad_(True)
    x, y = pooled.detach().double().cpu(), label_ids.cpu()
    optimizer = torch.optim.LBFGS([w, b], max_iter=cfg.max_iter, line_search_fn="strong_wolfe")

    def objective() -> Tensor:
        optimizer.zero_grad()
        value = F.cross_entropy(x @ w.T + b, y) + cfg.weight_decay * ((w - start_w).pow(2).sum() + (b - start_b).pow(2).sum())
        value.backward()
        return value

    optimizer.step(objective)
    return w.detach().to(weight.dtype), b.detach().to(bias.dtype)


def heard_right(weight: Tensor, bias: Tensor, pooled: Tensor, label_ids: Tensor) -> Tensor:
    """Whether a linear head (num_classes, D), (num_classes,) labels each pooled vector (N, D) with its label id (N,):
    (N,) bool, on the CPU."""
    logits = pooled.detach().double().cpu() @ weight.detach().double().cpu().T + bias.detach().double().cpu()
    return logits.argmax(1) == label_ids.cpu()


def cross_validate(weight: Tensor, bias: Tensor, pooled: Tensor, label_ids: Tensor, cfg: AdaptConfig = AdaptConfig(),
                   folds: int = 10) -> float:
    """How often a head refit as `fit_head` does is right on clips it was not fit to: the clips (N, D), (N,) are dealt
    into `folds` folds (clip i into fold i mod folds; every clip its own fold when there are fewer), and each fold is
    classified by a head fit to the others. A little pessimistic: each fit has one fold fewer than the real one."""
    num = pooled.shape[0]
    folds = min(folds, num)
    if folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 clips, got {num}")
    right = 0
    for fold in range(folds):
        held = torch.arange(fold, num, folds)
        kept = torch.tensor([i for i in range(num) if i % folds != fold])
        w, b = fit_head(weight, bias, pooled[kept], label_ids[kept], cfg)
        right += int(heard_right(w, b, pooled[held], label_ids[held]).sum())
    return round(right / num, 4)


def pooled_vectors(bundle: LoadedBundle, waveforms: list[Tensor]) -> Tensor:
    """(N, D) the vectors a classifier bundle's head classifies, of mono clips (samples,) at its sample rate,
    each `prepare`d as a clip being classified is."""
    embeddings = clip_embeddings(bundle.model, [prepare(w, bundle.cfg) for w in waveforms], bundle.device)
    return embeddings[:, :bundle.model.net.head.out.in_features]      # the head's input leads the embedding


def adapt(bundle: LoadedBundle, examples: list[Example], out: str | Path, cfg: AdaptConfig = AdaptConfig(),
          workers: int = 1) -> Adaptation:
    """Refit `bundle`'s head on labelled clips of a new speaker and write the adapted bundle to `out`
    (replacing what is there). Unreadable clips are left out and reported; a label the model does not
    have, or no readable clip at all, is an error."""
    if not examples:
        raise ConfigError(f"{bundle.path}: no clips to adapt the model on")
    unknown = [e for e in examples if e.label not in bundle.labels]
    if unknown:
        raise ConfigError(f"{unknown[0].path}: label {unknown[0].label!r} is not one of the model's "
                          f"({', '.join(bundle.labels)}); {len(unknown)} clip(s) have labels it does not know")
    items, failures = decode_examples(examples, bundle.cfg.features.sample_rate, bundle.cfg.max_duration_s, workers)
    if not items:
        raise ConfigError(f"{bundle.path}: none of the {len(examples)} clips to adapt on could be read "
                          f"(first: {failures[0].path}: {failures[0].error})")
    index = {label: i for i, label in enumerate(bundle.labels)}
    label_ids = torch.tensor([index[e.label] for e, _ in items])
    pooled = pooled_vectors(bundle, [w for _, w in items])
    head = bundle.model.net.head.out
    weight, bias = fit_head(head.weight, head.bias, pooled, label_ids, cfg)

    def accuracy(w: Tensor, b: Tensor) -> float:
        return round(float(heard_right(w, b, pooled, label_ids).float().mean()), 4)

    per_label = {label: int((label_ids == i).sum()) for i, label in enumerate(bundle.labels)}
    estimate = cross_validate(head.weight, head.bias, pooled, label_ids, cfg) if len(items) > 1 else None
    result = Adaptation(Path(out), per_label, failures, accuracy(head.weight, head.bias), accuracy(weight, bias), estimate)
    _write(bundle, weight, bias, result, cfg)
    return result


def _write(bundle: LoadedBundle, weight: Tensor, bias: Tensor, result: Adaptation, cfg: AdaptConfig) -> None:
    """The adapted bundle: the source's files with the head's weights replaced, its metrics and card noting how."""
    files = read_bundle(bundle.path)
    model = read_weights(build_model(bundle.cfg, bundle.labels), files.path / WEIGHTS)    # unfolded, as saved
    with torch.no_grad():
        model.net.head.out.weight.copy_(weight)
        model.net.head.out.bias.copy_(bias)
    record = {"from": str(bundle.path), **{k: v for k, v in result.to_dict().items() if k != "bundle"},
              "config": dataclasses.asdict(cfg)}
    metrics = {**files.metrics, "adapted": record}
    card_path = files.path / CARD
    card = card_path.read_text() if card_path.is_file() else ""
    card += (f"\n\n## Adapted\n\nThis bundle is `{bundle.path}` with its last layer refit on {result.num_clips} "
             f"clips of one speaker (`workbench adapt`, weight decay {cfg.weight_decay:g}): "
             + ", ".join(f"{n} of \"{label}\"" for label, n in result.per_label.items())
             + ". Every other weight is the original's, and so are the figures above: they describe the model before "
             f"it was adapted. On those clips the model as trained was right {result.accuracy_before:.1%} of the time"
             + ("" if result.accuracy_estimate is None else
                f"; refit without each tenth of them in turn (each clip, under ten), it was right on the clips left out "
                f"{result.accuracy_estimate:.1%} of the time (what to expect on the speaker's other recordings, give or "
                "take a few points with this few clips)")
             + ". Measure it on other recordings of the same speaker (`workbench evaluate`).\n")
    tensors = read_tensors(files, NOVELTY_FILE)
    save_bundle(result.bundle_dir, files.config, model, metrics, card,
                tensors=None if tensors is None else {NOVELTY_FILE: tensors})


def describe(result: Adaptation) -> str:
    """One paragraph for a person: what the adaptation read and did."""
    counts = ", ".join(f"{label} {n}" for label, n in result.per_label.items())
    clips = f"{result.num_clips} clip{'' if result.num_clips == 1 else 's'}"
    text = (f"adapted on {clips} ({counts}); bundle -> {result.bundle_dir}\n"
            f"right on the speaker's clips: {result.accuracy_before:.1%} as trained, "
            + ("not estimated adapted (one clip)" if result.accuracy_estimate is None else
               f"{result.accuracy_estimate:.1%} adapted (cross-validated: on clips left out of the fit)")
            + f"; {result.accuracy_after:.1%} on the clips it was fit to")
    missing = [label for label, n in result.per_label.items() if n == 0]
    if missing:
        text += f"\nno clips of {', '.join(missing)}: those labels keep their trained weights, pulled only by the others"
    few = [label for label, n in result.per_label.items() if 0 < n < 3]
    if few:
        text += (f"\nfewer than 3 clips of {', '.join(few)}: give three or more of every label; with one, the estimate "
                 "above is of a fit that had none of that label, and falls far below what the adapted model gets")
    return text
