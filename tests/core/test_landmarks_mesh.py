"""moodcam.landmarks.mesh: landmark mapping and the detect-or-track loop."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.detection.result import Detections
from moodcam.geometry.crop import CropRegion
from moodcam.landmarks.mesh import (FaceMeshTracker, MeshConfig, face_presence, frame_to_landmarks,
                                    landmarks_to_frame, mesh_keypoints)
from moodcam.landmarks.roi import landmarks_roi


def canonical_landmarks(seed=0):
    """468 model-space landmarks (192 px input) with level eye corners 33 / 263, inside the crop."""
    rng = np.random.default_rng(seed)
    lm = np.empty((468, 3))
    lm[:, 0] = rng.uniform(40, 152, 468)
    lm[:, 1] = rng.uniform(40, 160, 468)
    lm[:, 2] = rng.uniform(-10, 10, 468)
    lm[33, :2] = (60, 80)
    lm[263, :2] = (132, 80)
    return lm


def test_face_presence_is_a_stable_sigmoid():
    assert face_presence(0.0) == 0.5
    assert face_presence([[[[2.0]]]]) == pytest.approx(1 / (1 + math.exp(-2)))
    assert face_presence(-1000.0) == 0.0 and face_presence(1000.0) == 1.0


def test_landmarks_to_frame_known_values():
    roi = CropRegion(300.0, 200.0, 96.0, 0.0, (640.0, 480.0))
    raw = np.zeros((1, 1404))
    raw[0, 0:3] = (96, 96, 4)         # the crop centre
    raw[0, 3:6] = (0, 0, 0)           # its top-left corner
    raw[0, 6:9] = (192, 192, -8)      # bottom-right
    lm = landmarks_to_frame(raw, roi)
    assert lm.shape == (468, 3)
    np.testing.assert_allclose(lm[:3], [[300, 200, 2], [252, 152, 0], [348, 248, -4]])
    # Rotated by 90 deg: the crop's x axis points down the frame.
    lm = landmarks_to_frame(raw, CropRegion(300.0, 200.0, 96.0, math.pi / 2, (640.0, 480.0)))
    np.testing.assert_allclose(lm[1, :2], [348, 152], atol=1e-9)
    with pytest.raises(ValueError, match="1404"):
        landmarks_to_frame(np.zeros(1403), roi)


@settings(max_examples=50, deadline=None)
@given(cx=st.floats(-100, 700), cy=st.floats(-100, 600), side=st.floats(5, 800), angle=st.floats(-3.2, 3.2))
def test_landmark_mapping_round_trips(cx, cy, side, angle):
    roi = CropRegion(cx, cy, side, angle, (640.0, 480.0))
    raw = canonical_landmarks()
    back = frame_to_landmarks(landmarks_to_frame(raw.reshape(1, -1), roi), roi)
    np.testing.assert_allclose(back, raw, atol=1e-7 * max(1.0, side))


def test_tracking_roi_of_mapped_landmarks_is_level_and_1_5x():
    roi = CropRegion(320.0, 240.0, 150.0, 0.4, (640.0, 480.0))
    lm = landmarks_to_frame(canonical_landmarks(), roi)
    nxt = landmarks_roi(lm, (640, 480))
    assert nxt.rotation == pytest.approx(0.4)          # eyes were level in the crop
    kps = mesh_keypoints(lm)
    assert kps.shape == (6, 2)


def _detections(cx=320.0, cy=240.0, half=60.0, score=0.9):
    box = np.array([[cx - half, cy - half, cx + half, cy + half]])
    kps = np.array([[[cx - 25, cy - 15], [cx + 25, cy - 15], [cx, cy + 5], [cx, cy + 30], [cx - 55, cy - 5],
                     [cx + 55, cy - 5]]])
    return Detections(box, np.array([score]), kps)


def _answer(tracker, logit=8.0):
    """Answer every request with landmarks that fill the crop like a face does."""
    for req in tracker.requests():
        tracker.submit_landmarks(req.face_id, canonical_landmarks().reshape(1, -1), [logit])


def test_tracker_runs_the_detector_only_when_it_has_no_face():
    mesh = FaceMeshTracker()
    ran = []
    for f in range(20):
        plan = mesh.begin_frame(f * 33.0, 640, 480)
        ran.append(plan.run_detector)
        if plan.run_detector:
            new = mesh.submit_detections(_detections())
            assert len(new) == 1 and new[0].source == "detection" and len(new[0].transform) == 8
        reqs = mesh.requests()
        assert len(reqs) == 1
        assert reqs[0].source == ("detection" if f == 0 else "landmarks")
        _answer(mesh)
        res = mesh.end_frame()
        assert len(res.faces) == 1 and res.faces[0].id == 1
        assert res.faces[0].tracked_frames == f + 1
    assert ran == [True] + [False] * 19
    assert mesh.detector_fraction == pytest.approx(1 / 20)
    assert res.to_dict()["detector_fraction"] == pytest.approx(0.05)


def test_tracker_switches_to_the_detector_when_presence_drops():
    mesh = FaceMeshTracker(MeshConfig(min_presence=0.5))
    logits = [8.0, 8.0, -3.0, 8.0, 8.0]      # presence 0.047 on the third frame: the face is lost
    plans, ids = [], []
    for f, logit in enumerate(logits):
        plan = mesh.begin_frame(f * 33.0, 640, 480)
        plans.append(plan.run_detector)
        if plan.run_detector:
            mesh.submit_detections(_detections())
        _answer(mesh, logit)
        res = mesh.end_frame()
        ids.append([face.id for face in res.faces])
    assert plans == [True, False, False, True, False]
    assert ids == [[1], [1], [], [2], [2]]
    assert mesh.detector_runs == 2 and mesh.frames == 5


def test_no_face_keeps_the_detector_running_and_an_unanswered_face_is_dropped():
    mesh = FaceMeshTracker()
    for f in range(3):
        plan = mesh.begin_frame(f, 640, 480)
        assert plan.run_detector
        assert mesh.submit_detections(Detections.empty()) == ()
        assert mesh.end_frame().faces == ()
    plan = mesh.begin_frame(3, 640, 480)
    mesh.submit_detections(_detections())
    mesh.end_frame()                                   # FaceMesh never answered: nothing to track
    assert mesh.begin_frame(4, 640, 480).run_detector
    mesh.end_frame()                                   # the browser skipped the detector: not counted
    assert mesh.detector_runs == 4 and mesh.frames == 5


def test_detections_overlapping_a_tracked_face_are_ignored_and_max_faces_holds():
    mesh = FaceMeshTracker(MeshConfig(max_faces=2))
    mesh.begin_frame(0, 640, 480)
    mesh.submit_detections(_detections(200, 240))
    _answer(mesh)
    mesh.end_frame()
    plan = mesh.begin_frame(1, 640, 480)
    assert plan.run_detector and plan.tracked == 1      # one face, room for two
    both = Detections(np.concatenate([_detections(200, 240).boxes, _detections(460, 240).boxes]),
                      np.array([0.95, 0.9]),
                      np.concatenate([_detections(200, 240).keypoints, _detections(460, 240).keypoints]))
    new = mesh.submit_detections(both)
    assert [r.face_id for r in new] == [2]              # the first one is the tracked face
    assert sorted(r.face_id for r in mesh.requests()) == [1, 2]
    _answer(mesh)
    res = mesh.end_frame()
    assert sorted(f.id for f in res.faces) == [1, 2]
    assert not mesh.begin_frame(2, 640, 480).run_detector


def test_protocol_errors_and_frame_size_change():
    mesh = FaceMeshTracker()
    with pytest.raises(RuntimeError):
        mesh.requests()
    mesh.begin_frame(0, 640, 480)
    with pytest.raises(RuntimeError):
        mesh.begin_frame(1, 640, 480)
    mesh.submit_detections(_detections())
    with pytest.raises(ValueError):
        mesh.submit_landmarks(99, np.zeros(1404), [5.0])
    _answer(mesh)
    mesh.end_frame()
    assert mesh.begin_frame(1, 320, 240).run_detector    # new camera size: ROIs are stale, re-detect
    mesh.end_frame()


def test_result_to_dict_is_plain_and_mirrors():
    mesh = FaceMeshTracker()
    mesh.begin_frame(0, 640, 480)
    mesh.submit_detections(_detections())
    _answer(mesh)
    res = mesh.end_frame()
    d = res.to_dict()
    face = d["faces"][0]
    assert len(face["landmarks"]) == 468 and len(face["landmarks"][0]) == 2
    assert [p["name"] for p in face["parts"]][0] == "face_oval"
    assert {p["name"] for p in face["key_points"]} >= {"right_eye", "left_eye", "nose_tip", "mouth"}
    m = res.to_dict(mirror=True)["faces"][0]
    assert m["landmarks"][0][0] == pytest.approx(640 - face["landmarks"][0][0], abs=0.11)
    assert m["box"][0] == pytest.approx(640 - face["box"][2])
    assert isinstance(face["presence"], float) and isinstance(d["ran_detector"], bool)
