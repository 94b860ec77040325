"""Reading audio from any file FFmpeg can read, including the audio track of a video.

soundfile (libsndfile) is the fast path for WAV/FLAC/OGG; everything else, and whatever libsndfile
cannot read, goes through PyAV. Resampling uses soxr (high-quality, streaming, already installed
with librosa); the feature layer's resamplers are not ours to import by the layer rules.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr
import torch

from workbench.errors import ConfigError, CorruptMediaError, NoAudioStreamError
from workbench.media.probe import (
    MediaInfo,
    MediaLimits,
    check_decoded_duration,
    check_file,
    check_wav_length,
    decode_packets,
    open_media,
    probe,
    require_decoder,
    timeline_origin_s,
)

log = logging.getLogger(__name__)

SOUNDFILE_SUFFIXES = frozenset({".wav", ".flac", ".ogg"})
SEEK_PREROLL_S = 0.5       # decode this much before a seek target so codecs with overlap (AAC, MP3) settle
BLOCK_SAMPLES = 65536      # soundfile block size for streaming
PADDING_S = 0.1            # at most this much decoded audio past a stream's declared end counts as encoder padding


@dataclass(frozen=True)
class Audio:
    """A waveform (channels, samples) float32 in [-1, 1]; `start_s` is its first sample's time on the file's timeline."""

    waveform: torch.Tensor
    sample_rate: int
    start_s: float = 0.0

    def __post_init__(self) -> None:
        if self.waveform.ndim != 2:
            raise ConfigError(f"Audio.waveform must be (channels, samples), got shape {tuple(self.waveform.shape)}")
        if self.sample_rate <= 0:
            raise ConfigError(f"Audio.sample_rate must be positive, got {self.sample_rate}")

    @property
    def num_channels(self) -> int:
        return self.waveform.shape[0]

    @property
    def num_samples(self) -> int:
        return self.waveform.shape[1]

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


def load_audio(path: str | Path, sample_rate: int | None = None, mono: bool = True, start_s: float | None = None,
               duration_s: float | None = None, limits: MediaLimits | None = None) -> Audio:
    """Decode [start_s, start_s + duration_s) of the first audio stream -> Audio, waveform (channels, samples).

    `mono=True` averages the channels -> (1, samples); `sample_rate` resamples (soxr HQ). Times are on
    the file's timeline; the result's `start_s` is the exact time of its first sample, which is later
    than `start_s` when the audio track starts later. A stream whose sample rate or channel count
    changes mid-stream is converted to its first frame's rate and channel count (`probe` reports those).
    """
    limits = limits if limits is not None else MediaLimits.from_env()
    if Path(path).suffix.lower() in SOUNDFILE_SUFFIXES:
        audio = _load_without_probe(path, start_s, duration_s, sample_rate, mono, limits)
        if audio is not None:
            return audio
    info = probe(path, limits)
    return load_audio_span(path, info, start_s, duration_s, sample_rate, mono, limits)


def _load_without_probe(path: str | Path, start_s: float | None, duration_s: float | None, sample_rate: int | None,
                        mono: bool, limits: MediaLimits) -> Audio | None:
    """load_audio of a file libsndfile reads (WAV, FLAC, OGG), from its own header: PyAV's probe costs about 0.6 ms
    a file, three times the read of a one-second WAV. The file checks `probe` makes first are made here too (its
    size, a WAV's truncation); None, for `probe` to handle and name the problem, when libsndfile cannot open it, it
    holds no samples, or it is longer than the limit."""
    size_bytes = check_file(path, limits)
    sound = _open_soundfile(path)
    if sound is None:
        return None
    with sound:
        if not (sound.frames > 0 and sound.samplerate > 0 and sound.channels > 0) \
                or sound.frames / sound.samplerate > limits.max_duration_s:
            return None
        check_wav_length(path, size_bytes)
        _check_span_args(start_s, duration_s, sample_rate)
        end_s = None if duration_s is None else (start_s or 0.0) + duration_s
        samples, first_s = _read_open_soundfile(path, sound, start_s, end_s)
        native_rate = sound.samplerate
    return _finish(path, samples, first_s, native_rate, sample_rate, mono)


def load_audio_span(path: str | Path, info: MediaInfo, start_s: float | None, duration_s: float | None,
                    sample_rate: int | None, mono: bool, limits: MediaLimits) -> Audio:
    """load_audio for an already probed file."""
    _check_args(info, start_s, duration_s, sample_rate)
    end_s = None if duration_s is None else (start_s or 0.0) + duration_s
    samples, first_s = None, 0.0
    if Path(path).suffix.lower() in SOUNDFILE_SUFFIXES:
        samples, first_s = _read_soundfile(path, start_s, end_s) or (None, 0.0)
    if samples is None:
        samples, first_s = _read_pyav(path, info, start_s, end_s, limits)
    return _finish(path, samples, first_s, info.audio.sample_rate, sample_rate, mono)


def _finish(path, samples: np.ndarray, first_s: float, native_rate: int, sample_rate: int | None, mono: bool) -> Audio:
    """Decoded samples (channels, samples) at `native_rate` -> Audio: checked for NaN, mixed down when `mono`,
    resampled to `sample_rate` when given."""
    _check_finite(path, samples, first_s, native_rate)
    if mono and samples.shape[0] > 1:
        samples = samples.mean(axis=0, keepdims=True)
    if sample_rate is not None and sample_rate != native_rate:
        samples = _resample_stream(native_rate, sample_rate, samples.shape[0]).resample_chunk(
            np.ascontiguousarray(samples.T), last=True).T
    return Audio(torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)),
                 sample_rate or native_rate, first_s)


def stream_audio(path: str | Path, chunk_s: float, sample_rate: int | None = None, mono: bool = True,
                 limits: MediaLimits | None = None) -> Iterator[Audio]:
    """Yield consecutive chunks of `chunk_s` seconds (the last may be shorter) in constant memory.

    Each chunk's waveform is (channels, round(chunk_s * rate)); `chunk.start_s` is its time on the
    file's timeline. Concatenated, the chunks equal `load_audio(path, sample_rate, mono)`.
    """
    limits = limits if limits is not None else MediaLimits.from_env()
    info = probe(path, limits)
    _check_args(info, None, None, sample_rate)
    if not chunk_s > 0:
        raise ConfigError(f"chunk_s must be positive, got {chunk_s!r}")
    native_rate = info.audio.sample_rate
    out_rate = sample_rate or native_rate
    chunk_n = max(1, round(chunk_s * out_rate))
    blocks = _soundfile_blocks(path) if Path(path).suffix.lower() in SOUNDFILE_SUFFIXES else None
    if blocks is None:
        blocks = _pyav_blocks(path, info, limits)
    resampler = None
    pending: list[np.ndarray] = []
    num_pending = num_emitted = 0
    first_s = None
    for block_start_s, block in _with_last(blocks):
        first_s = block_start_s if first_s is None else first_s
        if block_start_s is not _LAST:
            _check_finite(path, block, block_start_s, native_rate)
        if mono and block.shape[0] > 1:
            block = block.mean(axis=0, keepdims=True)
        if out_rate != native_rate:
            resampler = resampler or _resample_stream(native_rate, out_rate, block.shape[0])
            block = resampler.resample_chunk(np.ascontiguousarray(block.T), last=block_start_s is _LAST).T
        pending.append(block)
        num_pending += block.shape[1]
        while num_pending >= chunk_n or (block_start_s is _LAST and num_pending > 0):
            joined = np.concatenate(pending, axis=1)
            chunk, rest = joined[:, :chunk_n], joined[:, chunk_n:]
            pending, num_pending = [rest], rest.shape[1]
            yield Audio(torch.from_numpy(np.ascontiguousarray(chunk, dtype=np.float32)), out_rate,
                        first_s + num_emitted / out_rate)
            num_emitted += chunk.shape[1]
    if first_s is None or first_s is _LAST:
        raise CorruptMediaError(path, "the audio stream decodes to no samples")


_LAST = object()   # marks the empty block _with_last appends, so the resampler can flush


def _with_last(blocks: Iterator[tuple[float, np.ndarray]]) -> Iterator[tuple[object, np.ndarray]]:
    channels = 1
    for start_s, block in blocks:
        channels = block.shape[0]
        yield start_s, block
    yield _LAST, np.zeros((channels, 0), np.float32)


def _check_finite(path, samples: np.ndarray, first_s: float, sample_rate: int) -> None:
    """Raise CorruptMediaError when decoded samples (channels, samples) hold NaN or infinite values
    (only a float file can), which would turn every feature computed from them into nonsense."""
    bad = ~np.isfinite(samples)
    if bad.any():
        first = int(np.flatnonzero(bad.any(axis=0))[0])
        raise CorruptMediaError(path, f"damaged audio data: {int(bad.sum())} sample value(s) are not numbers (NaN or "
                                      f"infinite), the first at {first_s + first / sample_rate:.3f} s")


def _check_args(info: MediaInfo, start_s, duration_s, sample_rate) -> None:
    if info.audio is None:
        raise NoAudioStreamError(info.path, "no audio stream")
    require_decoder(info, info.audio)
    if not (info.audio.sample_rate and info.audio.num_channels):
        raise CorruptMediaError(info.path, "the audio stream declares no sample rate or channel count")
    _check_span_args(start_s, duration_s, sample_rate)


def _check_span_args(start_s, duration_s, sample_rate) -> None:
    if start_s is not None and start_s < 0:
        raise ConfigError(f"start_s must be >= 0, got {start_s}")
    if duration_s is not None and duration_s <= 0:
        raise ConfigError(f"duration_s must be positive, got {duration_s}")
    if sample_rate is not None and (not isinstance(sample_rate, int) or sample_rate <= 0):
        raise ConfigError(f"sample_rate must be a positive int, got {sample_rate!r}")


def _resample_stream(in_rate: int, out_rate: int, num_channels: int) -> soxr.ResampleStream:
    return soxr.ResampleStream(in_rate, out_rate, num_channels, dtype="float32", quality="HQ")


def _read_soundfile(path, start_s: float | None, end_s: float | None) -> tuple[np.ndarray, float] | None:
    """(channels, samples) float32 and the first sample's time, or None when libsndfile cannot read the file."""
    sound = _open_soundfile(path)
    if sound is None:
        return None
    with sound:
        return _read_open_soundfile(path, sound, start_s, end_s)


def _open_soundfile(path) -> soundfile.SoundFile | None:
    """The file opened by libsndfile, or None when libsndfile cannot read it (PyAV then does)."""
    try:
        return soundfile.SoundFile(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as err:
        log.debug("%s: soundfile cannot open (%s), using PyAV", path, err)
        return None


def _read_open_soundfile(path, sound: soundfile.SoundFile, start_s: float | None,
                         end_s: float | None) -> tuple[np.ndarray, float]:
    """(channels, samples) float32 of [start_s, end_s) of an open file, and the first sample's time."""
    rate = sound.samplerate
    first = min(round((start_s or 0.0) * rate), sound.frames)
    stop = sound.frames if end_s is None else min(round(end_s * rate), sound.frames)
    try:
        sound.seek(first)
        data = sound.read(max(0, stop - first), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as err:
        raise CorruptMediaError(path, f"corrupt audio data: {err}") from None
    return data.T, first / rate


def _soundfile_blocks(path) -> Iterator[tuple[float, np.ndarray]] | None:
    sound = _open_soundfile(path)
    if sound is None:
        return None

    def blocks() -> Iterator[tuple[float, np.ndarray]]:
        with sound:
            position = 0
            while True:
                try:
                    data = sound.read(BLOCK_SAMPLES, dtype="float32", always_2d=True)
                except (soundfile.LibsndfileError, RuntimeError) as err:
                    raise CorruptMediaError(path, f"corrupt audio data: {err}") from None
                if len(data) == 0:
                    return
                yield position / sound.samplerate, data.T
                position += len(data)

    return blocks()


def _pyav_blocks(path, info: MediaInfo, limits: MediaLimits,
                 start_s: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """(time of first sample, (channels, n) float32) per decoded frame, from `start_s` (minus preroll) on.

    Encoder padding after the stream's declared end (AAC pads its last frame) is dropped: samples past
    that end are held back and only passed on if more than PADDING_S of them follow. Once all is decoded,
    data that ends well before the declared end raises CorruptMediaError (truncated).
    """
    declared = info.audio.duration_s
    if declared is None:
        yield from _decode_blocks(path, info, limits, start_s)
        return
    end_s = info.audio.start_s + declared
    rate = info.audio.sample_rate
    held: list[tuple[float, np.ndarray]] = []
    decoded_end_s = None
    for frame_s, data in _decode_blocks(path, info, limits, start_s):
        decoded_end_s = frame_s + data.shape[1] / rate
        keep = data.shape[1] if math.isinf(end_s) else max(0, min(data.shape[1], round((end_s - frame_s) * rate)))
        if keep == data.shape[1] and not held:
            yield frame_s, data
            continue
        if keep:
            yield frame_s, data[:, :keep]
        held.append((frame_s + keep / rate, data[:, keep:]))
        if sum(block.shape[1] for _, block in held) > PADDING_S * rate:   # the declared end was wrong
            yield from held
            held, end_s = [], math.inf
    if decoded_end_s is not None:
        _check_complete(path, info, decoded_end_s)


def _decode_blocks(path, info: MediaInfo, limits: MediaLimits,
                   start_s: float | None) -> Iterator[tuple[float, np.ndarray]]:
    """(time of first sample, (channels, n) float32) per decoded frame, at the rate and channel count of
    the stream's first frame (frames after a mid-stream change are converted)."""
    rate, num_channels = info.audio.sample_rate, info.audio.num_channels or 1
    with open_media(path) as container:
        stream = container.streams.audio[0]
        origin_s = timeline_origin_s(container)
        if start_s is not None and start_s - SEEK_PREROLL_S > info.audio.start_s:
            target = int((start_s - SEEK_PREROLL_S + origin_s) / stream.time_base)
            try:
                container.seek(target, stream=stream, backward=True)
            except Exception as err:  # noqa: BLE001 -- av raises several error types on failed seeks
                raise CorruptMediaError(path, f"cannot seek to {start_s:.3f} s: {err}") from None
        next_s, converter = None, _RateConverter(rate, num_channels)
        for frame in decode_packets(path, container, stream):
            if frame.pts is not None:
                frame_s = float(frame.pts * stream.time_base) - origin_s
            else:   # no timestamp: the frame follows the previous one
                frame_s = next_s if next_s is not None else info.audio.start_s
            check_decoded_duration(path, frame_s - info.audio.start_s, limits)
            data = converter.convert(_match_channels(_frame_to_float(frame), num_channels), frame.sample_rate)
            # after a rate change, resampled blocks follow each other (the resampler delays samples)
            block_s = next_s if converter.changed and next_s is not None else frame_s
            if data.shape[1]:
                yield block_s, data
                next_s = block_s + data.shape[1] / rate
        tail = converter.flush()
        if tail.shape[1] and next_s is not None:
            yield next_s, tail


class _RateConverter:
    """Resamples frames whose rate differs from `out_rate` (soxr, streaming, one resampler per input rate run)."""

    def __init__(self, out_rate: int, num_channels: int) -> None:
        self.out_rate, self.num_channels = out_rate, num_channels
        self.in_rate = out_rate
        self.changed = False           # whether any frame needed resampling
        self._resampler: soxr.ResampleStream | None = None

    def convert(self, data: np.ndarray, in_rate: int) -> np.ndarray:
        """(channels, n) at in_rate -> (channels, m) at out_rate; a change of input rate flushes the resampler."""
        head = self.flush() if in_rate != self.in_rate else np.zeros((self.num_channels, 0), np.float32)
        self.in_rate = in_rate
        if in_rate == self.out_rate or in_rate <= 0:
            return np.concatenate([head, data], axis=1) if head.shape[1] else data
        self.changed = True
        if self._resampler is None:
            self._resampler = _resample_stream(in_rate, self.out_rate, self.num_channels)
        body = self._resampler.resample_chunk(np.ascontiguousarray(data.T), last=False).T
        return np.concatenate([head, body], axis=1)

    def flush(self) -> np.ndarray:
        if self._resampler is None:
            return np.zeros((self.num_channels, 0), np.float32)
        tail = self._resampler.resample_chunk(np.zeros((0, self.num_channels), np.float32), last=True).T
        self._resampler = None
        return tail


def _match_channels(data: np.ndarray, num_channels: int) -> np.ndarray:
    """(c, n) -> (num_channels, n): a mid-stream channel change is mixed down, or mono is repeated."""
    if data.shape[0] == num_channels:
        return data
    mono = data.mean(axis=0, keepdims=True)
    return np.repeat(mono, num_channels, axis=0)


def _read_pyav(path, info: MediaInfo, start_s: float | None, end_s: float | None,
               limits: MediaLimits) -> tuple[np.ndarray, float]:
    """(channels, samples) float32 of [start_s, end_s) and the first sample's time, decoded with PyAV."""
    rate = info.audio.sample_rate
    blocks, first_s = [], None
    for frame_s, data in _pyav_blocks(path, info, limits, start_s):
        if first_s is None:
            first_s = frame_s
        if end_s is not None and frame_s >= end_s:
            break
        blocks.append(data)
    if first_s is None:
        raise CorruptMediaError(path, "the audio stream decodes to no samples")
    samples = np.concatenate(blocks, axis=1) if blocks else np.zeros((info.audio.num_channels or 1, 0), np.float32)
    skip = max(0, round(((start_s or 0.0) - first_s) * rate))
    stop = samples.shape[1] if end_s is None else max(skip, round((end_s - first_s) * rate))
    return samples[:, skip:stop], first_s + skip / rate


def _check_complete(path, info: MediaInfo, decoded_end_s: float) -> None:
    declared = info.audio.duration_s
    if declared is None:
        return
    declared_end_s = info.audio.start_s + declared
    if declared_end_s - decoded_end_s > max(0.25, 0.05 * declared):
        raise CorruptMediaError(path, f"truncated: the audio stream should last until {declared_end_s:.2f} s "
                                      f"but its data ends at {decoded_end_s:.2f} s")


def _frame_to_float(frame) -> np.ndarray:
    """A decoded AudioFrame as (channels, samples) float32 in [-1, 1], whatever its sample format."""
    array = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        array = array.reshape(-1, channels).T      # packed (1, samples*channels) -> (channels, samples)
    if array.dtype == np.uint8:
        return (array.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.float32) / float(-np.iinfo(array.dtype).min)
    return array.astype(np.float32, copy=False)
