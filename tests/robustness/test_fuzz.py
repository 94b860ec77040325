"""Mutated small media files never make a reader raise anything but MediaError, hang, or blow up memory.

Seeds: a WAV, an MP3, an MP4 (H.264/AAC), a WebM (VP9/Opus) and an Ogg (Vorbis), all under 100 KB.
Mutations: bit flips, byte overwrites, truncation, splices of two seeds, inserted random chunks.
Each mutated file goes to a worker process (fuzz_worker.py) that runs every reader on it, with its
address space capped at ADDRESS_SPACE_MB above its start; a reader may take at most TIMEOUT_S per file
and may grow the resident set by at most PEAK_GROWTH_MB.

CI runs WORKBENCH_FUZZ_EXAMPLES (default 60) derandomized examples. A long run, by hand:
    WORKBENCH_FUZZ_EXAMPLES=5000 nice python -m pytest tests/robustness/test_fuzz.py -q -p no:randomly \
        --timeout=0 --hypothesis-show-statistics
(with the variable set, examples are random; failing files are kept under WORKBENCH_FUZZ_SAVE if set).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


NUM_EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "60"))
TIMEOUT_S = 10.0 * 6            # per file: about 10 s for each of the worker's six readers
ADDRESS_SPACE_MB = 3072         # above the worker's start (torch alone maps a few GB, mostly untouched)
PEAK_GROWTH_MB = 1536           # resident memory one file may add (files are < 100 KB)
REPO = Path(__file__).resolve().parents[2]
SEEDS = ("wav", "mp3", "mp4", "webm", "ogg")


class Worker:
    """A fuzz_worker.py process; restarted after a crash or a hang."""

    def __init__(self) -> None:
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.robustness.fuzz_worker", str(ADDRESS_SPACE_MB)],
                                        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert json.loads(self._read_line(120.0)) == {"ready": True}

    def _read_line(self, timeout_s: float) -> str | None:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        return self.process.stdout.readline() if ready else None

    def run(self, path: Path) -> dict:
        if self.process is None or self.process.poll() is not None:
            self.start()
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        line = self._read_line(TIMEOUT_S)
        if not line:
            hung = self.process.poll() is None
            self.stop()
            return {"outcomes": {"worker": "HANG" if hung else f"CRASH (exit {self.process.returncode})"}}
        return json.loads(line)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait()


@pytest.fixture(scope="module")
def worker():
    worker = Worker()
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def seeds(containers, wav_factory) -> dict[str, bytes]:
    paths = {"wav": wav_factory("PCM_16", 1, 16000), **{k: containers[k] for k in SEEDS if k in containers}}
    data = {name: Path(path).read_bytes() for name, path in paths.items()}
    assert all(len(d) < 100_000 for d in data.values()), {k: len(d) for k, d in data.items()}
    return data


position = st.integers(0, 1 << 20)       # taken modulo the file's length
mutation = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(0, 7)),
    st.tuples(st.just("overwrite"), position, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("truncate"), position),
    st.tuples(st.just("splice"), position, st.sampled_from(SEEDS), position),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=64)),
)


def mutate(data: bytes, mutations, seeds: dict[str, bytes]) -> bytes:
    out = bytearray(data)
    for kind, pos, *args in mutations:
        at = pos % max(1, len(out))
        if kind == "flip" and out:
            out[at] ^= 1 << args[0]
        elif kind == "overwrite":
            out[at:at + len(args[0])] = args[0]
        elif kind == "truncate":
            del out[at:]
        elif kind == "splice":
            other = seeds.get(args[0], data)
            out = out[:at] + other[args[1] % max(1, len(other)):]
        elif kind == "insert":
            out[at:at] = args[0]
    return bytes(out)


@pytest.mark.timeout(0)
@settings(max_examples=NUM_EXAMPLES, deadline=None, derandomize="WORKBENCH_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          report_multiple_bugs=True)
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_files_raise_only_media_errors(worker, seeds, tmp_path_factory, seed, mutations):
    if seed not in seeds:
        pytest.skip(f"this FFmpeg build cannot write the {seed} seed")
    folder = tmp_path_factory.getbasetemp() / "fuzz"
    folder.mkdir(exist_ok=True)
    path = folder / f"fuzz_{uuid.uuid4().hex[:8]}.{seed}"
    path.write_bytes(mutate(seeds[seed], mutations, seeds))
    result = worker.run(path)
    bad = {reader: text for reader, text in result["outcomes"].items()
           if text != "ok" and not text.endswith("Error")}
    save = os.environ.get("WORKBENCH_FUZZ_SAVE")
    if save and (bad or result.get("peak_growth_mb", 0) > PEAK_GROWTH_MB):
        Path(save).mkdir(parents=True, exist_ok=True)
        (Path(save) / path.name).write_bytes(path.read_bytes())
    path.unlink()
    assert not bad, f"{seed} {mutations}: {bad}"
    assert result["peak_growth_mb"] < PEAK_GROWTH_MB, f"{seed} {mutations}: {result['peak_growth_mb']:.0f} MB"
