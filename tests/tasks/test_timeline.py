import json

import numpy as np
import pytest
import soundfile

from workbench import cli, tasks
from workbench.errors import ConfigError
from workbench.tasks.timeline import TimelineConfig, timeline

from tests.tasks.conftest import SAMPLE_RATE, TONES_HZ, tone

SEQUENCE = ["low", "high", "mid", "mid", "low"]


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    """Tones separated by 0.7 s of quiet noise; returns the path and the true (start, end, label)."""
    rng = np.random.default_rng(0)
    parts, truth, t = [np.zeros(int(0.5 * SAMPLE_RATE), np.float32)], [], 0.5
    for i, label in enumerate(SEQUENCE):
        clip = tone(TONES_HZ[label] * 1.02, 0.4, seed=50 + i)
        parts += [clip, np.zeros(int(0.7 * SAMPLE_RATE), np.float32)]
        truth.append((t, t + 0.4, label))
        t += 0.4 + 0.7
    audio = np.concatenate(parts)
    audio += 0.002 * rng.standard_normal(len(audio)).astype(np.float32)
    path = tmp_path_factory.mktemp("timeline") / "sequence.flac"
    soundfile.write(path, audio, SAMPLE_RATE)
    return path, truth


def test_timeline_finds_each_tone_in_order_at_the_right_time(tone_run, long_file):
    path, truth = long_file
    segments = timeline(tasks.load(tone_run.bundle_dir), path, TimelineConfig(chunk_s=0.75))  # chunks split tones
    assert [s.label for s in segments] == SEQUENCE
    for seg, (start, end, _) in zip(segments, truth):
        assert abs(seg.start_s - start) < 0.1 and abs(seg.end_s - end) < 0.1
        assert 0.5 <= seg.confidence <= 1.0


def test_chunk_size_does_not_change_the_timeline(tone_run, long_file):
    bundle = tasks.load(tone_run.bundle_dir)
    a = timeline(bundle, long_file[0], TimelineConfig(chunk_s=0.33))
    b = timeline(bundle, long_file[0], TimelineConfig(chunk_s=30.0))
    assert [(s.label, round(s.start_s, 3), round(s.end_s, 3)) for s in a] == [(s.label, round(s.start_s, 3), round(s.end_s, 3)) for s in b]


def test_without_the_gate_sliding_windows_cover_the_whole_file(tone_run, long_file):
    segments = timeline(tasks.load(tone_run.bundle_dir), long_file[0], TimelineConfig(gate=False, min_confidence=0.0))
    assert segments[0].start_s == 0.0
    assert segments[-1].end_s == pytest.approx(0.5 + len(SEQUENCE) * 1.1, abs=0.02)
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(segments, segments[1:]))


def test_silence_gives_no_segments(tone_run, tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(3 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    assert timeline(tasks.load(tone_run.bundle_dir), path) == []


def test_bad_timeline_config_is_an_error():
    with pytest.raises(ConfigError):
        TimelineConfig(window_s=0.5, hop_s=1.0)
    with pytest.raises(ConfigError, match="smooth_steps"):
        TimelineConfig(smooth_steps=2)


def test_cli_timeline_prints_one_json_line_per_file(tone_run, long_file, capsys):
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--timeline", "--json", str(long_file[0])]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert [s["label"] for s in record["segments"]] == SEQUENCE
    assert set(record["segments"][0]) == {"start_s", "end_s", "label", "confidence", "novelty"}


def test_a_frames_head_model_learns_from_clip_labels_and_labels_every_step_of_the_timeline(frames_run, long_file,
                                                                                          tmp_path):
    bundle = tasks.load(frames_run.bundle_dir)
    assert frames_run.test.accuracy >= 0.9            # one label per clip: the mean of its steps'
    path, truth = long_file
    segments = timeline(bundle, path)
    assert [s.label for s in segments] == SEQUENCE
    for seg, (start, end, _) in zip(segments, truth):
        assert abs(seg.start_s - start) < 0.1 and abs(seg.end_s - end) < 0.1

    # tones back to back, no silence between them: the steps' labels find where one ends and the next starts
    run = [("low", 1.0), ("high", 0.8), ("mid", 1.2)]
    soundfile.write(tmp_path / "run.wav", np.concatenate([tone(TONES_HZ[label], s, seed=7) for label, s in run]),
                    SAMPLE_RATE)
    segments = timeline(bundle, tmp_path / "run.wav", TimelineConfig(gate=False, window_s=2.0))
    assert [s.label for s in segments] == [label for label, _ in run]
    assert segments[0].end_s == pytest.approx(1.0, abs=0.15) and segments[1].end_s == pytest.approx(1.8, abs=0.15)
