"""What the page says when a frame's emotion reading could not be used: pure Python (tests/browser_logic).

FrameLogic skips a face's vote on a bad reading (NaN from the net, say) and switches off a calibration
whose output is not finite, and reports both among a FrameResult's events (moodcam.readings). The
camera goes on either way; these turn the events into words for #notice, and name the calibration
failure for teach mode to switch the stored choice off (browser.teach_mode).
"""
from __future__ import annotations

from typing import Iterable

from ..mood.state import Event
from ..readings import CalibrationDropped, ReadingSkipped

NOTICE_HOLD_MS = 5000.0     # the notice stays this long after the last skipped reading, then clears


def dropped_calibration(events: Iterable[Event]) -> str | None:
    """Why the calibration was switched off this frame, or None when it was not."""
    return next((e.reason for e in events if isinstance(e, CalibrationDropped)), None)


def skipped_text(reason: str) -> str:
    return (f"A face's reading was skipped: {reason}. The camera goes on; if this keeps happening, reload "
            "the page or choose another backend.")


class SkippedReadingNotice:
    """The #notice line about skipped readings: shown while they happen, cleared NOTICE_HOLD_MS after the
    last one. ``update`` returns the text to show, "" to clear it, or None when nothing changes (the
    live region is not told the same thing every frame)."""

    def __init__(self, hold_ms: float = NOTICE_HOLD_MS) -> None:
        self.hold_ms = float(hold_ms)
        self._text = ""
        self._last_ms = 0.0

    def update(self, events: Iterable[Event], now_ms: float) -> str | None:
        skipped = [e for e in events if isinstance(e, ReadingSkipped)]
        if skipped:
            self._last_ms = float(now_ms)
            text = skipped_text(skipped[-1].reason)
            if text == self._text:
                return None
            self._text = text
            return text
        if self._text and now_ms - self._last_ms >= self.hold_ms:
            self._text = ""
            return ""                  # only ever clears a line it showed itself
        return None

    @property
    def showing(self) -> str:
        return self._text
