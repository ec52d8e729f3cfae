"""moodcam.auto_range and FrameLogic with it: the near model on most detector runs, the far model's
sweep between them, faster while a small face is tracked (issue 27)."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam.auto_range import AutoRange, AutoRangeConfig
from moodcam.detection.tiles import TileConfig
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig
from moodcam.second_look import SecondLookConfig

W, H = 640, 480
EVERY_FRAME = ScheduleConfig(detector_every_n_frames=1, emotion_every_n_frames=1)
EMPTY_NEAR = (np.zeros((1, 896, 16), np.float32), np.full((1, 896, 1), -10.0, np.float32))
EMPTY_FAR = (np.zeros((1, 2304, 16), np.float32), np.full((1, 2304, 1), -10.0, np.float32))


def auto_logic() -> FrameLogic:
    return FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME, tiles=TileConfig(), auto_range=AutoRangeConfig(),
                                       second_look=SecondLookConfig()))


def test_one_run_in_three_is_far_and_one_in_two_while_a_small_face_is_tracked():
    auto = AutoRange(AutoRangeConfig())
    assert [auto.next_is_far(False) for _ in range(6)] == [False, False, True, False, False, True]
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
