"""The `workbench` command line, called in-process through `cli.main([...])`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch

from workbench import __version__, cli

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RATE = 16_000
NUM_SAMPLES = 8_000  # 0.5 s tone
HOP = 160  # SpectrogramConfig's default hop_length
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tone.wav (0.5 s, 16 kHz mono), clip.mp4 (1 s, 64x48, 10 fps, H.264 + AAC), fake.mp4 (text)."""
    folder = tmp_path_factory.mktemp("media")
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={SAMPLE_RATE}", "-t", "0.5",
            "-c:a", "pcm_s16le", str(folder / "tone.wav"))
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=1",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(folder / "clip.mp4"))
    (folder / "fake.mp4").write_text("this is not a video\n")
    return folder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_json_object(out: str) -> dict:
    assert out.count("\n") == 1, f"expected one line of JSON on stdout, got {out!r}"
    obj = json.loads(out)
    assert isinstance(obj, dict)
    return obj


def _one_error_line(err: str, *expected: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("workbench: error: ")
    for text in expected:
        assert text in lines[0]


# --- probe -----------------------------------------------------------------------------------------


def test_probe_json_lists_the_streams(capsys, media_dir):
    status, out, err = _run(capsys, "probe", media_dir / "clip.mp4", "--json")
    assert status == 0, err
    info = _one_json_object(out)
    assert info["path"] == str(media_dir / "clip.mp4")
    streams = {s["kind"]: s for s in info["streams"]}
    assert set(streams) == {"video", "audio"}
    assert (streams["video"]["codec"], streams["video"]["width"], streams["video"]["height"]) == ("h264", 64, 48)
    assert streams["video"]["avg_fps"] == pytest.approx(10)
    assert (streams["audio"]["codec"], streams["audio"]["sample_rate"]) == ("aac", 16_000)
    assert info["duration_s"] == pytest.approx(1.0, abs=0.1)


def test_probe_text_summary(capsys, media_dir):
    status, out, _ = _run(capsys, "probe", media_dir / "clip.mp4")
    assert status == 0
    assert str(media_dir / "clip.mp4") in out
    assert "video" in out and "64x48" in out and "audio" in out and "16000 Hz" in out


# --- spectrogram -----------------------------------------------------------------------------------


def test_spectrogram_npy_has_shape_n_mels_by_frames(capsys, media_dir, tmp_path):
    out_path = tmp_path / "tone.npy"
    status, out, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--kind", "mel", "--out", out_path)
    assert status == 0, err
    spec = np.load(out_path)
    assert spec.dtype == np.float32
    assert spec.shape == (64, 1 + NUM_SAMPLES // HOP)
    assert str(out_path) in out


def test_spectrogram_set_overrides_and_sample_rate(capsys, media_dir, tmp_path):
    out_path = tmp_path / "tone.npy"
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--out", out_path,
                          "--set", "n_mels=32", "--set", "hop_length=80", "--sample-rate", "8000")
    assert status == 0, err
    assert np.load(out_path).shape == (32, 1 + (NUM_SAMPLES // 2) // 80)  # resampled to 8 kHz first


def test_spectrogram_config_file_then_set_then_kind(capsys, media_dir, tmp_path):
    config_path = tmp_path / "spec.json"
    config_path.write_text(json.dumps({"kind": "mel", "n_mels": 40, "n_mfcc": 13}))
    out_path = tmp_path / "tone.npy"
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--config", config_path,
                          "--set", "n_mfcc=12", "--kind", "mfcc", "--out", out_path)
    assert status == 0, err
    assert np.load(out_path).shape == (12, 1 + NUM_SAMPLES // HOP)


def test_spectrogram_png(capsys, media_dir, tmp_path):
    out_path = tmp_path / "tone.png"
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--out", out_path)
    assert status == 0, err
    assert out_path.read_bytes().startswith(PNG_MAGIC)


def test_spectrogram_safetensors_holds_tensor_and_config(capsys, media_dir, tmp_path):
    out_path = tmp_path / "tone.safetensors"
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--kind", "stft", "--out", out_path)
    assert status == 0, err
    tensors = safetensors.torch.load_file(out_path)
    assert tensors["spectrogram"].shape == (400 // 2 + 1, 1 + NUM_SAMPLES // HOP)
    with safetensors.safe_open(out_path, framework="pt") as f:
        saved_config = json.loads(f.metadata()["config"])
    assert saved_config["kind"] == "stft" and saved_config["sample_rate"] == SAMPLE_RATE


def test_spectrogram_of_a_video_uses_its_audio_and_json_prints_one_object(capsys, media_dir, tmp_path):
    out_path = tmp_path / "clip.npy"
    status, out, err = _run(capsys, "spectrogram", media_dir / "clip.mp4", "--out", out_path, "--json")
    assert status == 0, err
    summary = _one_json_object(out)
    assert set(summary) == {"path", "out", "kind", "shape", "frame_rate", "sample_rate", "duration_s"}
    assert summary["out"] == str(out_path) and summary["kind"] == "mel"
    assert summary["shape"] == list(np.load(out_path).shape)
    assert summary["frame_rate"] == pytest.approx(100.0)
    assert summary["sample_rate"] == SAMPLE_RATE
    assert summary["duration_s"] == pytest.approx(1.0, abs=0.1)


# --- frames ----------------------------------------------------------------------------------------


def test_frames_npy_is_t_h_w_3_uint8(capsys, media_dir, tmp_path):
    out_path = tmp_path / "frames.npy"
    status, out, err = _run(capsys, "frames", media_dir / "clip.mp4", "--sampling", "uniform:4", "--size", "64",
                            "--out", out_path, "--json")
    assert status == 0, err
    frames = np.load(out_path)
    assert frames.shape == (4, 64, 64, 3) and frames.dtype == np.uint8
    summary = _one_json_object(out)
    assert summary["num_frames"] == 4 and summary["shape"] == [4, 64, 64, 3]
    assert len(summary["times_s"]) == 4 and summary["times_s"] == sorted(summary["times_s"])
    assert 0.0 <= summary["times_s"][0] and summary["times_s"][-1] < 1.0


def test_frames_png_at_native_size(capsys, media_dir, tmp_path):
    out_path = tmp_path / "strip.png"
    status, out, err = _run(capsys, "frames", media_dir / "clip.mp4", "--sampling", "uniform:3", "--out", out_path)
    assert status == 0, err
    assert out_path.read_bytes().startswith(PNG_MAGIC)
    assert "(3, 48, 64, 3)" in out


# --- standard input --------------------------------------------------------------------------------


def test_probe_spectrogram_and_frames_read_a_file_piped_to_standard_input_as_they_read_it_named(
        capsys, media_dir, tmp_path, pipe_stdin):
    clip = media_dir / "clip.mp4"
    pipe_stdin(clip.read_bytes())
    status, piped, err = _run(capsys, "probe", "-", "--json")
    assert status == 0, err
    named = _one_json_object(_run(capsys, "probe", clip, "--json")[1])
    assert _one_json_object(piped) == named | {"path": "-"}
    for command, options in (("spectrogram", ()), ("frames", ("--sampling", "uniform:3"))):
        pipe_stdin(clip.read_bytes())
        assert _run(capsys, command, "-", "--out", tmp_path / f"piped-{command}.npy", *options)[0] == 0
        assert _run(capsys, command, clip, "--out", tmp_path / f"named-{command}.npy", *options)[0] == 0
        assert np.array_equal(np.load(tmp_path / f"piped-{command}.npy"), np.load(tmp_path / f"named-{command}.npy"))


@pytest.mark.parametrize("command", [["probe"], ["spectrogram", "--out", "x.npy"], ["frames", "--out", "x.npy"]])
def test_bad_or_missing_standard_input_is_one_line_naming_standard_input(capsys, pipe_stdin, command):
    for data, reason in ((b"", "file is empty"), (b"this is not a video\n" * 20, "not a media file")):
        pipe_stdin(data)
        status, out, err = _run(capsys, command[0], "-", *command[1:])
        assert status == 1 and out == ""
        _one_error_line(err, f"workbench: error: standard input: {reason}")
        assert "workbench-" not in err                      # not the temporary copy's name
    pipe_stdin(None)                                        # a terminal: a usage error, not a wait for input
    status, _, err = _run(capsys, command[0], "-", *command[1:])
    assert status == 2 and "standard input, which is a terminal" in err


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["probe"], ["spectrogram", "--out", "x.npy"], ["frames", "--out", "x.npy"]])
def test_missing_file_is_one_line_and_exit_1(capsys, tmp_path, command):
    missing = tmp_path / "nope.mp4"
    status, out, err = _run(capsys, command[0], missing, *command[1:])
    assert status == 1
    assert out == ""
    _one_error_line(err, str(missing))


@pytest.mark.parametrize("command", [["probe"], ["spectrogram", "--out", "x.npy"], ["frames", "--out", "x.npy"]])
def test_text_file_named_mp4_is_one_line_and_exit_1(capsys, media_dir, command):
    status, _, err = _run(capsys, command[0], media_dir / "fake.mp4", *command[1:])
    assert status == 1
    _one_error_line(err, str(media_dir / "fake.mp4"))


def test_unwritable_output_is_one_line_naming_it(capsys, media_dir, tmp_path):
    out_path = tmp_path / "no" / "such" / "dir" / "tone.npy"
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--out", out_path)
    assert status == 1
    _one_error_line(err, str(out_path))


def test_unknown_set_key_is_a_usage_error(capsys, media_dir, tmp_path):
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--out", tmp_path / "x.npy",
                          "--set", "n_mells=80")
    assert status == 2
    _one_error_line(err, "n_mells")
    assert not (tmp_path / "x.npy").exists()


def test_invalid_config_value_is_a_usage_error(capsys, media_dir, tmp_path):
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--out", tmp_path / "x.npy",
                          "--set", "window=triangle")
    assert status == 2
    _one_error_line(err, "window")


