"""FaceMesh -> FrameLogic (submit_faces) and the face-parts overlay data (moodcam.landmarks.bridge)."""
import json

import numpy as np
import pytest

from moodcam.detection.result import Detections
from moodcam.geometry.crop import CropRegion
from moodcam.landmarks.bridge import mesh_detections, overlay_data, svg_path
from moodcam.landmarks.mesh import FaceMeshTracker, MeshConfig, landmarks_to_frame
from moodcam.landmarks.parts import DEFAULT_LAYOUT, KEY_POINTS
from moodcam.mood.labels import EMOTIONS
from moodcam.mood.state import MOOD
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig

from .test_landmarks_mesh import canonical_landmarks

W, H = 640, 480


def _face_det(box, score=0.9):
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    kps = [[x0 + 0.3 * w, y0 + 0.35 * h], [x0 + 0.7 * w, y0 + 0.35 * h], [x0 + 0.5 * w, y0 + 0.55 * h],
           [x0 + 0.5 * w, y0 + 0.75 * h], [x0, y0 + 0.4 * h], [x1, y0 + 0.4 * h]]
    return Detections(np.array([box], np.float32), np.array([score], np.float32), np.array([kps], np.float32))


def _mesh_frame(mesh, t, det=None, flag=5.0, raw=None):
    plan = mesh.begin_frame(t, W, H)
    if plan.run_detector and det is not None:
        mesh.submit_detections(det)
    for req in mesh.requests():
        mesh.submit_landmarks(req.face_id, (canonical_landmarks() if raw is None else raw).reshape(1, -1), flag)
    return plan, mesh.end_frame()


def test_mesh_detections_carry_box_presence_and_blazeface_keypoints():
    mesh = FaceMeshTracker(MeshConfig())
    _, res = _mesh_frame(mesh, 0.0, _face_det([250, 150, 370, 290]))
    (face,) = res.faces
    det = mesh_detections(res.faces)
    assert det.boxes.shape == (1, 4) and det.keypoints.shape == (1, 6, 2)
    np.testing.assert_allclose(det.boxes[0], face.box, rtol=1e-6)
    assert det.scores[0] == pytest.approx(face.presence)
    np.testing.assert_allclose(det.keypoints[0], face.keypoints, rtol=1e-6)
    # Right eye (subject's) is left of the left eye in an unmirrored frame, like BlazeFace.
    assert det.keypoints[0, 0, 0] < det.keypoints[0, 1, 0]
    empty = mesh_detections(())
    assert empty.boxes.shape == (0, 4) and empty.keypoints.shape == (0, 6, 2)


def test_submit_faces_keeps_tracks_alive_without_the_detector_and_reaches_a_mood():
    logic = FrameLogic(FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=3,
                                                                emotion_every_n_frames=1)))
    happy = np.full(7, 0.1 / 6)
    happy[EMOTIONS.index("happy")] = 0.9
    box = np.array([250.0, 150.0, 370.0, 290.0])
    ids = set()
    for i in range(60):                        # 6 s at 10 fps, far beyond the 700 ms expiry
        t = 100.0 * i
        logic.begin_frame(t, W, H)
        shift = np.array([2.0 * i, 0, 2.0 * i, 0])
        logic.submit_faces(_face_det(box + shift))
        for req in logic.emotion_requests():
            logic.submit_emotion(req.face_id, happy)
        res = logic.end_frame()
        assert not res.ran_detector            # faces from another stage are not a detector run
        assert len(res.faces) == 1
        ids.add(res.faces[0].id)
    assert ids == {1}                          # one track all along, never expired
    assert res.mood.state == MOOD and res.mood.mood == "happy"
    # The smoothed box follows the moving face.
    assert res.faces[0].box[0] == pytest.approx(box[0] + 2.0 * 59, abs=6.0)


def test_submit_faces_empty_lets_the_face_expire_and_redetect_is_due():
    logic = FrameLogic()
    logic.begin_frame(0.0, W, H)
    logic.submit_faces(_face_det([250, 150, 370, 290]))
    assert len(logic.end_frame().faces) == 1
    t, faces = 0.0, 1
    while faces and t < 2000:
        t += 100.0
        logic.begin_frame(t, W, H)
        logic.submit_faces(Detections.empty())
        faces = len(logic.end_frame().faces)
    assert faces == 0 and 700.0 < t <= 900.0
    plan = logic.begin_frame(t + 100, W, H)
    assert plan.run_detector                   # no tracks: the detector is due at once
    logic.end_frame()


