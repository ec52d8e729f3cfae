"""Per-face confidence voting: turn a stream of class probabilities into a label or "uncertain".

Strategies (pick one config dataclass; every threshold is a field):
  * ConsecutiveVoting (default: top score >= 80 % and the last 3 predictions agree, a rule that held up in a browser emotion app): accept the top label
    when its probability is >= ``threshold`` (0.8) and the last ``agree`` (3)
    predictions had the same top label.
  * MovingAverageVoting: average the probability vectors of the last
    ``window`` predictions; accept the average's top label when its averaged
    probability is >= ``threshold``.
  * MarginVoting: accept the top label when it beats the runner-up by at least
    ``margin`` and its probability is >= ``min_probability``.

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
    "ConsecutiveVoting",
    "MovingAverageVoting",
    "MarginVoting",
    "VotingConfig",
    "Vote",
    "Voter",
    "voting_config",
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

    def __post_init__(self) -> None:
        _check_unit("threshold", self.threshold)
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")


@dataclass(frozen=True)
class MarginVoting:
    margin: float = 0.3
    min_probability: float = 0.4

    def __post_init__(self) -> None:
        _check_unit("margin", self.margin)
        _check_unit("min_probability", self.min_probability)


VotingConfig = Union[ConsecutiveVoting, MovingAverageVoting, MarginVoting]

_BY_NAME: dict[str, type[VotingConfig]] = {"consecutive": ConsecutiveVoting, "moving_average": MovingAverageVoting, "margin": MarginVoting}


def voting_config(strategy: str = "consecutive", **fields) -> VotingConfig:
    """Config by strategy name ("consecutive", "moving_average", "margin") plus its fields."""
    try:
        cls = _BY_NAME[strategy]
    except KeyError:
        raise ValueError(f"unknown voting strategy {strategy!r}; choose one of {sorted(_BY_NAME)}") from None
    return cls(**fields)


@dataclass(frozen=True)
class Vote:
    """One decision. ``label`` is None when uncertain; ``top_label`` is the raw argmax of the input."""

    label: str | None
    probability: float
    top_label: str
    top_probability: float

    @property
    def uncertain(self) -> bool:
        return self.label is None


class Voter:
    """Votes for one face. ``feed(probabilities)`` returns the new :class:`Vote`."""

    def __init__(self, config: VotingConfig = ConsecutiveVoting(), labels: tuple[str, ...] = EMOTIONS) -> None:
        if not isinstance(config, (ConsecutiveVoting, MovingAverageVoting, MarginVoting)):
            raise ValueError(f"config must be a voting config dataclass, got {type(config).__name__}")
        self.config = config
        self.labels = tuple(labels)
        size = config.agree if isinstance(config, ConsecutiveVoting) else (
            config.window if isinstance(config, MovingAverageVoting) else 1)
        self._tops: deque[int] = deque(maxlen=size)
        self._probs: deque[np.ndarray] = deque(maxlen=size)
        self.current: Vote | None = None

    def reset(self) -> None:
        self._tops.clear()
        self._probs.clear()
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
        if isinstance(cfg, ConsecutiveVoting):
            self._tops.append(top)
            if (top_p >= cfg.threshold and len(self._tops) == cfg.agree
                    and all(t == top for t in self._tops)):
                label_index = top
        elif isinstance(cfg, MovingAverageVoting):
            self._probs.append(p)
            mean = np.mean(np.stack(self._probs), axis=0)
            best = int(np.argmax(mean))
            prob = float(mean[best])
            if prob >= cfg.threshold:
                label_index = best
        else:
            second = float(np.partition(p, -2)[-2]) if p.size > 1 else 0.0
            if top_p - second >= cfg.margin and top_p >= cfg.min_probability:
                label_index = top
        label = None if label_index is None else self.labels[label_index]
        self.current = Vote(label, prob, self.labels[top], top_p)
        return self.current
