"""Synthetic spoken digits from espeak-ng, Flite, MBROLA, RHVoice and Pico: many voices, accents, rates and pitches.

    python -m recipes.synthetic_digits --out runs/synthetic-digits [--per-digit 80] [--engines espeak,flite]

FSDD has only five speakers here; a model trained on four of them meets a new voice and a new
microphone at test time. These clips add speaker variety: espeak-ng's English accents with its male
and female voice variants, and Flite's voices (awb, rms and slt are built from recordings of three
real speakers: Scottish English, US male, US female; kal16 is a US diphone voice), each at random
speaking rates and pitches. They are 8 kHz mono WAVs trimmed of silence like FSDD's, listed in
`manifest.csv` (path,label,group) with one group per voice setting so that splits keep a voice on
one side; every group starts with its engine's name ("espeak-", "flite-", "festival-", "rhvoice-", ...).
Festival adds two voices Flite lacks (ked, a US male diphone voice, and slt as an HTS voice). The
"accented" engine is espeak-ng's voices of 17 other languages saying the digits as their speakers
say them in English (`ACCENTED_WORDS`). The "mbrola" engine is espeak-ng speaking through MBROLA
diphone databases, each cut from one real speaker's recordings (`MBROLA_VOICES`: 4 English voices and
16 other languages' speakers with their accent). "rhvoice" is RHVoice's four English voices
(`RHVOICE_VOICES`, each trained on one real speaker) and "pico" SVOX Pico's US and British voices.
Needs the Debian packages espeak-ng, flite, and festival with festvox-kdlpc16k and festvox-us-slt-hts;
mbrola and its voices (`APT_PACKAGES["mbrola"]`), rhvoice with rhvoice-english, and libttspico-utils are
in Debian's contrib and non-free sections: free to use for synthesis, not to sell.
Deterministic for a --seed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile
import soxr
import torch

from workbench.features import trim_silence

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3"]
# `--voices wide`: also espeak-ng's other voice variants (its community-made voices: other pitch
# ranges, formant settings, breathiness, creak), leaving out the robotic, whispered and effect ones.
WIDE_VARIANTS = VARIANTS + [
    "adam", "Alex", "Alicia", "Andrea", "Andy", "Annie", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb",
    "david", "Denis", "Diogo", "ed", "edward", "edward2", "Gene", "Gene2", "gustave", "Henrique", "Hugo", "iven",
    "iven2", "iven3", "iven4", "Jacky", "john", "kaukovalta", "Lee", "linda", "marcelo", "Marco", "Mario", "max",
    "Michael", "michel", "miguel", "Mike", "Mr", "Nguyen", "pablo", "paul", "pedro", "quincy", "RicishayMax", "rob",
    "robert", "steph", "steph2", "steph3", "Storm", "Tweaky", "zac", "anika", "AnxiousAndy", "grandpa", "klatt4",
    "klatt5", "klatt6", "m8", "norbert", "sandro", "shelby", "travis", "victor", "grandma", "croak"]
WIDE_ACCENTS = ACCENTS + ["en-us-nyc"]
VOICE_SETS = ("classic", "wide")
FLITE_VOICES = ["awb", "rms", "slt", "kal16"]
# Festival's English voices that Flite lacks: ked (a US male diphone voice) and slt as an HTS
# (statistical parametric) voice, a different vocoder over the same US female speaker as Flite's slt.
FESTIVAL_VOICES = ["ked_diphone", "cmu_us_slt_arctic_hts"]
# The "mbrola" engine: espeak-ng speaking English through MBROLA diphone databases, each cut from one
# real speaker's recordings: three US English voices, a British one, and 16 speakers of other
# languages (Afrikaans, Dutch, French, German, Greek, Hungarian, Polish, Romanian, Swedish) whose
# diphones espeak-ng maps English phonemes onto (an accent of that language).
MBROLA_VOICES = ["mb-us1", "mb-us2", "mb-us3", "mb-en1", "mb-af1-en", "mb-nl2-en", "mb-fr1-en", "mb-fr4-en",
                 "mb-de1-en", "mb-de2-en", "mb-de3-en", "mb-de4-en", "mb-de5-en", "mb-de6-en", "mb-gr2-en",
                 "mb-hu1-en", "mb-pl1-en", "mb-ro1-en", "mb-sw1-en", "mb-sw2-en"]
# The "rhvoice" engine: RHVoice's English voices, statistical parametric (HTS) voices each trained on one
# real speaker's recordings (CMU ARCTIC's): alan (Scottish English), bdl (US male), clb and slt (US
# female). Its two Russian speakers' English voices (evgeniy-eng, lyubov) are left out: they are
# licensed CC BY-NC-ND 4.0, and models trained here are CC BY-SA. The "pico" engine: SVOX Pico's US
# and British English voices (two more women's voices, another synthesiser).
RHVOICE_VOICES = ["alan", "bdl", "clb", "slt"]
PICO_VOICES = ["en-US", "en-GB"]
ENGINES = ("espeak", "flite", "festival", "accented", "mbrola", "rhvoice", "pico")
PROGRAMS = {"espeak": ("espeak-ng",), "flite": ("flite",), "festival": ("festival",), "accented": ("espeak-ng",),
            "mbrola": ("espeak-ng", "mbrola"), "rhvoice": ("RHVoice-test",), "pico": ("pico2wave",)}
APT_PACKAGES = {"espeak": "espeak-ng", "flite": "flite", "festival": "festival festvox-kdlpc16k festvox-us-slt-hts",
                "accented": "espeak-ng",
                "mbrola": "espeak-ng mbrola " + " ".join("mbrola-" + v[3:6] for v in MBROLA_VOICES)
                          + " (Debian's contrib and non-free sections)",
                "rhvoice": "rhvoice rhvoice-english (Debian's non-free section)",
                "pico": "libttspico-utils (Debian's non-free section)"}
# Other ways the digits are said (espeak-ng's English phoneme mnemonics; the first is espeak's own):
# tense or monophthong vowels, devoiced or dropped final consonants and other first consonants, as
# in non-native or regional English. Spoken with `--variants P` instead of the word, in P of espeak's takes.
PRONUNCIATIONS = [
    ["z'i@roU", "z'i:roU", "z'e:roU", "s'i@roU", "z'Ir@U"],
    ["w'Vn", "w'0n", "v'Vn", "w'an"],
    ["t'u:", "t'U", "t'u:w"],
    ["Tr'i:", "tr'i:", "sr'i:", "fr'i:", "Tr'I"],
    ["f'o@", "f'o:r", "f'O:", "f'o:"],
    ["f'aIv", "f'aIf", "f'a:v", "f'aI"],
    ["s'Iks", "s'i:ks", "s'Ik", "s'Eks", "s'i:s"],
    ["s'Ev@n", "z'Ev@n", "s'Evn", "s'ev@n"],
    ["'eIt", "'e:t", "'Et", "'eI"],
    ["n'aIn", "n'a:n", "n'aIn@", "n'aI"],
]
# The "accented" engine: the digits as speakers of other languages say them in English, written in
# each language's own spelling (or script) for espeak-ng's voice of that language, so its phonemes,
# vowels and rhythm are that language's: French "sri" for three, Japanese "スリー", Hindi "थ्री".
# espeak-ng's voices of other languages read English spelling by their own rules ("nine" as "neen"),
# which is why the words are respelled. Checked with `espeak-ng -q -x -v LANG WORD` (the phonemes).
ACCENTED_WORDS = {
    "fr-fr": ["ziro", "ouane", "tou", "sri", "for", "faïve", "sixe", "sévène", "eïte", "naïne"],
    "de": ["siro", "wann", "tuh", "sri", "foar", "feiw", "sicks", "sewen", "eht", "nein"],
    "es": ["síro", "guan", "tu", "tri", "for", "faif", "sics", "séven", "eit", "nain"],
    "it": ["ziro", "uan", "tu", "tri", "for", "faiv", "sics", "seven", "eit", "nain"],
    "pt-br": ["zirou", "uân", "tu", "fri", "fór", "faiv", "sics", "séven", "eit", "nain"],
    "pl": ["ziro", "łan", "tu", "fri", "for", "fajw", "siks", "sewen", "ejt", "najn"],
    "cs": ["ziro", "uan", "tů", "frí", "fór", "fajv", "siks", "sevn", "ejt", "najn"],
    "ru": ["зироу", "уан", "ту", "сри", "фор", "файв", "сикс", "севен", "эйт", "найн"],
    "hi": ["ज़ीरो", "वन", "टू", "थ्री", "फ़ोर", "फ़ाइव", "सिक्स", "सेवन", "एट", "नाइन"],
    "ja": ["ゼロ", "ワン", "ツー", "スリー", "フォー", "ファイブ", "シックス", "セブン", "エイト", "ナイン"],
    "ko": ["제로", "원", "투", "쓰리", "포", "파이브", "식스", "세븐", "에잇", "나인"],
    "tr": ["ziro", "van", "tu", "tri", "for", "fayv", "siks", "seven", "eyt", "nayn"],
    "id": ["ziro", "wan", "tu", "tri", "for", "faif", "siks", "seven", "eit", "nain"],
    "nl": ["sieroo", "wan", "toe", "srie", "foor", "faaif", "siks", "seven", "eet", "naain"],
    "hu": ["ziró", "van", "tú", "szri", "for", "fájv", "szix", "szeven", "éjt", "nájn"],
    "ro": ["zirou", "uan", "tu", "sri", "for", "faiv", "sics", "seven", "eit", "nain"],
    "sw": ["ziro", "wan", "tu", "thri", "fo", "faivu", "siksi", "seveni", "eiti", "naini"],
}
SAMPLE_RATE = 8000


def is_synthetic(group: str | None) -> bool:
    """Whether a manifest group is one of these synthetic voices (never a held-out test speaker)."""
    return bool(group) and group.split("-", 1)[0] in ENGINES


def missing_mbrola_voices(root: Path = Path("/usr/share/mbrola")) -> list[str]:
    """The `MBROLA_VOICES` databases that are not where espeak-ng looks for them ("us1", "de3", ...)."""
    names = [voice[3:6] for voice in MBROLA_VOICES]
    return [n for n in names if not any(p.is_file() for p in (root / n, root / n / n, root / "voices" / n))]


def speak(word: str, voice: str, rate_wpm: int, pitch: int, workdir: Path) -> np.ndarray:
    """espeak-ng's rendering of `word`, at 8 kHz, trimmed: (samples,) float32."""
    wav = workdir / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "-w", str(wav), word],
                   check=True, capture_output=True, timeout=30)
    return _read_8k(wav)