def test_submit_faces_outside_a_frame_or_when_paused():
    logic = FrameLogic()
    with pytest.raises(RuntimeError, match="begin_frame"):
        logic.submit_faces(Detections.empty())
    logic.begin_frame(0.0, W, H)
    logic.pause(0.0)
    logic.submit_faces(_face_det([250, 150, 370, 290]))   # late: ignored
    assert logic.end_frame().faces == ()


def test_overlay_data_is_json_mirrorable_and_has_the_parts():
    mesh = FaceMeshTracker(MeshConfig())
    _, res = _mesh_frame(mesh, 0.0, _face_det([250, 150, 370, 290]))
    d = overlay_data(res)
    json.dumps(d)
    assert d["frames"] == 1 and d["detector_runs"] == 1 and d["detector_fraction"] == 1.0
    (face,) = d["faces"]
    assert "landmarks" not in face
    assert [p["name"] for p in face["parts"]] == list(DEFAULT_LAYOUT.names)
    assert [k["name"] for k in face["key_points"]] == list(KEY_POINTS)
    m = overlay_data(res, mirror=True)
    assert m["mirrored"] and m["frame_width"] == W
    for a, b in zip(face["key_points"], m["faces"][0]["key_points"]):
        assert b["x"] == pytest.approx(W - a["x"], abs=0.11) and b["y"] == a["y"]
    mb, b = m["faces"][0]["box"], face["box"]
    assert mb[0] == pytest.approx(W - b[2], abs=0.11) and mb[2] == pytest.approx(W - b[0], abs=0.11)
    lean = overlay_data(res, parts=False, points=False)
    assert "parts" not in lean["faces"][0] and "key_points" not in lean["faces"][0]
    assert overlay_data(None)["faces"] == []
    # Tracking: the second frame's crop comes from the landmarks, the detector does not run.
    plan, res2 = _mesh_frame(mesh, 33.0)
    assert not plan.run_detector and overlay_data(res2)["detector_fraction"] == 0.5


def test_svg_path_closes_loops_and_leaves_lines_open():
    assert svg_path([[[0, 0], [10, 0], [10, 10]]]) == "M0.0 0.0L10.0 0.0L10.0 10.0Z"
    assert svg_path([[[1, 2], [3, 4]]], close=False, decimals=0) == "M1 2L3 4"
    two = svg_path([[[0, 0], [1, 0], [1, 1]], [[5, 5], [6, 5], [6, 6]]])
    assert two.count("M") == 2 and two.count("Z") == 2
    assert svg_path([]) == ""
    roi = CropRegion(320.0, 240.0, 150.0, 0.0, (float(W), float(H)))
    lm = landmarks_to_frame(canonical_landmarks().reshape(1, -1), roi)
    from moodcam.landmarks.parts import part_polygons
    lips = next(p for p in part_polygons(lm) if p["name"] == "lips")
    assert svg_path(lips["loops"]).count("M") == len(lips["loops"]) == 2   # outer + inner lip line


def test_canvas_transform_matches_the_tf_image_transform_convention():
    from moodcam.landmarks.bridge import canvas_transform, roi_inside

    roi = CropRegion(250.0, 180.0, 160.0, 0.3, (float(W), float(H)))
    t = roi.projective_transform(192)
    a, b, c, d, e, f = canvas_transform(t, 192)
    for u, v in ((0, 0), (191, 0), (0, 191), (50, 120)):
        # tf.image.transform: output pixel index (u, v) samples frame pixel index (x, y);
        # a canvas maps pixel centres (index + 0.5) through setTransform.
        x, y = t[0] * u + t[1] * v + t[2], t[3] * u + t[4] * v + t[5]
        cu = a * (x + 0.5) + c * (y + 0.5) + e - 0.5
        cv = b * (x + 0.5) + d * (y + 0.5) + f - 0.5
        assert (cu, cv) == (pytest.approx(u, abs=1e-6), pytest.approx(v, abs=1e-6))
    assert roi_inside(t, 192, W, H)
    assert not roi_inside(CropRegion(20.0, 180.0, 160.0, 0.0, (float(W), float(H))).projective_transform(192),
                          192, W, H)
