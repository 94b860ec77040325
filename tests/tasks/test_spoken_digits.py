"""The shipped spoken-digit model (assets/models/spoken-digits) on the demo samples and real FSDD files."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from workbench import cli, tasks
from workbench.data import find_examples
from workbench.tasks import classify
from workbench.tasks.timeline import TimelineConfig, timeline
from recipes.digit_novelty import make_other_sounds
from recipes.timeline_tones import Condition, with_sound

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "assets" / "models" / "spoken-digits"
SAMPLES = REPO / "assets" / "samples"


@pytest.fixture(scope="module")
def digits():
    return tasks.load(MODEL)


def test_shipped_bundle_is_small_and_documented(digits):
    assert digits.labels == [str(d) for d in range(10)]
    assert (MODEL / "model.safetensors").stat().st_size <= 2 * 1024 * 1024
    card = (MODEL / "README.md").read_text()
    assert "CC BY-SA 4.0" in card and "Leave-one-speaker-out" in card
    loso = json.loads((MODEL / "metrics.json").read_text())["loso"]
    assert set(loso["speakers"]) == {"jackson", "nicolas", "theo", "yweweler", "lucas"}


def test_the_sample_clips_are_recognised(digits):
    clips = sorted(SAMPLES.glob("digit_*.wav"))
    assert len(clips) == 10
    heard = {clip.name: classify.predict(digits, clip).label for clip in clips}
    assert heard == {clip.name: clip.name.split("_")[1] for clip in clips}


def test_accuracy_on_a_fixed_set_of_fsdd_recordings(digits, fsdd_dir):
    # the official FSDD test takes (indices 0-4) of every digit and speaker: 250 files
    examples = [e for e in find_examples(fsdd_dir) if int(Path(e.path).stem.split("_")[2]) < 5]
    assert len(examples) == 250
    result = classify.evaluate(digits, examples)
    assert result.accuracy >= 0.98 and not result.failures


def test_timeline_of_the_long_sample_matches_the_spoken_digits(digits):
    truth = json.loads((SAMPLES / "digits_sequence.json").read_text())["segments"]
    segments = timeline(digits, SAMPLES / "digits_sequence.wav")
    assert len(segments) == len(truth)                      # every word found, nothing else
    assert [s.label for s in segments] == [true["label"] for true in truth]
    for seg, true in zip(segments, truth):
        assert abs(seg.start_s - true["start_s"]) < 0.15 and abs(seg.end_s - true["end_s"]) < 0.15


def test_one_label_for_the_long_sample_comes_with_a_warning_and_a_clip_without(digits):
    long = classify.predict(digits, SAMPLES / "digits_sequence.wav")
    assert long.duration_s > digits.cfg.max_duration_s and "timeline" in long.warning
    clip = classify.predict(digits, SAMPLES / "digit_0_jackson_0.wav")
    assert clip.label == "0" and clip.warning is None


def test_noise_with_no_word_is_labelled_with_a_warning_and_no_sample_clip_is(digits, tmp_path, capsys):
    # the shipped model calls a second of white noise "4" with probability 0.98: the label alone does not tell
    rng = np.random.default_rng(0)
    white = 0.05 * rng.standard_normal(44_100)
    pink = np.cumsum(rng.standard_normal(16_000))                   # brown, then whitened halfway: pink-ish
    pink = np.fft.irfft(np.fft.rfft(pink) * np.sqrt(np.arange(8_001) + 1.0), 16_000)
    soundfile.write(tmp_path / "white.flac", np.stack([white, white], axis=1).astype(np.float32), 44_100)
    soundfile.write(tmp_path / "pink.wav", (0.2 * pink / np.abs(pink).max()).astype(np.float32), 16_000)
    noisy = [tmp_path / "white.flac", tmp_path / "pink.wav"]
    clips = sorted(SAMPLES.glob("digit_*.wav"))
    assert cli.main(["classify", "--model", str(MODEL), "--json", *map(str, noisy + clips)]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    for record in records[:2]:
        assert record["label"] in digits.labels and "sounds like steady noise" in record["warning"]
        assert f"warning: {record['path']}: the clip sounds like steady noise" in captured.err
    assert [r.get("warning") for r in records[2:]] == [None] * len(clips)


def test_beeps_music_and_knocks_are_labelled_with_a_warning_and_fsdd_recordings_are_not(digits, fsdd_dir, tmp_path,
                                                                                         capsys):
    # the shipped model calls a beep "7" or "6" with probability up to 0.8: the label alone does not tell
    sounds = make_other_sounds(tmp_path, kinds=("beeps", "music", "knocks"))
    # measured with every warning (novelty 2.75, no voice, a steady tone): 0.97, 0.91, 0.84 (the model of 2026-11-27:
    # 0.96, 0.92, 0.82); by novelty alone 0.76, 0.48, 0.25
    for kind, least in (("beeps", 0.9), ("music", 0.85), ("knocks", 0.75)):
        outcomes = classify.predict_files(digits, sounds[kind])
        warned = [o.value.warning is not None for o in outcomes]
        assert np.mean(warned) >= least, kind
    examples = [e for e in find_examples(fsdd_dir) if int(Path(e.path).stem.split("_")[2]) < 5]
    outcomes = classify.predict_files(digits, [e.path for e in examples])
    assert sum(o.value.warning is not None for o in outcomes) <= 1          # 1 of all 2,500 measured
    assert all(o.value.novelty is not None and o.value.novelty < 2.5 for o in outcomes[:50])
    beep = sounds["beeps"][1]
    assert cli.main(["classify", "--model", str(MODEL), "--json", str(beep)]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert record["novelty"] > digits.cfg.novelty_threshold and "unlike anything the model was trained on" in record["warning"]
    assert f"warning: {beep}: the clip sounds unlike anything" in captured.err
    beep = sounds["beeps"][9]                              # not unusual enough for the novelty warning (2.52)
    assert cli.main(["classify", "--model", str(MODEL), "--json", str(beep)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["novelty"] < digits.cfg.novelty_threshold and "holds one pitch dead still" in record["warning"]


def test_the_timeline_drops_the_demo_videos_bounces_and_keeps_every_spoken_digit(digits):
    # three bounces of a ball, at 1, 2 and 3 s, each heard as a digit (at probability 0.5 to 0.6) when kept
    kept = timeline(digits, SAMPLES / "bouncing_ball.mp4", TimelineConfig(skip_novel=False, min_confidence=0.0))
    assert all(any(abs(s.start_s - bounce) < 0.1 for s in kept) for bounce in (1.0, 2.0, 3.0))
    assert all(s.novelty > digits.cfg.novelty_threshold for s in kept)
    assert timeline(digits, SAMPLES / "bouncing_ball.mp4") == []
    words = timeline(digits, SAMPLES / "digits_sequence.wav")
    assert len(words) == 10 and all(s.novelty < 1.0 for s in words)


def test_the_timeline_drops_knocks_between_words_that_hold_no_voice_and_keeps_every_word(digits, tmp_path):
    knocks = make_other_sounds(tmp_path, kinds=("knocks",))["knocks"]
    parts, spans, gap = [np.zeros(4000, np.float32)], [], np.zeros(6400, np.float32)
    for digit, knock in zip(sorted(SAMPLES.glob("digit_*.wav")), knocks):     # a word, a knock, a word ...
        for label, path in ((digit.name.split("_")[1], digit), (None, knock)):
            clip, _ = soundfile.read(path, dtype="float32")
            start_s = sum(map(len, parts)) / 8000
            spans.append((label, start_s, start_s + len(clip) / 8000))
            parts += [clip, gap]
    soundfile.write(tmp_path / "knocks.wav", np.concatenate(parts), 8000)

    def heard(bundle, cfg):      # the labels of the segments over each word or knock
        segments = timeline(bundle, tmp_path / "knocks.wav", cfg)
        return [(label, [s.label for s in segments if min(s.end_s, end) - max(s.start_s, start) > 0.05])
                for label, start, end in spans]

    novelty_only = dataclasses.replace(digits, cfg=dataclasses.replace(digits.cfg, warn_no_voice=False))
    knocks_heard = []
    for bundle, cfg in ((digits, TimelineConfig(skip_novel=False)), (novelty_only, TimelineConfig()),
                        (digits, TimelineConfig())):
        result = heard(bundle, cfg)
        assert all(label in labels for label, labels in result if label is not None)
        knocks_heard.append(sum(bool(labels) for label, labels in result if label is None))
    no_checks, novelty_check, both_checks = knocks_heard            # measured: 6, 5 and 0 of the 10 knocks (9, 4, 1 before splicing)
    assert no_checks >= 5 and both_checks <= 1 and both_checks < novelty_check <= no_checks


def _words_between(sounds: list[Path], path: Path) -> list[tuple[str | None, float, float]]:
    """A recording of the ten sample digits, each followed by one of `sounds` (0.8 s apart), written to `path`:
    each word's label (None for a sound) and where it is (s)."""
    parts, spans, gap = [np.zeros(4000, np.float32)], [], np.zeros(6400, np.float32)
    for digit, sound in zip(sorted(SAMPLES.glob("digit_*.wav")), sounds):
        for label, clip_path in ((digit.name.split("_")[1], digit), (None, sound)):
            clip, _ = soundfile.read(clip_path, dtype="float32")
            start_s = sum(map(len, parts)) / 8000
            spans.append((label, start_s, start_s + len(clip) / 8000))
            parts += [clip, gap]
    soundfile.write(path, np.concatenate(parts), 8000)
    return spans


