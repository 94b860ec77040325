"""What a media file holds (containers, streams, timing), and the checks every reader runs first.

`probe` opens a file with PyAV (FFmpeg), maps every failure to a `MediaError` subclass that names
the file, and enforces `MediaLimits` before anything is decoded. All times are seconds on the
file's timeline: 0 is the container's start (the earliest stream start), computed from
presentation timestamps, so an audio track that starts 0.5 s after the video has `start_s=0.5`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av

from workbench.errors import (
    ConfigError,
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MediaLimitError,
    MediaNotFoundError,
    NotMediaError,
    UnsupportedCodecError,
)

log = logging.getLogger(__name__)

# first bytes of containers FFmpeg reads: a file that starts like one but does not open is corrupt,
# anything else is "not a media file"
_MAGIC_AT_0 = (b"RIFF", b"RF64", b"\x1a\x45\xdf\xa3", b"OggS", b"fLaC", b"ID3", b"FORM", b"caff", b".snd",
               b"\x00\x00\x01\xba", b"\x30\x26\xb2\x75")
_MAGIC_AT_4 = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")
PROBE_MAX_PACKETS = 500    # packets read to find each stream's first decodable frame
MAX_BAD_PACKETS = 8        # packets a decoder may reject (and we skip, as ffmpeg does) before the file is corrupt


@dataclass(frozen=True)
class MediaLimits:
    """Upper bounds checked from the file's header before anything is decoded.

    `MediaLimits.from_env()` (what readers use when given `limits=None`) reads
    WORKBENCH_MAX_DURATION_S, WORKBENCH_MAX_PIXELS and WORKBENCH_MAX_FILE_BYTES.
    """

    max_duration_s: float = 4 * 3600
    max_pixels: int = 7680 * 4320      # width * height of a video stream
    max_file_bytes: int = 8 * 1024**3

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not value > 0:
                raise ConfigError(f"MediaLimits.{field.name} must be positive, got {value!r}")

    @classmethod
    def from_env(cls) -> MediaLimits:
        kwargs: dict[str, float | int] = {}
        for name, env, kind in (("max_duration_s", "WORKBENCH_MAX_DURATION_S", float),
                                ("max_pixels", "WORKBENCH_MAX_PIXELS", int),
                                ("max_file_bytes", "WORKBENCH_MAX_FILE_BYTES", int)):
            raw = os.environ.get(env)
            if raw:
                try:
                    kwargs[name] = kind(float(raw)) if kind is int else kind(raw)
                except ValueError:
                    raise ConfigError(f"{env}={raw!r} is not a number") from None
        return cls(**kwargs)


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a container. `duration_s` is what the file declares for this stream (None if nothing)."""

    index: int
    kind: str                  # "video" | "audio" | "subtitle" | "data"
    codec: str
    start_s: float             # stream start on the file's timeline
    duration_s: float | None
    width: int | None = None
    height: int | None = None
    avg_fps: float | None = None       # average frame rate (frames / duration)
    real_fps: float | None = None      # real base frame rate (lowest rate all timestamps fit)
    num_frames: int | None = None      # when the container knows it
    rotation: int = 0                  # display rotation, degrees counterclockwise (read_frames applies it)
    sample_rate: int | None = None
    num_channels: int | None = None
    bit_depth: int | None = None       # PCM / lossless sample depth when known


