"""Broken files raise the right MediaError subclass, naming the file; nothing raw escapes."""

from __future__ import annotations

import pytest

from workbench.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MediaNotFoundError,
    NotMediaError,
    UnsupportedCodecError,
)
from workbench.media import load_audio, probe, read_frames

from tests.media.readers import readers

EXPECTED = {
    "missing.mp4": MediaNotFoundError,
    "empty.wav": EmptyMediaError,
    "half.mp4": CorruptMediaError,
    "half_faststart.mp4": CorruptMediaError,
    "half.wav": CorruptMediaError,
    "random.mp4": NotMediaError,
    "text.mp4": NotMediaError,
}

READERS = readers(clip_end_s=1.0)


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_files(broken, name, reader):
    path = broken[name]
    if name == "half_faststart.mp4" and reader == "probe":
        assert probe(path).video is not None    # its header (moov first) is intact: only decoding finds the gap
        return
    with pytest.raises(EXPECTED[name]) as err:
        READERS[reader](path)
    assert path.name in str(err.value)
    assert str(err.value) == f"{path}: {err.value.reason}"


def test_missing_is_also_a_file_not_found_error(broken):
    with pytest.raises(FileNotFoundError):
        load_audio(broken["missing.mp4"])


def test_directory_is_not_media(tmp_path):
    with pytest.raises(MediaNotFoundError, match="not a regular file"):
        probe(tmp_path)


def test_errors_pickle(broken):
    import pickle

    with pytest.raises(MediaError) as err:
        probe(broken["text.mp4"])
    again = pickle.loads(pickle.dumps(err.value))
    assert type(again) is NotMediaError and str(again) == str(err.value)


def test_unsupported_codec(unknown_codec_avi):
    assert probe(unknown_codec_avi).video.codec == "unknown"
    with pytest.raises(UnsupportedCodecError, match=unknown_codec_avi.name):
        read_frames(unknown_codec_avi)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_garbage_inside_a_file_never_escapes_raw(garbled_mp4, reader):
    """Decoding damaged data either conceals it or raises a MediaError; never a raw av/IndexError, never a hang."""
    try:
        READERS[reader](garbled_mp4)
    except MediaError as err:
        assert garbled_mp4.name in str(err)


@pytest.mark.parametrize("suffix,bad", [(".wav", float("nan")), (".wav", float("inf")), (".caf", float("-inf"))])
def test_float_audio_holding_values_that_are_not_numbers_is_damaged(tmp_path, suffix, bad):
    # a float file can store NaN and infinity; passed on, they turn every spectrogram into nonsense
    import numpy as np
    import soundfile

    from workbench.media import stream_audio

    samples = (0.1 * np.random.default_rng(0).standard_normal((16_000, 2))).astype(np.float32)
    samples[12_000, 1] = bad
    path = tmp_path / f"float{suffix}"
    soundfile.write(path, samples, 8000, subtype="FLOAT")
    for read in (lambda: load_audio(path), lambda: load_audio(path, sample_rate=16_000),
                 lambda: list(stream_audio(path, 0.5, sample_rate=8000))):
        with pytest.raises(CorruptMediaError, match=r"float\.\w+: damaged audio data: 1 sample value\(s\) are not "
                                                    r"numbers \(NaN or infinite\), the first at 1\.500 s"):
            read()
    assert load_audio(path, duration_s=1.0).num_samples == 8000     # the part before the damage still reads
