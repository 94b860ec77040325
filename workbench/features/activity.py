"""Where the sound is: frame energies, the active span of a clip (for trimming silence), its pitch, and whether it is
steady noise or a steady tone (a pitch held stiller than a voice holds one)."""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from workbench.features.spectrogram import Spectrogram, SpectrogramConfig


def without_dc(waveform: Tensor) -> Tensor:
    """A clip (..., samples) with its mean, a DC offset, taken out (an empty one as it is)."""
    if waveform.shape[-1] == 0:
        return waveform
    return waveform - waveform.mean(dim=-1, keepdim=True)


def frame_energy_db(waveform: Tensor, frame_length: int) -> Tensor:
    """Mean-square energy in dBFS of consecutive frames: (samples,) -> (samples // frame_length,)."""
    usable = waveform.shape[-1] // frame_length * frame_length
    frames = waveform[..., :usable].reshape(-1, frame_length).double()
    return 10 * torch.log10(frames.pow(2).mean(dim=1) + 1e-12)


def active_span(waveform: Tensor, sample_rate: int, threshold_db: float = 40.0, frame_s: float = 0.01) -> tuple[int, int]:
    """(start, end) samples from the first to the last frame within `threshold_db` of the loudest frame.

    A clip shorter than one frame, or silent throughout, is returned whole.
    """
    frame = max(1, round(frame_s * sample_rate))
    energy = frame_energy_db(waveform, frame)
    if energy.numel() == 0:
        return 0, waveform.shape[-1]
    loud = torch.nonzero(energy > energy.max() - threshold_db).flatten()
    if energy.max() <= -100 or loud.numel() == 0:
        return 0, waveform.shape[-1]
    return int(loud[0]) * frame, min(waveform.shape[-1], (int(loud[-1]) + 1) * frame)


def trim_silence(waveform: Tensor, sample_rate: int, threshold_db: float = 40.0) -> Tensor:
    """The active span of a mono clip (samples,), see `active_span`."""
    start, end = active_span(waveform, sample_rate, threshold_db)
    return waveform[start:end]


def trim_noise(waveform: Tensor, sample_rate: int, margin_db: float = 12.0, quantile: float = 0.1,
               frame_s: float = 0.01) -> Tensor:
    """The span of a mono clip (samples,) that `noise_span` finds: (samples,) -> (samples',)."""
    start, end = noise_span(waveform, sample_rate, margin_db, quantile, frame_s)
    return waveform[start:end]


def noise_span(waveform: Tensor, sample_rate: int, margin_db: float = 12.0, quantile: float = 0.1,
               frame_s: float = 0.01) -> tuple[int, int]:
    """(start, end) samples of a mono clip without its leading and trailing sound that is less than
    `margin_db` above its noise floor.

    The floor is the `quantile` of its frame energies, which is the background when the clip is
    mostly background (a word recorded with a second of a noisy room around it). A trim relative to
    the peak keeps such noise when it is within its threshold of the peak; this one does not. Keep it
    for clips known to hold more than their word: in a clip that is the word alone, the floor is the
    word's own quiet part (an "s", a "f") and this would cut it. A clip whose floor is within
    `margin_db` of its peak (noise, or a steady sound, throughout) is kept whole.
    """
    frame = max(1, round(frame_s * sample_rate))
    energy = frame_energy_db(waveform, frame)
    if energy.numel() == 0:
        return 0, waveform.shape[-1]
    above_floor_db = float(energy.max() - torch.quantile(energy, quantile)) - margin_db
    if above_floor_db <= 0:
        return 0, waveform.shape[-1]
    return active_span(waveform, sample_rate, above_floor_db, frame_s)