def test_the_timeline_drops_beeps_and_music_between_words_that_hold_a_pitch_too_still_for_a_voice(digits, tmp_path):
    sounds = make_other_sounds(tmp_path, kinds=("beeps", "music"))
    no_tone = dataclasses.replace(digits, cfg=dataclasses.replace(digits.cfg, warn_steady_tone=False))
    heard = {(kind, tone): 0 for kind in ("beeps", "music") for tone in (False, True)}
    for kind in ("beeps", "music"):
        for first in (0, 10, 20):            # three recordings of ten words and ten sounds each
            spans = _words_between(sounds[kind][first:first + 10], tmp_path / f"{kind}.wav")
            for tone, bundle in ((False, no_tone), (True, digits)):
                segments = timeline(bundle, tmp_path / f"{kind}.wav")
                over = [(label, [s.label for s in segments if min(s.end_s, end) - max(s.start_s, start) > 0.05])
                        for label, start, end in spans]
                assert all(label in labels for label, labels in over if label is not None)    # every word, still
                heard[kind, tone] += sum(bool(labels) for label, labels in over if label is None)
    # measured: music 15 of 30 with a segment without the check, 5 with it; beeps 2 and 2, the model's novelty dropping
    # most of them already (the model of 2026-11-27, before the clipping in training: music 13 and 7, beeps 7 and 3)
    assert heard["music", False] >= 10 and heard["music", True] <= heard["music", False] * 2 // 3
    assert heard["beeps", True] <= min(heard["beeps", False], 3)


