import math

import pytest
import torch

from workbench.features import (
    active_span, frame_energy_db, is_steady_noise, is_steady_tone, longest_pitch_run, longest_steady_pitch,
    longest_steady_tone, pitch_periods, spectral_change_db, steady_tone_frames, trim_noise, trim_silence,
    without_dc,
)
from workbench.features.activity import STEADY_TONE_FRAMES

SR = 8000


def test_active_span_finds_the_loud_part_to_the_frame():
    burst = 0.3 * torch.sin(torch.arange(1600) * 0.3)
    clip = torch.cat([torch.zeros(800), burst, 1e-4 * torch.ones(4000)])   # quiet tail 70 dB down
    assert active_span(clip, SR) == (800, 2400)
    assert trim_silence(clip, SR).shape == (1600,)


def test_threshold_decides_what_counts_as_silence():
    clip = torch.cat([0.01 * torch.ones(800), 0.5 * torch.ones(800)])       # first part 34 dB down
    assert active_span(clip, SR, threshold_db=40.0) == (0, 1600)
    assert active_span(clip, SR, threshold_db=20.0) == (800, 1600)


def test_silent_or_tiny_clips_are_kept_whole():
    assert active_span(torch.zeros(4000), SR) == (0, 4000)
    assert active_span(torch.ones(10), SR) == (0, 10)


def test_without_dc_takes_out_an_offset_and_keeps_the_sound():
    sound = 0.3 * torch.sin(torch.arange(1600) * 0.3)
    out = without_dc(sound - 0.25)
    assert abs(float(out.mean())) < 1e-6 and torch.allclose(out, sound - sound.mean(), atol=1e-6)
    assert without_dc(torch.zeros(0)).shape == (0,)
    batch = torch.stack([sound + 1.0, sound - 1.0])              # (..., samples): each row its own mean
    torch.testing.assert_close(without_dc(batch), torch.stack([sound - sound.mean()] * 2))


def test_frame_energy_of_a_full_scale_square_is_zero_db():
    energy = frame_energy_db(torch.ones(800), 80)
    assert energy.shape == (10,) and torch.allclose(energy, torch.zeros(10, dtype=torch.float64), atol=1e-6)


def _word_in_noise(snr_db: float, pad_s: float = 0.75):
    """A 0.4 s 'word' (a tone) with pad_s of pink-ish noise at each end and under it, at snr_db against the word."""
    gen = torch.Generator().manual_seed(0)
    word = 0.3 * torch.sin(2 * torch.pi * 300 * torch.arange(int(0.4 * SR)) / SR)
    pad = torch.zeros(int(pad_s * SR))
    clip = torch.cat([pad, word, pad])
    noise = torch.cumsum(torch.randn(clip.shape[0], generator=gen), 0)      # brown: most power low, like a room
    noise = noise - torch.nn.functional.avg_pool1d(noise[None, None], 81, 1, 40, count_include_pad=False)[0, 0]
    noise = noise / noise.pow(2).mean().sqrt() * word.pow(2).mean().sqrt() * 10 ** (-snr_db / 20)
    return clip + noise, pad.shape[0], word.shape[0]


def test_trim_noise_finds_a_word_in_a_noisy_recording_that_the_peak_trim_keeps_whole():
    clip, lead, length = _word_in_noise(20.0)
    assert trim_silence(clip, SR, 30.0).shape[0] > clip.shape[0] - SR // 50    # the noise is within 30 dB of the peak
    cut = trim_noise(clip, SR)
    assert abs(cut.shape[0] - length) <= SR // 50                            # the word, to two frames
    starts = [s for s in range(clip.shape[0] - cut.shape[0] + 1) if torch.equal(clip[s:s + cut.shape[0]], cut)]
    assert len(starts) == 1 and abs(starts[0] - lead) <= SR // 50            # a piece of the clip, where the word is


def test_trim_noise_leaves_a_steady_sound_whole():
    gen = torch.Generator().manual_seed(1)
    hum = 0.1 * torch.randn(SR, generator=gen)                                # noise throughout: no floor to cut to
    torch.testing.assert_close(trim_noise(hum, SR), hum)
    assert trim_noise(torch.zeros(0), SR).shape == (0,)


