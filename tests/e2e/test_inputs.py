"""Inputs that arrive at awkward moments (issue 30, items 4 and 8): nothing is dropped without a
word, and the last photo chosen is the one analysed.

- Two photos chosen back to back: the first is a 16 MP picture that takes longer to decode and
  scale than the second; the second must win (the photo that decoded last used to).
- A photo chosen while the models load is kept, the page says so, and it is analysed once boot ends.
"""
from __future__ import annotations

from PIL import Image

from .conftest import open_app


def test_the_last_photo_chosen_wins_even_when_the_first_decodes_later(server, cameras, tmp_path):
    from tests.fixtures.cameras import camera_file

    _, coffee = camera_file("coffee", tmp_path)
    _, astronaut = camera_file("astronaut", tmp_path)
    slow = tmp_path / "slow-to-decode.png"
    Image.open(coffee).resize((4096, 4096)).save(slow)        # no face; decoding and scaling take a while
    small = Image.open(astronaut).size
    with open_app(server, camera=cameras("astronaut"), camera_permission=False, query="?backend=wasm") as app:
        app.wait_for(lambda s: s.error()["code"] == "permission-denied", 90, "the permission message")
        app.page.set_input_files("#photo-input", str(slow))
        app.page.set_input_files("#photo-input", str(astronaut))        # chosen second, decoded first
        app.wait_for(lambda s: s.data().get("analysis") == "done" and s.data().get("mood") == "happy",
                     90, "the second photo's mood")
        app.page.wait_for_timeout(3000)                                  # the first one's decode is long over
        size = app.engine_eval("() => [moodcam.canvases.still.width, moodcam.canvases.still.height]")
        assert size == list(small), f"the photo shown is {size}, not the last one chosen ({small})"
        assert app.data()["mood"] == "happy" and len(app.faces()) == 1


def test_a_photo_chosen_during_start_up_is_analysed_once_ready(server, cameras, tmp_path):
    from tests.fixtures.cameras import camera_file

    _, astronaut = camera_file("astronaut", tmp_path)
    with open_app(server, camera=cameras("coffee"), camera_permission=False, query="?backend=wasm") as app:
        app.page.set_input_files("#photo-input", str(astronaut))
        assert app.data().get("appState") == "loading", "the photo was meant to arrive during start-up"
        app.wait_for(lambda s: "Still loading" in s.text("notice") or s.data().get("analysis") in ("running", "done"),
                     60, "word that the photo waits for the models")
        app.wait_for(lambda s: s.data().get("analysis") == "done" and s.data().get("mood") == "happy",
                     120, "the photo's mood once the models loaded")
        assert len(app.faces()) == 1
