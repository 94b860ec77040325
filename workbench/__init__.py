"""AV Workbench: audio and video sequence models from decoding to demo."""

from workbench.config import device
from workbench.errors import ConfigError, MediaError, WorkbenchError

__version__ = "0.1.0"
__all__ = ["ConfigError", "MediaError", "WorkbenchError", "__version__", "device"]