def _colored_noise(seconds: float, sample_rate: int, exponent: float, seed: int = 0) -> torch.Tensor:
    """Noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown), peak 0.3: (samples,)."""
    gen = torch.Generator().manual_seed(seed)
    n = int(seconds * sample_rate)
    freqs = torch.fft.rfftfreq(n)
    freqs[0] = freqs[1]
    spectrum = torch.complex(torch.randn(freqs.shape[0], generator=gen), torch.randn(freqs.shape[0], generator=gen))
    wave = torch.fft.irfft(spectrum / freqs ** (exponent / 2), n)
    return (0.3 * wave / wave.abs().max()).float()


def _vowel(seconds: float, sample_rate: int, pitch_hz: float = 120.0, glide: bool = True) -> torch.Tensor:
    """A voiced 'vowel': a pulse train at pitch_hz through a resonance that glides from 500 to 2000 Hz
    (or stays at 700 Hz), with a 30 ms fade at each end: (samples,)."""
    n = int(seconds * sample_rate)
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    pulses = (torch.frac(t * pitch_hz) < pitch_hz / sample_rate).double()
    formant = torch.linspace(500.0, 2000.0, n, dtype=torch.float64) if glide else torch.full((n,), 700.0, dtype=torch.float64)
    radius, out, y1, y2 = 0.97, torch.zeros(n, dtype=torch.float64), 0.0, 0.0
    for i in range(n):                                   # a two-pole resonator whose centre moves
        y = float(pulses[i]) + 2 * radius * math.cos(2 * math.pi * float(formant[i]) / sample_rate) * y1 - radius ** 2 * y2
        out[i], y2, y1 = y, y1, y
    fade = torch.clamp(torch.minimum(t, t[-1] - t) / 0.03, max=1.0)
    return (0.3 * out * fade / out.abs().max()).float()


@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("seconds", [0.3, 1.0, 4.0])
def test_steady_noise_of_any_colour_and_length_is_steady_noise(exponent, seconds):
    assert is_steady_noise(_colored_noise(seconds, SR, exponent, seed=int(10 * seconds)), SR)


@pytest.mark.parametrize("sample_rate", [16_000, 44_100])
def test_steady_noise_is_found_at_other_sample_rates(sample_rate):
    assert is_steady_noise(_colored_noise(1.0, sample_rate, 1.0), sample_rate)
    assert not is_steady_noise(_vowel(0.4, sample_rate), sample_rate)


def test_a_voiced_sound_has_its_pitch_and_is_not_steady_noise():
    vowel = _vowel(0.4, SR, pitch_hz=125.0)
    pitched, period = pitch_periods(vowel, SR)
    assert pitched.float().mean() > 0.7 and period[pitched].float().median() == 64    # 8000 / 125 samples
    assert longest_pitch_run(vowel, SR) >= 25
    assert not is_steady_noise(vowel, SR)
    # a steady vowel (no glide) changes its spectrum as little as noise: its pitch tells it apart
    steady = _vowel(0.4, SR, glide=False)
    assert spectral_change_db(steady, SR) < 9.0 and not is_steady_noise(steady, SR)


def test_noise_whose_spectrum_changes_is_not_steady_noise():
    # an unvoiced 'word': a hiss high then low ("s" then "sh"-like), no pitch, but its shape moves
    hiss = _colored_noise(0.3, SR, -1.0)             # blue: power rising with frequency
    rumble = _colored_noise(0.3, SR, 2.0, seed=1)
    sound = torch.cat([hiss, rumble])
    assert longest_pitch_run(sound, SR) < 2 and spectral_change_db(sound, SR) > 9.0
    assert not is_steady_noise(sound, SR)


def test_a_word_in_moderate_noise_is_not_steady_noise_but_one_buried_in_it_is():
    vowel = _vowel(0.4, SR)
    noise = _colored_noise(0.4, SR, 1.0, seed=3)
    noise = noise / noise.pow(2).mean().sqrt() * vowel.pow(2).mean().sqrt()   # 0 dB SNR
    assert not is_steady_noise(vowel + 0.1 * noise, SR)                         # 20 dB SNR
    assert is_steady_noise(vowel * 0.05 + noise, SR)                            # -26 dB SNR


def test_a_clip_too_short_to_judge_is_not_called_noise():
    assert not is_steady_noise(_colored_noise(0.04, SR, 0.0), SR)
    assert not is_steady_noise(torch.zeros(0), SR)


