"""Writing audio files and browser-playable MP4s (H.264 yuv420p + AAC, moov atom first)."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile
import soxr
import torch

from workbench.errors import ConfigError, MediaError, UnsupportedCodecError
from workbench.media.audio import Audio

log = logging.getLogger(__name__)

# suffix -> (soundfile format, subtype)
_SOUNDFILE_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}
# suffix -> (PyAV container format, codec, sample rates the codec accepts or None for any)
_PYAV_FORMATS = {
    ".mp3": ("mp3", "libmp3lame", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)),
    ".m4a": ("ipod", "aac", None),
    ".aac": ("adts", "aac", None),
    ".opus": ("opus", "libopus", (8000, 12000, 16000, 24000, 48000)),
}


def write_audio(path: str | Path, audio: Audio) -> None:
    """Write a waveform (channels, samples); the format comes from the suffix.

    .wav/.flac (16-bit PCM) and .ogg (Vorbis) via soundfile; .mp3, .m4a, .aac and .opus via PyAV
    (resampled with soxr when the codec does not accept the rate, e.g. Opus at 44.1 kHz).
    """
    suffix = Path(path).suffix.lower()
    samples = np.clip(audio.waveform.detach().cpu().numpy().astype(np.float32), -1.0, 1.0)   # (channels, samples)
    if suffix in _SOUNDFILE_FORMATS:
        file_format, subtype = _SOUNDFILE_FORMATS[suffix]
        try:
            soundfile.write(str(path), samples.T, audio.sample_rate, subtype=subtype, format=file_format)
        except (soundfile.LibsndfileError, RuntimeError) as err:
            raise MediaError(path, f"cannot write audio: {err}") from None
        return
    if suffix not in _PYAV_FORMATS:
        known = ", ".join(sorted({*_SOUNDFILE_FORMATS, *_PYAV_FORMATS}))
        raise ConfigError(f"{path}: cannot write audio with suffix {suffix!r}; use one of {known}")
    container_format, codec, rates = _PYAV_FORMATS[suffix]
    rate = audio.sample_rate
    if rates is not None and rate not in rates:
        target = min((r for r in rates if r >= rate), default=max(rates))
        samples = soxr.resample(np.ascontiguousarray(samples.T), rate, target, quality="HQ").T
        rate = target
    try:
        with av.open(str(path), mode="w", format=container_format) as container:
            stream = _add_audio_stream(path, container, codec, rate, samples.shape[0])
            _encode_audio(container, stream, samples, rate)
    except av.error.FFmpegError as err:
        raise MediaError(path, f"cannot write audio: {err}") from None


def write_video(path: str | Path, frames: torch.Tensor | np.ndarray, fps: float, audio: Audio | None = None,
                crf: int = 20) -> None:
    """Write frames (T, H, W, 3) uint8 RGB (and audio) to an MP4 a browser plays.

    H.264 (libx264, yuv420p) + AAC, `movflags=+faststart`. Odd widths/heights are padded by
    repeating the last row/column, since yuv420p needs even dimensions.
    """
    array = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8 or len(array) == 0:
        raise ConfigError(f"write_video needs frames (T, H, W, 3) uint8 with T > 0, got "
                          f"{array.shape} {array.dtype}")
    if not fps > 0:
        raise ConfigError(f"fps must be positive, got {fps!r}")
    pad_h, pad_w = array.shape[1] % 2, array.shape[2] % 2
    if pad_h or pad_w:
        array = np.pad(array, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")   # yuv420p: even sizes
    rate = Fraction(fps).limit_denominator(1001)
    try:
        with av.open(str(path), mode="w", format="mp4", container_options={"movflags": "+faststart"}) as container:
            video = container.add_stream("libx264", rate=rate)
            video.width, video.height = array.shape[2], array.shape[1]
            video.pix_fmt = "yuv420p"
            video.codec_context.time_base = 1 / rate
            video.codec_context.options = {"crf": str(crf), "preset": "medium"}
            sound = None
            if audio is not None:
                sound = _add_audio_stream(path, container, "aac", audio.sample_rate, audio.num_channels)
            for index, image in enumerate(array):
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = index
                container.mux(video.encode(frame))
            container.mux(video.encode(None))
            if sound is not None:
                samples = np.clip(audio.waveform.detach().cpu().numpy().astype(np.float32), -1.0, 1.0)
                _encode_audio(container, sound, samples, audio.sample_rate)
    except av.error.FFmpegError as err:
        raise MediaError(path, f"cannot write video: {err}") from None


def _add_audio_stream(path, container, codec: str, rate: int, num_channels: int):
    layout = {1: "mono", 2: "stereo", 6: "5.1"}.get(num_channels)
    if layout is None:
        raise ConfigError(f"{path}: cannot encode {num_channels} audio channels; use 1, 2 or 6")
    try:
        stream = container.add_stream(codec, rate=rate)
    except (av.error.FFmpegError, ValueError) as err:
        raise UnsupportedCodecError(path, f"this FFmpeg build cannot encode {codec}: {err}") from None
    stream.layout = layout
    return stream


def _encode_audio(container, stream, samples: np.ndarray, rate: int) -> None:
    """Encode (channels, samples) float32; PyAV re-chunks frames to the codec's frame size."""
    block = 4096
    for first in range(0, samples.shape[1], block):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, first:first + block]), format="fltp",
                                           layout=stream.layout.name)
        frame.sample_rate = rate
        frame.pts = first
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
