"""moodcam.video_report: rows, summaries, timelines and the files of a video's analysis (issue 28)."""
from __future__ import annotations

import csv
import io
import json

from moodcam.video_report import (PYFEAT_COLUMNS, FaceRow, VideoReport, clock, ended_text, progress_text, sample_times,
                                  time_left_s)

HAPPY = (0.01, 0.0, 0.01, 0.9, 0.02, 0.02, 0.04)
SAD = (0.05, 0.0, 0.05, 0.05, 0.7, 0.05, 0.1)


def report(**kw) -> VideoReport:
    return VideoReport(name="clip.mp4", duration_s=kw.get("duration_s", 1.0), size=(1280, 960),
                       analysed_size=(1280, 960), settings={"per_second": 10.0}, models={"emotion": "v1"})


def face(face_id: int, probs=HAPPY, label: str | None = "happy", read: bool = True) -> FaceRow:
    return FaceRow(face_id, (10.0, 20.0, 110.0, 140.0), 0.91, probs, read, label)


def filled() -> VideoReport:
    """Face 1 happy for 0.0-0.4 s then sad (0.5-0.9 s); face 2 only from 0.3 s to 0.5 s, uncertain first."""
    r = report()
    for k in range(10):
        faces = [face(1, HAPPY if k < 5 else SAD, "happy" if k < 5 else "sad")]
        if 3 <= k <= 5:
            faces.append(face(2, None if k == 3 else HAPPY, None if k == 3 else "happy", read=k != 3))
        r.add(k / 10, faces, "happy" if k < 6 else "sad")
    return r


def test_sampling_is_k_over_n_below_the_duration():
    assert list(sample_times(0.5, 10)) == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert len(list(sample_times(60.0, 10))) == 600           # no drift from adding 0.1 six hundred times
    assert list(sample_times(0.0, 10)) == []


def test_one_row_per_face_per_frame_with_pandas_friendly_columns():
    r = filled()
    rows = list(csv.DictReader(io.StringIO(r.to_csv())))
    assert r.frames == 10 and len(rows) == r.rows == 13
    assert list(rows[0]) == ["time_s", "frame", "face_id", "x", "y", "width", "height", "score", "anger", "disgust",
                             "fear", "happiness", "sadness", "surprise", "neutral", "read", "label", "mood"]
    assert rows[0]["width"] == "100.0" and rows[0]["height"] == "120.0" and rows[0]["happiness"] == "0.9"
    before_reading = next(row for row in rows if row["face_id"] == "2")
    assert before_reading["happiness"] == "" and before_reading["label"] == "" and before_reading["read"] == "0"
    assert set(PYFEAT_COLUMNS.values()) <= set(rows[0])


def test_summary_has_first_and_last_seen_and_shares():
    one, two = filled().face_summaries()
    assert (one.face_id, one.first_seen_s, one.last_seen_s, one.frames) == (1, 0.0, 0.9, 10)
    assert one.shares["happy"] == 0.5 and one.shares["sad"] == 0.5 and one.shares["uncertain"] == 0.0
    assert (two.first_seen_s, two.last_seen_s, two.frames) == (0.3, 0.5, 3)
    assert round(two.shares["uncertain"], 4) == 0.3333 and round(sum(two.shares.values()), 9) == 1.0
    summary = list(csv.DictReader(io.StringIO(filled().summary_csv())))
    assert summary[0]["share_happiness"] == "0.5" and "share_uncertain" in summary[0]


def test_timelines_merge_neighbours_and_keep_gaps():
    r = filled()
    assert r.face_timeline(1) == [(0.0, 0.5, "happy"), (0.5, 1.0, "sad")]
    assert [(round(a, 3), round(b, 3), k) for a, b, k in r.face_timeline(2)] == [(0.3, 0.4, "uncertain"),
                                                                                 (0.4, 0.6, "happy")]
    assert r.group_timeline() == [(0.0, 0.6, "happy"), (0.6, 1.0, "sad")]


def test_same_rows_give_the_same_files():
    assert filled().to_csv() == filled().to_csv() and filled().to_json() == filled().to_json()


def test_json_holds_settings_models_rows_and_where_it_stopped():
    r = filled()
    r.stop(1.0, "truncated")
    data = json.loads(r.to_json())
    assert data["format"] == "moodcam-video-report/1" and data["models"] == {"emotion": "v1"}
    assert data["settings"]["per_second"] == 10.0 and data["stopped"] == {"at_s": 1.0, "why": "truncated"}
    assert len(data["rows"]["data"]) == 13 and data["rows"]["columns"][0] == "time_s"
    assert [f["face_id"] for f in data["faces"]] == [1, 2] and data["faces"][0]["timeline"][0]["key"] == "happy"


def test_no_faces_is_a_report_with_no_face_rows():
    r = report()
    for k in range(5):
        r.add(k / 10, [], "no_face")
    assert r.rows == 0 and r.face_summaries() == [] and r.group_timeline() == [(0.0, 0.5, "no_face")]
    assert r.to_csv().count("\n") == 1


def test_progress_says_time_done_left_and_pace():
    assert clock(75) == "1:15" and clock(3725) == "1:02:05"
    assert time_left_s(0, 60, 0) is None and time_left_s(20, 60, 10) == 20.0
    assert progress_text(20, 60, 10) == "0:20 of 1:00 analysed, about 0:20 left, 2.0x real time"
    assert ended_text(60, 60, 20) == "1:00 of 1:00 analysed in 0:20 (3.0x real time)"
