"""A timeline over words among other sounds: which words it finds and labels, which other sounds get a segment.

    python -m recipes.timeline_mixes --model DIR --data PATH/TO/fsdd [--speakers theo] [--mixes 3] [--json]
        [--novelty-threshold T] [--set min_confidence=0.4 skip_novel=false ...]

Builds `--mixes` recordings of 30 FSDD words (from `--speakers`, all by default: a fold model of
`recipes.digit_sweep` should get only the speaker it never heard) and 30 other sounds (`make_other_sounds` at
`--seed`: 10 beeps, 10 snippets of music, 10 knocks) in random order, each word peaking at 0.1 to 0.9 as the other
sounds do, 0.6 to 1.2 s apart, over noise at -50 dBFS, and runs `workbench classify --timeline`'s timeline over
each. A word is found when a segment overlaps it by more than 50 ms, and labelled right when a segment with its
label covers its midpoint; another sound "gets a segment" when a segment overlaps it by more than 50 ms; segments
overlapping nothing are counted as extra, and so are a word's segments past its first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from recipes.digit_novelty import make_other_sounds
from workbench.config import apply_overrides
from workbench.data import find_examples
from workbench.media import load_audio
from workbench.tasks import classify
from workbench.tasks.timeline import Segment, TimelineConfig, timeline

SAMPLE_RATE = 8000
OTHER_KINDS = ("beeps", "music", "knocks")
OVERLAP_S = 0.05
WORDS_PER_MIX = 30


@dataclass(frozen=True)
class Item:
    kind: str            # "word" or one of OTHER_KINDS
    label: str | None    # a word's digit
    start_s: float
    end_s: float


def make_mix(words: list[Path], labels: list[str], others: dict[str, list[Path]], rng: np.random.Generator,
             per_kind: int = 10) -> tuple[np.ndarray, list[Item]]:
    """One recording (samples,) of these words and `per_kind` of each other kind, shuffled, with what is where."""
    pieces = [("word", label, path) for label, path in zip(labels, words)]
    pieces += [(kind, None, path) for kind in OTHER_KINDS
               for path in rng.choice(others[kind], per_kind, replace=False)]
    order = rng.permutation(len(pieces))
    parts, items, at = [np.zeros(int(0.5 * SAMPLE_RATE), np.float32)], [], int(0.5 * SAMPLE_RATE)
    for i in order:
        kind, label, path = pieces[i]
        clip = load_audio(path, sample_rate=SAMPLE_RATE, mono=True).waveform[0].numpy()
        if kind == "word":          # at a peak level drawn as the other sounds' are
            clip = clip / (np.abs(clip).max() + 1e-9) * rng.uniform(0.1, 0.9)
        gap = np.zeros(int(rng.uniform(0.6, 1.2) * SAMPLE_RATE), np.float32)
        items.append(Item(kind, label, at / SAMPLE_RATE, (at + len(clip)) / SAMPLE_RATE))
        parts += [clip, gap]
        at += len(clip) + len(gap)
    audio = np.concatenate(parts)
    return audio + rng.normal(0, 10 ** (-50 / 20), len(audio)).astype(np.float32), items


def score(segments: list[Segment], items: list[Item]) -> dict:
    """Words found and labelled right, other sounds with a segment (per kind), and extra segments."""
    def over(s: Segment, item: Item) -> bool:
        return min(s.end_s, item.end_s) - max(s.start_s, item.start_s) > OVERLAP_S

    words = [item for item in items if item.kind == "word"]
    on_words = [[s for s in segments if over(s, w)] for w in words]
    right = sum(any(s.label == w.label and s.start_s <= (w.start_s + w.end_s) / 2 <= s.end_s for s in on)
                for w, on in zip(words, on_words))
    row = {"words": len(words), "found": sum(bool(on) for on in on_words), "right": right}
    for kind in OTHER_KINDS:
        row[kind] = sum(any(over(s, item) for s in segments) for item in items if item.kind == kind)
    row["extra"] = (sum(not any(over(s, item) for item in items) for s in segments)
                    + sum(max(0, len(on) - 1) for on in on_words))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a classifier bundle (or run directory)")
    parser.add_argument("--data", required=True, help="FSDD folder (holding recordings/) or the recordings folder")
    parser.add_argument("--speakers", default=None, help="the words' speakers, comma-separated (default: all)")
    parser.add_argument("--mixes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--novelty-threshold", type=float, default=None,
                        help="drop segments above this novelty instead of the bundle's own novelty_threshold")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="TimelineConfig fields")
    parser.add_argument("--model-set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="the bundle's ClassifyConfig fields for this run, e.g. warn_steady_tone=true")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    cfg = apply_overrides(TimelineConfig(), args.set)
    examples = find_examples(args.data)
    if args.speakers:
        examples = [e for e in examples if e.group in args.speakers.split(",")]
    if len(examples) < WORDS_PER_MIX:
        parser.error(f"{args.data}: {len(examples)} recordings of speakers {args.speakers or 'any'}; a mix takes "
                     f"{WORDS_PER_MIX}")
    bundle = classify.load(args.model)
    model_cfg = apply_overrides(bundle.cfg, args.model_set)
    if args.novelty_threshold is not None:
        model_cfg = dataclasses.replace(model_cfg, novelty_threshold=args.novelty_threshold)
    bundle = dataclasses.replace(bundle, cfg=model_cfg)
    rng = np.random.default_rng(args.seed)
    total: dict = {}
    seconds = audio_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        others = make_other_sounds(Path(tmp) / "sounds", seed=args.seed, kinds=OTHER_KINDS)
        for i in range(args.mixes):
            chosen = rng.choice(len(examples), WORDS_PER_MIX, replace=False)
            audio, items = make_mix([Path(examples[j].path) for j in chosen], [examples[j].label for j in chosen],
                                    others, rng)
            path = Path(tmp) / f"mix_{i}.wav"
            soundfile.write(path, audio, SAMPLE_RATE)
            start = time.perf_counter()
            segments = timeline(bundle, path, cfg)
            seconds += time.perf_counter() - start
            audio_s += len(audio) / SAMPLE_RATE
            for key, value in score(segments, items).items():
                total[key] = total.get(key, 0) + value
    total.update(audio_s=round(audio_s, 1), x_realtime=round(audio_s / seconds, 1))
    print(json.dumps(total) if args.json else
          f"words: {total['found']} of {total['words']} found, {total['right']} labelled right; other sounds with a "
          f"segment: " + ", ".join(f"{kind} {total[kind]} of {10 * args.mixes}" for kind in OTHER_KINDS)
          + f"; extra segments {total['extra']}; {total['audio_s']} s of audio at {total['x_realtime']}x real time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
