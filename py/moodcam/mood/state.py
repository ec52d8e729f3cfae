"""The mood state machine: what the page shows, in bounded time, with hysteresis so it never flickers.

States:
    starting   nothing decided yet (camera warming up)
    no_face    no face for ``no_face_timeout_ms`` (or none since the start)
    observing  a face, no answer yet (at most ``answer_within_ms``)
    mood       a face with a confident mood; ``mood`` names it
    cant_tell  a face, but no confident mood: the snapshot carries the leading
               guess and its probability ("Can't tell, maybe neutral, 54 %")
    paused     the page is hidden; input is ignored until resume()

The "answer" is what the page shows for a face: a mood, or "can't tell".

Rules:
  * Bounded time to an answer: a face found after starting/no_face goes to
    observing at once (FaceFound). From there the first answer is
      - the mood, once the same candidate has held on every update for
        ``first_dwell_ms`` (shorter than ``dwell_ms``: nothing is on screen
        to protect yet), or else
      - "can't tell", on the first update ``answer_within_ms`` after the face
        was found.
    So with a face on every update, the machine answers within
    ``answer_within_ms`` (plus at most one frame), whatever the input.
  * After the first answer it never goes back to observing while the face
    stays. Another mood is shown once it has been the candidate on every
    update for ``dwell_ms``; a mood gives way to can't tell once the
    candidate has differed from it (None, or labels that keep changing) on
    every update for ``dwell_ms``. Both durations count from when the
    current answer was shown at the earliest, so shown answers last at least
    ``dwell_ms`` (only the bound's can't tell may replace observing earlier).
  * In can't tell, the guess shown is the leading label of ``scores``; a new
    leader replaces it only after leading on every update for ``dwell_ms``
    (GuessChanged); its probability is always the latest score of the shown
    guess.
  * No face for ``no_face_timeout_ms`` -> no_face (FaceLost; the mood clears).
  * Starting with no face for ``no_face_timeout_ms`` -> no_face.
  * pause() clears the mood; resume() starts over in ``starting``.

Time only comes in as timestamps (milliseconds, non-decreasing); the machine
never reads a clock. Each call returns the events it caused, in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "MoodConfig",
    "MoodStateMachine",
    "MoodSnapshot",
    "STARTING",
    "NO_FACE",
    "OBSERVING",
    "MOOD",
    "CANT_TELL",
    "PAUSED",
    "STATES",
    "Event",
    "StateChanged",
    "MoodChanged",
    "GuessChanged",
    "FaceFound",
    "FaceLost",
    "Paused",
    "Resumed",
]

STARTING = "starting"
NO_FACE = "no_face"
OBSERVING = "observing"
MOOD = "mood"
CANT_TELL = "cant_tell"
PAUSED = "paused"
STATES: tuple[str, ...] = (STARTING, NO_FACE, OBSERVING, MOOD, CANT_TELL, PAUSED)


@dataclass(frozen=True)
class MoodConfig:
    """Timing rules (see the module docstring).

    dwell_ms: how long a new answer (or can't tell's new guess) must hold before it is shown.
    first_dwell_ms: how long the first mood after a face is found must hold (nothing shown yet).
    answer_within_ms: the bound: a steadily seen face has an answer (a mood or can't tell) by then.
    no_face_timeout_ms: how long without a face before no_face.
    """

    dwell_ms: float = 1000.0
    no_face_timeout_ms: float = 1500.0
    first_dwell_ms: float = 500.0
    answer_within_ms: float = 3000.0

    def __post_init__(self) -> None:
        for name in ("dwell_ms", "no_face_timeout_ms", "first_dwell_ms", "answer_within_ms"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class Event:
    """Base of every event; ``kind`` is a stable name for the UI (e.g. 'mood_changed')."""

    timestamp_ms: float

    @property
    def kind(self) -> str:
        return _KINDS[type(self)]

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["kind"] = self.kind
        return d


@dataclass(frozen=True)
class StateChanged(Event):
    previous: str
    state: str


@dataclass(frozen=True)
class MoodChanged(Event):
    previous: str | None
    mood: str | None


@dataclass(frozen=True)
class GuessChanged(Event):
    """The leading guess shown in can't tell changed (not sent when entering or leaving can't tell)."""

    previous: str | None
    guess: str | None


@dataclass(frozen=True)
class FaceFound(Event):
    pass


@dataclass(frozen=True)
class FaceLost(Event):
    pass


@dataclass(frozen=True)
class Paused(Event):
    pass


@dataclass(frozen=True)
class Resumed(Event):
    pass


_KINDS = {
    StateChanged: "state_changed",
    MoodChanged: "mood_changed",
    GuessChanged: "guess_changed",
    FaceFound: "face_found",
    FaceLost: "face_lost",
    Paused: "paused",
    Resumed: "resumed",
}


@dataclass(frozen=True)
class MoodSnapshot:
    """What to show now.

    state: one of STATES ("starting", "no_face", "observing", "mood", "cant_tell", "paused").
    mood: the committed label in the "mood" state, else None.
    since_ms: when ``state`` was entered.
    leading_label: the label the page may name: the mood in "mood"; the shown guess in
        "cant_tell" ("maybe neutral"); the current leader of the scores in "observing"
        (None before any score); None in the other states.
    leading_probability: the main face's latest smoothed probability of ``leading_label``
        (0..1; 0.0 when ``leading_label`` is None).
    """

    state: str
    mood: str | None
    since_ms: float
    leading_label: str | None = None
    leading_probability: float = 0.0

    @property
    def answered(self) -> bool:
        """True in "mood" and "cant_tell": the face has an answer on screen."""
        return self.state in (MOOD, CANT_TELL)


_UNSET = object()


def _leader(scores: Mapping[str, float] | None) -> str | None:
    if not scores:
        return None
    best = None
    for label, p in scores.items():
        if best is None or p > scores[best]:
            best = label
    return best


class MoodStateMachine:
    """See the module docstring. Drive it with :meth:`update` once per frame."""

    def __init__(self, config: MoodConfig = MoodConfig(), start_ms: float = 0.0) -> None:
        self.config = config
        self._state = STARTING
        self._mood: str | None = None
        self._since = float(start_ms)
        self._started = float(start_ms)
        self._last_ms = float(start_ms)
        self._last_face_ms: float | None = None
        self._pending: object = _UNSET
        self._pending_since = float(start_ms)
        self._scores: dict[str, float] = {}
        self._guess: str | None = None
        self._guess_pending: object = _UNSET
        self._guess_pending_since = float(start_ms)
        self._answer_since = float(start_ms)   # when the shown answer (a mood or can't tell) last changed
        self._disagree_since: float | None = None   # the candidate differs from the shown mood since then

    @property
    def state(self) -> str:
        return self._state

    @property
    def mood(self) -> str | None:
        return self._mood

    @property
    def guess(self) -> str | None:
        """The leading guess shown in can't tell (None in the other states)."""
        return self._guess if self._state == CANT_TELL else None

    @property
    def snapshot(self) -> MoodSnapshot:
        if self._state == MOOD:
            label = self._mood
        elif self._state == CANT_TELL:
            label = self._guess
        elif self._state == OBSERVING:
            label = _leader(self._scores)
        else:
            label = None
        prob = float(self._scores.get(label, 0.0)) if label is not None else 0.0
        return MoodSnapshot(self._state, self._mood, self._since, label, prob)

    def _tick(self, t: float) -> None:
        if t < self._last_ms:
            raise ValueError(f"timestamps must not decrease: {t} after {self._last_ms}")
        self._last_ms = float(t)

    def _go(self, state: str, t: float, events: list) -> None:
        if state != self._state:
            events.append(StateChanged(t, self._state, state))
            self._state = state
            self._since = float(t)

    def _set_mood(self, mood: str | None, t: float, events: list) -> None:
        if mood != self._mood:
            events.append(MoodChanged(t, self._mood, mood))
            self._mood = mood
            self._answer_since = float(t)

    def _forget_scores(self) -> None:
        self._scores = {}
        self._guess = None
        self._guess_pending = _UNSET

    def _enter_cant_tell(self, t: float, events: list) -> None:
        self._set_mood(None, t, events)
        self._guess = _leader(self._scores)
        self._guess_pending = self._guess
        self._guess_pending_since = t
        self._answer_since = t
        self._go(CANT_TELL, t, events)

    def update(self, timestamp_ms: float, face_present: bool, candidate: str | None = None,
               scores: Mapping[str, float] | None = None) -> list[Event]:
        """Feed one frame.

        face_present: is any face tracked. candidate: the confident label of the main face
        (its vote), or None. scores: the main face's smoothed probabilities, label -> 0..1
        (the guess shown in can't tell and the snapshot's leading probability); None keeps
        the previous scores (e.g. no emotion output yet for a new face: pass {} to clear).
        """
        if self._state == PAUSED:
            # Ignored whole, timestamp included: a frame that began before pause()
            # may end after it with an older timestamp.
            return []
        t = float(timestamp_ms)
        self._tick(t)
        events: list[Event] = []
        cfg = self.config
        if not face_present:
            # A gap breaks any pending change: the next candidate must hold anew.
            self._pending = _UNSET
            self._disagree_since = None
            self._guess_pending = _UNSET
            if self._state in (OBSERVING, MOOD, CANT_TELL):
                if self._last_face_ms is not None and t - self._last_face_ms >= cfg.no_face_timeout_ms:
                    events.append(FaceLost(t))
                    self._set_mood(None, t, events)
                    self._forget_scores()
                    self._go(NO_FACE, t, events)
            elif self._state == STARTING and t - self._started >= cfg.no_face_timeout_ms:
                self._go(NO_FACE, t, events)
            return events

        self._last_face_ms = t
        if scores is not None:
            self._scores = {str(k): float(v) for k, v in scores.items()}
        if self._state in (STARTING, NO_FACE):
            events.append(FaceFound(t))
            self._go(OBSERVING, t, events)
        if candidate != self._pending:
            self._pending = candidate
            self._pending_since = t

        if self._state == OBSERVING:
            if candidate is not None and t - self._pending_since >= cfg.first_dwell_ms:
                self._set_mood(candidate, t, events)
                self._go(MOOD, t, events)
            elif t - self._since >= cfg.answer_within_ms:
                self._enter_cant_tell(t, events)
            return events

        # mood or cant_tell: the answer changes only after the new target held for dwell_ms,
        # counted from when the current answer was shown at the earliest.
        shown = self._mood if self._state == MOOD else None
        if candidate == shown:
            self._disagree_since = None
        elif self._disagree_since is None:
            self._disagree_since = t
        if candidate != shown:
            held = t - max(self._pending_since, self._answer_since)
            disagreed = t - max(t if self._disagree_since is None else self._disagree_since, self._answer_since)
            if candidate is not None and held >= cfg.dwell_ms:
                self._set_mood(candidate, t, events)
                self._guess = None
                self._disagree_since = None
                self._go(MOOD, t, events)
                return events
            if self._state == MOOD and disagreed >= cfg.dwell_ms:
                self._disagree_since = None
                self._enter_cant_tell(t, events)
                return events

        if self._state == CANT_TELL:
            leader = _leader(self._scores)
            if leader != self._guess_pending:
                self._guess_pending = leader
                self._guess_pending_since = t
            if leader != self._guess and (self._guess is None or t - self._guess_pending_since >= cfg.dwell_ms):
                events.append(GuessChanged(t, self._guess, leader))
                self._guess = leader
        return events

    def pause(self, timestamp_ms: float) -> list[Event]:
        """The page was hidden: stop, clear the mood, ignore updates until resume()."""
        t = float(timestamp_ms)
        self._tick(t)
        if self._state == PAUSED:
            return []
        events: list[Event] = [Paused(t)]
        self._set_mood(None, t, events)
        self._forget_scores()
        self._go(PAUSED, t, events)
        self._pending = _UNSET
        self._disagree_since = None
        return events

    def resume(self, timestamp_ms: float) -> list[Event]:
        """The page is visible again: start over in ``starting`` (old evidence is stale)."""
        t = float(timestamp_ms)
        self._tick(t)
        if self._state != PAUSED:
            return []
        events: list[Event] = [Resumed(t)]
        self._started = t
        self._last_face_ms = None
        self._pending = _UNSET
        self._disagree_since = None
        self._forget_scores()
        self._go(STARTING, t, events)
        return events
