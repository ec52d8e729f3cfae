"""A video file's analysis (issue 28): one row per face per analysed frame, and what is made of them.

Pure Python (CPython-testable, no clock, no file): browser.video feeds it each analysed frame's
faces and the page's mood, in media time; it keeps them compactly (typed arrays, one number per
field, no frame and no Python object per row) and builds

- the per-frame table (`to_csv`), one row per face per analysed frame;
- the per-face summary (`face_summaries`, `summary_csv`): first and last seen, frames, share of
  each mood (the face's own vote);
- timelines (`face_timeline`, `group_timeline`): (start_s, end_s, key) spans in media time;
- the frames at a moment (`frame_at`, `frame_faces`) and a face's probabilities (`face_samples`) for the
  report's preview and chart (moodcam.video_chart);
- the whole report (`to_json`), with the settings and the model versions it was made with, and each
  face's thumbnail (a PNG data URL, moodcam.thumbnail).

The same rows in the same order give the same text, byte for byte.

The per-frame CSV's columns (pandas: `pd.read_csv(path)` needs no option):

| column | meaning |
| --- | --- |
| time_s | the frame's media time, seconds (where the video was seeked to: inside the frame shown) |
| frame | the analysed frame's index, from 0 (the sampling's, not the file's frame number) |
| face_id | the tracked face's id: the same while the face stays in view |
| x, y, width, height | the face box in pixels of the analysed frame (top-left corner, size) |
| score | the detector's score of the box (0..1) |
| anger, disgust, fear, happiness, sadness, surprise, neutral | the face's probabilities (0..1), as its vote has smoothed them; empty before the face was first read |
| read | 1 when the emotion net read this face in this frame (it reads each face every `emotion_every` frames) |
| label | the face's vote: its confident expression (angry, disgust, fear, happy, sad, surprise, neutral), empty while uncertain |
| mood | the page's mood for the whole picture: a mood's name, or cant_tell, observing, no_face, starting |

The seven probability columns are py-feat's emotion columns by name (py-feat's `detect_video`
writes anger, disgust, fear, happiness, sadness, surprise, neutral); our net's labels map
angry->anger, disgust->disgust, fear->fear, happy->happiness, sad->sadness, surprise->surprise,
neutral->neutral (`PYFEAT_COLUMNS`). py-feat's are one frame's output; ours are the vote's
smoothing of the readings so far (the raw reading of a frame stays inside the engine).
"""
from __future__ import annotations

import csv
import io
import json
import math
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Iterator, Sequence

from .mood.labels import EMOTIONS

PYFEAT_COLUMNS = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
                  "surprise": "surprise", "neutral": "neutral"}
UNCERTAIN = "uncertain"          # a face's key while its vote has no confident label
FORMAT = "moodcam-video-report/1"
DEFAULT_PER_SECOND = 10.0        # frames analysed per media second unless the person chooses otherwise


def sample_times(duration_s: float, per_second: float) -> Iterator[float]:
    """The media times to analyse: 0, 1/N, 2/N, ... below the duration (k / N each, no drift)."""
    k = 0
    while True:
        t = k / per_second
        if t >= duration_s:
            return
        yield round(t, 6)
        k += 1


