"""`python -m workbench.demo`: every sample is probed and plotted; a bad file costs one line."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from workbench import demo

SAMPLE_VIDEO = demo.SAMPLES_DIR / "bouncing_ball.mp4"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """The committed video, a 0.5 s tone, a text file posing as a video, and a script to skip."""
    folder = tmp_path / "samples"
    folder.mkdir()
    shutil.copy(SAMPLE_VIDEO, folder)
    t = np.arange(8000) / 16_000
    soundfile.write(folder / "tone.wav", (0.5 * np.sin(2 * math.pi * 440 * t)).astype(np.float32), 16_000)
    (folder / "broken.mp4").write_text("not a video\n")
    (folder / "make_samples.sh").write_text("#!/bin/sh\n")
    return folder


def test_demo_writes_plots_and_survives_a_bad_file(samples, tmp_path, capsys):
    out_dir = tmp_path / "out"
    status = demo.main(["--samples", str(samples), "--out", str(out_dir), "--no-model"])
    captured = capsys.readouterr()
    assert status == 1  # one file failed
    expected = {"bouncing_ball_spectrogram.png", "bouncing_ball_waveform.png", "bouncing_ball_frames.png",
                "tone_spectrogram.png", "tone_waveform.png"}
    assert {p.name for p in out_dir.iterdir()} == expected
    for name in expected:
        assert (out_dir / name).read_bytes().startswith(PNG_MAGIC)
        assert f"wrote {out_dir / name}" in captured.out
    assert "mel spectrogram (64, 51)" in captured.out  # tone.wav: 8000 samples, hop 160
    error_lines = captured.err.strip().splitlines()
    assert len(error_lines) == 1 and "broken.mp4" in error_lines[0]
    assert "Traceback" not in captured.err
    assert "make_samples" not in captured.out + captured.err
    assert "3 file(s)" in captured.out and "1 failed" in captured.out


def test_demo_on_the_committed_samples_succeeds(tmp_path, capsys):
    assert SAMPLE_VIDEO.exists(), "run sh assets/samples/make_samples.sh"
    assert demo.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "bouncing_ball_frames.png").exists()
    assert "0 failed" in capsys.readouterr().out


def test_committed_sample_is_small_and_as_documented():
    from workbench import media

    assert SAMPLE_VIDEO.stat().st_size < 300_000
    info = media.probe(SAMPLE_VIDEO)
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
    assert info.video.avg_fps == pytest.approx(25)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.num_channels) == ("aac", 16_000, 1)
    assert info.duration_s == pytest.approx(4.0, abs=0.1)


def test_missing_samples_folder(tmp_path, capsys):
    assert demo.main(["--samples", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 1
    assert "nope" in capsys.readouterr().err


def test_demo_labels_the_digit_samples_with_the_shipped_model(tmp_path, capsys):
    if not demo.SHIPPED_MODEL.exists():
        pytest.skip("no shipped model: run python -m recipes.spoken_digits")
    folder = tmp_path / "samples"
    folder.mkdir()
    for name in ("digit_3_yweweler_3.wav", "digits_sequence.wav"):
        shutil.copy(demo.SAMPLES_DIR / name, folder)
    assert demo.main(["--samples", str(folder), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "model says 3" in out
    assert "timeline: 10 segment(s)" in out