def _under_a_whine(path) -> np.ndarray:
    """A recording with a 1 kHz whine 10 dB under its own RMS, throughout (`recipes.timeline_tones.with_sound`)."""
    word, _ = soundfile.read(path, dtype="float32")
    return with_sound(word, Condition("whine", 1000.0, 10.0), float(np.sqrt(np.mean(word ** 2))),
                      np.random.default_rng(0))


def test_a_single_word_under_a_whine_is_notched_as_the_shipped_config_asks(digits, fsdd_dir):
    # the first take of every digit of every speaker (50 words), each under a 1 kHz whine 10 dB below it
    examples = [e for e in find_examples(fsdd_dir) if Path(e.path).stem.endswith("_0")]
    clips = [torch.from_numpy(_under_a_whine(e.path)) for e in examples]
    assert digits.cfg.notch_lines

    def right(notch: bool) -> int:
        bundle = dataclasses.replace(digits, cfg=dataclasses.replace(digits.cfg, notch_lines=notch))
        heard = classify.classify_waveforms(bundle, clips).argmax(1)
        return sum(digits.labels[int(i)] == e.label for i, e in zip(heard, examples))

    # measured: 46 of 50 with the notch, 38 without (and 236 against 170 over the 250 of the fixed set above)
    assert right(True) >= 44 and right(False) <= 41


