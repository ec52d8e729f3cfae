"""The mood state machine: what the page shows, with hysteresis so it never flickers.

States:
    starting   nothing decided yet (camera warming up)
    no_face    no face for ``no_face_timeout_ms`` (or none since the start)
    observing  a face, but no confident mood (yet)
    mood       a face with a confident mood; ``mood`` names it
    paused     the page is hidden; input is ignored until resume()

Rules:
  * The displayed mood changes (to another label, or back to observing) only
    after the new target has been the candidate on every update for at least
    ``dwell_ms``. So two moods are entered at least ``dwell_ms`` apart,
    whatever the input.
  * A face found after starting/no_face goes to observing at once (FaceFound).
  * No face for ``no_face_timeout_ms`` -> no_face (FaceLost; the mood clears).
  * Starting with no face for ``no_face_timeout_ms`` -> no_face.
  * pause() clears the mood; resume() starts over in ``starting``.

Time only comes in as timestamps (milliseconds, non-decreasing); the machine
never reads a clock. Each call returns the events it caused, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MoodConfig",
    "MoodStateMachine",
    "MoodSnapshot",
    "STARTING",
    "NO_FACE",
    "OBSERVING",
    "MOOD",
    "PAUSED",
    "Event",
    "StateChanged",
    "MoodChanged",
    "FaceFound",
    "FaceLost",
    "Paused",
    "Resumed",
]

STARTING = "starting"
NO_FACE = "no_face"
OBSERVING = "observing"
MOOD = "mood"
PAUSED = "paused"


@dataclass(frozen=True)
class MoodConfig:
    dwell_ms: float = 1000.0
    no_face_timeout_ms: float = 1500.0

    def __post_init__(self) -> None:
        if self.dwell_ms < 0 or self.no_face_timeout_ms < 0:
            raise ValueError(f"dwell_ms and no_face_timeout_ms must be >= 0, got {self}")


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
    FaceFound: "face_found",
    FaceLost: "face_lost",
    Paused: "paused",
    Resumed: "resumed",
}


@dataclass(frozen=True)
class MoodSnapshot:
    """What to show now: ``state`` (one of the constants) and ``mood`` (a label in the mood state)."""

    state: str
    mood: str | None
    since_ms: float


_UNSET = object()


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

    @property
    def state(self) -> str:
        return self._state

    @property
    def mood(self) -> str | None:
        return self._mood

    @property
    def snapshot(self) -> MoodSnapshot:
        return MoodSnapshot(self._state, self._mood, self._since)

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

    def update(self, timestamp_ms: float, face_present: bool, candidate: str | None = None) -> list[Event]:
        """Feed one frame: is a face present, and the confident label of the main face (or None)."""
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
            if self._state in (OBSERVING, MOOD):
                if self._last_face_ms is not None and t - self._last_face_ms >= cfg.no_face_timeout_ms:
                    events.append(FaceLost(t))
                    self._set_mood(None, t, events)
                    self._go(NO_FACE, t, events)
            elif self._state == STARTING and t - self._started >= cfg.no_face_timeout_ms:
                self._go(NO_FACE, t, events)
            return events

        self._last_face_ms = t
        if self._state in (STARTING, NO_FACE):
            events.append(FaceFound(t))
            self._go(OBSERVING, t, events)
        if candidate != self._pending:
            self._pending = candidate
            self._pending_since = t
        if candidate != self._mood and t - self._pending_since >= cfg.dwell_ms:
            self._set_mood(candidate, t, events)
            self._go(OBSERVING if candidate is None else MOOD, t, events)
        return events

    def pause(self, timestamp_ms: float) -> list[Event]:
        """The page was hidden: stop, clear the mood, ignore updates until resume()."""
        t = float(timestamp_ms)
        self._tick(t)
        if self._state == PAUSED:
            return []
        events: list[Event] = [Paused(t)]
        self._set_mood(None, t, events)
        self._go(PAUSED, t, events)
        self._pending = _UNSET
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
        self._go(STARTING, t, events)
        return events
