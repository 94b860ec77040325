"""Runs the media readers on files named on stdin, one JSON line of outcomes per file on stdout.

Started by test_fuzz.py in its own process, so that a crash, a hang or a runaway allocation in FFmpeg
costs one worker, not the test session. Its address space is capped (RLIMIT_AS) and the peak resident
memory of each file is measured (VmHWM, reset through /proc/self/clear_refs before every file).
"""

from __future__ import annotations

import json
import resource
import sys
import traceback

from workbench.errors import MediaError
from workbench.media import Sampling, load_audio, probe, read_clip, read_frames, stream_audio

READERS = {
    "probe": probe,
    "load_audio": lambda path: load_audio(path, sample_rate=16000),
    "stream_audio": lambda path: sum(1 for _ in stream_audio(path, 0.25)),
    "read_frames": lambda path: read_frames(path, size=32),
    "read_frames_uniform": lambda path: read_frames(path, Sampling.uniform(4)),
    "read_clip": lambda path: read_clip(path, 0.5, 1.5),
}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def outcome(reader, path: str) -> str:
    try:
        reader(path)
    except MediaError as err:
        return f"{type(err).__name__}" if path in str(err) else f"UNNAMED {type(err).__name__}: {err}"
    except BaseException as err:  # noqa: BLE001 -- reporting anything else is the point
        return "RAW " + "".join(traceback.format_exception(err))[-3000:]
    return "ok"


def main() -> None:
    address_space_mb = int(sys.argv[1])
    baseline_kb = _status_kb("VmSize")
    resource.setrlimit(resource.RLIMIT_AS, (baseline_kb * 1024 + address_space_mb * 1024**2,) * 2)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        path = line.rstrip("\n")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")         # reset the peak resident set size (VmHWM) to the current one
        before_kb = _status_kb("VmRSS")
        outcomes = {name: outcome(reader, path) for name, reader in READERS.items()}
        growth_mb = (_status_kb("VmHWM") - before_kb) / 1024
        print(json.dumps({"outcomes": outcomes, "peak_growth_mb": growth_mb}), flush=True)


if __name__ == "__main__":
    main()
