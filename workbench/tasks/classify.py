"""Audio classification (many-to-one): log-mel -> CNN encoder -> LSTM -> label.

The task's standard names: `ClassifyConfig`, `build_model`, `loss`, `predict`, `evaluate`,
`train`, `load`. The long-audio timeline lives in `tasks/timeline.py`.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from workbench.batch import Outcome, run as run_batch
from workbench.bundle import BundleFiles, load_weights, read_bundle, read_tensors, save_bundle, write_tensors
from workbench.config import from_dict, to_dict
from workbench.data import (
    AudioBatch, AudioDataset, AugmentConfig, Example, LoadFailure, collate, decode_examples,
    Spliced, labels_of, mix_style, mix_up, spec_augment, splice_clips, split_by_group, step_targets, stretch_time, warp_frequency,
)
from workbench.errors import ConfigError, EmptyMediaError
from workbench.features import (
    Spectrogram, SpectrogramConfig, active_span, is_steady_noise, longest_pitch_run, longest_steady_tone, noise_span,
    num_frames, without_dc,
)
from workbench.features.activity import STEADY_TONE_FRAMES
from workbench.features.lines import notch_clip
from workbench.media import Audio, load_audio
from workbench.models import AudioClassifier, ClassifierConfig, EncoderConfig, NoveltyStats, fit_novelty, novelty
from workbench.train import EpochLog, FitResult, StepLog, TrainConfig, fit

logger = logging.getLogger(__name__)

TASK = "classify"
NOVELTY_FILE = "novelty.safetensors"      # the training clips' embedding stats in a bundle (models.novelty)
DEFAULT_FEATURES = SpectrogramConfig(
    kind="mel", sample_rate=8_000, n_fft=256, hop_length=80, n_mels=40, fmin=20.0, fmax=4_000.0,
    scale="db", top_db=80.0, normalize="utterance_mean",   # mean-only CMN: +4 points on an unseen FSDD speaker vs mean+variance
)


@dataclass(frozen=True)
class SplitConfig:
    test_fraction: float = 0.2      # of the groups (speakers), held out for the final evaluation
    val_fraction: float = 0.15      # of the training data, for early stopping
    val_by: str = "group"           # "group": whole groups; "random": any files (use with few groups)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.val_by not in ("group", "random"):
            raise ConfigError(f"split.val_by must be 'group' or 'random', got {self.val_by!r}")


@dataclass(frozen=True)
class ClassifyConfig:
    features: SpectrogramConfig = DEFAULT_FEATURES
    model: ClassifierConfig = field(default_factory=lambda: ClassifierConfig(encoder=EncoderConfig(num_bins=40, dropout=0.3)))
    augment: AugmentConfig = field(default_factory=lambda: AugmentConfig(
        speed=(0.8, 1.25), speed_prob=0.9, freq_mask_bins=8, warp_prob=0.5, warp=(0.88, 1.14)))
    train: TrainConfig = field(default_factory=TrainConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    max_duration_s: float = 4.0     # longer training clips are cut to this
    label_smoothing: float = 0.0
    trim_db: float | None = None    # cut leading/trailing audio quieter than this many dB below the peak (train and inference)
    trim_training: bool = True      # trim the training and validation clips too; False: only clips being classified
    # A clip still longer than this after the trim holds more than its word (a recording started early
    # in a noisy room): it is also cut where its sound is less than noise_margin_db above its noise
    # floor (`features.trim_noise`). None: never. Only with trim_db, and only where the trim applies.
    noise_trim_after_s: float | None = None
    noise_margin_db: float = 12.0
    # Warn when a clip, as the model sees it (`prepare`), sounds like steady noise rather than a word
    # (`features.is_steady_noise`: its spectrum barely changes and it holds no pitch). For models of
    # spoken words; a model of sounds may well have steady noise among its classes.
    warn_steady_noise: bool = False
    # Warn when a clip holds no voiced sound at all (`features.longest_pitch_run` under 2 frames): every
    # spoken word has a vowel, so such a clip is a knock, a click, a hiss or a whisper. For models of speech.
    warn_no_voice: bool = False
    # Warn when a clip holds one pitch too still for a voice for 0.25 s (`features.is_steady_tone`: a beep, a note
    # of music, a hum). For models of speech.
    warn_steady_tone: bool = False
    # Warn when a clip's novelty (`models.novelty`: how far its embedding lies from the training clips',
    # 0 at their median, 1 at their 99th percentile) is above this: a sound the model never met, labelled
    # anyway. None: never. Needs a bundle with novelty stats (`train` fits them).
    novelty_threshold: float | None = None
    # Notch steady tones (a whine, mains hum: `features.notch_clip`) out of a clip before anything else `prepare`s
    # it. The timeline has its own notch for long recordings (`TimelineConfig.notch_lines`).
    notch_lines: bool = False
    # Take each clip's mean (a DC offset: a cheap microphone or sound card; FSDD's nicolas recorded with one, 16% of
    # his speech's RMS) out of it before anything else, in training and at inference (`prepare`). An offset is no
    # sound, but it fills the lowest mel band and lifts silence to within a trim's threshold of the word. A bundle
    # saved before this field existed loads with it on: taking out an offset its training never had changes nothing
    # else.
    remove_dc: bool = True

    def __post_init__(self) -> None:
        if self.features.num_bins != self.model.encoder.num_bins:
            raise ConfigError(
                f"features give {self.features.num_bins} bins but model.encoder.num_bins={self.model.encoder.num_bins}")
        if self.noise_trim_after_s is not None and (self.trim_db is None or self.noise_trim_after_s <= 0):
            raise ConfigError(f"noise_trim_after_s={self.noise_trim_after_s} needs trim_db and a positive duration")
        if self.augment.splice_prob > 0 and self.model.head != "frames":
            raise ConfigError(f"augment.splice_prob={self.augment.splice_prob} needs model.head=frames (a label per step), "
                              f"not {self.model.head!r}")


class Classifier(nn.Module):
    """Waveforms in, logits out: the feature front end (a buffer-only module) and the network."""

    def __init__(self, cfg: ClassifyConfig, labels: list[str]) -> None:
        super().__init__()
        self.cfg = cfg
        self.labels = list(labels)
        self.frontend = Spectrogram(cfg.features)
        self.net = AudioClassifier(cfg.model, len(labels))
        self._traced: torch.jit.ScriptModule | None = None       # see trace_for_cpu; not a submodule

    def features(self, waveforms: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """(B, samples), (B,) -> spectrograms (B, num_bins, n_frames), frame lengths (B,)."""
        waveforms, lengths = self._pad_short(waveforms, lengths)
        return self.frontend(waveforms, lengths), num_frames(lengths, self.cfg.features)

    def step_samples(self) -> int:
        """Samples per step of the network's output sequence (a frames head's label): `step_samples(cfg)`."""
        return step_samples(self.cfg)

    def min_samples(self) -> int:
        """The fewest samples the network takes: enough frames for one step through all its time poolings
        (70 ms for the shipped spoken-digit model). Shorter clips are padded with silence up to it."""
        f = self.cfg.features
        return self.step_samples() - f.hop_length + (0 if f.center else f.n_fft)

    def _pad_short(self, waveforms: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """(B, samples), (B,) with every clip at least `min_samples` long: silence after the shorter ones."""
        need = self.min_samples()
        if waveforms.shape[-1] < need:
            waveforms = F.pad(waveforms, (0, need - waveforms.shape[-1]))
        return waveforms, None if lengths is None else lengths.clamp(min=need)

    def forward(self, waveforms: Tensor, lengths: Tensor | None = None) -> Tensor:
        """(B, samples) mono at cfg.features.sample_rate, (B,) -> logits (B, num_classes), one distribution
        per clip whatever the head (`AudioClassifier.clip_logits`).

        `lengths=None`: every clip fills the batch (no masks, no packing)."""
        return self._run("forward", waveforms, lengths)

    def step_logits(self, waveforms: Tensor) -> Tensor:
        """(B, samples) unpadded -> the frames head's logits per step (B, n_steps, num_classes), a step being
        `step_samples()` samples."""
        return self.steps_and_embedding(waveforms)[0]

    def steps_and_embedding(self, waveforms: Tensor) -> tuple[Tensor, Tensor]:
        """(B, samples) unpadded -> `step_logits` and every step's embedding (B, n_steps, D) from one pass
        (`AudioClassifier.steps_and_embedding`): what the timeline needs of each window; traced on the CPU."""
        if self.cfg.model.head != "frames":
            raise ConfigError(f"step logits need the many-to-many 'frames' head, not {self.cfg.model.head!r}")
        return self._run("steps_and_embedding", waveforms, None)

    def logits_and_embedding(self, waveforms: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """`forward`'s logits (B, num_classes) and the network's embedding (B, D) of each clip
        (`AudioClassifier.logits_and_embedding`), in one pass; traced on the CPU like `forward`."""
        return self._run("logits_and_embedding", waveforms, lengths)

    def _run(self, method: str, waveforms: Tensor, lengths: Tensor | None):
        """The network's `method` on waveforms: eager when padded, else through the CPU trace when there is one."""
        if lengths is not None and not torch.jit.is_tracing() and bool((lengths == waveforms.shape[-1]).all()):
            lengths = None                      # nothing padded: a long file, one clip, equal-length clips
        net_method = getattr(self.net, "clip_logits" if method == "forward" else method)
        if lengths is not None:
            return net_method(*self.features(waveforms, lengths))          # which pads clips that are too short
        waveforms = self._pad_short(waveforms, None)[0]
        if self._traced is not None and not self.training and waveforms.device.type == "cpu" and not torch.jit.is_tracing():
            # the plain interpreter, without the profiling executor: no warm-up calls, no re-specialising per length
            with torch.jit.optimized_execution(False):
                return getattr(self._traced, method)(waveforms)
        return net_method(self.frontend(waveforms), None)

    def trace_for_cpu(self) -> None:
        """Inference only: from now on, unpadded batches on the CPU in eval mode run through a TorchScript
        trace of features and network, which shares their weights and gives the same outputs without
        Python between the ops (1.34 -> 1.11 ms per 1 s clip for the shipped spoken-digit model, batch 1,
        one CPU thread). Padded batches, training, CUDA and export keep the eager path; so does the
        cqt front end, which runs librosa. Call it once the weights are final."""
        if self.cfg.features.kind == "cqt":
            return
        example = torch.zeros(1, self.cfg.features.sample_rate // 2)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")     # torch.jit.trace's deprecation notice and the LSTM's shape-check notes
            methods = {"forward": (example,), "logits_and_embedding": (example,)}
            if self.cfg.model.head == "frames":
                methods["steps_and_embedding"] = (example,)
            traced = torch.jit.trace_module(self, methods, check_trace=False)
        object.__setattr__(self, "_traced", traced)     # kept out of state_dict(), children() and export

    def __getstate__(self) -> dict:
        """Pickled and copied without the trace (TorchScript does not pickle); call trace_for_cpu again if needed."""
        return {**self.__dict__, "_traced": None}


@dataclass(frozen=True)
class LoadedBundle:
    task: str
    path: Path
    cfg: ClassifyConfig
    labels: list[str]
    model: Classifier          # eval mode, on `device`, batch norms folded, traced on the CPU (inference only)
    device: torch.device
    metrics: dict
    novelty: NoveltyStats | None = None     # the training clips' embedding stats, when the bundle has them


@dataclass(frozen=True)
class Classification:
    path: str
    label: str
    confidence: float
    probabilities: dict[str, float]     # label -> probability, all labels
    duration_s: float
    warning: str | None = None          # set when the answer is unlikely to mean much (see clip_warning)
    novelty: float | None = None        # how unlike the training clips it sounds (models.novelty); None: no stats

    def top(self, k: int) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])[:k]


