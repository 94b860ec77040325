"""Steady tonal lines in a recording (a whine, mains hum and its harmonics), and a streaming notch filter for them;
and the line at 0 Hz, a DC offset, and a streaming filter for that (`DCBlocker`).

A tone that sounds through a whole recording is not part of any word: it raises the energy an energy gate
compares words with, and it masks the word's own spectrum. `find_lines` finds such tones in a few seconds
of audio (a spectral bin that stays far above its neighbours most of the time, as a word's harmonics do not:
they come and go, and move with its pitch); `LineNotch` removes them from a stream, block by block.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft
from scipy.signal import iirnotch, lfilter, lfilter_zi, sosfilt, sosfilt_zi, sosfiltfilt

LINE_N_FFT = 1024            # at 8 kHz: 7.8 Hz bins, 128 ms frames hopping 32 ms (scaled with the sample rate)
LINE_QUANTILE = 20           # a line's bin stays up in at least 80% of the frames: its level at this percentile
LINE_RISE_DB = 15.0          # ... this far above the median of its neighbours' (LINE_NEIGHBOURS bins each side,
LINE_NEIGHBOURS, LINE_GAP = 8, 2     # not counting LINE_GAP next to it)
LINE_WOBBLE_HZ = 1.0         # a line's peak stays this close to its median frequency ...
LINE_STILL_SHARE = 0.8       # ... in this share of the frames (a voice's harmonics wander by more)
MAX_LINES = 12               # at most this many lines are notched, the loudest
LINE_RANGE_DB = 40.0         # ... of those within this of the loudest one
MIN_LINE_S = 2.0             # the least audio lines are looked for in
NOTCH_WIDTH_HZ = 20.0        # each notch's -3 dB width
# A single clip shorter than MIN_LINE_S (a word) is searched with shorter frames, so that a quarter of a second
# holds enough of them. A voice fills most of those frames and its harmonics pull a line's peak about, so a line may
# wobble by CLIP_WOBBLE_SHARE of its frequency there (a voice's own harmonics wobble by a share of theirs, and its
# fundamental, 100-130 Hz, was still enough to pass a fixed 3 Hz), and must rise CLIP_RISE_DB above its neighbours
# (`clip_lines`; calibrated on FSDD's 2,500 recordings and 1,500 synthetic takes, none of which it finds a line in,
# against 447 of 500 words under a 1 kHz whine 10 dB below them, 462 at 2.5 kHz and 304 at 700 Hz).
CLIP_N_FFT = 512             # at 8 kHz: 64 ms frames
CLIP_WOBBLE_SHARE = 0.004
CLIP_RISE_DB = 25.0
# Below this, where mains hum's harmonics lie among a voice's own, notching a word cost more than it gave back (hum at
# 10 dB SNR: 2,256 -> 2,218 of 2,500 new-speaker words right at one training seed, 2,206 -> 2,200 at another): a clip
# is not notched there.
CLIP_MIN_HZ = 500.0
CLIP_KEEP_DB = 10.0          # a clip the notches would take more than this off is the tone itself (a beep): left whole
MAINS_HZ = (50.0, 60.0)
MAINS_HARMONICS = 8          # hum: its fundamental and harmonics up to 400 or 480 Hz
BLOCK_S = 5.0                # `LineNotch` looks for lines in blocks of this much audio, and notches those found in
MEMORY_BLOCKS = 3            # ... any of the last few blocks (a line under loud speech can go unseen in one)
SAME_LINE_HZ = 2.0           # lines of two blocks this close are one line (the filter is kept as it is)


def find_lines(waveform: np.ndarray, sample_rate: int, *, n_fft: int = LINE_N_FFT, wobble_hz: float = LINE_WOBBLE_HZ,
               wobble_share: float = 0.0, rise_db: float = LINE_RISE_DB, min_s: float = MIN_LINE_S,
               min_hz: float = 0.0) -> list[float]:
    """Frequencies (Hz, ascending) of steady tones in a mono recording (samples,) of at least MIN_LINE_S: spectral
    peaks whose level stays LINE_RISE_DB above their neighbourhood in at least 80% of 128 ms frames, at one frequency
    (within LINE_WOBBLE_HZ in LINE_STILL_SHARE of the frames, which a voice's harmonics are not even when it speaks
    without a pause). None in speech, music or noise of a broad spectrum; a whine, mains hum and its harmonics, a
    carrier tone. At most the MAX_LINES loudest, within LINE_RANGE_DB of the loudest; with two multiples of 50 or
    60 Hz among them, the others up to MAINS_HARMONICS times that too (`_with_mains_harmonics`). The keywords are
    for `clip_lines`: `n_fft` (of 8 kHz audio, scaled with the sample rate; frames hop a quarter of it), a wobble of
    `wobble_share` of the line's frequency where that is more than `wobble_hz`, the rise, the least duration, and
    the lowest line kept."""
    hop = max(1, round(n_fft / 4 * sample_rate / 8000))
    n_fft = max(64, round(n_fft * sample_rate / 8000))
    if len(waveform) < max(min_s * sample_rate, 4 * n_fft):
        return []
    frames = np.lib.stride_tricks.sliding_window_view(waveform.astype(np.float32), n_fft)[::hop]   # (F, n_fft)
    spectrum = scipy.fft.rfft(frames * _hann(n_fft), axis=1)                                     # (F, bins)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    rank = int(LINE_QUANTILE / 100 * (len(power) - 1))
    held = _db(np.partition(power.T, rank, axis=1)[:, rank])                # (bins,) the level held most of the time
    bins = np.arange(LINE_GAP + 1, len(held) - LINE_NEIGHBOURS)              # from 23 Hz at 8 kHz: mains hum's 50 Hz
    highest = np.ones(len(bins), bool)                                       # the highest of the LINE_GAP bins each side
    for step in range(1, LINE_GAP + 1):
        highest &= (held[bins] >= held[bins - step]) & (held[bins] >= held[bins + step])
    bins = bins[highest]
    ring = held[np.clip(bins[:, None] + _RING, 1, None)]                     # (candidates, ring) dB; bin 0 is DC
    middle = np.partition(ring, _RING_MIDDLE, axis=1)                        # its median: the mean of the middle two
    peaks = bins[held[bins] >= 0.5 * (middle[:, _RING_MIDDLE[0]] + middle[:, _RING_MIDDLE[1]]) + rise_db]
    found = []                                                               # (level, frequency)
    for k in peaks:                                                          # a few at most
        peak = _peak_bins(_db(power[:, k - 1:k + 2])) + k                    # (F,) each frame's peak, in bins
        at = np.median(peak)
        tolerance = max(wobble_hz, wobble_share * at * sample_rate / n_fft)               # Hz
        if np.mean(np.abs(peak - at) < tolerance * n_fft / sample_rate) >= LINE_STILL_SHARE:
            found.append((held[k], float(at * sample_rate / n_fft)))
    if not found:
        return []
    loudest = max(level for level, _ in found)       # a line's own faint harmonics (16-bit rounding) are not lines
    strong = sorted((f for f in found if f[0] >= loudest - LINE_RANGE_DB), reverse=True)[:MAX_LINES]
    return [f for f in _with_mains_harmonics(sorted(freq for _, freq in strong)) if f >= min_hz]


_RING = np.r_[-LINE_NEIGHBOURS:-LINE_GAP, LINE_GAP + 1:LINE_NEIGHBOURS + 1]   # a candidate's neighbours (offsets)
_RING_MIDDLE = [(len(_RING) - 1) // 2, len(_RING) // 2]


@functools.cache
def _hann(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32)


def _db(power: np.ndarray) -> np.ndarray:
    """Power -> dB (float64), with a floor far under 16-bit audio's."""
    return 10 * np.log10(power.astype(np.float64) + 1e-18)


