"""Tasks: each module offers the same names (config, build_model, loss, predict, load, ...)."""

from pathlib import Path

import torch

from workbench.bundle import read_bundle
from workbench.errors import ConfigError
from workbench.tasks import classify

TASKS = {"classify": classify}


def load(path: str | Path, device: torch.device | str = "cpu"):
    """Load any bundle (or a run directory holding `model/`) with the task module that made it."""
    files = read_bundle(path)
    if files.task not in TASKS:
        raise ConfigError(f"{files.path}: unknown task {files.task!r} (known: {', '.join(TASKS)})")
    return TASKS[files.task].load(files.path, device, files=files)