def test_no_fsdd_recording_is_taken_for_steady_noise(fsdd_dir):
    # every tenth recording (250, every speaker and digit), as they are and as the shipped model sees them
    import soundfile

    paths = sorted(fsdd_dir.glob("*.wav"))[::10]
    assert len(paths) == 250
    called_noise = [p.name for p in paths
                    if is_steady_noise(torch.from_numpy(soundfile.read(p, dtype="float32")[0]), SR)]
    assert called_noise == []


def _note(seconds: float, pitch_hz, harmonics: int = 6, decay_s: float = 0.5) -> torch.Tensor:
    """A decaying harmonic tone (samples,) at SR whose pitch is `pitch_hz`, a number or a function of time (s)."""
    t = torch.arange(int(seconds * SR), dtype=torch.float64) / SR
    f0 = pitch_hz(t) if callable(pitch_hz) else torch.full_like(t, float(pitch_hz))
    phase = 2 * math.pi * torch.cumsum(f0, 0) / SR
    tone = sum(torch.sin(k * phase) / k for k in range(1, harmonics + 1))
    return (0.3 * tone * torch.exp(-t / decay_s)).float()


def test_refined_periods_are_a_fraction_of_a_sample_and_a_high_tone_keeps_one_multiple():
    pitched, period = pitch_periods(_note(0.5, SR / 64.4), SR, refine=True)
    assert pitched.all() and abs(float(period[pitched].median()) - 64.4) < 0.05
    assert period.dtype == torch.float64 and pitch_periods(_note(0.5, SR / 64.4), SR)[1].dtype == torch.int64
    # 440 Hz is above the voice range searched: two periods, the same in every frame (not one lag, then another)
    pitched, period = pitch_periods(_note(0.5, 440.0, harmonics=1), SR, refine=True)
    assert pitched.all() and float(period.max() - period.min()) < 0.01 and abs(float(period.mean()) - 2 * SR / 440) < 0.05


def test_a_held_note_is_a_steady_tone_and_a_pitch_that_moves_as_a_voices_does_is_not():
    assert longest_steady_pitch(_note(0.5, 220.0), SR) >= 45 and is_steady_tone(_note(0.5, 220.0), SR)
    vibrato = _note(0.5, lambda t: 220.0 * (1 + 0.01 * torch.sin(2 * math.pi * 5 * t)))     # +-1% at 5 Hz
    falling = _note(0.5, lambda t: 130.0 - 40.0 * t)                                        # intonation: 130 -> 110 Hz
    for voice_like in (vibrato, falling, _vowel(0.5, SR)):
        assert longest_steady_tone(voice_like, SR) < STEADY_TONE_FRAMES and not is_steady_tone(voice_like, SR)
    assert longest_steady_pitch(_colored_noise(0.5, SR, 1.0), SR) == 0 and not is_steady_tone(torch.zeros(SR), SR)


def test_a_beep_whose_period_the_pitch_tracker_loses_still_repeats_itself_unchanged():
    t = torch.arange(SR // 2) / SR
    square = 0.5 * torch.sign(torch.sin(2 * math.pi * 1200 * t)) * torch.exp(-t / 0.5)   # aliased at 8 kHz
    assert longest_steady_pitch(square, SR) < STEADY_TONE_FRAMES             # measured: 22 frames
    assert longest_steady_tone(square, SR) >= 45 and is_steady_tone(square, SR)
    assert steady_tone_frames(square, SR).sum() >= 45


def test_steady_tone_frames_are_where_the_note_is():
    clip = torch.cat([_vowel(0.4, SR), torch.zeros(SR // 5), _note(0.5, 196.0), torch.zeros(SR // 5)])
    frames = steady_tone_frames(clip, SR)
    on = frames.nonzero()[:, 0]
    # frame i covers 30 ms from i * 10 ms: the note (0.6-1.1 s) is in frames 58 to 109
    assert len(on) >= 40 and 58 <= int(on.min()) and int(on.max()) <= 109
    assert not frames[:58].any()                                                  # the vowel and the pause: none


def test_no_fsdd_recording_holds_a_steady_tone(fsdd_dir):
    import soundfile
    paths = sorted(fsdd_dir.glob("*.wav"))
    assert len(paths) == 2500
    runs = [longest_steady_tone(torch.from_numpy(soundfile.read(p, dtype="float32")[0]), SR) for p in paths]
    assert max(runs) < STEADY_TONE_FRAMES                   # measured: 18 at most, 99 in 100 at most 7
