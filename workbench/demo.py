"""`python -m workbench.demo` (what `make demo` runs): the workbench on every file in assets/samples/.

For each file it probes the streams; for audio it prints a mel-spectrogram summary and writes the
spectrogram and waveform plots, and the shipped spoken-digit model labels it (a timeline of
segments for files longer than a few seconds); for video it writes a strip of sampled frames. The
PNGs go to `runs/demo/` (or `--out`). A bad file costs one line and the demo goes on to the next.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench import batch, features, media, tasks
from workbench.features import plots
from workbench.tasks import classify, timeline

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "assets" / "samples"
NOT_MEDIA = {".sh", ".md", ".txt", ".json", ".py"}  # the scripts and notes that live beside the samples
NUM_FRAMES = 8
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "assets" / "models" / "spoken-digits"
TIMELINE_AFTER_S = 3.0   # longer audio gets a timeline of segments instead of one label


def render(path: Path, out_dir: Path, bundle=None) -> list[str]:
    """Probe `path`, write its plots into `out_dir`, label its audio with `bundle` (if any); return what was done."""
    info = media.probe(path)
    kinds = ", ".join(f"{s.kind} {s.codec}" for s in info.streams)
    lines = [f"{path.name}: {info.container}, {info.duration_s or 0:.2f} s, {kinds}"]
    if info.audio is not None:
        cfg = features.SpectrogramConfig()
        audio = media.load_audio(path, sample_rate=cfg.sample_rate, mono=True)
        spec = features.spectrogram(audio.waveform, cfg)[0]  # (1, samples) -> (n_mels, n_frames)
        lines.append(
            f"  {cfg.kind} spectrogram {tuple(spec.shape)} (bins, frames) at {cfg.frame_rate:g} frames/s, "
            f"values {spec.min().item():.1f} .. {spec.max().item():.1f} ({cfg.scale})"
        )
        lines.append(_save(out_dir / f"{path.stem}_spectrogram.png", plots.plot_spectrogram(spec, cfg, title=path.name)))
        waveform_png = plots.plot_waveform(audio.waveform, audio.sample_rate, title=path.name)
        lines.append(_save(out_dir / f"{path.stem}_waveform.png", waveform_png))
        if bundle is not None:
            lines += _label(path, bundle, audio.duration_s)
    if info.video is not None:
        frames = media.read_frames(path, media.Sampling.uniform(NUM_FRAMES), size=features.FrameConfig().size)
        strip_png = plots.plot_frame_strip(frames.frames, frames.times_s, title=path.name)
        lines.append(_save(out_dir / f"{path.stem}_frames.png", strip_png))
    return lines


def _label(path: Path, bundle, duration_s: float) -> list[str]:
    if duration_s > TIMELINE_AFTER_S:
        segments = timeline.timeline(bundle, path)
        return [f"  timeline: {len(segments)} segment(s)"] + [
            f"    {s.start_s:6.2f} - {s.end_s:6.2f} s  {s.label} ({s.confidence:.2f})" for s in segments]
    result = classify.predict(bundle, path)
    return [f"  model says {result.label} ({result.confidence:.2f})"] + (
        [f"  warning: {result.warning}"] if result.warning else [])


def _save(path: Path, png: bytes) -> str:
    path.write_bytes(png)
    return f"  wrote {path}"


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 when every sample worked, 1 when some failed."""
    parser = argparse.ArgumentParser(prog="python -m workbench.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=SAMPLES_DIR, help="folder of media files (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="where the PNGs go (default: %(default)s)")
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="classifier bundle (default: %(default)s)")
    parser.add_argument("--no-model", action="store_true", help="only probe and plot")
    args = parser.parse_args(argv)
    if not args.samples.is_dir():
        print(f"demo: error: {args.samples}: no such folder", file=sys.stderr)
        return 1
    paths = sorted(p for p in args.samples.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() not in NOT_MEDIA)
    args.out.mkdir(parents=True, exist_ok=True)
    bundle = None if args.no_model or not args.model.exists() else tasks.load(args.model)
    outcomes = batch.run(paths, lambda path: render(path, args.out, bundle), on_result=_show)
    num_failed = sum(not outcome.ok for outcome in outcomes)
    print(f"{len(outcomes)} file(s) from {args.samples}, {num_failed} failed; plots in {args.out}")
    return 1 if num_failed else 0


def _show(outcome: batch.Outcome) -> None:
    if outcome.ok:
        print("\n".join(outcome.value))
    else:
        print(f"demo: error: {outcome.error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