# What sets steady noise apart from a word, calibrated at 8 kHz on FSDD's 2,500 recordings against
# 200 clips of white, pink, brown and blue noise of 0.1 to 10 s: a word changes its spectrum's shape
# over time, or is voiced (a pitch held over consecutive frames), or both. Steady noise is neither:
# its shape changes by at most 7.6 dB (`spectral_change_db`), and only 3 of the 200 held a pitch for
# two frames running (rumble under 500 Hz can hold one longer, and then is not called noise). Each
# FSDD recording passes one test or the other with room to spare: the ten with no pitch (creaky or
# whispered vowels) change their shape by at least 11.1 dB, and those that change it least (7.0 dB;
# 4.6 dB once cut 30 dB under their peak, as the shipped model hears them) hold a pitch for at least
# 9 frames (3 when cut).
STEADY_SHAPE_DB = 9.0
PITCH_THRESHOLD = 0.5           # the YIN difference (Cheveigne & Kawahara 2002) under which a frame has a pitch
PITCH_RANGE_HZ = (60.0, 400.0)  # adult voices
PITCH_TOLERANCE = 0.15          # consecutive frames hold "the same" pitch if their periods differ by less than this
MIN_PITCHED_FRAMES = 2
PITCH_BLOCK_FRAMES = 1024       # frames analysed at once (about 10 s)
SILENT_FRAME_DB = -110.0        # a frame quieter than this (mean power, dBFS: below a 16-bit file's last bit) has no pitch
# A steady tone: for 0.25 s running, a pitch held still, frame to frame within 0.2% of its period, or a waveform
# repeating itself unchanged, its autocorrelation's shape correlating over 0.998 with the frame before's. At 8 kHz
# (`longest_steady_tone`, either), FSDD's 2,500 recordings hold one for at most 18 frames (99% for at most 8), 2,000
# of the espeak-ng and Flite takes for at most 13, 220 other English words for 10; 500 of FSDD's words in pink noise
# at 20 dB SNR, played at 0.8 times their speed or in a synthetic room of RT60 0.3 s for at most 17, 250-500 under
# 50 Hz mains hum and its harmonics (-20 to 0 dB) for 12 (in a room of RT60 0.8 s one in 500 reached 28: the room's
# tail holds the pitch). Beeps of 1-3 harmonics (`recipes.digit_novelty.make_other_sounds`, two seeds) reach 25
# frames 83 to 85 times in 100 (77 by the pitch alone), snippets of synthetic music 86 to 92 (not chords, which have
# no one period, nor notes under 0.25 s), knocks never.
REFINE_DIP, REFINE_SPAN = 0.05, 4     # `pitch_periods(refine=True)`: which dip of the difference function is the period
STEADY_PITCH_TOLERANCE = 0.002
SHAPE_CORRELATION = 0.998
STEADY_TONE_FRAMES = 25


def pitch_periods(waveform: Tensor, sample_rate: int, frame_s: float = 0.03, hop_s: float = 0.01,
                  within_db: float = 35.0, refine: bool = False) -> tuple[Tensor, Tensor]:
    """Where a mono clip (samples,) has a pitch: per frame of `hop_s`, whether it has one, and its period in
    samples, (num_frames,) bool and (num_frames,) int64, or float64 to a fraction of a sample with `refine`
    (a parabola through the difference function's minimum and its two neighbours).

    A frame has a pitch where YIN's cumulative-mean-normalised difference over `frame_s` falls below
    PITCH_THRESHOLD at some period within PITCH_RANGE_HZ, and the frame is within `within_db` of the
    clip's loudest frame (a quiet tail's hum is not the clip's voice). A clip shorter than one frame
    is padded with zeros; digital silence (under SILENT_FRAME_DB) has no pitch.
    """
    pitched, period, _ = _pitch_analysis(waveform, sample_rate, frame_s, hop_s, within_db, refine)
    return pitched, period


