"""Media generated once per test session: containers and codecs, WAV variants, index-coded and VFR
videos, a video whose audio starts late, and broken files.

Index-coded video: each frame shows a white square moving left to right and, in its top row, the
frame index as 8 black/white 8x8 blocks, so any decoded frame says which frame it is.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

INDEX_BITS = 8
BLOCK = 8
VFR_PTS_MS = (0, 40, 80, 200, 240, 500, 520, 540, 900, 1000, 1100, 1133, 1500, 1700, 1710, 2000)
FLASH_AT_S = 1.5          # flash video: frames turn white and the beep starts at this time
AUDIO_DELAY_S = 0.5       # flash video: the audio track starts this much after the video


def encode_index(index: int, width: int = 96, height: int = 64) -> np.ndarray:
    """(H, W, 3) uint8: the index in binary in the top row of blocks, a moving square below."""
    image = np.zeros((height, width, 3), np.uint8)
    for bit in range(INDEX_BITS):
        if index >> bit & 1:
            image[:BLOCK, bit * BLOCK:(bit + 1) * BLOCK] = 255
    x = (index * 3) % (width - 16)
    image[32:48, x:x + 16] = (255, 64, 0)
    return image


def decode_index(frame) -> int:
    """The index encode_index drew into a decoded (H, W, 3) frame (any integer array type)."""
    blocks = np.asarray(frame)[:BLOCK, : INDEX_BITS * BLOCK].astype(np.float32)
    means = blocks.reshape(BLOCK, INDEX_BITS, BLOCK, 3).mean(axis=(0, 2, 3))
    return int(sum(1 << bit for bit, mean in enumerate(means) if mean > 128))


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@functools.cache
def _cli_encoders() -> frozenset[str]:
    listing = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return frozenset(line.split()[1] for line in listing.splitlines() if len(line.split()) > 1 and
                     len(line.split()[0]) == 6)


def has_encoder(name: str) -> bool:
    """Whether the ffmpeg command-line tool (which makes the test media) has this encoder."""
    return name in _cli_encoders()


def require_encoders(*names: str) -> None:
    missing = [n for n in names if not has_encoder(n)]
    if missing:
        pytest.skip(f"this FFmpeg build has no {', '.join(missing)} encoder")


def tone(frequency: float, sample_rate: int, duration_s: float, num_channels: int = 1) -> np.ndarray:
    """(samples, channels) float32 sine at 0.5 amplitude, a different phase per channel."""
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    return np.stack([0.5 * np.sin(2 * np.pi * frequency * t + c) for c in range(num_channels)], 1).astype(np.float32)


def write_index_video(path: Path, num_frames: int, pts_ms: tuple[int, ...] | None = None, fps: int = 24,
                      gop: int = 12, bframes: int = 3) -> None:
    """H.264 of index-coded frames; with pts_ms, variable frame rate at those times."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000) if pts_ms else Fraction(1, fps)
        stream.codec_context.options = {"crf": "12", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}"}
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(encode_index(i), format="rgb24")
            frame.pts = pts_ms[i] if pts_ms else i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("the ffmpeg command-line tool is not installed")
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def containers(media_dir) -> dict[str, Path]:
    """2 s, 64x48 at 10 fps, 1 kHz tone at 16 kHz, in each container/codec pair the build can encode."""
    video = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-f", "lavfi", "-i",
             "sine=frequency=1000:sample_rate=16000", "-t", "2", "-pix_fmt", "yuv420p"]
    audio = ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000", "-t", "2"]
    recipes = {
        "mp4": (("libx264", "aac"), [*video, "-c:v", "libx264", "-c:a", "aac"]),
        "webm": (("libvpx-vp9", "libopus"), [*video, "-c:v", "libvpx-vp9", "-deadline", "realtime",
                                             "-c:a", "libopus"]),
        "mkv": (("libx264", "flac"), [*video, "-c:v", "libx264", "-c:a", "flac"]),
        "mov": (("libx264", "aac"), [*video, "-c:v", "libx264", "-c:a", "aac"]),
        "avi": (("mjpeg", "pcm_s16le"), [*video[:-2], "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-c:a", "pcm_s16le"]),
        "ogv": (("libtheora", "libvorbis"), [*video, "-c:v", "libtheora", "-c:a", "libvorbis"]),
        "mp3": (("libmp3lame",), [*audio, "-c:a", "libmp3lame"]),
        "flac": (("flac",), [*audio, "-c:a", "flac"]),
        "ogg": (("libvorbis",), [*audio, "-c:a", "libvorbis"]),
        "m4a": (("aac",), [*audio, "-c:a", "aac"]),
    }
    paths = {}
    for name, (encoders, args) in recipes.items():
        if all(has_encoder(e) for e in encoders):
            ffmpeg(*args, str(media_dir / f"media.{name}"))
            paths[name] = media_dir / f"media.{name}"
    return paths


