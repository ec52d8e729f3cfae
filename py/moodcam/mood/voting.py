"""Per-face confidence voting: turn a stream of class probabilities into a label or "uncertain".

Strategies (pick one config dataclass; every threshold is a field; names for voting_config()):
  * EmaVoting ("ema"): an exponential moving average of the probability
    vectors (weight ``alpha`` on the newest); accept the average's top label
    when it is >= ``min_probability`` and beats the runner-up by >= ``margin``.
  * ConsecutiveVoting ("strict"; also "consecutive"): seed 004's rule, top
    score >= 80 % and the last 3 predictions agree: accept the top label when
    its probability is >= ``threshold`` and the last ``agree`` predictions
    had the same top label.
  * MovingAverageVoting ("window"; also "moving_average"): average the
    probability vectors of the last ``window`` predictions; accept the
    average's top label when its averaged probability is >= ``threshold``
    (and beats the runner-up by >= ``margin``).
  * MarginVoting ("margin"): accept the latest top label when it beats the
    runner-up by at least ``margin`` and its probability is >= ``min_probability``.

The default was chosen by measurement on real emotion-net streams
(tests/parity/measure_voting.py; the table is in docs/mood.md, "How the mood is
decided"). Votes only say "confident or not"; how long a label must hold, and
the bounded fall-back to "can't tell", are the mood state machine's job
(moodcam.mood.state).

Every vote also carries ``smoothed``: the strategy's own evidence as a
probability vector (the EMA; the window's mean; for strict the mean of its
last ``agree`` predictions; for margin the latest prediction), for bars and
for the "can't tell" guess.

A voter's decision holds between predictions (the emotion net does not run
every frame); :attr:`Voter.current` is the latest decision.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Union

import numpy as np

from .labels import EMOTIONS

__all__ = [
    "EmaVoting",
    "ConsecutiveVoting",
    "MovingAverageVoting",
    "MarginVoting",
    "VotingConfig",
    "Vote",
    "Voter",
    "voting_config",
    "DEFAULT_VOTING",
    "STRATEGY_NAMES",
]


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class ConsecutiveVoting:
    threshold: float = 0.8
    agree: int = 3

    def __post_init__(self) -> None:
        _check_unit("threshold", self.threshold)
        if self.agree < 1:
            raise ValueError(f"agree must be >= 1, got {self.agree}")


@dataclass(frozen=True)
class MovingAverageVoting:
    threshold: float = 0.6
    window: int = 5
    margin: float = 0.0

    def __post_init__(self) -> None:
        _check_unit("threshold", self.threshold)
        _check_unit("margin", self.margin)
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")


@dataclass(frozen=True)
class MarginVoting:
    margin: float = 0.3
    min_probability: float = 0.4

    def __post_init__(self) -> None:
        _check_unit("margin", self.margin)
        _check_unit("min_probability", self.min_probability)


@dataclass(frozen=True)
class EmaVoting:
    # Defaults measured (tests/parity/measure_voting.py): the best setting on real net streams.
    alpha: float = 0.7
    min_probability: float = 0.3
    margin: float = 0.15

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {self.alpha}")
        _check_unit("min_probability", self.min_probability)
        _check_unit("margin", self.margin)


VotingConfig = Union[EmaVoting, ConsecutiveVoting, MovingAverageVoting, MarginVoting]

_BY_NAME: dict[str, type[VotingConfig]] = {
    "ema": EmaVoting,
    "strict": ConsecutiveVoting,
    "window": MovingAverageVoting,
    "margin": MarginVoting,
    "consecutive": ConsecutiveVoting,       # older names, kept
    "moving_average": MovingAverageVoting,
}
STRATEGY_NAMES: tuple[str, ...] = ("ema", "strict", "window", "margin")

DEFAULT_VOTING: VotingConfig = EmaVoting()


def voting_config(strategy: str = "ema", **fields) -> VotingConfig:
    """Config by strategy name ("ema", "strict", "window", "margin") plus its fields.

    ``voting_config("strict")`` is seed 004's rule (top >= 0.8 and the last 3 agree)."""
    try:
        cls = _BY_NAME[strategy]
    except KeyError:
        raise ValueError(f"unknown voting strategy {strategy!r}; choose one of {sorted(_BY_NAME)}") from None
    return cls(**fields)


