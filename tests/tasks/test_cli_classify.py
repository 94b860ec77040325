"""The CLI's model commands: train, evaluate, classify, export."""

import json

import numpy as np
import soundfile
import torch

from workbench import cli, media

from tests.tasks.conftest import TONES_HZ, tone


def _json_lines(text):
    return [json.loads(line) for line in text.strip().splitlines()]


def test_train_evaluate_classify_export_round_trip(tone_data, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "classifier", "--data", str(tone_data / "manifest.csv"), "--out", str(run), "--json",
            "--test-groups", "dee", "--set", "train.epochs=2", "--set", "split.val_fraction=0.3"]
    assert cli.main(args) == 0
    summary = _json_lines(capsys.readouterr().out)[0]
    assert summary["test_groups"] == ["dee"] and summary["counts"]["test"] == 24
    assert (run / "model" / "model.safetensors").is_file() and (run / "steps.csv").is_file()

    # --resume with more epochs continues after epoch 2
    assert cli.main(args[:-4] + ["--set", "train.epochs=3", "--set", "split.val_fraction=0.3", "--resume"]) == 0
    capsys.readouterr()
    assert (run / "checkpoints" / "epoch_003.safetensors").is_file()

    assert cli.main(["evaluate", "--model", str(run), "--data", str(tone_data / "manifest.csv"), "--json",
                     "--out", str(tmp_path / "eval")]) == 0
    result = _json_lines(capsys.readouterr().out)[0]
    assert {"accuracy", "macro_f1", "n", "per_class", "confusion"} <= set(result) and result["n"] == 96
    assert (tmp_path / "eval" / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "eval" / "confusion.json").read_text())["labels"] == ["high", "low", "mid"]
    assert [row["range"] for row in result["confidence"]] == ["below 0.5", "0.5 to 0.7", "0.7 to 0.9", "0.9 or more"]
    assert cli.main(["evaluate", "--model", str(run), "--data", str(tone_data / "manifest.csv")]) == 0
    text = capsys.readouterr().out
    assert "by the probability of the answer:" in text and "0.9 or more" in text and "of files  accuracy" in text

    assert cli.main(["export", "--model", str(run), "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 10_000


def test_classify_many_files_one_json_line_each_and_bad_files_do_not_stop_the_rest(tone_run, tmp_path, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    for label, freq in TONES_HZ.items():
        soundfile.write(folder / f"{label}.wav", tone(freq, 0.5, 22_050), 22_050)
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt ")
    status = cli.main(["classify", "--model", str(tone_run.bundle_dir), "--json", "--top-k", "2", str(folder),
                       str(tmp_path / "missing.mp3")])
    captured = capsys.readouterr()
    assert status == 1
    records = {r["path"].rsplit("/", 1)[1]: r for r in _json_lines(captured.out)}
    assert set(records) == {"high.wav", "low.wav", "mid.wav", "broken.wav", "missing.mp3"}
    for label in TONES_HZ:
        assert records[f"{label}.wav"]["label"] == label
        assert len(records[f"{label}.wav"]["probabilities"]) == 2
    assert "broken.wav" in records["broken.wav"]["error"] and "missing.mp3" in records["missing.mp3"]["error"]
    assert "Traceback" not in captured.err


def test_classify_text_output_and_bad_model_dir(tone_run, tmp_path, capsys):
    path = tmp_path / "x.ogg"
    soundfile.write(path, tone(300.0, 0.5, 8000), 8000)
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: low")
    assert cli.main(["classify", "--model", str(tmp_path), str(path)]) == 2
    err = capsys.readouterr().err
    assert "not a model bundle" in err and "Traceback" not in err


def test_a_file_longer_than_any_training_clip_is_labelled_with_a_warning_that_points_to_the_timeline(
        tone_run, tmp_path, capsys):
    short, long = tmp_path / "short.wav", tmp_path / "long.flac"
    soundfile.write(short, tone(300.0, 0.5, 8000), 8000)
    soundfile.write(long, tone(300.0, 6.0, 8000), 8000)        # the tone model's clips were cut to 4 s
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--json", str(short), str(long)]) == 0
    captured = capsys.readouterr()
    records = {r["path"].rsplit("/", 1)[1]: r for r in _json_lines(captured.out)}
    assert "warning" not in records["short.wav"]
    assert records["long.flac"]["label"] == "low"              # still answered, with the caveat beside it
    assert "6.0 s long" in records["long.flac"]["warning"] and "--timeline" in records["long.flac"]["warning"]
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), str(long)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{long}: low")
    assert f"warning: {long}: 6.0 s long" in captured.err and "short" not in captured.err


def test_a_silent_file_is_labelled_with_a_warning_that_says_so_and_not_to_use_the_timeline(tone_run, tmp_path, capsys):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(4000, np.float32), 8000)
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--json", str(path)]) == 0
    captured = capsys.readouterr()
    record = _json_lines(captured.out)[0]
    assert "label" in record and "digital silence" in record["warning"] and "--timeline" not in record["warning"]
    assert f"warning: {path}: the clip is digital silence" in captured.err
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--timeline", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}:\n  no segments: nothing rose above the silence gate that the model could label\n"


def test_evaluate_names_each_unreadable_file_once_and_scores_the_rest(tone_run, tmp_path, capsys):
    folder = tmp_path / "data"
    (folder / "low").mkdir(parents=True)
    soundfile.write(folder / "low" / "ok.wav", tone(300.0, 0.5, 8000), 8000)
    (folder / "low" / "broken.wav").write_text("not audio")
    assert cli.main(["evaluate", "--model", str(tone_run.bundle_dir), "--data", str(folder), "--json"]) == 1
    captured = capsys.readouterr()
    assert _json_lines(captured.out)[0]["n"] == 1
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"workbench: error: {folder / 'low' / 'broken.wav'}: ")
    assert lines[0].count("broken.wav") == 1, lines[0]