def build_model(cfg: ClassifyConfig, labels: list[str]) -> Classifier:
    return Classifier(cfg, labels)


def loss(model: Classifier, batch: AudioBatch, augment: AugmentConfig | None = None,
         gen: torch.Generator | None = None) -> Tensor:
    """Cross-entropy of a batch; spectrogram augmentation (warp, stretch, MixStyle, mixup, SpecAugment) when `augment` is given.

    With `augment.splice_prob` (a frames head only), some clips are joined into connected speech
    (`data.splice_clips`) and trained with a label per step (`_step_loss`); the rest as single clips. The
    two cross-entropies are weighted by how many clips each holds.
    """
    if augment is not None and augment.splice_prob > 0:
        if model.cfg.model.head != "frames":
            raise ConfigError(f"augment.splice_prob needs the many-to-many 'frames' head, not {model.cfg.model.head!r}")
        gen = gen or torch.Generator().manual_seed(0)
        spliced = splice_clips(batch.waveforms, batch.lengths, model.cfg.features.sample_rate, augment, gen)
        if spliced.groups:
            joined = _step_loss(model, spliced, batch.label_ids, augment, gen)
            num_joined = sum(len(group) for group in spliced.groups)
            if len(spliced.singles) == 0:
                return joined
            index = spliced.singles.to(batch.lengths.device)
            lengths = batch.lengths[index]
            single = _clip_loss(model, AudioBatch(batch.waveforms[index, :int(lengths.max())], lengths,
                                                  batch.label_ids[index]), augment, gen)
            return (len(index) * single + num_joined * joined) / (len(index) + num_joined)
    return _clip_loss(model, batch, augment, gen)


