"""The session's mood over time: a strip of the last minutes, and a file the person can keep.

MoodTimeline records what the page showed, frame by frame, as segments (a new
segment only when the shown state, mood or face count changes), so a long
session costs little memory. `strip(now)` gives the last `window_ms` as
(start, end, key) spans for drawing; `to_csv()` / `to_json()` give the whole
session (bounded by `max_segments`) for "Save session". Pure Python: timestamps
come in, nothing reads a clock; `started_at_unix_ms` only labels the file.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass

__all__ = ["Segment", "MoodTimeline", "timeline_key", "WINDOW_MS"]

WINDOW_MS = 120_000.0          # the strip under the video: the last two minutes
MAX_SEGMENTS = 20_000          # the saved file keeps this many changes (oldest dropped first)


def timeline_key(state: str, mood: str | None) -> str:
    """One colour per key: the mood when one is shown, else the state (no_face, cant_tell, ...)."""
    return mood if state == "mood" and mood else state


@dataclass
class Segment:
    start_ms: float
    end_ms: float
    state: str
    mood: str              # "" unless state == "mood"
    faces: int
    label: str             # what the page said, e.g. "Happy" or "Can't tell, maybe neutral, 54 %"

    @property
    def key(self) -> str:
        return timeline_key(self.state, self.mood)


class MoodTimeline:
    def __init__(self, window_ms: float = WINDOW_MS, max_segments: int = MAX_SEGMENTS,
                 started_at_unix_ms: float = 0.0) -> None:
        self.window_ms = float(window_ms)
        self.max_segments = int(max_segments)
        self.started_at_unix_ms = float(started_at_unix_ms)
        self.segments: list[Segment] = []
        self.dropped = 0

    def add(self, timestamp_ms: float, state: str, mood: str | None, faces: int, label: str = "") -> None:
        """What the page shows at `timestamp_ms` (non-decreasing)."""
        t = float(timestamp_ms)
        last = self.segments[-1] if self.segments else None
        if last is not None and t < last.end_ms:
            t = last.end_ms                          # never go back in time
        mood = (mood or "") if state == "mood" else ""
        if last is not None and (last.state, last.mood, last.faces, last.label) == (state, mood, faces, label):
            last.end_ms = t
            return
        if last is not None:
            last.end_ms = t
        self.segments.append(Segment(t, t, state, mood, int(faces), label))
        if len(self.segments) > self.max_segments:
            del self.segments[0]
            self.dropped += 1

    def strip(self, now_ms: float) -> list[tuple[float, float, str]]:
        """(start, end, key) spans inside the last window, clipped to it, oldest first."""
        since = float(now_ms) - self.window_ms
        out = []
        for s in self.segments:
            end = max(s.end_ms, s.start_ms)
            if end < since:
                continue
            out.append((max(s.start_ms, since), min(end, float(now_ms)), s.key))
        return out

    # -- the saved file ---------------------------------------------------------------------
    def rows(self) -> list[dict]:
        return [{**asdict(s), "key": s.key, "duration_ms": round(s.end_ms - s.start_ms, 1)} for s in self.segments]

    def to_json(self) -> str:
        return json.dumps({"format": "moodcam-session/1", "started_at_unix_ms": self.started_at_unix_ms,
                           "segments_dropped": self.dropped, "segments": self.rows()}, indent=1)

    def to_csv(self) -> str:
        out = io.StringIO()
        fields = ["start_ms", "end_ms", "duration_ms", "state", "mood", "key", "faces", "label"]
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        return out.getvalue()
