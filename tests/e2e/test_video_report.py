"""A video's report and its questions (issue 28), in headless Chromium on clips made by ffmpeg.

- a second video chosen during an analysis asks first (#video-confirm, in the page, keyboard-usable):
  "keep analysing" (Escape) leaves the running analysis untouched, "analyse the new one" cancels it
  and starts the new file;
- the report: each face's row has its thumbnail (a PNG cropped on the device), the chosen face has
  a chart of its seven probabilities (another face's row chooses it), the chart is also a table,
  and a moment clicked on the chart or a strip (or a time of the table, from the keyboard) seeks the
  preview to that analysed frame with that frame's boxes (the per-frame CSV's rows).
"""
from __future__ import annotations

import csv
import io
import json

import pytest

from tests.fixtures import videos

from .conftest import open_app
from .test_video import analyse, download, ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return tmp_path_factory.mktemp("videos")


def progress(app) -> float:
    return float(app.data().get("videoProgress") or 0)


def focused(app) -> str:
    return app.page.evaluate("() => document.activeElement && document.activeElement.id")


def test_a_second_video_chosen_during_an_analysis_asks_first(server, cameras, clips):
    clip = videos.story(clips, "webm")
    second = videos.clip((("smiling", 2.0),), clips / "short.mp4")
    with open_app(server, camera=cameras("coffee"), camera_permission=False, query="?backend=wasm") as app:
        ready(app)
        app.page.set_input_files("#video-file", str(clip))
        app.wait_for(lambda s: progress(s) > 0.05, 120, "the first one running")
        assert app.page.is_hidden("#video-confirm")
        app.page.set_input_files("#video-file", str(second))
        app.wait_for(lambda s: s.page.is_visible("#video-confirm"), 30, "the question")
        # The question is in the page (no blocking dialog: the analysis goes on), says both names, has the
        # keyboard's focus on "keep analysing".
        assert "story.webm" in app.text("video-confirm-text") and "short.mp4" in app.text("video-confirm-text")
        assert app.page.get_attribute("#video-confirm", "role") == "alertdialog"
        app.wait_for(lambda s: focused(s) == "video-confirm-keep", 10, "the focus on 'keep analysing'")
        asked_at = progress(app)
        app.wait_for(lambda s: progress(s) > asked_at, 60, "the first analysis going on while asked")
        assert app.data()["videoState"] == "analysing" and "story.webm" in app.text("video-name")
        # Escape: keep analysing. The first analysis ends untouched: every frame, nothing stopped.
        app.page.keyboard.press("Escape")
        app.wait_for(lambda s: s.page.is_hidden("#video-confirm"), 10, "the question gone")
        data = app.wait_for(lambda s: s.data().get("videoState") in ("done", "cancelled") and s.data(), 240,
                            "the first analysis's end")
        report = json.loads(download(app, "#video-export-json"))
        assert data["videoState"] == "done" and report["video"]["name"] == "story.webm", (data, report["stopped"])
        assert report["frames_analysed"] == round(videos.DURATION_S * 10) and report["stopped"] is None
        assert "short.mp4 was not analysed" in app.text("notice")
        # Again, and this time "analyse the new one" from the keyboard (Tab to it, Enter): the first is
        # cancelled with a word and the new file analysed.
        app.page.set_input_files("#video-file", str(clip))
        app.wait_for(lambda s: s.data().get("videoState") == "analysing" and progress(s) > 0.05, 120, "running again")
        app.page.set_input_files("#video-file", str(second))
        app.wait_for(lambda s: focused(s) == "video-confirm-keep", 30, "asked again")
        app.page.keyboard.press("Tab")
        assert focused(app) == "video-confirm-switch"
        app.page.keyboard.press("Enter")
        data = app.wait_for(lambda s: s.data().get("videoState") == "done" and "short.mp4" in s.text("video-name")
                            and s.data(), 120, "the second video's report")
        assert "was cancelled to analyse short.mp4" in app.text("notice"), app.text("notice")
        assert app.page.is_hidden("#video-confirm")
        assert json.loads(download(app, "#video-export-json"))["video"]["name"] == "short.mp4"
        app.assert_network_clean()


THUMBNAILS = """() => [...document.querySelectorAll('#video-faces tbody tr')].map((tr) => {
    const img = tr.querySelector('img');
    if (!img) return { face: tr.dataset.face, src: '' };
    const canvas = Object.assign(document.createElement('canvas'), { width: img.naturalWidth, height: img.naturalHeight });
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const px = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0, squares = 0;
    for (let i = 0; i < px.length; i += 4) { const v = (px[i] + px[i + 1] + px[i + 2]) / 3; sum += v; squares += v * v; }
    const n = px.length / 4, mean = sum / n;
    return { face: tr.dataset.face, src: img.src.slice(0, 22), width: img.naturalWidth, alt: img.alt,
             spread: Math.sqrt(Math.max(0, squares / n - mean * mean)) };
})"""

PREVIEW = """() => { const v = document.getElementById('video-preview');
    return { time: v.currentTime, seeking: v.seeking, ready: v.readyState, wanted: Number(v.dataset.time),
             faces: JSON.parse(v.dataset.faces || '[]'),
             rects: [...document.querySelectorAll('#video-preview-boxes rect')].map((r) =>
                 ['data-face', 'x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a)))) }; }"""


