"""Spectrograms: shapes, frame rate, batching and padding, config checks, and agreement with librosa."""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import replace

import librosa
import numpy as np
import pytest
import soundfile
import torch

from workbench.config import from_dict, to_dict
from workbench.errors import ConfigError
from workbench.features import Spectrogram, SpectrogramConfig, num_frames, spectrogram

KINDS = ["mel", "mfcc", "stft", "cqt"]
SAMPLE_RATE = 16_000


def _noise(*shape: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    return 0.1 * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _sine(freq_hz: float, seconds: float = 1.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * freq_hz * np.arange(int(seconds * sample_rate)) / sample_rate)


# --- shapes and frame rate -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_samples", [16_000, 16_123, 4_321])
def test_shape_of_every_kind(kind, num_samples, device):
    cfg = SpectrogramConfig(kind=kind)
    spec = Spectrogram(cfg).to(device)(_noise(2, num_samples).to(device))
    assert spec.shape == (2, cfg.num_bins, 1 + num_samples // cfg.hop_length)
    assert spec.shape[-1] == num_frames(num_samples, cfg)
    assert spec.device.type == device.type and spec.dtype == torch.float32
    assert torch.isfinite(spec).all()


def test_num_bins_per_kind():
    assert [SpectrogramConfig(kind=k).num_bins for k in KINDS] == [64, 20, 201, 84]


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_leading_dims_are_kept(lead):
    cfg = SpectrogramConfig()
    spec = spectrogram(_noise(*lead, 8000), cfg)
    assert spec.shape == (*lead, 64, 51)


def test_frame_count_without_centering():
    cfg = SpectrogramConfig(kind="stft", center=False)
    spec = spectrogram(_noise(16_000), cfg)
    assert spec.shape[-1] == 1 + (16_000 - 400) // 160 == num_frames(16_000, cfg)
    assert num_frames(torch.tensor([100, 400, 16_000]), cfg).tolist() == [0, 1, 98]


def test_num_frames_of_lengths_tensor():
    assert num_frames(torch.tensor([0, 159, 160, 16_000]), SpectrogramConfig()).tolist() == [1, 1, 2, 101]


@pytest.mark.parametrize("kind", ["stft", "mel", "cqt"])
def test_frame_rate_puts_a_click_at_its_time(kind):
    cfg = SpectrogramConfig(kind=kind, scale="linear")
    assert cfg.frame_rate == 100.0
    signal = torch.zeros(SAMPLE_RATE)
    signal[6_000] = 1.0  # a click at 0.375 s -> frames 37 and 38 straddle it
    spec = spectrogram(signal, cfg)
    if kind == "cqt":
        spec = spec[-24:]  # low cqt bins have windows of ~0.5 s; the top two octaves are sharp in time
    energy = spec.sum(dim=0)
    assert int(energy.argmax()) in (37, 38)
    assert energy[:30].max() < 1e-3 * energy.max() and energy[46:].max() < 1e-3 * energy.max()


# --- batching and padding --------------------------------------------------------------------


def _configs():
    for kind in KINDS:
        for normalize in ("none", "utterance", "utterance_mean", "frame"):
            yield SpectrogramConfig(kind=kind, normalize=normalize)
        if kind != "mfcc":
            yield SpectrogramConfig(kind=kind, normalize="peak")
    yield SpectrogramConfig(kind="mel", scale="log", normalize="utterance")
    yield SpectrogramConfig(kind="stft", scale="linear", power=1.0)
    yield SpectrogramConfig(kind="mel", center=False)
    yield SpectrogramConfig(kind="mel", scale="pcen")
    yield SpectrogramConfig(kind="stft", scale="pcen", power=1.0, normalize="utterance")


@pytest.mark.parametrize("cfg", list(_configs()), ids=lambda c: f"{c.kind}-{c.scale}-{c.normalize}-{c.center}")
def test_batch_equals_one_by_one(cfg, device):
    # loud and very quiet items: dB clamping (top_db) must follow each item's own maximum
    batch = torch.stack([_noise(12_000, seed=1), 1e-4 * _noise(12_000, seed=2), _noise(12_000, seed=3)]).to(device)
    module = Spectrogram(cfg).to(device)
    together = module(batch)
    tol = 1e-4 if batch.device.type == "cpu" else 2e-3   # CUDA picks other FFT and matmul kernels per batch size
    for i in range(len(batch)):
        torch.testing.assert_close(together[i], module(batch[i]), rtol=1e-4, atol=tol)


@pytest.mark.parametrize("cfg", list(_configs()), ids=lambda c: f"{c.kind}-{c.scale}-{c.normalize}-{c.center}")
def test_padding_never_changes_valid_frames(cfg, device):
    items = [_noise(9_000, seed=1), 1e-3 * _noise(5_555, seed=2), _noise(12_000, seed=3)]
    lengths = torch.tensor([len(x) for x in items])
    batch = 5.0 * _noise(3, 12_000, seed=9)  # loud garbage in the padding must not leak
    for i, item in enumerate(items):
        batch[i, : len(item)] = item
    module = Spectrogram(cfg).to(device)
    padded = module(batch.to(device), lengths.to(device))
    valid = num_frames(lengths, cfg)
    for i, item in enumerate(items):
        alone = module(item.to(device))
        assert alone.shape[-1] == valid[i]
        # float32 FFTs of a batch and of one item may round differently: tolerances, not equality
        torch.testing.assert_close(padded[i, :, : valid[i]], alone, rtol=1e-3, atol=1e-3)
        assert torch.equal(padded[i, :, valid[i]:], torch.zeros_like(padded[i, :, valid[i]:]))


def test_lengths_must_match_the_batch():
    module = Spectrogram(SpectrogramConfig())
    with pytest.raises(ValueError, match="leading dims"):
        module(_noise(2, 1000), torch.tensor([1000]))
    with pytest.raises(ValueError, match="lengths must lie"):
        module(_noise(2, 1000), torch.tensor([1000, 1001]))
    with pytest.raises(TypeError):
        module(torch.zeros(2, 1000, dtype=torch.int16))


def test_zero_length_item_is_all_zero_but_first_frame():
    cfg = SpectrogramConfig(normalize="utterance")
    spec = spectrogram(_noise(2, 4000), cfg, lengths=torch.tensor([4000, 0]))
    assert torch.isfinite(spec).all()
    assert torch.equal(spec[1, :, 1:], torch.zeros_like(spec[1, :, 1:]))


def test_peak_normalisation_removes_level_and_keeps_the_spectral_shape():
    # A steady vowel-like clip: per-bin mean normalisation (CMN) leaves almost nothing of its formants,
    # peak normalisation keeps them; neither cares about the level.
    t = torch.arange(8_000) / 8_000
    vowel = torch.sin(2 * math.pi * 500 * t) + 0.3 * torch.sin(2 * math.pi * 1_900 * t)
    peak = SpectrogramConfig(sample_rate=8_000, n_fft=256, hop_length=80, n_mels=40, normalize="peak")
    loud, quiet = spectrogram(vowel, peak), spectrogram(0.1 * vowel, peak)
    torch.testing.assert_close(loud, quiet, atol=1e-3, rtol=0)
    assert loud.max().item() == pytest.approx(80.0) and loud.min().item() >= 0.0
    profile = loud[:, 20:-20].mean(dim=-1)
    centres = librosa.mel_frequencies(n_mels=42, fmin=0.0, fmax=4_000.0)[1:-1]
    assert abs(centres[profile.argmax().item()] - 500.0) < 100.0
    assert profile.std() > 10.0                              # formant shape kept (dB across bins)
    cmn = spectrogram(vowel, replace(peak, normalize="utterance_mean"))[:, 20:-20]
    assert cmn.mean(dim=-1).std() < 2.0                     # ... and all but gone under CMN


def test_peak_normalisation_needs_a_db_floor():
    for bad in ({"scale": "log"}, {"top_db": None}, {"kind": "mfcc"}):
        with pytest.raises(ConfigError, match="peak"):
            SpectrogramConfig(normalize="peak", **bad)


def test_utterance_normalisation_is_standard_over_valid_frames():
    spec = spectrogram(_noise(2, 16_000), SpectrogramConfig(normalize="utterance"), torch.tensor([16_000, 8_000]))
    short = spec[1, :, :51]
    torch.testing.assert_close(short.mean(dim=-1), torch.zeros(64), atol=1e-4, rtol=0)
    torch.testing.assert_close(short.std(dim=-1, unbiased=False), torch.ones(64), atol=1e-2, rtol=0)


def test_buffers_follow_the_module(device):
    module = Spectrogram(SpectrogramConfig(kind="mfcc")).to(device)
    assert {name for name, _ in module.named_buffers()} == {"window", "mel_fb", "mel_fb_parts", "dct"}
    assert all(b.device.type == device.type for b in module.buffers())
    assert module.state_dict() == {}  # derived from the config: nothing to save in a bundle


# --- config ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"kind": "chroma"}, {"window": "kaiser"}, {"scale": "bel"}, {"normalize": "global"},
    {"hop_length": 401}, {"hop_length": 0}, {"n_fft": 0}, {"win_length": 401}, {"sample_rate": 0},
    {"fmax": 8001.0}, {"fmax": 0.0}, {"fmin": -1.0}, {"fmin": 4000.0, "fmax": 4000.0}, {"fmin": 8000.0},
    {"n_mels": 0}, {"n_mels": -3}, {"power": 0.0}, {"top_db": 0.0},
    {"kind": "mfcc", "scale": "linear"}, {"kind": "mfcc", "n_mfcc": 65},
    {"kind": "cqt", "n_bins": 96}, {"kind": "cqt", "center": False}, {"kind": "cqt", "bins_per_octave": 0},
    {"mel_scale": "bark"}, {"kind": "mfcc", "scale": "pcen"}, {"scale": "pcen", "normalize": "peak"},
    {"scale": "pcen", "pcen_bias": 0.0}, {"scale": "pcen", "pcen_time_s": 0.0}, {"pcen_gain": -0.1},
])
def test_bad_config_is_a_config_error(kwargs):
    with pytest.raises(ConfigError):
        SpectrogramConfig(**kwargs)


