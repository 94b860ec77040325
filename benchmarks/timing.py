"""Round-robin timing: every contender runs once per round, so machine load hits them alike."""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of each timed run of one contender."""

    runs_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs_s)


@dataclass(frozen=True)
class Failed:
    """A contender that could not run here, and why."""

    reason: str


Outcome = Timing | Failed


@dataclass(frozen=True)
class Budget:
    """How many timed rounds, after how many untimed warm-up rounds."""

    repeats: int = 5
    warmup: int = 1


def race(contenders: dict[str, Callable[[], object] | Failed], budget: Budget,
         number: int = 1) -> dict[str, Outcome]:
    """Time each contender `budget.repeats` times, round-robin, after `budget.warmup` untimed rounds.

    A contender given as `Failed` (its setup found it unavailable) stays failed; one that raises is
    marked failed with the error, and the others go on. `number` calls make up one timed run, whose
    time is divided by `number` (for calls of a few milliseconds).
    """
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    failed = {name: fn for name, fn in contenders.items() if isinstance(fn, Failed)}
    for round_index in range(budget.warmup + budget.repeats):
        for name, fn in contenders.items():
            if name in failed:
                continue
            try:
                elapsed = _time_calls(fn, number)
            except Exception as err:  # one broken contender must not lose the others' figures
                failed[name] = Failed(f"{type(err).__name__}: {err}".strip()[:200])
                continue
            if round_index >= budget.warmup:
                runs[name].append(elapsed)
    return {name: failed.get(name) or Timing(tuple(runs[name])) for name in contenders}


def _time_calls(fn: Callable[[], object], number: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(number):
        result = fn()
    elapsed = time.perf_counter() - start
    del result  # dropped outside the timed span (a full decode frees gigabytes)
    return elapsed / number


@contextlib.contextmanager
def threads(num_threads: int) -> Iterator[None]:
    """Limit torch's intra-op threads and the BLAS/OpenMP pools numpy and scipy use (librosa) alike."""
    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        with threadpool_limits(num_threads):
            yield
    finally:
        torch.set_num_threads(before)
