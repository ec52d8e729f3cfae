"""FrameLogic: one frame of app logic, from raw model outputs to what the UI draws.

This is the contract the browser layer codes against. Per video frame:

    plan = logic.begin_frame(timestamp_ms, frame_width, frame_height)
    if plan.run_detector:                       # letterbox plan.tile (None: the frame) with plan.detector_letterbox
        logic.submit_detections(regressors, classificators)          # (a)
    for req in logic.emotion_requests():        # (b) crop req.crop from the frame
        logic.submit_emotion(req.face_id, probabilities, features)   # (c) features: optional, (D,)
    result = logic.end_frame()                  # (d) draw result; react to result.events

plus ``logic.pause(t)`` / ``logic.resume(t)`` on page visibility changes,
``logic.abort_frame()`` when reading a frame failed half-way, and
``logic.reconfigure(config)`` when the person changes a setting (tracks, votes
and the mood are kept), and ``logic.set_calibration(head | None)``: with a head
(moodcam.calibration), every later emotion output goes through
``calibrated_probabilities`` (using that face's features) before the vote.

Coordinates: everything is in source-frame pixels of the unmirrored camera
frame (crops read that frame). A mirrored (selfie) preview is the drawing's
business: moodcam.geometry.mirror_boxes / mirror_points at drawing time.

Nothing here reads a clock, imports js/pyodide, or keeps references to the
arrays passed in.

Why one file of over 500 lines: FrameLogic is one state machine over one frame (plan,
detections, emotion requests, votes, result) whose steps share the tracker, the schedule and
the votes; its result types sit beside it so the contract above reads in one place. The
parts that stand alone (decode, NMS, tracking, voting, the mood) are their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detection.letterbox import Letterbox
from .detection.pipeline import BLAZEFACE_SHORT_RANGE_SPEC, DetectorSpec, FaceDetectorPostprocess
from .detection.result import Detections
from .detection.tiles import DetectorSweep, Tile, TileConfig, from_tile
from .calibration import CalibrationHead, calibrated_probabilities
from .geometry.crop import CropRegion, crop_around_face
from .mood.labels import EMOTIONS
from .mood.state import PAUSED, Event, MoodConfig, MoodSnapshot, MoodStateMachine
from .mood.voting import DEFAULT_VOTING, Vote, Voter, VotingConfig
from .readings import HEAD_FAILED, CalibrationDropped, ReadingSkipped, reading_problem
from .schedule import ScheduleConfig, Scheduler
from .tracking.tracker import FaceTracker, Track, TrackerConfig

__all__ = ["FrameLogicConfig", "FramePlan", "EmotionRequest", "FaceView", "FrameResult", "FrameLogic"]


@dataclass(frozen=True)
class FrameLogicConfig:
    """Every knob of the per-frame logic, with the app's defaults."""

    detector: DetectorSpec = BLAZEFACE_SHORT_RANGE_SPEC
    schedule: ScheduleConfig = ScheduleConfig()
    tracker: TrackerConfig = TrackerConfig()
    voting: VotingConfig = DEFAULT_VOTING   # measured: docs/mood.md, "How the mood is decided"
    mood: MoodConfig = MoodConfig()
    emotion_labels: tuple[str, ...] = EMOTIONS
    emotion_input_size: int = 64          # the fer model's 64 x 64 input
    crop_margin: float = 0.1              # extra room around the face box, fraction of its long side
    rotate_crops: bool = False            # level the eyes (needs tf.image.transform instead of cropAndResize)
    round_letterbox: bool = False         # whole-pixel letterbox offsets (see Letterbox.fit)
    # Faces narrower than this (source pixels) are tracked, drawn and counted, but not read
    # ("too far to read" on the page): measured (tests/parity/measure_readable_face.py), a face
    # the net reads firmly at full size keeps its label in >= 97 % of frames from 44 px up, and
    # Grace Hopper's drops to 62 % at 40 px; below it the reading is a guess.
    min_readable_face_px: float = 44.0
    # A tile sweep (moodcam.detection.tiles): detector runs alternate between the whole frame and
    # one tile of it, for faces too small for one pass. None: every run sees the whole frame.
    tiles: TileConfig | None = None


