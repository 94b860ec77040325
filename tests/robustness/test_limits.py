"""Each MediaLimits bound, through each entry point: the error names the file, the limit and how to raise it."""

from __future__ import annotations

import pytest

from workbench.errors import MediaLimitError
from workbench.media import MediaLimits, Sampling, load_audio, probe, read_clip, read_frames, stream_audio

ENTRY_POINTS = {
    "probe": lambda path, limits: probe(path, limits),
    "load_audio": lambda path, limits: load_audio(path, limits=limits),
    "stream_audio": lambda path, limits: next(stream_audio(path, 0.5, limits=limits)),
    "read_frames": lambda path, limits: read_frames(path, Sampling.uniform(2), limits=limits),
    "read_clip": lambda path, limits: read_clip(path, 0.0, 1.0, limits=limits),
}
LIMITS = {   # the media file is 2 s of 64x48 video with audio
    "duration": (MediaLimits(max_duration_s=1.5), "WORKBENCH_MAX_DURATION_S", "max_duration_s"),
    "pixels": (MediaLimits(max_pixels=64 * 48 - 1), "WORKBENCH_MAX_PIXELS", "max_pixels"),
    "file size": (MediaLimits(max_file_bytes=1000), "WORKBENCH_MAX_FILE_BYTES", "max_file_bytes"),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_each_limit_through_each_entry_point(containers, entry, limit):
    limits, env, field = LIMITS[limit]
    path = containers["mp4"]
    with pytest.raises(MediaLimitError) as err:
        ENTRY_POINTS[entry](path, limits)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and env in message and f"MediaLimits({field}=...)" in message
    ENTRY_POINTS[entry](path, MediaLimits())      # within the defaults it reads


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_limits_from_the_environment(containers, monkeypatch, entry):
    monkeypatch.setenv("WORKBENCH_MAX_DURATION_S", "1")
    with pytest.raises(MediaLimitError, match="WORKBENCH_MAX_DURATION_S"):
        ENTRY_POINTS[entry](containers["mp4"], None)


@pytest.mark.parametrize("entry", ["load_audio", "stream_audio", "read_frames", "read_clip"])
def test_duration_limit_without_a_declared_duration(corpus, entry):
    """streamed.mkv declares no duration: the limit is checked while decoding, once passed."""
    assert probe(corpus["streamed.mkv"]).duration_s is None
    reader = ENTRY_POINTS[entry]
    if entry == "stream_audio":
        reader = lambda path, limits: list(stream_audio(path, 0.5, limits=limits))  # noqa: E731
    if entry == "read_frames":
        reader = lambda path, limits: read_frames(path, limits=limits)  # noqa: E731
    with pytest.raises(MediaLimitError, match="declares no duration.*WORKBENCH_MAX_DURATION_S"):
        reader(corpus["streamed.mkv"], MediaLimits(max_duration_s=0.5))


def test_pixel_limit_after_a_mid_stream_size_change(corpus):
    """size_change.ts starts at 64x48 and switches to 96x64: the larger frames are over the limit."""
    with pytest.raises(MediaLimitError, match="96x64"):
        read_frames(corpus["size_change.ts"], limits=MediaLimits(max_pixels=64 * 48))
