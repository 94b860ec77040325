"""A corpus of bad and odd media, generated once per test session with ffmpeg, PyAV and byte edits.

Each entry is a path in `corpus`; test_corpus.py states what every reader must do with it. The broken
files of the media tests (empty, truncated, random bytes, text named .mp4) come from tests/media.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.media.conftest import broken, containers, ffmpeg, media_dir, tone, wav_factory  # noqa: F401 (fixtures)

SEGMENT_S = 1.0               # each half of the mid-stream change files
VIDEO_DELAY_S = 0.5           # audio_first.mp4: the video starts this much after the audio
HUGE_SIZE = 12000             # huge.* declare HUGE_SIZE x HUGE_SIZE frames (FFmpeg itself allows up to ~16000²)
ODD_TITLE = "Привет, Ñandú"   # stored in the metadata as cp1251 / latin-1 bytes, not UTF-8
UNICODE_DIR = Path("clips") / "é 音 ñ"


def _patch_mp4_durations(data: bytes, factor: int) -> bytes:
    """Multiply the durations in every mvhd, tkhd and mdhd box (version 0) by `factor`."""
    out = bytearray(data)
    for box, offset in ((b"mvhd", 16), (b"tkhd", 20), (b"mdhd", 16)):   # duration's offset after the type
        pos = out.find(box)
        while pos != -1:
            if out[pos + 4] == 0:     # version 0: 32-bit times
                at = pos + 4 + offset
                (duration,) = struct.unpack(">I", out[at:at + 4])
                out[at:at + 4] = struct.pack(">I", duration * factor)
            pos = out.find(box, pos + 4)
    return bytes(out)


def _id3v2_title(text: bytes) -> bytes:
    """An ID3v2.3 tag whose TIT2 frame claims UTF-8 (encoding byte 3) but holds `text` as given."""
    frame = b"TIT2" + struct.pack(">I", len(text) + 1) + b"\x00\x00" + b"\x03" + text
    size = len(frame)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + frame


def _wav_with_info(wav: bytes, title: bytes) -> bytes:
    """The WAV with a LIST/INFO chunk whose INAM (title) holds raw bytes, inserted before the data chunk."""
    value = title + b"\x00"
    value += b"\x00" * (len(value) & 1)
    info = b"INFO" + b"INAM" + struct.pack("<I", len(value)) + value
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    at = wav.find(b"data")
    body = wav[8:at] + chunk + wav[at:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (its pixel data is a few bytes)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


def _make_segments(folder: Path) -> dict[str, Path]:
    """Mid-stream changes: H.264 in MPEG-TS that changes size, MP3 and ADTS AAC that change sample rate."""
    paths = {}
    parts = []
    for i, size in enumerate(("64x48", "96x64")):
        part = folder / f"size_part{i}.ts"
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10", "-t", str(SEGMENT_S), "-c:v", "libx264",
               "-pix_fmt", "yuv420p", "-bf", "0", "-output_ts_offset", str(i * SEGMENT_S), str(part))
        parts.append(part.read_bytes())
    paths["size_change.ts"] = folder / "size_change.ts"
    paths["size_change.ts"].write_bytes(b"".join(parts))
    for suffix, codec_args in (("mp3", ["-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0",
                                        "-id3v2_version", "0"]),
                               ("aac", ["-c:a", "aac", "-f", "adts"])):
        parts = []
        for rate in (44100, 22050):
            part = folder / f"rate_part{rate}.{suffix}"
            ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}", "-t", str(SEGMENT_S),
                   *codec_args, str(part))
            parts.append(part.read_bytes())
        paths[f"rate_change.{suffix}"] = folder / f"rate_change.{suffix}"
        paths[f"rate_change.{suffix}"].write_bytes(b"".join(parts))
    return paths


def _make_unseekable(folder: Path, source: Path) -> dict[str, Path]:
    """Files that declare no duration: raw H.264 and ADTS AAC streams, MKV/WebM and MPEG-TS written to a pipe."""
    paths = {name: folder / name for name in ("raw.h264", "raw.aac", "streamed.mkv", "streamed.ts")}
    ffmpeg("-i", str(source), "-map", "0:v", "-c", "copy", "-f", "h264", str(paths["raw.h264"]))
    ffmpeg("-i", str(source), "-map", "0:a", "-c", "copy", "-f", "adts", str(paths["raw.aac"]))
    for name, muxer in (("streamed.mkv", "matroska"), ("streamed.ts", "mpegts")):
        # "pipe:" makes the muxer treat its output as unseekable, so it never writes back a duration
        with open(paths[name], "wb") as out:
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(source), "-c", "copy",
                            "-f", muxer, "pipe:1"], stdout=out, check=True)
    return paths


def _make_timing(folder: Path, source: Path, wav: Path) -> dict[str, Path]:
    """Audio that starts before the video, and the display-rotation flags 90, 180 and 270."""
    paths = {"audio_first.mp4": folder / "audio_first.mp4"}
    ffmpeg("-itsoffset", str(VIDEO_DELAY_S), "-i", str(source), "-i", str(wav), "-map", "0:v", "-map", "1:a",
           "-c:v", "copy", "-c:a", "aac", str(paths["audio_first.mp4"]))
    for degrees in (90, 180, 270):
        paths[f"rotate{degrees}.mp4"] = folder / f"rotate{degrees}.mp4"
        ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}",
               str(paths[f"rotate{degrees}.mp4"]))
    return paths


def _make_metadata_and_silence(folder: Path) -> dict[str, Path]:
    """Titles in cp1251/latin-1 bytes (ID3v2 claiming UTF-8, ID3v1, WAV INFO), and all-silent audio."""
    paths = {}
    plain = folder / "plain.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-t", "1", "-c:a", "libmp3lame",
           "-write_xing", "0", "-id3v2_version", "0", str(plain))
    mp3 = plain.read_bytes()
    paths["id3v2_cp1251.mp3"] = folder / "id3v2_cp1251.mp3"
    paths["id3v2_cp1251.mp3"].write_bytes(_id3v2_title(ODD_TITLE.encode("cp1251", "replace")) + mp3)
    id3v1 = b"TAG" + ODD_TITLE.encode("latin-1", "replace").ljust(30, b"\x00") + b"\x00" * 94 + b"\xff"
    paths["id3v1_latin1.mp3"] = folder / "id3v1_latin1.mp3"
    paths["id3v1_latin1.mp3"].write_bytes(mp3 + id3v1)
    tone_wav = folder / "plain.wav"
    soundfile.write(tone_wav, tone(440, 8000, 0.5), 8000, subtype="PCM_16")
    paths["info_cp1251.wav"] = folder / "info_cp1251.wav"
    paths["info_cp1251.wav"].write_bytes(_wav_with_info(tone_wav.read_bytes(), ODD_TITLE.encode("cp1251", "replace")))

    paths["silence.wav"] = folder / "silence.wav"
    soundfile.write(paths["silence.wav"], np.zeros((8000, 2), np.float32), 8000, subtype="PCM_16")
    for name, args in (("silence.mp3", ["-c:a", "libmp3lame"]), ("silence.m4a", ["-c:a", "aac"])):
        paths[name] = folder / name
        ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", *args, str(paths[name]))
    paths["silence_video.mp4"] = folder / "silence_video.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
           "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(paths["silence_video.mp4"]))
    return paths


def _make_huge(folder: Path) -> dict[str, Path]:
    """Tiny files whose headers declare frames far beyond the default pixel limit."""
    paths = {"huge.y4m": folder / "huge.y4m", "huge.png": folder / "huge.png"}
    header = f"YUV4MPEG2 W{HUGE_SIZE} H{HUGE_SIZE} F25:1 Ip A1:1 C420jpeg\nFRAME\n".encode()
    paths["huge.y4m"].write_bytes(header + b"\x80" * 4096)
    paths["huge.png"].write_bytes(_png_declaring(HUGE_SIZE, HUGE_SIZE))
    return paths


def _make_header_lies(folder: Path, source: Path) -> dict[str, Path]:
    """MP4s whose header promises more than the data holds: tripled durations, and an mdat cut short."""
    paths = {"longer_header.mp4": folder / "longer_header.mp4", "cut_mdat.mp4": folder / "cut_mdat.mp4"}
    paths["longer_header.mp4"].write_bytes(_patch_mp4_durations(source.read_bytes(), 3))
    faststart = folder / "faststart_for_cut.mp4"
    ffmpeg("-i", str(source), "-c", "copy", "-movflags", "+faststart", str(faststart))
    data = faststart.read_bytes()
    paths["cut_mdat.mp4"].write_bytes(data[: len(data) * 7 // 10])
    return paths


def _make_unicode_paths(folder: Path, source: Path, wav: Path) -> dict[str, Path]:
    """A video, a WAV and a text file named .mp4 under a folder with spaces and non-ASCII characters."""
    target = folder / UNICODE_DIR
    target.mkdir(parents=True, exist_ok=True)
    paths = {"unicode.mp4": target / "файл 1.mp4", "unicode.wav": target / "звук 2.wav",
             "unicode_text.mp4": target / "не видео.mp4"}
    shutil.copy(source, paths["unicode.mp4"])
    shutil.copy(wav, paths["unicode.wav"])
    paths["unicode_text.mp4"].write_text("not a video\n" * 20)
    return paths


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, containers, broken, wav_factory) -> dict[str, Path]:  # noqa: F811
    """name -> path of every odd or broken file (see the generators above)."""
    folder = tmp_path_factory.mktemp("corpus")
    source = containers["mp4"]                       # 2 s, 64x48 at 10 fps, 1 kHz tone at 16 kHz (AAC)
    wav = wav_factory("PCM_16", 1, 16000)          # 1 s tone
    paths = {f"broken_{name}": path for name, path in broken.items()}
    paths.update(_make_header_lies(folder, source))
    paths.update(_make_unseekable(folder, source))
    paths.update(_make_timing(folder, source, wav))
    paths.update(_make_huge(folder))
    paths.update(_make_metadata_and_silence(folder))
    paths.update(_make_segments(folder))
    paths.update(_make_unicode_paths(folder, source, wav))
    return paths