def test_the_cli_notches_a_single_clip_unless_told_to_keep_the_lines(tmp_path, capsys):
    # measured: the sample "nine" under a 1 kHz whine 10 dB below it is "9" at 0.97 notched, "5" at 0.86 left in
    soundfile.write(tmp_path / "nine_whine.wav", _under_a_whine(SAMPLES / "digit_9_lucas_4.wav"), 8000)
    labels = []
    for extra in ([], ["--keep-lines"]):
        assert cli.main(["classify", "--model", str(MODEL), str(tmp_path / "nine_whine.wav"), "--json", *extra]) == 0
        labels.append(json.loads(capsys.readouterr().out)["label"])
    assert labels[0] == "9" and labels[1] != "9"
    # a beep alone is not notched into silence: it keeps the steady-tone warning, as it had before the notch
    t = np.arange(4000) / 8000
    soundfile.write(tmp_path / "beep.wav", (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), 8000)
    assert cli.main(["classify", "--model", str(MODEL), str(tmp_path / "beep.wav"), "--json"]) == 0
    assert "pitch dead still" in json.loads(capsys.readouterr().out)["warning"]


def test_the_timeline_hears_every_word_over_a_whine_that_it_notches_out(digits, tmp_path):
    parts, spans, gap = [np.zeros(4000, np.float32)], [], np.zeros(5600, np.float32)
    for digit in sorted(SAMPLES.glob("digit_*.wav")) * 2:                 # 20 words, 0.7 s apart
        clip, _ = soundfile.read(digit, dtype="float32")
        clip = 0.5 * clip / np.abs(clip).max()
        start_s = sum(map(len, parts)) / 8000
        spans.append((digit.name.split("_")[1], start_s + len(clip) / 16000))   # label, midpoint
        parts += [clip, gap]
    words = np.concatenate(parts)
    rms = np.sqrt(np.mean(np.concatenate(parts[1::2]) ** 2))
    whine = rms / 10 ** (10 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 1000 * np.arange(len(words)) / 8000)
    soundfile.write(tmp_path / "whine.wav", (words + whine).astype(np.float32), 8000)

    def right(cfg):
        segments = timeline(digits, tmp_path / "whine.wav", cfg)
        return sum(any(s.label == label and s.start_s <= mid <= s.end_s for s in segments) for label, mid in spans)

    # measured: 20 of 20 with the notch, 11 without (a whine 10 dB under the words' level, in their band)
    assert right(TimelineConfig()) == 20
    assert right(TimelineConfig(notch_lines=False)) <= 16


def test_the_timeline_hears_every_word_of_a_recording_with_a_dc_offset(digits, tmp_path):
    # an offset lifts every silent frame to its own energy: without the blocker the gate hears no silence, and the
    # whole file is one region (measured: no segment at all for the long sample with an offset of a fifth of its peak)
    words, rate = soundfile.read(SAMPLES / "digits_sequence.wav", dtype="float32")
    soundfile.write(tmp_path / "offset.wav", np.clip(words + 0.2 * np.abs(words).max(), -1, 1), rate)
    truth = [s["label"] for s in json.loads((SAMPLES / "digits_sequence.json").read_text())["segments"]]
    assert [s.label for s in timeline(digits, tmp_path / "offset.wav")] == truth
    assert [s.label for s in timeline(digits, tmp_path / "offset.wav", TimelineConfig(remove_dc=False))] != truth
