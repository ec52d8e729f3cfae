"""moodcam.auto_range and FrameLogic with it: the near model on most detector runs, the far model's
sweep between them, faster while a small face is tracked (issue 27)."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam.auto_range import AutoRange, AutoRangeConfig
from moodcam.detection.anchors import BLAZEFACE_FULL_RANGE, BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.tiles import TileConfig
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig
from moodcam.second_look import SecondLookConfig

W, H = 640, 480
EVERY_FRAME = ScheduleConfig(detector_every_n_frames=1, emotion_every_n_frames=1)
EMPTY_NEAR = (np.zeros((1, 896, 16), np.float32), np.full((1, 896, 1), -10.0, np.float32))
EMPTY_FAR = (np.zeros((1, 2304, 16), np.float32), np.full((1, 2304, 1), -10.0, np.float32))


def auto_logic(far_every: int = 3) -> FrameLogic:
    return FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME, tiles=TileConfig(),
                                       auto_range=AutoRangeConfig(far_every=far_every), second_look=SecondLookConfig()))


def test_one_run_in_five_is_far_and_one_in_two_while_a_small_face_is_tracked():
    auto = AutoRange(AutoRangeConfig())
    assert [auto.next_is_far(False) for _ in range(10)] == [False, False, False, False, True] * 2
    assert [auto.next_is_far(True) for _ in range(4)] == [False, True, False, True]


def test_a_near_run_tells_only_about_faces_it_can_see():
    auto = AutoRange(AutoRangeConfig())
    np.testing.assert_array_equal(auto.near_covers([[0, 0, 50, 50], [0, 0, 120, 120]], W, H), [False, True])


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError, match="far_every"):
        AutoRangeConfig(far_every=0)


def test_far_runs_use_the_far_model_s_input_and_sweep_the_tiles_between_near_runs():
    lg = auto_logic()
    plans = []
    for i in range(12):
        plan = lg.begin_frame(i * 33.0, W, H)
        plans.append(plan)
        lg.submit_detections(*(EMPTY_FAR if plan.far else EMPTY_NEAR))
        lg.end_frame()
    far = [p for p in plans if p.far]
    assert [p.frame_index for p in far] == [2, 5, 8, 11]
    assert all(p.detector_letterbox.target_size == (192.0, 192.0) for p in far)
    assert [p.tile is None for p in far] == [True, False, True, False]      # whole, tile 0, whole, tile 1
    near = [p for p in plans if not p.far]
    assert all(p.tile is None and p.detector_letterbox.target_size == (128.0, 128.0) for p in near)


def test_near_only_never_plans_a_far_run():
    lg = FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME))
    for i in range(10):
        plan = lg.begin_frame(i * 33.0, W, H)
        assert not plan.far and plan.tile is None
        lg.submit_detections(*EMPTY_NEAR)
        lg.end_frame()


# -- the far sweep adds faces, it never moves one the near model tracks ------------------------
FAR_ANCHORS = generate_anchors(BLAZEFACE_FULL_RANGE)
NEAR_ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)


def raw_for(boxes_px, letterbox, far: bool):
    """Raw outputs of the near (128 px) or far (192 px) model decoding to these frame boxes."""
    anchors, side = (FAR_ANCHORS, 192.0) if far else (NEAR_ANCHORS, 128.0)
    norm = letterbox.boxes_to_target(np.asarray(boxes_px, float).reshape(-1, 4)) / side
    ids = [anchors_near(anchors, b[None], 1)[0][0] for b in norm]
    kps = [np.array([[b[0], b[1]]] * 6) for b in norm]
    return encode_raw_outputs(anchors, ids, norm, np.array(kps), np.full(len(norm), 4.0))


def test_a_far_run_never_moves_a_face_the_near_model_tracks():
    # The full-range model places a face's box elsewhere than the short-range one (IoU 0.79 on the
    # astronaut): a far run keeps such a face where the near runs put it, and it stays one face.
    near_box, far_box = [200.0, 120.0, 360.0, 280.0], [212.0, 136.0, 380.0, 304.0]
    lg = auto_logic()
    boxes = []
    for i in range(9):
        plan = lg.begin_frame(i * 33.0, W, H)
        box = far_box if plan.far else near_box
        if plan.tile is None:
            lg.submit_detections(*raw_for([box], plan.detector_letterbox, plan.far))
        else:
            lg.submit_detections(*(EMPTY_FAR if plan.far else EMPTY_NEAR))
        boxes.append(np.array([t.box for t in lg.tracker.tracks]))
        lg.end_frame()
    assert all(len(b) == 1 for b in boxes)
    first = boxes[0][0]
    for b in boxes:
        np.testing.assert_allclose(b[0], first, atol=1.0)


def test_a_far_run_still_places_a_face_too_small_for_the_near_model():
    small_box, moved = [300.0, 200.0, 340.0, 240.0], [304.0, 202.0, 344.0, 242.0]
    lg = auto_logic()
    plan = lg.begin_frame(0.0, W, H)
    while not plan.far:
        lg.submit_detections(*EMPTY_NEAR)
        lg.end_frame()
        plan = lg.begin_frame(plan.timestamp_ms + 33.0, W, H)
    lg.submit_detections(*raw_for([small_box], plan.detector_letterbox, True))
    lg.end_frame()
    (track,) = lg.tracker.tracks
    before = track.box.copy()
    plan = lg.begin_frame(plan.timestamp_ms + 33.0, W, H)
    while not plan.far or plan.tile is not None:
        lg.submit_detections(*(EMPTY_FAR if plan.far else EMPTY_NEAR))
        lg.end_frame()
        plan = lg.begin_frame(plan.timestamp_ms + 33.0, W, H)
    lg.submit_detections(*raw_for([moved], plan.detector_letterbox, True))
    assert lg.tracker.get(track.id) is not None
    assert lg.tracker.get(track.id).box[0] > before[0] + 1.0
