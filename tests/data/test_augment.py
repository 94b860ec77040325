import dataclasses
import math

import pytest
import torch

from workbench.data import AudioDataset, AugmentConfig, Example, augment_waveform, collate, spec_augment
from workbench.data.augment import add_noise, add_tone, change_speed, mix_up, saturate
from workbench.errors import ConfigError
from workbench.features.lines import MAINS_HZ

SR = 8000


def _tone(seconds=0.5, freq=440.0):
    t = torch.arange(int(SR * seconds)) / SR
    return 0.3 * torch.sin(2 * math.pi * freq * t)


def test_same_seed_same_view_and_other_seed_other_view():
    cfg = AugmentConfig(noise_prob=1.0, speed_prob=1.0, eq_prob=1.0)
    a = augment_waveform(_tone(), SR, cfg, torch.Generator().manual_seed(1))
    b = augment_waveform(_tone(), SR, cfg, torch.Generator().manual_seed(1))
    c = augment_waveform(_tone(), SR, cfg, torch.Generator().manual_seed(2))
    torch.testing.assert_close(a, b)
    assert a.shape != c.shape or not torch.allclose(a, c)
    assert a.abs().max() <= 1.0


def test_noise_is_added_at_the_requested_snr():
    clean = _tone(2.0)
    noisy = add_noise(clean, 10.0, torch.Generator().manual_seed(0))
    snr = 10 * torch.log10(clean.pow(2).mean() / (noisy - clean).pow(2).mean())
    assert abs(float(snr) - 10.0) < 0.1


def test_a_tone_is_a_whine_or_mains_hum_at_the_requested_snr_and_seeded():
    word = 0.2 * torch.randn(SR, generator=torch.Generator().manual_seed(5))
    kinds = set()
    for seed in range(12):
        added = add_tone(word, SR, 10.0, torch.Generator().manual_seed(seed)) - word
        snr = 10 * torch.log10(word.pow(2).mean() / added.pow(2).mean())
        assert abs(float(snr) - 10.0) < 0.01
        spectrum = torch.fft.rfft(added * torch.hann_window(SR, periodic=False)).abs()   # 1 Hz bins over 1 s
        bins = (spectrum > 0.05 * spectrum.max()).nonzero().flatten().tolist()
        lines = [[bins[0]]]                                       # runs of neighbouring bins: one line each
        for b in bins[1:]:
            lines[-1].append(b) if b == lines[-1][-1] + 1 else lines.append([b])
        centres = [float(spectrum[run].argmax()) + run[0] for run in lines]
        if len(centres) > 1:                                      # hum: 50 or 60 Hz and its multiples
            assert centres[0] in MAINS_HZ and len(centres) >= 4
            assert all(c % centres[0] == 0 for c in centres)
            kinds.add("hum")
        else:                                                     # a whine: one line, under Nyquist
            assert 49 <= centres[0] <= 0.95 * SR / 2
            kinds.add("whine")
    assert kinds == {"hum", "whine"}
    again = add_tone(word, SR, 10.0, torch.Generator().manual_seed(3))
    torch.testing.assert_close(again, add_tone(word, SR, 10.0, torch.Generator().manual_seed(3)))


def test_tone_augmentation_covers_the_padding_at_the_words_snr_and_is_checked():
    cfg = AugmentConfig(tone_prob=1.0, tone_snr_db=(20.0, 20.0), noise_prob=0.0, speed_prob=0.0, eq_prob=0.0,
                        gain_db=0.0, shift_s=0.0, pad_prob=1.0, pad_s=0.5)
    word = _tone(0.5, 1000.0)
    view = augment_waveform(word, SR, cfg, torch.Generator().manual_seed(0))
    assert view.shape[0] > word.shape[0]
    start = next(i for i in range(view.shape[0]) if abs(float(view[i])) > 0.1)    # the word, louder than the tone
    lead = view[:start]
    assert lead.shape[0] > SR // 20 and lead.abs().max() > 0                   # the tone sounds in the padding
    snr = 10 * torch.log10(word.pow(2).mean() / lead.pow(2).mean())
    assert abs(float(snr) - 20.0) < 1.0
    assert torch.equal(augment_waveform(word, SR, dataclasses.replace(cfg, tone_prob=0.0, pad_prob=0.0),
                                        torch.Generator().manual_seed(0)), word)
    with pytest.raises(ConfigError, match="tone_snr_db"):
        AugmentConfig(tone_snr_db=(30.0, 10.0))
    with pytest.raises(ConfigError, match="tone_prob"):
        AugmentConfig(tone_prob=1.5)


