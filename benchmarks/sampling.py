"""Sparse sampling section: 16 frames spread uniformly over the video, resized to 224x224.

Every contender picks the same frames: the first frame at or after the middle of each of 16 equal
segments (ours' `Sampling.uniform` rule), found by one full decode that also checks that ours
returns exactly those frames.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from benchmarks.report import Measure, Results, compare
from benchmarks.timing import Budget, Failed, race
from benchmarks.video import SIZE, THREADS_NOTE, torchcodec_decoder
from workbench.media import Sampling, probe, read_frames

NUM_FRAMES = 16
EPS_S = 1e-6


def uniform_targets(path: Path) -> list[float]:
    """Target times of Sampling.uniform(16): the middle of each of 16 equal segments of the stream."""
    video = probe(path).video
    length = video.duration_s
    return [video.start_s + (i + 0.5) * length / NUM_FRAMES for i in range(NUM_FRAMES)]


def decode_all_224(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every frame's time (s, on the file's timeline) and its 224x224 RGB picture, by PyAV."""
    times, pictures = [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        origin_s = (container.start_time or 0) / av.time_base
        for frame in container.decode(stream):
            times.append(float(frame.pts * stream.time_base) - origin_s)
            pictures.append(frame.to_ndarray(format="rgb24", width=SIZE, height=SIZE, threads=1))
    return np.array(times), np.stack(pictures)


def pick_indices(times: np.ndarray, targets: list[float]) -> list[int]:
    """Index of the first frame at or after each target."""
    return [int(np.searchsorted(times, t - EPS_S, side="left")) for t in targets]


def full_decode_pick(path: Path, indices: list[int]) -> np.ndarray:
    """Decode every frame with PyAV, convert only the picked ones."""
    wanted, picked = set(indices), {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                picked[i] = frame.to_ndarray(format="rgb24", width=SIZE, height=SIZE)
            if i >= indices[-1]:
                break
    return np.stack([picked[i] for i in indices])


def opencv_seek(path: Path, indices: list[int]) -> np.ndarray:
    """cv2.VideoCapture with CAP_PROP_POS_FRAMES before each frame, resized with cv2.resize."""
    import cv2
    capture = cv2.VideoCapture(str(path))
    frames = []
    for index in indices:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        if not ok:
            raise RuntimeError(f"OpenCV could not read frame {index}")
        frames.append(cv2.cvtColor(cv2.resize(frame, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR),
                                   cv2.COLOR_BGR2RGB))
    capture.release()
    return np.stack(frames)


def check_exact(path: Path, times: np.ndarray, pictures: np.ndarray, indices: list[int]) -> tuple[bool, str]:
    """Do ours' frames equal those a full decode picks at the same times (same times, same pixels)?"""
    ours = read_frames(path, Sampling.uniform(NUM_FRAMES), size=SIZE)
    if len(ours.times_s) != len(indices):
        return False, f"ours gave {len(ours.times_s)} frames, expected {len(indices)}"
    wrong_times = int((np.abs(ours.times_s.numpy() - times[indices]) > EPS_S).sum())
    wrong_pixels = int(sum(not np.array_equal(a, b) for a, b in zip(ours.frames.numpy(), pictures[indices])))
    if wrong_times or wrong_pixels:
        return False, f"{wrong_times} frames at other times, {wrong_pixels} with other pixels"
    return True, "frame-exact vs a full decode"


def bench_uniform(results: Results, path: Path, budget: Budget) -> None:
    """Uniform 16-frame sampling + resize to 224: ours vs full decode + pick, OpenCV seeking, TorchCodec."""
    targets = uniform_targets(path)
    times, pictures = decode_all_224(path)
    indices = pick_indices(times, targets)
    exact, how = check_exact(path, times, pictures, indices)
    results.figures["uniform16_frame_exact"] = exact
    make_decoder = torchcodec_decoder(path, SIZE)
    if isinstance(make_decoder, Failed):
        tc_at = tc_played = make_decoder          # reported as unavailable, with its reason
    else:
        def tc_at():
            return make_decoder().get_frames_at(indices).data

        def tc_played():
            return make_decoder().get_frames_played_at(targets).data
    contenders = {
        "ours": lambda: read_frames(path, Sampling.uniform(NUM_FRAMES), size=SIZE),
        "full_decode": lambda: full_decode_pick(path, indices),
        "opencv": lambda: opencv_seek(path, indices),
        "torchcodec": tc_at,
        "torchcodec_played_at": tc_played,
    }
    outcomes = race(contenders, budget)
    labels = {"torchcodec": "TorchCodec get_frames_at (the goal)",
              "torchcodec_played_at": "TorchCodec get_frames_played_at",
              "full_decode": "PyAV full decode + pick", "opencv": "OpenCV CAP_PROP_POS_FRAMES seeks"}
    video = probe(path).video
    compare(results, Measure("uniform16", "seconds", "ratio"), outcomes, labels,
            f"Uniform 16 frames @224 from {video.duration_s:.0f} s {video.height}p",
            f"ours {how}; TorchCodec: exact seeks, its Resize; {THREADS_NOTE}")
