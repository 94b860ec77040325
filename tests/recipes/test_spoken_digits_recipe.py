"""recipes/spoken_digits.py: what goes into the shipped model's card."""

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from recipes.spoken_digits import (loso_conditions, loso_confidence, loso_markdown, recipe_config, record_in,
                                   top_confusions)
from workbench import tasks
from workbench.data import Example
from workbench.tasks import classify

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def test_top_confusions_lists_the_most_frequent_errors_first():
    confusion = [[8, 2, 0], [0, 5, 5], [1, 0, 9]]           # rows: true label
    assert top_confusions(confusion, ["a", "b", "c"], k=2) == [
        {"true": "b", "predicted": "c", "count": 5, "of": 10},
        {"true": "a", "predicted": "b", "count": 2, "of": 10},
    ]
    assert top_confusions([[3, 0], [0, 4]], ["a", "b"]) == []   # no errors, nothing listed


def test_loso_table_has_every_speaker_the_mean_and_the_limits():
    loso = {"speakers": {"ann": {"n": 10, "accuracy": 0.9, "macro_f1": 0.88,
                                 "confusions": [{"true": "1", "predicted": "7", "count": 1, "of": 5}]},
                         "bob": {"n": 10, "accuracy": 0.7, "macro_f1": 0.65}},
            "mean_accuracy": 0.8, "min_accuracy": 0.7}
    text = loso_markdown(loso)
    assert "| ann | 10 | 0.9000 | 0.8800 | 1 → 7 (1 of 5) |" in text
    assert "| bob | 10 | 0.7000 | 0.6500 |  |" in text
    assert "**0.8000**" in text and "## Limits" in text


def test_the_shipped_model_was_made_by_this_recipe():
    bundle = tasks.load(ASSETS / "models" / "spoken-digits")
    assert bundle.cfg == recipe_config(bundle.cfg.train.epochs)   # same features, network, training and averaging


def test_the_loso_card_shows_the_confidence_table_when_there_is_one():
    loso = {"speakers": {"ann": {"n": 4, "accuracy": 0.75, "macro_f1": 0.7}}, "mean_accuracy": 0.75, "min_accuracy": 0.75,
            "confidence": {"n": 4, "bins": classify.confidence_bins([0.4, 0.92, 0.97, 0.99], [False, True, True, True])}}
    text = loso_markdown(loso)
    assert "| below 0.5 | 0.250 | 0.0000 |" in text and "| 0.5 to 0.7 | 0.000 | n/a |" in text
    assert "| 0.9 or more | 0.750 | 1.0000 |" in text and text.index("0.9 or more") < text.index("## Limits")
    assert "| top probability |" not in loso_markdown({**loso, "confidence": None})


def test_loso_confidence_classifies_each_speaker_with_its_own_fold_model(tmp_path):
    samples = sorted((ASSETS / "samples").glob("digit_*_*_*.wav"))      # digit_<label>_<speaker>_<n>.wav
    examples = [Example(str(p), p.stem.split("_")[1], p.stem.split("_")[2]) for p in samples]
    speakers = sorted({e.group for e in examples})
    assert loso_confidence(tmp_path, examples, speakers) is None           # no fold models: no table
    for speaker in speakers:
        shutil.copytree(ASSETS / "models" / "spoken-digits", tmp_path / f"loso-{speaker}" / "model")
    bundle = tasks.load(ASSETS / "models" / "spoken-digits")
    direct = [classify.predict(bundle, e.path) for e in examples]
    table = loso_confidence(tmp_path, examples, speakers)
    assert table["n"] == len(examples) == 10
    assert sum(r["share"] for r in table["bins"]) == pytest.approx(1.0)
    confident = sum(max(d.probabilities.values()) >= 0.9 for d in direct)
    assert table["bins"][-1]["share"] == pytest.approx(confident / 10)
    right = sum(d.label == e.label for d, e in zip(direct, examples) if max(d.probabilities.values()) >= 0.9)
    assert table["bins"][-1]["accuracy"] == pytest.approx(right / confident)


