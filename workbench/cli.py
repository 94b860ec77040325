"""The `workbench` command line: thin handlers around library calls.

Adding a command: write `_add_<name>(subparsers)` (its arguments, ending in
`parser.set_defaults(handler=_cmd_<name>)`) and `_cmd_<name>(args) -> int` (~15 lines around one
library call), then list `_add_<name>` in `COMMANDS`. The global options (`--device`, `-v`) are
added to every subcommand for you, and `main` turns library errors into one line on stderr:

    exit 0  success
    exit 1  a bad input file or an unwritable output ("workbench: error: <path>: <reason>")
    exit 2  a usage error: bad arguments, an unknown `--set` key, a bad `--config` file
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch

from workbench import __version__, config, data, features, media, tasks
from workbench.batch import describe_error
from workbench.batch import run as run_batch
from workbench.errors import ConfigError, WorkbenchError
from workbench.features import plots
from workbench.tasks import adapt, classify, timeline

logger = logging.getLogger("workbench")

PROG = "workbench"
STDIN, STDIN_NAME = "-", "standard input"     # the path that reads a file piped in, and how errors name it


def main(argv: list[str] | None = None) -> int:
    """Run the command line on `argv` (default: `sys.argv[1:]`); return the exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")  # on stderr; stdout stays for results
    logger.setLevel(_log_level(args.verbose))  # the library's loggers are children of "workbench"
    try:
        args.device = config.device(args.device)  # validated once; every handler uses args.device
        return args.handler(args)
    except ConfigError as err:
        return _fail(args, str(err), status=2)
    except BrokenPipeError:      # the reader of our output left (`workbench classify ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # so the exit's flush cannot fail again
        return 141               # 128 + SIGPIPE, as a shell reports a command its pipe's reader stopped
    except (WorkbenchError, OSError) as err:
        message = describe_error(getattr(args, "path", PROG), err)
        if spooled := getattr(args, "spooled", None):           # the temporary copy of standard input
            message = message.replace(str(spooled), STDIN_NAME)
        return _fail(args, message, status=1)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 -- a bug, but the user still gets one line, not a traceback
        return _fail(args, f"internal error: {type(err).__name__}: {err} (run with -v for the traceback)", status=1)


def _fail(args: argparse.Namespace, message: str, *, status: int) -> int:
    if args.verbose:
        traceback.print_exc()
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def _log_level(verbose: int) -> int:
    return logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG


# --- the parser -----------------------------------------------------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="AV Workbench: inspect media, compute features, train and run sequence models."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, default=None)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    for subparser in subparsers.choices.values():
        # also accept `workbench probe x.mp4 -v`; SUPPRESS keeps a subcommand from resetting a
        # value given before it (`workbench -v probe x.mp4`)
        _add_global_options(subparser, default=argparse.SUPPRESS)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--device", default=default, help="cpu, cuda, cuda:1, mps (default: $WORKBENCH_DEVICE, else the best available)"
    )
    group.add_argument(
        "-v", "--verbose", action="count", default=0 if default is None else default,
        help="log progress (-v) or debug details (-vv); show tracebacks on errors",
    )


def _output_path(*suffixes: str) -> Callable[[str], Path]:
    """An argparse `type` accepting paths that end in one of `suffixes` (a wrong suffix exits 2)."""

    def parse(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r} must end in {', '.join(suffixes)}")
        return path

    return parse


def _sampling(text: str) -> media.Sampling:
    try:
        return media.Sampling.parse(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _check_stdin(paths: list[Path]) -> bool:
    """Whether `paths` holds `-` (standard input): given at most once, and with something piped in."""
    given = sum(str(p) == STDIN for p in paths)
    if given > 1:
        raise ConfigError(f"{STDIN!r} (standard input) can be given once")
    if given and sys.stdin.isatty():                  # nothing piped in: say so rather than wait
        raise ConfigError(f"{STDIN!r} reads a file from standard input, which is a terminal here: pipe one in "
                          f"({PROG} ... - < clip.wav)")
    return bool(given)


@contextlib.contextmanager
def _readable(args: argparse.Namespace) -> Iterator[Path]:
    """The file to read for a one-file command's `args.path`: itself, or what is piped in when it is `-`
    (copied to a temporary file, `args.spooled`, whose name `main` turns back into "standard input")."""
    if not _check_stdin([args.path]):
        yield args.path
        return
    with tempfile.TemporaryDirectory(prefix="workbench-") as tmp:
        args.spooled = media.spool(sys.stdin.buffer, Path(tmp) / "stdin")
        yield args.spooled


def _print_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj))  # one object on one line, so `--json` output pipes into jq or a JSONL file


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)  # an unwritable path raises OSError naming the file -> exit 1
    logger.info("wrote %s (%d bytes)", path, len(data))


