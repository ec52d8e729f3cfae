"""Every face and only faces (issue 27), in the browser: a busy scene with no face stays at no
face, a group from 28 to 250 px is found whole, and a group all too far to read gets no mood while
every caption stays readable.

Scenes: tests/fixtures/small_faces.py (scikit-image's public-domain and CC0 photos).
"""
from __future__ import annotations

import json
import time

import pytest
from PIL import Image

from tests.fixtures import small_faces
from tests.fixtures.cameras import y4m_from_png

from .conftest import open_app

pytestmark = pytest.mark.e2e

QUERY = "?backend=wasm"           # default settings: the auto range


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every_face")
    frames = {"busy": small_faces.busy_no_face(),
              "four_too_far": small_faces.group_scene(small_faces.FOUR_TOO_FAR)[0],
              "group_28_250": small_faces.group_scene(small_faces.GROUP_28_TO_250)[0]}
    out = {}
    for name, frame in frames.items():
        png = folder / f"{name}.png"
        Image.fromarray(frame).save(png)
        out[name] = y4m_from_png(png, folder / f"{name}.y4m")
    return out


def overlaps(a, b) -> bool:
    return min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0]) and min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1])


def inside(point, box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def test_a_group_all_too_far_to_read_gets_no_mood_and_every_caption_can_be_read(server, clips):
    with open_app(server, camera=clips["four_too_far"], query=QUERY) as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        app.wait_for(lambda s: len(s.faces()) == 4, 90, "the four faces")
        app.wait_frames(int(app.data()["frames"]) + 40)
        faces = app.faces()
        assert len(faces) == 4 and not any(f["readable"] for f in faces), faces
        data = app.data()
        assert data["mood"] == "" and data["moodState"] != "mood", data
        assert "Too far to read" in app.text("mood-label")
        captions = json.loads(app.page.evaluate("() => document.getElementById('overlay').dataset.captions"))
        assert len(captions) == 4
        assert all(not overlaps(a, b) for i, a in enumerate(captions) for b in captions[i + 1:]), captions
        assert all(r[0] >= 0 and r[1] >= 0 and r[0] + r[2] <= 640 and r[1] + r[3] <= 480 for r in captions)
        app.screenshot("every-face-four-too-far")


def test_a_busy_scene_with_no_face_stays_at_no_face_for_30_s(server, clips):
    """The cat, a coffee cup, a rocket, galaxies, a horse and gravel: nothing is a face."""
    with open_app(server, camera=clips["busy"], query=QUERY) as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        assert app.data()["range"] == "auto"
        start = int(app.data().get("frames", 0))
        end = time.monotonic() + 30.0
        while time.monotonic() < end:
            assert app.faces() == [], app.faces()
            assert app.text("face-count") in ("", "0")
            app.page.wait_for_timeout(250)
        assert int(app.data()["frames"]) > start + 60, "the camera ran all along"


def test_a_group_from_28_to_250_px_is_found_whole_at_default_settings(server, clips):
    _, truth = small_faces.group_scene(small_faces.GROUP_28_TO_250)
    with open_app(server, camera=clips["group_28_250"], query=QUERY) as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        try:
            faces = app.wait_for(lambda s: len(s.faces()) == len(truth) and s.faces(), 90, "every face")
        except BaseException:
            app.screenshot("every-face-group-28-250-failed")
            raise AssertionError(f"found {app.faces()}, truth {truth}") from None
        for box in truth:
            assert any(inside(((f["source_box"][0] + f["source_box"][2]) / 2,
                               (f["source_box"][1] + f["source_box"][3]) / 2), box) for f in faces), (box, faces)
        app.wait_frames(int(app.data()["frames"]) + 40)
        assert len(app.faces()) == len(truth), "found and kept"
        app.screenshot("every-face-group-28-250")
