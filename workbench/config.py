"""Shared configuration helpers: device choice, JSON round trips and `--set a.b=v` overrides."""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import torch

from workbench.errors import ConfigError

T = TypeVar("T")

DEVICE_ENV = "WORKBENCH_DEVICE"


def device(name: str | None = None) -> torch.device:
    """Pick the device to run on.

    Order: the explicit `name` (e.g. from `--device`), then the `WORKBENCH_DEVICE` environment
    variable, then CUDA, then Apple MPS, then the CPU. An explicit device that is not available
    raises `ConfigError` rather than silently falling back.
    """
    choice = name or os.environ.get(DEVICE_ENV)
    if choice:
        try:
            dev = torch.device(choice)
        except RuntimeError as err:
            raise ConfigError(f"unknown device {choice!r}: {err}") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {choice!r} requested but CUDA is not available")
        if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"device {choice!r} requested but this machine has {torch.cuda.device_count()} CUDA device(s)")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ConfigError(f"device {choice!r} requested but MPS is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config dataclass (possibly nested) as plain JSON-ready values."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a (nested) frozen config dataclass from `to_dict` output; unknown keys are errors."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) for {cls.__name__}: {', '.join(unknown)}")
    kwargs = {name: _coerce(hints[name], value, f"{cls.__name__}.{name}") for name, value in data.items()}
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(args[0], value, where) if len(args) == 1 else value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} expects a list, got {value!r}")
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        items = [_coerce(inner, v, where) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{where} must be one of {typing.get_args(hint)}, got {value!r}")
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = SCALARS.get(hint)
    if expected is not None and (not isinstance(value, hint) or (hint is not bool and isinstance(value, bool))):
        raise ConfigError(f"{where} expects {expected}, got {value!r}")
    return value


SCALARS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def save_json(cfg: Any, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_dict(cfg), indent=2) + "\n")


def load_json(cls: type[T], path: str | Path) -> T:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: cannot read config: {err}") from None
    return from_dict(cls, data)


def apply_overrides(cfg: T, overrides: list[str]) -> T:
    """Apply `a.b=value` strings to a nested frozen dataclass; values are parsed as JSON when they can be.

    >>> apply_overrides(cfg, ["train.lr=3e-4", "model.bidirectional=true"])
    """
    data = to_dict(cfg)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"unknown config key {key!r}")
            node = node[part]
        if parts[-1] not in node:
            raise ConfigError(f"unknown config key {key!r}")
        node[parts[-1]] = value
    return from_dict(type(cfg), data)
