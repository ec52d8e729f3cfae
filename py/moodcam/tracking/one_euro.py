"""One Euro filter (Casiez, Roussel and Vogel, CHI 2012), vectorised over an array of values.

A low-pass filter whose cut-off rises with the signal's speed: still boxes are
smoothed hard (no jitter), fast-moving boxes follow with little lag. Time comes
in as timestamps (milliseconds), never from a clock.

A non-finite value (NaN, +-inf) would stay in the filter's state for good, so
the filter resets when it is handed one (and returns it as it is: there is
nothing to smooth), or when its own state stops being finite (overflow from
absurd values); the next finite values start afresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["OneEuroConfig", "OneEuroFilter"]


@dataclass(frozen=True)
class OneEuroConfig:
    """Filter parameters. Units: Hz for cut-offs; ``beta`` per (value unit per second).

    min_cutoff: cut-off when still; lower = smoother, more lag.
    beta: how fast the cut-off grows with speed; higher = less lag when moving.
    d_cutoff: cut-off for the speed estimate itself.
    """

    min_cutoff: float = 1.0
    beta: float = 0.05
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        if self.min_cutoff <= 0 or self.d_cutoff <= 0 or self.beta < 0:
            raise ValueError(f"need min_cutoff > 0, d_cutoff > 0, beta >= 0; got {self}")


def _alpha(cutoff, dt: float):
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters an array of values of fixed shape; call with (values, timestamp_ms)."""

    def __init__(self, config: OneEuroConfig = OneEuroConfig()) -> None:
        self.config = config
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t_ms: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t_ms = None

    @property
    def value(self) -> np.ndarray | None:
        return self._x

    def __call__(self, values, timestamp_ms: float) -> np.ndarray:
        x = np.asarray(values, dtype=np.float64)
        if not np.isfinite(x).all():
            self.reset()
            return x.copy()
        if self._x is None:
            self._x = x.copy()
            self._dx = np.zeros_like(x)
            self._t_ms = float(timestamp_ms)
            return self._x.copy()
        assert self._dx is not None and self._t_ms is not None  # set together with _x
        if x.shape != self._x.shape:
            raise ValueError(f"values changed shape from {self._x.shape} to {x.shape}; reset() the filter first")
        dt = (float(timestamp_ms) - self._t_ms) / 1000.0
        if dt <= 0:
            # Same (or older) timestamp: no time has passed, nothing to smooth over.
            # Keep the newest measurement rather than dividing by zero.
            if dt < 0:
                raise ValueError(f"timestamps must not decrease: {timestamp_ms} after {self._t_ms}")
            return self._x.copy()
        cfg = self.config
        with np.errstate(over="ignore", invalid="ignore"):
            dx = (x - self._x) / dt
            a_d = _alpha(cfg.d_cutoff, dt)
            self._dx = self._dx + a_d * (dx - self._dx)
            cutoff = cfg.min_cutoff + cfg.beta * np.abs(self._dx)
            a = _alpha(cutoff, dt)
            self._x = self._x + a * (x - self._x)
        self._t_ms = float(timestamp_ms)
        if not (np.isfinite(self._x).all() and np.isfinite(self._dx).all()):
            # Overflow: start again from this (finite) measurement.
            self.reset()
            return self(x, timestamp_ms)
        return self._x.copy()