@dataclass(frozen=True)
class FramePlan:
    """What the browser should run this frame."""

    frame_index: int
    timestamp_ms: float
    run_detector: bool
    letterbox: Letterbox  # how to draw the frame into the detector input (scale, padding)
    paused: bool = False  # the page is hidden: run nothing (submissions are ignored)
    # With a tile sweep, the part of the frame this detector run looks at (None: the whole
    # frame) and its own letterbox (the tile -> the detector input).
    tile: Tile | None = None
    tile_letterbox: Letterbox | None = None

    @property
    def detector_letterbox(self) -> Letterbox:
        """How to draw the detector input: the tile's letterbox on a tile run, else the frame's."""
        return self.tile_letterbox if self.tile_letterbox is not None else self.letterbox


@dataclass(frozen=True)
class EmotionRequest:
    """Crop one tracked face for the emotion net.

    crop: the region in frame pixels (see moodcam.geometry.crop).
    box: [y1, x1, y2, x2] for tf.image.cropAndResize at ``size`` x ``size``;
        None when the crop is rotated.
    transform: the 8 numbers for tf.image.transform (output -> frame pixel),
        valid for rotated and unrotated crops, output ``size`` x ``size``.
    """

    face_id: int
    crop: CropRegion
    size: int
    box: tuple[float, float, float, float] | None
    transform: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"face_id": self.face_id, "size": self.size, "box": None if self.box is None else list(self.box),
                "transform": list(self.transform), "rotation": self.crop.rotation}


@dataclass(frozen=True)
class FaceView:
    """One face as the UI draws it (source pixels).

    id: the track id (stable while the face is tracked).
    box: (4,) xyxy; keypoints: (K, 2); score: the detector's score.
    label: this face's accepted (confident) label from its vote; None while uncertain.
        This is the per-frame vote; the page's mood is ``FrameResult.mood`` (dwell, bound).
    probability: the vote's probability (0 before the first emotion run).
    top_label: raw argmax of the latest emotion output (None before the first run).
    primary: the largest face (drawn first in lists; it breaks ties in the group's mood).
    readable: False when the face is narrower than ``min_readable_face_px``: no emotion is
        read for it ("too far to read"), it still counts as a face.
    probabilities: the smoothed probability vector, one float per class in
        ``FrameResult.labels`` order (7 for the fer net), for bars; None before the
        face's first emotion run. It is the voting strategy's own smoothing (see moodcam.mood.voting).
    leading_label / leading_probability: argmax of ``probabilities`` and its value
        (None / 0.0 before the first emotion run).
    features: (D,) the emotion net's penultimate features from THIS frame's run on the face
        (None when the net did not read it this frame, or gave no features); teach mode
        collects these. Not part of to_dict (it stays in Python).
    net_probabilities: (classes,) the generic net's own output of this frame's run (before
        any calibration), None when the net did not read the face this frame.
    """

    id: int
    box: np.ndarray              # (4,) xyxy
    keypoints: np.ndarray        # (K, 2)
    score: float
    label: str | None            # accepted label; None while uncertain
    probability: float           # the vote's probability (0 before the first emotion run)
    top_label: str | None        # raw argmax of the latest emotion output
    primary: bool                # the largest face
    probabilities: tuple[float, ...] | None = None   # smoothed, in FrameResult.labels order; None before any run
    leading_label: str | None = None          # argmax of probabilities
    leading_probability: float = 0.0          # its value
    readable: bool = True                     # wide enough to read its expression
    features: np.ndarray | None = None        # (D,) this frame's features; None if not read this frame
    net_probabilities: np.ndarray | None = None   # (classes,) this frame's generic output, uncalibrated

    @property
    def uncertain(self) -> bool:
        return self.label is None

    def to_dict(self) -> dict:
        return {"id": self.id, "box": self.box.tolist(), "keypoints": self.keypoints.tolist(),
                "score": self.score, "label": self.label, "uncertain": self.uncertain,
                "probability": self.probability, "top_label": self.top_label, "primary": self.primary,
                "probabilities": None if self.probabilities is None else list(self.probabilities),
                "leading_label": self.leading_label,
                "leading_probability": self.leading_probability, "readable": self.readable}


