"""Run one function over many items so that one bad item never loses the others' results.

>>> outcomes = run(paths, media.probe, workers=2)
>>> [o.value for o in outcomes if o.ok]          # the results, in input order
>>> [o.error for o in outcomes if not o.ok]      # "path: reason", one line each
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from workbench.errors import MediaError, WorkbenchError

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Errors a bad input is expected to raise: reported as "item: reason". Anything else is a bug in
# the code being run, still captured per item, but with its type name so it stands out.
EXPECTED_ERRORS = (WorkbenchError, OSError, ValueError)


@dataclass(frozen=True)
class Outcome(Generic[T, R]):
    """What happened to one item: its `value`, or an `error` line "item: reason"."""

    item: T
    value: R | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run(
    items: Iterable[T],
    fn: Callable[[T], R],
    *,
    workers: int = 1,
    on_result: Callable[[Outcome[T, R]], Any] | None = None,
) -> list[Outcome[T, R]]:
    """Call `fn(item)` for every item; return one `Outcome` per item, in input order.

    `on_result(outcome)` is called in the caller's thread as each item finishes (in completion
    order when `workers > 1`), e.g. to advance a progress bar or print a line.

    `workers > 1` uses a thread pool rather than a process pool: the heavy work (FFmpeg decoding
    in PyAV, libsndfile, torch ops) releases the GIL, threads need no pickling of `fn` (closures
    and lambdas work) or of tensors in results, and start instantly. CPU-bound pure-Python `fn`s
    gain nothing from threads; give those a process pool of their own.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    items = list(items)
    outcomes: list[Outcome[T, R] | None] = [None] * len(items)
    if workers == 1 or len(items) <= 1:
        for index, item in enumerate(items):
            outcomes[index] = _finish(_attempt(fn, item), on_result)
        return outcomes  # type: ignore[return-value]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_attempt, fn, item): index for index, item in enumerate(items)}
        for future in as_completed(futures):
            outcomes[futures[future]] = _finish(future.result(), on_result)
    return outcomes  # type: ignore[return-value]


def _finish(outcome: Outcome[T, R], on_result: Callable[[Outcome[T, R]], Any] | None) -> Outcome[T, R]:
    if on_result is not None:
        on_result(outcome)
    return outcome


def _attempt(fn: Callable[[T], R], item: T) -> Outcome[T, R]:
    try:
        return Outcome(item=item, value=fn(item))
    except Exception as err:  # noqa: BLE001 -- one item's failure, of any kind, must not stop the batch
        logger.debug("%s failed", item, exc_info=True)
        return Outcome(item=item, error=describe_error(item, err))


def describe_error(item: Any, err: BaseException) -> str:
    """One line "item: reason" for an error raised while working on `item`.

    A `MediaError` already names its file; an `OSError` names the file it was about when it knows
    (an output path, say); unexpected exception types keep their type name.
    """
    if isinstance(err, MediaError):
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        return f"{err.filename if err.filename is not None else item}: {err.strerror}"
    reason = str(err) if isinstance(err, EXPECTED_ERRORS) else f"{type(err).__name__}: {err}"
    return f"{item}: {reason or type(err).__name__}"
