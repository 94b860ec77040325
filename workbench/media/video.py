"""Reading video frames (and clips of frames with their audio) with PyAV.

Frame times are presentation timestamps (pts * time_base) on the file's timeline, so they are right
for variable-frame-rate video. Sparse sampling (uniform, fps) seeks to the keyframe before each
target and decodes forward; the seek is verified (the first frame decoded must not be later than
the target, else we seek further back) so the frames picked are exactly those a full decode picks.
Resizing and RGB conversion happen in one libswscale call inside `to_ndarray`, single-threaded:
on 2 cores that is faster than PyAV's default multi-threaded conversion, which competes with the
frame-threaded decoder.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import math
import mmap
import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch

from workbench.errors import ConfigError, CorruptMediaError, NoVideoStreamError
from workbench.media.audio import Audio, load_audio_span
from workbench.media.probe import (
    MediaInfo,
    MediaLimits,
    check_decoded_duration,
    check_frame_pixels,
    decode_packets,
    open_media,
    probe,
    require_decoder,
    timeline_origin_s,
)
from workbench.media.sampling import Sampling

log = logging.getLogger(__name__)

EPS_S = 1e-6               # tolerance when comparing frame times with target times
MAX_SEEK_TRIES = 6         # seek back 0, 1, 2, 4, 8, 16 s before a target before decoding from the start
MIN_SEEK_GAP_S = 2.0       # without a keyframe index, seek only when the target is this far ahead (or one GOP)
UNKNOWN_COUNT_BUFFER_BYTES = 256 * 1024**2   # first buffer when the frame count is unknown; it grows by doubling
@dataclass(frozen=True)
class Frames:
    """frames (T, H, W, 3) uint8 RGB; times_s (T,) float64 presentation time of each frame on the file's timeline."""

    frames: torch.Tensor
    times_s: torch.Tensor


@dataclass(frozen=True)
class Clip:
    """Frames and the audio of exactly [start_s, end_s) (silence-padded where the audio track has none)."""

    frames: Frames
    audio: Audio | None         # None when the file has no audio stream
    start_s: float
    end_s: float


def read_frames(path: str | Path, sampling: Sampling = Sampling.all(), size: int | tuple[int, int] | None = None,
                limits: MediaLimits | None = None) -> Frames:
    """Decode the frames `sampling` picks -> Frames: frames (T, H, W, 3) uint8, times_s (T,) float64.

    size: None keeps the stream's (displayed) size, an int gives (size, size) frames, a tuple is (width, height)
    of the output. Display rotation (StreamInfo.rotation, multiples of 90 degrees) is applied, so frames
    come out upright as a player shows them: a 640x480 stream flagged 90 gives (T, 640, 480, 3) frames.
    Every frame is converted to the size of the stream's header (probe's width x height) or to `size`,
    so a mid-stream resolution change still gives one (T, H, W, 3) tensor. A file that declares no
    duration (raw H.264, a live MPEG-TS, an unfinalised MKV) is decoded once to find its end.
    """
    limits = limits if limits is not None else MediaLimits.from_env()
    info = probe(path, limits)
    return read_frames_span(path, info, sampling, size, None, None, limits)


def read_clip(path: str | Path, start_s: float, end_s: float, sampling: Sampling = Sampling.all(),
              size: int | tuple[int, int] | None = None, sample_rate: int | None = None, mono: bool = True,
              limits: MediaLimits | None = None) -> Clip:
    """Frames of [start_s, end_s) (picked by `sampling` within that span) with the audio of the same span.

    Both are aligned by presentation timestamps. `end_s` is clamped to the file's duration. The audio
    is (channels, round((end_s - start_s) * rate)) samples, zero-padded where the track starts later
    or ends earlier, and its `start_s` equals the clip's.
    """
    limits = limits if limits is not None else MediaLimits.from_env()
    info = probe(path, limits)
    if not 0 <= start_s < end_s:
        raise ConfigError(f"read_clip needs 0 <= start_s < end_s, got {start_s}, {end_s}")
    if info.duration_s is not None:
        end_s = max(start_s, min(end_s, info.duration_s))
    frames = read_frames_span(path, info, sampling, size, start_s, end_s, limits)
    audio = None
    if info.audio is not None and end_s > start_s:
        loaded = load_audio_span(path, info, start_s, end_s - start_s, sample_rate, mono, limits)
        audio = _fit_audio(loaded, start_s, end_s)
    return Clip(frames, audio, start_s, end_s)


