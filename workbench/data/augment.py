"""Augmentation for training: waveform transforms per example, SpecAugment per batch. Off at evaluation.

Every random choice comes from a `torch.Generator` the caller seeds, so a fixed seed gives the same
augmented data (and a resumed run the same data as an uninterrupted one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
from scipy.signal import resample_poly
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from workbench.errors import ConfigError
from workbench.features import active_span
from workbench.features.lines import MAINS_HZ


@dataclass(frozen=True)
class AugmentConfig:
    gain_db: float = 6.0                      # uniform gain in [-gain_db, +gain_db]
    trim_prob: float = 0.0                    # chance of cutting the quiet edges (an eager silence trimmer)
    trim_db: tuple[float, float] = (12.0, 30.0)  # ... keeping what lies within this many dB of the peak
    crop_prob: float = 0.0                    # chance of cutting a random length off each end (after the trim)
    crop_s: float = 0.08                      # ... up to this many seconds a side, never more than a quarter of the clip
    shift_s: float = 0.1                      # up to this much silence added before the clip
    pad_prob: float = 0.0                     # chance of setting the clip in silence (a recording longer than its word)
    pad_s: float = 0.75                       # ... up to this many seconds at each end; any noise then covers it
    noise_prob: float = 0.5                   # chance of adding background noise
    snr_db: tuple[float, float] = (10.0, 40.0)
    tone_prob: float = 0.0                    # chance of a steady tone under the clip: a whine or mains hum (`add_tone`)
    tone_snr_db: tuple[float, float] = (0.0, 30.0)
    clip_prob: float = 0.0                    # chance of clipping: a recording too loud for its microphone or sound card
    clip_db: tuple[float, float] = (0.0, 18.0)  # ... its peak driven this far past full scale, then cut off (`saturate`)
    speed_prob: float = 0.5                   # chance of speed perturbation
    speed: tuple[float, float] = (0.9, 1.1)
    eq_prob: float = 0.5                      # chance of a random smooth EQ curve (microphone colour)
    eq_db: float = 6.0
    reverb_prob: float = 0.0                  # chance of a room: the clip convolved with a synthetic impulse response
    rt60_s: tuple[float, float] = (0.1, 0.8)  # ... its reverberation time (the decay to -60 dB)
    drr_db: tuple[float, float] = (-5.0, 10.0)  # ... and its direct-to-reverberant energy ratio (lower: a farther microphone)
    band_prob: float = 0.0                    # chance of a band limit (a cheap microphone, a phone line, a codec)
    lowpass_hz: tuple[float, float] = (2600.0, 4000.0)  # ... cutting above a random frequency in this range
    highpass_hz: tuple[float, float] = (0.0, 300.0)     # ... and below one in this range
    warp_prob: float = 0.0                    # chance of a frequency warp (vocal-tract-length-like) per clip
    warp: tuple[float, float] = (0.9, 1.1)    # warp factor range: >1 moves energy up the frequency axis
    stretch_prob: float = 0.0                 # chance of a time stretch per clip (speaking rate; formants stay)
    stretch: tuple[float, float] = (0.8, 1.25)  # length factor range: >1 makes the clip longer (slower)
    time_masks: int = 2                       # SpecAugment
    time_mask_frames: int = 8
    freq_masks: int = 2
    freq_mask_bins: int = 5
    mixstyle_prob: float = 0.0                # chance per batch of Freq-MixStyle (mixing per-bin statistics between items)
    mixstyle_alpha: float = 0.3               # Beta(alpha, alpha) mixing weights
    mixup_prob: float = 0.0                   # chance per batch of mixup (items and their labels blended in pairs)
    mixup_alpha: float = 0.4                  # Beta(alpha, alpha) blend weights
    # Connected speech for a many-to-many ("frames") head: each clip of a batch is, with this chance, joined
    # with others end to end (`splice_clips`) into one longer item trained with a label per step, the label of
    # the clip under that step, so the head learns where one word ends and the next begins.
    splice_prob: float = 0.0
    splice_words: tuple[int, int] = (2, 4)    # clips per joined item (low, high)
    splice_gap_s: float = 0.05                # up to this much silence between two joined clips

    def __post_init__(self) -> None:
        if not self.snr_db[0] <= self.snr_db[1] or not 0 < self.speed[0] <= self.speed[1]:
            raise ConfigError(f"snr_db {self.snr_db} and speed {self.speed} must be (low, high) ranges")
        if not 0 <= self.clip_db[0] <= self.clip_db[1]:
            raise ConfigError(f"clip_db {self.clip_db} must be a (low, high) range of dB from 0 up")
        if not self.tone_snr_db[0] <= self.tone_snr_db[1]:
            raise ConfigError(f"tone_snr_db {self.tone_snr_db} must be a (low, high) range")
        if not 0 < self.rt60_s[0] <= self.rt60_s[1] or not self.drr_db[0] <= self.drr_db[1]:
            raise ConfigError(f"rt60_s {self.rt60_s} (positive seconds) and drr_db {self.drr_db} must be (low, high) ranges")
        if not 0 < self.stretch[0] <= self.stretch[1]:
            raise ConfigError(f"stretch {self.stretch} must be a (low, high) range of positive factors")
        if self.mixup_alpha <= 0 or self.mixstyle_alpha <= 0:
            raise ConfigError(f"mixup_alpha ({self.mixup_alpha}) and mixstyle_alpha ({self.mixstyle_alpha}) must be positive")
        if not 0 <= self.highpass_hz[0] <= self.highpass_hz[1] < self.lowpass_hz[0] <= self.lowpass_hz[1]:
            raise ConfigError(f"highpass_hz {self.highpass_hz} and lowpass_hz {self.lowpass_hz} must be (low, high) "
                              "ranges of frequencies, the high-pass range below the low-pass one")
        if not 2 <= self.splice_words[0] <= self.splice_words[1] or self.splice_gap_s < 0:
            raise ConfigError(f"splice_words {self.splice_words} must be a (low, high) range from 2 up, "
                              f"splice_gap_s={self.splice_gap_s} not negative")
        if self.crop_s < 0 or self.pad_s < 0:
            raise ConfigError(f"crop_s={self.crop_s} and pad_s={self.pad_s} must not be negative")
        if not 0 < self.trim_db[0] <= self.trim_db[1]:
            raise ConfigError(f"trim_db {self.trim_db} must be a (low, high) range of positive dB")
        for name in ("noise_prob", "tone_prob", "clip_prob", "speed_prob", "eq_prob", "warp_prob", "mixstyle_prob", "trim_prob", "stretch_prob",
                     "mixup_prob", "band_prob", "crop_prob", "pad_prob", "reverb_prob", "splice_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1]")


def _uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * torch.rand((), generator=gen).item()


def _beta(gen: torch.Generator, alpha: float, n: int) -> Tensor:
    """n draws of Beta(alpha, alpha) (float64), seeded by `gen` (torch has no seeded Beta sampler)."""
    rng = np.random.default_rng(int(torch.randint(2 ** 31, (1,), generator=gen)))
    return torch.from_numpy(rng.beta(alpha, alpha, n))


def _chance(gen: torch.Generator, p: float) -> bool:
    return p > 0 and torch.rand((), generator=gen).item() < p


def change_speed(waveform: Tensor, factor: float) -> Tensor:
    """Play `factor` times faster (pitch moves too): (samples,) -> (round(samples / factor),)."""
    ratio = Fraction(1.0 / factor).limit_denominator(32)
    out = resample_poly(waveform.numpy(), ratio.numerator, ratio.denominator)
    return torch.from_numpy(out.astype(np.float32))


def colored_noise(num_samples: int, exponent: float, gen: torch.Generator) -> Tensor:
    """Noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS: (samples,)."""
    spectrum = torch.fft.rfft(torch.randn(num_samples, generator=gen))
    freqs = torch.arange(spectrum.shape[0], dtype=torch.float32).clamp(min=1.0)
    noise = torch.fft.irfft(spectrum / freqs ** (exponent / 2), n=num_samples)
    return noise / noise.pow(2).mean().sqrt().clamp(min=1e-8)


def add_noise(waveform: Tensor, snr_db: float, gen: torch.Generator, signal_rms: Tensor | None = None) -> Tensor:
    """Add white, pink or brown noise at `snr_db` relative to the signal's power (or to `signal_rms`,
    the RMS of the part that is the signal, when the clip also holds silence)."""
    exponent = float(torch.randint(0, 3, (), generator=gen))
    if signal_rms is None:
        signal_rms = waveform.pow(2).mean().sqrt()
    noise = colored_noise(waveform.shape[-1], exponent, gen)
    return waveform + noise * signal_rms * 10 ** (-snr_db / 20)


TONE_HZ = (50.0, 3_800.0)       # a whine's frequency: log-uniform in this range (under 8 kHz audio's Nyquist)
HUM_HARMONICS = 7               # hum: mains (features.lines.MAINS_HZ) and its harmonics up to this one


def add_tone(waveform: Tensor, sample_rate: int, snr_db: float, gen: torch.Generator,
             signal_rms: Tensor | None = None) -> Tensor:
    """Add a steady tone through the whole clip at `snr_db` under the signal's power (or `signal_rms`): half the time
    a whine (one sine, its frequency log-uniform in TONE_HZ up to 0.95 of Nyquist), else mains hum (50 or 60 Hz and
    its harmonics up to the HUM_HARMONICS-th, each k-th at 1/k the amplitude), every partial at a random phase."""
    if signal_rms is None:
        signal_rms = waveform.pow(2).mean().sqrt()
    t = torch.arange(waveform.shape[-1], dtype=torch.float64) / sample_rate
    if _chance(gen, 0.5):
        low, high = math.log(TONE_HZ[0]), math.log(min(TONE_HZ[1], 0.95 * sample_rate / 2))
        partials = [(math.exp(_uniform(gen, low, high)), 1.0)]
    else:
        mains = MAINS_HZ[int(torch.randint(0, len(MAINS_HZ), (), generator=gen))]
        partials = [(mains * k, 1.0 / k) for k in range(1, HUM_HARMONICS + 1) if mains * k < sample_rate / 2]
    tone = sum(amplitude * torch.sin(2 * math.pi * freq * t + _uniform(gen, 0.0, 2 * math.pi))
               for freq, amplitude in partials)
    tone = (tone / tone.pow(2).mean().sqrt().clamp(min=1e-12)).to(waveform.dtype)
    return waveform + tone * signal_rms * 10 ** (-snr_db / 20)


def saturate(waveform: Tensor, drive_db: float, soft: bool = False) -> Tensor:
    """A clip (samples,) as a recorder too loud for it gives it: amplified until its peak is `drive_db` past full scale,
    cut off at full scale (hard, as an overflowing converter cuts; `soft`: rounded off by a tanh, as an analogue stage
    or a phone's limiter does), then brought back to its old peak. A silent clip comes back as it is."""
    if waveform.numel() == 0:
        return waveform
    peak = waveform.abs().max()
    if peak == 0:
        return waveform
    driven = waveform * (10 ** (drive_db / 20) / peak)
    cut = torch.tanh(driven) if soft else driven.clamp(-1.0, 1.0)
    return cut * (peak / cut.abs().max())


def _apply_gain_db(waveform: Tensor, gain_db: Tensor) -> Tensor:
    """Filter (samples,) by a gain curve in dB over its rfft bins (waveform.shape[-1] // 2 + 1 of them)."""
    return torch.fft.irfft(torch.fft.rfft(waveform) * 10 ** (gain_db / 20), n=waveform.shape[-1])


def random_eq(waveform: Tensor, max_db: float, gen: torch.Generator) -> Tensor:
    """A smooth random gain curve over frequency (a few dB), like a different microphone."""
    knots = (torch.rand(6, generator=gen) * 2 - 1) * max_db                    # dB at 6 points
    curve = torch.nn.functional.interpolate(knots[None, None], size=waveform.shape[-1] // 2 + 1, mode="linear",
                                            align_corners=True)
    return _apply_gain_db(waveform, curve[0, 0])


def room_response(sample_rate: int, rt60_s: float, drr_db: float, gen: torch.Generator) -> Tensor:
    """A synthetic room impulse response: (round(rt60_s * sample_rate),), unit energy.

    A direct path (the first sample) and a diffuse tail of Gaussian noise whose energy decays by
    60 dB over `rt60_s` (Polack's model), the direct path `drr_db` above the tail's total energy.
    """
    num = max(2, round(rt60_s * sample_rate))
    t = torch.arange(num, dtype=torch.float64) / sample_rate
    tail = torch.randn(num, generator=gen, dtype=torch.float64) * torch.exp(-3 * math.log(10) * t / rt60_s)
    tail[0] = 0.0
    response = tail / tail.norm()
    response[0] = 10 ** (drr_db / 20)          # direct energy / tail energy = 10 ** (drr_db / 10)
    return (response / response.norm()).float()


def add_reverb(waveform: Tensor, sample_rate: int, rt60_s: float, drr_db: float, gen: torch.Generator,
               max_tail_s: float = 0.25) -> Tensor:
    """The clip as heard in a room (`room_response`): (samples,) -> (samples + up to max_tail_s,), at its old peak.

    The reverberant tail after the clip's end is kept for at most `max_tail_s` (what an inference
    trim 30 dB under the peak would mostly cut anyway), so clips do not grow by a whole RT60.
    """
    return convolve_room(waveform, room_response(sample_rate, rt60_s, drr_db, gen), round(max_tail_s * sample_rate))


def convolve_room(waveform: Tensor, response: Tensor, max_tail: int | None = None) -> Tensor:
    """A clip (samples,) convolved with a room's impulse response (FFT), at the clip's old peak:
    (samples,) -> (samples + min(len(response) - 1, max_tail),); max_tail None keeps the whole tail."""
    length = waveform.shape[-1] + response.shape[-1] - 1
    n_fft = 1 << (length - 1).bit_length()
    wet = torch.fft.irfft(torch.fft.rfft(waveform, n_fft) * torch.fft.rfft(response, n_fft), n_fft)
    tail = response.shape[-1] - 1 if max_tail is None else min(response.shape[-1] - 1, max_tail)
    wet = wet[: waveform.shape[-1] + tail]
    return wet * (waveform.abs().max() / wet.abs().max().clamp(min=1e-8))


def _ramp(distance: Tensor, width: float) -> Tensor:
    """A raised cosine: 0 up to distance 0, 1 from `width` on."""
    return 0.5 - 0.5 * torch.cos(torch.pi * (distance / width).clamp(0.0, 1.0))


def band_limit(waveform: Tensor, sample_rate: int, highpass_hz: float, lowpass_hz: float,
               ramp_hz: float = 200.0, floor_db: float = -60.0) -> Tensor:
    """Keep only `highpass_hz`..`lowpass_hz`: (samples,) -> (samples,). Outside the band the gain falls
    along a raised-cosine ramp `ramp_hz` wide to `floor_db`, like a steep filter; 0 and the Nyquist
    frequency as edges cut nothing."""
    freqs = torch.fft.rfftfreq(waveform.shape[-1], d=1.0 / sample_rate)
    beyond = _ramp(freqs - lowpass_hz, ramp_hz) if lowpass_hz < sample_rate / 2 else torch.zeros_like(freqs)
    if highpass_hz > 0:
        beyond = torch.maximum(beyond, _ramp(highpass_hz - freqs, ramp_hz))
    return _apply_gain_db(waveform, floor_db * beyond)


def augment_waveform(waveform: Tensor, sample_rate: int, cfg: AugmentConfig, gen: torch.Generator) -> Tensor:
    """One training view of a mono clip: (samples,) -> (samples',) (trim, speed and shift change the length).

    The trim cuts leading and trailing sound quieter than a random threshold below the peak, as an
    eager voice-activity trimmer does: it takes the soft consonants at a word's edges (the "s" of
    "six", the "f" of "four"), which some recordings (FSDD's yweweler, for one) lack throughout.
    The crop then cuts a random length off each end whatever its level, as a recording started late
    or stopped early does. The padding sets the word in up to `pad_s` of silence at each end, which
    the noise then fills, as in a recording started well before the word in a noisy room: the SNR is
    the word's, so the padding does not make the noise quieter. Clipping comes after the noise, as a
    converter clips what the microphone heard.
    """
    x = waveform
    if _chance(gen, cfg.trim_prob):
        start, end = active_span(x, sample_rate, _uniform(gen, *cfg.trim_db))
        x = x[start:end]
    if _chance(gen, cfg.crop_prob):
        most = min(int(cfg.crop_s * sample_rate), x.shape[-1] // 4)
        head, tail = (int(_uniform(gen, 0.0, most + 1)) for _ in range(2))
        x = x[head:x.shape[-1] - tail]
    if _chance(gen, cfg.speed_prob):
        x = change_speed(x, _uniform(gen, *cfg.speed))
    if _chance(gen, cfg.eq_prob):
        x = random_eq(x, cfg.eq_db, gen)
    if _chance(gen, cfg.reverb_prob):
        x = add_reverb(x, sample_rate, _uniform(gen, *cfg.rt60_s), _uniform(gen, *cfg.drr_db), gen)
    if _chance(gen, cfg.band_prob):
        x = band_limit(x, sample_rate, _uniform(gen, *cfg.highpass_hz), _uniform(gen, *cfg.lowpass_hz))
    word_rms = None                 # the noise's reference: the whole clip, or the word alone once padded
    if cfg.shift_s > 0:
        lead = int(_uniform(gen, 0.0, cfg.shift_s) * sample_rate)
        x = torch.cat([x.new_zeros(lead), x])
    if _chance(gen, cfg.pad_prob):
        word_rms = x.pow(2).mean().sqrt()
        lead, tail = (int(_uniform(gen, 0.0, cfg.pad_s) * sample_rate) for _ in range(2))
        x = torch.cat([x.new_zeros(lead), x, x.new_zeros(tail)])
    if _chance(gen, cfg.tone_prob):
        x = add_tone(x, sample_rate, _uniform(gen, *cfg.tone_snr_db), gen, word_rms)
    if _chance(gen, cfg.noise_prob):
        x = add_noise(x, _uniform(gen, *cfg.snr_db), gen, word_rms)
    if _chance(gen, cfg.clip_prob):
        x = saturate(x, _uniform(gen, *cfg.clip_db), soft=_chance(gen, 0.5))
    x = x * 10 ** (_uniform(gen, -cfg.gain_db, cfg.gain_db) / 20)
    return x.clamp(-1.0, 1.0)


def _band_mask(num: int, size: int, limit: Tensor, max_width: Tensor, gen: torch.Generator) -> Tensor:
    """(B, size) bool, True inside `num` random bands per item of width < max_width, starting below limit - width."""
    batch = limit.shape[0]
    width = (torch.rand(batch, num, generator=gen) * (max_width[:, None] + 1)).long()
    start = (torch.rand(batch, num, generator=gen) * (limit[:, None] - width).clamp(min=1)).long()
    pos = torch.arange(size)[None, None, :]                                  # (1, 1, size)
    inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])  # (B, num, size)
    return inside.any(dim=1)


