"""Video sections: full decode to RGB frames, and decode plus resize to 224x224.

Thread settings, the same for every in-process decoder: FFmpeg frame+slice threads with FFmpeg's
automatic count (thread_type AUTO, thread_count 0) in ours and PyAV, num_ffmpeg_threads=0 in
TorchCodec, the CLI's default (auto); OpenCV uses its FFmpeg backend's default. The ffmpeg CLI
contenders run as subprocesses (their start-up, ~50 ms, is in their time) and skip the audio
stream (-an), as ours does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from benchmarks.report import Measure, Results, compare
from benchmarks.timing import Budget, Failed, race
from workbench.media import Sampling, probe, read_frames
from workbench.media.video import frame_buffer

THREADS_NOTE = "decoder threads: FFmpeg auto, all"
SIZE = 224


def ffmpeg(path: Path, *args: str) -> Callable[[], None]:
    """A contender that runs `ffmpeg -i path -an ARGS -f null -` and discards the output."""
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-an", *args, "-f", "null", "-"]
    return lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def ffmpeg_pipe(path: Path, num_frames: int, width: int, height: int) -> Callable[[], np.ndarray]:
    """The reference: ffmpeg decodes and converts to rgb24, we read the raw frames into one array.

    The array is ours' `frame_buffer` (off transparent huge pages), not np.empty: numpy's huge-page
    request made the first touch of a 5 GB buffer stall on this kernel (90 against 244 fps for 720p),
    which measured the kernel's defragmenter instead of ffmpeg.
    """
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-an", "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-"]

    def run() -> np.ndarray:
        frames = frame_buffer(num_frames, height, width)
        with subprocess.Popen(command, stdout=subprocess.PIPE) as proc:
            got = proc.stdout.readinto(memoryview(frames).cast("B"))
            rest = proc.stdout.read()
        if proc.returncode or rest or got != frames.nbytes:
            raise RuntimeError(f"ffmpeg pipe gave {got + len(rest)} bytes, expected {frames.nbytes}")
        return frames
    return run


def pyav_frames(path: Path, size: int | None = None) -> list[np.ndarray]:
    """PyAV used naively (with the same threads as ours): every frame to an RGB array."""
    dims = {} if size is None else {"width": size, "height": size}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return [frame.to_ndarray(format="rgb24", **dims) for frame in container.decode(stream)]


def opencv_frames(path: Path) -> list[np.ndarray]:
    """cv2.VideoCapture read loop, BGR converted to RGB."""
    import cv2
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    if not frames:
        raise RuntimeError("OpenCV decoded no frames")
    return frames


def opencv_or_failed(path: Path) -> Callable[[], object] | Failed:
    try:
        import cv2
    except ImportError as err:
        return Failed(f"opencv not installed ({err})")
    capture = cv2.VideoCapture(str(path))
    opened = capture.isOpened()
    capture.release()
    return (lambda: opencv_frames(path)) if opened else Failed("cv2.VideoCapture cannot open the MP4")


def torchcodec_decoder(path: Path, size: int | None = None):
    """A TorchCodec VideoDecoder (NHWC, FFmpeg's automatic thread count), or Failed saying why not."""
    try:
        from torchcodec.decoders import VideoDecoder
        from torchcodec.transforms import Resize
    except (ImportError, OSError, RuntimeError) as err:   # not installed, or no FFmpeg libraries it can load
        return Failed(f"torchcodec unavailable: {type(err).__name__}: {str(err).splitlines()[0][:120]}")
    transforms = None if size is None else [Resize((size, size))]

    def make():
        return VideoDecoder(str(path), dimension_order="NHWC", num_ffmpeg_threads=0, transforms=transforms)
    try:
        make()
    except (RuntimeError, ValueError) as err:
        return Failed(f"torchcodec cannot open the file: {str(err).splitlines()[0][:120]}")
    return make


def torchcodec_all(path: Path) -> Callable[[], object] | Failed:
    make = torchcodec_decoder(path)
    if isinstance(make, Failed):
        return make

    def run():
        decoder = make()
        return decoder.get_frames_in_range(0, decoder.metadata.num_frames).data
    return run


def bench_decode(results: Results, path: Path, label: str, budget: Budget, prefix: str = "decode") -> None:
    """Full decode to RGB frames: ours vs the ffmpeg pipe (reference), the CLI ceilings, PyAV, OpenCV, TorchCodec."""
    video = probe(path).video
    num_frames = _count_frames(path)
    contenders = {
        "ours": lambda: read_frames(path, Sampling.all()),
        "ffmpeg_pipe": ffmpeg_pipe(path, num_frames, video.width, video.height),
        "ffmpeg_rgb_null": ffmpeg(path, "-pix_fmt", "rgb24"),
        "ffmpeg_null": ffmpeg(path),
        "pyav": lambda: pyav_frames(path),
        "opencv": opencv_or_failed(path),
        "torchcodec": torchcodec_all(path),
    }
    outcomes = race(contenders, budget)
    labels = {"ffmpeg_pipe": "ffmpeg rgb24 pipe → numpy (reference)",
              "ffmpeg_null": "`ffmpeg -f null` (decode only; the goal)",
              "ffmpeg_rgb_null": "`ffmpeg -pix_fmt rgb24 -f null` (decode + convert)",
              "pyav": "PyAV naive", "opencv": "OpenCV read loop", "torchcodec": "TorchCodec"}
    compare(results, Measure(prefix, "fps", "fps_ratio", num_frames), outcomes, labels,
            f"Full decode {label} → RGB, {num_frames} frames", THREADS_NOTE)


def bench_resize(results: Results, path: Path, label: str, budget: Budget, prefix: str = "resize224") -> None:
    """Decode plus resize to 224x224 RGB: ours vs ffmpeg's scale filter (bicubic, the goal; and bilinear)."""
    num_frames = _count_frames(path)
    contenders = {
        "ours": lambda: read_frames(path, Sampling.all(), size=SIZE),
        "ffmpeg_scale": ffmpeg(path, "-vf", f"scale={SIZE}:{SIZE}", "-pix_fmt", "rgb24"),
        "ffmpeg_scale_bilinear": ffmpeg(path, "-vf", f"scale={SIZE}:{SIZE}:flags=bilinear", "-pix_fmt", "rgb24"),
        "pyav": lambda: pyav_frames(path, SIZE),
    }
    outcomes = race(contenders, budget)
    labels = {"ffmpeg_scale": "`ffmpeg -vf scale=224:224 -pix_fmt rgb24 -f null` (bicubic; the goal)",
              "ffmpeg_scale_bilinear": "ffmpeg scale, flags=bilinear (ours' interpolation)",
              "pyav": "PyAV naive to_ndarray(width, height)"}
    compare(results, Measure(prefix, "fps", "ratio", num_frames), outcomes, labels,
            f"Decode + resize {label} → 224x224 RGB", f"ours: swscale bilinear, 1 thread; {THREADS_NOTE}")


def _count_frames(path: Path) -> int:
    """The stream's frame count (the test media are constant frame rate, so the container knows it)."""
    video = probe(path).video
    if video.num_frames:
        return video.num_frames
    return round(video.duration_s * video.avg_fps)