def test_config_json_round_trip():
    cfg = SpectrogramConfig(kind="mfcc", sample_rate=22_050, n_fft=1024, win_length=800, hop_length=256,
                            window="hamming", n_mels=80, n_mfcc=13, fmin=20, fmax=8000, power=1.0,
                            scale="log", top_db=None, normalize="utterance", mel_scale="htk")
    data = json.loads(json.dumps(to_dict(cfg)))
    assert from_dict(SpectrogramConfig, data) == cfg
    assert from_dict(SpectrogramConfig, to_dict(SpectrogramConfig())) == SpectrogramConfig()
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(SpectrogramConfig, {**data, "sr": 16_000})
    with pytest.raises(ConfigError):
        from_dict(SpectrogramConfig, {**data, "kind": "chroma"})


def test_defaults_warn_about_no_empty_mel_filter(caplog):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for kind in ("mel", "mfcc"):
            Spectrogram(SpectrogramConfig(kind=kind))
            Spectrogram(SpectrogramConfig(kind=kind, sample_rate=8000, n_fft=200, hop_length=80, n_mels=40))
    assert not caplog.records


def test_too_many_mels_log_one_clear_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="workbench.features.spectrogram"), warnings.catch_warnings():
        warnings.simplefilter("error")  # torchaudio's own warning is replaced by ours
        Spectrogram(SpectrogramConfig(n_mels=128, mel_scale="htk"))
    assert any("lower n_mels or raise n_fft" in r.message for r in caplog.records)