@dataclass(frozen=True)
class FrameResult:
    """What one frame produced.

    faces: every tracked face (FaceView), the primary one flagged.
    mood: the page's mood (MoodSnapshot): ``state`` is one of "starting", "no_face",
        "observing", "mood", "cant_tell", "paused"; ``mood`` the committed label in "mood";
        ``leading_label`` / ``leading_probability`` the label to name and the primary face's
        smoothed probability of it (the mood in "mood"; the guess in "cant_tell", as in
        "Can't tell, maybe neutral, 54 %"; the current leader in "observing").
        moodcam.mood.presentation.headline(snapshot) writes that line.
    events: what changed this frame (state_changed, mood_changed, guess_changed, face_found,
        face_lost, paused, resumed; reading_skipped and calibration_dropped from moodcam.readings,
        for the page to say), in order.
    labels: the class names, in the order of every FaceView.probabilities.
    calibrated: a calibration head was applied to this frame's emotion outputs (set_calibration).
    """

    frame_index: int
    timestamp_ms: float
    faces: tuple[FaceView, ...]
    mood: MoodSnapshot
    events: tuple[Event, ...]
    ran_detector: bool
    emotion_face_ids: tuple[int, ...]
    labels: tuple[str, ...] = EMOTIONS
    calibrated: bool = False

    def to_dict(self) -> dict:
        """Plain dicts/lists/floats, for ``pyodide.ffi.to_js(..., dict_converter=Object.fromEntries)``."""
        return {
            "frame_index": self.frame_index,
            "timestamp_ms": self.timestamp_ms,
            "faces": [f.to_dict() for f in self.faces],
            "state": self.mood.state,
            "mood": self.mood.mood,
            "state_since_ms": self.mood.since_ms,
            "leading_label": self.mood.leading_label,
            "leading_probability": self.mood.leading_probability,
            "labels": list(self.labels),
            "events": [e.to_dict() for e in self.events],
            "ran_detector": self.ran_detector,
            "emotion_face_ids": list(self.emotion_face_ids),
            "calibrated": self.calibrated,
        }


@dataclass
class _Frame:
    plan: FramePlan
    ran_detector: bool = False
    emotion_ids: list[int] = field(default_factory=list)
    requests: tuple[EmotionRequest, ...] | None = None
    # face id -> (features (D,) or None, generic probabilities (classes,)) read this frame
    readings: dict[int, tuple[np.ndarray | None, np.ndarray]] = field(default_factory=dict)


