"""A labelled timeline of a long recording, streamed in constant memory.

The file is read in chunks; a DC offset is taken out (`features.lines.DCBlocker`, `remove_dc`) and tones that
sound throughout it (a whine, mains hum) are notched out first (`features.lines.LineNotch`, `notch_lines`). An
optional energy gate finds voiced regions (frames louder than an adaptive noise floor); each region no longer
than `window_s` is classified whole, and longer regions (or the whole file, with the gate off) are covered by
sliding windows. A bundle with the
many-to-many "frames" head labels every step instead (`Classifier.steps_and_embedding`): a region no longer
than `steps_window_s` plus `context_s` in one pass, a longer one in passes of `steps_window_s` that follow each
other, each hearing up to `context_s` more on either side so that a word a pass's edge cuts is still heard whole
(the steps of that context come from the neighbouring pass). Consecutive windows or steps of one label are
merged into segments `{start_s, end_s, label, confidence, novelty}`. Segments the model is unsure
of are dropped, and so are, with a bundle that sets them, those whose windows sound unlike its training
clips (`novelty_threshold`), hold no voiced sound (`warn_no_voice`, as `classify.voice_warning` judges
a clip: no pitch in any window, at a novelty over `classify.VOICELESS_NOVELTY`) or a pitch too still for a voice
(`warn_steady_tone`: 0.25 s of `features.steady_tone_frames`, or mostly such frames, searched for in windows whose
novelty is over `classify.VOICELESS_NOVELTY`; a beep or a note between words). Memory holds one chunk,
the notch's two 5 s blocks and one window (and its context), whatever the file's length.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from workbench.errors import ConfigError
from workbench.features import frame_energy_db, steady_tone_frames
from workbench.features.activity import STEADY_TONE_FRAMES
from workbench.features.lines import DCBlocker, LineNotch
from workbench.media import stream_audio
from workbench.tasks.classify import (
    VOICELESS_NOVELTY, LoadedBundle, probabilities_and_novelty, step_probabilities_and_novelty, voice_warning,
)

FRAME_S = 0.01          # energy frames of 10 ms
PITCH_FRAME_S = 0.03    # `features.pitch_periods`' analysis frame (every FRAME_S)
STEADY_SHARE = 0.5      # a segment half or more of whose 10 ms frames lie in a steady tone is a tone (`_is_tone`)


@dataclass(frozen=True)
class TimelineConfig:
    window_s: float = 1.0           # window head: longest span classified at once
    hop_s: float = 0.25             # window head: step of sliding windows inside long regions
    steps_window_s: float = 3.0     # frames head: steps labelled per pass over a long region
    context_s: float = 0.5          # frames head: audio a pass also hears on each side of its steps
    gate: bool = True               # skip silence with an energy gate
    floor_db: float = -55.0         # frames quieter than this (dBFS) are always silence
    margin_db: float = 12.0         # ... and so are frames less than this above the noise floor
    min_gap_s: float = 0.12         # shorter silences do not split a region
    min_voiced_s: float = 0.08      # shorter regions are ignored
    pad_s: float = 0.05             # context kept on each side of a region
    min_confidence: float = 0.5     # segments less confident than this are dropped, but for:
    joined_min_confidence: float = 0.3  # ... one of several in a region (words said without a pause) kept down to
    joined_min_s: float = 0.2           # ... this confidence when it lasts at least this long
    brief_s: float = 0.1                # a segment shorter than this (a step or so: a flicker more often than a
    brief_min_confidence: float = 0.6   # word) needs this confidence
    smooth_steps: int = 3           # frames head: average each step's probabilities with its neighbours' (odd count)
    remove_dc: bool = True          # take a DC offset out first (`features.lines.DCBlocker`): with one, the gate
                                    # would hear no silence, and the timeline would find no words at all
    notch_lines: bool = True        # remove tones that sound throughout the recording (a whine, mains hum) before
                                    # the gate and the model hear it (`features.lines.LineNotch`)
    skip_novel: bool = True         # drop segments more novel than the bundle's novelty_threshold, voiceless or a
                                    # steady tone (if it sets novelty_threshold, warn_no_voice or warn_steady_tone)
    chunk_s: float = 10.0           # streaming read size

    def __post_init__(self) -> None:
        if not self.window_s > 0:
            raise ConfigError(f"window_s={self.window_s} must be positive")
        if not 0 < self.hop_s <= self.window_s:
            raise ConfigError(f"hop_s={self.hop_s} must be in (0, window_s={self.window_s}]")
        if not self.steps_window_s > 0:
            raise ConfigError(f"steps_window_s={self.steps_window_s} must be positive")
        if self.context_s < 0:
            raise ConfigError(f"context_s={self.context_s} must not be negative")
        if self.smooth_steps < 1 or self.smooth_steps % 2 == 0:
            raise ConfigError(f"smooth_steps={self.smooth_steps} must be an odd number of steps, 1 for none")
        for name in ("min_confidence", "joined_min_confidence", "brief_min_confidence"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be in [0, 1]")
        if self.joined_min_s < 0 or self.brief_s < 0:
            raise ConfigError(f"joined_min_s={self.joined_min_s} and brief_s={self.brief_s} must not be negative")
        if self.chunk_s <= 0 or self.min_gap_s < 0 or self.pad_s < 0:
            raise ConfigError("chunk_s must be positive; min_gap_s and pad_s must not be negative")


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    label: str
    confidence: float
    novelty: float | None = None    # its windows' mean novelty (`models.novelty`); None: the bundle has no stats


# first and end sample, probabilities, novelty, voiceless, the share of its 10 ms frames in a steady tone
Window = tuple[int, int, np.ndarray, float | None, bool, float]


class _NoiseFloor:
    """Running 10th percentile of frame energies (dB), from a fixed-size histogram."""

    def __init__(self) -> None:
        self.edges = np.arange(-120.0, 1.0, 1.0)
        self.counts = np.zeros(len(self.edges) - 1)

    def update(self, energy_db: np.ndarray) -> float:
        self.counts += np.histogram(np.clip(energy_db, -119.5, 0.5), self.edges)[0]
        cumulative = np.cumsum(self.counts) / max(1.0, self.counts.sum())
        return float(self.edges[int(np.searchsorted(cumulative, 0.1))])


def _merge(windows: list[Window], start: int, end: int, labels: list[str],
           sample_rate: int) -> list[tuple[Segment, bool, bool]]:
    """Consecutive windows with the same label become one segment; boundaries fall between window centres.
    Each segment comes with whether every one of its windows was voiceless, and whether they hold a steady tone
    (`_is_tone`)."""
    groups: list[list[Window]] = []
    for window in windows:
        if groups and int(groups[-1][-1][2].argmax()) == int(window[2].argmax()):
            groups[-1].append(window)
        else:
            groups.append([window])
    segments = []
    for i, group in enumerate(groups):
        seg_start = start if i == 0 else (sum(groups[i - 1][-1][:2]) + sum(group[0][:2])) // 4
        seg_end = end if i == len(groups) - 1 else (sum(group[-1][:2]) + sum(groups[i + 1][0][:2])) // 4
        probs = np.stack([w[2] for w in group])
        label_id = int(probs.mean(0).argmax())
        novelty = None if group[0][3] is None else float(np.mean([w[3] for w in group]))
        segments.append((Segment(seg_start / sample_rate, seg_end / sample_rate, labels[label_id],
                                 float(probs[:, label_id].mean()), novelty), all(w[4] for w in group),
                         _is_tone(group, sample_rate)))
    return segments


def _is_tone(group: list[Window], sample_rate: int) -> bool:
    """Whether a segment's windows hold a steady tone for `features.activity.STEADY_TONE_FRAMES` frames of 10 ms, or
    for half or more of their frames (`STEADY_SHARE`, for a segment shorter than that): a word's frames never
    are (a tone just before or after a word reaches at most a step into the word's segment)."""
    frames = np.asarray([(w[1] - w[0]) / (FRAME_S * sample_rate) for w in group])
    steady = float((frames * np.asarray([w[5] for w in group])).sum())
    return steady >= STEADY_TONE_FRAMES or steady >= STEADY_SHARE * frames.sum()


def _smooth(windows: list[Window], width: int) -> list[Window]:
    """Each step's probabilities averaged over `width` steps centred on it (fewer at the region's ends)."""
    probs = np.stack([w[2] for w in windows])                                # (n_steps, num_classes)
    sums = np.concatenate([np.zeros((1, probs.shape[1])), np.cumsum(probs, axis=0)])
    half = width // 2
    first = np.maximum(np.arange(len(probs)) - half, 0)
    last = np.minimum(np.arange(len(probs)) + half + 1, len(probs))
    mean = (sums[last] - sums[first]) / (last - first)[:, None]
    return [(w[0], w[1], mean[i], *w[3:]) for i, w in enumerate(windows)]


class _Tracker:
    """Streaming state: the sample buffer, the open voiced region and the windows classified in it."""

    def __init__(self, bundle: LoadedBundle, cfg: TimelineConfig) -> None:
        # the recording's tones are the notch's (`TimelineConfig.notch_lines`), not each window's (`classify.prepare`)
        self.bundle = dataclasses.replace(bundle, cfg=dataclasses.replace(bundle.cfg, notch_lines=False))
        self.cfg = cfg
        self.sample_rate = bundle.cfg.features.sample_rate
        self.frame = max(1, round(FRAME_S * self.sample_rate))
        self.steps = bundle.cfg.model.head == "frames"     # a label per step, not per window
        self.step = bundle.model.step_samples()
        if self.steps:       # passes of whole steps, so that every pass's steps fall on one grid
            self.window = self.step * max(1, round(cfg.steps_window_s * self.sample_rate / self.step))
            self.hop, self.context = self.window, self.step * int(cfg.context_s * self.sample_rate // self.step)
        else:
            self.window, self.context = round(cfg.window_s * self.sample_rate), 0
            self.hop = max(1, round(cfg.hop_s * self.sample_rate))
        # how far before the next window the open region's samples are still needed: its context, or the
        # window head's last window, which can start up to a hop before it
        self.lookback = self.context if self.steps else self.hop
        self.pad = round(cfg.pad_s * self.sample_rate)
        self.buf, self.buf_start = np.zeros(0, np.float32), 0
        self.region: int | None = None         # first sample of the open region
        self.first_active = self.last_active = 0
        self.next_window = 0
        self.windows: list[Window] = []
        self.segments: list[Segment] = []
        self.floor = _NoiseFloor()
        self.next_frame = 0                    # first sample of the next energy frame to look at

    def _classify(self, start: int, end: int, heard_from: int | None = None,
                  heard_to: int | None = None) -> list[Window]:
        """One window over samples [start, end), or with the frames head one per step of it, the network hearing
        [heard_from, heard_to) around it (heard_from a whole number of steps before start)."""
        heard_from = start if heard_from is None else heard_from
        heard_to = end if heard_to is None else heard_to
        clip = torch.from_numpy(np.ascontiguousarray(self.buf[heard_from - self.buf_start:heard_to - self.buf_start]))
        if not self.steps:
            probs, novelty = probabilities_and_novelty(self.bundle, [clip])
            score = None if novelty is None else float(novelty[0])
            steady = self._steady_shares(clip, score, heard_from, [start, end])[0]
            return [(start, end, probs[0].numpy(), score, self._voiceless(clip, score), steady)]
        probs, score = step_probabilities_and_novelty(self.bundle, clip)
        first = (start - heard_from) // self.step
        step_probs = probs.numpy()[first:]                                   # (n_steps, num_classes) from start on
        num_steps = min(len(step_probs), -(-(end - start) // self.step))  # not the silence a short clip is padded with
        bounds = [start + i * self.step for i in range(num_steps)] + [end]
        voiceless = self._voiceless(clip, score)
        steady = self._steady_shares(clip, score, heard_from, bounds)
        return [(bounds[i], bounds[i + 1], step_probs[i], score, voiceless, steady[i]) for i in range(num_steps)]

    def _left_context(self, start: int, region: int) -> int:
        """Where a pass whose steps start at `start` begins hearing: up to `context` earlier, within the region
        that starts at sample `region`, a whole number of steps before `start`."""
        return start - min(self.context, (start - region) // self.step * self.step)

    def _voiceless(self, clip: torch.Tensor, score: float | None) -> bool:
        return self.cfg.skip_novel and voice_warning(self.bundle.cfg, clip, score) is not None

    def _steady_shares(self, clip: torch.Tensor, score: float | None, heard_from: int,
                       bounds: list[int]) -> list[float]:
        """For each window [bounds[i], bounds[i + 1]) of a pass whose clip starts at sample `heard_from`, the share of
        the 10 ms frames centred in it that lie in a steady tone (`features.steady_tone_frames`). All 0 when the bundle
        does not set warn_steady_tone, skip_novel is off, or the pass's novelty is at most
        `classify.VOICELESS_NOVELTY` (as `classify.tone_warning` judges a clip)."""
        if not (self.cfg.skip_novel and self.bundle.cfg.warn_steady_tone) or (
                score is not None and score <= VOICELESS_NOVELTY):
            return [0.0] * (len(bounds) - 1)
        steady = steady_tone_frames(clip, self.sample_rate).double()
        centres = heard_from + self.frame * torch.arange(len(steady)) + round(PITCH_FRAME_S * self.sample_rate) // 2
        shares = []
        for start, end in zip(bounds, bounds[1:]):
            inside = (centres >= start) & (centres < end)
            shares.append(float(steady[inside].mean()) if bool(inside.any()) else 0.0)
        return shares

    def feed(self, chunk: np.ndarray) -> None:
        """Append a chunk, gate its frames, classify the windows it completes, forget what is no longer needed."""
        self.buf = np.concatenate([self.buf, chunk])
        end = self.buf_start + len(self.buf)
        first = self.next_frame
        count = (end - first) // self.frame
        if count <= 0:
            return
        energy = frame_energy_db(torch.from_numpy(self.buf[first - self.buf_start:]), self.frame)[:count].numpy()
        floor_db = self.floor.update(energy) if self.cfg.gate else -math.inf
        threshold = max(self.cfg.floor_db, floor_db + self.cfg.margin_db)
        active = energy > threshold if self.cfg.gate else np.ones(count, bool)
        for i in range(count):
            self._step(first + i * self.frame, bool(active[i]))
        self.next_frame = first + count * self.frame
        keep = (max(self.region, self.next_window - self.lookback) if self.region is not None
                else self.next_frame - self.pad)
        cut = max(0, keep - self.buf_start)
        self.buf, self.buf_start = self.buf[cut:], self.buf_start + cut

    def _step(self, start: int, active: bool) -> None:
        end = start + self.frame
        if active:
            if self.region is None:
                self.region = max(self.buf_start, start - self.pad)
                self.first_active, self.next_window, self.windows = start, self.region, []
            self.last_active = end
        elif self.region is not None and start - self.last_active >= self.cfg.min_gap_s * self.sample_rate:
            self.close(min(end, self.last_active + self.pad))
            return
        while self.region is not None and end >= self.next_window + self.window + self.context:
            window_end = self.next_window + self.window
            self.windows += self._classify(self.next_window, window_end,
                                           self._left_context(self.next_window, self.region), window_end + self.context)
            self.next_window += self.hop

    def close(self, region_end: int) -> None:
        """Classify what is left of the open region and turn its windows into segments."""
        if self.region is None:
            return
        start, self.region = self.region, None
        region_end = min(region_end, self.buf_start + len(self.buf))
        if self.last_active - self.first_active < self.cfg.min_voiced_s * self.sample_rate:
            return
        if self.steps:           # the steps left after the last pass (all of them when there was none)
            if self.next_window < region_end:
                heard_from = self._left_context(self.next_window, start)
                self.windows += self._classify(self.next_window, region_end, heard_from)
        elif not self.windows:
            self.windows = self._classify(start, region_end)
        elif self.windows[-1][1] < region_end:
            self.windows += self._classify(max(start, region_end - self.window), region_end)
        if self.steps and self.cfg.smooth_steps > 1:       # one step's label flickering inside a word
            self.windows = _smooth(self.windows, self.cfg.smooth_steps)
        merged = _merge(self.windows, start, region_end, self.bundle.labels, self.sample_rate)
        self.segments += [s for s, voiceless, steady in merged
                          if self._confident(s, joined=len(merged) > 1) and not voiceless and not steady
                          and not self._novel(s)]

    def _confident(self, segment: Segment, joined: bool) -> bool:
        """Sure enough to keep: at `min_confidence`, or, as one of several segments of a region (words said without
        a pause between them, each less sure of its edges), at `joined_min_confidence` if it lasts `joined_min_s`;
        a segment shorter than `brief_s` only at `brief_min_confidence`."""
        duration_s = segment.end_s - segment.start_s
        if duration_s < self.cfg.brief_s:
            return segment.confidence >= self.cfg.brief_min_confidence
        if segment.confidence >= self.cfg.min_confidence:
            return True
        return joined and segment.confidence >= self.cfg.joined_min_confidence and duration_s >= self.cfg.joined_min_s

    def _novel(self, segment: Segment) -> bool:
        threshold = self.bundle.cfg.novelty_threshold
        return (self.cfg.skip_novel and threshold is not None and segment.novelty is not None
                and segment.novelty > threshold)


def timeline(bundle: LoadedBundle, path: str | Path, cfg: TimelineConfig | None = None) -> list[Segment]:
    """Segments of a long file of any format the media layer reads, streamed in constant memory."""
    cfg = cfg or TimelineConfig()
    tracker = _Tracker(bundle, cfg)
    notch = LineNotch(tracker.sample_rate) if cfg.notch_lines else None
    blocker = DCBlocker(tracker.sample_rate) if cfg.remove_dc else None
    for chunk in stream_audio(path, cfg.chunk_s, sample_rate=tracker.sample_rate, mono=True):
        samples = chunk.waveform[0].numpy().astype(np.float32, copy=False)
        if blocker is not None:
            samples = blocker.process(samples)
        tracker.feed(samples if notch is None else notch.process(samples))
    if notch is not None:
        tracker.feed(notch.flush())
    tracker.close(tracker.last_active + tracker.pad)
    return tracker.segments
