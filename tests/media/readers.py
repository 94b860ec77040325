"""Every public media reader as a one-argument call, for tests that run each reader on each file."""

from __future__ import annotations

from workbench.media import Sampling, load_audio, probe, read_clip, read_frames, stream_audio


def readers(clip_end_s: float) -> dict:
    """name -> fn(path); `read_clip` reads [0, clip_end_s)."""
    return {
        "probe": probe,
        "load_audio": load_audio,
        "stream_audio": lambda path: list(stream_audio(path, 0.5)),
        "read_frames": read_frames,
        "read_frames_uniform": lambda path: read_frames(path, Sampling.uniform(4)),
        "read_clip": lambda path: read_clip(path, 0.0, clip_end_s),
    }
