"""moodcam.video_chart, moodcam.thumbnail and the report's moments (issue 28): the chart, the preview's
boxes and the faces' thumbnails of a video's report."""
from __future__ import annotations

import base64
import re
import struct
import zlib

import pytest

from moodcam.thumbnail import THUMB_PX, inside_share, png, png_data_url, quality, square_crop
from moodcam.video_chart import MAX_POINTS, boxes_svg, chart_points, chart_rows, chart_svg, runs, seconds_text
from moodcam.video_report import FaceRow, VideoReport

HAPPY = (0.01, 0.0, 0.01, 0.9, 0.02, 0.02, 0.04)
SAD = (0.05, 0.0, 0.05, 0.05, 0.7, 0.05, 0.1)
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def report() -> VideoReport:
    """Face 1 in frames 0-9 (unread in frame 0, happy then sad), face 2 in frames 3-5 only."""
    r = VideoReport(name="clip.mp4", duration_s=1.0, size=(640, 480), analysed_size=(640, 480),
                    settings={"per_second": 10.0}, models={})
    for k in range(10):
        faces = [FaceRow(1, (10.0, 20.0, 110.0, 140.0), 0.9, None if k == 0 else (HAPPY if k < 5 else SAD), k > 0,
                         None if k == 0 else "happy" if k < 5 else "sad")]
        if 3 <= k <= 5:
            faces.append(FaceRow(2, (300.0, 40.0, 380.0, 140.0), 0.8, HAPPY, True, "happy"))
        r.add(k / 10, faces, "happy")
    return r


def test_a_moment_is_the_analysed_frame_shown_then_with_its_faces():
    r = report()
    assert r.frame_at(-1.0) == 0 and r.frame_at(0.0) == 0 and r.frame_at(0.349) == 3 and r.frame_at(0.35) == 3
    assert r.frame_at(0.4) == 4 and r.frame_at(99.0) == 9
    assert [(f, key) for f, _, key in r.frame_faces(4)] == [(1, "happy"), (2, "happy")]
    assert r.frame_faces(4)[1][1] == (300.0, 40.0, 380.0, 140.0)
    assert [(f, key) for f, _, key in r.frame_faces(0)] == [(1, "uncertain")]
    assert VideoReport(name="", duration_s=1, size=(1, 1), analysed_size=(1, 1), settings={}, models={}).frame_at(0.5) is None


def test_a_faces_samples_skip_frames_before_its_first_reading():
    samples = report().face_samples(1)
    assert [s[0] for s in samples] == list(range(1, 10)) and samples[0][2] == HAPPY and samples[-1][2] == SAD
    assert [s[0] for s in report().face_samples(2)] == [3, 4, 5]


def test_points_average_equal_groups_and_never_join_across_a_gap():
    samples = [(k, k / 10, (k / 10,)) for k in range(10)] + [(k, k / 10, (1.0,)) for k in range(20, 24)]
    assert [len(run) for run in runs(samples)] == [10, 4]
    assert [(p.time_s, p.frames, p.after_gap) for p in chart_points(samples)] == \
        [(k / 10, 1, False) for k in range(10)] + [(k / 10, 1, k == 20) for k in range(20, 24)]
    grouped = chart_points(samples, max_points=5)          # 14 samples, 3 a point
    assert [p.frames for p in grouped] == [3, 3, 3, 1, 3, 1]
    assert grouped[0].probabilities == pytest.approx((0.1,)) and grouped[0].time_s == 0.0
    assert [p.after_gap for p in grouped] == [False, False, False, False, True, False]
    long = [(k, k / 10, (0.5,)) for k in range(36000)]      # an hour at 10 frames a second
    assert len(chart_points(long)) <= MAX_POINTS


def test_the_chart_has_a_line_per_class_in_its_colour_and_a_seek_area():
    r = report()
    points = chart_points(r.face_samples(1))
    svg = chart_svg(points, LABELS, 0.0, 1.0, "title")
    assert svg.startswith("<svg") and 'aria-labelledby="title"' in svg
    lines = re.findall(r'<path d="([^"]+)" data-label="(\w+)" stroke="(#\w+)"', svg)
    assert [label for _, label, _ in lines] == list(LABELS)
    assert dict((label, colour) for _, label, colour in lines)["happy"] == "#F0E442"      # Okabe-Ito yellow
    assert all(d.count("L") == len(points) - 1 for d, _, _ in lines)
    assert 'data-seek-from="0.000" data-seek-to="1.000"' in svg
    assert chart_svg(points, LABELS, 0.0, 1.0, "title") == svg                            # the same text twice
    rows = chart_rows(points)
    assert rows[0] == (0.1, "0:00.1", ["1 %", "0 %", "1 %", "90 %", "2 %", "2 %", "4 %"])


def test_the_preview_boxes_are_in_analysed_pixels_with_the_chosen_face_thicker():
    faces = report().frame_faces(4)
    svg = boxes_svg(faces, (640, 480), chosen=2)
    assert 'viewBox="0 0 640 480"' in svg
    rects = re.findall(r'<rect data-face="(\d+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" '
                       r'fill="none" stroke="#\w+" stroke-width="([\d.]+)"', svg)
    assert rects == [("1", "10", "20", "100", "120", "2"), ("2", "300", "40", "80", "100", "4")]
    assert "Face 1: Happy" in svg and "<script" not in boxes_svg([(1, (0, 0, 1, 1), "<script>")], (2, 2), None)


def test_seconds_text_rounds_to_tenths():
    assert [seconds_text(t) for t in (0.0, 1.5, 1.96, 61.04, 3723.2)] == ["0:00.0", "0:01.5", "0:02.0", "1:01.0",
                                                                           "1:02:03.2"]


def test_the_thumbnails_square_lies_inside_the_frame_and_a_whole_face_beats_a_cut_one():
    assert square_crop((100, 100, 200, 220), (640, 480)) == (66, 76, 168)      # centred, 1.4x the long side
    assert square_crop((-30, 10, 70, 110), (640, 480)) == (0, 0, 140)              # moved inside, not squashed
    assert square_crop((0, 0, 900, 900), (640, 480)) == (160, 0, 480)         # no larger than the short side
    assert inside_share((-50, 0, 50, 100), (640, 480)) == 0.5
    assert quality((-50, 0, 50, 100), 0.9, (640, 480)) < quality((10, 0, 110, 100), 0.6, (640, 480))


def test_the_png_is_the_pixels_without_alpha():
    rgba = bytes(v for i in range(THUMB_PX * THUMB_PX) for v in (i % 256, 7, 200, 255))
    data = png(THUMB_PX, THUMB_PX, rgba)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (THUMB_PX, THUMB_PX, 8, 2)
    length = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41:41 + length])
    assert raw[:7] == bytes([0, 0, 7, 200, 1, 7, 200]) and len(raw) == THUMB_PX * (1 + 3 * THUMB_PX)
    url = png_data_url(THUMB_PX, THUMB_PX, rgba)
    assert url.startswith("data:image/png;base64,") and base64.b64decode(url.split(",", 1)[1]) == data
    with pytest.raises(ValueError, match="needs 16"):
        png(2, 2, b"\0" * 15)