def clip_lines(waveform: np.ndarray, sample_rate: int) -> list[float]:
    """`find_lines` of a single clip: as a recording's from MIN_LINE_S up, and in a shorter one (a word, from a
    quarter of a second) with CLIP_N_FFT frames, a wobble of CLIP_WOBBLE_SHARE of the line's frequency (at least
    LINE_WOBBLE_HZ), a rise of CLIP_RISE_DB, and only lines from CLIP_MIN_HZ up."""
    if len(waveform) >= MIN_LINE_S * sample_rate:
        return find_lines(waveform, sample_rate)
    return find_lines(waveform, sample_rate, n_fft=CLIP_N_FFT, wobble_share=CLIP_WOBBLE_SHARE, rise_db=CLIP_RISE_DB,
                      min_s=0.0, min_hz=CLIP_MIN_HZ)


def notch_clip(waveform: np.ndarray, sample_rate: int) -> tuple[np.ndarray, list[float]]:
    """A single clip (samples,) with its steady tones (`clip_lines`) notched out, forwards and backwards (no
    delay, and no ringing in at its start as a filter run one way has), and the lines notched. The clip itself,
    and no lines, when it has none, or when the notches would leave less than CLIP_KEEP_DB of its energy: then the
    tone is what the clip holds (a beep, a held note), not something under it, and is left for a classifier's
    warnings to judge."""
    lines = clip_lines(waveform, sample_rate)
    sections = notch_sections(lines, sample_rate)
    if not len(sections):
        return waveform, []
    notched = sosfiltfilt(sections, waveform.astype(np.float64))
    before = float(np.sum(np.square(waveform, dtype=np.float64)))
    if np.sum(np.square(notched)) < before * 10 ** (-CLIP_KEEP_DB / 10):
        return waveform, []
    return notched.astype(waveform.dtype, copy=False), lines