@pytest.mark.parametrize("setting, expected", [("n_mels=abc", "an integer"), ("n_mels=40.5", "an integer"),
                                               ("top_db=loud", "a number"), ("center=3", "true or false"),
                                               ("n_mels=true", "an integer")])
def test_a_config_value_of_the_wrong_type_is_a_usage_error_that_names_the_key(capsys, media_dir, tmp_path,
                                                                              setting, expected):
    status, _, err = _run(capsys, "spectrogram", media_dir / "tone.wav", "--out", tmp_path / "x.npy",
                          "--set", setting)
    assert status == 2
    _one_error_line(err, f"{setting.split('=')[0]} expects {expected}")
    assert "internal error" not in err and not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize("argv", [
    ["spectrogram", "a.wav", "--out", "a.jpg"],           # unsupported --out suffix
    ["frames", "a.mp4", "--out", "a.safetensors"],
    ["frames", "a.mp4", "--out", "a.npy", "--sampling", "sometimes"],
    ["spectrogram", "a.wav", "--out", "a.npy", "--kind", "wavelet"],
    ["spectrogram", "a.wav"],                              # --out missing
    ["transmogrify"],
    [],
    ["classify", "--model", "m", "--top-k", "0", "a.wav"],   # no labels to show
    ["classify", "--model", "m", "--top-k", "-2", "a.wav"],
    ["classify", "--model", "m", "--top-k", "two", "a.wav"],
])
def test_usage_errors_exit_2(capsys, argv):
    status, out, err = _run(capsys, *argv)
    assert status == 2
    assert out == "" and "usage:" in err and "Traceback" not in err


