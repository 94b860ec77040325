import json

import numpy as np
import pytest
import soundfile
import torch

from workbench import cli, tasks
from workbench.errors import ConfigError
from workbench.tasks import timeline as timeline_module
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


def test_a_frames_head_labels_a_long_region_in_passes_that_hear_context_on_each_side(frames_run, tmp_path, monkeypatch):
    bundle = tasks.load(frames_run.bundle_dir)
    step, rate = bundle.model.step_samples(), bundle.cfg.features.sample_rate     # the model's rate, not the file's
    heard = []                          # the length of every clip a pass hears
    real = timeline_module.step_probabilities_and_novelty
    monkeypatch.setattr(timeline_module, "step_probabilities_and_novelty",
                        lambda b, clip: heard.append(len(clip)) or real(b, clip))
    run = [("low", 1.0), ("high", 0.8), ("mid", 1.2), ("low", 0.9), ("high", 1.1)]      # 5 s with no silence
    audio = np.concatenate([tone(TONES_HZ[label], s, seed=7) for label, s in run])
    soundfile.write(tmp_path / "run.wav", audio, SAMPLE_RATE)

    def labelled(cfg):
        heard.clear()
        segments = timeline(bundle, tmp_path / "run.wav", cfg)
        assert segments[0].start_s == 0.0 and segments[-1].end_s == pytest.approx(5.0, abs=1e-6)
        assert all(a.end_s == b.start_s for a, b in zip(segments, segments[1:]))       # every step labelled once
        return segments

    whole = labelled(TimelineConfig(gate=False, steps_window_s=6.0))                    # one pass
    samples = round(5.0 * rate)
    assert heard == [samples] and [s.label for s in whole] == [label for label, _ in run]

    segments = labelled(TimelineConfig(gate=False, steps_window_s=1.0, context_s=0.5, chunk_s=0.7))
    window, context = step * round(rate / step), step * (rate // 2 // step)
    assert heard[0] == window + context                 # the first pass: nothing before the file's start
    assert set(heard[1:-1]) == {window + 2 * context}   # then the pass and its context on both sides
    assert heard[-1] == samples - (len(heard) - 1) * window + context        # the rest, heard from before it
    assert [s.label for s in segments] == [label for label, _ in run]
    for a, b in zip(segments, whole):
        assert abs(a.end_s - b.end_s) <= step / rate + 1e-9

    labelled(TimelineConfig(gate=False, steps_window_s=4.7, context_s=0.5))           # 4.7 s and its context: one pass
    assert heard == [samples]
    with pytest.raises(ConfigError, match="context_s=-0.1 must not be negative"):
        TimelineConfig(context_s=-0.1)
    with pytest.raises(ConfigError, match="steps_window_s=0 must be positive"):
        TimelineConfig(steps_window_s=0)


def test_a_long_region_is_streamed_in_constant_memory(tone_run, frames_run, tmp_path, monkeypatch):
    audio = np.concatenate([tone(TONES_HZ[label], 1.0, seed=i) for i, label in enumerate(["low", "mid", "high"] * 10)])
    soundfile.write(tmp_path / "long.wav", audio, SAMPLE_RATE)                    # 30 s with no silence
    largest = []
    feed = timeline_module._Tracker.feed

    def watched(tracker, chunk):
        feed(tracker, chunk)
        largest.append(len(tracker.buf))

    monkeypatch.setattr(timeline_module._Tracker, "feed", watched)
    for run, cfg in ((tone_run, TimelineConfig(gate=False, chunk_s=1.0)),
                     (frames_run, TimelineConfig(gate=False, chunk_s=1.0, steps_window_s=2.0, context_s=0.5))):
        largest.clear()
        segments = timeline(tasks.load(run.bundle_dir), tmp_path / "long.wav", cfg)
        assert len(segments) >= 25
        # a chunk, plus at most a window and what it hears around it
        rate = tasks.load(run.bundle_dir).cfg.features.sample_rate
        assert max(largest) <= rate * (cfg.chunk_s + 3.0)


def test_among_joined_segments_a_less_sure_word_is_kept_and_a_flicker_or_a_lone_one_is_not(frames_run, tmp_path,
                                                                                          monkeypatch):
    bundle = tasks.load(frames_run.bundle_dir)
    step, rate = bundle.model.step_samples(), bundle.cfg.features.sample_rate
    labels = bundle.labels                                   # the network is replaced: these steps' probabilities
    plan = {}                                                # clip length -> each step's (label, probability)

    def fake(b, clip):
        steps = plan[len(clip)]
        probs = torch.full((len(steps), len(labels)), 0.0)
        for i, (label, p) in enumerate(steps):
            probs[i] = (1 - p) / (len(labels) - 1)
            probs[i, labels.index(label)] = p
        return probs, None

    monkeypatch.setattr(timeline_module, "step_probabilities_and_novelty", fake)
    soundfile.write(tmp_path / "two.wav", tone(TONES_HZ["low"], 2.0, seed=3), SAMPLE_RATE)
    count = -(-2 * rate // step)
    cfg = TimelineConfig(gate=False, smooth_steps=1)
    a, b = labels[0], labels[1]

    def labelled(steps):
        plan[2 * rate] = steps
        return [(s.label, round(s.confidence, 2)) for s in timeline(bundle, tmp_path / "two.wav", cfg)]

    half = count // 2
    assert labelled([(a, 0.9)] * half + [(b, 0.4)] * (count - half)) == [(a, 0.9), (b, 0.4)]   # a word among words
    assert labelled([(b, 0.4)] * count) == []                                                    # alone: unsure
    assert labelled([(a, 0.9)] * (count - 2) + [(b, 0.4)] * 2) == [(a, 0.9)]                    # 2 steps: a flicker
    # a segment of one step (80 ms: a flicker more often than a word) is kept only when quite sure
    assert labelled([(a, 0.9)] * (count - 1) + [(b, 0.55)]) == [(a, 0.9)]
    assert labelled([(a, 0.9)] * (count - 1) + [(b, 0.7)]) == [(a, 0.9), (b, 0.7)]
    cfg = TimelineConfig(gate=False, smooth_steps=1, joined_min_confidence=0.45)
    assert labelled([(a, 0.9)] * half + [(b, 0.4)] * (count - half)) == [(a, 0.9)]             # below the bar
    with pytest.raises(ConfigError, match="joined_min_confidence=1.5 must be in"):
        TimelineConfig(joined_min_confidence=1.5)
    with pytest.raises(ConfigError, match="brief_s=-1"):
        TimelineConfig(brief_s=-1)


@pytest.mark.parametrize("run", ["tone_run", "frames_run"])
def test_a_model_that_warns_of_steady_tones_drops_them_where_it_finds_them_unusual(run, long_file, request,
                                                                                  monkeypatch):
    # the tone models' own classes are steady tones, and these (2% sharp, in noise) are unusual to them (novelty 2
    # to 32): a model of speech, which sets warn_steady_tone, drops them from its timeline
    import dataclasses
    bundle = tasks.load(request.getfixturevalue(run).bundle_dir)
    assert [s.label for s in timeline(bundle, long_file[0])] == SEQUENCE               # the check is the model's choice
    warns = dataclasses.replace(bundle, cfg=dataclasses.replace(bundle.cfg, warn_steady_tone=True))
    assert timeline(warns, long_file[0]) == []
    assert [s.label for s in timeline(warns, long_file[0], TimelineConfig(skip_novel=False))] == SEQUENCE  # --keep-novel
    # a segment the model finds usual is not searched for a tone
    monkeypatch.setattr(timeline_module, "VOICELESS_NOVELTY", 100.0)
    assert [s.label for s in timeline(warns, long_file[0])] == SEQUENCE
