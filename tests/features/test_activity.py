import torch

from workbench.features import active_span, frame_energy_db, trim_silence

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
