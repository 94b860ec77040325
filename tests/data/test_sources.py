import json

import pytest

from workbench.data import Example, find_examples, labels_of, leave_one_group_out, media_files, split_by_group
from workbench.errors import ConfigError


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")
    return path


def test_fsdd_names_give_label_and_speaker(fsdd_dir):
    examples = find_examples(fsdd_dir)
    assert len(examples) == 2500
    assert labels_of(examples) == [str(d) for d in range(10)]
    first = next(e for e in examples if e.path.endswith("7_jackson_32.wav"))
    assert (first.label, first.group) == ("7", "jackson")
    # the parent folder (holding recordings/) is accepted too
    assert len(find_examples(fsdd_dir.parent)) == 2500


def test_folder_per_class(tmp_path):
    _touch(tmp_path / "dog" / "a.wav")
    _touch(tmp_path / "dog" / "sub" / "b.flac")
    _touch(tmp_path / "cat" / "c.mp3")
    _touch(tmp_path / "cat" / "notes.txt")
    examples = find_examples(tmp_path)
    assert sorted((e.label, e.path.rsplit("/", 1)[1]) for e in examples) == [("cat", "c.mp3"), ("dog", "a.wav"), ("dog", "b.flac")]
    assert all(e.group is None for e in examples)


def test_csv_and_jsonl_manifests_resolve_relative_paths(tmp_path):
    (tmp_path / "m.csv").write_text("path,label,group\nclips/a.wav,yes,s1\n/abs/b.wav,no,s2\n")
    examples = find_examples(tmp_path / "m.csv")
    assert examples == [Example(str(tmp_path / "clips/a.wav"), "yes", "s1"), Example("/abs/b.wav", "no", "s2")]
    (tmp_path / "m.jsonl").write_text(json.dumps({"path": "a.wav", "label": 3}) + "\n\n")
    assert find_examples(tmp_path / "m.jsonl") == [Example(str(tmp_path / "a.wav"), "3", None)]


@pytest.mark.parametrize("text", ["file,label\na.wav,x\n", "path,label\na.wav,\n"])
def test_bad_csv_manifest_is_a_clear_error(tmp_path, text):
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(ConfigError, match="m.csv"):
        find_examples(tmp_path / "m.csv")


def test_empty_or_missing_source_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such"):
        find_examples(tmp_path / "nope")
    with pytest.raises(ConfigError, match="found no"):
        find_examples(tmp_path)


def _grouped(num_groups=5, per_group=10):
    return [Example(f"/{g}/{i}.wav", str(i % 3), f"spk{g}") for g in range(num_groups) for i in range(per_group)]


def test_group_split_has_no_leakage_and_is_seeded():
    examples = _grouped()
    train, test = split_by_group(examples, test_fraction=0.4, seed=3)
    assert {e.group for e in train}.isdisjoint({e.group for e in test})
    assert len(train) + len(test) == len(examples) and test
    assert split_by_group(examples, test_fraction=0.4, seed=3) == (train, test)
    _, chosen = split_by_group(examples, test_groups=["spk2"])
    assert {e.group for e in chosen} == {"spk2"}
    with pytest.raises(ConfigError, match="unknown test group"):
        split_by_group(examples, test_groups=["nobody"])


def test_leave_one_group_out_visits_every_group_once():
    folds = list(leave_one_group_out(_grouped()))
    assert [g for g, _, _ in folds] == [f"spk{g}" for g in range(5)]
    for group, train, test in folds:
        assert {e.group for e in test} == {group} and group not in {e.group for e in train}


def test_media_files_expands_folders(tmp_path):
    _touch(tmp_path / "x" / "b.wav")
    _touch(tmp_path / "x" / "a.mp4")
    _touch(tmp_path / "x" / "readme.md")
    assert [p.name for p in media_files([tmp_path / "x", tmp_path / "missing.wav"])] == ["a.mp4", "b.wav", "missing.wav"]