def test_speed_perturbation_changes_duration_and_pitch():
    fast = change_speed(_tone(1.0, 500.0), 1.25)
    assert abs(fast.shape[0] - SR / 1.25) <= 2
    peak_hz = torch.fft.rfft(fast).abs().argmax().item() * SR / fast.shape[0]
    assert abs(peak_hz - 625.0) < 5


def test_trim_cuts_a_quiet_onset_like_an_eager_silence_trimmer():
    hiss = 0.3 * 10 ** (-30 / 20) * torch.randn(SR // 5, generator=torch.Generator().manual_seed(0))  # a soft "s", 30 dB down
    word = torch.cat([hiss, _tone(0.3)])
    plain = dict(gain_db=0.0, shift_s=0.0, noise_prob=0.0, speed_prob=0.0, eq_prob=0.0)
    kept = augment_waveform(word, SR, AugmentConfig(**plain), torch.Generator().manual_seed(0))
    cut = augment_waveform(word, SR, AugmentConfig(**plain, trim_prob=1.0, trim_db=(20.0, 20.0)), torch.Generator().manual_seed(0))
    gentle = augment_waveform(word, SR, AugmentConfig(**plain, trim_prob=1.0, trim_db=(40.0, 40.0)), torch.Generator().manual_seed(0))
    assert kept.shape[0] == word.shape[0] == gentle.shape[0]
    assert cut.shape[0] == pytest.approx(int(0.3 * SR), abs=SR // 100)      # only the tone is left
    torch.testing.assert_close(cut, _tone(0.3)[: cut.shape[0]])


def test_dataset_augments_only_when_asked_and_follows_the_epoch():
    items = [(Example("/a.wav", "x"), _tone()), (Example("/b.wav", "y"), _tone(0.3))]
    plain = AudioDataset(items, ["x", "y"], SR)
    torch.testing.assert_close(plain[0][0], items[0][1])
    assert plain[1][1] == 1
    aug = AudioDataset(items, ["x", "y"], SR, AugmentConfig(), seed=0)
    first = aug[0][0]
    torch.testing.assert_close(aug[0][0], first)          # same epoch: same view
    aug.set_epoch(1)
    assert aug[0][0].shape != first.shape or not torch.allclose(aug[0][0], first)


def test_collate_pads_and_keeps_lengths():
    batch = collate([(torch.ones(5), 0), (torch.ones(3), 2)])
    assert batch.waveforms.shape == (2, 5) and batch.lengths.tolist() == [5, 3] and batch.label_ids.tolist() == [0, 2]
    assert batch.waveforms[1, 3:].abs().sum() == 0


def test_spec_augment_masks_only_inside_valid_frames():
    spec = torch.ones(4, 40, 100)
    lengths = torch.tensor([100, 60, 20, 8])
    cfg = AugmentConfig(time_masks=2, time_mask_frames=10, freq_masks=2, freq_mask_bins=5)
    out = spec_augment(spec, lengths, cfg, torch.Generator().manual_seed(0))
    assert out.shape == spec.shape
    assert (out == 0).any()
    for b, length in enumerate(lengths.tolist()):
        assert (out[b, :, length:] == spec[b, :, length:]).all()      # padding untouched
        zero_columns = (out[b, :, :length] == 0).all(dim=0).sum().item()
        assert zero_columns <= 2 * max(0, min(10, length // 4))      # never most of a short clip


def test_frequency_warp_moves_energy_along_the_frequency_axis():
    from workbench.data import warp_frequency

    spec = torch.zeros(3, 40, 6)
    spec[:, 10] = 1.0
    cfg = AugmentConfig(warp_prob=1.0, warp=(1.2, 1.2))
    out = warp_frequency(spec, cfg, torch.Generator().manual_seed(0))
    assert out.shape == spec.shape
    assert (out[:, :, 0].argmax(dim=1) == 12).all()            # bin 12 reads bin 12 / 1.2 = 10
    untouched = warp_frequency(spec, AugmentConfig(warp_prob=0.0), torch.Generator().manual_seed(0))
    torch.testing.assert_close(untouched, spec)


def test_mix_style_mixes_per_bin_statistics_between_items_and_keeps_padding():
    from workbench.data import mix_style

    gen = torch.Generator().manual_seed(0)
    quiet = 0.1 * torch.randn(40, 50, generator=gen)                 # small per-bin spread
    loud = 5.0 + 3.0 * torch.randn(40, 50, generator=gen)            # another "microphone"
    spec = torch.stack([quiet, loud])
    spec[0, :, 30:] = 0.0                                             # item 0 is padded after 30 frames
    lengths = torch.tensor([30, 50])
    cfg = AugmentConfig(mixstyle_prob=1.0, mixstyle_alpha=0.3)
    out = mix_style(spec, lengths, cfg, torch.Generator().manual_seed(1))
    again = mix_style(spec, lengths, cfg, torch.Generator().manual_seed(1))
    torch.testing.assert_close(out, again)                           # seeded
    assert (out[0, :, 30:] == 0).all()                               # padding untouched
    moved = (out[0, :, :30].std(-1).mean() - 0.1).abs() + (out[1].std(-1).mean() - 3.0).abs()
    assert moved > 0.1                                                # the items took on each other's statistics
    torch.testing.assert_close(mix_style(spec, lengths, AugmentConfig(mixstyle_prob=0.0), gen), spec)


def test_time_stretch_changes_length_not_spectrum():
    from workbench.data import stretch_time
    profile = torch.linspace(0.0, 1.0, 6)[:, None]                     # a fixed spectrum (F=6) ...
    ramp = 1.0 + torch.arange(10, dtype=torch.float32)[None, :]         # ... times a level rising over time
    spec = torch.zeros(2, 6, 10)
    spec[0] = profile * ramp
    spec[1, :, :5] = profile * ramp[:, :5]                              # item 1: 5 valid frames, then padding
    lengths = torch.tensor([10, 5])
    out, new = stretch_time(spec, lengths, AugmentConfig(stretch_prob=1.0, stretch=(2.0, 2.0)), torch.Generator())
    assert new.tolist() == [20, 10] and out.shape == (2, 6, 20)
    torch.testing.assert_close(out[0, :, -1], spec[0, :, -1])           # ends kept: same first and last frame
    torch.testing.assert_close(out[0] / out[0, -1:].clamp(min=1e-6), profile.expand(6, 20))   # every frame has the same spectrum
    assert torch.all(out[0, -1, 1:] >= out[0, -1, :-1])                  # the rise is kept, just slower
    assert torch.all(out[1, :, 10:] == 0)                                 # padding stays zero
    same, kept = stretch_time(spec, lengths, AugmentConfig(stretch_prob=0.0), torch.Generator())
    assert kept.tolist() == [10, 5] and torch.equal(same, spec)


def test_mixup_blends_pairs_and_their_labels_weighting_each_item_most():

    spec = torch.stack([torch.full((4, 10), float(i)) for i in range(6)])     # item i is all i
    spec[0, :, 5:] = 0.0
    lengths = torch.tensor([5, 10, 10, 10, 10, 10])
    cfg = AugmentConfig(mixup_prob=1.0, mixup_alpha=0.4)
    mixed, new_lengths, other, weight = mix_up(spec, lengths, cfg, torch.Generator().manual_seed(3))
    again = mix_up(spec, lengths, cfg, torch.Generator().manual_seed(3))
    torch.testing.assert_close(mixed, again[0])                               # seeded
    assert ((weight >= 0.5) & (weight <= 1.0)).all()                          # each item stays mostly itself
    expected = weight[:, None, None] * spec + (1 - weight[:, None, None]) * spec[other]
    torch.testing.assert_close(mixed, expected)
    assert torch.equal(new_lengths, torch.maximum(lengths, lengths[other]))   # the longer of the pair
    assert sorted(other.tolist()) == list(range(6))                           # a permutation of the batch
    assert mix_up(spec, lengths, AugmentConfig(mixup_prob=0.0), torch.Generator()) is None
    with pytest.raises(ConfigError):
        AugmentConfig(mixup_alpha=0.0)


def test_mixup_loss_is_the_weighted_loss_of_both_labels():
    import torch.nn.functional as F
    from workbench.data import AudioBatch
    from workbench.tasks import classify

    cfg = classify.ClassifyConfig()
    model = classify.build_model(cfg, [str(i) for i in range(3)]).eval()
    gen = torch.Generator().manual_seed(0)
    batch = AudioBatch(waveforms=0.1 * torch.randn(4, 16000, generator=gen), lengths=torch.full((4,), 16000),
                       label_ids=torch.tensor([0, 1, 2, 0]))
    plain = AugmentConfig(time_masks=0, freq_masks=0)
    mixing = dataclasses.replace(plain, mixup_prob=1.0)
    with torch.no_grad():
        value = classify.loss(model, batch, mixing, torch.Generator().manual_seed(5))
        spec, frames = model.features(batch.waveforms, batch.lengths)
        mixed, frames, other, weight = mix_up(spec, frames, mixing, torch.Generator().manual_seed(5))
        logits = model.net(mixed, frames)
        expected = (weight * F.cross_entropy(logits, batch.label_ids, reduction="none")
                    + (1 - weight) * F.cross_entropy(logits, batch.label_ids[other], reduction="none")).mean()
        torch.testing.assert_close(value, expected)
        unmixed = classify.loss(model, batch, plain, torch.Generator().manual_seed(5))
        torch.testing.assert_close(unmixed, F.cross_entropy(model.net(spec, model.features(batch.waveforms, batch.lengths)[1]),
                                                            batch.label_ids))


def test_band_limit_keeps_the_band_and_cuts_both_sides_steeply():
    from workbench.data.augment import band_limit

    mix = _tone(1.0, 150.0) + _tone(1.0, 1000.0) + _tone(1.0, 3600.0)
    out = band_limit(mix, SR, highpass_hz=300.0, lowpass_hz=3000.0)
    spectrum = torch.fft.rfft(out).abs() / torch.fft.rfft(mix).abs().clamp_min(1e-9)
    gain_db = {hz: 20 * math.log10(float(spectrum[hz])) for hz in (150, 1000, 3600)}   # 1 s: bin k is k Hz
    assert abs(gain_db[1000]) < 0.01
    assert gain_db[150] < -50 and gain_db[3600] < -50
    torch.testing.assert_close(band_limit(mix, SR, 0.0, SR / 2), mix, atol=1e-5, rtol=0)   # edges at 0 and Nyquist: nothing cut


def test_band_limit_augmentation_is_seeded_and_checked():
    cfg = AugmentConfig(band_prob=1.0, lowpass_hz=(2000.0, 2000.0), highpass_hz=(0.0, 0.0), noise_prob=0.0,
                        speed_prob=0.0, eq_prob=0.0, shift_s=0.0, gain_db=0.0)
    out = augment_waveform(_tone(1.0, 3000.0) + _tone(1.0, 500.0), SR, cfg, torch.Generator().manual_seed(0))
    spectrum = torch.fft.rfft(out).abs()
    assert spectrum[3000] < 1e-3 * spectrum[500]
    with pytest.raises(ConfigError, match="highpass_hz"):
        AugmentConfig(highpass_hz=(0.0, 3000.0), lowpass_hz=(2600.0, 4000.0))


def test_crop_cuts_each_end_by_at_most_its_limit_and_a_quarter_of_the_clip():
    cfg = AugmentConfig(crop_prob=1.0, crop_s=0.05, noise_prob=0.0, speed_prob=0.0, eq_prob=0.0, shift_s=0.0, gain_db=0.0)
    ramp = torch.linspace(-0.5, 0.5, SR)                               # 1 s; each sample says where it was
    lengths = set()
    for seed in range(20):
        out = augment_waveform(ramp, SR, cfg, torch.Generator().manual_seed(seed))
        head = int(torch.argmin((ramp - out[0]).abs()))
        assert 0 <= head <= 0.05 * SR and SR - out.shape[0] - head <= 0.05 * SR
        torch.testing.assert_close(out, ramp[head:head + out.shape[0]])  # a contiguous piece, untouched
        lengths.add(out.shape[0])
    assert len(lengths) > 10                                           # random cuts, not a fixed one
    short = augment_waveform(ramp[:400], SR, cfg, torch.Generator().manual_seed(0))
    assert short.shape[0] >= 200                                       # never more than a quarter a side
    with pytest.raises(ConfigError, match="crop_s"):
        AugmentConfig(crop_s=-0.1)


def test_padding_sets_the_word_in_noise_at_the_words_own_snr():
    cfg = AugmentConfig(pad_prob=1.0, pad_s=0.5, noise_prob=1.0, snr_db=(20.0, 20.0), speed_prob=0.0, eq_prob=0.0,
                        shift_s=0.0, gain_db=0.0)
    word = _tone(0.4)
    leads = set()
    for seed in range(10):
        out = augment_waveform(word, SR, cfg, torch.Generator().manual_seed(seed))
        extra = out.shape[0] - word.shape[0]
        assert 0 <= extra <= SR                                        # at most pad_s at each end
        lead = int(torch.argmax(torch.stack([(out[i:i + word.shape[0]] - word).pow(2).mean()
                                             for i in range(extra + 1)]).neg()))
        noise = out.clone()
        noise[lead:lead + word.shape[0]] -= word
        snr = 10 * torch.log10(word.pow(2).mean() / noise.pow(2).mean())
        assert abs(float(snr) - 20.0) < 0.5                            # the word's SNR, however long the padding
        leads.add(lead)
    assert len(leads) > 5
    with pytest.raises(ConfigError, match="pad_prob"):
        AugmentConfig(pad_prob=1.5)


def test_room_response_has_its_direct_to_reverberant_ratio_and_decays_by_its_rt60():
    from workbench.data.augment import room_response
    response = room_response(SR, 0.5, 5.0, torch.Generator().manual_seed(0)).double()
    assert response.shape == (4000,) and float(response.norm()) == pytest.approx(1.0, abs=1e-5)
    drr_db = 10 * math.log10(float(response[0] ** 2 / response[1:].pow(2).sum()))
    assert drr_db == pytest.approx(5.0, abs=0.01)
    tail = response[1:].pow(2)
    early, late = float(tail[:400].mean()), float(tail[-400:].mean())       # first and last 50 ms of the tail
    assert 10 * math.log10(early / late) == pytest.approx(60 * 0.45 / 0.5, abs=4.0)   # 60 dB per 0.5 s, 0.45 s apart


def test_reverb_smears_the_clip_keeps_its_peak_and_at_most_a_short_tail():
    from workbench.data.augment import add_reverb
    click = torch.zeros(SR // 2)
    click[100] = 0.5
    wet = add_reverb(click, SR, 0.8, 0.0, torch.Generator().manual_seed(0))
    assert wet.shape[0] == SR // 2 + SR // 4                                   # 0.25 s of tail, not the 0.8 s RT60
    assert float(wet.abs().max()) == pytest.approx(0.5)
    assert float(wet[:100].abs().max()) < 1e-6                                 # nothing before the sound
    assert float(wet[200:].pow(2).sum()) > 0.1 * float(wet.pow(2).sum())        # energy after it: the room
    cfg = AugmentConfig(reverb_prob=1.0, noise_prob=0.0, speed_prob=0.0, eq_prob=0.0, shift_s=0.0, gain_db=0.0)
    a = augment_waveform(_tone(0.5), SR, cfg, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, augment_waveform(_tone(0.5), SR, cfg, torch.Generator().manual_seed(3)))
    assert a.shape[0] > _tone(0.5).shape[0]
    with pytest.raises(ConfigError, match="rt60_s"):
        AugmentConfig(rt60_s=(0.0, 0.5))


def _numbered_clips(lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """A padded batch whose item i is the constant i + 1 over its valid samples."""
    lengths = torch.tensor(lengths)
    waves = torch.zeros(len(lengths), int(lengths.max()))
    for i, n in enumerate(lengths.tolist()):
        waves[i, :n] = i + 1
    return waves, lengths


def test_splice_joins_chosen_clips_end_to_end_with_short_gaps_and_is_seeded():
    from workbench.data import splice_clips
    waves, lengths = _numbered_clips([800, 900, 500, 640, 700, 300, 900, 1000, 450])
    cfg = AugmentConfig(splice_prob=1.0, splice_words=(2, 3), splice_gap_s=0.01)
    spliced = splice_clips(waves, lengths, 8_000, cfg, torch.Generator().manual_seed(0))
    used = [i for group in spliced.groups for i in group] + spliced.singles.tolist()
    assert sorted(used) == list(range(9))                     # every clip once, joined or single
    assert len(spliced.singles) <= 1 and all(2 <= len(g) <= 3 for g in spliced.groups)
    for g, group in enumerate(spliced.groups):
        spans = spliced.spans[g]
        assert spans[0][0] == 0 and spans[-1][1] == int(spliced.lengths[g])
        for (first, end), i in zip(spans, group):
            assert end - first == int(lengths[i]) and bool((spliced.waveforms[g, first:end] == i + 1).all())
        gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
        assert all(0 <= gap <= 80 for gap in gaps)                # at most 10 ms of silence at 8 kHz
        for a, b in zip(spans, spans[1:]):
            assert bool((spliced.waveforms[g, a[1]:b[0]] == 0).all())
    again = splice_clips(waves, lengths, 8_000, cfg, torch.Generator().manual_seed(0))
    assert again.groups == spliced.groups and torch.equal(again.waveforms, spliced.waveforms)
    none = splice_clips(waves, lengths, 8_000, AugmentConfig(splice_prob=0.0), torch.Generator().manual_seed(0))
    assert none.groups == [] and none.singles.tolist() == list(range(9))


def test_step_targets_follow_each_clip_skip_gaps_and_stretch_with_the_spectrogram():
    from workbench.data import step_targets
    spans = [[(0, 3_200), (3_600, 6_400)]]            # 0.4 s, a 50 ms gap, 0.35 s at 8 kHz; steps of 8 x 80 samples
    frames = torch.tensor([81])
    plain = step_targets(spans, [[4, 7]], frames, frames, hop=80, stride=8, n_steps=12)[0].tolist()
    # a step's middle sample: (s + 0.5) * 640 - 40 -> 280, 920, ..., 3480 (in the gap), 4120, ...
    assert plain == [4, 4, 4, 4, 4, -100, 7, 7, 7, 7, -100, -100]     # 10 valid steps (81 // 8), then padding
    stretched = step_targets(spans, [[4, 7]], frames, torch.tensor([161]), hop=80, stride=8, n_steps=20)[0].tolist()
    # twice the frames: a step covers half as many samples (320 s + 140): the same spans, twice the steps
    assert stretched == [4] * 10 + [-100] + [7] * 9


def test_splice_settings_are_checked():
    with pytest.raises(ConfigError, match="splice_words"):
        AugmentConfig(splice_words=(1, 3))
    with pytest.raises(ConfigError, match="splice_prob"):
        AugmentConfig(splice_prob=1.5)


def test_saturate_cuts_the_peaks_off_at_its_drive_and_keeps_the_level():
    word = _tone(0.5, 300.0)
    for soft in (False, True):
        for drive_db in (6.0, 18.0):
            out = saturate(word, drive_db, soft=soft)
            assert out.shape == word.shape and abs(float(out.abs().max() - word.abs().max())) < 1e-6
            flat = float((out.abs() > 0.99 * out.abs().max()).float().mean())     # samples at the cut
            assert (flat > 0.4 if drive_db == 18.0 else flat > 0.1) or soft
            third = torch.fft.rfft(out).abs()[3 * 150]                            # 900 Hz over 0.5 s bins of 2 Hz
            assert third > 0.05 * torch.fft.rfft(out).abs()[150]                  # a clipped sine's odd harmonic
    assert float((saturate(word, 0.0) - word).abs().max()) < 1e-6                 # driven to full scale, not past it
    assert torch.equal(saturate(torch.zeros(100), 12.0), torch.zeros(100))


def test_clipping_augmentation_is_seeded_off_by_default_and_checked():
    cfg = AugmentConfig(clip_prob=1.0, clip_db=(12.0, 12.0), noise_prob=0.0, speed_prob=0.0, eq_prob=0.0,
                        gain_db=0.0, shift_s=0.0)
    word = _tone(0.5, 300.0)
    view = augment_waveform(word, SR, cfg, torch.Generator().manual_seed(0))
    assert not torch.allclose(view, word, atol=1e-3) and abs(float(view.abs().max() - word.abs().max())) < 1e-6
    torch.testing.assert_close(view, augment_waveform(word, SR, cfg, torch.Generator().manual_seed(0)))
    assert AugmentConfig().clip_prob == 0.0
    assert torch.equal(augment_waveform(word, SR, dataclasses.replace(cfg, clip_prob=0.0),
                                        torch.Generator().manual_seed(0)), word)
    with pytest.raises(ConfigError, match="clip_db"):
        AugmentConfig(clip_db=(12.0, 6.0))
    with pytest.raises(ConfigError, match="clip_prob"):
        AugmentConfig(clip_prob=-0.1)
