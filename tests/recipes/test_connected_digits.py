"""recipes/connected_digits.py: words spliced with no pause, and how many of them a timeline finds."""

import json
from pathlib import Path

import numpy as np
import pytest

from recipes.connected_digits import SAMPLE_RATE, main, make_sequences, words_found
from workbench.data import Example
from workbench.tasks.timeline import Segment

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


def test_sequences_hold_their_words_end_to_end_where_they_say():
    examples = [Example(str(p), p.stem.split("_")[1], p.stem.split("_")[2]) for p in sorted(SAMPLES.glob("digit_*.wav"))]
    sequences = make_sequences(examples, count=5, seed=1)
    assert len(sequences) == 5
    for sequence in sequences:
        assert 3 <= len(sequence.words) <= 4
        assert sequence.words[0][1] == 0.3
        assert all(a[2] == b[1] for a, b in zip(sequence.words, sequence.words[1:]))     # no pause between words
        assert len(sequence.waveform) == round((sequence.words[-1][2] + 0.3) * SAMPLE_RATE)
        first = sequence.waveform[int(0.3 * SAMPLE_RATE):int(sequence.words[0][2] * SAMPLE_RATE)]
        assert abs(np.abs(first).max() - 0.5) < 0.01                                      # each word peaks at 0.5


def test_a_word_is_found_only_by_a_segment_with_its_label_over_its_midpoint():
    words = [("3", 0.0, 0.4), ("8", 0.4, 0.8), ("1", 0.8, 1.0)]
    segments = [Segment(0.0, 0.5, "3", 0.9), Segment(0.5, 0.75, "0", 0.6), Segment(0.75, 1.0, "1", 0.8)]
    assert words_found(segments, words) == 2
    assert words_found([Segment(0.0, 1.0, "3", 0.9)], words) == 1
    assert words_found([], words) == 0


def test_main_reports_each_sweeps_fold_model(tmp_path, capsys, fsdd_dir):
    model = tmp_path / "runs" / "shipped" / "theo" / "model"
    model.parent.mkdir(parents=True)
    model.symlink_to(Path(__file__).resolve().parents[2] / "assets" / "models" / "spoken-digits")
    assert main(["shipped", "--data", str(fsdd_dir), "--runs", str(tmp_path / "runs"), "--speakers", "theo",
                 "--json"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["speaker"] == "theo" and row["head"] == "frames" and 0 < row["found"] < row["words"]
    # the timeline before 2026-11-27: 1 s windows end to end, a word cut in two at each window's edge
    assert main(["shipped", "--data", str(fsdd_dir), "--runs", str(tmp_path / "runs"), "--speakers", "theo",
                 "--json", "--set", "steps_window_s=1", "context_s=0"]) == 0
    cut = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert cut["words"] == row["words"] and cut["found"] < row["found"]        # measured: 178 against 184 of 208


def test_a_speaker_without_recordings_is_a_usage_error_naming_them(tmp_path, capsys, fsdd_dir):
    with pytest.raises(SystemExit) as exit_info:
        main(["shipped", "--data", str(fsdd_dir), "--runs", str(tmp_path), "--speakers", "nobody"])
    assert exit_info.value.code == 2 and "0 recordings of speaker nobody" in capsys.readouterr().err
