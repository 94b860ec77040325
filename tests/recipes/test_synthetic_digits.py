"""recipes/synthetic_digits.py: synthetic training voices for the spoken-digit recipe."""

import shutil
from pathlib import Path

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


def test_an_engine_can_have_its_own_number_of_takes_and_they_are_its_first_takes(tmp_path):
    from recipes.synthetic_digits import parse_engines
    engines, counts = parse_engines("espeak:1,flite")
    assert engines == ("espeak", "flite") and counts == {"espeak": 1}
    manifest = make_synthetic_digits(tmp_path, per_digit=2, seed=3, engines=engines, counts=counts)
    examples = find_examples(manifest)
    assert sum(e.group.startswith("espeak-") for e in examples) == 10
    assert sum(e.group.startswith("flite-") for e in examples) == 20
    both = make_synthetic_digits(tmp_path / "both", per_digit=2, seed=3, engines=("espeak", "flite"))
    for example in examples:                                        # the same first takes, byte for byte
        assert (both.parent / Path(example.path).name).read_bytes() == Path(example.path).read_bytes()
    for bad in ("espeak:0", "espeak:x", "", " , "):
        with pytest.raises(SystemExit):
            parse_engines(bad)


def test_real_speakers_are_not_synthetic():
    assert not any(is_synthetic(g) for g in ("jackson", "yweweler", None, "", "espeakers"))
    assert is_synthetic("flite-awb-003") and is_synthetic("espeak-en-us+m1")


def test_pronunciation_variants_change_only_some_espeak_clips(tmp_path):
    plain = make_synthetic_digits(tmp_path / "plain", per_digit=2, seed=3, engines=("espeak",))
    varied = make_synthetic_digits(tmp_path / "varied", per_digit=2, seed=3, engines=("espeak",), variants=0.5)
    assert varied.read_text() == plain.read_text()                  # same voices, names and labels
    same = [(plain.parent / Path(e.path).name).read_bytes() == Path(e.path).read_bytes() for e in find_examples(varied)]
    assert 0 < sum(same) < len(same)                                # some clips said another way, not all
    every = make_synthetic_digits(tmp_path / "every", per_digit=1, seed=3, engines=("espeak",), variants=1.0)
    assert not any((plain.parent / Path(e.path).name).read_bytes() == Path(e.path).read_bytes() for e in find_examples(every))
    with pytest.raises(SystemExit):
        make_synthetic_digits(tmp_path / "bad", per_digit=1, engines=("espeak",), variants=1.5)


def test_every_pronunciation_is_a_valid_espeak_phoneme_string():
    import subprocess
    from recipes.synthetic_digits import PRONUNCIATIONS, WORDS
    assert len(PRONUNCIATIONS) == len(WORDS)
    for digit, variants in enumerate(PRONUNCIATIONS):
        own = subprocess.run(["espeak-ng", "-q", "-x", "-v", "en-us", WORDS[digit]], capture_output=True, text=True).stdout
        assert own.strip() == variants[0]                            # the first is espeak's own reading of the word
        for phonemes in variants:
            read = subprocess.run(["espeak-ng", "-q", "-x", "-v", "en-us", f"[[{phonemes}]]"], capture_output=True, text=True)
            assert read.stdout.strip() == phonemes                   # espeak understood every phoneme


def test_wide_voices_are_espeak_variants_and_accents_it_has():
    import subprocess
    from recipes.synthetic_digits import WIDE_ACCENTS, WIDE_VARIANTS
    listed = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    variants = {line.split()[4].removeprefix("!v/") for line in listed.splitlines()[1:]}
    assert set(WIDE_VARIANTS) <= variants                          # espeak falls back silently on an unknown name
    english = subprocess.run(["espeak-ng", "--voices=en"], capture_output=True, text=True, check=True).stdout
    assert set(WIDE_ACCENTS) <= {line.split()[1] for line in english.splitlines()[1:]}