class FrameLogic:
    """Ties detection post-processing, tracking, voting and the mood state together."""

    def __init__(self, config: FrameLogicConfig = FrameLogicConfig(), start_ms: float = 0.0) -> None:
        self.config = config
        self.postprocess = FaceDetectorPostprocess(config.detector)
        self.tracker = FaceTracker(config.tracker)
        self.scheduler = Scheduler(config.schedule)
        self.sweep = DetectorSweep(config.tiles) if config.tiles is not None else None
        self._tile_letterboxes: dict[Tile, Letterbox] = {}
        self.state = MoodStateMachine(config.mood, start_ms=start_ms)
        self._voters: dict[int, Voter] = {}
        self._frame_index = -1
        self._frame: _Frame | None = None
        self._letterbox: Letterbox | None = None
        self._pending_events: list[Event] = []
        self._pending_config: FrameLogicConfig | None = None
        self._calibration: CalibrationHead | None = None

    # -- the per-frame protocol ------------------------------------------------
    def begin_frame(self, timestamp_ms: float, frame_width: float, frame_height: float) -> FramePlan:
        """Start a frame; says whether to run the detector and how to letterbox for it."""
        if self._frame is not None:
            raise RuntimeError("begin_frame() called twice; call end_frame() to finish the previous frame")
        self._frame_index += 1
        lb = self._letterbox
        if lb is None or lb.source_size != (float(frame_width), float(frame_height)):
            tw, th = self.config.detector.input_size
            lb = self._letterbox = Letterbox.fit(frame_width, frame_height, tw, th,
                                                 round_padding=self.config.round_letterbox)
        paused = self.state.state == PAUSED
        run = not paused and self.scheduler.detector_due(self._frame_index, bool(self.tracker.tracks))
        tile = self.sweep.next_region(float(frame_width), float(frame_height)) if run and self.sweep else None
        plan = FramePlan(self._frame_index, float(timestamp_ms), run, lb, paused, tile, self._tile_letterbox(tile))
        self._frame = _Frame(plan)
        return plan

    def submit_detections(self, raw_boxes, raw_scores) -> Detections:
        """(a) Raw detector outputs ([1, 896, 16] and [1, 896, 1]) -> faces in frame pixels; updates tracks.

        On a tile run (plan.tile) the outputs are the tile's: they are decoded with the tile's
        letterbox, moved into the frame and filtered (moodcam.detection.tiles.from_tile), and the
        run counts as missing only the faces it could have seen (DetectorSweep.covers)."""
        frame = self._require_frame("submit_detections")
        plan = frame.plan
        det = self.postprocess(raw_boxes, raw_scores, plan.detector_letterbox)
        covers = None
        if self.sweep is not None:
            fw, fh = plan.letterbox.source_size
            if plan.tile is not None:
                small = self.sweep.config.small_face_px(fw, fh)
                det = from_tile(det, plan.tile, (fw, fh), small, self.sweep.config.edge_px)
            sweep, tile = self.sweep, plan.tile

            def covers(boxes: np.ndarray) -> np.ndarray:
                return sweep.covers(tile, boxes, fw, fh)
        if self.paused:
            # A late result from before the page was hidden: faces will be stale on return.
            return det
        _, dropped = self.tracker.update(det, plan.timestamp_ms, covers)
        for track in dropped:
            self._forget(track.id)
        self.scheduler.detector_ran(frame.plan.frame_index)
        frame.ran_detector = True
        frame.requests = None  # tracks changed: recompute the crops
        return det

    def submit_faces(self, detections: Detections) -> None:
        """(a') Faces found by another stage this frame (e.g. FaceMesh tracking), in frame pixels.

        Updates the tracks exactly like a detector run (matching, smoothing, expiry), so
        emotion and mood keep working while the detector itself is mostly skipped. Call it
        at most once per frame, instead of submit_detections. It does not count as a
        detector run: ``FrameResult.ran_detector`` and the detector schedule are untouched
        (when the other stage stops, the detector is due at once).
        """
        frame = self._require_frame("submit_faces")
        if self.paused:
            return
        _, dropped = self.tracker.update(detections, frame.plan.timestamp_ms)
        for track in dropped:
            self._forget(track.id)
        frame.requests = None  # tracks changed: recompute the crops

    def emotion_requests(self) -> tuple[EmotionRequest, ...]:
        """(b) The tracked faces to classify this frame, with their crops."""
        frame = self._require_frame("emotion_requests")
        if self.paused:
            return ()
        if frame.requests is None:
            tracks = {t.id: t for t in self.tracker.tracks if self._readable(t)}
            due = self.scheduler.emotion_due(frame.plan.frame_index, tracks.keys())
            frame.requests = tuple(self._request(tracks[fid], frame.plan.letterbox.source_size) for fid in due)
        return frame.requests

    def submit_emotion(self, face_id: int, probabilities, features=None) -> Vote | None:
        """(c) The emotion net's probabilities for one face (in ``emotion_labels`` order), and its
        penultimate features ((D,), optional: needed only by a calibration and by teach mode).

        With a calibration set and features given, the vote sees ``calibrated_probabilities``;
        without features the generic output is voted as it is. Returns the face's new vote, or
        None when the page was paused meanwhile (the result is stale and ignored) or when the
        reading is unusable (NaN, say: moodcam.readings): that face's vote is skipped this frame
        and a ReadingSkipped event says why. A head whose output is not finite is switched off
        (CalibrationDropped) and the generic output is voted instead.
        """
        frame = self._require_frame("submit_emotion")
        if self.paused:
            return None
        if self.tracker.get(face_id) is None:
            raise ValueError(f"no tracked face with id {face_id}; use the ids from emotion_requests() of this frame")
        generic = np.asarray(probabilities, dtype=np.float64)          # (classes,)
        feats = None if features is None else np.asarray(features, dtype=np.float64)   # (D,)
        problem = reading_problem(generic, feats)
        if problem is not None:
            self._pending_events.append(ReadingSkipped(frame.plan.timestamp_ms, face_id, problem))
            self.scheduler.emotion_ran(face_id, frame.plan.frame_index)   # read on its usual schedule, not more
            return None
        frame.readings[face_id] = (feats, generic)
        voted = self._calibrated(generic, feats, frame.plan.timestamp_ms)
        voter = self._voters.get(face_id)
        if voter is None:
            voter = self._voters[face_id] = Voter(self.config.voting, self.config.emotion_labels)
        vote = voter.feed(voted)
        self.scheduler.emotion_ran(face_id, frame.plan.frame_index)
        frame.emotion_ids.append(face_id)
        return vote

    def end_frame(self) -> FrameResult:
        """(d) Finish the frame: update the mood state and return what to draw."""
        frame = self._require_frame("end_frame")
        t = frame.plan.timestamp_ms
        # No time-only expiry between detector runs: tracks are dropped by the tracker after
        # missed detector runs (and a minimum time), so slow frames do not lose a face that is
        # still there (the scheduler runs the detector every N frames while faces are tracked).
        tracks = self.tracker.tracks
        primary = self._primary(tracks)
        candidate, scores = self._group_vote(tracks)
        events = self._pending_events + self.state.update(t, bool(tracks), candidate, scores)
        self._pending_events = []
        faces = tuple(self._view(track, track is primary, frame.readings.get(track.id)) for track in tracks)
        self._frame = None
        self._apply_pending_config()
        return FrameResult(frame.plan.frame_index, t, faces, self.state.snapshot, tuple(events),
                           frame.ran_detector, tuple(frame.emotion_ids), tuple(self.config.emotion_labels),
                           self._calibration is not None)

    def abort_frame(self) -> bool:
        """Give up the frame in flight (reading it failed): no mood update, nothing to draw.

        What was already submitted stays (tracks, votes); the next begin_frame() starts
        afresh. Returns False when no frame was in flight.
        """
        if self._frame is None:
            return False
        self._frame = None
        self._apply_pending_config()
        return True

    # -- settings -------------------------------------------------------------------
    def reconfigure(self, config: FrameLogicConfig) -> None:
        """Use new knobs (schedule, detector thresholds, voting, ...) keeping tracks and the mood.

        Between frames it applies at once; during a frame it applies when the frame ends
        (the frame in flight finishes with the knobs it began with). Per-face votes are
        restarted only when the voting rule or the emotion labels change.
        """
        self._pending_config = config
        if self._frame is None:
            self._apply_pending_config()

    def _apply_pending_config(self) -> None:
        config = getattr(self, "_pending_config", None)
        if config is None:
            return
        self._pending_config = None
        old = self.config
        self.config = config
        if config.detector != old.detector:
            self.postprocess = FaceDetectorPostprocess(config.detector)
            if config.detector.input_size != old.detector.input_size:
                self._letterbox = None
        if config.round_letterbox != old.round_letterbox:
            self._letterbox = None
        if config.detector.input_size != old.detector.input_size or config.round_letterbox != old.round_letterbox:
            self._tile_letterboxes.clear()
        if config.tiles != old.tiles:
            self.sweep = DetectorSweep(config.tiles) if config.tiles is not None else None
        self.tracker.config = config.tracker
        self.scheduler.config = config.schedule
        self.state.config = config.mood
        if config.voting != old.voting or tuple(config.emotion_labels) != tuple(old.emotion_labels):
            self._voters.clear()

    # -- calibration ------------------------------------------------------------------
    def set_calibration(self, head: CalibrationHead | None) -> None:
        """Use a person's calibration head from the next emotion output on (None: the generic net).

        Votes are kept: the smoothed average moves to the calibrated outputs within a few
        readings, so the page does not fall back to "Observing".
        """
        if head is not None:
            unknown = [m for m in head.labels if m not in self.config.emotion_labels]
            if unknown:
                raise ValueError(f"the calibration teaches {unknown}, not among the emotion labels "
                                 f"{list(self.config.emotion_labels)}; teach it anew for this model")
        self._calibration = head

    @property
    def calibration(self) -> CalibrationHead | None:
        return self._calibration

    def _calibrated(self, generic: np.ndarray, features: np.ndarray | None, timestamp_ms: float) -> np.ndarray:
        """What the vote sees: the head's output, or the generic net's (no head, no features, a failed head)."""
        head = self._calibration
        if head is None or features is None:
            return generic
        with np.errstate(all="ignore"):          # a failing head is reported below, not warned about
            voted = calibrated_probabilities(head, generic, features, self.config.emotion_labels)
        if np.isfinite(voted).all():
            return voted
        # Not reached for a head read from a file (calibration_head.unbounded_output proves its output
        # finite for good readings); a head made some other way still must not stop the camera.
        self._calibration = None
        self._pending_events.append(CalibrationDropped(timestamp_ms, HEAD_FAILED))
        return generic

    # -- page visibility ----------------------------------------------------------
    def pause(self, timestamp_ms: float) -> list[Event]:
        """The page was hidden. Forgets the faces (they will be stale on return)."""
        events = self.state.pause(timestamp_ms)
        for track in self.tracker.tracks:
            self._forget(track.id)
        self.tracker.reset()
        # A frame in flight may still finish: its submissions are ignored (see submit_*).
        self._pending_events.extend(events)
        return events

    def resume(self, timestamp_ms: float) -> list[Event]:
        """The page is visible again."""
        events = self.state.resume(timestamp_ms)
        self._pending_events.extend(events)
        return events

    # -- convenience ----------------------------------------------------------------
    def process(self, timestamp_ms: float, frame_width: float, frame_height: float, raw_boxes=None,
                raw_scores=None, classify=None) -> FrameResult:
        """One whole frame in one call (tests, benchmarks, simple callers).

        ``raw_boxes``/``raw_scores`` are used when the detector is due (pass
        None when the model did not run); ``classify(request) -> probabilities``
        (or ``(probabilities, features)``) is called for each emotion request.
        """
        plan = self.begin_frame(timestamp_ms, frame_width, frame_height)
        if plan.run_detector and raw_boxes is not None:
            self.submit_detections(raw_boxes, raw_scores)
        if classify is not None:
            for req in self.emotion_requests():
                out = classify(req)            # probabilities, or (probabilities, features)
                self.submit_emotion(req.face_id, *(out if isinstance(out, tuple) else (out,)))
        return self.end_frame()

    @property
    def frame_index(self) -> int:
        return self._frame_index

    @property
    def paused(self) -> bool:
        return self.state.state == PAUSED

    @property
    def in_frame(self) -> bool:
        """True between begin_frame() and end_frame() (e.g. to finish a frame after an error)."""
        return self._frame is not None

    # -- internals -----------------------------------------------------------------
    def _require_frame(self, what: str) -> _Frame:
        if self._frame is None:
            raise RuntimeError(f"{what}() outside a frame; call begin_frame() first")
        return self._frame

    def _forget(self, face_id: int) -> None:
        self._voters.pop(face_id, None)
        self.scheduler.forget(face_id)

    def _tile_letterbox(self, tile: Tile | None) -> Letterbox | None:
        if tile is None:
            return None
        lb = self._tile_letterboxes.get(tile)
        if lb is None:
            tw, th = self.config.detector.input_size
            lb = self._tile_letterboxes[tile] = Letterbox.fit(tile.width, tile.height, tw, th,
                                                              round_padding=self.config.round_letterbox)
        return lb

    def _readable(self, track: Track) -> bool:
        return float(track.box[2] - track.box[0]) >= self.config.min_readable_face_px

    def _group_vote(self, tracks: tuple[Track, ...]) -> tuple[str | None, dict[str, float]]:
        """The group's mood candidate and the scores behind it.

        The rule: the label most faces agree on (each face's own confident vote); ties go to
        the label of the largest face among them. With no confident face, no candidate, and
        the largest face's smoothed scores (its leading guess). One face: that face's vote.
        """
        votes = []                      # (label, area, scores) of faces with a vote
        for t in sorted(tracks, key=lambda t: -t.area):
            if not self._readable(t):
                continue
            voter = self._voters.get(t.id)
            if voter is not None and voter.current is not None:
                votes.append((voter.current.label, t.area, dict(zip(voter.labels, voter.current.smoothed))))
        if not votes:
            return None, {}
        counts: dict[str, int] = {}
        for label, _, _ in votes:
            if label is not None:
                counts[label] = counts.get(label, 0) + 1
        if not counts:
            return None, votes[0][2]
        most = max(counts.values())
        # votes are largest-first: the first label with the top count is the largest face's.
        label = next(lab for lab, _, _ in votes if lab is not None and counts[lab] == most)
        return label, next(sc for lab, _, sc in votes if lab == label)

    @staticmethod
    def _primary(tracks: tuple[Track, ...]) -> Track | None:
        # The largest face (closest to the camera); the oldest wins ties.
        best = None
        for t in tracks:
            if best is None or t.area > best.area:
                best = t
        return best

    def _request(self, track: Track, frame_size: tuple[float, float]) -> EmotionRequest:
        cfg = self.config
        rotate = cfg.rotate_crops and track.keypoints.shape[0] >= 2
        crop = crop_around_face(track.box, frame_size, track.keypoints if rotate else None,
                                margin=cfg.crop_margin, rotate=rotate)
        size = cfg.emotion_input_size
        box = None if rotate else crop.crop_and_resize_box(size)
        return EmotionRequest(track.id, crop, size, box, crop.projective_transform(size))

    def _view(self, track: Track, primary: bool,
              reading: tuple[np.ndarray | None, np.ndarray] | None) -> FaceView:
        voter = self._voters.get(track.id)
        vote = None if voter is None else voter.current
        readable = self._readable(track)
        features, generic = reading if reading is not None else (None, None)
        if vote is None or not readable:
            return FaceView(track.id, track.box, track.keypoints, track.score, None, 0.0, None, primary,
                            readable=readable, features=features, net_probabilities=generic)
        return FaceView(track.id, track.box, track.keypoints, track.score, vote.label, vote.probability,
                        vote.top_label, primary, vote.smoothed, vote.leading_label, vote.leading_probability,
                        readable, features, generic)
