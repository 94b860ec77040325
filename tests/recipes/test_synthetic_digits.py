"""recipes/synthetic_digits.py: synthetic training voices for the spoken-digit recipe."""

import shutil

import numpy as np
import pytest
import soundfile

from recipes.synthetic_digits import is_synthetic, make_synthetic_digits
from workbench.data import find_examples

pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("flite")),
                                reason="needs espeak-ng and flite (apt-get install espeak-ng flite)")


def test_every_engine_speaks_every_digit_as_an_8khz_clip_in_a_synthetic_group(tmp_path):
    manifest = make_synthetic_digits(tmp_path, per_digit=2, seed=3, engines=("espeak", "flite"))
    examples = find_examples(manifest)
    assert len(examples) == 2 * 10 * 2
    assert sorted({e.label for e in examples}) == [str(d) for d in range(10)]
    assert {e.group.split("-", 1)[0] for e in examples} == {"espeak", "flite"}
    assert all(is_synthetic(e.group) for e in examples)
    for example in examples:
        audio, rate = soundfile.read(example.path, dtype="float32")
        assert rate == 8000 and audio.ndim == 1
        assert 0.1 < len(audio) / rate < 2.0                      # one word, silence trimmed
        assert np.sqrt(np.mean(audio ** 2)) > 1e-3                  # not silent
    again = make_synthetic_digits(tmp_path / "again", per_digit=2, seed=3, engines=("espeak", "flite"))
    assert again.read_text() == manifest.read_text()               # deterministic for a seed


def test_real_speakers_are_not_synthetic():
    assert not any(is_synthetic(g) for g in ("jackson", "yweweler", None, "", "espeakers"))
    assert is_synthetic("flite-awb-003") and is_synthetic("espeak-en-us+m1")
