"""FrameLogic: one frame of app logic, from raw model outputs to what the UI draws.

This is the contract the browser layer codes against. Per video frame:

    plan = logic.begin_frame(timestamp_ms, frame_width, frame_height)
    if plan.run_detector:                       # letterbox plan.tile (None: the frame) with plan.detector_letterbox
                                                # into the far model when plan.far (auto range), else the detector
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

The second look (moodcam.second_look): with ``config.second_look`` set, a new face the near
model could not vouch for (small, or found by a tile run) is neither shown, read nor voted until
it is confirmed; between (a) and (b):

    for req in logic.confirm_requests():        # the near detector on req.region, letterboxed req.letterbox
        logic.submit_confirmation(req.face_id, regressors, classificators)

The contract's types (FrameLogicConfig, FramePlan, EmotionRequest, FaceView, FrameResult) live in
moodcam.frame_types; the
parts that stand alone (decode, NMS, tracking, voting, the group's mood) are their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detection.letterbox import Letterbox
from .detection.pipeline import FaceDetectorPostprocess
from .detection.result import Detections
from .auto_range import AutoRange, RunLetterboxes
from .detection.tiles import DetectorSweep, Tile, from_tile
from .calibration import CalibrationHead, calibrated_probabilities
from .frame_types import EmotionRequest, FaceView, FrameLogicConfig, FramePlan, FrameResult
from .geometry.crop import crop_around_face
from .mood.group import group_vote
from .mood.state import PAUSED, Event, MoodStateMachine
from .mood.voting import Vote, Voter
from .readings import HEAD_FAILED, CalibrationDropped, ReadingSkipped, reading_problem
from .schedule import Scheduler
from .second_look import LookRequest, SecondLook, far_proposals, far_spec_for_looks, looked_score, with_min_score
from .tracking.tracker import FaceTracker, Track

__all__ = ["FrameLogicConfig", "FramePlan", "EmotionRequest", "FaceView", "FrameResult", "FrameLogic",
           "LookRequest"]


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
        self._run_letterboxes = RunLetterboxes(config.round_letterbox)
        self.auto = AutoRange(config.auto_range) if config.auto_range is not None else None
        self._far_post = _far_postprocess(config)
        self.state = MoodStateMachine(config.mood, start_ms=start_ms)
        self._voters: dict[int, Voter] = {}
        self._frame_index = -1
        self._frame: _Frame | None = None
        self._letterbox: Letterbox | None = None
        self._pending_events: list[Event] = []
        self._pending_config: FrameLogicConfig | None = None
        self._calibration: CalibrationHead | None = None
        self._second_look: SecondLook | None = None
        self._look_postprocess: FaceDetectorPostprocess | None = None
        self._use_second_look(config)

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
        fw, fh = float(frame_width), float(frame_height)
        run = not paused and self.scheduler.detector_due(self._frame_index, bool(self.tracker.tracks))
        far = run and self.auto is not None and self.auto.next_is_far(self._small_faces(fw, fh))
        # The sweep is the far model's (auto), or every run's (a far detector alone).
        tile = self.sweep.next_region(fw, fh) if run and self.sweep and (far or self.auto is None) else None
        plan = FramePlan(self._frame_index, float(timestamp_ms), run, lb, paused, tile,
                         self._run_letterbox(tile, far, fw, fh), far)
        self._frame = _Frame(plan)
        return plan

    def submit_detections(self, raw_boxes, raw_scores) -> Detections:
        """(a) Raw detector outputs ([1, 896, 16] and [1, 896, 1]) -> faces in frame pixels; updates tracks.

        On a tile run (plan.tile) the outputs are the tile's: they are decoded with the tile's
        letterbox, moved into the frame and filtered (moodcam.detection.tiles.from_tile), and the
        run counts as missing only the faces it could have seen (DetectorSweep.covers)."""
        frame = self._require_frame("submit_detections")
        plan = frame.plan
        post = self._far_post if plan.far and self._far_post is not None else self.postprocess
        det = post(raw_boxes, raw_scores, plan.detector_letterbox)
        fw, fh = plan.letterbox.source_size
        covers, keeps_place = (None, None) if self.auto is None else self.auto.tracking_rules(plan.far, fw, fh)
        if self.sweep is not None and (self.auto is None or plan.far):
            if plan.tile is not None:
                small = self.sweep.config.small_face_px(fw, fh)
                det = from_tile(det, plan.tile, (fw, fh), small, self.sweep.config.edge_px)
            if plan.far and self._second_look is not None and self.config.auto_range is not None:
                det = far_proposals(det, self._second_look.config, self.config.auto_range.far, (fw, fh),
                                    plan.tile is not None)
            sweep, tile = self.sweep, plan.tile

            def covers(boxes: np.ndarray) -> np.ndarray:
                return sweep.covers(tile, boxes, fw, fh)
        if self.paused:
            # A late result from before the page was hidden: faces will be stale on return.
            return det
        created, dropped = self.tracker.update(det, plan.timestamp_ms, covers, keeps_place)
        for track in dropped:
            self._forget(track.id)
        self._admit(created, plan.tile is not None)
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
        # No second look for these: FaceMesh keeps a face only while its own face flag says it is one.
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
            tracks = {t.id: t for t in self._counted_tracks() if self._readable(t)}
            due = self.scheduler.emotion_due(frame.plan.frame_index, tracks.keys())
            frame.requests = tuple(self._request(tracks[fid], frame.plan.letterbox.source_size) for fid in due)
        return frame.requests

    def confirm_requests(self) -> tuple[LookRequest, ...]:
        """Second looks due this frame (config.second_look): new faces the near model has not vouched for."""
        frame = self._require_frame("confirm_requests")
        if self.paused or self._second_look is None:
            return ()
        boxes = {t.id: t.box for t in self.tracker.tracks}
        return self._second_look.requests(boxes, frame.plan.letterbox.source_size, self.config.round_letterbox)

    def submit_confirmation(self, face_id: int, raw_boxes, raw_scores) -> bool | None:
        """The near detector's raw outputs on a LookRequest's region. True: the face is confirmed and
        counts from now on (never looked at again); False: refused, its track dropped (and a face
        found in the same place soon after is refused without a look). None: stale (paused, gone)."""
        frame = self._require_frame("submit_confirmation")
        look, post = self._second_look, self._look_postprocess
        track = self.tracker.get(face_id)
        if self.paused or look is None or post is None or track is None or look.confirmed(face_id):
            return None
        request = next((r for r in self.confirm_requests() if r.face_id == face_id), None)
        if request is None:
            return None
        det = post(raw_boxes, raw_scores, request.letterbox)
        shift = np.array([request.region.x, request.region.y] * 2, dtype=np.float32)
        score = looked_score(track.box, det.boxes + shift, det.scores)
        if look.decide(face_id, track.box, score, frame.plan.timestamp_ms):
            frame.requests = None            # a new face to read
            return True
        self.tracker.remove(face_id)
        self._forget(face_id)
        return False

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
        tracks = self._counted_tracks()         # a face still waiting for its second look is not shown
        primary = self._primary(tracks)
        candidate, scores = self._group_vote(tracks)
        # Only a face it can read gives the page a mood: faces all too far to read are, for the
        # mood, no face (the page says "too far to read: come closer", browser.captions).
        readable = any(self._readable(track) for track in tracks)
        events = self._pending_events + self.state.update(t, readable, candidate, scores)
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
        if config.round_letterbox != old.round_letterbox:
            self._run_letterboxes = RunLetterboxes(config.round_letterbox)
        if config.auto_range != old.auto_range or config.second_look != old.second_look:
            self.auto = AutoRange(config.auto_range) if config.auto_range is not None else None
            self._far_post = _far_postprocess(config)
        if config.tiles != old.tiles:
            self.sweep = DetectorSweep(config.tiles) if config.tiles is not None else None
        if config.second_look != old.second_look or config.look_detector != old.look_detector:
            self._use_second_look(config)
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
        if self._second_look is not None:
            self._second_look.forget(face_id)

    def _use_second_look(self, config: FrameLogicConfig) -> None:
        """Start (or stop) second looks; faces tracked so far count as confirmed."""
        look = config.second_look
        self._second_look = None if look is None else SecondLook(look, config.look_detector.input_size)
        self._look_postprocess = (None if look is None
                                  else FaceDetectorPostprocess(with_min_score(config.look_detector, look.threshold)))

    def _admit(self, created: list[Track], from_tile: bool) -> None:
        """New tracks: the second look says which wait for it; one refused here a moment ago is dropped."""
        look = self._second_look
        if look is None or self._frame is None:
            return
        size, now = self._frame.plan.letterbox.source_size, self._frame.plan.timestamp_ms
        for track in created:
            if not look.admit(track.id, track.box, size, from_tile, now):
                self.tracker.remove(track.id)

    def _counted_tracks(self) -> tuple[Track, ...]:
        """The tracks that are faces: shown, read and voted (a track waiting for its look is none of these)."""
        look = self._second_look
        tracks = self.tracker.tracks
        return tracks if look is None else tuple(t for t in tracks if look.confirmed(t.id))

    def _run_letterbox(self, tile: Tile | None, far: bool, fw: float, fh: float) -> Letterbox | None:
        """The detector input's letterbox when it is not the frame's into the main model (plan.letterbox)."""
        if tile is None and not far:
            return None
        spec = self.config.auto_range.far if far and self.config.auto_range is not None else self.config.detector
        return self._run_letterboxes.get(tile if tile is not None else Tile(0.0, 0.0, fw, fh), spec.input_size)

    def _small_faces(self, fw: float, fh: float) -> bool:
        """A tracked face the near model cannot see (auto range: the far runs come faster)."""
        boxes = np.array([t.box for t in self.tracker.tracks]).reshape(-1, 4)
        return self.auto is not None and bool(self.auto.config.narrow(boxes, fw, fh).any())

    def _readable(self, track: Track) -> bool:
        return float(track.box[2] - track.box[0]) >= self.config.min_readable_face_px

    def _group_vote(self, tracks: tuple[Track, ...]) -> tuple[str | None, dict[str, float]]:
        """The group's mood from the readable faces' votes (moodcam.mood.group.group_vote)."""
        votes = []
        for t in tracks:
            voter = self._voters.get(t.id)
            if self._readable(t) and voter is not None and voter.current is not None:
                votes.append((voter.current.label, t.area, dict(zip(voter.labels, voter.current.smoothed))))
        return group_vote(votes)

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


def _far_postprocess(config: FrameLogicConfig) -> FaceDetectorPostprocess | None:
    """The far model's decoding (auto range): down to the far proposals' score when second looks run."""
    if config.auto_range is None:
        return None
    return FaceDetectorPostprocess(far_spec_for_looks(config.auto_range.far, config.second_look))
