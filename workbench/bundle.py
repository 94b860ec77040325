"""Model bundles: the only thing we ship and load.

    <dir>/config.json          task, full config (features, model, ...), labels or vocab, versions
    <dir>/model.safetensors    weights only
    <dir>/metrics.json         evaluation figures
    <dir>/README.md            the model card
    <dir>/*.safetensors        further named tensors a task keeps beside the weights (novelty stats)

`save_bundle` writes to a temporary folder beside the target, then renames it into place, so a
reader never sees a half-written bundle. No pickle anywhere.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from workbench.errors import ConfigError

CONFIG, WEIGHTS, METRICS, CARD = "config.json", "model.safetensors", "metrics.json", "README.md"


@dataclass(frozen=True)
class BundleFiles:
    path: Path
    config: dict          # the parsed config.json
    metrics: dict         # the parsed metrics.json ({} when absent)

    @property
    def task(self) -> str:
        return self.config["task"]


def versions() -> dict[str, str]:
    import workbench

    return {"workbench": workbench.__version__, "torch": torch.__version__.split("+")[0], "python": platform.python_version()}


def save_weights(model: nn.Module, path: str | Path) -> None:
    """A model's state dict as safetensors, each tensor copied to the CPU on its own.

    On CUDA, cuDNN packs an LSTM's weights into one buffer of which each parameter is a view;
    safetensors refuses such partial views, so they are copied out first. Tied weights (none in our
    models) would be written once per name, which `read_weights` reads back the same.
    """
    _save_tensors(model.state_dict(), path)


def _save_tensors(tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    """Named tensors as a safetensors file, each copied to the CPU on its own (no shared or partial views)."""
    save_file({name: t.detach().to("cpu", copy=True).contiguous() for name, t in tensors.items()}, str(path))


def read_weights(model: nn.Module, path: str | Path, device: torch.device | str = "cpu") -> nn.Module:
    """Copy a safetensors file's tensors into `model`, strictly (every name must match); returns `model`.

    Unlike safetensors' `load_model`, this works on a model already on CUDA, whose LSTM weights
    cuDNN keeps as views of one buffer: the tensors are copied into the existing parameters.
    """
    model.load_state_dict(load_file(str(path), device=str(device)), strict=True)
    return model


def save_bundle(path: str | Path, config: dict, model: nn.Module, metrics: dict, card: str,
                tensors: dict[str, dict[str, torch.Tensor]] | None = None) -> Path:
    """Write a bundle atomically; `config` must hold at least "task". Replaces an existing bundle.

    `tensors`: further safetensors files, by file name ("novelty.safetensors" -> its named tensors)."""
    path = Path(path)
    if "task" not in config:
        raise ConfigError("a bundle config needs a 'task' key")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        (tmp / CONFIG).write_text(json.dumps({**config, "versions": versions()}, indent=2) + "\n")
        save_weights(model, tmp / WEIGHTS)
        for name, named in (tensors or {}).items():
            _check_tensor_file_name(name)
            _save_tensors(named, tmp / name)
        (tmp / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")
        (tmp / CARD).write_text(card)
        _make_readable(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _check_tensor_file_name(name: str) -> None:
    if Path(name).name != name or not name.endswith(".safetensors") or name == WEIGHTS:
        raise ConfigError(f"{name!r}: a bundle's extra tensors go in a *.safetensors file of its own, not {WEIGHTS}")


def write_tensors(path: str | Path, name: str, tensors: dict[str, torch.Tensor]) -> Path:
    """Add (or replace) one safetensors file of named tensors in an existing bundle, atomically."""
    files = read_bundle(path)
    _check_tensor_file_name(name)
    target = files.path / name
    tmp = target.with_name(f".{name}.tmp")
    _save_tensors(tensors, tmp)
    tmp.chmod((files.path / WEIGHTS).stat().st_mode & 0o777)
    tmp.replace(target)
    return target


def read_tensors(files: BundleFiles, name: str) -> dict[str, torch.Tensor] | None:
    """A bundle's extra safetensors file of named tensors (on the CPU), or None when it has none."""
    path = files.path / name
    if not path.is_file():
        return None
    try:
        return load_file(str(path))
    except Exception as err:     # safetensors raises its own SafetensorError for a damaged file
        raise ConfigError(f"{path}: not a readable safetensors file: {err}") from None


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private (0700) folder: give the bundle the modes the user's umask asks for."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for file in folder.iterdir():
        file.chmod(0o666 & ~umask)


def read_bundle(path: str | Path) -> BundleFiles:
    """Parse a bundle's JSON files; a run directory holding `model/` is accepted too."""
    path = Path(path)
    if not (path / CONFIG).exists() and (path / "model" / CONFIG).exists():
        path = path / "model"
    if not (path / CONFIG).is_file() or not (path / WEIGHTS).is_file():
        raise ConfigError(f"{path}: not a model bundle (needs {CONFIG} and {WEIGHTS})")
    try:
        config = json.loads((path / CONFIG).read_text())
        metrics = json.loads((path / METRICS).read_text()) if (path / METRICS).exists() else {}
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: broken bundle JSON: {err}") from None
    if "task" not in config:
        raise ConfigError(f"{path / CONFIG}: no 'task' key")
    return BundleFiles(path, config, metrics)


def load_weights(files: BundleFiles, model: nn.Module, device: torch.device | str = "cpu") -> nn.Module:
    """Load the bundle's weights into `model` strictly (every tensor must match) and call `eval()`."""
    try:
        read_weights(model, files.path / WEIGHTS)            # read on the CPU; .to(device) below moves the model
    except RuntimeError as err:   # load_state_dict names the missing, unexpected and mis-shaped tensors
        raise ConfigError(f"{files.path}: weights do not match the model: {err}") from None
    return model.to(device).eval()