def speak_flite(word: str, voice: str, stretch: float, f0_hz: float, workdir: Path) -> np.ndarray:
    """Flite's rendering of `word` (duration stretched, mean pitch f0_hz), at 8 kHz, trimmed: (samples,) float32."""
    wav = workdir / "say.wav"
    subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}",
                    "--setf", f"int_f0_target_mean={f0_hz:.1f}", "-t", word, "-o", str(wav)],
                   check=True, capture_output=True, timeout=30)
    return _read_8k(wav)


def speak_festival(words: list[str], voice: str, stretch: float, f0_hz: float, workdir: Path) -> list[np.ndarray]:
    """Festival's renderings of `words`, one process for all (duration stretched; a diphone voice's
    mean pitch f0_hz, the HTS voice keeps its own), at 8 kHz, trimmed: (samples,) float32 each."""
    lines = [f"(voice_{voice})"]
    if voice.endswith("_hts"):      # the HTS engine's own speed option; festival's stretch does not reach it
        lines.append(f'(set! hts_engine_params (append hts_engine_params (list (list "-r" {1.0 / stretch:.3f}))))')
    else:
        lines += [f"(Parameter.set 'Duration_Stretch {stretch:.3f})",
                  f"(set! int_lr_params '((target_f0_mean {f0_hz:.1f}) (target_f0_std {0.14 * f0_hz:.1f}) "
                  "(model_f0_mean 170) (model_f0_std 34)))"]
    wavs = [workdir / f"festival-{i}.wav" for i in range(len(words))]
    lines += [f'(utt.save.wave (utt.synth (Utterance Text "{word}")) "{wav}" \'riff)' for word, wav in zip(words, wavs)]
    script = workdir / "say.scm"
    script.write_text("\n".join(lines) + "\n")
    done = subprocess.run(["festival", "-b", str(script)], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:     # a voice that is not installed is an unbound variable to festival
        said = " ".join(done.stderr.split())[:300]
        raise SystemExit(f"festival could not speak with voice {voice}: {said} "
                         f"(sudo apt-get install {APT_PACKAGES['festival']})")
    return [_read_8k(wav) for wav in wavs]


def speak_rhvoice(word: str, voice: str, rate: int, pitch: int, workdir: Path) -> np.ndarray:
    """RHVoice's rendering of `word` (rate and pitch in percent of the voice's own), at 8 kHz, trimmed."""
    wav = workdir / "say.wav"
    subprocess.run(["RHVoice-test", "-p", voice, "-r", str(rate), "-t", str(pitch), "-o", str(wav)],
                   input=word, text=True, check=True, capture_output=True, timeout=30)
    return _read_8k(wav)


def speak_pico(word: str, voice: str, rate: int, pitch: int, workdir: Path) -> np.ndarray:
    """SVOX Pico's rendering of `word` (rate and pitch in percent of the voice's own), at 8 kHz, trimmed."""
    wav = workdir / "say.wav"
    text = f'<speed level="{rate}"><pitch level="{pitch}">{word}</pitch></speed>'
    subprocess.run(["pico2wave", "-l", voice, "-w", str(wav), text], check=True, capture_output=True, timeout=30)
    return _read_8k(wav)


def _read_8k(wav: Path) -> np.ndarray:
    audio, rate = soundfile.read(wav, dtype="float32")
    audio = soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)
    return trim_silence(torch.from_numpy(audio), SAMPLE_RATE, threshold_db=40.0).numpy()


