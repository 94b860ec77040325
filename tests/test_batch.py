"""workbench.batch.run: one outcome per item, in input order, whatever fails."""

from __future__ import annotations

import threading

import pytest

from workbench import batch
from workbench.errors import ConfigError, NotMediaError


def _square(item: int) -> int:
    if item == 3:
        raise NotMediaError(f"clip{item}.mp4", "not a media file")
    if item == 5:
        raise ZeroDivisionError("division by zero")
    return item * item


@pytest.mark.parametrize("workers", [1, 2])
def test_failures_in_the_middle_keep_the_other_values_in_order(workers):
    outcomes = batch.run(range(7), _square, workers=workers)
    assert [o.item for o in outcomes] == list(range(7))
    assert [o.ok for o in outcomes] == [True, True, True, False, True, False, True]
    assert [o.value for o in outcomes if o.ok] == [0, 1, 4, 16, 36]
    assert outcomes[3].error == "clip3.mp4: not a media file"
    assert outcomes[3].value is None
    assert outcomes[5].error == "5: ZeroDivisionError: division by zero"  # unexpected: type name kept


def test_two_workers_give_the_same_outcomes_as_one():
    assert batch.run(range(20), _square, workers=2) == batch.run(range(20), _square, workers=1)


def test_two_workers_really_run_in_two_threads():
    both_started = threading.Barrier(2, timeout=10)  # deadlocks (then BrokenBarrierError) on one thread

    def wait_for_the_other(item: int) -> int:
        both_started.wait()
        return item

    outcomes = batch.run([1, 2], wait_for_the_other, workers=2)
    assert [o.value for o in outcomes] == [1, 2]


@pytest.mark.parametrize("workers", [1, 2])
def test_on_result_sees_every_outcome_once(workers):
    seen = []
    outcomes = batch.run(range(7), _square, workers=workers, on_result=seen.append)
    assert sorted(seen, key=lambda o: o.item) == outcomes


def test_error_lines_name_the_item_or_the_file():
    def fail(item):
        raise {"a": ConfigError("n_mels must be > 0"), "b": FileNotFoundError(2, "No such file", "out/x.png"),
               "c": OSError("disk on fire"), "d": ValueError("")}[item]

    errors = [o.error for o in batch.run("abcd", fail)]
    assert errors == ["a: n_mels must be > 0", "out/x.png: No such file", "c: disk on fire", "d: ValueError"]


def test_empty_input_and_bad_worker_count():
    assert batch.run([], _square, workers=2) == []
    with pytest.raises(ValueError, match="workers"):
        batch.run([1], _square, workers=0)


def test_keyboard_interrupt_is_not_swallowed():
    def interrupt(item):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch.run([1], interrupt)
