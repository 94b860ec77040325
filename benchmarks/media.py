"""The test media the suite measures on, made once with the ffmpeg CLI into a cache folder.

Full size: a 60 s 1280x720 30 fps H.264/AAC MP4 with a keyframe every 2 s (-g 60), its 640x360
version, a 10 min 16 kHz mono WAV and a 10 min 44.1 kHz stereo MP3. --quick: 10 s of video, 1 min
of audio. The picture is ffmpeg's testsrc2 pattern (x264 preset fast, CRF 23); the audio is two
tones with noise, different in each channel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RECIPE = "v1"                   # bump when the recipes below change, so cached files are remade
DEFAULT_DIR = Path.home() / ".cache" / "workbench-bench"
TONES = "0.3*sin(440*2*PI*t)+0.05*(random(0)-0.5)"
STEREO_TONES = f"{TONES}|0.3*sin(660*2*PI*t)+0.05*(random(1)-0.5)"


FILES = ("video_720p", "video_360p", "wav_16k", "mp3_44k")   # the BenchMedia fields that are files


@dataclass(frozen=True)
class BenchMedia:
    """Paths of the made files and their lengths."""

    video_720p: Path
    video_360p: Path
    wav_16k: Path
    mp3_44k: Path
    video_s: float
    audio_s: float


def make_media(root: Path, quick: bool, needed: frozenset[str] = frozenset(FILES)) -> BenchMedia:
    """Make (or reuse from `root`) the `needed` test media; --quick media live in their own subfolder.

    `needed` names BenchMedia fields (see FILES); the ffmpeg CLI is needed only to make a missing one,
    so the sections that read no media (or find theirs cached) run without it.
    """
    video_s, audio_s = (10.0, 60.0) if quick else (60.0, 600.0)
    folder = root / f"{'quick' if quick else 'full'}-{RECIPE}"
    media = BenchMedia(folder / "video_720p.mp4", folder / "video_360p.mp4", folder / "speech_16k.wav",
                      folder / "music_44k_stereo.mp3", video_s, audio_s)
    if "video_360p" in needed:        # made from the 720p file
        needed = needed | {"video_720p"}
    recipes = {
        "video_720p": lambda: [
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={video_s}",
            "-f", "lavfi", "-i", f"aevalsrc='{STEREO_TONES}':s=48000:d={video_s}",
            *_h264_args(), "-c:a", "aac", "-b:a", "128k", "-shortest", "-movflags", "+faststart"],
        "video_360p": lambda: ["-i", str(media.video_720p), "-vf", "scale=640:360", *_h264_args(),
                               "-c:a", "copy", "-movflags", "+faststart"],
        "wav_16k": lambda: ["-f", "lavfi", "-i", f"aevalsrc='{TONES}':s=16000:d={audio_s}", "-c:a", "pcm_s16le"],
        "mp3_44k": lambda: ["-f", "lavfi", "-i", f"aevalsrc='{STEREO_TONES}':s=44100:d={audio_s}",
                            "-c:a", "libmp3lame", "-b:a", "192k"],
    }
    for name in FILES:                # in this order: the 720p video before the 360p one
        if name in needed:
            _make(getattr(media, name), recipes[name]())
    return media


def _h264_args() -> list[str]:
    return ["-c:v", "libx264", "-preset", "fast", "-crf", "23", "-g", "60", "-keyint_min", "60",
            "-sc_threshold", "0", "-pix_fmt", "yuv420p"]


def _make(path: Path, args: list[str]) -> None:
    """Run ffmpeg into a temporary name, then rename: a half-made file is never reused."""
    if path.exists():
        return
    if shutil.which("ffmpeg") is None:
        sys.exit(f"benchmarks: the ffmpeg CLI is needed to make {path} (apt-get install ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"benchmarks: making {path}", file=sys.stderr)
    partial = path.with_name(f".partial-{os.getpid()}-{path.name}")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(partial)], check=True)
    partial.replace(path)
