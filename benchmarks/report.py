"""What the suite reports: table rows, JSON figures, the issue's goals and the machine it ran on."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field

import torch

from benchmarks.timing import Failed, Outcome, Timing


@dataclass(frozen=True)
class Row:
    figure: str
    ours: str
    reference: str
    ratio: str
    note: str


@dataclass
class Results:
    """Table rows and JSON figures; a figure that could not be measured is None with its reason."""

    rows: list[Row] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def missing(self, key: str, figure: str, reason: str) -> None:
        self.figures[key] = None
        self.unavailable[key] = reason
        self.rows.append(Row(figure, "n/a", "n/a", "n/a", f"not available: {reason}"))


@dataclass(frozen=True)
class Measure:
    """How to turn a median time into a figure: `work / seconds` (fps, x realtime) or the seconds."""

    prefix: str            # "decode" -> decode_fps_ours, decode_fps_ratio_vs_NAME
    unit: str              # "fps", "seconds" or "x_realtime"
    ratio_word: str        # "fps_ratio", "ratio" or "speedup"
    work: float = 1.0      # frames or audio seconds per run (ignored for "seconds")


def compare(results: Results, measure: Measure, outcomes: dict[str, Outcome], labels: dict[str, str],
            title: str, note: str, ours: str = "ours") -> None:
    """One row per contender against ours; figures `{prefix}_{unit}_{name}` and ratios `..._vs_{name}`.

    The ratio is our speed over theirs (their median time over ours): > 1 means ours is faster.
    """
    for name, outcome in outcomes.items():
        results.figures[f"{measure.prefix}_{measure.unit}_{name}"] = _value(measure, outcome)
        if isinstance(outcome, Failed):
            results.unavailable[f"{measure.prefix}_{measure.unit}_{name}"] = outcome.reason
    mine = outcomes[ours]
    for name, label in labels.items():
        theirs = outcomes[name]
        key = f"{measure.prefix}_{measure.ratio_word}_vs_{name}"
        ratio = theirs.median_s / mine.median_s if isinstance(mine, Timing) and isinstance(theirs, Timing) else None
        results.figures[key] = ratio
        reason = next((o.reason for o in (theirs, mine) if isinstance(o, Failed)), None)
        if reason:
            results.unavailable[key] = reason
        row_note = f"not available: {reason}" if reason else note
        results.rows.append(Row(f"{title}: ours vs {label}", _show(measure, mine), _show(measure, theirs),
                                "n/a" if ratio is None else f"{ratio:.2f}x", row_note))


def _value(measure: Measure, outcome: Outcome) -> float | None:
    if isinstance(outcome, Failed):
        return None
    return outcome.median_s if measure.unit == "seconds" else measure.work / outcome.median_s


def _show(measure: Measure, outcome: Outcome) -> str:
    value = _value(measure, outcome)
    if value is None:
        return "n/a"
    suffix = {"fps": " fps", "seconds": " s", "x_realtime": "x RT"}[measure.unit]
    return f"{value:.3g}{suffix}" if value < 100 else f"{value:,.0f}{suffix}"


GOALS = (  # (goal, figure key, target: the figure must be at least this)
    ("full decode >= 0.9x ffmpeg decode-only fps (`ffmpeg -i F -an -f null -`, no RGB conversion)",
     "decode_fps_ratio_vs_ffmpeg_null", 0.9),
    ("uniform 16-frame sampling no slower than TorchCodec", "uniform16_ratio_vs_torchcodec", 1.0),
    ("decode + resize to 224 >= 1.2x ffmpeg's scale filter", "resize224_ratio_vs_ffmpeg_scale", 1.2),
    ("log-mel >= 1.5x librosa on a long file (CPU, 1 thread)", "mel_speedup_vs_librosa", 1.5),
    ("log-mel >= 2x librosa on a batch of clips (CPU, 1 thread, librosa one clip at a time)",
     "mel_batch_speedup_vs_librosa", 2.0),
    ("classifier >= 500x real time on one thread (batch 1)", "classifier_x_realtime", 500.0),
)


def goals(figures: dict[str, object]) -> dict[str, dict]:
    """Each goal of the issue: its figure, the target and pass (None when the figure was not measured)."""
    out = {}
    for goal, key, target in GOALS:
        value = figures.get(key)
        out[goal] = {"figure": key, "value": value, "target": f">= {target:g}",
                     "pass": None if value is None else bool(value >= target)}
    return out


def machine() -> dict:
    """CPU model, cores, library versions, CUDA device and the load average when the suite started."""
    import av
    import cv2
    import librosa
    model = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                  if line.startswith("model name")), platform.processor())
    ffmpeg = (subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
              if shutil.which("ffmpeg") else "not installed")
    return {
        "cpu": model, "cores": os.cpu_count(), "cores_usable": len(os.sched_getaffinity(0)),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "torch": torch.__version__, "torch_threads_default": torch.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "pyav": av.__version__, "ffmpeg_cli": ffmpeg, "opencv": cv2.__version__, "librosa": librosa.__version__,
        "python": platform.python_version(),
    }


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def markdown(results: Results, info: dict, goal_table: dict[str, dict]) -> str:
    """The figures table, the goals and one line on the machine, as markdown."""
    lines = ["| figure | ours | reference | ratio | note |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.figure} | {r.ours} | {r.reference} | {r.ratio} | {r.note} |" for r in results.rows]
    lines += ["", "Ratios are our speed over the reference's (> 1: ours is faster); each figure is the median of "
                  "round-robin runs. Video decoders (ours, PyAV, TorchCodec, the ffmpeg CLI) use FFmpeg's automatic "
                  "thread count; the CLI contenders skip the audio (-an) and include process start-up.",
              "", "| goal | figure | value | target | pass |", "| --- | --- | --- | --- | --- |"]
    for goal, g in goal_table.items():
        value = "n/a" if g["value"] is None else f"{g['value']:.3g}"
        verdict = {True: "pass", False: "FAIL", None: "n/a"}[g["pass"]]
        lines.append(f"| {goal} | `{g['figure']}` | {value} | {g['target']} | {verdict} |")
    load = ", ".join(str(x) for x in info["load_average_at_start"])
    lines += ["", f"Machine: {info['cpu']}, {info['cores_usable']} cores, torch {info['torch']}, "
                  f"CUDA {info['cuda_device'] or 'none'}, load average at start {load}."]
    return "\n".join(lines) + "\n"