def test_wide_voice_set_draws_espeak_voices_from_the_wider_lists(tmp_path):
    from recipes.synthetic_digits import ACCENTS, VARIANTS, WIDE_ACCENTS, WIDE_VARIANTS
    manifest = make_synthetic_digits(tmp_path, per_digit=12, seed=0, engines=("espeak",), voices="wide")
    voices = {e.group.removeprefix("espeak-") for e in find_examples(manifest)}
    pairs = [voice.split("+") for voice in voices]
    assert all(accent in WIDE_ACCENTS and variant in WIDE_VARIANTS for accent, variant in pairs)
    assert any(variant not in VARIANTS or accent not in ACCENTS for accent, variant in pairs)
    with pytest.raises(SystemExit, match="voices"):
        make_synthetic_digits(tmp_path / "bad", per_digit=1, engines=("espeak",), voices="everything")


needs_festival = pytest.mark.skipif(shutil.which("festival") is None,
                                    reason="needs festival (apt-get install festival festvox-kdlpc16k festvox-us-slt-hts)")


@needs_festival
def test_festival_speaks_every_digit_with_both_voices_deterministically(tmp_path):
    from recipes.synthetic_digits import FESTIVAL_VOICES
    manifest = make_synthetic_digits(tmp_path, per_digit=6, seed=1, engines=("festival",))
    examples = find_examples(manifest)
    assert len(examples) == 6 * 10 and sorted({e.label for e in examples}) == [str(d) for d in range(10)]
    assert {e.group.split("-")[1] for e in examples} == set(FESTIVAL_VOICES)      # seed 1 draws both voices
    durations = {}
    for example in examples:
        audio, rate = soundfile.read(example.path, dtype="float32")
        assert rate == 8000 and audio.ndim == 1 and np.sqrt(np.mean(audio ** 2)) > 1e-3
        durations.setdefault(example.label, []).append(len(audio) / rate)
    assert all(0.1 < d < 2.0 for ds in durations.values() for d in ds)            # one word each, trimmed
    assert len(set(durations["7"])) > 1                                             # rates differ between takes
    again = make_synthetic_digits(tmp_path / "again", per_digit=6, seed=1, engines=("festival",))
    assert [Path(e.path).read_bytes() for e in find_examples(again)] == [Path(e.path).read_bytes() for e in examples]


@needs_festival
def test_a_missing_festival_voice_is_a_clear_error(tmp_path):
    from recipes.synthetic_digits import speak_festival
    with pytest.raises(SystemExit, match="no_such_voice.*apt-get install festival"):
        speak_festival(["six"], "no_such_voice", 1.0, 120.0, tmp_path)


def test_every_accented_respelling_is_read_by_its_own_languages_voice():
    import subprocess
    from recipes.synthetic_digits import ACCENTED_WORDS, WORDS
    installed = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=True).stdout
    assert set(ACCENTED_WORDS) <= {line.split()[1] for line in installed.splitlines()[1:]}
    for language, words in ACCENTED_WORDS.items():
        assert len(words) == len(WORDS)
        phonemes = [subprocess.run(["espeak-ng", "-q", "-x", "-v", language, word], capture_output=True, text=True,
                                   check=True).stdout.strip() for word in words]
        # espeak marks a switch to another language's rules as "(en)": a word its voice cannot read
        assert all(p and "(" not in p for p in phonemes), (language, phonemes)
        assert len(set(phonemes)) == len(WORDS), (language, phonemes)        # ten different words


def test_the_accented_engine_speaks_every_digit_in_the_other_languages_voices(tmp_path):
    from recipes.synthetic_digits import ACCENTED_WORDS, VARIANTS
    manifest = make_synthetic_digits(tmp_path, per_digit=8, seed=0, engines=("accented",))
    examples = find_examples(manifest)
    assert len(examples) == 80 and sorted({e.label for e in examples}) == [str(d) for d in range(10)]
    voices = {e.group.removeprefix("accented-") for e in examples}
    assert all(is_synthetic(e.group) for e in examples) and len(voices) > 1
    assert all(v.split("+")[0] in ACCENTED_WORDS and v.split("+")[1] in VARIANTS for v in voices)
    for example in examples:
        audio, rate = soundfile.read(example.path, dtype="float32")
        assert rate == 8000 and 0.1 < len(audio) / rate < 2.0 and np.sqrt(np.mean(audio ** 2)) > 1e-3
    again = make_synthetic_digits(tmp_path / "again", per_digit=8, seed=0, engines=("accented",))
    assert [Path(e.path).read_bytes() for e in find_examples(again)] == [Path(e.path).read_bytes() for e in examples]