def spec_augment(spec: Tensor, lengths: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> Tensor:
    """Zero random time and frequency bands inside each item's valid frames: (B, F, T) -> (B, F, T).

    Time masks are at most a quarter of an item's length, so a short clip is never mostly masked.
    """
    batch, num_bins, num_steps = spec.shape
    lengths = lengths.cpu()
    time_width = torch.minimum(torch.full_like(lengths, cfg.time_mask_frames), lengths // 4)
    time = _band_mask(cfg.time_masks, num_steps, lengths, time_width, gen)                    # (B, T)
    freq = _band_mask(cfg.freq_masks, num_bins, torch.full_like(lengths, num_bins),
                      torch.full_like(lengths, cfg.freq_mask_bins), gen)                       # (B, F)
    valid = torch.arange(num_steps)[None, :] < lengths[:, None]                                 # (B, T)
    masked = (time[:, None, :] | freq[:, :, None]) & valid[:, None, :]                         # (B, F, T)
    return spec.masked_fill(masked.to(spec.device), 0.0)


def warp_frequency(spec: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> Tensor:
    """Stretch or squeeze each item's frequency axis by a random factor (like another vocal tract length).

    (B, F, T) -> (B, F, T): bin f of the output reads bin f / factor of the input (linear interpolation,
    the top edge held), applied to a `warp_prob` share of the items.
    """
    batch, num_bins, _ = spec.shape
    factors = cfg.warp[0] + (cfg.warp[1] - cfg.warp[0]) * torch.rand(batch, generator=gen)
    chosen = torch.rand(batch, generator=gen) < cfg.warp_prob
    factors = torch.where(chosen, factors, torch.ones_like(factors))
    source = (torch.arange(num_bins)[None, :] / factors[:, None]).clamp(max=num_bins - 1)     # (B, F)
    low = source.floor().long()
    high = (low + 1).clamp(max=num_bins - 1)
    frac = (source - low).to(spec.dtype).to(spec.device)[..., None]                           # (B, F, 1)
    gather = lambda index: spec.gather(1, index.to(spec.device)[..., None].expand(-1, -1, spec.shape[2]))  # noqa: E731
    return gather(low) * (1 - frac) + gather(high) * frac


def stretch_time(spec: Tensor, lengths: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Change each item's speaking rate, not its spectrum: (B, F, T), (B,) -> (B, F, T'), (B,).

    A `stretch_prob` share of the items get their valid frames resampled (linear interpolation along
    time) to a random factor in `stretch` times their length; unlike speed perturbation, which plays
    the waveform faster and so moves every formant, the frequency axis is untouched. Padding stays
    zero; T' is the longest new length.
    """
    batch = spec.shape[0]
    factors = cfg.stretch[0] + (cfg.stretch[1] - cfg.stretch[0]) * torch.rand(batch, generator=gen)
    chosen = torch.rand(batch, generator=gen) < cfg.stretch_prob
    old = lengths.cpu()
    new = torch.where(chosen, (old * factors).round().long().clamp(min=1), old)
    out = spec.new_zeros(batch, spec.shape[1], int(new.max()))
    for i in range(batch):
        n, m = int(old[i]), int(new[i])
        item = spec[i, :, :n]
        if m != n:
            item = torch.nn.functional.interpolate(item[None], size=m, mode="linear", align_corners=True)[0]
        out[i, :, :m] = item
    return out, new.to(lengths.device)


def mix_style(spec: Tensor, lengths: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> Tensor:
    """Freq-MixStyle: give each item per-bin statistics mixed with another item's. (B, F, T) -> (B, F, T).

    Each item's bins are normalised by their own mean and standard deviation over its valid frames,
    then rescaled by a Beta(alpha, alpha) mix of its statistics and those of a random other item in
    the batch: the words stay, the "microphone and voice colour" changes. Applied to a whole batch
    with chance `mixstyle_prob`; padded frames stay zero. (Schmid et al., "Efficient large-scale
    audio tagging via transformer-to-CNN knowledge distillation", ICASSP 2023, after Zhou et al.,
    "Domain generalization with MixStyle", ICLR 2021.)
    """
    batch = spec.shape[0]
    if batch < 2 or torch.rand(1, generator=gen).item() >= cfg.mixstyle_prob:
        return spec
    valid = (torch.arange(spec.shape[-1])[None, :] < lengths.cpu()[:, None]).to(spec.device)[:, None, :]   # (B, 1, T)
    count = valid.sum(-1, keepdim=True).clamp(min=1)
    mean = (spec * valid).sum(-1, keepdim=True) / count                                      # (B, F, 1)
    std = ((((spec - mean) * valid) ** 2).sum(-1, keepdim=True) / count + 1e-5).sqrt()
    weight = _beta(gen, cfg.mixstyle_alpha, batch).to(spec.device, spec.dtype)[:, None, None]
    other = torch.randperm(batch, generator=gen).to(spec.device)
    mixed_mean = weight * mean + (1 - weight) * mean[other]
    mixed_std = weight * std + (1 - weight) * std[other]
    return torch.where(valid, (spec - mean) / std * mixed_std + mixed_mean, spec)


def mix_up(spec: Tensor, lengths: Tensor, cfg: AugmentConfig, gen: torch.Generator
           ) -> tuple[Tensor, Tensor, Tensor, Tensor] | None:
    """Mixup: blend each item with a random other item of the batch, with chance `mixup_prob` per batch.

    (B, F, T), (B,) -> (mixed spectrograms (B, F, T), lengths (B,): the longer of the pair, partner
    index (B,), weight of the item's own label (B,)), or None when the batch is left alone. A weight
    w ~ Beta(alpha, alpha) is folded to w >= 0.5, so each item stays mostly itself; the loss is
    w * loss(own label) + (1 - w) * loss(partner's label). Padding blends like any frame (with
    "peak" normalisation it is the floor, i.e. silence). (Zhang et al., "mixup: Beyond empirical
    risk minimization", ICLR 2018.)
    """
    batch = spec.shape[0]
    if batch < 2 or torch.rand(1, generator=gen).item() >= cfg.mixup_prob:
        return None
    weight = _beta(gen, cfg.mixup_alpha, batch).to(spec.dtype)
    weight = torch.maximum(weight, 1 - weight)
    other = torch.randperm(batch, generator=gen)
    w = weight.to(spec.device)[:, None, None]
    mixed = w * spec + (1 - w) * spec[other.to(spec.device)]
    return mixed, torch.maximum(lengths, lengths[other.to(lengths.device)]), other, weight


@dataclass(frozen=True)
class Spliced:
    """Clips of a batch joined end to end (`splice_clips`)."""
    singles: Tensor                  # (S,) indices of the batch items left alone
    groups: list[list[int]]          # the batch items in each joined item, in order
    waveforms: Tensor                # (G, samples) the joined items, zero-padded
    lengths: Tensor                  # (G,) their valid samples
    spans: list[list[tuple[int, int]]]   # per joined item, each clip's [first, end) sample in it


def splice_clips(waveforms: Tensor, lengths: Tensor, sample_rate: int, cfg: AugmentConfig,
                 gen: torch.Generator) -> Spliced:
    """Join clips of a batch into connected speech: (B, samples), (B,) -> `Spliced`.

    Each item is chosen with chance `splice_prob`; the chosen ones, in random order, are cut into groups
    of `splice_words` clips (a size drawn per group) and each group's valid samples are laid end to end
    with 0 to `splice_gap_s` of silence between two clips. A last group of one clip stays single.
    """
    batch = waveforms.shape[0]
    chosen = (torch.rand(batch, generator=gen) < cfg.splice_prob).nonzero().flatten()
    chosen = chosen[torch.randperm(len(chosen), generator=gen)].tolist()
    groups, at = [], 0
    while len(chosen) - at >= 2:
        size = int(torch.randint(cfg.splice_words[0], cfg.splice_words[1] + 1, (), generator=gen))
        groups.append(chosen[at:at + size])
        at += len(groups[-1])
    grouped = {i for group in groups for i in group}
    singles = torch.tensor([i for i in range(batch) if i not in grouped], dtype=torch.long)
    max_gap = round(cfg.splice_gap_s * sample_rate)
    joined, spans = [], []
    for group in groups:
        pieces, item_spans, end = [], [], 0
        for k, i in enumerate(group):
            if k:
                gap = int(torch.randint(0, max_gap + 1, (), generator=gen))
                pieces.append(waveforms.new_zeros(gap))
                end += gap
            n = int(lengths[i])
            pieces.append(waveforms[i, :n])
            item_spans.append((end, end + n))
            end += n
        joined.append(torch.cat(pieces))
        spans.append(item_spans)
    out_lengths = torch.tensor([len(w) for w in joined], dtype=torch.long)
    out = pad_sequence(joined, batch_first=True) if joined else waveforms.new_zeros(0, 0)
    return Spliced(singles, groups, out, out_lengths.to(lengths.device), spans)


def step_targets(spans: list[list[tuple[int, int]]], labels: list[list[int]], old_frames: Tensor, new_frames: Tensor,
                 hop: int, stride: int, n_steps: int, ignore: int = -100) -> Tensor:
    """The label of every output step of joined items (`splice_clips`): (G, n_steps) int64.

    A step covers `stride` frames; its middle frame, mapped back through any time stretch (old -> new
    frame lengths, as `stretch_time` interpolates) to a sample (frame f starts at f * hop), takes the
    label of the clip whose span holds it. Steps in a gap between clips, and past an item's valid
    steps, get `ignore`.
    """
    targets = torch.full((len(spans), n_steps), ignore, dtype=torch.long)
    for g, (item_spans, item_labels) in enumerate(zip(spans, labels)):
        old, new = int(old_frames[g]), int(new_frames[g])
        valid = min(n_steps, max(1, new // stride))
        middle = (torch.arange(valid, dtype=torch.float64) + 0.5) * stride - 0.5
        sample = middle * ((old - 1) / max(new - 1, 1)) * hop
        for (first, end), label in zip(item_spans, item_labels):
            targets[g, :valid][(sample >= first) & (sample < end)] = label
    return targets