def shown_at(app, t: float) -> dict:
    """The preview once it shows the analysed frame at `t` (its <video> seeked there and not seeking)."""
    return app.wait_for(lambda s: (p := s.page.evaluate(PREVIEW)) and abs(p["wanted"] - t) < 1e-3
                        and abs(p["time"] - t) < 1e-3 and not p["seeking"] and p["ready"] >= 2 and p, 30,
                        f"the preview at {t} s")


def boxes_of(rows: list[dict], t: float) -> list[list[float]]:
    """The per-frame CSV's boxes at media time `t`, as the preview's rects list them."""
    return sorted([float(r["face_id"]), float(r["x"]), float(r["y"]), float(r["width"]), float(r["height"])]
                  for r in rows if abs(float(r["time_s"]) - t) < 1e-3)


def test_the_report_has_thumbnails_a_chart_for_the_chosen_face_and_moments_that_seek(server, cameras, clips):
    clip = videos.clip((("smiling", 2.0), ("pair_near_far", 2.0)), clips / "two.mp4")
    with open_app(server, camera=cameras("coffee"), camera_permission=False, query="?backend=wasm") as app:
        ready(app)
        assert analyse(app, clip)["videoState"] == "done"
        rows = list(csv.DictReader(io.StringIO(download(app, "#video-export-csv"))))
        # A thumbnail per face: a 64 px PNG made on the device, of a face (not a flat patch).
        thumbs = app.page.evaluate(THUMBNAILS)
        assert len(thumbs) >= 2 and {t["face"] for t in thumbs} == {r["face_id"] for r in rows}, thumbs
        for thumb in thumbs:
            assert thumb["src"] == "data:image/png;base64," and thumb["width"] == 64 and thumb["spread"] > 10, thumb
        # The chosen face (seen longest) has the chart: seven lines and its row's button pressed.
        chosen = app.page.get_attribute("#video-chart", "data-face")
        assert chosen and app.page.get_attribute(f'#video-faces tr[data-face="{chosen}"] button', "aria-pressed") == "true"
        assert app.page.locator("#video-chart svg path[data-label]").count() == 7
        assert f"Face {chosen}" in app.text("video-chart-title")
        table = app.page.locator("#video-chart-table tbody tr")
        assert table.count() >= 10 and app.page.locator("#video-chart-table thead th").count() == 8
        # Another face's row chooses it: its chart, its button pressed.
        other = next(t["face"] for t in thumbs if t["face"] != chosen)
        app.page.click(f'#video-faces tr[data-face="{other}"] td:nth-child(4)')
        app.wait_for(lambda s: s.page.get_attribute("#video-chart", "data-face") == other, 10, "the other face's chart")
        assert f"Face {other}" in app.text("video-chart-title")
        assert app.page.get_attribute(f'#video-faces tr[data-face="{other}"] button', "aria-pressed") == "true"
        # A click on the chart is a moment: the preview seeks to the analysed frame there, with its boxes.
        area = app.page.locator("#video-chart .seek-area")
        start, end = (float(area.get_attribute(a)) for a in ("data-seek-from", "data-seek-to"))
        box = area.bounding_box()
        area.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
        wanted = start + 0.5 * (end - start)
        shown = app.wait_for(lambda s: s.page.is_visible("#video-preview-figure") and s.page.evaluate(PREVIEW), 10,
                             "the preview")
        frame_t = shown["wanted"]
        assert wanted - 0.1 - 1e-3 <= frame_t <= wanted + 1e-3, (wanted, frame_t)       # the frame shown then
        shown = shown_at(app, frame_t)
        assert sorted(shown["rects"]) == boxes_of(rows, frame_t) and shown["rects"], (shown, frame_t)
        assert f"{int(other)}" in app.text("video-preview-text")
        # A moment on a face's mood strip: the same, at that frame.
        strip = app.page.locator('#video-faces tbody tr:first-child .strip')
        box = strip.bounding_box()
        strip.click(position={"x": box["width"] * 0.25, "y": box["height"] / 2}, force=True)   # aria-hidden, still clickable
        app.wait_for(lambda s: abs(s.page.evaluate(PREVIEW)["wanted"] - frame_t) > 0.05, 10, "the strip's moment")
        t = app.page.evaluate(PREVIEW)["wanted"]
        assert 0.0 <= t <= 1.0 + 1e-3, t                       # a quarter of the 4 s clip: the frame at 0.9-1.0 s
        assert sorted(shown_at(app, t)["rects"]) == boxes_of(rows, t)
        # From the keyboard: a time in the chart's table (focus it, Enter) is a moment too.
        app.page.click("#video-chart-details summary")
        button = app.page.locator("#video-chart-table tbody tr:nth-child(3) button")
        seek = float(button.get_attribute("data-seek-time"))
        button.focus()
        app.page.keyboard.press("Enter")
        assert sorted(shown_at(app, seek)["rects"]) == boxes_of(rows, seek)
        app.screenshot("video-report-chart")
        app.assert_network_clean()