def clock(seconds: float) -> str:
    """m:ss (h:mm:ss past an hour) for people."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def time_left_s(done_media_s: float, total_media_s: float, elapsed_wall_s: float) -> float | None:
    """Wall seconds still needed at the pace so far; None before there is a pace to go by."""
    if done_media_s <= 0 or elapsed_wall_s <= 0:
        return None
    return max(0.0, (total_media_s - done_media_s) * elapsed_wall_s / done_media_s)


def progress_text(done_media_s: float, total_media_s: float, elapsed_wall_s: float) -> str:
    left = time_left_s(done_media_s, total_media_s, elapsed_wall_s)
    pace = f", {done_media_s / elapsed_wall_s:.1f}x real time" if left is not None else ""
    about = f", about {clock(left)} left" if left is not None else ""
    return f"{clock(done_media_s)} of {clock(total_media_s)} analysed{about}{pace}"


def ended_text(done_media_s: float, total_media_s: float, elapsed_wall_s: float) -> str:
    pace = f" ({done_media_s / elapsed_wall_s:.1f}x real time)" if elapsed_wall_s > 0 else ""
    return f"{clock(done_media_s)} of {clock(total_media_s)} analysed in {clock(elapsed_wall_s)}{pace}"


@dataclass(frozen=True)
class FaceRow:
    """One face in one analysed frame, as the report keeps it."""
    face_id: int
    box: tuple[float, float, float, float]        # x0, y0, x1, y1 in analysed-frame pixels
    score: float
    probabilities: Sequence[float] | None          # in the report's label order; None before the first reading
    read: bool
    label: str | None                              # the vote's label; None while uncertain


@dataclass(frozen=True)
class FaceSummary:
    face_id: int
    first_seen_s: float
    last_seen_s: float
    frames: int
    shares: dict[str, float]                       # label (or "uncertain") -> share of the face's frames


Span = tuple[float, float, str]                    # (start_s, end_s, key)


class VideoReport:
    def __init__(self, *, name: str, duration_s: float, size: tuple[int, int], analysed_size: tuple[int, int],
                 settings: dict, models: dict, labels: Sequence[str] = EMOTIONS) -> None:
        self.name, self.duration_s = name, float(duration_s)
        self.size, self.analysed_size = tuple(size), tuple(analysed_size)
        self.settings, self.models = dict(settings), dict(models)
        self.labels = tuple(labels)
        self.stopped: tuple[float, str] | None = None          # (media time, why) when it ended early
        # Per analysed frame.
        self._frame_time = array("d")
        self._frame_mood = array("h")
        self._moods: list[str] = []
        # Per face per frame: one typed column each.
        self._frame = array("l")
        self._face = array("l")
        self._box = array("d")            # 4 per row
        self._score = array("d")
        self._probs = array("d")          # len(labels) per row; NaN before the first reading
        self._read = array("b")
        self._label = array("h")          # index into labels; -1 uncertain
        # face id -> a PNG data URL of the face (moodcam.thumbnail), set by browser.video.
        self.thumbnails: dict[int, str] = {}

    # -- filling it ------------------------------------------------------------------------
    def add(self, time_s: float, faces: Sequence[FaceRow], mood: str) -> int:
        """One analysed frame (media times non-decreasing); returns its frame index."""
        index = len(self._frame_time)
        self._frame_time.append(float(time_s))
        if mood not in self._moods:
            self._moods.append(mood)
        self._frame_mood.append(self._moods.index(mood))
        n = len(self.labels)
        for face in faces:
            self._frame.append(index)
            self._face.append(int(face.face_id))
            self._box.extend(float(v) for v in face.box)
            self._score.append(float(face.score))
            probs = face.probabilities
            self._probs.extend([math.nan] * n if probs is None else [float(p) for p in probs][:n])
            self._read.append(1 if face.read else 0)
            self._label.append(self.labels.index(face.label) if face.label in self.labels else -1)
        return index

    def stop(self, time_s: float, why: str) -> None:
        """The analysis ended before the video's end: at `time_s`, because `why` (cancelled, truncated...)."""
        self.stopped = (float(time_s), why)

    # -- reading it ------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        return len(self._frame_time)

    @property
    def rows(self) -> int:
        return len(self._face)

    @property
    def analysed_s(self) -> float:
        """Media time covered: up to the last analysed frame's end."""
        return self.frame_end(self.frames - 1) if self.frames else 0.0

    def face_ids(self) -> list[int]:
        return sorted(set(self._face))

    def frame_end(self, index: int) -> float:
        """Where frame `index` stops counting: the next analysed frame, or one step after the last."""
        times = self._frame_time
        if index + 1 < len(times):
            return times[index + 1]
        step = times[index] - times[index - 1] if index > 0 else 1.0 / float(self.settings.get("per_second") or 1.0)
        return min(self.duration_s, times[index] + step) if self.duration_s > times[index] else times[index] + step

    def _key(self, row: int) -> str:
        code = self._label[row]
        return self.labels[code] if code >= 0 else UNCERTAIN

    def frame_at(self, time_s: float) -> int | None:
        """The analysed frame shown at media time `time_s` (the last one at or before it); None before any."""
        if not self.frames:
            return None
        return max(0, bisect_right(self._frame_time, time_s + 1e-9) - 1)

    def frame_time(self, index: int) -> float:
        return self._frame_time[index]

    def frame_faces(self, index: int) -> list[tuple[int, tuple[float, float, float, float], str]]:
        """(face id, box x0 y0 x1 y1, key) of each face in analysed frame `index` (rows are in frame order)."""
        first, last = bisect_left(self._frame, index), bisect_right(self._frame, index)
        return [(self._face[row], tuple(self._box[4 * row: 4 * row + 4]), self._key(row))  # type: ignore[misc]
                for row in range(first, last)]

    def face_samples(self, face_id: int) -> list[tuple[int, float, tuple[float, ...]]]:
        """(frame index, media time, probabilities) of each frame the face was seen in after its first reading."""
        n = len(self.labels)
        out = []
        for row in range(self.rows):
            if self._face[row] != face_id:
                continue
            probs = tuple(self._probs[n * row: n * row + n])
            if probs and not math.isnan(probs[0]):
                frame = self._frame[row]
                out.append((frame, self._frame_time[frame], probs))
        return out

    def face_summaries(self) -> list[FaceSummary]:
        seen: dict[int, list[int]] = {}
        for row, face in enumerate(self._face):
            seen.setdefault(face, []).append(row)
        out = []
        for face in sorted(seen):
            rows = seen[face]
            counts: dict[str, int] = {}
            for row in rows:
                counts[self._key(row)] = counts.get(self._key(row), 0) + 1
            shares = {key: counts.get(key, 0) / len(rows) for key in (*self.labels, UNCERTAIN)}
            out.append(FaceSummary(face, self._frame_time[self._frame[rows[0]]],
                                   self._frame_time[self._frame[rows[-1]]], len(rows), shares))
        return out

    def face_timeline(self, face_id: int) -> list[Span]:
        """The face's vote over media time; a gap where it was out of view."""
        return _merge((self._frame_time[self._frame[row]], self.frame_end(self._frame[row]), self._key(row))
                      for row in range(self.rows) if self._face[row] == face_id)

    def group_timeline(self) -> list[Span]:
        """The page's mood (the whole picture's) over media time."""
        return _merge((self._frame_time[i], self.frame_end(i), self._moods[self._frame_mood[i]])
                      for i in range(self.frames))

    # -- the files ---------------------------------------------------------------------------
    def columns(self) -> list[str]:
        return (["time_s", "frame", "face_id", "x", "y", "width", "height", "score"]
                + [PYFEAT_COLUMNS.get(label, label) for label in self.labels] + ["read", "label", "mood"])

    def row_values(self) -> Iterator[list]:
        n = len(self.labels)
        for row in range(self.rows):
            frame = self._frame[row]
            x0, y0, x1, y1 = self._box[4 * row: 4 * row + 4]
            probs = [("" if math.isnan(p) else round(p, 4)) for p in self._probs[n * row: n * row + n]]
            code = self._label[row]
            yield ([round(self._frame_time[frame], 3), frame, self._face[row], round(x0, 1), round(y0, 1),
                    round(x1 - x0, 1), round(y1 - y0, 1), round(self._score[row], 4)] + probs
                   + [self._read[row], self.labels[code] if code >= 0 else "", self._moods[self._frame_mood[frame]]])

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns())
        writer.writerows(self.row_values())
        return out.getvalue()

    def summary_columns(self) -> list[str]:
        return (["face_id", "first_seen_s", "last_seen_s", "frames"]
                + [f"share_{PYFEAT_COLUMNS.get(key, key)}" for key in (*self.labels, UNCERTAIN)])

    def summary_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.summary_columns())
        for s in self.face_summaries():
            writer.writerow([s.face_id, round(s.first_seen_s, 3), round(s.last_seen_s, 3), s.frames]
                            + [round(s.shares[key], 4) for key in (*self.labels, UNCERTAIN)])
        return out.getvalue()

    def to_dict(self) -> dict:
        stopped = None if self.stopped is None else {"at_s": round(self.stopped[0], 3), "why": self.stopped[1]}
        return {
            "format": FORMAT,
            "video": {"name": self.name, "duration_s": round(self.duration_s, 3), "size": list(self.size),
                      "analysed_size": list(self.analysed_size)},
            "settings": self.settings, "models": self.models, "labels": list(self.labels),
            "frames_analysed": self.frames, "analysed_s": round(self.analysed_s, 3), "stopped": stopped,
            "faces": [{"face_id": s.face_id, "first_seen_s": round(s.first_seen_s, 3),
                       "last_seen_s": round(s.last_seen_s, 3), "frames": s.frames,
                       "shares": {k: round(v, 4) for k, v in s.shares.items()},
                       "thumbnail": self.thumbnails.get(s.face_id),
                       "timeline": [_span(span) for span in self.face_timeline(s.face_id)]}
                      for s in self.face_summaries()],
            "group_timeline": [_span(span) for span in self.group_timeline()],
            "rows": {"columns": self.columns(), "data": list(self.row_values())},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def _merge(spans: Iterator[Span]) -> list[Span]:
    """Neighbouring spans with the same key as one (a gap in time keeps them apart)."""
    out: list[Span] = []
    for start, end, key in spans:
        if out and out[-1][2] == key and abs(out[-1][1] - start) < 1e-9:
            out[-1] = (out[-1][0], end, key)
        else:
            out.append((start, end, key))
    return out


def _span(span: Span) -> dict:
    return {"start_s": round(span[0], 3), "end_s": round(span[1], 3), "key": span[2]}
