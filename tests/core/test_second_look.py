"""moodcam.second_look and FrameLogic with it: a small or tile-found face counts only once the near
model, looking again at a crop around it, confirms it (issue 27)."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.mood.group import group_vote
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig
from moodcam.second_look import SecondLook, SecondLookConfig, look_region, looked_score

from .test_pipeline import one_hot

ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)
W, H = 640, 480
EVERY_FRAME = ScheduleConfig(detector_every_n_frames=1, emotion_every_n_frames=1)
SMALL = [300.0, 200.0, 350.0, 250.0]       # 50 px: readable, below the near model's 96 px line
LARGE = [100.0, 100.0, 260.0, 260.0]       # 160 px


def raw_for(boxes_px, letterbox, logit: float = 4.0):
    """Raw short-range outputs decoding to these boxes (pixels of the letterboxed region), one score."""
    norm = letterbox.boxes_to_target(np.asarray(boxes_px, float).reshape(-1, 4)) / 128.0
    if not len(norm):
        return np.zeros((1, 896, 16), np.float32), np.full((1, 896, 1), -10.0, np.float32)
    ids = [anchors_near(ANCHORS, b[None], 1)[0][0] for b in norm]
    kps = [np.array([[b[0], b[1]]] * 6) for b in norm]
    return encode_raw_outputs(ANCHORS, ids, norm, np.array(kps), np.full(len(norm), logit))


def logic() -> FrameLogic:
    return FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME, second_look=SecondLookConfig(threshold=0.5)))


def detect(lg: FrameLogic, t: float, *boxes):
    plan = lg.begin_frame(t, W, H)
    lg.submit_detections(*raw_for(list(boxes), plan.detector_letterbox))
    return plan


def look(lg: FrameLogic, logit: float | None) -> list[bool | None]:
    """Answer every look: the near model sees the face there with this logit (None: sees nothing)."""
    out = []
    for req in lg.confirm_requests():
        track = lg.tracker.get(req.face_id)
        local = np.array(track.box) - [req.region.x, req.region.y] * 2
        raw = raw_for([] if logit is None else [local], req.letterbox, logit if logit is not None else 0.0)
        out.append(lg.submit_confirmation(req.face_id, *raw))
    return out


# -- the rule's parts ---------------------------------------------------------------------------
def test_a_face_needs_a_look_when_small_or_found_by_a_tile():
    cfg = SecondLookConfig()
    assert cfg.needs_look(SMALL, W, H, from_tile=False)
    assert cfg.needs_look(LARGE, W, H, from_tile=True)
    assert not cfg.needs_look(LARGE, W, H, from_tile=False)


def test_the_look_region_is_a_square_around_the_face_moved_inside_the_frame():
    r = look_region(SMALL, W, H, 2.0)
    assert (r.width, r.height) == (100.0, 100.0) and (r.x, r.y) == (275.0, 175.0)
    corner = look_region([0, 0, 40, 40], W, H, 3.0)
    assert (corner.x, corner.y, corner.width) == (0.0, 0.0, 120.0)


def test_only_a_detection_on_the_candidate_scores_the_look():
    boxes = np.array([[302, 202, 338, 238], [0, 0, 40, 40], [250, 150, 400, 300]], float)
    assert looked_score(SMALL, boxes, np.array([0.7, 0.99, 0.95])) == pytest.approx(0.7)
    assert looked_score(SMALL, np.zeros((0, 4)), np.zeros(0)) == 0.0


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="threshold"):
        SecondLookConfig(threshold=1.5)
    with pytest.raises(ValueError, match="context"):
        SecondLookConfig(context=0.5)


def test_a_refused_place_is_refused_again_without_a_look_until_the_memory_ends():
    sl = SecondLook(SecondLookConfig(refused_memory_ms=1000))
    assert sl.admit(1, SMALL, (W, H), False, 0.0)
    assert not sl.decide(1, SMALL, 0.1, 0.0)
    assert not sl.admit(2, SMALL, (W, H), False, 500.0)
    assert sl.admit(3, SMALL, (W, H), False, 1500.0) and not sl.confirmed(3)


# -- FrameLogic --------------------------------------------------------------------------------------
def test_a_small_face_is_not_shown_read_or_voted_until_its_look_confirms_it():
    lg = logic()
    detect(lg, 0.0, SMALL)
    assert len(lg.confirm_requests()) == 1
    assert lg.emotion_requests() == ()
    result = lg.end_frame()                       # the look did not run this frame
    assert result.faces == () and result.mood.state != "observing"
    detect(lg, 33.0, SMALL)
    assert look(lg, 4.0) == [True]
    assert [r.face_id for r in lg.emotion_requests()] == [lg.tracker.tracks[0].id]
    assert len(lg.end_frame().faces) == 1


def test_a_confirmed_face_is_never_looked_at_again():
    lg = logic()
    detect(lg, 0.0, SMALL)
    look(lg, 4.0)
    lg.end_frame()
    for i in range(1, 20):
        detect(lg, i * 33.0, SMALL)
        assert lg.confirm_requests() == ()
        lg.end_frame()


def test_a_refused_face_is_dropped_and_the_page_stays_at_no_face():
    lg = logic()
    detect(lg, 0.0, SMALL)
    assert look(lg, -3.0) == [False]               # the near model: score 0.05
    result = lg.end_frame()
    assert result.faces == () and lg.tracker.tracks == ()
    for i in range(1, 30):                          # found again in the same place: refused at once
        detect(lg, i * 33.0, SMALL)
        assert lg.confirm_requests() == ()
        assert lg.end_frame().faces == ()


def test_a_large_face_on_the_whole_frame_counts_at_once_and_votes():
    lg = logic()
    for i in range(40):
        detect(lg, i * 33.0, LARGE)
        assert lg.confirm_requests() == ()
        for req in lg.emotion_requests():
            lg.submit_emotion(req.face_id, one_hot("happy"))
        result = lg.end_frame()
    assert len(result.faces) == 1 and result.faces[0].label == "happy"


def test_a_face_waiting_for_its_look_does_not_change_the_group_mood():
    lg = logic()
    for i in range(60):
        detect(lg, i * 33.0, LARGE, SMALL)          # the small one is never confirmed
        for req in lg.emotion_requests():
            lg.submit_emotion(req.face_id, one_hot("happy"))
        result = lg.end_frame()
    assert [tuple(np.round(f.box)) for f in result.faces] == [tuple(np.round(LARGE))]
    assert result.mood.mood == "happy"


def test_without_the_second_look_every_face_counts_at_once():
    lg = FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME))
    detect(lg, 0.0, SMALL)
    assert lg.confirm_requests() == ()
    assert len(lg.end_frame().faces) == 1


# -- the group rule ---------------------------------------------------------------------------------
def test_the_group_mood_is_the_label_most_faces_agree_on_ties_to_the_largest():
    s = {"happy": 0.9}
    assert group_vote([("sad", 100.0, s), ("happy", 400.0, s), ("sad", 50.0, s)])[0] == "sad"
    assert group_vote([("sad", 100.0, s), ("happy", 400.0, s)])[0] == "happy"
    assert group_vote([(None, 100.0, {"x": 1.0})]) == (None, {"x": 1.0})
    assert group_vote([]) == (None, {})


def test_a_candidate_under_20_px_is_refused_without_a_look():
    lg = logic()
    detect(lg, 0.0, [300.0, 200.0, 316.0, 216.0])       # 16 px: the flags and badges of the fixtures
    assert lg.confirm_requests() == () and lg.tracker.tracks == ()
    assert lg.end_frame().faces == ()


def test_a_group_all_too_far_to_read_gets_no_mood_though_every_face_is_shown():
    # The photo: four faces 38-42 px, all confirmed, none readable (44 px line).
    boxes = [[100.0 + 90 * i, 200.0, 138.0 + 90 * i + i, 238.0 + i] for i in range(4)]
    lg = logic()
    for i in range(90):
        detect(lg, i * 33.0, *boxes)
        look(lg, 4.0)
        assert lg.emotion_requests() == ()
        result = lg.end_frame()
    assert len(result.faces) == 4 and not any(f.readable for f in result.faces)
    assert result.mood.mood is None and result.mood.state == "no_face"


def test_faces_from_facemesh_count_at_once_it_checks_its_own_faces():
    from moodcam.detection.result import Detections
    lg = logic()
    lg.begin_frame(0.0, W, H)
    box = np.array([SMALL], np.float32)
    lg.submit_faces(Detections(box, np.array([0.9], np.float32), np.repeat(box[:, None, :2], 6, axis=1)))
    assert lg.confirm_requests() == ()
    assert len(lg.end_frame().faces) == 1



def test_a_weak_far_proposal_counts_only_where_the_look_will_decide():
    from moodcam.detection.pipeline import BLAZEFACE_FULL_RANGE_SPEC
    from moodcam.detection.result import Detections
    from moodcam.second_look import far_proposals, far_spec_for_looks, with_min_score

    cfg = SecondLookConfig()
    far = with_min_score(BLAZEFACE_FULL_RANGE_SPEC, 0.5)
    assert far_spec_for_looks(far, cfg).decode.min_score_thresh == cfg.propose_min_score
    assert far_spec_for_looks(far, None) is far
    boxes = np.array([SMALL, LARGE, LARGE], np.float32)
    det = Detections(boxes, np.array([0.35, 0.35, 0.8], np.float32), np.zeros((3, 6, 2), np.float32))
    # the weak small one gets a look; the weak large one would count unlooked at, so it is dropped
    np.testing.assert_allclose(far_proposals(det, cfg, far, (W, H), from_tile=False).scores, [0.35, 0.8])
    assert len(far_proposals(det, cfg, far, (W, H), from_tile=True)) == 3     # a tile's: all get a look