def _warp_and_stretch(spec: Tensor, frames: Tensor, augment: AugmentConfig, gen: torch.Generator
                      ) -> tuple[Tensor, Tensor]:
    """The per-item spectrogram augmentations every training item gets: frequency warp, then time stretch."""
    if augment.warp_prob > 0:
        spec = warp_frequency(spec, augment, gen)
    if augment.stretch_prob > 0:
        spec, frames = stretch_time(spec, frames, augment, gen)
    return spec, frames


def _step_loss(model: Classifier, spliced: Spliced, label_ids: Tensor, augment: AugmentConfig,
               gen: torch.Generator) -> Tensor:
    """Cross-entropy of every step of joined clips against the label of the clip under it (frequency warp,
    time stretch and SpecAugment as for single clips; no MixStyle or mixup)."""
    old_spec, old_frames = model.features(spliced.waveforms, spliced.lengths)
    spec, frames = _warp_and_stretch(old_spec, old_frames, augment, gen)
    spec = spec_augment(spec, frames, augment, gen)
    logits = model.net(spec, frames)                                     # (G, n_steps, num_classes)
    labels = [[int(label_ids[i]) for i in group] for group in spliced.groups]
    targets = step_targets(spliced.spans, labels, old_frames.cpu(), frames.cpu(), model.cfg.features.hop_length,
                           model.cfg.model.encoder.time_stride, logits.shape[1]).to(logits.device)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100,
                           label_smoothing=model.cfg.label_smoothing)


def _clip_loss(model: Classifier, batch: AudioBatch, augment: AugmentConfig | None, gen: torch.Generator | None) -> Tensor:
    """Cross-entropy of one label per clip (`loss` without splicing)."""
    spec, frames = model.features(batch.waveforms, batch.lengths)
    mixed = None
    if augment is not None:
        gen = gen or torch.Generator().manual_seed(0)
        spec, frames = _warp_and_stretch(spec, frames, augment, gen)
        if augment.mixstyle_prob > 0:
            spec = mix_style(spec, frames, augment, gen)
        if augment.mixup_prob > 0:
            mixed = mix_up(spec, frames, augment, gen)
            if mixed is not None:
                spec, frames = mixed[0], mixed[1]
        spec = spec_augment(spec, frames, augment, gen)
    logits, labels, smoothing = model.net.clip_logits(spec, frames), batch.label_ids, model.cfg.label_smoothing
    if mixed is None:
        return F.cross_entropy(logits, labels, label_smoothing=smoothing)
    partner, weight = mixed[2].to(labels.device), mixed[3].to(logits.device)
    own = F.cross_entropy(logits, labels, reduction="none", label_smoothing=smoothing)
    theirs = F.cross_entropy(logits, labels[partner], reduction="none", label_smoothing=smoothing)
    return (weight * own + (1 - weight) * theirs).mean()


def load(path: str | Path, device: torch.device | str = "cpu", files: BundleFiles | None = None) -> LoadedBundle:
    """Rebuild the exact feature extractor and model of a classifier bundle (weights loaded strictly)."""
    files = files or read_bundle(path)
    if files.task != TASK:
        raise ConfigError(f"{files.path}: a {files.task!r} bundle, not a classifier")
    cfg = from_dict(ClassifyConfig, files.config["config"])
    labels = list(files.config["labels"])
    device = torch.device(device)
    model = load_weights(files, build_model(cfg, labels), device)
    model.net.encoder.fold_batch_norm()         # inference only from here on
    if device.type == "cpu":
        model.trace_for_cpu()
    tensors = read_tensors(files, NOVELTY_FILE)
    stats = None if tensors is None else NoveltyStats.from_tensors(tensors, str(files.path / NOVELTY_FILE)).to(device)
    return LoadedBundle(TASK, files.path, cfg, labels, model, device, files.metrics, stats)


def prepare(waveform: Tensor, cfg: ClassifyConfig) -> Tensor:
    """What the model sees of a mono clip (samples,): its mean taken out when cfg.remove_dc is set, its steady tones
    notched out when cfg.notch_lines is set, then trimmed of silence when cfg.trim_db is set, and of background noise
    when it is still longer than cfg.noise_trim_after_s after that (`prepared_span`)."""
    waveform = _centred(waveform, cfg)
    if cfg.notch_lines:
        waveform = torch.from_numpy(notch_clip(waveform.cpu().numpy(), cfg.features.sample_rate)[0]).to(waveform.device)
    start, end = prepared_span(waveform, cfg)
    return waveform[start:end]


def _centred(waveform: Tensor, cfg: ClassifyConfig) -> Tensor:
    """A clip (samples,) without its DC offset when cfg.remove_dc is set, else as it is."""
    return without_dc(waveform) if cfg.remove_dc else waveform


def prepared_span(waveform: Tensor, cfg: ClassifyConfig) -> tuple[int, int]:
    """(start, end) samples of a mono clip (samples,) that `prepare` keeps."""
    if cfg.trim_db is None:
        return 0, waveform.shape[-1]
    rate = cfg.features.sample_rate
    start, end = active_span(waveform, rate, cfg.trim_db)
    if cfg.noise_trim_after_s is not None and end - start > cfg.noise_trim_after_s * rate:
        first, last = noise_span(waveform[start:end], rate, cfg.noise_margin_db)
        start, end = start + first, start + last
    return start, end


@torch.inference_mode()
def classify_waveforms(bundle: LoadedBundle, waveforms: list[Tensor]) -> Tensor:
    """Probabilities (N, num_classes) of mono waveforms (samples,) at the bundle's sample rate."""
    batch = collate([(prepare(w, bundle.cfg), 0) for w in waveforms]).to(bundle.device)
    return torch.softmax(bundle.model(batch.waveforms, batch.lengths).float(), dim=-1).cpu()