def read_frames_span(path, info: MediaInfo, sampling: Sampling, size, start_s: float | None,
                     end_s: float | None, limits: MediaLimits) -> Frames:
    """read_frames for an already probed file, restricted to [start_s, end_s) when given."""
    if info.video is None:
        raise NoVideoStreamError(path, "no video stream")
    require_decoder(info, info.video)
    if not (info.video.width and info.video.height):
        raise CorruptMediaError(path, "the video stream's frame size is unknown: its header declares none, or "
                                      f"its first frame could not be decoded within max_pixels={limits.max_pixels} "
                                      "(set WORKBENCH_MAX_PIXELS or pass limits=MediaLimits(max_pixels=...))")
    width, height = _frame_size(size, info)
    with contextlib.closing(_Cursor(path, info, limits, keyframes_only=sampling.kind == "keyframes")) as cursor:
        span_start, span_end = _span(cursor, info, sampling, start_s, end_s)
        sink = _FrameSink(path, width, height, info.video.rotation,
                          _expected_count(info, sampling, span_start, span_end))
        if sampling.kind in ("uniform", "fps"):
            _pick_at_targets(cursor, sampling, span_start, span_end, sink)
        else:
            _pick_sequential(cursor, sampling, span_start, span_end, sink)
    return sink.frames()


