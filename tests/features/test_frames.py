"""Frame tensors for CNNs: shapes, normalisation, resizing, batching and config checks."""

from __future__ import annotations

import json

import pytest
import torch

from workbench.config import from_dict, to_dict
from workbench.errors import ConfigError
from workbench.features import FrameConfig, FrameExtractor, frames_to_tensor

MEAN = torch.tensor(FrameConfig().mean).view(3, 1, 1)
STD = torch.tensor(FrameConfig().std).view(3, 1, 1)


def _frames(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def test_frames_already_at_size_are_only_normalised(device):
    frames = _frames(4, 112, 112, 3).to(device)
    out = frames_to_tensor(frames, FrameConfig())
    assert out.shape == (4, 3, 112, 112) and out.dtype == torch.float32 and out.device.type == device.type
    expected = (frames.permute(0, 3, 1, 2).float().cpu() / 255 - MEAN) / STD
    torch.testing.assert_close(out.cpu(), expected)


def test_black_and_white_map_to_the_normalised_extremes():
    frames = torch.stack([torch.zeros(40, 60, 3, dtype=torch.uint8), torch.full((40, 60, 3), 255, dtype=torch.uint8)])
    out = frames_to_tensor(frames, FrameConfig(size=16))
    assert out.shape == (2, 3, 16, 16)
    torch.testing.assert_close(out[0], (-MEAN / STD).expand(3, 16, 16))
    torch.testing.assert_close(out[1], ((1 - MEAN) / STD).expand(3, 16, 16))


def test_resize_keeps_the_picture():
    frame = torch.zeros(1, 64, 96, 3, dtype=torch.uint8)
    frame[..., :48, 0] = 255  # left half red, right half blue
    frame[..., 48:, 2] = 255
    out = frames_to_tensor(frame, FrameConfig(size=32, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)))
    assert out.shape == (1, 3, 32, 32)
    torch.testing.assert_close(out[0, 0, :, :15], torch.ones(32, 15))
    torch.testing.assert_close(out[0, 2, :, 17:], torch.ones(32, 15))
    assert out.min() >= 0 and out.max() <= 1 + 1e-6  # antialiased bilinear never overshoots


def test_extractor_batch_equals_frames_to_tensor(device):
    cfg = FrameConfig(size=24)
    batch = _frames(2, 3, 30, 40, 3).to(device)
    out = FrameExtractor(cfg).to(device)(batch)
    assert out.shape == (2, 3, 3, 24, 24) and out.device.type == device.type
    for i in range(2):
        torch.testing.assert_close(out[i], frames_to_tensor(batch[i], cfg))


def test_extractor_buffers_follow_the_module(device):
    module = FrameExtractor(FrameConfig()).to(device)
    assert {name for name, _ in module.named_buffers()} == {"mean", "std"}
    assert all(b.device.type == device.type for b in module.buffers())
    assert module.state_dict() == {}


def test_no_frames_give_an_empty_tensor():
    assert frames_to_tensor(_frames(0, 20, 20, 3), FrameConfig(size=8)).shape == (0, 3, 8, 8)


@pytest.mark.parametrize("frames", [
    torch.zeros(2, 8, 8, 3),  # float, not uint8
    torch.zeros(2, 8, 8, 4, dtype=torch.uint8),  # RGBA
    torch.zeros(8, 8, 3, dtype=torch.uint8),  # one frame without T
])
def test_bad_frames_are_rejected(frames):
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\) uint8"):
        frames_to_tensor(frames, FrameConfig())
    with pytest.raises(ValueError):
        FrameExtractor(FrameConfig())(frames)


@pytest.mark.parametrize("kwargs", [
    {"size": 0}, {"sampling": ""}, {"std": (0.2, 0.0, 0.2)}, {"mean": (0.5, 0.5)}, {"std": (1.0, 1.0, 1.0, 1.0)},
])
def test_bad_config_is_a_config_error(kwargs):
    with pytest.raises(ConfigError):
        FrameConfig(**kwargs)


def test_config_json_round_trip():
    cfg = FrameConfig(sampling="fps:2", size=64, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    assert from_dict(FrameConfig, json.loads(json.dumps(to_dict(cfg)))) == cfg
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(FrameConfig, {"size": 64, "fps": 2})
