"""moodcam.detection.tiles: the far range's tile sweep, and FrameLogic with it (issue 12)."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.result import Detections
from moodcam.detection.tiles import DetectorSweep, Tile, TileConfig, from_tile, tile_grid
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig
from moodcam.tracking.tracker import FaceTracker, TrackerConfig

ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)
W, H = 640, 480
EVERY_FRAME = ScheduleConfig(detector_every_n_frames=1, emotion_every_n_frames=1)


def dets(*boxes) -> Detections:
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    return Detections(b, np.full(len(b), 0.9, np.float32), np.repeat(b[:, None, :2], 6, axis=1))


def raw_for(boxes_px, letterbox):
    """Raw short-range outputs that decode to these boxes (pixels of the letterboxed region)."""
    norm = letterbox.boxes_to_target(np.asarray(boxes_px, float).reshape(-1, 4)) / 128.0
    ids, rows, kps = [], [], []
    for b in norm:
        near = anchors_near(ANCHORS, b[None], 2)[0]
        ids.extend(near)
        rows.extend([b, b + 0.002])
        kps.extend([np.array([[b[0], b[1]]] * 6)] * 2)
    if not ids:
        return np.zeros((1, 896, 16), np.float32), np.full((1, 896, 1), -10.0, np.float32)
    return encode_raw_outputs(ANCHORS, ids, np.array(rows), np.array(kps), np.tile([4.0, 3.0], len(norm)))


# -- geometry ---------------------------------------------------------------------------------
def test_a_640x480_frame_gets_the_four_measured_352x272_tiles():
    tiles = tile_grid(W, H, TileConfig())
    assert [(t.x, t.y, t.width, t.height) for t in tiles] == [
        (0, 0, 352, 272), (288, 0, 352, 272), (0, 208, 352, 272), (288, 208, 352, 272)]


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (480, 640), (321, 197)])
def test_every_face_narrower_than_the_overlap_lies_wholly_inside_some_tile(size):
    config = TileConfig()
    tiles = tile_grid(*size, config)
    small = config.small_face_px(*size)
    rng = np.random.default_rng(1)
    for _ in range(500):
        w = rng.uniform(4, small - 1)
        x, y = rng.uniform(0, size[0] - w), rng.uniform(0, size[1] - w)
        box = np.array([[x, y, x + w, y + w]])
        assert any(t.holds(box)[0] for t in tiles), (size, box)


def test_bad_tile_settings_are_refused_with_the_range():
    with pytest.raises(ValueError, match="grid"):
        TileConfig(grid=(0, 2))
    with pytest.raises(ValueError, match="small_face_fraction"):
        TileConfig(small_face_fraction=0.6)


# -- a tile run's detections ------------------------------------------------------------------
def test_tile_detections_move_to_frame_pixels_and_only_small_whole_faces_stay():
    tile = Tile(288, 208, 352, 272)              # the bottom-right tile: inner edges at x 288, y 208
    found = dets([100, 100, 130, 130],           # small, inside: kept, moved by (288, 208)
                 [10, 50, 200, 240],             # a large face: the whole-frame pass's
                 [0.5, 100, 30, 130],            # touches the inner left edge: a cut face
                 [320, 240, 351, 271])           # touches the frame's own corner: kept
    out = from_tile(found, tile, (W, H), small_face_px=64)
    np.testing.assert_allclose(out.boxes, [[388, 308, 418, 338], [608, 448, 639, 479]])
    np.testing.assert_allclose(out.keypoints[0, 0], [388, 308])


# -- the sweep ----------------------------------------------------------------------------------
def test_runs_alternate_between_the_whole_frame_and_each_tile_in_turn():
    sweep = DetectorSweep(TileConfig())
    regions = [sweep.next_region(W, H) for _ in range(9)]
    tiles = tile_grid(W, H, TileConfig())
    assert regions == [None, tiles[0], None, tiles[1], None, tiles[2], None, tiles[3], None]


def test_a_run_covers_the_faces_it_can_tell_about():
    sweep = DetectorSweep(TileConfig())
    tile = Tile(0, 0, 352, 272)
    boxes = np.array([[10, 10, 50, 50], [400, 300, 440, 340], [10, 10, 210, 210]], float)   # small in, small out, large
    assert list(sweep.covers(None, boxes, W, H)) == [False, False, True]
    assert list(sweep.covers(tile, boxes, W, H)) == [True, False, False]


def test_a_track_the_run_does_not_cover_is_not_counted_missing():
    tracker = FaceTracker(TrackerConfig(max_missed_runs=1, max_missing_ms=0))
    tracker.update(dets([10, 10, 40, 40], [300, 200, 420, 320]), 0)
    only_large = lambda boxes: (boxes[:, 2] - boxes[:, 0]) >= 64        # noqa: E731
    _, dropped = tracker.update(Detections.empty(), 100, only_large)
    assert [t.box[0] for t in dropped] == pytest.approx([300]) and len(tracker.tracks) == 1
    _, dropped = tracker.update(Detections.empty(), 200)                  # a run that covers it
    assert len(dropped) == 1 and tracker.tracks == ()


# -- FrameLogic with the sweep ------------------------------------------------------------------
def test_frame_logic_finds_a_small_face_in_a_tile_and_keeps_it_through_whole_frame_runs():
    # The detector every fourth frame while faces are tracked (a setting of the page): a tile
    # comes round every 32 frames (1.06 s at 30 fps), longer than the tracker keeps a face that
    # is missing (0.7 s): only `covers` keeps the far face between its tile's runs.
    schedule = ScheduleConfig(detector_every_n_frames=4, emotion_every_n_frames=1)
    logic = FrameLogic(FrameLogicConfig(schedule=schedule, tiles=TileConfig()))
    near, far = [100, 150, 260, 310], [500, 100, 530, 130]          # far: 30 px, in tile 1 only
    seen = []
    for i in range(150):
        plan = logic.begin_frame(i * 33.0, W, H)
        if plan.run_detector:
            if plan.tile is None:
                assert plan.detector_letterbox is plan.letterbox
                raw = raw_for([near], plan.letterbox)                 # one pass misses the far face
            else:
                assert plan.detector_letterbox.source_size == (plan.tile.width, plan.tile.height)
                held = plan.tile.holds(np.array([far]))[0]
                raw = raw_for([np.subtract(far, [plan.tile.x, plan.tile.y] * 2)] if held else [], plan.detector_letterbox)
            logic.submit_detections(*raw)
        result = logic.end_frame()
        seen.append(sorted("far" if f.box[0] > 400 else "near" for f in result.faces))
    assert seen[0] == ["near"]                                        # the whole frame: the near face
    found = seen.index(["far", "near"])                               # tile 1 (top right) finds the far one
    assert all(s == ["far", "near"] for s in seen[found:]), seen      # and it stays through every run
    small = [f for f in result.faces if f.box[0] > 400]
    assert len(small) == 1 and not small[0].readable                  # 30 px: too far to read
    assert sorted(f.id for f in result.faces) == [1, 2]


def test_without_tiles_every_run_sees_the_whole_frame():
    logic = FrameLogic(FrameLogicConfig(schedule=EVERY_FRAME))
    for i in range(4):
        plan = logic.begin_frame(i * 33.0, W, H)
        assert plan.tile is None and plan.detector_letterbox is plan.letterbox
        logic.end_frame()