def test_export_into_a_missing_folder_is_one_line_naming_the_file(tone_run, tmp_path, capsys):
    out = tmp_path / "no" / "such" / "model.onnx"
    assert cli.main(["export", "--model", str(tone_run.bundle_dir), "--format", "onnx", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"workbench: error: {out}: ") and "no folder" in err and "internal error" not in err


def test_a_timeline_window_that_is_not_positive_is_a_usage_error_naming_it(tone_run, tmp_path, capsys):
    path = tmp_path / "clip.wav"
    soundfile.write(path, tone(300.0, 0.5, 8000), 8000)
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--timeline", "--window", "0", str(path)]) == 2
    assert capsys.readouterr().err == "workbench: error: window_s=0.0 must be positive\n"
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--timeline", "--context", "-1", str(path)]) == 2
    assert capsys.readouterr().err == "workbench: error: context_s=-1.0 must not be negative\n"


def test_a_dash_classifies_a_file_piped_to_standard_input_next_to_named_files(tone_run, tmp_path, capsys, pipe_stdin):
    piped, named = tmp_path / "piped.mp3", tmp_path / "named.wav"
    media.write_audio(piped, media.Audio(torch.from_numpy(tone(TONES_HZ["high"], 0.5, 22_050))[None], 22_050))
    soundfile.write(named, tone(TONES_HZ["low"], 0.5, 8000), 8000)
    pipe_stdin(piped.read_bytes())
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--json", "-", str(named)]) == 0
    records = _json_lines(capsys.readouterr().out)
    assert [(r["path"], r["label"]) for r in records] == [("-", "high"), (str(named), "low")]


def test_bad_or_missing_standard_input_is_named_as_such_and_the_other_files_still_get_labels(
        tone_run, tmp_path, capsys, pipe_stdin):
    named = tmp_path / "named.wav"
    soundfile.write(named, tone(TONES_HZ["low"], 0.5, 8000), 8000)
    for data, reason in ((b"", "file is empty"), (b"not audio at all\n" * 20, "not a media file")):
        pipe_stdin(data)
        assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "--json", "-", str(named)]) == 1
        captured = capsys.readouterr()
        failed, labelled = _json_lines(captured.out)
        assert failed["path"] == "-" and failed["error"].startswith(f"standard input: {reason}")
        assert labelled["label"] == "low"
        assert f"error: standard input: {reason}" in captured.err and "workbench-" not in captured.err

    pipe_stdin(None)                 # a terminal: an error now, not a wait for input
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "-"]) == 2
    assert "standard input, which is a terminal" in capsys.readouterr().err
    pipe_stdin(b"x")
    assert cli.main(["classify", "--model", str(tone_run.bundle_dir), "-", "-"]) == 2
    assert "can be given once" in capsys.readouterr().err