def _with_mains_harmonics(lines: list[float]) -> list[float]:
    """`lines`, and when two or more of them are multiples of the mains frequency (50 or 60 Hz, to within
    SAME_LINE_HZ), every multiple of it up to MAINS_HARMONICS times: hum's low harmonics hide among a voice's, so
    some go unseen under speech."""
    for mains_hz in MAINS_HZ:
        multiples = [f for f in lines if f > mains_hz / 2 and abs(f - mains_hz * round(f / mains_hz)) <= SAME_LINE_HZ]
        if len(multiples) >= 2:
            missing = [mains_hz * k for k in range(1, MAINS_HARMONICS + 1)
                       if all(abs(f - mains_hz * k) > SAME_LINE_HZ for f in lines)]
            return sorted(lines + missing)
    return lines


def _peak_bins(around: np.ndarray) -> np.ndarray:
    """(F,) the offset (bins, -1 to 1) of each frame's peak within three bins (F, 3) of dB, by a parabola through
    them (the middle bin's own offset where it is not the highest)."""
    left, mid, right = around[:, 0], around[:, 1], around[:, 2]
    curve = left - 2 * mid + right
    offset = np.where(curve < 0, 0.5 * (left - right) / np.where(curve < 0, curve, -1.0), 0.0)
    return np.clip(offset, -1.0, 1.0)


def notch_sections(lines: list[float], sample_rate: int) -> np.ndarray:
    """Second-order sections (len(lines), 6) of one NOTCH_WIDTH_HZ wide notch per line (those under Nyquist)."""
    nyquist = sample_rate / 2
    sections = []
    for freq in lines:
        if NOTCH_WIDTH_HZ / 2 < freq < nyquist - NOTCH_WIDTH_HZ / 2:
            b, a = iirnotch(freq, freq / NOTCH_WIDTH_HZ, fs=sample_rate)
            sections.append(np.concatenate([b, a]))
    return np.asarray(sections, dtype=np.float64).reshape(-1, 6)