def _pitch_analysis(waveform: Tensor, sample_rate: int, frame_s: float = 0.03, hop_s: float = 0.01,
                    within_db: float = 35.0, refine: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """`pitch_periods`, and per frame whether its autocorrelation over the voice's lags (PITCH_RANGE_HZ) has the
    shape of the frame before's (their correlation over SHAPE_CORRELATION, both frames loud as `pitch_periods`
    asks): a waveform repeating itself unchanged, whatever its period (`steady_tone_frames`)."""
    window, hop = max(1, round(frame_s * sample_rate)), max(1, round(hop_s * sample_rate))
    max_period = int(sample_rate / PITCH_RANGE_HZ[0])
    min_period = max(2, int(sample_rate / PITCH_RANGE_HZ[1]))
    span = window + max_period
    x = torch.nn.functional.pad(waveform, (0, max(0, span - waveform.shape[-1]))).double()
    frames = x.unfold(0, span, hop)                                    # (F, window + max_period), a view
    size = 1 << (2 * span - 1).bit_length()
    lags = torch.arange(max_period + 1, device=x.device)
    best, period, level, similar = [], [], [], []
    previous = None                                                    # the last frame's shape, across blocks
    for block in frames.split(PITCH_BLOCK_FRAMES):                     # bounded memory on a long file
        # d(tau) = sum_j (x_j - x_{j+tau})^2 over the window = e(0) + e(tau) - 2 r(tau), r by FFT
        corr = torch.fft.irfft(torch.fft.rfft(block, size) * torch.fft.rfft(block[:, :window], size).conj(),
                               size)[:, :max_period + 1]                 # (B, max_period + 1)
        energy = torch.nn.functional.pad(block.pow(2).cumsum(1), (1, 0))  # (B, span + 1): energy[:, k] = sum of x_j^2, j < k
        diff = energy[:, window:window + 1] + energy[:, lags + window] - energy[:, lags] - 2 * corr
        normalised = diff[:, 1:] / (diff[:, 1:].cumsum(1) / lags[1:] + 1e-12)   # (B, max_period): lag 1 first
        block_best, block_period = normalised[:, min_period - 1:].min(dim=1)
        best.append(block_best)
        block_period = block_period + min_period                       # the lag itself: normalised[:, lag - 1]
        if refine:
            # a steady tone dips as low at every multiple of its period: take the first dip within REFINE_DIP of the
            # lowest (the shortest period, as YIN does), its bottom within the next few lags
            searched = normalised[:, min_period - 1:]
            first = (searched < block_best[:, None] + REFINE_DIP).int().argmax(dim=1)
            near = first[:, None] + torch.arange(REFINE_SPAN, device=x.device)
            near = near.clamp(max=searched.shape[1] - 1)
            block_period = near.gather(1, searched.gather(1, near).argmin(dim=1, keepdim=True))[:, 0] + min_period
            at = block_period.clamp(2, max_period - 1)[:, None] - 1     # the minimum, kept off the ends
            left, mid, right = (normalised.gather(1, at + k)[:, 0] for k in (-1, 0, 1))
            curve = left - 2 * mid + right
            offset = torch.where(curve > 0, 0.5 * (left - right) / curve.clamp_min(1e-12), torch.zeros_like(curve))
            block_period = block_period + offset.clamp(-0.5, 0.5)
        period.append(block_period)
        level.append(10 * torch.log10(block[:, :window].pow(2).mean(dim=1) + 1e-12))
        shape = corr[:, min_period:] - corr[:, min_period:].mean(dim=1, keepdim=True)
        shape = shape / (shape.norm(dim=1, keepdim=True) + 1e-12)
        before = torch.cat([shape[:1] if previous is None else previous, shape[:-1]])
        similar.append((shape * before).sum(dim=1) > SHAPE_CORRELATION)
        previous = shape[-1:]
    levels = torch.cat(level)
    loud = (levels > levels.max() - within_db) & (levels > SILENT_FRAME_DB)
    pitched = (torch.cat(best) < PITCH_THRESHOLD) & loud
    same_shape = torch.cat(similar) & loud
    same_shape[1:] &= loud[:-1].clone()
    same_shape[0] = False
    return pitched, torch.cat(period), same_shape


def longest_pitch_run(waveform: Tensor, sample_rate: int) -> int:
    """The most consecutive frames (10 ms each) of a mono clip (samples,) that hold one pitch, see `pitch_periods`."""
    pitched, period = pitch_periods(waveform, sample_rate)
    return int(_run_lengths(_holds_pitch(pitched, period, PITCH_TOLERANCE), pitched).max())


def _holds_pitch(pitched: Tensor, period: Tensor, tolerance: float) -> Tensor:
    """(num_frames,) bool: frame i has a pitch within `tolerance` (a fraction of the period) of frame i-1's."""
    linked = torch.zeros_like(pitched)
    linked[1:] = pitched[1:] & pitched[:-1] & ((period[1:] - period[:-1]).abs() < tolerance * period[:-1])
    return linked


def _run_lengths(linked: Tensor, member: Tensor) -> Tensor:
    """(num_frames,) the length of the run each frame is in, a run being member frames each linked to the one
    before (frames that are not members: 0)."""
    run_ids = torch.cumsum(~linked, dim=0)
    return torch.bincount(run_ids, weights=member.double())[run_ids] * member


def _steady_lengths(waveform: Tensor, sample_rate: int, tolerance: float) -> tuple[Tensor, Tensor]:
    """Per 10 ms frame of a mono clip (samples,): the length of its run of frames whose pitch holds still (each
    frame's refined period within `tolerance` of the frame before's), and of its run of frames whose
    autocorrelation keeps its shape (`_pitch_analysis`); 0 for a frame in neither."""
    pitched, period, same_shape = _pitch_analysis(waveform, sample_rate, refine=True)
    still = _holds_pitch(pitched, period, tolerance)
    shaped = same_shape.clone()
    shaped[:-1] |= same_shape[1:]                                      # a run's first frame is in it too
    return _run_lengths(still, pitched), _run_lengths(same_shape, shaped)


def longest_steady_pitch(waveform: Tensor, sample_rate: int, tolerance: float = STEADY_PITCH_TOLERANCE) -> int:
    """The most consecutive frames (10 ms each) of a mono clip (samples,) over which its pitch holds still: each
    frame's period (`pitch_periods` refined to a fraction of a sample) within `tolerance` of the frame before's.

    A voice's pitch wanders (jitter, intonation) by more than STEADY_PITCH_TOLERANCE from one 10 ms frame to the
    next within a few frames; a beep's, an instrument's note's or a hum's does not (`is_steady_tone`)."""
    return int(_steady_lengths(waveform, sample_rate, tolerance)[0].max())


def longest_steady_tone(waveform: Tensor, sample_rate: int) -> int:
    """The most consecutive frames (10 ms each) of a mono clip (samples,) that hold a steady tone: a pitch held
    still (`longest_steady_pitch`), or a waveform that repeats itself unchanged, its autocorrelation over the
    voice's lags keeping its shape from frame to frame (a correlation over SHAPE_CORRELATION; a beep above the
    voice's pitch range whose aliased harmonics lose the pitch tracker), whichever runs longer."""
    pitch, shape = _steady_lengths(waveform, sample_rate, STEADY_PITCH_TOLERANCE)
    return int(torch.maximum(pitch, shape).max())


def steady_tone_frames(waveform: Tensor, sample_rate: int, min_frames: int = STEADY_TONE_FRAMES) -> Tensor:
    """(num_frames,) bool, per 10 ms frame of a mono clip (samples,) (frame i from sample i * sample_rate // 100):
    whether it lies in a steady tone (`longest_steady_tone`) at least `min_frames` frames long."""
    pitch, shape = _steady_lengths(waveform, sample_rate, STEADY_PITCH_TOLERANCE)
    return (pitch >= min_frames) | (shape >= min_frames)


def is_steady_tone(waveform: Tensor, sample_rate: int) -> bool:
    """Whether a mono clip (samples,) holds a steady tone, too still for a voice, for STEADY_TONE_FRAMES frames
    (10 ms each) running (`longest_steady_tone`): beeps, most notes of music, a held whistle or hum; never a
    spoken word of those it was calibrated on (STEADY_TONE_FRAMES)."""
    return longest_steady_tone(waveform, sample_rate) >= STEADY_TONE_FRAMES


def spectral_change_db(waveform: Tensor, sample_rate: int) -> float:
    """How much a mono clip's (samples,) spectral shape changes over time, in dB: the 10-90% range of each
    of 40 log-mel bins (up to 4 kHz, 10 ms frames) over time, with each frame's mean level removed,
    averaged over the bins. Steady noise: under 8 dB; a word: 7 to 30 (half of FSDD's over 15).
    """
    mel = _shape_spectrogram(sample_rate, waveform.device)(waveform)  # (40, n_frames), dB
    if mel.shape[1] > 4:
        mel = mel[:, 1:-1]                                             # the centred STFT's padded end frames
    shape = mel - mel.mean(dim=0, keepdim=True)                        # the level of each frame taken out
    low, high = torch.quantile(shape, torch.tensor([0.1, 0.9], device=shape.device), dim=1)   # (40,) each
    return float((high - low).mean())


@functools.lru_cache(maxsize=8)
def _shape_spectrogram(sample_rate: int, device: torch.device) -> Spectrogram:
    """The mel front end of `spectral_change_db`, built once per rate and device (never moved: shared)."""
    n_fft = 1 << (round(0.032 * sample_rate) - 1).bit_length()          # 32 ms, a power of two (256 at 8 kHz)
    cfg = SpectrogramConfig(kind="mel", sample_rate=sample_rate, n_fft=n_fft, hop_length=max(1, sample_rate // 100),
                            n_mels=40, fmin=20.0, fmax=min(4_000.0, sample_rate / 2), scale="db", top_db=80.0)
    return Spectrogram(cfg).to(device)


def is_steady_noise(waveform: Tensor, sample_rate: int) -> bool:
    """Whether a mono clip (samples,) sounds like steady noise rather than a word: its spectral shape barely
    changes (`spectral_change_db` under STEADY_SHAPE_DB) and it never holds a pitch for MIN_PITCHED_FRAMES
    frames (`longest_pitch_run`). A word buried in such noise at 0 dB SNR or below is steady noise too.
    """
    if waveform.shape[-1] < sample_rate // 20:                         # under 50 ms: too short to tell
        return False
    return (spectral_change_db(waveform, sample_rate) < STEADY_SHAPE_DB
            and longest_pitch_run(waveform, sample_rate) < MIN_PITCHED_FRAMES)
