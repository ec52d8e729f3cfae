"""Analysing a video file (issue 28): videos made by ffmpeg from the scene fixtures (tests/fixtures/videos.py).

The story clip: a wall, a face enters (smiling), its expression changes midway (calm), it leaves,
then two faces. Checked on H.264 MP4 and VP9 WebM: the DOM contract (data-video-state,
data-video-progress, #video-report, the exports), one id per face while in view, the group's mood
changing within the vote's bound of the change, one CSV row per face per analysed frame, the same
report twice; cancel keeps what was analysed; a truncated file is analysed as far as it decodes; a
file that is not a video gets a message naming its type. The camera is denied in every test, so
frames come only from the video.
"""
from __future__ import annotations

import csv
import io
import json
import time

import pytest

from tests.fixtures import videos

from .conftest import open_app

pytestmark = pytest.mark.e2e

BOUND_S = 3.0 + 1.0        # MoodConfig.answer_within_ms, plus its dwell_ms for a mood to give way


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return tmp_path_factory.mktemp("videos")


def ready(app) -> None:
    app.wait_for(lambda s: s.error()["code"] == "permission-denied", 120, "the engine booted (camera denied)")


def analyse(app, path, timeout: float = 240.0) -> dict:
    app.page.set_input_files("#video-file", str(path))
    return app.wait_for(lambda s: s.data().get("videoState") in ("done", "cancelled", "error") and s.data(),
                        timeout, f"the analysis of {path.name}")


def download(app, button: str) -> str:
    with app.page.expect_download() as info:
        app.page.click(button)
    return open(info.value.path(), encoding="utf-8").read()


def report_rows(app) -> list[list[str]]:
    return app.page.evaluate("""() => [...document.querySelectorAll('#video-faces tbody tr')]
        .map((tr) => [...tr.children].map((c) => c.textContent))""")


@pytest.mark.parametrize("container", ["mp4", "webm"])
def test_a_video_is_analysed_into_a_report_with_faces_moods_and_exports(server, cameras, clips, container):
    clip = videos.story(clips, container)
    with open_app(server, camera=cameras("coffee"), camera_permission=False, query="?backend=wasm") as app:
        ready(app)
        started = time.monotonic()
        data = analyse(app, clip)
        wall = time.monotonic() - started
        assert data["videoState"] == "done", (data, app.text("video-progress-text"), app.error())
        assert float(data["videoProgress"]) == 1.0 and data["source"] == "video"
        assert app.page.is_visible("#video-report")
        frames = list(csv.DictReader(io.StringIO(download(app, "#video-export-csv"))))
        summary = list(csv.DictReader(io.StringIO(download(app, "#video-export-summary"))))
        report = json.loads(download(app, "#video-export-json"))
        print(f"\n{container}: {report['frames_analysed']} frames of {videos.DURATION_S} s in {wall:.1f} s wall "
              f"({videos.DURATION_S / wall:.2f}x real time, page round trip included); faces {report['faces']}")
        # Every sampled frame at 10/s, one row per face per analysed frame.
        assert report["frames_analysed"] == round(videos.DURATION_S * 10) and report["stopped"] is None
        per_frame: dict[str, int] = {}
        for row in frames:
            per_frame[row["frame"]] = per_frame.get(row["frame"], 0) + 1
        assert len(frames) == sum(per_frame.values()) == len(report["rows"]["data"])
        assert max(per_frame.values()) <= 2
        # The face that enters keeps one id from shortly after it enters until it leaves.
        first = [row for row in frames if videos.ENTERS_S + 0.5 <= float(row["time_s"]) < videos.LEAVES_S]
        assert first and {row["face_id"] for row in first} == {first[0]["face_id"]}, "one id while in view"
        assert not [r for r in frames if float(r["time_s"]) < videos.ENTERS_S - 0.05], "a face on the bare wall"
        assert {r["face_id"] for r in frames if float(r["time_s"]) > videos.PAIR_S + 1.0} - {first[0]["face_id"]}
        # The group's mood: happy while smiling, and another mood within the bound of the change.
        group = report["group_timeline"]
        happy = [s for s in group if s["key"] == "happy"]
        assert happy and happy[0]["start_s"] < videos.CHANGES_S, group
        left_happy = next(s["end_s"] for s in group if s["key"] == "happy" and s["end_s"] > videos.CHANGES_S - 0.1)
        assert videos.CHANGES_S <= left_happy <= videos.CHANGES_S + BOUND_S, group
        # The summary and the page's table: one row per tracked face.
        assert len(summary) == len(report["faces"]) == len(report_rows(app)) >= 2
        assert report["settings"]["per_second"] == 10.0 and report["models"]
        app.screenshot(f"video-report-{container}")
        app.assert_network_clean()