def probabilities_and_novelty(bundle: LoadedBundle, waveforms: list[Tensor]) -> tuple[Tensor, Tensor | None]:
    """`classify_waveforms`'s probabilities (N, num_classes) and each clip's novelty (N,) from the same
    pass (`models.novelty`), or None for a bundle without novelty stats."""
    return _probabilities_and_novelty(bundle, [prepare(w, bundle.cfg) for w in waveforms])


@torch.inference_mode()
def _probabilities_and_novelty(bundle: LoadedBundle, clips: list[Tensor]) -> tuple[Tensor, Tensor | None]:
    """`probabilities_and_novelty` of clips already `prepare`d."""
    batch = collate([(clip, 0) for clip in clips]).to(bundle.device)
    if bundle.novelty is None:
        return torch.softmax(bundle.model(batch.waveforms, batch.lengths).float(), dim=-1).cpu(), None
    logits, embedding = bundle.model.logits_and_embedding(batch.waveforms, batch.lengths)
    return torch.softmax(logits.float(), dim=-1).cpu(), novelty(bundle.novelty, embedding.float()).cpu()


@torch.inference_mode()
def step_probabilities_and_novelty(bundle: LoadedBundle, waveform: Tensor) -> tuple[Tensor, float | None]:
    """A frames-head bundle's probabilities for every step (n_steps, num_classes) of a mono waveform (samples,) as
    it is (but for its DC offset, taken out when cfg.remove_dc is set), step i covering its samples from
    i * `step_samples()`, and its novelty as `probabilities_and_novelty` gives it (of the `prepare`d clip; None for a
    bundle without novelty stats). One pass when `prepare` keeps the waveform whole; when it trims, the novelty takes
    a second pass over what it keeps."""
    waveform = _centred(waveform, bundle.cfg)
    logits, steps = bundle.model.steps_and_embedding(waveform[None].to(bundle.device))
    probs = torch.softmax(logits[0].float(), dim=-1).cpu()
    if bundle.novelty is None:
        return probs, None
    first, last = prepared_span(waveform, bundle.cfg)
    if (first, last) == (0, waveform.shape[-1]):        # the clip's embedding is its steps' mean
        return probs, float(novelty(bundle.novelty, steps.mean(1).float())[0])
    return probs, float(_probabilities_and_novelty(bundle, [waveform[first:last]])[1][0])


@torch.inference_mode()
def clip_embeddings(model: Classifier, waveforms: list[Tensor], device: torch.device, batch_size: int = 128) -> Tensor:
    """(N, D) embeddings of prepared mono clips (samples,), in batches of similar lengths."""
    model.eval()
    order = sorted(range(len(waveforms)), key=lambda i: waveforms[i].shape[-1])    # less padding per batch
    rows = torch.empty(len(waveforms), dtype=torch.int64)
    parts = []
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        batch = collate([(waveforms[i], 0) for i in chunk]).to(device)
        parts.append(model.logits_and_embedding(batch.waveforms, batch.lengths)[1].float().cpu())
        rows[torch.tensor(chunk)] = torch.arange(start, start + len(chunk))
    return torch.cat(parts)[rows]


def novelty_stats(model: Classifier, items: list[tuple[Example, Tensor]], device: torch.device) -> NoveltyStats:
    """Novelty stats (`models.novelty`) of a classifier over its training clips: (example, waveform) pairs,
    each clip as decoded; it is `prepare`d here, as a clip being classified is."""
    index = {label: i for i, label in enumerate(model.labels)}
    embeddings = clip_embeddings(model, [prepare(w, model.cfg) for _, w in items], device)
    return fit_novelty(embeddings, torch.tensor([index[e.label] for e, _ in items]), len(model.labels))


def add_novelty_stats(path: str | Path, examples: list[Example]) -> NoveltyStats:
    """Fit novelty stats for an existing classifier bundle on `examples` (its training clips) and write
    them into the bundle (`NOVELTY_FILE`); unreadable files are left out."""
    bundle = load(path)
    items, failures = decode_examples(examples, bundle.cfg.features.sample_rate, bundle.cfg.max_duration_s, workers=2)
    if not items:
        raise ConfigError(f"{bundle.path}: no readable clips to fit novelty stats on "
                          f"({len(examples)} examples, {len(failures)} unreadable)")
    stats = novelty_stats(bundle.model, items, bundle.device)
    write_tensors(bundle.path, NOVELTY_FILE, stats.to_tensors())
    return stats


def _read_clip(bundle: LoadedBundle, path: str | Path) -> Audio:
    audio = load_audio(path, sample_rate=bundle.cfg.features.sample_rate, mono=True)
    if audio.num_samples == 0:
        raise EmptyMediaError(path, "no audio samples")
    return audio


def long_file_warning(cfg: ClassifyConfig, duration_s: float) -> str | None:
    """Why one label for a whole file of `duration_s` seconds may mean little, or None.

    A classifier gives one label per file. It never saw a training clip longer than
    `cfg.max_duration_s` (longer ones are cut to it), so a longer file most likely holds several
    events, and its one label is the model's best guess at a mixture: the timeline labels it window
    by window instead.
    """
    if duration_s <= cfg.max_duration_s:
        return None
    return (f"{duration_s:.1f} s long, but the model was trained on clips of at most {cfg.max_duration_s:g} s "
            "and gives one label for the whole file; a timeline labels a recording of several events window by window")


# A clip whose loudest sample is below this holds no sound worth labelling: FSDD's quietest recording
# peaks at -40 dBFS, a 16-bit file's own noise floor is near -90 dBFS.
SILENT_PEAK_DB = -60.0


def silence_warning(waveform: Tensor) -> str | None:
    """Why the label of a clip (samples,) that holds (almost) no sound means nothing, or None.

    A classifier always answers with one of its labels, confidently even for digital silence (the
    shipped digit model calls 1 s of zeros "4" with probability 0.99), so the answer is flagged.
    A constant offset (DC, from a cheap microphone or a damaged file) is not sound and is taken out first.
    """
    if waveform.numel() == 0 or not bool(waveform.any()):
        return "the clip is digital silence (every sample is zero), so its label is a guess"
    peak = float(without_dc(waveform).abs().max())
    if peak == 0.0:
        return (f"the clip holds no sound (every sample has the same value, {float(waveform[0]):.3g}), "
                "so its label is a guess")
    peak_db = 20.0 * math.log10(peak)
    if peak_db < SILENT_PEAK_DB:
        return (f"the clip is nearly silent (its sound peaks at {peak_db:.0f} dBFS, under {SILENT_PEAK_DB:g}), "
                "so its label is a guess")
    return None


