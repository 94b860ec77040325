"""write_video / write_audio round trips."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from tests.media.conftest import decode_index, encode_index, tone
from workbench.errors import ConfigError
from workbench.media import Audio, load_audio, probe, read_frames, write_audio, write_video


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple:
    path = tmp_path_factory.mktemp("write") / "out.mp4"
    frames = torch.from_numpy(np.stack([encode_index(i) for i in range(30)]))
    audio = Audio(torch.from_numpy(tone(440, 22050, 2.0, 2).T.copy()), 22050)
    write_video(path, frames, 15.0, audio)
    return path, frames, audio


def test_write_video_round_trip(written):
    path, frames, _ = written
    info = probe(path)
    assert (info.video.codec, info.audio.codec) == ("h264", "aac")
    assert info.video.num_frames == 30
    assert info.video.duration_s == pytest.approx(2.0, abs=1 / 15)
    assert info.video.avg_fps == pytest.approx(15.0)
    assert (info.audio.sample_rate, info.audio.num_channels) == (22050, 2)
    assert info.audio.duration_s == pytest.approx(2.0, abs=0.05)
    decoded = read_frames(path)
    assert [decode_index(f) for f in decoded.frames.numpy()] == list(range(30))
    assert (decoded.frames.int() - frames.int()).abs().float().mean() < 3


def test_written_mp4_plays_in_a_browser(written):
    path, _, _ = written
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "faststart: the moov atom must come first"


def test_written_audio_is_aligned(written):
    path, _, audio = written
    decoded = load_audio(path, mono=False)
    assert decoded.start_s == 0.0
    n = min(decoded.num_samples, audio.num_samples) - 2048
    error = (decoded.waveform[:, 1024:n] - audio.waveform[:, 1024:n]).abs().mean()
    assert error < 0.02


def test_write_video_odd_size_and_numpy(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (5, 33, 47, 3), dtype=np.uint8)
    path = tmp_path / "odd.mp4"
    write_video(path, frames, 24)
    info = probe(path)
    assert (info.video.width, info.video.height, info.video.num_frames) == (48, 34, 5)
    assert info.audio is None


def test_write_video_rejects_bad_input(tmp_path):
    with pytest.raises(ConfigError):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8), np.uint8), 10)
    with pytest.raises(ConfigError):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), np.float32), 10)
    with pytest.raises(ConfigError):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), np.uint8), 0)


@pytest.mark.parametrize("suffix,codec", [(".wav", "pcm_s16le"), (".flac", "flac"), (".ogg", "vorbis"),
                                          (".mp3", "mp3"), (".m4a", "aac"), (".opus", "opus")])
def test_write_audio_round_trip(tmp_path, suffix, codec):
    audio = Audio(torch.from_numpy(tone(1000, 16000, 1.0, 2).T.copy()), 16000)
    path = tmp_path / f"tone{suffix}"
    write_audio(path, audio)
    info = probe(path)
    assert info.audio.codec.startswith(codec)
    back = load_audio(path, sample_rate=16000, mono=False)
    assert back.num_channels == 2
    assert back.duration_s == pytest.approx(1.0, abs=0.03)
    if suffix in (".wav", ".flac"):
        torch.testing.assert_close(back.waveform, audio.waveform, atol=1 / 16384, rtol=0)


def test_write_audio_unknown_suffix(tmp_path):
    with pytest.raises(ConfigError, match=r"\.xyz"):
        write_audio(tmp_path / "a.xyz", Audio(torch.zeros(1, 10), 8000))