def test_unavailable_device_is_a_usage_error(capsys, media_dir):
    status, _, err = _run(capsys, "--device", "cuda:7" if not _has_cuda() else "nonsense", "probe",
                          media_dir / "clip.mp4")
    assert status == 2
    _one_error_line(err)


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_verbose_shows_the_traceback(capsys, tmp_path):
    status, _, err = _run(capsys, "probe", tmp_path / "nope.mp4", "-v")
    assert status == 1
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("workbench: error: ")


def test_global_options_before_or_after_the_command(capsys, media_dir):
    for argv in (["--device", "cpu", "-v", "probe", media_dir / "clip.mp4"],
                 ["probe", media_dir / "clip.mp4", "--device", "cpu", "-v"]):
        status, out, err = _run(capsys, *argv)
        assert status == 0, err
        assert "64x48" in out


def test_version(capsys):
    status, out, _ = _run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"workbench {__version__}"


def test_every_command_has_a_handler():
    parser = cli._build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    assert set(subparsers.choices) >= {"probe", "spectrogram", "frames"}
    for name, subparser in subparsers.choices.items():
        assert subparser.get_default("handler") is getattr(cli, f"_cmd_{name}")


# --- the installed entry points --------------------------------------------------------------------


def test_python_dash_m_workbench_runs(media_dir):
    result = subprocess.run([sys.executable, "-m", "workbench", "probe", str(media_dir / "clip.mp4"), "--json"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert {s["kind"] for s in json.loads(result.stdout)["streams"]} == {"video", "audio"}

    result = subprocess.run([sys.executable, "-m", "workbench", "probe", str(media_dir / "fake.mp4")],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "fake.mp4" in result.stderr


def test_console_script_runs(media_dir):
    script = Path(sys.executable).with_name("workbench")
    if not script.exists():
        pytest.skip(f"no console script at {script}; install the project (pip install -e .)")
    result = subprocess.run([str(script), "probe", str(media_dir / "clip.mp4"), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["streams"]


def test_a_reader_that_stops_early_ends_the_command_quietly(media_dir):
    """`workbench ... | head`: the pipe's reader is gone before the results come; no error, no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "probe", str(media_dir / "clip.mp4"), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    proc.stdout.close()                       # closed long before the command has imported torch
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == "", err