def noise_warning(cfg: ClassifyConfig, waveform: Tensor, clip: Tensor | None = None) -> str | None:
    """Why the label of a mono clip (samples,) at the model's sample rate that sounds like steady noise means
    little, or None; only for a model whose cfg.warn_steady_noise is set. `clip`: the waveform as `prepare`
    gives it, when the caller has it already.

    The shipped digit model labels a second of white noise "4" with probability 0.98: a classifier
    always answers with one of its labels.
    """
    if not cfg.warn_steady_noise:
        return None
    if not is_steady_noise(prepare(waveform, cfg) if clip is None else clip, cfg.features.sample_rate):
        return None
    return ("the clip sounds like steady noise (its spectrum barely changes and it holds no pitch): "
            "it may hold no word, or one too faint to hear, so its label is a guess")


# A clip with no voiced sound is only warned about when its novelty is above this too (when the bundle
# has novelty stats): 9 of FSDD speaker lucas's 500 recordings hold no pitch (whispered or creaky
# vowels), at novelty 0.26 to 1.02 to a model that never heard him; a knock's is mostly above 1.
VOICELESS_NOVELTY = 1.0


def voice_warning(cfg: ClassifyConfig, waveform: Tensor, novelty_score: float | None = None,
                  clip: Tensor | None = None) -> str | None:
    """Why the label of a mono clip (samples,) at the model's sample rate that holds no voiced sound means
    little, or None; only for a model whose cfg.warn_no_voice is set, and with a novelty (when known)
    over VOICELESS_NOVELTY. A clip under 50 ms is not judged. `clip`: as in `noise_warning`."""
    rate = cfg.features.sample_rate
    if not cfg.warn_no_voice or (novelty_score is not None and novelty_score <= VOICELESS_NOVELTY):
        return None
    clip = prepare(waveform, cfg) if clip is None else clip
    if clip.shape[-1] < 0.05 * rate or longest_pitch_run(clip, rate) >= 2:
        return None
    return ("the clip holds no voiced sound (no pitch anywhere): a spoken word has a vowel, so this is "
            "a knock, a click, a hiss or a whisper, and its label is a guess")


def tone_warning(cfg: ClassifyConfig, waveform: Tensor, novelty_score: float | None = None,
                 clip: Tensor | None = None) -> str | None:
    """Why the label of a mono clip (samples,) at the model's sample rate that holds a pitch too still for a voice
    (`features.is_steady_tone`) means little, or None; only for a model whose cfg.warn_steady_tone is set, and with
    a novelty (when known) over VOICELESS_NOVELTY: a clip the model finds usual is not searched for a tone (which
    costs about as much as classifying it). `clip`: as in `noise_warning`."""
    if not cfg.warn_steady_tone or (novelty_score is not None and novelty_score <= VOICELESS_NOVELTY):
        return None
    rate = cfg.features.sample_rate
    frames = longest_steady_tone(prepare(waveform, cfg) if clip is None else clip, rate)
    if frames < STEADY_TONE_FRAMES:
        return None
    return (f"the clip holds one pitch dead still for {frames / 100:.2f} s, as a beep, a note of music or a hum "
            "does and a voice does not, so its label is a guess")


def novelty_warning(cfg: ClassifyConfig, novelty_score: float | None) -> str | None:
    """Why the label of a clip whose novelty (`models.novelty`) passes cfg.novelty_threshold means little, or None."""
    if cfg.novelty_threshold is None or novelty_score is None or novelty_score <= cfg.novelty_threshold:
        return None
    return (f"the clip sounds unlike anything the model was trained on (novelty {novelty_score:.1f}, over "
            f"{cfg.novelty_threshold:g}): it may be another word or sound, so its label is a guess")


def clip_warning(cfg: ClassifyConfig, audio: Audio, novelty_score: float | None = None,
                 clip: Tensor | None = None) -> str | None:
    """Every reason (silence, noise, no voice, a steady tone, novelty, length) why one label for this decoded clip
    may mean little, or None; the first of silence, noise, no voice, tone and novelty that applies, then the length.
    `clip`: the clip as `prepare` gives it, when the caller has it already."""
    waveform = audio.waveform[0]
    sound = (silence_warning(waveform) or noise_warning(cfg, waveform, clip)
             or voice_warning(cfg, waveform, novelty_score, clip) or tone_warning(cfg, waveform, novelty_score, clip)
             or novelty_warning(cfg, novelty_score))
    reasons = [sound, long_file_warning(cfg, audio.duration_s)]
    return "; ".join(r for r in reasons if r) or None


def _classifications(bundle: LoadedBundle, paths: list[str | Path], audios: list[Audio]) -> list[Classification]:
    """Decoded clips through the model in one batch, each clip `prepare`d once for the model and the warnings."""
    clips = [prepare(audio.waveform[0], bundle.cfg) for audio in audios]
    probs, novelties = _probabilities_and_novelty(bundle, clips)
    results = []
    for row, (path, audio, clip) in enumerate(zip(paths, audios, clips)):
        best, score = int(probs[row].argmax()), None if novelties is None else float(novelties[row])
        results.append(Classification(str(path), bundle.labels[best], float(probs[row, best]),
                                      {label: float(p) for label, p in zip(bundle.labels, probs[row])}, audio.duration_s,
                                      clip_warning(bundle.cfg, audio, score, clip), score))
    return results


def predict(bundle: LoadedBundle, path: str | Path) -> Classification:
    """Label and probabilities of one file of any format the media layer reads."""
    return _classifications(bundle, [path], [_read_clip(bundle, path)])[0]