@dataclass(frozen=True)
class Vote:
    """One decision.

    label: the accepted label, None when uncertain.
    probability: the evidence for the decision: the smoothed probability of the
        smoothed vector's leader (for strict and margin, the latest top probability).
    top_label, top_probability: the raw argmax of the latest input and its probability.
    smoothed: the strategy's smoothed probability vector, in the voter's label order.
    leading_label, leading_probability: the argmax of ``smoothed`` and its value.
    """

    label: str | None
    probability: float
    top_label: str
    top_probability: float
    smoothed: tuple[float, ...] = ()
    leading_label: str | None = None
    leading_probability: float = 0.0

    @property
    def uncertain(self) -> bool:
        return self.label is None


class Voter:
    """Votes for one face. ``feed(probabilities)`` returns the new :class:`Vote`."""

    def __init__(self, config: VotingConfig = DEFAULT_VOTING, labels: tuple[str, ...] = EMOTIONS) -> None:
        if not isinstance(config, (EmaVoting, ConsecutiveVoting, MovingAverageVoting, MarginVoting)):
            raise ValueError(f"config must be a voting config dataclass, got {type(config).__name__}")
        self.config = config
        self.labels = tuple(labels)
        size = config.agree if isinstance(config, ConsecutiveVoting) else (
            config.window if isinstance(config, MovingAverageVoting) else 1)
        self._tops: deque[int] = deque(maxlen=size)
        self._probs: deque[np.ndarray] = deque(maxlen=size)
        self._ema: np.ndarray | None = None
        self.current: Vote | None = None

    def reset(self) -> None:
        self._tops.clear()
        self._probs.clear()
        self._ema = None
        self.current = None

    def feed(self, probabilities) -> Vote:
        p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
        if p.shape != (len(self.labels),):
            raise ValueError(
                f"expected {len(self.labels)} probabilities in the order {self.labels}, got shape "
                f"{np.shape(probabilities)}"
            )
        if not np.all(np.isfinite(p)):
            raise ValueError("probabilities contain NaN or infinity; check the emotion model's output")
        top = int(np.argmax(p))
        top_p = float(p[top])
        cfg = self.config
        label_index: int | None = None
        prob = top_p
        if isinstance(cfg, EmaVoting):
            ema = p.copy() if self._ema is None else cfg.alpha * p + (1 - cfg.alpha) * self._ema
            self._ema = smoothed = ema
            best, prob, second = _top_two(smoothed)
            if prob >= cfg.min_probability and prob - second >= cfg.margin:
                label_index = best
        elif isinstance(cfg, ConsecutiveVoting):
            self._tops.append(top)
            self._probs.append(p)
            smoothed = np.mean(np.stack(self._probs), axis=0)
            if (top_p >= cfg.threshold and len(self._tops) == cfg.agree
                    and all(t == top for t in self._tops)):
                label_index = top
        elif isinstance(cfg, MovingAverageVoting):
            self._probs.append(p)
            smoothed = np.mean(np.stack(self._probs), axis=0)
            best, prob, second = _top_two(smoothed)
            if prob >= cfg.threshold and prob - second >= cfg.margin:
                label_index = best
        else:
            smoothed = p
            second = _top_two(p)[2]
            if top_p - second >= cfg.margin and top_p >= cfg.min_probability:
                label_index = top
        label = None if label_index is None else self.labels[label_index]
        lead = int(np.argmax(smoothed))
        self.current = Vote(label, prob, self.labels[top], top_p, tuple(float(x) for x in smoothed),
                            self.labels[lead], float(smoothed[lead]))
        return self.current


def _top_two(v: np.ndarray) -> tuple[int, float, float]:
    """(argmax, max, runner-up value) of a vector (runner-up 0.0 for one class)."""
    best = int(np.argmax(v))
    second = float(np.partition(v, -2)[-2]) if v.size > 1 else 0.0
    return best, float(v[best]), second