@dataclass(frozen=True)
class MediaInfo:
    path: str
    container: str
    duration_s: float | None
    size_bytes: int
    streams: tuple[StreamInfo, ...]

    @property
    def video(self) -> StreamInfo | None:
        """The first video stream."""
        return next((s for s in self.streams if s.kind == "video"), None)

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream."""
        return next((s for s in self.streams if s.kind == "audio"), None)

    @property
    def av_offset_s(self) -> float | None:
        """audio.start_s - video.start_s: positive when the audio starts after the video."""
        if self.audio is None or self.video is None:
            return None
        return self.audio.start_s - self.video.start_s

    def to_dict(self) -> dict:
        """JSON-ready dict, with the derived `av_offset_s` added."""
        return {**dataclasses.asdict(self), "streams": [dataclasses.asdict(s) for s in self.streams],
                "av_offset_s": self.av_offset_s}


def probe(path: str | Path, limits: MediaLimits | None = None) -> MediaInfo:
    """Describe a media file. Only the first frame of each stream is decoded (true start time, rotation).

    Raises MediaNotFoundError, EmptyMediaError, NotMediaError, CorruptMediaError or MediaLimitError
    (file size before opening; duration and pixels from the header).
    """
    limits = limits if limits is not None else MediaLimits.from_env()
    size_bytes = check_file(path, limits)
    with open_media(path, limits.max_pixels) as container:
        origin_s = timeline_origin_s(container)
        duration_s = container.duration / av.time_base if container.duration is not None else None
        header = MediaInfo(str(path), container.format.name, duration_s, size_bytes,
                           tuple(_stream_info(path, stream, origin_s, None) for stream in container.streams))
        if header.video is None and header.audio is None:
            raise NotMediaError(path, "no audio or video stream (not a media file)")
        _check_limits(header, limits)    # before anything is decoded
        if header.container == "wav":
            check_wav_length(path, size_bytes)
        first_frames = _first_frames(container, limits.max_pixels)
        streams = tuple(_stream_info(path, stream, origin_s, first_frames.get(stream.index))
                        for stream in container.streams)
    info = dataclasses.replace(header, streams=streams)
    _check_limits(info, limits)    # the first frames may be larger than the header said
    return info


def check_file(path: str | Path, limits: MediaLimits) -> int:
    """The file's size in bytes, after checking it exists, is not empty and is within `max_file_bytes`."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise MediaNotFoundError(path, "file not found") from None
    except OSError as err:
        raise MediaNotFoundError(path, f"cannot access file: {err.strerror}") from None
    if not Path(path).is_file():
        raise MediaNotFoundError(path, "not a regular file")
    if stat.st_size == 0:
        raise EmptyMediaError(path, "file is empty (0 bytes)")
    if stat.st_size > limits.max_file_bytes:
        raise MediaLimitError(path, f"file size {stat.st_size} bytes exceeds the limit of {limits.max_file_bytes} "
                                    "bytes (set WORKBENCH_MAX_FILE_BYTES or pass "
                                    "limits=MediaLimits(max_file_bytes=...))")
    return stat.st_size


def spool(stream: BinaryIO, path: str | Path, limits: MediaLimits | None = None) -> Path:
    """Copy a stream that cannot seek (a pipe, standard input) into the file `path`, for the readers.

    FFmpeg and libsndfile seek in most containers, so piped media is read through a file. At most one
    byte more than `max_file_bytes` is copied: the readers' own checks then report an empty or too
    large stream as they report such a file.
    """
    limits = limits if limits is not None else MediaLimits.from_env()
    path = Path(path)
    left = limits.max_file_bytes + 1
    with open(path, "wb") as out:
        while left > 0 and (chunk := stream.read(min(left, 1 << 20))):
            out.write(chunk)
            left -= len(chunk)
    return path


def open_media(path: str | Path, max_pixels: int | None = None) -> av.container.InputContainer:
    """av.open with FFmpeg's errors mapped to MediaError subclasses. Use as a context manager.

    With `max_pixels`, the decoders FFmpeg runs while opening (to find a PNG's or JPEG's size, say)
    refuse larger frames instead of allocating them; such a stream is left without a size.
    """
    # one options dict per stream; streams past the 32nd get FFmpeg's defaults
    stream_options = [{"max_pixels": str(max_pixels)}] * 32 if max_pixels is not None else None
    try:
        try:
            return av.open(str(path), mode="r", metadata_errors="replace", stream_options=stream_options)
        except ValueError as err:
            if stream_options is None or isinstance(err, av.error.FFmpegError):
                raise
            # PyAV refuses per-stream options for formats whose streams appear only while probing
            # (MPEG-PS, some MP3s): open those without the option
            log.debug("%s: opening without max_pixels: %s", path, err)
            return av.open(str(path), mode="r", metadata_errors="replace")
    except av.error.InvalidDataError:
        if _looks_like_media(path):
            raise CorruptMediaError(path, "truncated or corrupt: the container header cannot be read") from None
        raise NotMediaError(path, "not a media file FFmpeg recognises") from None
    except av.error.FileNotFoundError:
        raise MediaNotFoundError(path, "file not found") from None
    except av.error.PermissionError:
        raise MediaError(path, "permission denied") from None
    except av.error.FFmpegError as err:
        raise CorruptMediaError(path, f"cannot open: {err.strerror or err}") from None