def predict_files(bundle: LoadedBundle, paths: Iterable[str | Path], batch_size: int = 32, max_batch_s: float = 256.0,
                  on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """`predict` for many files, the model run on batches: one `Outcome` per path, in input order.

    Files are decoded one at a time (an unreadable one becomes its Outcome's error and the others
    go on); up to `batch_size` consecutive readable files go through the model together, fewer when
    their padded length would pass `max_batch_s` seconds of audio (a long file goes alone). Labels
    and probabilities are those of `predict` (padding never changes an item's output). On one CPU
    thread a batch of 32 one-second clips runs 3 to 4 times faster per clip than one at a time, on
    an H200 26 times (`python -m benchmarks --only model`). `on_result` sees each Outcome, in input order, as its batch finishes.
    """
    if batch_size < 1 or max_batch_s <= 0:
        raise ConfigError(f"batch_size ({batch_size}) and max_batch_s ({max_batch_s}) must be positive")
    rate = bundle.cfg.features.sample_rate
    outcomes: list[Outcome] = []
    pending: list[Outcome] = []      # decoded (value: Audio) or failed, not yet through the model

    def flush() -> None:
        clips = [o for o in pending if o.ok]
        try:
            values = _classifications(bundle, [o.item for o in clips], [o.value for o in clips]) if clips else []
            ready = iter([Outcome(o.item, value) for o, value in zip(clips, values)])
        except Exception:  # noqa: BLE001 -- a clip the model cannot take must not cost the batch's others their labels
            logger.debug("a batch of %d clips failed; running them one at a time", len(clips), exc_info=True)
            audio = {o.item: o.value for o in clips}
            ready = iter(run_batch([o.item for o in clips], lambda p: _classifications(bundle, [p], [audio[p]])[0]))
        for o in pending:
            done = next(ready) if o.ok else o
            outcomes.append(done)
            if on_result is not None:
                on_result(done)
        pending.clear()

    for path in paths:
        decoded = run_batch([path], lambda p: _read_clip(bundle, p))[0]
        if decoded.ok:
            readable = [o.value.num_samples for o in pending if o.ok]
            longest = max(readable + [decoded.value.num_samples])
            if readable and (len(readable) + 1 > batch_size or (len(readable) + 1) * longest > max_batch_s * rate):
                flush()
        pending.append(decoded)
    flush()
    return outcomes


@dataclass(frozen=True)
class Evaluation:
    n: int
    accuracy: float
    macro_f1: float
    labels: list[str]
    per_class: dict[str, dict[str, float]]   # label -> precision, recall, f1, support
    confusion: list[list[int]]               # rows: true label, columns: predicted label
    failures: list[LoadFailure]
    confidence: list[dict] = field(default_factory=list)   # `confidence_bins` of the answers, when their probabilities were given

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "failures": [dataclasses.asdict(f) for f in self.failures]}


CONFIDENCE_EDGES = (0.5, 0.7, 0.9)


def confidence_bins(top: list[float], right: list[bool], edges: tuple[float, ...] = CONFIDENCE_EDGES) -> list[dict]:
    """How far to trust an answer: answers grouped by their top probability (bins between `edges`),
    each bin's share of the answers and its accuracy (None for an empty bin)."""
    if not top:
        return []
    bounds = [0.0, *edges, float("inf")]
    rows = []
    for low, high in zip(bounds, bounds[1:]):
        kept = [r for t, r in zip(top, right) if low <= t < high]
        name = f"below {high:g}" if low == 0.0 else f"{low:g} or more" if high == float("inf") else f"{low:g} to {high:g}"
        rows.append({"range": name, "share": len(kept) / len(top), "accuracy": sum(kept) / len(kept) if kept else None})
    return rows


def score(true_ids: list[int], pred_ids: list[int], labels: list[str], failures: list[LoadFailure] = (),
          top_probs: list[float] | None = None) -> Evaluation:
    """Accuracy, macro-F1, per-class precision/recall and the confusion matrix (scikit-learn's definitions);
    with the answers' top probabilities, also their `confidence_bins`."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    ids = list(range(len(labels)))
    if not true_ids:
        raise ConfigError("nothing to evaluate: no example could be read")
    precision, recall, f1, support = precision_recall_fscore_support(true_ids, pred_ids, labels=ids, zero_division=0)
    per_class = {label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                         "support": int(support[i])} for i, label in enumerate(labels)}
    present = sorted(set(true_ids))        # macro-F1 over the classes that occur in the data
    return Evaluation(
        n=len(true_ids),
        accuracy=float(np.mean(np.asarray(true_ids) == np.asarray(pred_ids))),
        macro_f1=float(f1_score(true_ids, pred_ids, labels=present, average="macro", zero_division=0)),
        labels=list(labels), per_class=per_class,
        confusion=confusion_matrix(true_ids, pred_ids, labels=ids).tolist(), failures=list(failures),
        confidence=confidence_bins(top_probs, [t == p for t, p in zip(true_ids, pred_ids)]) if top_probs else [],
    )


def _predict(model: Classifier, items: list[tuple[Example, Tensor]], device: torch.device,
             batch_size: int = 128) -> tuple[list[int], list[float]]:
    """Each item's predicted label id and the probability given to it."""
    model.eval()
    preds: list[int] = []
    tops: list[float] = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            batch = collate([(w, 0) for _, w in items[start:start + batch_size]]).to(device)
            top, ids = torch.softmax(model(batch.waveforms, batch.lengths).float(), -1).max(-1)
            preds += ids.tolist()
            tops += top.tolist()
    return preds, tops


def evaluate(bundle: LoadedBundle, examples: list[Example]) -> Evaluation:
    """Evaluate a loaded classifier on labelled examples; unreadable files are listed, not fatal."""
    unknown = sorted({e.label for e in examples} - set(bundle.labels))
    if unknown:
        raise ConfigError(f"labels not known to the model: {', '.join(unknown)} (model labels: {', '.join(bundle.labels)})")
    items, failures = decode_examples(examples, bundle.cfg.features.sample_rate)
    items = [(e, prepare(w, bundle.cfg)) for e, w in items]
    index = {label: i for i, label in enumerate(bundle.labels)}
    preds, tops = _predict(bundle.model, items, bundle.device)
    return score([index[e.label] for e, _ in items], preds, bundle.labels, failures, tops)


@dataclass(frozen=True)
class TrainReport:
    run_dir: Path
    bundle_dir: Path
    fit: FitResult
    test: Evaluation | None             # None when no group was held out for testing
    counts: dict[str, int]              # examples in train / val / test
    failures: list[LoadFailure]         # files that could not be read (left out)
    test_groups: list[str]