class _FrameSink:
    """Converts picked frames to RGB as they arrive, into one (T, H, W, 3) buffer that grows by doubling.

    Decoded YUV frames are dropped at once and no final np.stack copy is made: reading every frame of
    a long 720p video needs the output's memory, not two or three times it. np.empty pages that are
    never written cost no memory, so the buffer is sized from the expected count (a known count is
    not capped: growing a 5 GB buffer by doubling costs copies and page faults that measured 2-4x
    the decode itself; it is capped only at the machine's memory). `rotation` (degrees counterclockwise) is applied with np.rot90
    after scaling, so (width, height) is the size of the upright output frame.
    """

    def __init__(self, path, width: int, height: int, rotation: int, capacity: int | None) -> None:
        self.path, self.width, self.height = path, width, height
        self.quarter_turns = rotation // 90 % 4
        frame_bytes = 3 * width * height
        if capacity is None:
            capacity = UNKNOWN_COUNT_BUFFER_BYTES // frame_bytes
        capacity = min(capacity, _memory_bytes() // frame_bytes)
        self.buffer = frame_buffer(max(1, capacity), height, width)
        self.times: list[float] = []
        self._last = None

    def add(self, frame, t: float) -> None:
        n = len(self.times)
        if n == len(self.buffer):
            grown = frame_buffer(2 * n, self.height, self.width)
            grown[:n] = self.buffer
            self.buffer = grown
        if frame is self._last:     # a frame picked for two targets is converted once
            self.buffer[n] = self.buffer[n - 1]
        else:
            # scale to the size before rotation: (height, width) swapped for a quarter turn
            width, height = (self.height, self.width) if self.quarter_turns % 2 else (self.width, self.height)
            try:
                image = _rgb_view(frame.reformat(width=width, height=height, format="rgb24", threads=1))
            except av.error.FFmpegError as err:
                raise CorruptMediaError(self.path, f"cannot convert a video frame: {err}") from None
            self.buffer[n] = np.rot90(image, self.quarter_turns)    # (H, W, 3) upright, as players show it
        self._last = frame
        self.times.append(t)

    def frames(self) -> Frames:
        n = len(self.times)
        return Frames(torch.from_numpy(self.buffer[:n]), torch.tensor(self.times, dtype=torch.float64))


def frame_buffer(count: int, height: int, width: int) -> np.ndarray:
    """An uninitialised (count, height, width, 3) uint8 array in anonymous memory kept off huge pages.

    numpy asks the kernel for transparent huge pages on every large array; where the kernel then
    defragments memory on the first touch of each 2 MB page (defrag "madvise", a common default),
    filling a multi-gigabyte frame buffer stalled there: 7.2 ms to copy one 720p frame against
    1.8 ms on ordinary pages, and 111 against 297 fps for the whole decode (2 cores). Pages are still
    only taken as frames are written. The array keeps its mmap alive.
    """
    size = count * height * width * 3
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    memory = mmap.mmap(-1, max(1, size), flags=flags) if flags else mmap.mmap(-1, max(1, size))
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        memory.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(memory, np.uint8, size).reshape(count, height, width, 3)


def _rgb_view(rgb) -> np.ndarray:
    """(H, W, 3) view of an rgb24 VideoFrame's pixels, without a copy.

    Copying from FFmpeg's pooled frame buffer into the sink measured 1.5-2x faster than
    `to_ndarray`, whose fresh array per frame costs page faults at 720p.
    """
    plane = rgb.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(rgb.height, plane.line_size)      # (H, line_size): padded rows
    return rows[:, : rgb.width * 3].reshape(rgb.height, rgb.width, 3)


def _memory_bytes() -> int:
    """Physical memory of this machine (the most a frame buffer may reserve up front)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def _expected_count(info: MediaInfo, sampling: Sampling, span_start: float, span_end: float) -> int | None:
    """How many frames `sampling` will probably pick (the sink's initial capacity); None when unknown."""
    if sampling.kind == "uniform":
        return sampling.num_frames
    length = max(0.0, span_end - span_start)
    if math.isinf(length):
        return None
    if sampling.kind == "fps":
        return math.ceil(length * sampling.frames_per_s) + 1
    rate = max(info.video.avg_fps or 0.0, info.video.real_fps or 0.0) or 30.0
    return math.ceil(1.02 * length * rate / (sampling.step or 1)) + 2      # 2% slack for VFR and rounding


class _Cursor:
    """Decodes one video stream forward from a (verified) seek point, keeping the current and previous frame."""

    def __init__(self, path, info: MediaInfo, limits: MediaLimits, keyframes_only: bool) -> None:
        self.path, self.limits, self.keyframes_only = path, limits, keyframes_only
        self._open()
        self.origin_s = timeline_origin_s(self.container)
        self.start_s = info.video.start_s
        declared = info.video.duration_s
        self.declared_end_s = self.start_s + declared if declared else None
        self.frame_s = 1.0 / (info.video.avg_fps or info.video.real_fps or 25.0)
        self.frame = self.prev = None
        self.t = self.prev_t = None
        self.eof = True
        self.gop_s = 0.0
        self._last_key_t = None
        self._frames = None
        self._moved = False        # whether the container has been read or seeked since it was opened
        self._keyframe_times = None

    def _open(self) -> None:
        self.container = open_media(self.path)
        self.stream = self.container.streams.video[0]
        ctx = self.stream.codec_context
        ctx.thread_type = "AUTO"
        ctx.options = {"max_pixels": str(self.limits.max_pixels)}   # refuse, not allocate, huge frames
        if self.keyframes_only:
            ctx.skip_frame = "NONKEY"

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
        self.container.close()

    def restart(self, seek_s: float | None) -> None:
        """Seek to the keyframe at or before `seek_s` and decode its first frame; None: from the first packet.

        The start is reached by reopening the file, never by seeking: seeking to the start of an MPEG-TS
        or a raw stream may land late or fail.
        """
        if self._frames is not None:
            self._frames.close()
        if seek_s is None and self._moved:
            self.container.close()
            self._open()
        self._moved = True
        if seek_s is not None:
            ts = math.floor((seek_s + self.origin_s) / self.stream.time_base)
            self.container.seek(ts, stream=self.stream, backward=True, any_frame=False)
        self._frames = decode_packets(self.path, self.container, self.stream, self.limits)
        self.frame = self.prev = self.t = self.prev_t = self._last_key_t = None
        self.eof = False
        self.advance()

    def seek(self, target_s: float) -> None:
        """Position on a frame at or before target_s, so that decoding forward sees every later frame."""
        back_s = 0.0
        for _ in range(MAX_SEEK_TRIES):
            seek_s = target_s - back_s
            if seek_s <= self.start_s:
                break
            try:
                self.restart(seek_s)
            except (av.error.FFmpegError, OverflowError, ValueError):   # PyAV raises several types here
                break
            if self.t is not None and self.t <= target_s + EPS_S:
                return
            back_s = max(1.0, 2 * back_s)
        self.restart(None)

    def advance(self) -> bool:
        frame = next(self._frames, None)
        if frame is None:
            self.eof = True
            self._check_complete()
            return False
        check_frame_pixels(self.path, frame.width, frame.height, self.limits)   # a mid-stream size change
        self.prev, self.prev_t = self.frame, self.t
        self.frame = frame
        if frame.pts is not None:
            self.t = float(frame.pts * self.stream.time_base) - self.origin_s
        else:   # no timestamp: assume the nominal frame duration
            self.t = self.start_s if self.prev_t is None else self.prev_t + self.frame_s
        check_decoded_duration(self.path, self.t - self.start_s, self.limits)
        if frame.key_frame:
            if self._last_key_t is not None:
                self.gop_s = max(self.gop_s, self.t - self._last_key_t)
            self._last_key_t = self.t
        return True

    def should_seek(self, target_s: float) -> bool:
        if self._frames is None or self.t is None:
            return True
        if target_s <= self.t + EPS_S:
            return False
        if self._keyframe_times is None:
            entries = self.stream.index_entries
            self._keyframe_times = [float(e.timestamp * self.stream.time_base) - self.origin_s
                                    for e in entries if e.flags & 1]
        if self._keyframe_times:
            i = bisect.bisect_right(self._keyframe_times, target_s) - 1
            return i >= 0 and self._keyframe_times[i] > self.t + EPS_S
        return target_s - self.t > max(MIN_SEEK_GAP_S, self.gop_s)

    def _check_complete(self) -> None:
        if self.t is None or self.declared_end_s is None or self.stream.codec_context.skip_frame != "DEFAULT":
            return
        decoded_end_s = self.t + self.frame_s
        if self.declared_end_s - decoded_end_s > max(0.25, 0.05 * (self.declared_end_s - self.start_s)):
            raise CorruptMediaError(self.path, f"truncated: the video stream should last until "
                                               f"{self.declared_end_s:.2f} s but its frames end at "
                                               f"{decoded_end_s:.2f} s")


def _span(cursor: _Cursor, info: MediaInfo, sampling: Sampling, start_s, end_s) -> tuple[float, float]:
    """[start, end) on the timeline: the video stream's span, cut by the clip window and by range sampling."""
    span_start = info.video.start_s
    if info.video.duration_s is not None:
        span_end = span_start + info.video.duration_s
    elif info.duration_s is not None:
        span_end = info.duration_s
    else:   # nothing declared: find the last frame
        cursor.restart(None)
        while cursor.advance():
            pass
        span_end = (cursor.t if cursor.t is not None else span_start) + cursor.frame_s
    for window_start, window_end in ((start_s, end_s), (sampling.start_s, sampling.end_s)):
        span_start = max(span_start, window_start) if window_start is not None else span_start
        span_end = min(span_end, window_end) if window_end is not None else span_end
    return span_start, span_end


def _pick_sequential(cursor: _Cursor, sampling: Sampling, span_start: float, span_end: float,
                     sink: _FrameSink) -> None:
    """Every frame in [span_start, span_end) into the sink; every `step`-th one for every(k)."""
    if span_end <= span_start:
        return
    cursor.seek(span_start)
    if cursor.t is None:
        raise CorruptMediaError(cursor.path, "no decodable video frames")
    index, step = 0, sampling.step or 1
    while cursor.t is not None and cursor.t < span_end - EPS_S:
        if cursor.t >= span_start - EPS_S:
            if index % step == 0:
                sink.add(cursor.frame, cursor.t)
            index += 1
        if not cursor.advance():
            break


def _pick_at_targets(cursor: _Cursor, sampling: Sampling, span_start: float, span_end: float,
                     sink: _FrameSink) -> None:
    """uniform: first frame at/after each target; fps: the frame displayed at each target (see Sampling)."""
    length = span_end - span_start
    if length <= 0:
        return
    if sampling.kind == "uniform":
        n = sampling.num_frames
        targets = [span_start + (i + 0.5) * length / n for i in range(n)]
    else:
        rate = sampling.frames_per_s
        targets = [span_start + k / rate for k in range(max(1, math.ceil(length * rate - EPS_S)))]
    for target in targets:
        if cursor.should_seek(target):
            cursor.seek(target)
        if cursor.t is None:
            raise CorruptMediaError(cursor.path, "no decodable video frames")
        if sampling.kind == "uniform":
            while not cursor.eof and cursor.t < target - EPS_S:
                cursor.advance()
            sink.add(cursor.frame, cursor.t)
        else:
            while not cursor.eof and cursor.t <= target + EPS_S:
                cursor.advance()
            use_prev = cursor.t > target + EPS_S and cursor.prev is not None
            sink.add(*((cursor.prev, cursor.prev_t) if use_prev else (cursor.frame, cursor.t)))


def _frame_size(size, info: MediaInfo) -> tuple[int, int]:
    """(width, height) of the output frames."""
    if size is None:
        width, height = info.video.width, info.video.height
        return (height, width) if info.video.rotation in (90, 270) else (width, height)
    width, height = (size, size) if isinstance(size, int) else tuple(size)
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise ConfigError(f"size must be a positive int or a (width, height) pair, got {size!r}")
    return width, height


def _fit_audio(audio: Audio, start_s: float, end_s: float) -> Audio:
    """Pad (zeros) or trim so the audio covers exactly [start_s, end_s) at its own rate."""
    rate = audio.sample_rate
    total = round((end_s - start_s) * rate)
    lead = min(total, max(0, round((audio.start_s - start_s) * rate)))
    body = audio.waveform[:, : total - lead]
    waveform = torch.nn.functional.pad(body, (lead, total - lead - body.shape[1]))
    return Audio(waveform, rate, start_s)