def timeline_origin_s(container: av.container.InputContainer) -> float:
    """Container start in seconds: timestamps minus this are times on the file's timeline."""
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def require_decoder(info: MediaInfo, stream: StreamInfo) -> None:
    """UnsupportedCodecError when this FFmpeg build has no decoder for the stream."""
    if stream.codec == "unknown":
        raise UnsupportedCodecError(info.path, f"{stream.kind} stream {stream.index} uses a codec this FFmpeg build "
                                               "cannot decode")


def decode_packets(path: str | Path, container: av.container.InputContainer, stream: av.stream.Stream,
                   limits: MediaLimits | None = None) -> Iterator:
    """Decoded frames of one stream in presentation order; FFmpeg errors become CorruptMediaError.

    With `limits`, a packet the decoder rejects because it grew past the codec's max_pixels option
    (a mid-stream size change) raises MediaLimitError.

    Like the ffmpeg tool, a packet the decoder rejects is skipped (logged), up to MAX_BAD_PACKETS of them:
    a stray ID3 tag or one damaged packet in a long file does not lose the rest of it.
    """
    if stream.codec_context is None:
        raise UnsupportedCodecError(path, f"stream {stream.index} uses a codec this FFmpeg build cannot decode")
    num_bad = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except (av.error.InvalidDataError, av.error.PatchWelcomeError) as err:
                ctx = stream.codec_context
                if limits is not None and stream.type == "video" and ctx.width and ctx.height:
                    check_frame_pixels(path, ctx.width, ctx.height, limits)
                num_bad += 1
                if num_bad > MAX_BAD_PACKETS:
                    raise CorruptMediaError(path, f"corrupt {stream.type} data: more than {MAX_BAD_PACKETS} "
                                                  f"packets cannot be decoded ({err.strerror or err})") from None
                log.warning("%s: skipping an undecodable %s packet: %s", path, stream.type, err)
                continue
            yield from frames
    except av.error.DecoderNotFoundError:
        raise UnsupportedCodecError(path, f"no decoder for stream {stream.index}") from None
    except av.error.FFmpegError as err:
        raise CorruptMediaError(path, f"corrupt {stream.type} data: {err.strerror or err}") from None


def _looks_like_media(path: str | Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(12)
    mp3_sync = len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
    return head.startswith(_MAGIC_AT_0) or head[4:8] in _MAGIC_AT_4 or mp3_sync


def _first_frames(container, max_pixels: int) -> dict:
    """The first decoded frame of each audio and video stream, found in one pass over the first packets.

    Their timestamps are the streams' true starts: a stream's start_time counts encoder priming
    (e.g. AAC's 1024 samples) that the decoder drops. Undecodable data is left for the readers to report.
    """
    wanted = [s for s in container.streams if s.type in ("audio", "video") and s.codec_context is not None]
    for stream in wanted:
        if stream.type == "video":     # refuse, not allocate, frames larger than the limit
            stream.codec_context.options = {"max_pixels": str(max_pixels)}
    found: dict = {}
    try:
        for count, packet in enumerate(container.demux(*wanted)):
            if count >= PROBE_MAX_PACKETS or len(found) == len(wanted):
                break
            if packet.stream.index not in found:
                for frame in packet.decode():
                    found[packet.stream.index] = frame
                    break
    except (av.error.FFmpegError, ValueError) as err:
        log.debug("%s: cannot decode the first frames: %s", container.name, err)
    return found


def _stream_info(path, stream, origin_s: float, first_frame) -> StreamInfo:
    tb = stream.time_base
    start_s = float(stream.start_time * tb) - origin_s if stream.start_time is not None and tb else 0.0
    end_s = _declared_end_s(stream, start_s, origin_s)
    if first_frame is not None and first_frame.pts is not None:
        start_s = float(first_frame.pts * tb) - origin_s
    ctx = stream.codec_context
    codec = ctx.name if ctx is not None else "unknown"
    common = dict(index=stream.index, kind=stream.type, codec=codec, start_s=start_s,
                  duration_s=None if end_s is None else max(0.0, end_s - start_s))
    if stream.type == "video" and ctx is not None:
        rotation = round((first_frame.rotation or 0) / 90) * 90 % 360 if first_frame is not None else 0
        width, height = ctx.width, ctx.height
        if not (width and height) and first_frame is not None:   # the header has no size: the first frame's
            width, height = first_frame.width, first_frame.height
        return StreamInfo(**common, width=width or None, height=height or None,
                          avg_fps=_to_float(stream.average_rate), real_fps=_to_float(stream.base_rate),
                          num_frames=stream.frames or None, rotation=rotation)
    if stream.type == "audio" and ctx is not None:
        rate, channels = ctx.sample_rate, ctx.channels
        if not (rate and channels) and first_frame is not None:  # the header has no format: the first frame's
            rate, channels = first_frame.sample_rate, len(first_frame.layout.channels)
        return StreamInfo(**common, sample_rate=rate or None, num_channels=channels or None,
                          bit_depth=_bit_depth(path, codec), num_frames=stream.frames or None)
    return StreamInfo(**common)


def _declared_end_s(stream, start_s: float, origin_s: float) -> float | None:
    """Where the file says the stream ends on the timeline, or None when it does not say."""
    if stream.duration is not None and stream.time_base:
        return start_s + float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    match = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d+)?)", tag or "")
    if match:   # Matroska's DURATION tag holds the track's end timestamp, "HH:MM:SS.fffffffff"
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds) - origin_s
    return None