# --- probe ----------------------------------------------------------------------------------------


def _add_probe(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("probe", help="show the streams, durations and codecs of a media file")
    parser.add_argument("path", type=Path, help="audio or video file; - reads one from standard input")
    parser.add_argument("--json", action="store_true", help="print one JSON object (MediaInfo.to_dict())")
    parser.set_defaults(handler=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    with _readable(args) as path:
        info = media.probe(path)
    if args.json:
        _print_json(info.to_dict() | {"path": str(args.path)})
        return 0
    duration = "unknown duration" if info.duration_s is None else f"{info.duration_s:.3f} s"
    print(f"{args.path}: {info.container}, {duration}, {info.size_bytes} bytes")
    for stream in info.streams:
        print(f"  #{stream.index} {stream.kind:<8} {_describe_stream(stream)}")
    if info.av_offset_s:
        print(f"  audio starts {info.av_offset_s:+.3f} s after video")
    return 0


def _describe_stream(stream: media.StreamInfo) -> str:
    parts = [stream.codec]
    if stream.width is not None:
        parts.append(f"{stream.width}x{stream.height}")
    if stream.avg_fps:
        parts.append(f"{stream.avg_fps:.3f} fps")
    if stream.kind == "video" and stream.num_frames:  # for audio it counts packets, not samples
        parts.append(f"{stream.num_frames} frames")
    if stream.rotation:
        parts.append(f"rotated {stream.rotation} deg")
    if stream.sample_rate is not None:
        parts.append(f"{stream.sample_rate} Hz, {stream.num_channels} ch")
    if stream.bit_depth:
        parts.append(f"{stream.bit_depth} bit")
    duration = "?" if stream.duration_s is None else f"{stream.duration_s:.3f}"
    parts.append(f"start {stream.start_s:.3f} s, {duration} s")
    return ", ".join(parts)


# --- spectrogram ----------------------------------------------------------------------------------


def _add_spectrogram(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("spectrogram", help="compute a mel/MFCC/STFT/CQT spectrogram of a file's audio")
    parser.add_argument("path", type=Path, help="audio or video file (mixed down to mono); - reads standard input")
    parser.add_argument(
        "--out", required=True, type=_output_path(".png", ".npy", ".safetensors"),
        help=".png: a plot; .npy: float32 (num_bins, n_frames); .safetensors: {'spectrogram'} + config metadata",
    )
    parser.add_argument("--kind", choices=["mel", "mfcc", "stft", "cqt"], help="default: the config's (mel)")
    parser.add_argument("--sample-rate", type=int, help="resample to this rate first (default: the config's)")
    _add_config_options(parser, "SpectrogramConfig")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")
    parser.set_defaults(handler=_cmd_spectrogram)


def _add_config_options(parser: argparse.ArgumentParser, config_name: str) -> None:
    parser.add_argument("--config", type=Path, help=f"JSON file of a {config_name}")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override one config value, e.g. --set n_mels=80 (repeatable; unknown keys are errors)",
    )


def _spectrogram_config(args: argparse.Namespace) -> features.SpectrogramConfig:
    """--config, then --set, then --kind/--sample-rate on top."""
    cfg = config.load_json(features.SpectrogramConfig, args.config) if args.config else features.SpectrogramConfig()
    cfg = config.apply_overrides(cfg, args.overrides)
    explicit = {"kind": args.kind, "sample_rate": args.sample_rate}
    return dataclasses.replace(cfg, **{key: value for key, value in explicit.items() if value is not None})


def _cmd_spectrogram(args: argparse.Namespace) -> int:
    cfg = _spectrogram_config(args)
    with _readable(args) as path:
        audio = media.load_audio(path, sample_rate=cfg.sample_rate, mono=True)
    spec = features.spectrogram(audio.waveform.to(args.device), cfg)[0].cpu()  # (1, samples) -> (num_bins, n_frames)
    _write_bytes(args.out, _encode_spectrogram(spec, cfg, args.out.suffix.lower(), title=args.path.name))
    summary = {
        "path": str(args.path), "out": str(args.out), "kind": cfg.kind, "shape": list(spec.shape),
        "frame_rate": cfg.frame_rate, "sample_rate": cfg.sample_rate, "duration_s": audio.duration_s,
    }
    if args.json:
        _print_json(summary)
    else:
        print(f"wrote {args.out}: {cfg.kind} {tuple(spec.shape)} (bins, frames) at {cfg.frame_rate:g} frames/s "
              f"from {audio.duration_s:.3f} s of {args.path} at {cfg.sample_rate} Hz")
    return 0


def _encode_spectrogram(spec: Any, cfg: features.SpectrogramConfig, suffix: str, title: str) -> bytes:
    """The bytes of `spec` (num_bins, n_frames) in the format named by `suffix`."""
    if suffix == ".png":
        return plots.plot_spectrogram(spec, cfg, title=title)
    if suffix == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, spec.numpy().astype(np.float32, copy=False))
        return buffer.getvalue()
    metadata = {"config": json.dumps(config.to_dict(cfg))}  # safetensors metadata is str -> str
    return safetensors.torch.save({"spectrogram": spec.float().contiguous()}, metadata=metadata)


# --- frames ---------------------------------------------------------------------------------------


def _add_frames(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("frames", help="decode sampled video frames to a contact sheet or an array")
    parser.add_argument("path", type=Path, help="video file; - reads one from standard input")
    parser.add_argument(
        "--out", required=True, type=_output_path(".png", ".npy"),
        help=".png: thumbnails labelled with their times; .npy: uint8 (T, H, W, 3) RGB",
    )
    parser.add_argument(
        "--sampling", type=_sampling, default=features.FrameConfig.sampling,
        help="uniform:N, fps:X, range:T0:T1, every:K, keyframes or all (default: %(default)s)",
    )
    parser.add_argument("--size", type=int, help="resize to SIZE x SIZE pixels (default: the video's own size)")
    parser.add_argument("--json", action="store_true", help="print one JSON object describing the result")
    parser.set_defaults(handler=_cmd_frames)


def _cmd_frames(args: argparse.Namespace) -> int:
    with _readable(args) as path:
        frames = media.read_frames(path, sampling=args.sampling, size=args.size)
    if args.out.suffix.lower() == ".png":
        data = plots.plot_frame_strip(frames.frames, frames.times_s, title=args.path.name)
    else:
        buffer = io.BytesIO()
        np.save(buffer, frames.frames.numpy())  # (T, H, W, 3) uint8
        data = buffer.getvalue()
    _write_bytes(args.out, data)
    if args.json:
        _print_json({
            "path": str(args.path), "out": str(args.out), "num_frames": int(frames.frames.shape[0]),
            "shape": list(frames.frames.shape), "times_s": frames.times_s.tolist(),
        })
    else:
        print(f"wrote {args.out}: {frames.frames.shape[0]} frames of {args.path}, shape {tuple(frames.frames.shape)}")
    return 0


# --- train / evaluate / classify / export ----------------------------------------------------------


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model (task: classifier)")
    parser.add_argument("task", choices=["classifier"], help="what to train")
    parser.add_argument("--data", required=True, type=Path,
                        help="folder per class, FSDD folder, or a CSV/JSONL manifest (path,label[,group])")
    parser.add_argument("--out", required=True, type=Path, help="run directory (logs, checkpoints, model/ bundle)")
    parser.add_argument("--resume", action="store_true", help="continue after the last checkpoint in --out")
    parser.add_argument("--test-groups", help="comma-separated groups (e.g. speakers) to hold out for testing")
    _add_config_options(parser, "ClassifyConfig")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the results")
    parser.set_defaults(handler=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    cfg = config.load_json(classify.ClassifyConfig, args.config) if args.config else classify.ClassifyConfig()
    cfg = config.apply_overrides(cfg, args.overrides)
    examples = data.find_examples(args.data)
    groups = args.test_groups.split(",") if args.test_groups else None
    with tqdm(desc="train", unit="step", disable=args.json, dynamic_ncols=True) as bar:
        def on_step(log) -> None:  # the gradient norm is shown live: watch it explode or vanish
            bar.update(1)
            bar.set_postfix(epoch=log.epoch, loss=f"{log.loss:.3f}", grad_norm=f"{log.grad_norm:.2f}")

        report = classify.train(cfg, examples, args.out, args.device, args.resume, groups, on_step=on_step)
    summary = {"run_dir": str(report.run_dir), "model": str(report.bundle_dir), "best_epoch": report.fit.best_epoch,
               "val": report.fit.best_val, "counts": report.counts, "test_groups": report.test_groups,
               "test": None if report.test is None else {"accuracy": report.test.accuracy, "macro_f1": report.test.macro_f1, "n": report.test.n},
               "unreadable": [f.error for f in report.failures]}
    if args.json:
        _print_json(summary)
    else:
        print(json.dumps(summary, indent=2))
    return 1 if report.failures else 0


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="accuracy, macro-F1, per-class figures and confusion matrix")
    parser.add_argument("--model", required=True, type=Path, help="model bundle (or run directory)")
    parser.add_argument("--data", required=True, type=Path, help="folder per class, FSDD folder or manifest")
    parser.add_argument("--out", type=Path, help="write evaluation.json and confusion.png/.json here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    bundle = tasks.load(args.model, args.device)
    result = classify.evaluate(bundle, data.find_examples(args.data)).to_dict()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "evaluation.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.out / "confusion.json").write_text(json.dumps({"labels": result["labels"], "confusion": result["confusion"]}) + "\n")
        _write_bytes(args.out / "confusion.png", plots.plot_confusion(result["confusion"], result["labels"], title=str(args.data)))
    if args.json:
        _print_json(result)
    else:
        print(f"accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  n {result['n']}")
        for label, row in result["per_class"].items():
            print(f"  {label:>12}  precision {row['precision']:.3f}  recall {row['recall']:.3f}  support {row['support']}")
        print("by the probability of the answer:")
        for row in result["confidence"]:
            accuracy = f"{row['accuracy']:.3f}" if row["accuracy"] is not None else "n/a"
            print(f"  {row['range']:>12}  {row['share']:6.1%} of files  accuracy {accuracy}")
    for failure in result["failures"]:
        print(f"{PROG}: error: {failure['error']}", file=sys.stderr)
    return 1 if result["failures"] else 0


def _add_adapt(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("adapt", help="refit a classifier's last layer on a few labelled clips of a new speaker")
    parser.add_argument("--model", required=True, type=Path, help="model bundle (or run directory)")
    parser.add_argument("--data", required=True, type=Path,
                        help="the speaker's labelled clips: folder per class, FSDD-named files or manifest")
    parser.add_argument("--out", required=True, type=Path, help="where the adapted bundle goes (replaced if there)")
    parser.add_argument("--weight-decay", type=float, default=adapt.AdaptConfig.weight_decay,
                        help="how hard the refit layer is pulled towards its trained weights (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_cmd_adapt)


def _cmd_adapt(args: argparse.Namespace) -> int:
    bundle = tasks.load(args.model, args.device)
    if bundle.task != "classify":
        raise ConfigError(f"{args.model}: a {bundle.task!r} bundle; adapt refits a classifier's head")
    result = adapt.adapt(bundle, data.find_examples(args.data), args.out, adapt.AdaptConfig(weight_decay=args.weight_decay))
    if args.json:
        _print_json(result.to_dict())
    else:
        print(adapt.describe(result))
    for failure in result.failures:
        print(f"{PROG}: error: {failure.error}", file=sys.stderr)
    return 1 if result.failures else 0


def _add_classify(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("classify", help="label audio files (or a timeline of a long file)")
    parser.add_argument("--model", required=True, type=Path, help="model bundle (or run directory)")
    parser.add_argument("paths", nargs="+", type=Path,
                        help="files or folders of any audio/video format; - reads one file from standard input")
    parser.add_argument("--top-k", type=_positive_int, default=3, help="how many labels to show (default: %(default)s)")
    parser.add_argument("--timeline", action="store_true",
                        help="segment long files with sliding windows (a frames-head model: a label per step)")
    parser.add_argument("--window", type=float,
                        help=f"timeline window (s): the span labelled at once (default: "
                             f"{timeline.TimelineConfig.window_s:g} s, or {timeline.TimelineConfig.steps_window_s:g} s "
                             f"of steps per pass for a frames-head model)")
    parser.add_argument("--hop", type=float, default=timeline.TimelineConfig.hop_s,
                        help="timeline hop (s) of a window-head model's sliding windows (default: %(default)s)")
    parser.add_argument("--context", type=float, default=timeline.TimelineConfig.context_s,
                        help="timeline of a frames-head model: what each pass also hears on either side of its "
                             "steps (s, default: %(default)s)")
    parser.add_argument("--no-gate", action="store_true", help="timeline: classify silence too")
    parser.add_argument("--keep-lines", action="store_true",
                        help="leave tones that sound throughout the file (a whine, mains hum) in; by default the "
                             "timeline notches them out before the gate and the model, and so does a model that "
                             "sets notch_lines for a single clip")
    parser.add_argument("--keep-novel", action="store_true",
                        help="timeline: keep segments that sound unlike the model's training clips, hold no voiced "
                             "sound or hold a pitch too still for a voice (dropped by default when the model sets "
                             "novelty_threshold, warn_no_voice or warn_steady_tone)")
    parser.add_argument("--json", action="store_true", help="one JSON line per file")
    parser.set_defaults(handler=_cmd_classify)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cmd_classify(args: argparse.Namespace) -> int:
    reads_stdin = _check_stdin(args.paths)
    bundle = tasks.load(args.model, args.device)               # loaded once for every file
    if args.keep_lines and isinstance(bundle.cfg, classify.ClassifyConfig):
        bundle = dataclasses.replace(bundle, cfg=dataclasses.replace(bundle.cfg, notch_lines=False))
    with tempfile.TemporaryDirectory(prefix="workbench-") as tmp:
        names: dict[Path, str] = {}                            # spooled file -> the name the user knows it by
        if reads_stdin:
            names[media.spool(sys.stdin.buffer, Path(tmp) / "stdin")] = STDIN
        files = data.media_files([next(iter(names)) if str(p) == STDIN else p for p in args.paths])
        show = lambda o: _show_classification(o, args, bundle.cfg, names)  # noqa: E731
        if args.timeline:
            # --window is the span labelled at once, whichever head: a window head's window or a frames head's pass
            window = {} if args.window is None else {"window_s": args.window, "steps_window_s": args.window}
            hop_s = min(args.hop, window.get("window_s", timeline.TimelineConfig.window_s))
            cfg = timeline.TimelineConfig(**window, hop_s=hop_s, context_s=args.context, gate=not args.no_gate,
                                          skip_novel=not args.keep_novel, notch_lines=not args.keep_lines)
            outcomes = run_batch(files, lambda path: timeline.timeline(bundle, path, cfg), on_result=show)
        else:
            outcomes = classify.predict_files(bundle, files, on_result=show)   # the model runs on batches of files
    return 0 if all(o.ok for o in outcomes) else 1


def _show_classification(outcome, args: argparse.Namespace, cfg: classify.ClassifyConfig,
                         names: dict[Path, str]) -> None:
    path = names.get(outcome.item, str(outcome.item))
    if not outcome.ok:
        error = outcome.error.replace(str(outcome.item), STDIN_NAME, 1) if outcome.item in names else outcome.error
        if args.json:
            _print_json({"path": path, "error": error})
        print(f"{PROG}: error: {error}", file=sys.stderr)
    elif args.timeline:
        segments = [dataclasses.asdict(s) for s in outcome.value]
        if args.json:
            _print_json({"path": path, "segments": segments})
        else:
            print(f"{path}:")
            if not segments:
                print("  no segments: nothing rose above the silence gate that the model could label"
                      if not args.no_gate else "  no segments: nothing the model could label")
            for s in segments:
                print(f"  {s['start_s']:8.2f} - {s['end_s']:8.2f} s  {s['label']}  ({s['confidence']:.2f})")
    else:
        top, warning = outcome.value.top(args.top_k), outcome.value.warning
        if classify.long_file_warning(cfg, outcome.value.duration_s):     # that reason comes last in the warning
            warning = f"{warning} (--timeline)"
        if args.json:
            _print_json({"path": path, "label": outcome.value.label, "confidence": outcome.value.confidence,
                         "probabilities": dict(top), "duration_s": outcome.value.duration_s}
                        | ({"novelty": round(outcome.value.novelty, 3)} if outcome.value.novelty is not None else {})
                        | ({"warning": warning} if warning else {}))
        else:
            print(f"{path}: {outcome.value.label}  " + "  ".join(f"{label} {p:.3f}" for label, p in top))
        if warning:
            print(f"{PROG}: warning: {STDIN_NAME if outcome.item in names else path}: {warning}", file=sys.stderr)


def _add_export(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export a model to ONNX or TorchScript")
    parser.add_argument("--model", required=True, type=Path, help="model bundle (or run directory)")
    parser.add_argument("--format", required=True, choices=["onnx", "torchscript"])
    parser.add_argument("--out", type=Path, help="output file (default: model.onnx / model.pt in the bundle)")
    parser.set_defaults(handler=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    bundle = tasks.load(args.model, "cpu")
    out = args.out or bundle.path / ("model.onnx" if args.format == "onnx" else "model.pt")
    classify.export(bundle, args.format, out)
    per = "steps, " if bundle.cfg.model.head == "frames" else ""      # the many-to-many head: a distribution per step
    print(f"wrote {out}: spectrogram ({bundle.cfg.features.num_bins} bins, frames) -> logits ({per}{len(bundle.labels)} labels)")
    return 0


# Subcommands in the order `workbench --help` lists them. Add yours here.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_probe, _add_spectrogram, _add_frames, _add_train, _add_evaluate, _add_adapt, _add_classify, _add_export,
]


if __name__ == "__main__":
    sys.exit(main())
