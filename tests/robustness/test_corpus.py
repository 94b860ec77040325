"""What every reader does with each odd or broken file of the corpus (see conftest.py).

Decided behaviours, pinned here:
- a file whose data ends before its header says -> CorruptMediaError ("truncated ..."), from the readers
  that decode (probe only reads the header); header durations FFmpeg does not use (mdhd/mvhd) are ignored;
- a file that declares no duration (raw H.264/AAC, MKV or MPEG-TS written to a pipe) decodes fully;
- audio that starts before the video: each stream keeps its own start, av_offset_s is negative;
- display rotation is applied: frames come out upright, as ffmpeg (autorotate) shows them;
- a header declaring more pixels than max_pixels -> MediaLimitError before anything is allocated; a PNG
  whose size FFmpeg cannot decode within the limit has no size, and read_frames says so;
- titles in non-UTF-8 bytes never break probing or decoding;
- silence decodes to zeros;
- a mid-stream resolution change gives frames of the stream's header size (probe's width x height);
  a mid-stream sample-rate change gives audio at probe's sample rate (the rest is resampled);
- paths with spaces and non-ASCII characters work, and errors name them exactly.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import torch

from tests.media.readers import readers
from tests.robustness.conftest import HUGE_SIZE, SEGMENT_S, VIDEO_DELAY_S
from workbench.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MediaLimitError,
    MediaNotFoundError,
    NoAudioStreamError,
    NotMediaError,
    NoVideoStreamError,
)
from workbench.media import Sampling, load_audio, probe, read_clip, read_frames, stream_audio

READERS = readers(clip_end_s=2.0)
VIDEO_READERS = ("read_frames", "read_frames_uniform", "read_clip")
AUDIO_READERS = ("load_audio", "stream_audio")

# name -> the error every reader except probe raises (probe's own outcome is in PROBE_OK)
FAILS = {
    "broken_missing.mp4": MediaNotFoundError,
    "broken_empty.wav": EmptyMediaError,
    "broken_half.mp4": CorruptMediaError,
    "broken_half_faststart.mp4": CorruptMediaError,
    "broken_half.wav": CorruptMediaError,
    "broken_random.mp4": NotMediaError,
    "broken_text.mp4": NotMediaError,
    "unicode_text.mp4": NotMediaError,
    "cut_mdat.mp4": CorruptMediaError,
    "huge.y4m": MediaLimitError,
}
PROBE_OK = {"broken_half_faststart.mp4", "cut_mdat.mp4"}   # their (faststart) header is intact
AUDIO_ONLY = ("raw.aac", "id3v2_cp1251.mp3", "id3v1_latin1.mp3", "info_cp1251.wav", "silence.wav", "silence.mp3",
              "silence.m4a", "rate_change.mp3", "rate_change.aac", "unicode.wav")
VIDEO_ONLY = ("raw.h264", "size_change.ts")
AV = ("longer_header.mp4", "streamed.mkv", "streamed.ts", "audio_first.mp4", "rotate90.mp4", "rotate180.mp4",
      "rotate270.mp4", "silence_video.mp4", "unicode.mp4")


def test_corpus_is_classified(corpus):
    assert set(corpus) == set(FAILS) | set(AUDIO_ONLY) | set(VIDEO_ONLY) | set(AV) | {"huge.png"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", sorted(FAILS))
def test_broken_files_raise_the_right_error_naming_the_file(corpus, name, reader):
    path = corpus[name]
    if reader == "probe" and name in PROBE_OK:
        assert probe(path).video is not None
        return
    with pytest.raises(FAILS[name]) as err:
        READERS[reader](path)
    assert str(err.value) == f"{path}: {err.value.reason}"
    if name.startswith("cut") or name.startswith("broken_half_"):
        assert "truncated" in err.value.reason


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", [*AUDIO_ONLY, *VIDEO_ONLY, *AV])
def test_odd_files_decode_or_lack_a_stream(corpus, name, reader):
    """Every reader succeeds, except for a stream the file does not have."""
    path = corpus[name]
    missing = (NoVideoStreamError if reader in VIDEO_READERS and name in AUDIO_ONLY else
               NoAudioStreamError if reader in AUDIO_READERS and name in VIDEO_ONLY else None)
    if missing is None:
        READERS[reader](path)
        return
    with pytest.raises(missing, match=str(path.name)):
        READERS[reader](path)


@pytest.mark.parametrize("name", [*AUDIO_ONLY, *VIDEO_ONLY, *AV])
def test_probe_is_json_ready(corpus, name):
    info = probe(corpus[name])
    json.dumps(info.to_dict())
    assert info.size_bytes == corpus[name].stat().st_size


@pytest.mark.parametrize("name", ["raw.h264", "size_change.ts", "streamed.mkv", "streamed.ts", "rotate90.mp4",
                                  "audio_first.mp4", "longer_header.mp4"])
def test_frames_have_one_shape_and_increasing_times(corpus, name):
    info = probe(corpus[name])
    frames = read_frames(corpus[name])
    num_frames = frames.frames.shape[0]
    assert num_frames == 20 or (name == "size_change.ts" and num_frames == 2 * 10)
    assert frames.frames.dtype == torch.uint8 and frames.times_s.shape == (num_frames,)
    assert bool((frames.times_s.diff() > 0).all())
    upright = (info.video.height, info.video.width)[:: -1 if info.video.rotation in (90, 270) else 1]
    assert frames.frames.shape[1:] == (*upright, 3)


def test_files_without_duration(corpus):
    for name in ("raw.h264", "streamed.mkv"):
        assert probe(corpus[name]).duration_s is None
    assert read_frames(corpus["raw.h264"], Sampling.uniform(5)).frames.shape[0] == 5
    audio = load_audio(corpus["streamed.mkv"])
    assert abs(audio.duration_s - 2.0) < 0.15
    chunks = list(stream_audio(corpus["streamed.mkv"], 0.5))
    assert sum(c.num_samples for c in chunks) == audio.num_samples


def test_header_durations_ffmpeg_ignores_do_not_matter(corpus):
    """Tripled mvhd/tkhd/mdhd durations: FFmpeg times an MP4 by its sample tables, so it decodes normally."""
    assert abs(probe(corpus["longer_header.mp4"]).duration_s - 2.0) < 0.1
    assert load_audio(corpus["longer_header.mp4"]).num_samples == 32000


def test_audio_before_video(corpus):
    path = corpus["audio_first.mp4"]
    info = probe(path)
    assert info.av_offset_s == pytest.approx(-VIDEO_DELAY_S, abs=0.03)
    assert info.audio.start_s == pytest.approx(0.0, abs=0.01)
    frames = read_frames(path)
    assert frames.times_s[0] == pytest.approx(VIDEO_DELAY_S, abs=0.01)
    clip = read_clip(path, 0.0, 1.0)
    assert bool((clip.frames.times_s >= VIDEO_DELAY_S - 0.01).all()) and clip.frames.frames.shape[0] == 5
    assert clip.audio.num_samples == 16000 and clip.audio.waveform[:, :4000].abs().max() > 0.1


def _ffmpeg_first_frame(path, width: int, height: int) -> np.ndarray:
    """The first frame as the ffmpeg tool shows it (it applies the display rotation), (H, W, 3) uint8."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3)


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_is_applied_like_ffmpeg(corpus, degrees):
    path = corpus[f"rotate{degrees}.mp4"]
    info = probe(path)
    assert info.video.rotation == degrees and (info.video.width, info.video.height) == (64, 48)
    frames = read_frames(path)
    height, width = (64, 48) if degrees in (90, 270) else (48, 64)
    assert frames.frames.shape == (20, height, width, 3)
    expected = _ffmpeg_first_frame(path, width, height).astype(np.float32)
    assert np.abs(frames.frames[0].numpy().astype(np.float32) - expected).mean() < 4
    resized = read_frames(path, Sampling.uniform(2), size=(30, 20))
    assert resized.frames.shape == (2, 20, 30, 3)     # size is (width, height) of the upright output


