"""The exceptions a user of the workbench sees.

Every error a client (CLI, app, pipeline) is expected to catch derives from `WorkbenchError`.
Bad media raises a `MediaError` subclass whose message names the file and the problem.
"""

from __future__ import annotations

from pathlib import Path


class WorkbenchError(Exception):
    """Base class of the errors the workbench raises on purpose."""


class ConfigError(WorkbenchError, ValueError):
    """A configuration value is invalid or unknown."""


class MediaError(WorkbenchError):
    """A media file could not be used. `str(err)` is "<path>: <reason>"."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # keep the (path, reason) signature picklable across processes
        return (type(self), (self.path, self.reason))


class MediaNotFoundError(MediaError, FileNotFoundError):
    """The path does not exist or is not a regular file."""


class EmptyMediaError(MediaError):
    """The file has zero bytes, or decodes to nothing."""


class NotMediaError(MediaError):
    """The file is not a media container FFmpeg recognises (text, random bytes, ...)."""


class CorruptMediaError(MediaError):
    """The container was recognised but its data is truncated or corrupt."""


class NoAudioStreamError(MediaError):
    """The file has no audio stream."""


class NoVideoStreamError(MediaError):
    """The file has no video stream."""


class UnsupportedCodecError(MediaError):
    """A stream uses a codec this FFmpeg build cannot decode or encode."""


class MediaLimitError(MediaError):
    """The file exceeds a configured limit (duration, pixels or file size)."""
