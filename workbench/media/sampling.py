"""How to pick frames from a video: `Sampling`, parsed from text like "uniform:16" or built in code."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ConfigError

_KINDS = ("uniform", "fps", "range", "every", "keyframes", "all")


@dataclass(frozen=True)
class Sampling:
    """Which frames to read. Build with the class methods, or `Sampling.parse("uniform:16")`.

    uniform(n): n frames, the first frame at or after the middle of each of n equal segments of the span.
    fps(x): for each time span_start + k/x, the frame displayed at that time (the last one with pts <= t).
    range(t0, t1): every frame with t0 <= time < t1.   every(k): frames 0, k, 2k, ... of the span.
    keyframes(): the keyframes (only those are decoded).   all(): every frame.
    """

    kind: str = "all"
    num_frames: int | None = None       # uniform
    frames_per_s: float | None = None   # fps
    start_s: float | None = None        # range
    end_s: float | None = None          # range
    step: int | None = None             # every

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ConfigError(f"unknown sampling kind {self.kind!r}; expected one of {', '.join(_KINDS)}")
        if self.kind == "uniform" and not (isinstance(self.num_frames, int) and self.num_frames > 0):
            raise ConfigError(f"uniform sampling needs a positive number of frames, got {self.num_frames!r}")
        if self.kind == "fps" and not (self.frames_per_s is not None and self.frames_per_s > 0):
            raise ConfigError(f"fps sampling needs a positive rate, got {self.frames_per_s!r}")
        if self.kind == "every" and not (isinstance(self.step, int) and self.step > 0):
            raise ConfigError(f"every sampling needs a positive step, got {self.step!r}")
        if self.kind == "range" and not (self.start_s is not None and self.end_s is not None
                                         and 0 <= self.start_s < self.end_s):
            raise ConfigError(f"range sampling needs 0 <= start_s < end_s, got {self.start_s!r}, {self.end_s!r}")

    @classmethod
    def uniform(cls, n: int) -> Sampling:
        return cls("uniform", num_frames=n)

    @classmethod
    def fps(cls, x: float) -> Sampling:
        return cls("fps", frames_per_s=float(x))

    @classmethod
    def range(cls, t0_s: float, t1_s: float) -> Sampling:
        return cls("range", start_s=float(t0_s), end_s=float(t1_s))

    @classmethod
    def every(cls, k: int) -> Sampling:
        return cls("every", step=k)

    @classmethod
    def keyframes(cls) -> Sampling:
        return cls("keyframes")

    @classmethod
    def all(cls) -> Sampling:
        return cls("all")

    @classmethod
    def parse(cls, text: str) -> Sampling:
        """"uniform:16", "fps:2", "range:1.5:3", "every:5", "keyframes", "all" -> Sampling; bad text -> ConfigError."""
        kind, *args = text.strip().split(":")
        arity = {"uniform": 1, "fps": 1, "range": 2, "every": 1, "keyframes": 0, "all": 0}
        if kind not in arity or len(args) != arity[kind]:
            raise ConfigError(f"bad sampling {text!r}; expected uniform:N, fps:X, range:T0:T1, every:K, "
                              "keyframes or all")
        try:
            if kind in ("uniform", "every"):
                return getattr(cls, kind)(int(args[0]))
            if kind == "fps":
                return cls.fps(float(args[0]))
            if kind == "range":
                return cls.range(float(args[0]), float(args[1]))
        except ValueError:
            raise ConfigError(f"bad sampling {text!r}: {':'.join(args)!r} is not a number") from None
        return getattr(cls, kind)()

    def __str__(self) -> str:
        params = {"uniform": [self.num_frames], "fps": [self.frames_per_s], "range": [self.start_s, self.end_s],
                  "every": [self.step]}.get(self.kind, [])
        return ":".join([self.kind, *(f"{p:g}" if isinstance(p, float) else str(p) for p in params)])
