"""When the engine keeps its Pyodide snapshot for the next visit: when the CPU can spare it.

Making the snapshot starts a second interpreter (app/snapshot.js), a second or more of CPU.
On a fast device the other core has room once the first mood is shown; on a slow one (a
phone) the first minute's frames need every cycle, so it waits until the device keeps up,
the page is hidden, or at the latest LATEST_MS after the engine started (app/engine.js keeps
the same fallback, so a page whose camera never opens still gets one). Pure: no clock, no JS.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..mood.state import CANT_TELL, MOOD

LATEST_MS = 60_000.0        # kept at the latest this long after the engine started, whatever else
SETTLED_MS = 3_000.0        # the device must keep up this long after the first answer


@dataclass
class SnapshotTiming:
    started_ms: float                      # the engine's start (engine clock)
    asked: bool = False                    # asked once; the maker runs once
    _keeping_up_since: float | None = None

    def after_frame(self, now_ms: float, mood_state: str, keeping_up: bool) -> bool:
        """A camera frame was shown: True when the snapshot should be made now."""
        answered = mood_state in (MOOD, CANT_TELL)
        if not (answered and keeping_up):
            self._keeping_up_since = None
        elif self._keeping_up_since is None:
            self._keeping_up_since = now_ms
        settled = self._keeping_up_since is not None and now_ms - self._keeping_up_since >= SETTLED_MS
        return self._ask(settled or now_ms - self.started_ms >= LATEST_MS)

    def page_hidden(self) -> bool:
        """Nobody is watching: the frames stop, the CPU is free."""
        return self._ask(True)

    def _ask(self, due: bool) -> bool:
        if due and not self.asked:
            self.asked = True
            return True
        return False
