"""One readable training loop shared by the tasks.

`fit` trains any model given a loss function and a validation function. Per step it clips the
global gradient norm and logs the norm of every layer's gradient (so vanishing or exploding
gradients are visible); per epoch it validates, writes a checkpoint, keeps the best weights and
stops early when validation stops improving. A run directory holds:

    run_dir/steps.csv            epoch, step, loss, lr, grad_norm, clipped, grad_norm/<layer>...
    run_dir/epochs.csv           epoch, train_loss, val_<metric>..., seconds
    run_dir/tensorboard/         the same figures in TensorBoard's format
    run_dir/checkpoints/         epoch_NNN.safetensors (weights) + epoch_NNN.state.pt (optimizer, scheduler, RNG)
    run_dir/best.safetensors     the weights of the best validation epoch
    run_dir/average.safetensors  with `average_epochs`: the mean of the last epochs' weights (the result)
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from workbench.bundle import read_weights, save_weights
from workbench.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    grad_clip: float = 1.0          # clip the global gradient norm to this; 0 turns clipping off
    patience: int = 8               # epochs without validation improvement before stopping; 0 never stops
    monitor: str = "accuracy"       # validation metric that decides the best epoch (higher is better)
    seed: int = 0
    amp: bool = True                # mixed precision on CUDA; ignored on the CPU
    average_epochs: int = 0         # >0: the result is the mean of the last N epochs' weights (SWA), not the best epoch

    def __post_init__(self) -> None:
        if self.epochs <= 0 or self.batch_size <= 0:
            raise ConfigError("epochs and batch_size must be positive")
        if self.lr <= 0 or self.grad_clip < 0 or self.patience < 0 or self.average_epochs < 0:
            raise ConfigError("lr must be positive; grad_clip, patience and average_epochs must not be negative")


@dataclass(frozen=True)
class StepLog:
    epoch: int
    step: int
    loss: float
    lr: float
    grad_norm: float
    clipped: bool
    layer_norms: dict[str, float]


@dataclass(frozen=True)
class EpochLog:
    epoch: int
    train_loss: float
    val: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class FitResult:
    best_epoch: int
    best_val: dict[str, float]
    epochs: list[EpochLog]
    stopped_early: bool


def layer_grad_norms(model: nn.Module) -> dict[str, float]:
    """L2 norm of the gradient of each layer (parameters grouped by their module path)."""
    layers: list[str] = []
    squares: list[Tensor] = []
    for name, param in model.named_parameters():
        if param.grad is not None:
            layers.append(name.rsplit(".", 1)[0])
            squares.append(param.grad.detach().float().pow(2).sum())
    if not squares:
        return {}
    sums: dict[str, float] = {}
    for layer, value in zip(layers, torch.stack(squares).tolist()):   # one device sync per step, not one per tensor
        sums[layer] = sums.get(layer, 0.0) + value
    return {layer: math.sqrt(total) for layer, total in sums.items()}


def _lr_at(step: int, total: int, warmup: int, base: float) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


class _Logs:
    """CSV and TensorBoard writers of a run directory (appending when a run resumes)."""

    def __init__(self, run_dir: Path, layers: list[str]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.layers = layers
        self.steps_path, self.epochs_path = run_dir / "steps.csv", run_dir / "epochs.csv"
        if not self.steps_path.exists():
            header = ["epoch", "step", "loss", "lr", "grad_norm", "clipped"] + [f"grad_norm/{n}" for n in layers]
            self.steps_path.write_text(",".join(header) + "\n")
        self.tb = SummaryWriter(str(run_dir / "tensorboard"))

    def step(self, log: StepLog) -> None:
        with self.steps_path.open("a", newline="") as f:
            row = [log.epoch, log.step, f"{log.loss:.6f}", f"{log.lr:.6g}", f"{log.grad_norm:.6g}", int(log.clipped)]
            csv.writer(f).writerow(row + [f"{log.layer_norms.get(n, 0.0):.6g}" for n in self.layers])
        self.tb.add_scalar("train/loss", log.loss, log.step)
        self.tb.add_scalar("train/grad_norm", log.grad_norm, log.step)
        for layer, norm in log.layer_norms.items():
            self.tb.add_scalar(f"grad_norm/{layer}", norm, log.step)

    def epoch(self, log: EpochLog) -> None:
        names = sorted(log.val)
        new = not self.epochs_path.exists()
        with self.epochs_path.open("a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["epoch", "train_loss"] + [f"val_{n}" for n in names] + ["seconds"])
            writer.writerow([log.epoch, f"{log.train_loss:.6f}"] + [f"{log.val[n]:.6f}" for n in names] + [f"{log.seconds:.2f}"])
        self.tb.add_scalar("epoch/train_loss", log.train_loss, log.epoch)
        for name, value in log.val.items():
            self.tb.add_scalar(f"val/{name}", value, log.epoch)
        self.tb.flush()


def _checkpoint_paths(run_dir: Path, epoch: int) -> tuple[Path, Path]:
    stem = run_dir / "checkpoints" / f"epoch_{epoch:03d}"
    return stem.with_suffix(".safetensors"), stem.with_suffix(".state.pt")


def latest_checkpoint(run_dir: Path) -> int | None:
    """The last epoch with both checkpoint files, or None."""
    epochs = [int(p.name[6:9]) for p in (run_dir / "checkpoints").glob("epoch_*.state.pt")]
    complete = [e for e in epochs if _checkpoint_paths(run_dir, e)[0].exists()]
    return max(complete) if complete else None


def _truncate_logs(run_dir: Path, last_epoch: int) -> None:
    """Drop log rows past `last_epoch` (a run stopped mid-epoch), so a resumed run appends cleanly."""
    for path in (run_dir / "steps.csv", run_dir / "epochs.csv"):
        if path.exists():
            lines = path.read_text().splitlines(keepends=True)
            kept = lines[:1] + [ln for ln in lines[1:] if int(ln.split(",", 1)[0]) <= last_epoch]
            path.write_text("".join(kept))


@dataclass
class _State:
    epoch: int = 0                  # last completed epoch
    step: int = 0
    best_epoch: int = 0
    best_score: float = -math.inf
    best_val: dict | None = None
    bad_epochs: int = 0
    history: list | None = None


def _save_checkpoint(run_dir: Path, model: nn.Module, opt, scaler, state: _State) -> None:
    weights, extra = _checkpoint_paths(run_dir, state.epoch)
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_weights(model, weights)
    payload = {"optimizer": opt.state_dict(), "scaler": scaler.state_dict(), "state": vars(state).copy(),
               "rng": torch.get_rng_state()}
    if torch.cuda.is_available():     # dropout on CUDA draws from the device's generator
        payload["cuda_rng"] = torch.cuda.get_rng_state_all()
    torch.save(payload, extra.with_suffix(".tmp"))
    extra.with_suffix(".tmp").replace(extra)


def _load_checkpoint(run_dir: Path, epoch: int, model: nn.Module, opt, scaler, device) -> _State:
    weights, extra = _checkpoint_paths(run_dir, epoch)
    read_weights(model, weights, device)
    payload = torch.load(extra, map_location=device, weights_only=True)
    opt.load_state_dict(payload["optimizer"])
    scaler.load_state_dict(payload["scaler"])
    torch.set_rng_state(payload["rng"].cpu())
    cuda_rng = payload.get("cuda_rng")
    if cuda_rng is not None and torch.cuda.is_available() and len(cuda_rng) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([rng.cpu() for rng in cuda_rng])
    return _State(**payload["state"])


def train_step(model: nn.Module, batch, loss_fn: Callable[[nn.Module, object], Tensor], opt, scaler,
               cfg: TrainConfig, device: torch.device) -> tuple[Tensor, dict[str, float], float]:
    """One optimiser step: (loss, per-layer gradient norms, their global norm), norms before clipping.

    The loss runs under float16 autocast on CUDA when `cfg.amp` (with `scaler` a GradScaler enabled
    there); the gradients are unscaled before their norms are taken and clipped to `cfg.grad_clip`.
    """
    use_amp = cfg.amp and device.type == "cuda"
    opt.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
        loss = loss_fn(model, batch.to(device))
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    norms = layer_grad_norms(model)
    total = math.sqrt(sum(n * n for n in norms.values()))
    if cfg.grad_clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    scaler.step(opt)
    scaler.update()
    return loss.detach(), norms, total


def _train_epoch(model, batches, loss_fn, opt, scaler, cfg, state, total_steps, warmup, device, logs, on_step):
    losses = []
    model.train()
    for batch in batches:
        lr = _lr_at(state.step, total_steps, warmup, cfg.lr)
        for group in opt.param_groups:
            group["lr"] = lr
        loss, norms, total = train_step(model, batch, loss_fn, opt, scaler, cfg, device)
        state.step += 1
        log = StepLog(state.epoch + 1, state.step, float(loss), lr, total, cfg.grad_clip > 0 and total > cfg.grad_clip, norms)
        logs.step(log)
        losses.append(log.loss)
        if on_step is not None:
            on_step(log)
    return sum(losses) / max(1, len(losses))


def fit(
    model: nn.Module,
    batches: Callable[[int], Iterable],
    loss_fn: Callable[[nn.Module, object], Tensor],
    validate: Callable[[nn.Module], dict[str, float]],
    cfg: TrainConfig,
    run_dir: str | Path,
    device: torch.device,
    steps_per_epoch: int,
    resume: bool = False,
    on_step: Callable[[StepLog], None] | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
) -> FitResult:
    """Train `model` in place; return the best epoch and its validation figures.

    `batches(epoch)` yields the epoch's batches (objects with `.to(device)`), shuffled with a seed
    derived from the epoch so that a resumed run sees the same data as an uninterrupted one.
    `validate(model)` returns metrics including `cfg.monitor`. With `resume`, training continues
    after the last checkpoint in `run_dir`. The best weights are loaded into `model` at the end.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.amp and device.type == "cuda")
    state = _State(history=[])
    found = latest_checkpoint(run_dir)
    last = found if resume else None
    if last is not None:
        state = _load_checkpoint(run_dir, last, model, opt, scaler, device)
        logger.info("resuming %s after epoch %d", run_dir, last)
    elif resume:
        logger.warning("%s: nothing to resume (no checkpoint there); training from the first epoch", run_dir)
    elif found is not None:     # its checkpoints go, or a later resume would pick up the old run's last epoch
        for old in (run_dir / "checkpoints").glob("epoch_*"):
            old.unlink()
        logger.warning("%s: already holds a run (checkpoints up to epoch %d); training afresh over it, its "
                       "checkpoints removed (to continue it instead: resume=True, --resume in the CLI)", run_dir, found)
    _truncate_logs(run_dir, state.epoch)
    logs = _Logs(run_dir, sorted({n.rsplit(".", 1)[0] for n, _ in model.named_parameters()}))
    total_steps, warmup = cfg.epochs * steps_per_epoch, int(cfg.warmup_epochs * steps_per_epoch)
    stopped_early = False
    while state.epoch < cfg.epochs:
        if cfg.patience and state.bad_epochs >= cfg.patience:
            stopped_early = True
            break
        torch.manual_seed(cfg.seed * 7919 + state.epoch)           # dropout etc. depend only on (seed, epoch)
        start = time.perf_counter()
        train_loss = _train_epoch(model, batches(state.epoch), loss_fn, opt, scaler, cfg, state, total_steps, warmup, device, logs, on_step)
        model.eval()
        with torch.no_grad():
            val = validate(model)
        if cfg.monitor not in val:
            raise ConfigError(f"validation returned {sorted(val)}, not the monitored metric {cfg.monitor!r}")
        state.epoch += 1
        log = EpochLog(state.epoch, train_loss, val, time.perf_counter() - start)
        state.history.append({"epoch": log.epoch, "train_loss": train_loss, **{f"val_{k}": v for k, v in val.items()}})
        if val[cfg.monitor] > state.best_score:
            state.best_epoch, state.best_score, state.best_val, state.bad_epochs = state.epoch, val[cfg.monitor], val, 0
            save_weights(model, run_dir / "best.safetensors")
        else:
            state.bad_epochs += 1
        logs.epoch(log)
        _save_checkpoint(run_dir, model, opt, scaler, state)
        if on_epoch is not None:
            on_epoch(log)
    logs.tb.close()
    epochs = [EpochLog(h["epoch"], h["train_loss"], {k[4:]: v for k, v in h.items() if k.startswith("val_")}, 0.0) for h in state.history]
    if cfg.average_epochs:
        last = list(range(max(1, state.epoch - cfg.average_epochs + 1), state.epoch + 1))
        average_weights(model, [_checkpoint_paths(run_dir, e)[0] for e in last], device)
        recalibrate_batch_norm(model, batches(state.epoch), loss_fn, device)
        save_weights(model, run_dir / "average.safetensors")
        model.eval()
        with torch.no_grad():
            val = validate(model)
        return FitResult(state.epoch, val, epochs, stopped_early)
    read_weights(model, run_dir / "best.safetensors", device)
    return FitResult(state.best_epoch, state.best_val or {}, epochs, stopped_early)


def average_weights(model: nn.Module, paths: list[Path], device: torch.device) -> None:
    """Load the element-wise mean of several safetensors weight files into `model` (stochastic weight averaging)."""
    total: dict[str, Tensor] = {}
    for path in paths:
        for name, tensor in load_file(str(path), device=str(device)).items():
            total[name] = total[name] + tensor.double() if name in total else tensor.double()
    dtypes = {name: tensor.dtype for name, tensor in model.state_dict().items()}
    mean = {name: (value / len(paths)).to(dtypes[name]) for name, value in total.items()}
    model.load_state_dict(mean, strict=True)


def recalibrate_batch_norm(model: nn.Module, batches: Iterable, loss_fn: Callable[[nn.Module, object], Tensor],
                           device: torch.device) -> None:
    """Recompute batch-norm running statistics for averaged weights: one forward pass over the data."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None                   # a cumulative average over every batch
    model.train()
    with torch.no_grad():
        for batch in batches:
            loss_fn(model, batch.to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.eval()
