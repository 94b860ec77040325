"""probe(): containers, streams, timing, limits."""

from __future__ import annotations

import io
import json

import pytest

from tests.media.conftest import AUDIO_DELAY_S, VFR_PTS_MS
from workbench.errors import ConfigError, MediaLimitError
from workbench.media import MediaLimits, probe, spool

EXPECTED_CODECS = {
    "mp4": ("h264", "aac"), "webm": ("vp9", "opus"), "mkv": ("h264", "flac"), "mov": ("h264", "aac"),
    "avi": ("mjpeg", "pcm_s16le"), "ogv": ("theora", "vorbis"),
    "mp3": (None, "mp3"), "flac": (None, "flac"), "ogg": (None, "vorbis"), "m4a": (None, "aac"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_CODECS))
def test_probe_containers(containers, name):
    if name not in containers:
        pytest.skip(f"this FFmpeg build cannot encode {name}")
    info = probe(containers[name])
    video_codec, audio_codec = EXPECTED_CODECS[name]
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    assert info.audio is not None and info.audio.codec.startswith(audio_codec)
    assert info.audio.num_channels == 1
    assert info.audio.sample_rate == (48000 if audio_codec == "opus" else 16000)
    if video_codec is None:
        assert info.video is None and info.av_offset_s is None
        return
    video = info.video
    assert video.codec == video_codec
    assert (video.width, video.height) == (64, 48)
    assert video.avg_fps == pytest.approx(10, rel=0.01) or video.real_fps == pytest.approx(10, rel=0.01)
    assert video.rotation == 0
    assert abs(info.av_offset_s) < 0.07
    assert json.loads(json.dumps(info.to_dict()))["streams"][0]["kind"] in ("video", "audio")


def test_probe_mp4_frame_count_and_duration(containers):
    video = probe(containers["mp4"]).video
    assert video.num_frames == 20
    assert video.duration_s == pytest.approx(2.0, abs=0.1)
    assert video.start_s == 0.0


@pytest.mark.parametrize("subtype,bits", [("PCM_U8", 8), ("PCM_16", 16), ("PCM_24", 24), ("FLOAT", 32)])
def test_probe_wav_bit_depth(wav_factory, subtype, bits):
    info = probe(wav_factory(subtype, 2, 22050))
    assert info.container == "wav"
    assert (info.audio.bit_depth, info.audio.num_channels, info.audio.sample_rate) == (bits, 2, 22050)
    assert info.audio.duration_s == pytest.approx(1.0)


def test_probe_flac_bit_depth(containers):
    assert probe(containers["flac"]).audio.bit_depth == 16


def test_probe_audio_offset(flash_video):
    info = probe(flash_video)
    assert info.video.start_s == 0.0
    # the AAC track's first packet is the encoder's priming (1024 samples = 64 ms at 16 kHz)
    assert info.av_offset_s == pytest.approx(AUDIO_DELAY_S, abs=0.07)
    assert info.audio.start_s + info.audio.duration_s == pytest.approx(3.0, abs=0.07)


def test_probe_vfr(vfr_video):
    video = probe(vfr_video).video
    assert video.num_frames == len(VFR_PTS_MS)
    assert video.avg_fps < video.real_fps    # average rate of a VFR stream is below its base rate


def test_probe_rotation(containers, media_dir):
    from tests.media.conftest import ffmpeg

    rotated = media_dir / "rotated.mp4"
    ffmpeg("-i", str(containers["mp4"]), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    assert probe(rotated).video.rotation == 90


def test_limits_are_checked_from_the_header(containers):
    path = containers["mp4"]
    with pytest.raises(MediaLimitError, match="WORKBENCH_MAX_DURATION_S") as err:
        probe(path, MediaLimits(max_duration_s=1.0))
    assert path.name in str(err.value) and "max_duration_s" in str(err.value)
    with pytest.raises(MediaLimitError, match="WORKBENCH_MAX_PIXELS"):
        probe(path, MediaLimits(max_pixels=64 * 48 - 1))
    with pytest.raises(MediaLimitError, match="WORKBENCH_MAX_FILE_BYTES"):
        probe(path, MediaLimits(max_file_bytes=100))
    assert probe(path, MediaLimits(max_duration_s=2.5, max_pixels=64 * 48)).video is not None


def test_limits_from_env(containers, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_DURATION_S", "1.5")
    assert MediaLimits.from_env().max_duration_s == 1.5
    with pytest.raises(MediaLimitError, match="duration 2.0 s exceeds the limit of 1.5 s"):
        probe(containers["mp4"])
    monkeypatch.setenv("WORKBENCH_MAX_PIXELS", "lots")
    with pytest.raises(ConfigError, match="WORKBENCH_MAX_PIXELS"):
        MediaLimits.from_env()


def test_limits_validate():
    with pytest.raises(ConfigError):
        MediaLimits(max_duration_s=0)


class _EndlessPipe(io.RawIOBase):
    """A stream that never ends: a stuck or huge pipe."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = bytes(len(buffer))
        return len(buffer)


def test_spool_copies_a_pipe_into_a_file_the_readers_take_and_stops_past_the_size_limit(containers, tmp_path):
    path = containers["mp4"]
    copied = spool(io.BytesIO(path.read_bytes()), tmp_path / "piped")
    assert copied.read_bytes() == path.read_bytes() and probe(copied).video is not None
    copied = spool(io.BufferedReader(_EndlessPipe()), tmp_path / "endless", MediaLimits(max_file_bytes=5_000_000))
    assert copied.stat().st_size == 5_000_001           # the limit plus one byte: enough for the readers to refuse it
    with pytest.raises(MediaLimitError, match="WORKBENCH_MAX_FILE_BYTES"):
        probe(copied, MediaLimits(max_file_bytes=5_000_000))
