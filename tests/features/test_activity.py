import torch

from workbench.features import active_span, frame_energy_db, trim_noise, trim_silence

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
