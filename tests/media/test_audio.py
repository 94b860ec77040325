"""load_audio / stream_audio: formats, channels, bit depths, rates, resampling, spans, streaming."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch

from workbench.errors import ConfigError, NoAudioStreamError
from workbench.media import Audio, MediaLimits, load_audio, probe, stream_audio
from workbench.media.audio import load_audio_span


def peak_hz(audio: Audio) -> float:
    spectrum = np.abs(np.fft.rfft(audio.waveform[0].numpy()))
    return float(np.argmax(spectrum)) * audio.sample_rate / audio.num_samples


@pytest.mark.parametrize("name", ["mp4", "webm", "mkv", "mov", "avi", "ogv", "mp3", "flac", "ogg", "m4a"])
def test_load_audio_from_every_container(containers, name):
    if name not in containers:
        pytest.skip(f"this FFmpeg build cannot encode {name}")
    audio = load_audio(containers[name])
    assert audio.waveform.dtype == torch.float32
    assert audio.waveform.shape == (1, audio.num_samples)
    assert audio.duration_s == pytest.approx(2.0, abs=0.03)
    assert audio.waveform.abs().max() <= 1.0
    assert peak_hz(audio) == pytest.approx(1000, abs=5)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "FLOAT"])
@pytest.mark.parametrize("num_channels", [1, 2, 6])
def test_wav_depths_and_channels(wav_factory, subtype, num_channels):
    path = wav_factory(subtype, num_channels, 16000)
    audio = load_audio(path, mono=False)
    assert audio.waveform.shape == (num_channels, 16000)
    expected, _ = soundfile.read(path, dtype="float32", always_2d=True)
    tolerance = 1 / 64 if subtype == "PCM_U8" else 1e-4
    torch.testing.assert_close(audio.waveform, torch.from_numpy(expected.T.copy()), atol=tolerance, rtol=0)
    mono = load_audio(path)
    assert mono.waveform.shape == (1, 16000)
    torch.testing.assert_close(mono.waveform, audio.waveform.mean(0, keepdim=True))


@pytest.mark.parametrize("sample_rate", [8000, 11025, 22050, 32000, 44100, 48000])
def test_odd_sample_rates_resample_to_16k(wav_factory, sample_rate):
    audio = load_audio(wav_factory("PCM_16", 2, sample_rate), sample_rate=16000)
    assert audio.sample_rate == 16000
    assert audio.num_samples == 16000
    assert peak_hz(audio) == pytest.approx(1000, abs=2)


@pytest.mark.parametrize("target", [8000, 22050, 44100])
def test_resampled_tone_keeps_its_frequency(wav_factory, target):
    audio = load_audio(wav_factory("PCM_16", 1, 48000), sample_rate=target)
    assert (audio.sample_rate, audio.num_samples) == (target, target)
    assert peak_hz(audio) == pytest.approx(1000, abs=2)
    middle = audio.waveform[0, target // 4: 3 * target // 4]
    assert middle.abs().max() == pytest.approx(0.5, abs=0.01)     # no loss of level in the passband


def test_resample_in_pyav_path(containers):
    audio = load_audio(containers["m4a"], sample_rate=44100)
    assert audio.sample_rate == 44100
    assert audio.num_samples == pytest.approx(2 * 44100, abs=44)
    assert peak_hz(audio) == pytest.approx(1000, abs=2)


def test_multichannel_from_pyav(media_dir):
    from tests.media.conftest import ffmpeg

    path = media_dir / "surround.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", "1", "-ac", "6", "-c:a", "aac",
           str(path))
    assert probe(path).audio.num_channels == 6
    audio = load_audio(path, mono=False)
    assert audio.waveform.shape[0] == 6
    assert load_audio(path).waveform.shape == (1, audio.num_samples)


@pytest.mark.parametrize("fmt", ["wav", "mp4", "mkv"])
def test_start_and_duration(containers, wav_factory, fmt):
    path = wav_factory("PCM_16", 1, 16000) if fmt == "wav" else containers[fmt]
    full = load_audio(path)
    part = load_audio(path, start_s=0.25, duration_s=0.5)
    assert part.start_s == pytest.approx(0.25, abs=1 / 16000)
    assert part.num_samples == 8000
    first = round(part.start_s * 16000)
    torch.testing.assert_close(part.waveform, full.waveform[:, first:first + 8000], atol=1e-4, rtol=0)


def test_audio_of_a_video_with_delayed_audio(flash_video):
    audio = load_audio(flash_video, start_s=0.0, duration_s=1.0)
    assert audio.start_s == pytest.approx(probe(flash_video).audio.start_s)   # the track starts late
    assert audio.start_s + audio.duration_s == pytest.approx(1.0, abs=1 / 16000)


def test_audio_only_mp4(audio_only_mp4):
    audio = load_audio(audio_only_mp4, sample_rate=16000)
    assert audio.duration_s == pytest.approx(1.5, abs=0.01)
    assert peak_hz(audio) == pytest.approx(1000, abs=2)


def test_no_audio_stream(silent_video):
    with pytest.raises(NoAudioStreamError, match=silent_video.name):
        load_audio(silent_video)
    with pytest.raises(NoAudioStreamError, match=silent_video.name):
        next(stream_audio(silent_video, 1.0))


@pytest.mark.parametrize("fmt,sample_rate,mono", [("wav", None, True), ("wav", 22050, False),
                                                   ("mp3", None, True), ("m4a", 8000, True),
                                                   ("mkv", 44100, True)])
def test_stream_chunks_concatenate_to_load(containers, wav_factory, fmt, sample_rate, mono):
    path = wav_factory("PCM_24", 2, 44100, 3.3) if fmt == "wav" else containers[fmt]
    chunks = list(stream_audio(path, 0.4, sample_rate=sample_rate, mono=mono))
    full = load_audio(path, sample_rate=sample_rate, mono=mono)
    rate = full.sample_rate
    assert all(c.num_samples == round(0.4 * rate) for c in chunks[:-1])
    assert 0 < chunks[-1].num_samples <= round(0.4 * rate)
    for i, chunk in enumerate(chunks):
        assert chunk.start_s == pytest.approx(full.start_s + i * round(0.4 * rate) / rate)
    torch.testing.assert_close(torch.cat([c.waveform for c in chunks], 1), full.waveform, atol=1e-5, rtol=0)


def test_stream_audio_is_lazy(wav_factory):
    stream = stream_audio(wav_factory("PCM_16", 1, 8000, 60.0), 1.0)
    first = next(stream)
    assert first.num_samples == 8000 and first.start_s == 0.0
    stream.close()


def test_fsdd_recordings(fsdd_dir):
    paths = sorted(fsdd_dir.glob("*.wav"))[:3]
    assert paths, f"no recordings in {fsdd_dir}"
    for path in paths:
        info = probe(path)
        assert (info.audio.sample_rate, info.audio.num_channels, info.audio.bit_depth) == (8000, 1, 16)
        audio = load_audio(path)
        expected, rate = soundfile.read(path, dtype="float32")
        assert audio.sample_rate == rate == 8000
        torch.testing.assert_close(audio.waveform[0], torch.from_numpy(expected))
        resampled = load_audio(path, sample_rate=16000)
        assert resampled.num_samples == 2 * audio.num_samples


@pytest.mark.parametrize("fmt", ["wav16", "wav24x6", "float", "flac", "ogg"])
@pytest.mark.parametrize("span", [(None, None, None, True), (0.25, 0.5, None, False), (0.1, None, 8000, True)])
def test_a_file_libsndfile_reads_loads_as_the_probed_path_loads_it(containers, wav_factory, fmt, span):
    """load_audio reads WAV, FLAC and OGG from libsndfile's header, without PyAV's probe: the same samples, rate and
    start as the path through `probe` (which a file libsndfile cannot open still takes)."""
    path = {"wav16": lambda: wav_factory("PCM_16", 2, 22050), "wav24x6": lambda: wav_factory("PCM_24", 6, 48000),
            "float": lambda: wav_factory("FLOAT", 1, 11025), "flac": lambda: containers.get("flac"),
            "ogg": lambda: containers.get("ogg")}[fmt]()
    if path is None:
        pytest.skip(f"this FFmpeg build cannot encode {fmt}")
    start_s, duration_s, rate, mono = span
    fast = load_audio(path, sample_rate=rate, mono=mono, start_s=start_s, duration_s=duration_s)
    limits = MediaLimits()
    probed = load_audio_span(path, probe(path, limits), start_s, duration_s, rate, mono, limits)
    assert (fast.sample_rate, fast.start_s) == (probed.sample_rate, probed.start_s)
    assert torch.equal(fast.waveform, probed.waveform)


def test_a_wav_past_the_duration_limit_or_truncated_is_refused_without_the_probe_too(tmp_path):
    from workbench.errors import CorruptMediaError, MediaLimitError

    path = tmp_path / "two_seconds.wav"
    soundfile.write(path, np.zeros(32_000, np.float32), 16000, subtype="PCM_16")
    with pytest.raises(MediaLimitError, match="duration"):
        load_audio(path, limits=MediaLimits(max_duration_s=1.0))
    half = tmp_path / "half.wav"
    half.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(CorruptMediaError, match="truncated"):
        load_audio(half)


def test_bad_arguments(wav_factory):
    path = wav_factory("PCM_16", 1, 16000)
    with pytest.raises(ConfigError):
        load_audio(path, start_s=-1)
    with pytest.raises(ConfigError):
        load_audio(path, duration_s=0)
    with pytest.raises(ConfigError):
        load_audio(path, sample_rate=0)
    with pytest.raises(ConfigError):
        next(stream_audio(path, 0))
    with pytest.raises(ConfigError):
        Audio(torch.zeros(10), 16000)