def test_huge_declared_resolution_is_refused_before_allocating(corpus):
    with pytest.raises(MediaLimitError, match=f"{HUGE_SIZE}x{HUGE_SIZE}.*WORKBENCH_MAX_PIXELS"):
        probe(corpus["huge.y4m"])
    info = probe(corpus["huge.png"])     # FFmpeg's PNG decoder refused the size: nothing allocated
    assert info.video.width is None
    with pytest.raises(CorruptMediaError, match="max_pixels"):
        read_frames(corpus["huge.png"])


@pytest.mark.parametrize("name", ["id3v2_cp1251.mp3", "id3v1_latin1.mp3", "info_cp1251.wav"])
def test_non_utf8_titles(corpus, name):
    info = probe(corpus[name])
    assert info.audio is not None and json.dumps(info.to_dict())
    assert load_audio(corpus[name]).waveform.abs().max() > 0.1


@pytest.mark.parametrize("name", ["silence.wav", "silence.mp3", "silence.m4a", "silence_video.mp4"])
def test_silence_decodes_to_zeros(corpus, name):
    audio = load_audio(corpus[name], mono=False)
    assert audio.num_samples > 0.9 * audio.sample_rate
    exact = name.endswith(".wav")
    assert audio.waveform.abs().max() == 0 if exact else audio.waveform.abs().max() < 1e-4
    assert torch.cat([c.waveform for c in stream_audio(corpus[name], 0.25, mono=False)], 1).abs().max() < 1e-4