# --- agreement with librosa ------------------------------------------------------------------


@pytest.fixture(scope="module")
def speechlike() -> np.ndarray:
    """One second of a chirp plus noise, float64 so the comparison tests our maths, not float32."""
    rng = np.random.default_rng(0)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    return 0.4 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.05 * rng.standard_normal(SAMPLE_RATE)


def _ours(signal: np.ndarray, **kwargs) -> np.ndarray:
    return spectrogram(torch.from_numpy(signal), SpectrogramConfig(**kwargs)).numpy()


@pytest.mark.parametrize("mel_scale", ["slaney", "htk"])
def test_mel_power_matches_librosa(speechlike, mel_scale):
    ours = _ours(speechlike, scale="linear", mel_scale=mel_scale, n_mels=40, fmin=50, fmax=7000)
    theirs = librosa.feature.melspectrogram(y=speechlike, sr=SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=40,
                                            fmin=50, fmax=7000, htk=mel_scale == "htk", norm="slaney")
    assert ours.shape == theirs.shape
    # both filterbanks are computed in float32: agreement to ~1e-5 relative
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6 * theirs.max())


@pytest.mark.parametrize("power", [1.0, 1.5])
def test_mel_of_magnitude_matches_librosa(speechlike, power):
    ours = _ours(speechlike, scale="linear", power=power)
    theirs = librosa.feature.melspectrogram(y=speechlike, sr=SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=64,
                                            power=power)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6 * theirs.max())


def test_stft_power_matches_librosa(speechlike):
    ours = _ours(speechlike, kind="stft", scale="linear", window="rectangular")
    theirs = np.abs(librosa.stft(speechlike, n_fft=400, hop_length=160, window="boxcar")) ** 2
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * theirs.max())


