"""Suite-wide fixtures: where real data lives, and the device tests run on."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--data-dir",
        default=None,
        help="folder holding real data sets (fsdd/, ...); default: ../shared/data beside the repo when it exists",
    )


@pytest.fixture(scope="session")
def data_dir(request: pytest.FixtureRequest) -> Path:
    """The real-data folder, or a skip that says why there is none."""
    given = request.config.getoption("--data-dir")
    path = Path(given) if given else REPO.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"no real data: {path} does not exist (pass --data-dir)")
    return path


@pytest.fixture(scope="session")
def fsdd_dir(data_dir: Path) -> Path:
    path = data_dir / "fsdd" / "recordings"
    if not path.is_dir():
        pytest.skip(f"no FSDD recordings under {data_dir}")
    return path


@pytest.fixture
def device() -> torch.device:
    """Tests run on the CPU unless WORKBENCH_TEST_DEVICE names another device."""
    import os

    return torch.device(os.environ.get("WORKBENCH_TEST_DEVICE", "cpu"))


class _Stdin:
    """Stands in for sys.stdin: `buffer` holds the piped bytes; a terminal (None) has none."""

    def __init__(self, data: bytes | None):
        self.buffer = io.BytesIO(data or b"")
        self._terminal = data is None

    def isatty(self) -> bool:
        return self._terminal


@pytest.fixture
def pipe_stdin(monkeypatch: pytest.MonkeyPatch) -> Callable[[bytes | None], None]:
    """`pipe_stdin(data)`: what the command under test reads from standard input; None for a terminal."""
    return lambda data: monkeypatch.setattr("sys.stdin", _Stdin(data))