def test_record_in_pads_with_silence_or_noise_at_the_words_own_snr():
    word = 0.3 * torch.sin(2 * math.pi * 440 * torch.arange(4000) / 8000)     # 0.5 s
    quiet = record_in(word, 8000, 0.75, None, seed=0)
    assert quiet.shape[0] == 4000 + 2 * 6000
    torch.testing.assert_close(quiet[6000:10000], word)
    assert quiet[:6000].abs().max() == 0 and quiet[10000:].abs().max() == 0
    noisy = record_in(word, 8000, 0.75, 20.0, seed=3)
    noise = noisy - quiet
    snr_db = 10 * torch.log10(word.pow(2).mean() / noise.pow(2).mean())
    assert float(snr_db) == pytest.approx(20.0, abs=0.2)                     # against the word, not the padded clip
    torch.testing.assert_close(noisy, record_in(word, 8000, 0.75, 20.0, seed=3))   # the same noise for every model
    assert not torch.allclose(noisy, record_in(word, 8000, 0.75, 20.0, seed=4))
    torch.testing.assert_close(record_in(word, 8000, 0.0, None, seed=0), word)


def test_loso_conditions_tests_each_fold_model_in_each_recording_condition(tmp_path):
    samples = sorted((ASSETS / "samples").glob("digit_*_*_*.wav"))
    examples = [Example(str(p), p.stem.split("_")[1], p.stem.split("_")[2]) for p in samples]
    speakers = sorted({e.group for e in examples})
    conditions = (("as recorded", 0.0, None, None), ("drowned", 0.5, -20.0, None))
    assert loso_conditions(tmp_path, examples, speakers, conditions) is None    # no fold models: no table
    for speaker in speakers:
        shutil.copytree(ASSETS / "models" / "spoken-digits", tmp_path / f"loso-{speaker}" / "model")
    table = loso_conditions(tmp_path, examples, speakers, conditions)["conditions"]
    bundle = tasks.load(ASSETS / "models" / "spoken-digits")
    for speaker in speakers:
        own = [e for e in examples if e.group == speaker]
        direct = sum(classify.predict(bundle, e.path).label == e.label for e in own) / len(own)
        assert table[0]["speakers"][speaker] == pytest.approx(direct)           # as recorded: what classify says
    assert table[0]["accuracy"] == pytest.approx(sum(table[0]["speakers"].values()) / len(speakers))
    assert table[1]["accuracy"] < table[0]["accuracy"]                          # noise 20 dB above the word hurts
    loso = {"speakers": {s: {"n": 5, "accuracy": 1.0, "macro_f1": 1.0} for s in speakers}, "mean_accuracy": 1.0,
            "min_accuracy": 1.0, "conditions": {"conditions": table}}
    text = loso_markdown(loso)
    assert f"| drowned | {table[1]['speakers'][speakers[0]]:.3f} |" in text
    assert text.index("| recording |") < text.index("## Limits")


def test_room_responses_are_deterministic_rooms_of_the_asked_reverberation_time():
    from recipes.spoken_digits import room_responses
    short, long = room_responses(0.3, 8000, num=3, seed=1), room_responses(0.6, 8000, num=3, seed=1)
    assert len(short) == 3 and all(abs(float(np.linalg.norm(r)) - 1.0) < 1e-9 for r in short)
    for a, b in zip(short, room_responses(0.3, 8000, num=3, seed=1)):
        np.testing.assert_array_equal(a, b)

    def decay_s(response):                 # Schroeder's backward integral: time from -5 dB to -25 dB, times 3
        energy = np.cumsum(response[::-1] ** 2)[::-1]
        db = 10 * np.log10(energy / energy[0])
        return 3 * (np.argmax(db < -25) - np.argmax(db < -5)) / 8000

    assert np.mean([decay_s(r) for r in long]) > 1.4 * np.mean([decay_s(r) for r in short])
    assert 0.1 < np.mean([decay_s(r) for r in short]) < 0.6
    word = 0.3 * torch.sin(2 * math.pi * 440 * torch.arange(4000) / 8000)
    wet = record_in(word, 8000, 0.0, None, seed=0, room=short[0])
    assert wet.shape[0] == 4000 + short[0].shape[0] - 1
    assert float(wet.abs().max()) == pytest.approx(0.3, rel=1e-5)          # at the clip's old peak


def test_record_in_clips_a_loud_recording_and_adds_an_offset():
    word = 0.3 * torch.sin(2 * math.pi * 440 * torch.arange(4000) / 8000)
    clipped = record_in(word, 8000, 0.0, None, seed=0, clip_db=12.0)
    assert float(clipped.abs().max()) == pytest.approx(0.3, rel=1e-5)                 # at the clip's old peak
    assert float((clipped.abs() > 0.299).float().mean()) > 0.5                         # but flat-topped
    offset = record_in(word, 8000, 0.25, None, seed=0, offset=0.2)
    assert offset.shape[0] == 4000 + 2 * 2000
    assert float(offset[:2000].min()) == pytest.approx(0.06) == float(offset[:2000].max())   # silence at the offset
    torch.testing.assert_close(offset[2000:6000] - 0.06, word)
