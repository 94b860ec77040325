"""Smoke test of the benchmark suite: --quick --json runs a cheap subset and reports the agreed keys.

The figures themselves are not checked (no timed unit tests): only that the suite runs, that its
JSON has the keys, goals and machine entry, and that the markdown table is written.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.__main__ import main


@pytest.mark.slow
def test_quick_json_has_the_keys(tmp_path, capsys):
    table = tmp_path / "table.md"
    code = main(["--quick", "--json", "--repeats", "1", "--only", "sample,resize,audio,model,pipelines",
                 "--media-dir", str(tmp_path / "media"), "--markdown-out", str(table)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("uniform16_seconds_ours", "uniform16_ratio_vs_torchcodec", "uniform16_frame_exact",
                "resize224_ratio_vs_ffmpeg_scale", "audio_load_speedup_vs_librosa",
                "classifier_x_realtime", "classifier_x_realtime_batch32", "timeline_x_realtime"):
        assert key in report, key
    assert report["uniform16_frame_exact"] is True
    assert report["classifier_x_realtime"] > 0 and report["timeline_x_realtime"] > 0
    assert report["batch_pipeline_files_per_s"] is None and "batch_pipeline_files_per_s" in report["unavailable"]
    assert {"cpu", "cores", "torch", "cuda_device", "load_average_at_start"} <= set(report["machine"])
    goal = report["goals"]["uniform 16-frame sampling no slower than TorchCodec"]
    assert goal["figure"] == "uniform16_ratio_vs_torchcodec" and goal["pass"] in (True, False, None)
    assert "| figure | ours | reference | ratio | note |" in table.read_text()


def test_unknown_section_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "decode,nope"])
    assert exit_info.value.code == 2
    assert "nope" in capsys.readouterr().err