def _engine_takes(engine: str, out: Path, per_digit: int, seed: int, variants: float,
                  accent_set: list[str], variant_set: list[str]) -> list[str]:
    """Write one engine's `per_digit` takes of every digit to `out`; return their manifest rows."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rng = random.Random(f"{seed}-{engine}")
        accents = random.Random(f"{seed}-{engine}-variants")   # its own stream: variants=0 changes nothing else
        for n in range(per_digit):
            if engine in ("espeak", "accented", "mbrola"):   # espeak-ng: a voice, a speaking rate and a pitch
                if engine == "mbrola":
                    voice = rng.choice(MBROLA_VOICES)
                    group = f"{engine}-{voice[3:]}-{n:03d}"
                else:
                    language = rng.choice(accent_set if engine == "espeak" else sorted(ACCENTED_WORDS))
                    voice = f"{language}+{rng.choice(variant_set)}"
                    group = f"{engine}-{voice}"
                rate_wpm, pitch = rng.randint(110, 210), rng.randint(15, 85)
                say = lambda word: speak(word, voice, rate_wpm, pitch, Path(tmp))  # noqa: E731
            elif engine in ("rhvoice", "pico"):   # a voice, a speaking rate and a pitch, in percent
                voice = rng.choice(RHVOICE_VOICES if engine == "rhvoice" else PICO_VOICES)
                rate, pitch = rng.randint(75, 140), rng.randint(75, 135)
                group = f"{engine}-{voice}-{n:03d}"
                speaker = speak_rhvoice if engine == "rhvoice" else speak_pico
                say = lambda word: speaker(word, voice, rate, pitch, Path(tmp))  # noqa: E731
            else:                 # flite and festival: a voice, a duration stretch and a mean pitch
                voice = rng.choice(FLITE_VOICES if engine == "flite" else FESTIVAL_VOICES)
                stretch, f0_hz = rng.uniform(0.75, 1.35), rng.uniform(85.0, 230.0)
                group = f"{engine}-{voice}-{n:03d}"
                if engine == "flite":
                    say = lambda word: speak_flite(word, voice, stretch, f0_hz, Path(tmp))  # noqa: E731
                else:             # one festival process says all ten words
                    say = dict(zip(WORDS, speak_festival(WORDS, voice, stretch, f0_hz, Path(tmp)))).__getitem__
            for digit, word in enumerate(ACCENTED_WORDS[language] if engine == "accented" else WORDS):
                if engine == "espeak" and variants and accents.random() < variants:
                    word = f"[[{accents.choice(PRONUNCIATIONS[digit][1:])}]]"
                name = f"{digit}_{engine}_{n:03d}.wav"
                soundfile.write(out / name, say(word), SAMPLE_RATE, subtype="PCM_16")
                rows.append(f"{name},{digit},{group}")
    return rows


def parse_engines(spec: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """"espeak,flite,rhvoice:150" -> (("espeak", "flite", "rhvoice"), {"rhvoice": 150}): the engines, and
    the takes of every digit for those given their own count (the others take the default)."""
    engines, counts = [], {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition(":")
        if count:
            if not count.isdigit() or int(count) < 1:
                raise SystemExit(f"takes per digit must be a positive whole number: {item!r} in {spec!r}")
            counts[name] = int(count)
        engines.append(name)
    if not engines:
        raise SystemExit(f"no synthesis engine named in {spec!r}; choose from {', '.join(ENGINES)}")
    return tuple(engines), counts


def make_synthetic_digits(out: Path, per_digit: int = 80, seed: int = 0, engines: tuple[str, ...] = ("espeak",),
                          variants: float = 0.0, voices: str = "classic", counts: dict[str, int] | None = None) -> Path:
    """Write `per_digit` clips of every digit from each engine and a manifest; return the manifest's path.

    `counts`: takes of every digit for some engines instead of `per_digit` (an engine's first n takes are
    the same whatever n is). `variants`: the share of espeak's clips that say one of the other
    `PRONUNCIATIONS` of their digit (0 keeps every clip, and the clips, as without it). `voices`:
    "classic" draws espeak's voices from `ACCENTS` x `VARIANTS`, "wide" from `WIDE_ACCENTS` x
    `WIDE_VARIANTS` (Flite's takes are the same either way).
    """
    if voices not in VOICE_SETS:
        raise SystemExit(f"voices must be one of {', '.join(VOICE_SETS)}, not {voices!r}")
    accent_set, variant_set = (WIDE_ACCENTS, WIDE_VARIANTS) if voices == "wide" else (ACCENTS, VARIANTS)
    if not 0.0 <= variants <= 1.0:
        raise SystemExit(f"variants must be a share in [0, 1], not {variants}")
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        raise SystemExit(f"unknown synthesis engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    for engine in engines:
        for program in PROGRAMS[engine]:
            if shutil.which(program) is None:
                raise SystemExit(f"{program} is not installed (sudo apt-get install {APT_PACKAGES[engine]})")
    if "mbrola" in engines and (missing := missing_mbrola_voices()):
        raise SystemExit(f"MBROLA voice(s) {', '.join(missing)} not installed (sudo apt-get install "
                         f"{' '.join('mbrola-' + v for v in missing)}, from Debian's non-free section)")
    out.mkdir(parents=True, exist_ok=True)
    rows = ["path,label,group"]
    # One thread per engine (the work is in the synthesisers' processes); each engine draws from its own
    # random stream and writes its own files, so the takes are the same as one engine at a time.
    with ThreadPoolExecutor(max_workers=min(len(engines), os.cpu_count() or 1)) as pool:
        takes = list(pool.map(lambda engine: _engine_takes(engine, out, (counts or {}).get(engine, per_digit), seed,
                                                           variants, accent_set, variant_set), engines))
    rows += [row for engine_rows in takes for row in engine_rows]
    manifest = out / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/synthetic-digits")
    parser.add_argument("--per-digit", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engines", default="espeak",
                        help="comma-separated: " + ", ".join(ENGINES) + "; NAME:N gives that engine N takes of every digit")
    parser.add_argument("--voices", default="classic", choices=VOICE_SETS,
                        help="espeak voice set: classic (7 accents x 15 variants) or wide (8 accents x 84 variants)")
    parser.add_argument("--variants", type=float, default=0.0, help="share of espeak clips said another way (PRONUNCIATIONS)")
    args = parser.parse_args(argv)
    engines, counts = parse_engines(args.engines)
    manifest = make_synthetic_digits(Path(args.out), args.per_digit, args.seed, engines, args.variants, args.voices, counts)
    print(f"wrote {sum(counts.get(e, args.per_digit) for e in engines) * 10} clips and {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
