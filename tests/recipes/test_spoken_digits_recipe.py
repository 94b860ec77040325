"""recipes/spoken_digits.py: what goes into the shipped model's card."""

from pathlib import Path

from recipes.spoken_digits import loso_markdown, recipe_config, top_confusions
from workbench import tasks


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
    bundle = tasks.load(Path(__file__).resolve().parents[2] / "assets" / "models" / "spoken-digits")
    assert bundle.cfg == recipe_config(bundle.cfg.train.epochs)   # same features, network, training and averaging
