"""Weights files: what cuDNN does to an LSTM on CUDA (parameters that are views of one buffer) must
not stop a checkpoint from being written or read back."""

import pytest
import torch
from torch import nn

from workbench.bundle import read_weights, save_weights


class Packed(nn.Module):
    """Two parameters that are views of one flat buffer, as cuDNN packs an LSTM's weights."""

    def __init__(self) -> None:
        super().__init__()
        flat = torch.arange(12, dtype=torch.float32)
        self.a = nn.Parameter(flat[:8].view(2, 4))
        self.b = nn.Parameter(flat[8:])
        self.register_buffer("count", torch.tensor(3))


def test_parameters_that_share_a_buffer_round_trip(tmp_path):
    model = Packed()
    assert model.a.untyped_storage().data_ptr() == model.b.untyped_storage().data_ptr()
    save_weights(model, tmp_path / "w.safetensors")
    other = Packed()
    with torch.no_grad():
        other.a.zero_()
        other.b.zero_()
    read_weights(other, tmp_path / "w.safetensors")
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(other.state_dict()[name], tensor)


def test_reading_weights_of_another_model_names_the_mismatch(tmp_path):
    save_weights(nn.Linear(4, 2), tmp_path / "w.safetensors")
    with pytest.raises(RuntimeError, match="weight"):
        read_weights(nn.Linear(4, 3), tmp_path / "w.safetensors")
