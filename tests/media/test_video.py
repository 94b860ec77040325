"""read_frames / read_clip: shapes, timestamps (VFR), exact seeking, sampling kinds, A/V alignment."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.media.conftest import FLASH_AT_S, VFR_PTS_MS, decode_index
from workbench.errors import ConfigError, NoVideoStreamError
from workbench.media import Frames, Sampling, probe, read_clip, read_frames


def indices(frames: Frames) -> list[int]:
    return [decode_index(f) for f in frames.frames.numpy()]


def pick_after(times: torch.Tensor, targets: list[float]) -> list[int]:
    """What a full decode picks for uniform sampling: the first frame at/after each target, else the last."""
    return [next((i for i, t in enumerate(times.tolist()) if t >= target - 1e-6), len(times) - 1)
            for target in targets]


def pick_displayed(times: torch.Tensor, targets: list[float]) -> list[int]:
    """What a full decode picks for fps sampling: the last frame shown at or before each target."""
    return [max([i for i, t in enumerate(times.tolist()) if t <= target + 1e-6], default=0) for target in targets]


@pytest.fixture(scope="module")
def index_full(index_video) -> Frames:
    return read_frames(index_video)


@pytest.mark.parametrize("name", ["mp4", "webm", "mkv", "mov", "avi", "ogv"])
def test_read_all_frames_from_every_container(containers, name):
    if name not in containers:
        pytest.skip(f"this FFmpeg build cannot encode {name}")
    frames = read_frames(containers[name])
    assert frames.frames.dtype == torch.uint8 and frames.times_s.dtype == torch.float64
    assert frames.frames.shape == (20, 48, 64, 3)
    start = probe(containers[name]).video.start_s
    torch.testing.assert_close(frames.times_s - start, torch.arange(20, dtype=torch.float64) / 10, atol=1e-3,
                               rtol=0)
    assert frames.frames.float().std() > 10      # a real picture, not a blank


def test_full_decode_is_every_frame_in_order(index_full):
    assert indices(index_full) == list(range(96))
    torch.testing.assert_close(index_full.times_s, torch.arange(96, dtype=torch.float64) / 24)


@pytest.mark.parametrize("n", [1, 5, 16, 96, 150])
def test_uniform_equals_the_frames_of_a_full_decode(index_video, index_full, n):
    frames = read_frames(index_video, Sampling.uniform(n))
    targets = [(i + 0.5) * 4.0 / n for i in range(n)]
    chosen = pick_after(index_full.times_s, targets)
    assert indices(frames) == chosen
    assert torch.equal(frames.frames, index_full.frames[chosen])          # the same pixels, not just indices
    torch.testing.assert_close(frames.times_s, index_full.times_s[chosen])


@pytest.mark.parametrize("rate", [0.7, 2, 7.5, 24, 50])
def test_fps_picks_the_frame_displayed_at_each_time(index_video, index_full, rate):
    frames = read_frames(index_video, Sampling.fps(rate))
    targets = [k / rate for k in range(math.ceil(4.0 * rate - 1e-6))]
    chosen = pick_displayed(index_full.times_s, targets)
    assert indices(frames) == chosen
    assert torch.equal(frames.frames, index_full.frames[chosen])


def test_vfr_timestamps(vfr_video):
    frames = read_frames(vfr_video)
    assert indices(frames) == list(range(len(VFR_PTS_MS)))
    torch.testing.assert_close(frames.times_s, torch.tensor(VFR_PTS_MS, dtype=torch.float64) / 1000)


def test_vfr_sampling(vfr_video):
    full = read_frames(vfr_video)
    end_s = probe(vfr_video).video.duration_s
    for sampling, chosen in [
        (Sampling.fps(4), pick_displayed(full.times_s, [k / 4 for k in range(math.ceil(end_s * 4 - 1e-6))])),
        (Sampling.uniform(6), pick_after(full.times_s, [(i + 0.5) * end_s / 6 for i in range(6)])),
    ]:
        frames = read_frames(vfr_video, sampling)
        assert indices(frames) == chosen, sampling
        torch.testing.assert_close(frames.times_s, full.times_s[chosen])


def test_range_every_and_keyframes(index_video):
    in_range = read_frames(index_video, Sampling.range(1.0, 2.0))
    assert indices(in_range) == list(range(24, 48))
    assert indices(read_frames(index_video, Sampling.every(10))) == list(range(0, 96, 10))
    keyframes = read_frames(index_video, Sampling.keyframes())
    assert indices(keyframes) == list(range(0, 96, 12))
    torch.testing.assert_close(keyframes.times_s, torch.arange(0, 96, 12, dtype=torch.float64) / 24)


@pytest.mark.parametrize("size,shape", [(32, (32, 32)), ((48, 24), (24, 48)), ((97, 31), (31, 97))])
def test_resize(index_video, size, shape):
    frames = read_frames(index_video, Sampling.uniform(3), size=size)
    assert frames.frames.shape == (3, *shape, 3)


def test_bad_size_and_empty_range(index_video):
    with pytest.raises(ConfigError):
        read_frames(index_video, size=0)
    empty = read_frames(index_video, Sampling.range(10.0, 11.0), size=16)
    assert empty.frames.shape == (0, 16, 16, 3) and empty.times_s.shape == (0,)


def test_no_video_stream(containers):
    with pytest.raises(NoVideoStreamError, match=containers["m4a"].name):
        read_frames(containers["m4a"])
    with pytest.raises(NoVideoStreamError):
        read_clip(containers["m4a"], 0, 1)


def test_clip_aligns_frames_and_audio_by_timestamps(flash_video):
    """The beep starts when the frames turn white, although the audio track starts AUDIO_DELAY_S late."""
    clip = read_clip(flash_video, 1.0, 2.0)
    assert (clip.start_s, clip.end_s) == (1.0, 2.0)
    assert clip.frames.times_s[0] >= 1.0 and clip.frames.times_s[-1] < 2.0
    assert clip.audio.start_s == 1.0 and clip.audio.num_samples == 16000
    white = clip.frames.frames.float().mean(dim=(1, 2, 3)) > 128
    first_white_s = clip.frames.times_s[white.nonzero()[0, 0]].item()
    onset_s = clip.start_s + (clip.audio.waveform[0].abs() > 0.1).nonzero()[0, 0].item() / 16000
    assert first_white_s == pytest.approx(FLASH_AT_S, abs=1e-6)
    assert onset_s == pytest.approx(FLASH_AT_S, abs=1e-3)


def test_clip_pads_audio_before_the_track_starts(flash_video):
    clip = read_clip(flash_video, 0.0, 1.0, sample_rate=8000, mono=True)
    assert clip.audio.waveform.shape == (1, 8000) and clip.audio.start_s == 0.0
    assert clip.audio.waveform.abs().max() < 1e-3                  # silence: padding, then the quiet track start
    assert clip.frames.frames.shape[0] == 10


def test_clip_end_is_clamped_and_sampling_applies_within(flash_video, silent_video):
    clip = read_clip(flash_video, 2.0, 10.0, sampling=Sampling.uniform(4), size=16)
    assert clip.end_s == pytest.approx(3.0, abs=0.01)
    assert clip.frames.frames.shape == (4, 16, 16, 3)
    assert clip.audio.duration_s == pytest.approx(clip.end_s - clip.start_s, abs=1 / 16000)
    assert read_clip(silent_video, 0.0, 0.5).audio is None
    with pytest.raises(ConfigError):
        read_clip(silent_video, 0.5, 0.5)


@pytest.mark.parametrize("text,expected", [
    ("uniform:16", Sampling.uniform(16)), ("fps:2", Sampling.fps(2)), ("range:1.5:3", Sampling.range(1.5, 3)),
    ("every:5", Sampling.every(5)), ("keyframes", Sampling.keyframes()), ("all", Sampling.all()),
])
def test_sampling_parse(text, expected):
    assert Sampling.parse(text) == expected
    assert Sampling.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["", "uniform", "uniform:0", "uniform:x", "fps:-1", "range:3:1", "every:1.5",
                                  "bogus", "all:3"])
def test_sampling_parse_rejects_bad_text(text):
    with pytest.raises(ConfigError):
        Sampling.parse(text)


def test_frames_are_contiguous_uint8(index_video):
    frames = read_frames(index_video, Sampling.uniform(4), size=(40, 20))
    assert frames.frames.is_contiguous()
    assert np.asarray(frames.frames).dtype == np.uint8


def test_uniform_seeks_instead_of_decoding_everything(index_video, monkeypatch):
    import workbench.media.video as video

    decoded = []

    def counting(*args):
        for frame in real(*args):
            decoded.append(frame)
            yield frame

    real = video.decode_packets
    monkeypatch.setattr(video, "decode_packets", counting)
    frames = read_frames(index_video, Sampling.uniform(4))
    assert frames.frames.shape[0] == 4
    assert len(decoded) < 96 / 2, f"decoded {len(decoded)} of 96 frames for 4 targets"