def _to_float(rate: Fraction | None) -> float | None:
    return float(rate) if rate else None


def _bit_depth(path, codec: str) -> int | None:
    match = re.fullmatch(r"pcm_[suf](\d+)(?:[bl]e)?(?:_planar)?", codec)
    if match:
        return int(match.group(1))
    if codec in ("flac", "alac", "wavpack"):
        import soundfile  # only lossless codecs carry a depth FFmpeg does not expose through PyAV

        try:
            subtype = soundfile.info(str(path)).subtype
        except (RuntimeError, TypeError):
            return None
        match = re.fullmatch(r"PCM_[SU]?(\d+)", subtype)
        return int(match.group(1)) if match else None
    return None


def check_wav_length(path, size_bytes: int) -> None:
    """FFmpeg and libsndfile silently read a truncated WAV; compare its data chunk size to the file size."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    pos = 12
    while pos + 8 <= len(head):
        chunk_id, chunk_size = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if chunk_id == b"data":
            available = size_bytes - (pos + 8)
            if chunk_size not in (0, 0xFFFFFFFF) and chunk_size > available:
                raise CorruptMediaError(path, f"truncated: the WAV header declares {chunk_size} data bytes "
                                              f"but the file holds {available}")
            return
        pos += 8 + chunk_size + (chunk_size & 1)


def check_decoded_duration(path, decoded_s: float, limits: MediaLimits) -> None:
    """MediaLimitError once decoding passes `max_duration_s`: files that declare no duration are checked this way."""
    if decoded_s > limits.max_duration_s:
        raise MediaLimitError(path, f"decoded {decoded_s:.1f} s, more than the duration limit of "
                                    f"{limits.max_duration_s:g} s (the file declares no duration; set "
                                    "WORKBENCH_MAX_DURATION_S or pass limits=MediaLimits(max_duration_s=...))")


def check_frame_pixels(path, width: int, height: int, limits: MediaLimits) -> None:
    """MediaLimitError when a frame (e.g. after a mid-stream size change) is larger than `max_pixels`."""
    if width * height > limits.max_pixels:
        raise MediaLimitError(path, f"video {width}x{height} = {width * height} pixels exceeds the limit of "
                                    f"{limits.max_pixels} (set WORKBENCH_MAX_PIXELS or pass "
                                    "limits=MediaLimits(max_pixels=...))")


def _check_limits(info: MediaInfo, limits: MediaLimits) -> None:
    ends_s = [s.start_s + s.duration_s for s in info.streams if s.duration_s is not None]
    declared_s = max([d for d in (info.duration_s, *ends_s) if d is not None], default=None)
    if declared_s is not None and declared_s > limits.max_duration_s:
        raise MediaLimitError(info.path, f"duration {declared_s:.1f} s exceeds the limit of "
                                         f"{limits.max_duration_s:g} s (set WORKBENCH_MAX_DURATION_S or pass "
                                         "limits=MediaLimits(max_duration_s=...))")
    for stream in info.streams:
        if stream.width and stream.height:
            check_frame_pixels(info.path, stream.width, stream.height, limits)
