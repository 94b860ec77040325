"""Connected digits: how well a timeline finds words spoken with no pause between them.

    python -m recipes.connected_digits SWEEP [SWEEP ...] --data PATH/TO/fsdd --speakers theo,nicolas [--smooth-steps N]
        [--set steps_window_s=3 context_s=0.5 ...] [--json]

(a sweep without a fold model for a speaker is left out for that speaker).

For each held-out speaker, 60 recordings are made of 3 or 4 of that speaker's FSDD words spliced end to
end (each word at the same peak level, 0.3 s of silence at the start and end, noise at -60 dBFS), and
each `recipes.digit_sweep` run's fold model for that speaker (trained without them) makes a timeline of
each. A word counts as found when a segment with its label covers the word's midpoint. The gate finds
no silence between the words, so a sliding-window model labels the run of words as one or two segments
and a model with the many-to-many "frames" head (a label per step) is the one that can split them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from recipes.digit_sweep import add_fold_model_arguments, fold_model
from workbench.config import apply_overrides
from workbench.data import Example, find_examples
from workbench.media import load_audio
from workbench.tasks import classify
from workbench.tasks.timeline import Segment, TimelineConfig, timeline

SAMPLE_RATE = 8000


@dataclass(frozen=True)
class Sequence:
    waveform: np.ndarray                     # (samples,) at SAMPLE_RATE
    words: list[tuple[str, float, float]]    # label, start_s, end_s


def make_sequences(examples: list[Example], count: int = 60, seed: int = 0) -> list[Sequence]:
    """`count` recordings of 3 or 4 of these examples' words each, spliced with no pause between them."""
    rng = np.random.default_rng(seed)
    edge = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    sequences = []
    for _ in range(count):
        parts, words, at = [edge], [], len(edge)
        for i in rng.choice(len(examples), int(rng.integers(3, 5)), replace=False):
            word = load_audio(examples[i].path, sample_rate=SAMPLE_RATE, mono=True).waveform[0].numpy()
            word = 0.5 * word / (np.abs(word).max() + 1e-9)
            words.append((examples[i].label, at / SAMPLE_RATE, (at + len(word)) / SAMPLE_RATE))
            parts.append(word)
            at += len(word)
        waveform = np.concatenate(parts + [edge])
        sequences.append(Sequence(waveform + rng.normal(0, 1e-3, len(waveform)).astype(np.float32), words))
    return sequences


def words_found(segments: list[Segment], words: list[tuple[str, float, float]]) -> int:
    """How many words a segment with the word's label covers at the word's midpoint."""
    return sum(any(s.start_s <= (start + end) / 2 <= s.end_s and s.label == label for s in segments)
               for label, start, end in words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_fold_model_arguments(parser)
    parser.add_argument("--smooth-steps", type=int, default=TimelineConfig.smooth_steps,
                        help="frames head: steps each step's probabilities are averaged over (TimelineConfig.smooth_steps)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="TimelineConfig fields")
    parser.add_argument("--model-set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="the fold models' ClassifyConfig fields for this run, e.g. warn_steady_tone=true")
    parser.add_argument("--json", action="store_true", help="one JSON object per speaker and sweep")
    args = parser.parse_args(argv)
    cfg = apply_overrides(TimelineConfig(smooth_steps=args.smooth_steps), args.set)
    examples = find_examples(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        for speaker in args.speakers.split(","):
            if len(own := [e for e in examples if e.group == speaker]) < 4:        # a sequence takes up to 4 words
                parser.error(f"{args.data}: {len(own)} recordings of speaker {speaker}; a sequence takes 4")
            sequences = make_sequences(own)
            paths = [Path(tmp) / f"{speaker}_{i:02d}.wav" for i in range(len(sequences))]
            for path, sequence in zip(paths, sequences):     # the timeline reads files, as a user's would be
                soundfile.write(path, sequence.waveform, SAMPLE_RATE)
            total = sum(len(s.words) for s in sequences)
            for sweep in args.sweeps:
                if (model_dir := fold_model(Path(args.runs), sweep, speaker)) is None:   # a sweep over some speakers
                    continue
                bundle = classify.load(model_dir)
                bundle = dataclasses.replace(bundle, cfg=apply_overrides(bundle.cfg, args.model_set))
                found = sum(words_found(timeline(bundle, path, cfg), s.words)
                            for path, s in zip(paths, sequences))
                row = {"speaker": speaker, "sweep": sweep, "head": bundle.cfg.model.head, "found": found, "words": total}
                print(json.dumps(row) if args.json else f"{speaker:9s} {sweep:16s} ({row['head']} head): "
                                                        f"{found}/{total} words found ({found / total:.3f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
