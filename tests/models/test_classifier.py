import dataclasses

import pytest
import torch
import torch.nn.functional as F

from workbench.config import from_dict, to_dict
from workbench.errors import ConfigError
from workbench.models import (
    AudioClassifier, ClassifierConfig, EncoderConfig, FrameEncoder, FrameEncoderConfig, RecurrentConfig,
)

HEADS = ["last", "mean", "attention", "frames"]


def _model(head="attention", bidirectional=True, kind="lstm", num_layers=1) -> AudioClassifier:
    torch.manual_seed(0)
    cfg = ClassifierConfig(
        encoder=EncoderConfig(num_bins=40, channels=(8, 16), time_pool=(2, 2), out_dim=32),
        recurrent=RecurrentConfig(kind=kind, hidden_size=24, num_layers=num_layers, bidirectional=bidirectional),
        head=head,
    )
    return AudioClassifier(cfg, num_classes=5).eval()


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_output_shape_of_every_configuration(head, bidirectional, kind):
    model = _model(head, bidirectional, kind, num_layers=2)
    spec, lengths = torch.randn(3, 40, 101), torch.tensor([101, 64, 17])
    out = model(spec, lengths)
    if head == "frames":
        assert out.shape == (3, 101 // 4, 5)
        assert model.step_lengths(lengths).tolist() == [25, 16, 4]
    else:
        assert out.shape == (3, 5)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_logits(head, bidirectional):
    model = _model(head, bidirectional)
    short, long = torch.randn(1, 40, 50), torch.randn(1, 40, 80)
    both = model(torch.cat([F.pad(short, (0, 30)), long]), torch.tensor([50, 80]))
    alone = model(short, torch.tensor([50]))
    if head == "frames":
        steps = alone.shape[1]
        torch.testing.assert_close(both[:1, :steps], alone, atol=1e-5, rtol=1e-4)
    else:
        torch.testing.assert_close(both[:1], alone, atol=1e-5, rtol=1e-4)


def test_folding_batch_norm_keeps_outputs_and_forbids_training():
    model = _model()
    with torch.no_grad():                           # batch norms with non-trivial running statistics
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    spec, lengths = torch.randn(3, 40, 60), torch.tensor([60, 41, 20])
    before = model(spec, lengths)
    model.encoder.fold_batch_norm()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    torch.testing.assert_close(model(spec, lengths), before, atol=1e-5, rtol=1e-4)
    with pytest.raises(ConfigError, match="folded"):
        model.train()


def test_bidirectional_last_state_sees_the_start_of_the_sequence():
    # A unidirectional "last" head cannot tell sequences apart that differ only at the start once
    # the LSTM has forgotten; a bidirectional one reads the start directly through its backward pass.
    model = _model("last", bidirectional=True)
    a = torch.randn(1, 40, 64)
    b = a.clone()
    b[..., :8] += 3.0
    lengths = torch.tensor([64])
    backward_a = model.recurrent(*model.encoder(a, lengths))[1][:, 24:]
    backward_b = model.recurrent(*model.encoder(b, lengths))[1][:, 24:]
    assert not torch.allclose(backward_a, backward_b)


def test_config_round_trip_and_validation():
    cfg = ClassifierConfig(recurrent=RecurrentConfig(kind="gru", bidirectional=False), head="mean")
    assert from_dict(ClassifierConfig, to_dict(cfg)) == cfg
    with pytest.raises(ConfigError):
        ClassifierConfig(head="max")
    with pytest.raises(ConfigError):
        EncoderConfig(channels=(8, 16), time_pool=(2,))
    with pytest.raises(ConfigError):
        EncoderConfig(num_bins=4, channels=(8, 16, 32))
    with pytest.raises(ConfigError):
        from_dict(ClassifierConfig, {**to_dict(cfg), "extra": 1})
    assert dataclasses.replace(cfg, head="last").head == "last"


def test_frame_encoder_shape():
    enc = FrameEncoder(FrameEncoderConfig(channels=(8, 16), out_dim=20)).eval()
    frames = torch.randn(2, 5, 3, 32, 48)          # (B, T, 3, H, W)
    assert enc(frames).shape == (2, 5, 20)
    # each frame is encoded on its own: the encoding of frame t does not depend on the others
    torch.testing.assert_close(enc(frames)[:, 2], enc(frames[:, 2:3])[:, 0])


def test_overfits_eight_examples(device):
    torch.manual_seed(0)
    model = _model("attention").train().to(device)
    spec = torch.randn(8, 40, 60, device=device)
    lengths = torch.full((8,), 60, device=device)
    labels = torch.arange(8, device=device) % 5
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        loss = F.cross_entropy(model(spec, lengths), labels)
        loss.backward()
        opt.step()
    model.eval()
    assert (model(spec, lengths).argmax(1) == labels).all()


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_logits_and_embedding_give_forwards_logits_and_a_padding_free_embedding(head, bidirectional):
    model = _model(head, bidirectional)
    short, long = torch.randn(1, 40, 50), torch.randn(1, 40, 80)
    logits, embedding = model.logits_and_embedding(torch.cat([F.pad(short, (0, 30)), long]), torch.tensor([50, 80]))
    width = (48 if bidirectional else 24) + 32                     # the pooled vector beside the encoder's mean
    assert logits.shape == (2, 5) and embedding.shape == (2, width)
    if head != "frames":                                          # the frames head's logits are per step in forward
        torch.testing.assert_close(logits, model(torch.cat([F.pad(short, (0, 30)), long]), torch.tensor([50, 80])))
    alone_logits, alone = model.logits_and_embedding(short, None)
    torch.testing.assert_close(embedding[:1], alone, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logits[:1], alone_logits, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_steps_and_embedding_give_the_frames_heads_steps_and_their_embeddings_in_one_pass(bidirectional):
    model = _model("frames", bidirectional)
    spec = torch.randn(2, 40, 80)
    steps, embeddings = model.steps_and_embedding(spec)
    assert steps.shape == (2, 20, 5) and embeddings.shape == (2, 20, (48 if bidirectional else 24) + 32)
    torch.testing.assert_close(steps, model(spec))
    logits, embedding = model.logits_and_embedding(spec)      # a clip's embedding is the mean of its steps'
    torch.testing.assert_close(embeddings.mean(1), embedding)
    torch.testing.assert_close(model.head.out(embeddings[..., :embeddings.shape[-1] - 32].mean(1)), logits)
    with pytest.raises(ConfigError, match="'frames' head, not 'attention'"):
        _model("attention").steps_and_embedding(spec)


@pytest.mark.parametrize("head", HEADS)
def test_clip_logits_are_one_distribution_per_clip_for_every_head(head):
    model = _model(head)
    spec, lengths = torch.randn(2, 40, 80), torch.tensor([80, 50])
    clip = model.clip_logits(spec, lengths)
    assert clip.shape == (2, 5)
    if head == "frames":       # the mean of the valid steps' logits: what a frames head learns clip labels through
        steps, valid = model(spec, lengths), model.step_lengths(lengths)
        expected = torch.stack([steps[i, :valid[i]].mean(0) for i in range(2)])
        torch.testing.assert_close(clip, expected, atol=1e-5, rtol=1e-4)
    else:
        torch.testing.assert_close(clip, model(spec, lengths))