def test_mbrola_engine_speaks_every_digit_in_voices_of_real_speakers(tmp_path):
    from recipes.synthetic_digits import MBROLA_VOICES, missing_mbrola_voices
    if missing_mbrola_voices():
        pytest.skip("needs the MBROLA voices (apt-get install mbrola mbrola-us1 ..., Debian non-free)")
    manifest = make_synthetic_digits(tmp_path, per_digit=6, seed=1, engines=("mbrola",))
    examples = find_examples(manifest)
    assert len(examples) == 6 * 10 and all(is_synthetic(e.group) for e in examples)
    voices = {e.group.split("-")[1] for e in examples}
    assert len(voices) > 1 and all(f"mb-{v}" in MBROLA_VOICES or f"mb-{v}-en" in MBROLA_VOICES for v in voices)
    for example in examples:
        audio, rate = soundfile.read(example.path, dtype="float32")
        assert rate == 8000 and 0.1 < len(audio) / rate < 2.0 and np.sqrt(np.mean(audio ** 2)) > 1e-3


def test_a_missing_mbrola_voice_is_named_with_its_package(tmp_path, monkeypatch):
    import recipes.synthetic_digits as synthetic
    (tmp_path / "us1").mkdir()
    (tmp_path / "us1" / "us1").write_bytes(b"x")
    missing = synthetic.missing_mbrola_voices(tmp_path)
    assert "us1" not in missing and "de3" in missing and len(missing) == 19
    monkeypatch.setattr(synthetic, "missing_mbrola_voices", lambda: ["de3"])
    monkeypatch.setattr(synthetic.shutil, "which", lambda program: f"/usr/bin/{program}")   # mbrola itself or not
    with pytest.raises(SystemExit, match="apt-get install mbrola-de3"):
        make_synthetic_digits(tmp_path / "out", per_digit=1, engines=("espeak", "mbrola"))
    assert not (tmp_path / "out").exists()                         # nothing half-written


@pytest.mark.parametrize("engine, program", [("rhvoice", "RHVoice-test"), ("pico", "pico2wave")])
def test_rhvoice_and_pico_speak_every_digit_at_varied_rates_deterministically(tmp_path, engine, program):
    from recipes.synthetic_digits import PICO_VOICES, RHVOICE_VOICES
    if shutil.which(program) is None:
        pytest.skip(f"needs {program} (apt-get install rhvoice rhvoice-english libttspico-utils, Debian non-free)")
    manifest = make_synthetic_digits(tmp_path, per_digit=6, seed=1, engines=(engine,))
    examples = find_examples(manifest)
    assert len(examples) == 6 * 10 and sorted({e.label for e in examples}) == [str(d) for d in range(10)]
    voices = {e.group.removeprefix(f"{engine}-").rsplit("-", 1)[0] for e in examples}
    assert all(is_synthetic(e.group) for e in examples)
    assert len(voices) > 1 and voices <= set(RHVOICE_VOICES if engine == "rhvoice" else PICO_VOICES)
    durations = []
    for example in examples:
        audio, rate = soundfile.read(example.path, dtype="float32")
        assert rate == 8000 and audio.ndim == 1 and np.sqrt(np.mean(audio ** 2)) > 1e-3
        assert 0.1 < len(audio) / rate < 2.0                                        # one word, trimmed
        if example.label == "7":
            durations.append(len(audio) / rate)
    assert len(set(durations)) > 1                                                   # rates differ between takes
    again = make_synthetic_digits(tmp_path / "again", per_digit=6, seed=1, engines=(engine,))
    assert [Path(e.path).read_bytes() for e in find_examples(again)] == [Path(e.path).read_bytes() for e in examples]
