"""The dependency direction of STYLE.md: imports point down the layers, never sideways."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "workbench"

# layer of each top-level module or subpackage of `workbench`
LAYERS = {
    "errors": 0, "config": 0.5,  # config raises ConfigError, so it sits just above errors
    "media": 1, "features": 1, "models": 1, "bundle": 1, "batch": 1,
    "data": 2, "decoding": 2, "train": 2,
    "tasks": 3,
    "cli": 4, "demo": 4,
    "__main__": 5,  # `python -m workbench`: the entry point above the CLI
}


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imported_units(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    units = set()
    for name in names:
        parts = name.split(".")
        if parts[0] == "workbench" and len(parts) > 1 and parts[1] in LAYERS:
            units.add(parts[1])
    return units


def test_every_module_has_a_layer():
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        assert _unit(path) in LAYERS, f"{path} is not in a layer; add it to tests/test_layers.py"


def test_imports_point_down_the_layers():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        unit = _unit(path)
        for other in _imported_units(path) - {unit}:
            if LAYERS[other] >= LAYERS[unit]:
                bad.append(f"{path.relative_to(REPO)} ({unit}, layer {LAYERS[unit]}) imports {other} (layer {LAYERS[other]})")
    assert not bad, "\n".join(bad)


def _imports_torchaudio(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torchaudio" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torchaudio":
            return True
    return False


def test_torchaudio_only_in_features():
    offenders = [str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py") if _unit(p) != "features" and _imports_torchaudio(p)]
    assert not offenders, offenders