def _splits(cfg: ClassifyConfig, examples: list[Example], test_groups: list[str] | None):
    if test_groups is not None or cfg.split.test_fraction > 0:
        rest, test = split_by_group(examples, cfg.split.test_fraction, cfg.split.seed, test_groups)
    else:
        rest, test = examples, []
    if cfg.split.val_by == "group":
        train_set, val = split_by_group(rest, cfg.split.val_fraction, cfg.split.seed + 1)
    else:
        order = torch.randperm(len(rest), generator=torch.Generator().manual_seed(cfg.split.seed + 1)).tolist()
        num_val = max(1, round(cfg.split.val_fraction * len(rest)))
        val, train_set = [rest[i] for i in order[:num_val]], [rest[i] for i in order[num_val:]]
    return train_set, val, test


def train(
    cfg: ClassifyConfig,
    examples: list[Example],
    run_dir: str | Path,
    device: torch.device,
    resume: bool = False,
    test_groups: list[str] | None = None,
    on_step: Callable[[StepLog], None] | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
) -> TrainReport:
    """Train a classifier; split test groups and validation off `examples`; write `run_dir/model/` (a bundle)."""
    run_dir = Path(run_dir)
    labels = labels_of(examples)
    train_set, val_set, test_set = _splits(cfg, examples, test_groups)
    sample_rate = cfg.features.sample_rate
    failures: list[LoadFailure] = []
    decoded = {}
    for name, subset in (("train", train_set), ("val", val_set), ("test", test_set)):
        items, bad = decode_examples(subset, sample_rate, cfg.max_duration_s, workers=2)
        trim = name == "test" or cfg.trim_training          # the test split is classified like any clip
        decoded[name] = [(e, prepare(w, cfg) if trim else _centred(w, cfg)) for e, w in items]
        failures += bad
    if not decoded["train"] or not decoded["val"]:
        raise ConfigError(f"{run_dir}: too few examples to train: {len(decoded['train'])} readable for training and "
                          f"{len(decoded['val'])} for validation after the split ({len(examples)} examples, "
                          f"{len(failures)} unreadable); training needs at least one of each")
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg, labels)
    train_ds = AudioDataset(decoded["train"], labels, sample_rate, cfg.augment, cfg.train.seed)
    val_ids = [labels.index(e.label) for e, _ in decoded["val"]]
    spec_gen = torch.Generator()

    def batches(epoch: int):
        train_ds.set_epoch(epoch)
        spec_gen.manual_seed(cfg.train.seed * 31 + epoch)
        order = torch.Generator().manual_seed(cfg.train.seed * 17 + epoch)
        return DataLoader(train_ds, cfg.train.batch_size, shuffle=True, generator=order, collate_fn=collate)

    def validate(m: Classifier) -> dict[str, float]:
        preds, _ = _predict(m, decoded["val"], device)
        result = score(val_ids, preds, labels)
        return {"accuracy": result.accuracy, "macro_f1": result.macro_f1}

    steps = -(-len(train_ds) // cfg.train.batch_size)
    result = fit(model, batches, lambda m, b: loss(m, b, cfg.augment, spec_gen), validate, cfg.train,
                 run_dir, device, steps, resume=resume, on_step=on_step, on_epoch=on_epoch)
    test = None
    if decoded["test"]:
        index = {label: i for i, label in enumerate(labels)}
        preds, tops = _predict(model, decoded["test"], device)
        test = score([index[e.label] for e, _ in decoded["test"]], preds, labels, top_probs=tops)
    groups = sorted({e.group or "" for e in test_set})
    counts = {name: len(items) for name, items in decoded.items()}
    metrics = {"best_epoch": result.best_epoch, "val": result.best_val, "counts": counts, "test_groups": groups,
               "test": test.to_dict() if test else None}
    stats = novelty_stats(model, decoded["train"] + decoded["val"], device)
    bundle_dir = save_bundle(run_dir / "model", {"task": TASK, "config": to_dict(cfg), "labels": labels},
                             model.cpu(), metrics, model_card(cfg, labels, metrics), {NOVELTY_FILE: stats.to_tensors()})
    model.to(device)
    return TrainReport(run_dir, bundle_dir, result, test, counts, failures, groups)


def _masks(a: AugmentConfig) -> str:
    """The SpecAugment masks a config draws, leaving out a kind that is off."""
    kinds = [(a.time_masks, a.time_mask_frames, "time", "frames"), (a.freq_masks, a.freq_mask_bins, "frequency", "bins")]
    return ", ".join(f"{n} {kind} masks of up to {size} {unit}" for n, size, kind, unit in kinds if n and size)


def describe_augment(a: AugmentConfig) -> str:
    """The augmentations a config turns on, with their settings, for a model card."""
    def clips(p: float) -> str:
        return f"{p:.0%} of clips"

    table = [   # (on?, what the card says)
        (a.trim_prob > 0, f"silence trim at {a.trim_db[0]:g}-{a.trim_db[1]:g} dB below the peak ({clips(a.trim_prob)})"),
        (a.crop_prob > 0, f"up to {a.crop_s:g} s cut off each end ({clips(a.crop_prob)})"),
        (a.speed_prob > 0, f"speed x{a.speed[0]:g}-{a.speed[1]:g} ({clips(a.speed_prob)})"),
        (a.eq_prob > 0, f"random EQ up to {a.eq_db:g} dB ({clips(a.eq_prob)})"),
        (a.reverb_prob > 0, f"a synthetic room, RT60 {a.rt60_s[0]:g}-{a.rt60_s[1]:g} s, direct-to-reverberant "
                            f"{a.drr_db[0]:g} to {a.drr_db[1]:g} dB ({clips(a.reverb_prob)})"),
        (a.band_prob > 0, f"band limit (high-pass at {a.highpass_hz[0]:g}-{a.highpass_hz[1]:g} Hz, "
                          f"low-pass at {a.lowpass_hz[0]:g}-{a.lowpass_hz[1]:g} Hz; {clips(a.band_prob)})"),
        (a.shift_s > 0, f"up to {a.shift_s:g} s of leading silence"),
        (a.pad_prob > 0, f"up to {a.pad_s:g} s of silence at each end, under any noise ({clips(a.pad_prob)})"),
        (a.tone_prob > 0, f"a steady whine or mains hum {a.tone_snr_db[0]:g}-{a.tone_snr_db[1]:g} dB under the clip "
                          f"({clips(a.tone_prob)})"),
        (a.noise_prob > 0, f"coloured noise at {a.snr_db[0]:g}-{a.snr_db[1]:g} dB SNR ({clips(a.noise_prob)})"),
        (a.clip_prob > 0, f"clipping, the peak driven {a.clip_db[0]:g}-{a.clip_db[1]:g} dB past full scale "
                          f"({clips(a.clip_prob)})"),
        (a.gain_db > 0, f"gain within ±{a.gain_db:g} dB"),
        (a.warp_prob > 0, f"frequency warp x{a.warp[0]:g}-{a.warp[1]:g} ({clips(a.warp_prob)})"),
        (a.stretch_prob > 0, f"time stretch x{a.stretch[0]:g}-{a.stretch[1]:g} ({clips(a.stretch_prob)})"),
        (a.mixup_prob > 0, f"mixup (alpha {a.mixup_alpha:g}, {a.mixup_prob:.0%} of batches)"),
        (a.mixstyle_prob > 0, f"Freq-MixStyle (alpha {a.mixstyle_alpha:g}, {a.mixstyle_prob:.0%} of batches)"),
        (bool(a.time_masks and a.time_mask_frames or a.freq_masks and a.freq_mask_bins),
         f"SpecAugment ({_masks(a)})"),
        (a.splice_prob > 0, f"clips joined {a.splice_words[0]} to {a.splice_words[1]} at a time into connected speech, "
                            f"up to {a.splice_gap_s:g} s apart, with a label per step ({clips(a.splice_prob)})"),
    ]
    return "; ".join(text for on, text in table if on) or "none"


def step_samples(cfg: ClassifyConfig) -> int:
    """Samples per step of the network's output sequence (a frames head's label): hop times time poolings."""
    return cfg.features.hop_length * cfg.model.encoder.time_stride


def model_card(cfg: ClassifyConfig, labels: list[str], metrics: dict, notes: str = "") -> str:
    """A model card in Markdown: what the model is, how it was trained and evaluated, its figures."""
    test = metrics.get("test")
    f = cfg.features
    step_s = step_samples(cfg) / f.sample_rate                                  # a frames head's step
    lines = [
        "# Audio classifier", "",
        f"Labels ({len(labels)}): {', '.join(labels)}", "",
        "## Model",
        f"- Features: {f.kind}, {f.num_bins} bins, {f.sample_rate} Hz, n_fft {f.n_fft}, hop {f.hop_length} "
        f"({f.frame_rate:g} frames/s), scale {f.scale}, normalisation {f.normalize}."
        + (" Each clip's DC offset (its mean) is taken out first, both for training and for classifying." if cfg.remove_dc else "")
        + (f" Each clip is first trimmed of sound more than {cfg.trim_db:g} dB below its peak at its ends "
           + ("(in training and at inference)." if cfg.trim_training else
              "when it is classified (at inference and in the evaluations below; training clips were not).")
           + (f" A clip still longer than {cfg.noise_trim_after_s:g} s after that is also cut where its sound is less "
              f"than {cfg.noise_margin_db:g} dB above its noise floor (a word recorded with background around it)."
              if cfg.noise_trim_after_s is not None else "")
           if cfg.trim_db is not None else ""),
        f"- CNN encoder: channels {list(cfg.model.encoder.channels)}, time pooling {list(cfg.model.encoder.time_pool)}; "
        f"{cfg.model.recurrent.kind.upper()} hidden {cfg.model.recurrent.hidden_size} x {cfg.model.recurrent.num_layers} "
        f"layer(s), {'bidirectional' if cfg.model.recurrent.bidirectional else 'unidirectional'}; head: {cfg.model.head}"
        + (f" (many-to-many: a label for every {1000 * step_s:g} ms step, which `--timeline` follows; a clip's label comes from "
           "the mean of its steps' logits)." if cfg.model.head == "frames" else " (many-to-one: one label per clip)."),
        "", "## Training",
        f"- AdamW lr {cfg.train.lr}, batch {cfg.train.batch_size}, up to {cfg.train.epochs} epochs, gradient clipping "
        f"at {cfg.train.grad_clip}, early stopping patience {cfg.train.patience} on validation {cfg.train.monitor}, seed {cfg.train.seed}"
        + (f"; the weights are the mean of the last {cfg.train.average_epochs} epochs' (SWA, batch norm recalibrated)."
           if cfg.train.average_epochs else "; the weights are the best validation epoch's."),
        f"- Augmentation (training only): {describe_augment(cfg.augment)}.",
        f"- Examples: {metrics.get('counts')}; "
        + (f"epochs {metrics.get('best_epoch')}; " if cfg.train.average_epochs else f"best epoch {metrics.get('best_epoch')}; ")
        + f"validation {metrics.get('val')}.",
        "", "## Evaluation",
    ]
    if test:
        lines += [f"Held-out groups {metrics.get('test_groups')}: accuracy {test['accuracy']:.4f}, "
                  f"macro-F1 {test['macro_f1']:.4f} on {test['n']} files."]
    else:
        lines += ["No held-out test split in this run (see notes)."]
    if notes:
        lines += ["", notes]
    return "\n".join(lines) + "\n"


def export(bundle: LoadedBundle, fmt: str, out: str | Path) -> Path:
    """Export the network (spectrogram (B, num_bins, n_frames) -> logits (B, num_classes), or with the frames head
    (B, n_steps, num_classes)) to ONNX or TorchScript.

    The feature front end stays outside the file: compute `bundle.cfg.features` spectrograms first
    (its config is in the bundle's config.json). Batch size and frame count are dynamic.
    """
    if fmt not in ("onnx", "torchscript"):
        raise ConfigError(f"export format must be 'onnx' or 'torchscript', got {fmt!r}")
    out = Path(out)
    if not out.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"cannot write it: no folder {out.parent}", str(out))
    net = bundle.model.net.cpu().eval()
    example = torch.zeros(2, bundle.cfg.features.num_bins, 101)
    # torch's notices here are not the user's concern: torch.jit.trace's deprecation, and the ONNX
    # exporter's caution about LSTMs traced at batch 2, which the export test shows does not apply
    # (batch sizes 1 and 3 give PyTorch's outputs too)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "torchscript":
                with torch.no_grad():
                    torch.jit.trace(net, (example,), check_trace=False).save(str(out))
            else:
                torch.onnx.export(net, (example,), str(out), dynamo=False, input_names=["spectrogram"],
                                  output_names=["logits"], dynamic_axes={"spectrogram": {0: "batch", 2: "frames"}})
    finally:
        bundle.model.net.to(bundle.device)
    return out