def test_mel_db_matches_librosa_power_to_db(speechlike):
    ours = _ours(speechlike)
    mel = librosa.feature.melspectrogram(y=speechlike, sr=SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=64)
    np.testing.assert_allclose(ours, librosa.power_to_db(mel, ref=1.0, top_db=80.0), atol=1e-3)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_pcen_matches_librosa(speechlike, power):
    ours = _ours(speechlike, scale="pcen", power=power, n_mels=40, pcen_time_s=0.2, pcen_gain=0.9)
    mel = librosa.feature.melspectrogram(y=speechlike, sr=SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=40, power=power)
    theirs = librosa.pcen(mel * float(2 ** 31) ** power, sr=SAMPLE_RATE, hop_length=160, time_constant=0.2, gain=0.9,
                          bias=2.0, power=0.5, eps=1e-6)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_pcen_ignores_a_steady_level_and_marks_the_onset_of_a_sound():
    cfg = SpectrogramConfig(sample_rate=8000, n_fft=256, hop_length=80, n_mels=40, scale="pcen")
    tone = torch.sin(2 * math.pi * 500 * torch.arange(16_000) / 8000)
    quiet_then_loud = torch.cat([0.001 * _noise(8_000, seed=4), 0.5 * tone[:8_000]])
    out = spectrogram(quiet_then_loud, cfg)
    band = out[int(spectrogram(tone, replace(cfg, scale="linear")).mean(-1).argmax())]     # the tone's mel bin
    assert band[101:106].mean() > 4 * band[150:].mean()      # the onset stands out; the held tone fades
    loud, soft = spectrogram(0.5 * tone, cfg), spectrogram(0.005 * tone, cfg)     # 40 dB apart
    torch.testing.assert_close(loud[:, 60:], soft[:, 60:], rtol=0.15, atol=0.05)  # once the gain has settled


def test_mfcc_matches_librosa(speechlike):
    ours = _ours(speechlike, kind="mfcc", n_mfcc=13, n_mels=40)
    theirs = librosa.feature.mfcc(y=speechlike, sr=SAMPLE_RATE, n_mfcc=13, n_fft=400, hop_length=160, n_mels=40)
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman"])
def test_stft_magnitude_matches_librosa(speechlike, window):
    ours = _ours(speechlike, kind="stft", power=1.0, scale="linear", window=window, win_length=320)
    theirs = np.abs(librosa.stft(speechlike, n_fft=400, hop_length=160, win_length=320, window=window))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * theirs.max())


def test_cqt_matches_librosa(speechlike):
    ours = _ours(speechlike, kind="cqt", power=1.0, scale="linear", n_bins=72)
    with pytest.warns(UserWarning, match="too large"):  # librosa's note on the top octaves; ours hides it
        theirs = np.abs(librosa.cqt(speechlike, sr=SAMPLE_RATE, hop_length=160, n_bins=72))
    assert ours.shape == theirs.shape == (72, 101)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * theirs.max())


@pytest.mark.parametrize("kind", ["stft", "mel", "cqt"])
def test_sine_peaks_in_its_bin(kind):
    freq_hz = 440.0
    spec = _ours(_sine(freq_hz), kind=kind, scale="linear").mean(axis=-1)
    if kind == "stft":
        expected = round(freq_hz / (SAMPLE_RATE / 400))  # bin spacing sample_rate / n_fft = 40 Hz -> bin 11
    elif kind == "mel":
        centres = librosa.mel_frequencies(n_mels=64 + 2, fmax=SAMPLE_RATE / 2)[1:-1]
        expected = int(np.abs(centres - freq_hz).argmin())
    else:
        expected = 45  # A4 is 3 octaves and 9 semitones above C1
    assert int(spec.argmax()) == expected


# --- real speech -----------------------------------------------------------------------------


def test_mel_of_real_speech(fsdd_dir):
    paths = sorted(fsdd_dir.glob("*.wav"))[:4]
    assert paths, f"no wav files in {fsdd_dir}"
    cfg = SpectrogramConfig(sample_rate=8000, n_fft=200, hop_length=80, n_mels=40, normalize="utterance")
    clips = []
    for path in paths:
        samples, sample_rate = soundfile.read(path, dtype="float32")
        assert sample_rate == 8000 and samples.ndim == 1
        clips.append(torch.from_numpy(samples))
    lengths = torch.tensor([len(c) for c in clips])
    batch = torch.nn.utils.rnn.pad_sequence(clips, batch_first=True)
    module = Spectrogram(cfg)
    padded = module(batch, lengths)
    assert padded.shape == (len(clips), 40, 1 + batch.shape[-1] // 80)
    assert torch.isfinite(padded).all()
    for i, clip in enumerate(clips):
        alone = module(clip)
        assert alone.shape == (40, 1 + len(clip) // 80)
        torch.testing.assert_close(padded[i, :, : alone.shape[-1]], alone, rtol=1e-4, atol=1e-4)
    speech = spectrogram(clips[0], replace(cfg, normalize="none"))
    assert speech.max() - speech.min() > 30  # speech has dynamics, not a flat floor
