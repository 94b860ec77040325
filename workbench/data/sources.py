"""Where labelled audio comes from: a folder per class, a CSV/JSONL manifest, or FSDD file names.

Every source becomes a list of `Example(path, label, group)`. The group (a speaker, a session, a
recording) is what splits keep apart: no group is ever on both sides of a split.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError

AUDIO_SUFFIXES = frozenset(
    ".wav .flac .ogg .oga .opus .mp3 .m4a .aac .wma .aif .aiff .webm .mp4 .mkv .mov .avi".split()
)
FSDD_NAME = re.compile(r"^(?P<label>\d)_(?P<group>[A-Za-z]+)_(?P<take>\d+)\.wav$")


@dataclass(frozen=True)
class Example:
    path: str
    label: str
    group: str | None = None     # None: the example is a group of its own


def find_examples(source: str | Path) -> list[Example]:
    """Examples from a manifest (.csv/.jsonl), an FSDD folder, or a folder per class (detected in that order)."""
    source = Path(source)
    if not source.exists():
        raise ConfigError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix.lower() == ".csv":
            return _from_csv(source)
        if source.suffix.lower() in (".jsonl", ".ndjson"):
            return _from_jsonl(source)
        raise ConfigError(f"{source}: a manifest must be .csv or .jsonl")
    if (source / "recordings").is_dir() and _fsdd_files(source / "recordings"):
        source = source / "recordings"
    if fsdd := _fsdd_files(source):
        return [_fsdd_example(p) for p in fsdd]
    examples = _from_class_folders(source)
    if not examples:
        raise ConfigError(f"{source}: found no FSDD files, no <label>/ folders of audio, and no manifest")
    return examples


def _fsdd_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and FSDD_NAME.match(p.name))


def _fsdd_example(path: Path) -> Example:
    match = FSDD_NAME.match(path.name)
    return Example(str(path), match["label"], match["group"])


def _from_class_folders(root: Path) -> list[Example]:
    examples = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        examples += [Example(str(p), folder.name, None) for p in files]
    return examples


def _manifest_example(row: dict, base: Path, where: str) -> Example:
    path, label = row.get("path"), row.get("label")
    if not path or label in (None, ""):
        raise ConfigError(f"{where}: every row needs 'path' and 'label'")
    full = Path(path) if Path(path).is_absolute() else base / path
    group = row.get("group") or None
    return Example(str(full), str(label), None if group is None else str(group))


def _from_csv(path: Path) -> list[Example]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"path", "label"} <= set(reader.fieldnames):
            raise ConfigError(f"{path}: a CSV manifest needs a header with path,label[,group]")
        return [_manifest_example(row, path.parent, f"{path}:{i + 2}") for i, row in enumerate(reader)]


def _from_jsonl(path: Path) -> list[Example]:
    examples = []
    for i, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}:{i + 1}: not JSON: {err}") from None
        examples.append(_manifest_example(row, path.parent, f"{path}:{i + 1}"))
    return examples


def media_files(paths: list[str | Path]) -> list[Path]:
    """Files to process: each path as given, and the audio/video files found under each folder (sorted)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        else:
            found.append(path)          # a missing or unreadable file is reported when it is read
    return found


def labels_of(examples: list[Example]) -> list[str]:
    """Sorted label names (digits sort numerically-as-text, which is what FSDD needs)."""
    return sorted({e.label for e in examples})


def group_of(example: Example) -> str:
    return example.group if example.group is not None else example.path


def split_by_group(
    examples: list[Example], test_fraction: float = 0.2, seed: int = 0, test_groups: list[str] | None = None
) -> tuple[list[Example], list[Example]]:
    """Split into (train, test) so that no group is on both sides.

    With `test_groups`, exactly those groups are the test side; otherwise a seeded random choice of
    groups holding about `test_fraction` of the examples (at least one group on each side).
    """
    groups = sorted({group_of(e) for e in examples})
    if len(groups) < 2:
        raise ConfigError(f"cannot split {len(examples)} examples in {len(groups)} group(s): need at least 2 groups")
    if test_groups is None:
        if not 0.0 < test_fraction < 1.0:
            raise ConfigError(f"test_fraction={test_fraction} must be in (0, 1)")
        order = groups[:]
        random.Random(seed).shuffle(order)
        sizes = {g: 0 for g in groups}
        for e in examples:
            sizes[group_of(e)] += 1
        chosen, total = [], 0
        for g in order[:-1]:
            if chosen and total + sizes[g] > test_fraction * len(examples):
                break
            chosen.append(g)
            total += sizes[g]
        test_groups = chosen
    unknown = set(test_groups) - set(groups)
    if unknown:
        raise ConfigError(f"unknown test group(s): {', '.join(sorted(unknown))}")
    test_set = set(test_groups)
    return [e for e in examples if group_of(e) not in test_set], [e for e in examples if group_of(e) in test_set]


def leave_one_group_out(examples: list[Example]) -> Iterator[tuple[str, list[Example], list[Example]]]:
    """(held-out group, train, test) for each group in turn."""
    for group in sorted({group_of(e) for e in examples}):
        yield group, *split_by_group(examples, test_groups=[group])