@pytest.mark.parametrize("name", ["rate_change.mp3", "rate_change.aac"])
def test_sample_rate_change_is_resampled_to_one_rate(corpus, name):
    info = probe(corpus[name])
    audio = load_audio(corpus[name])
    assert audio.sample_rate == info.audio.sample_rate
    assert audio.duration_s == pytest.approx(2 * SEGMENT_S, abs=0.15)
    # both halves hold the 440 Hz tone: its period is the same before and after the change
    for half in (audio.waveform[0, : audio.sample_rate // 2], audio.waveform[0, -audio.sample_rate // 2:]):
        spectrum = np.abs(np.fft.rfft(half.numpy()))
        assert spectrum.argmax() * audio.sample_rate / len(half) == pytest.approx(440, abs=5)
    chunks = list(stream_audio(corpus[name], 0.5))
    assert {c.sample_rate for c in chunks} == {info.audio.sample_rate}
    assert sum(c.num_samples for c in chunks) == audio.num_samples
    assert load_audio(corpus[name], sample_rate=16000).duration_s == pytest.approx(audio.duration_s, abs=0.01)


def test_resolution_change_keeps_the_first_size(corpus):
    path = corpus["size_change.ts"]
    info = probe(path)
    assert (info.video.width, info.video.height) == (64, 48)
    frames = read_frames(path)
    assert frames.frames.shape == (20, 48, 64, 3)
    assert read_frames(path, size=32).frames.shape == (20, 32, 32, 3)
    late = read_frames(path, Sampling.range(SEGMENT_S + 0.2, 2 * SEGMENT_S))
    assert late.frames.shape[1:] == (48, 64, 3) and late.frames.shape[0] > 0


def test_unicode_paths(corpus):
    path = corpus["unicode.mp4"]
    assert "é 音 ñ" in str(path) and " " in path.name
    assert read_clip(path, 0.0, 1.0).audio.num_samples == 16000
    with pytest.raises(NotMediaError) as err:
        probe(corpus["unicode_text.mp4"])
    assert str(corpus["unicode_text.mp4"]) in str(err.value)


@pytest.mark.parametrize("name", sorted(FAILS))
def test_errors_are_media_errors(corpus, name):
    """Callers can rely on catching MediaError alone."""
    with pytest.raises(MediaError):
        read_frames(corpus[name])