@pytest.fixture(scope="session")
def index_video(media_dir) -> Path:
    """4 s, 96 frames at 24 fps, keyframe every 12 frames: seeking has 8 GOPs to choose from."""
    path = media_dir / "index.mp4"
    write_index_video(path, 96)
    return path


@pytest.fixture(scope="session")
def vfr_video(media_dir) -> Path:
    """Variable frame rate: frame i is shown from VFR_PTS_MS[i] milliseconds.

    No B-frames: with them FFmpeg 5's MP4 muxer writes an edit list that hides the last VFR frame.
    """
    path = media_dir / "vfr.mp4"
    write_index_video(path, len(VFR_PTS_MS), pts_ms=VFR_PTS_MS, gop=4, bframes=0)
    return path


@pytest.fixture(scope="session")
def flash_video(media_dir) -> Path:
    """3 s at 10 fps, black until FLASH_AT_S then white; AAC audio whose track starts AUDIO_DELAY_S late
    and beeps (1 kHz) from FLASH_AT_S on the file's timeline."""
    silent = media_dir / "flash_silent.mp4"
    with av.open(str(silent), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):
            image = np.full((48, 64, 3), 255 if i / 10 >= FLASH_AT_S else 0, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    sample_rate = 16000
    beep = tone(1000, sample_rate, 3.0 - AUDIO_DELAY_S)[:, 0]
    beep[: round((FLASH_AT_S - AUDIO_DELAY_S) * sample_rate)] = 0
    soundfile.write(media_dir / "beep.wav", beep, sample_rate)
    path = media_dir / "flash.mp4"
    ffmpeg("-i", str(silent), "-itsoffset", str(AUDIO_DELAY_S), "-i", str(media_dir / "beep.wav"),
           "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(path))
    return path


@pytest.fixture(scope="session")
def silent_video(media_dir) -> Path:
    path = media_dir / "no_audio.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(path))
    return path


@pytest.fixture(scope="session")
def audio_only_mp4(media_dir) -> Path:
    path = media_dir / "audio_only.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=22050", "-t", "1.5", "-c:a", "aac", str(path))
    return path


@pytest.fixture(scope="session")
def wav_factory(media_dir):
    """wav_factory(subtype, num_channels, sample_rate) -> path of a 1 s 1 kHz tone WAV."""

    def make(subtype: str, num_channels: int, sample_rate: int, duration_s: float = 1.0) -> Path:
        path = media_dir / f"tone_{subtype}_{num_channels}ch_{sample_rate}.wav"
        if not path.exists():
            soundfile.write(path, tone(1000, sample_rate, duration_s, num_channels), sample_rate, subtype=subtype)
        return path

    return make


@pytest.fixture(scope="session")
def broken(media_dir, containers, wav_factory) -> dict[str, Path]:
    """Files that must fail: missing, empty, truncated mp4 (moov at the end, and faststart), truncated
    WAV, random bytes, and a text file named .mp4."""
    paths = {name: media_dir / f"broken_{name}" for name in
             ("missing.mp4", "empty.wav", "half.mp4", "half_faststart.mp4", "half.wav", "random.mp4", "text.mp4")}
    paths["empty.wav"].write_bytes(b"")
    data = containers["mp4"].read_bytes()
    paths["half.mp4"].write_bytes(data[: len(data) // 2])
    faststart = media_dir / "faststart.mp4"
    ffmpeg("-i", str(containers["mp4"]), "-c", "copy", "-movflags", "+faststart", str(faststart))
    data = faststart.read_bytes()
    paths["half_faststart.mp4"].write_bytes(data[: len(data) // 2])
    data = wav_factory("PCM_16", 1, 16000).read_bytes()
    paths["half.wav"].write_bytes(data[: len(data) // 2])
    noise = np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8)
    noise[:4] = (1, 2, 3, 4)      # never a media signature by chance
    paths["random.mp4"].write_bytes(noise.tobytes())
    paths["text.mp4"].write_text("this is not a video\n" * 50)
    assert not paths["missing.mp4"].exists()
    assert os.path.getsize(paths["empty.wav"]) == 0
    return paths


@pytest.fixture(scope="session")
def unknown_codec_avi(media_dir) -> Path:
    """An MJPEG AVI whose codec tag is rewritten to ZZZZ, a codec FFmpeg does not know."""
    source = media_dir / "mjpeg_for_unknown.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "1", "-c:v", "mjpeg", str(source))
    path = media_dir / "unknown_codec.avi"
    path.write_bytes(source.read_bytes().replace(b"MJPG", b"ZZZZ", 2))
    return path


@pytest.fixture(scope="session")
def garbled_mp4(media_dir, index_video) -> Path:
    """The index video with a third of its bytes in the middle overwritten by noise."""
    data = bytearray(index_video.read_bytes())
    third = len(data) // 3
    data[third:2 * third] = np.random.default_rng(1).integers(0, 256, third, dtype=np.uint8).tobytes()
    path = media_dir / "garbled.mp4"
    path.write_bytes(bytes(data))
    return path
