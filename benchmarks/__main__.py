"""`python -m benchmarks [--quick] [--json] [--only NAMES] [--repeats N] [--media-dir DIR] [--markdown-out FILE]`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.audio import bench_audio
from benchmarks.features import bench_spectrograms
from benchmarks.media import DEFAULT_DIR, BenchMedia, make_media
from benchmarks.models import bench_models
from benchmarks.report import Results, goals, machine, markdown
from benchmarks.sampling import bench_uniform
from benchmarks.timing import Budget
from benchmarks.video import bench_decode, bench_resize

SECTIONS = ("decode", "sample", "resize", "audio", "spectrogram", "model", "pipelines")
MEDIA = {  # the test media each section reads (BenchMedia fields); --quick skips the 360p rows
    "decode": ("video_720p", "video_360p"), "sample": ("video_720p",), "resize": ("video_720p", "video_360p"),
    "audio": ("mp3_44k", "wav_16k"), "spectrogram": ("wav_16k",), "model": (), "pipelines": (),
}


def run_section(name: str, results: Results, media: BenchMedia, budget: Budget, quick: bool) -> None:
    """One section's rows and figures; --quick skips the 360p variants and the 2-thread spectrograms."""
    if name == "decode":
        bench_decode(results, media.video_720p, "720p", budget)
        if not quick:
            bench_decode(results, media.video_360p, "360p", budget, prefix="decode360")
    elif name == "sample":
        bench_uniform(results, media.video_720p, budget)
    elif name == "resize":
        bench_resize(results, media.video_720p, "720p", budget)
        if not quick:
            bench_resize(results, media.video_360p, "360p", budget, prefix="resize224_360p")
    elif name == "audio":
        bench_audio(results, media.mp3_44k, media.wav_16k, media.audio_s, budget)
    elif name == "spectrogram":
        bench_spectrograms(results, media.wav_16k, media.audio_s, budget, (1,) if quick else (1, 2))
    elif name == "model":
        bench_models(results, budget)
    elif name == "pipelines":
        results.missing("batch_pipeline_files_per_s", "Batch pipelines", "the batch pipelines do not exist yet")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="short media (10 s video, 1 min audio), 3 repeats, no warm-up, no 360p or 2-thread rows")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the table goes to stderr)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per contender (default 5, --quick 3)")
    parser.add_argument("--media-dir", type=Path, default=DEFAULT_DIR, help=f"test media cache (default {DEFAULT_DIR})")
    parser.add_argument("--markdown-out", type=Path, default=None, help="also write the markdown table here")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine()            # first, so the load average is the one before our own work
    needed = {name for section in args.only for name in MEDIA[section]} - ({"video_360p"} if args.quick else set())
    media = make_media(args.media_dir, args.quick, frozenset(needed))
    results = Results()
    budget = Budget(repeats=args.repeats, warmup=0 if args.quick else 1)
    started = time.perf_counter()
    for name in SECTIONS:
        if name in args.only:
            section_start = time.perf_counter()
            run_section(name, results, media, budget, args.quick)
            print(f"benchmarks: {name} took {time.perf_counter() - section_start:.1f} s", file=sys.stderr, flush=True)
    goal_table = goals(results.figures)
    table = markdown(results, info, goal_table)
    if args.markdown_out:
        args.markdown_out.write_text(table)
    settings = {"quick": args.quick, "repeats": budget.repeats, "warmup_rounds": budget.warmup, "sections": args.only,
                "video_s": media.video_s, "audio_s": media.audio_s,
                "seconds_taken": round(time.perf_counter() - started, 1)}
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps({**results.figures, "unavailable": results.unavailable, "machine": info,
                          "settings": settings, "goals": goal_table}, indent=2))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