def _merge_lines(blocks: list[list[float]]) -> list[float]:
    """The lines of several blocks as one list (ascending): one frequency within SAME_LINE_HZ of another is the
    same line, at its latest frequency."""
    merged: list[float] = []
    for lines in blocks:                      # oldest first: a later block's frequency replaces an earlier one's
        for freq in lines:
            merged = [f for f in merged if abs(f - freq) > SAME_LINE_HZ] + [freq]
    return sorted(merged)


def _same_lines(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= SAME_LINE_HZ for x, y in zip(a, b))


class LineNotch:
    """Removes steady tones from a stream of mono chunks: each BLOCK_S of audio is searched for lines
    (`find_lines`), and filtered by notches at the lines found in it, in the MEMORY_BLOCKS - 1 blocks before it or in
    the block after it (a line under loud speech can go unseen in one block), the filter's state carried across
    blocks while those stay the same. The output lags the input by up to two blocks; `flush` returns what is left
    (a last block under MIN_LINE_S is not searched). Memory: two blocks."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.block = round(BLOCK_S * sample_rate)
        self.pending = np.zeros(0, np.float32)
        self.waiting: list[np.ndarray] = []     # blocks searched but not yet filtered (their next one is not in)
        self.filtered = 0                       # blocks filtered so far
        self.lines: list[float] = []
        self.sections = np.zeros((0, 6))
        self.state: np.ndarray | None = None
        self.found: list[list[float]] = []      # the lines found in each block so far

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Feed a chunk (samples,); returns the filtered audio of the blocks it lets through (possibly none)."""
        self.pending = np.concatenate([self.pending, chunk.astype(np.float32, copy=False)])
        out = []
        while len(self.pending) >= self.block:
            self._search(self.pending[:self.block])
            self.pending = self.pending[self.block:]
            if len(self.waiting) > 1:
                out.append(self._filter(self.waiting.pop(0)))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def flush(self) -> np.ndarray:
        """The filtered rest of the stream."""
        if len(self.pending):
            self._search(self.pending)
            self.pending = np.zeros(0, np.float32)
        out = [self._filter(block) for block in self.waiting]
        self.waiting = []
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def _search(self, block: np.ndarray) -> None:
        self.found.append(find_lines(block, self.sample_rate))      # none in a last block under MIN_LINE_S
        self.waiting.append(block)

    def _filter(self, block: np.ndarray) -> np.ndarray:
        index, self.filtered = self.filtered, self.filtered + 1
        lines = _merge_lines(self.found[max(0, index - MEMORY_BLOCKS + 1):index + 2])
        if not _same_lines(lines, self.lines):
            self.lines, self.sections = lines, notch_sections(lines, self.sample_rate)
            self.state = sosfilt_zi(self.sections) * block[0] if len(self.sections) else None
        if not len(self.sections):
            return block
        filtered, self.state = sosfilt(self.sections, block.astype(np.float64), zi=self.state)
        return filtered.astype(np.float32)


DC_CUTOFF_HZ = 5.0           # `DCBlocker`'s -3 dB point: under any voice, over a slow drift of the offset


class DCBlocker:
    """Takes a DC offset (a cheap microphone's or sound card's, and its drift under DC_CUTOFF_HZ) out of a stream of
    mono chunks: a one-pole high-pass, its state carried across chunks and started as though the stream had always
    held its first sample, so an offset there sets off no transient. Without it an offset lifts every silent
    frame's energy to the offset's, and an energy gate hears no silence at all."""

    def __init__(self, sample_rate: int) -> None:
        pole = 1.0 - 2.0 * math.pi * DC_CUTOFF_HZ / sample_rate
        self.b, self.a = np.array([1.0, -1.0]), np.array([1.0, -pole])
        self.state: np.ndarray | None = None

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Feed a chunk (samples,); returns it filtered (float32, the same length)."""
        x = chunk.astype(np.float64)
        if not len(x):
            return x.astype(np.float32)
        if self.state is None:
            self.state = lfilter_zi(self.b, self.a) * x[0]
        y, self.state = lfilter(self.b, self.a, x, zi=self.state)
        return y.astype(np.float32)
