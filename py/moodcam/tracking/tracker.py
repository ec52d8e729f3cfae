"""Face tracking across frames: stable ids, smoothed boxes, dropping faces that left.

Each detector run, new detections are matched to existing tracks greedily by
IoU (best pair first, pairs under ``min_iou`` never match). A matched track's
box and key points pass through a One Euro filter; an unmatched detection
starts a new track with a fresh id. A track is dropped when its face was
absent from ``max_missed_runs`` consecutive detector runs AND has not been seen
for more than ``max_missing_ms``: both, so that slow frames (the detector
running rarely) do not drop a face that is still there, and a single missed
detection on fast frames does not either.

Between detector runs nothing needs to be called: tracks simply keep their
last smoothed box (faces move little in a few frames, which is why the
detector can run every N frames). Detections with a non-finite box, key point
or score are ignored (decoding drops them already; faces handed over by other
stages, e.g. FaceMesh, are checked here), so NaN never enters a track; each
track's filter also resets itself if it ever sees a non-finite value. Expiry is judged on detector runs
(:meth:`FaceTracker.update`); :meth:`FaceTracker.expire` is a time-only
clean-up for callers whose detector may stop running altogether.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..detection.boxes import as_boxes, iou_unchecked
from ..detection.result import Detections
from .one_euro import OneEuroConfig, OneEuroFilter

__all__ = ["TrackerConfig", "Track", "FaceTracker", "greedy_iou_match"]


@dataclass(frozen=True)
class TrackerConfig:
    min_iou: float = 0.3
    max_missing_ms: float = 700.0
    # Consecutive detector runs a face must be missing from before its track is dropped
    # (with max_missing_ms: both must be exceeded). 1 = the first run without it.
    max_missed_runs: int = 2
    smoothing: OneEuroConfig = OneEuroConfig()
    # Cap on simultaneous tracks (lowest-score new detections are ignored past it).
    max_tracks: int = 8

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_iou <= 1.0:
            raise ValueError(f"min_iou must be in [0, 1], got {self.min_iou}")
        if self.max_missing_ms < 0:
            raise ValueError(f"max_missing_ms must be >= 0, got {self.max_missing_ms}")
        if self.max_missed_runs < 1:
            raise ValueError(f"max_missed_runs must be >= 1, got {self.max_missed_runs}")
        if self.max_tracks < 1:
            raise ValueError(f"max_tracks must be >= 1, got {self.max_tracks}")


@dataclass(eq=False)
class Track:
    """One tracked face. ``box`` (4,) xyxy and ``keypoints`` (K, 2) are smoothed, frame pixels."""

    id: int
    box: np.ndarray
    keypoints: np.ndarray
    score: float
    first_seen_ms: float
    last_seen_ms: float
    hits: int = 1
    missed_runs: int = 0          # consecutive detector runs that did not see this face
    raw_box: np.ndarray | None = None
    _filter: OneEuroFilter = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def age_ms(self, now_ms: float) -> float:
        """How long this face has been tracked."""
        return now_ms - self.first_seen_ms

    def missing_ms(self, now_ms: float) -> float:
        """How long since the detector last saw this face."""
        return now_ms - self.last_seen_ms

    @property
    def area(self) -> float:
        return float(max(self.box[2] - self.box[0], 0.0) * max(self.box[3] - self.box[1], 0.0))


def greedy_iou_match(a_boxes, b_boxes, min_iou: float) -> list[tuple[int, int]]:
    """Pairs (i, j) matching boxes of ``a`` (N, 4) to ``b`` (M, 4), highest IoU first, each used once."""
    if len(a_boxes) == 0 or len(b_boxes) == 0:
        return []
    iou = iou_unchecked(as_boxes(a_boxes), as_boxes(b_boxes))  # (N, M)
    pairs: list[tuple[int, int]] = []
    if iou.shape == (1, 1):                              # the common one-face case, no sorting
        return [(0, 0)] if iou[0, 0] >= min_iou and iou[0, 0] > 0 else []
    flat = np.argsort(-iou, axis=None, kind="stable")
    used_a = np.zeros(iou.shape[0], dtype=bool)
    used_b = np.zeros(iou.shape[1], dtype=bool)
    for f in flat:
        i, j = divmod(int(f), iou.shape[1])
        if iou[i, j] < min_iou or iou[i, j] <= 0:
            break
        if used_a[i] or used_b[j]:
            continue
        used_a[i] = used_b[j] = True
        pairs.append((i, j))
    return pairs


def _finite_only(det: Detections) -> Detections:
    """The detections whose box, key points and score are all finite."""
    ok = np.isfinite(det.boxes).all(axis=1) & np.isfinite(det.scores)
    if det.keypoints.shape[1]:
        ok &= np.isfinite(det.keypoints).all(axis=(1, 2))
    return det if bool(ok.all()) else det.filter(ok)


class FaceTracker:
    """Keeps face ids across frames. See the module docstring for the rules."""

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self._tracks: list[Track] = []
        self._next_id = 1
        self._last_ms: float | None = None

    @property
    def tracks(self) -> tuple[Track, ...]:
        """Live tracks, oldest first."""
        return tuple(self._tracks)

    def get(self, track_id: int) -> Track | None:
        for t in self._tracks:
            if t.id == track_id:
                return t
        return None

    def remove(self, track_id: int) -> Track | None:
        """Drop one track now (a face the second look refused); returns it, or None if unknown."""
        track = self.get(track_id)
        if track is not None:
            self._tracks.remove(track)
        return track

    def reset(self) -> None:
        """Forget every track (ids keep increasing, so an old id is never reused)."""
        self._tracks = []
        self._last_ms = None

    def _check_time(self, timestamp_ms: float) -> None:
        if self._last_ms is not None and timestamp_ms < self._last_ms:
            raise ValueError(f"timestamps must not decrease: {timestamp_ms} after {self._last_ms}")
        self._last_ms = float(timestamp_ms)

    def expire(self, timestamp_ms: float) -> list[Track]:
        """Drop tracks unseen for more than max_missing_ms, whatever the detector runs; returns them.

        Time only: for callers whose detector may not run again. A frame loop that runs the
        detector regularly does not need it (update() expires on missed runs and time).
        """
        self._check_time(timestamp_ms)
        limit = self.config.max_missing_ms
        dropped = [t for t in self._tracks if timestamp_ms - t.last_seen_ms > limit]
        if dropped:
            self._tracks = [t for t in self._tracks if timestamp_ms - t.last_seen_ms <= limit]
        return dropped

    def update(self, detections: Detections, timestamp_ms: float,
               covers: Callable[[np.ndarray], np.ndarray] | None = None,
               keeps_place: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[list[Track], list[Track]]:
        """Feed one detector run (detections in frame pixels). Returns (new tracks, dropped tracks).

        covers: for a run that looks at part of the frame, or only at some sizes of face
        (moodcam.detection.tiles): the tracks' boxes (T, 4) -> (T,) True where the run could have
        seen that face. A track it could not is still refreshed when a detection matches it, but
        its absence is not counted as a miss. None: the run covers every track.
        keeps_place: the tracks' boxes (T, 4) -> (T,) True where a matching detection says the face
        is there without moving it (a model that places boxes differently from the one that tracks
        them: the auto range's far runs, moodcam.auto_range). None: every match moves its track."""
        self._check_time(timestamp_ms)
        detections = _finite_only(detections)
        boxes = np.array([t.box for t in self._tracks]).reshape(-1, 4)
        pairs = greedy_iou_match(boxes, detections.boxes, self.config.min_iou)
        kept = (np.zeros(len(self._tracks), dtype=bool) if keeps_place is None or not pairs
                else np.asarray(keeps_place(boxes), dtype=bool))
        matched_det = set()
        matched_tracks = set()
        for ti, di in pairs:
            if kept[ti]:
                self._seen(self._tracks[ti], timestamp_ms)
            else:
                self._refresh(self._tracks[ti], detections, di, timestamp_ms)
            matched_det.add(di)
            matched_tracks.add(ti)
        covered = (np.ones(len(self._tracks), dtype=bool) if covers is None
                   else np.asarray(covers(boxes), dtype=bool))
        for ti, track in enumerate(self._tracks):
            if ti not in matched_tracks and covered[ti]:
                track.missed_runs += 1
        created: list[Track] = []
        # New faces, best score first, up to the track cap.
        for di in np.argsort(-detections.scores, kind="stable"):
            di = int(di)
            if di in matched_det or len(self._tracks) >= self.config.max_tracks:
                continue
            created.append(self._start(detections, di, timestamp_ms))
        # New tracks were seen now, so only old ones can expire here.
        return created, self._drop_missed(timestamp_ms)

    def _drop_missed(self, timestamp_ms: float) -> list[Track]:
        cfg = self.config
        gone = [t for t in self._tracks
                if t.missed_runs >= cfg.max_missed_runs and timestamp_ms - t.last_seen_ms > cfg.max_missing_ms]
        if gone:
            self._tracks = [t for t in self._tracks if t not in gone]
        return gone

    def _start(self, det: Detections, i: int, now: float) -> Track:
        f = OneEuroFilter(self.config.smoothing)
        k = det.keypoints.shape[1]
        packed = f(np.concatenate([det.boxes[i], det.keypoints[i].reshape(-1)]), now)
        track = Track(self._next_id, packed[:4], packed[4:].reshape(k, 2), float(det.scores[i]), now, now,
                      raw_box=det.boxes[i].astype(np.float64), _filter=f)
        self._next_id += 1
        self._tracks.append(track)
        return track

    def _refresh(self, track: Track, det: Detections, i: int, now: float) -> None:
        k = det.keypoints.shape[1]
        packed = track._filter(np.concatenate([det.boxes[i], det.keypoints[i].reshape(-1)]), now)
        track.box = packed[:4]
        track.keypoints = packed[4:].reshape(k, 2)
        track.raw_box = det.boxes[i].astype(np.float64)
        track.score = float(det.scores[i])
        self._seen(track, now)

    @staticmethod
    def _seen(track: Track, now: float) -> None:
        track.last_seen_ms = float(now)
        track.hits += 1
        track.missed_runs = 0
