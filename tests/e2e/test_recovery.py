"""Failures mid-session: the camera stops, the WebGL context is lost, the page is hidden."""
from __future__ import annotations

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e


def test_camera_ended_offers_restart(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm") as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        app.wait_frames(3)
        # What the browser does when a camera is unplugged: the track ends. (track.stop() from the
        # page fires no event, so the 'ended' event is dispatched the way the browser would.)
        app.page.evaluate("() => document.getElementById('video').srcObject.getVideoTracks()[0]"
                          ".dispatchEvent(new Event('ended'))")
        app.wait_for(lambda s: s.error()["code"] == "camera-ended", 20, "the camera-ended message")
        assert app.error()["action"] == "Restart the camera"
        assert app.data()["appState"] == "ready"
        app.page.click("#error-action")
        app.wait_state("running", timeout=30)
        frames = int(app.data()["frames"])
        app.wait_frames(frames + 3)
        assert app.error()["hidden"]


def test_hidden_page_pauses_and_resumes(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm") as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        app.wait_frames(3)
        hide = """(hidden) => { Object.defineProperty(document, 'visibilityState', {value: hidden ? 'hidden' : 'visible',
                     configurable: true}); document.dispatchEvent(new Event('visibilitychange')); }"""
        app.page.evaluate(hide, True)
        app.wait_state("paused", timeout=10)
        frames = int(app.data()["frames"])
        app.page.wait_for_timeout(1000)
        assert int(app.data()["frames"]) <= frames + 1   # at most the frame that was in flight
        assert app.data()["moodState"] == "paused"
        app.page.evaluate(hide, False)
        app.wait_state("running", timeout=10)
        app.wait_frames(frames + 5)


def test_webgl_context_loss_recovers_on_wasm(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=webgl") as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        assert app.data()["backend"] == "webgl"
        app.wait_frames(2, timeout=90)
        app.engine_eval("() => tf.backend().gpgpu.gl.getExtension('WEBGL_lose_context').loseContext()")
        app.wait_for(lambda s: s.data().get("backend") == "wasm", 60, "recovery on wasm")
        assert "lost" in app.text("notice")
        frames = int(app.data()["frames"])
        app.wait_frames(frames + 10, timeout=60)
        app.wait_for(lambda s: s.data().get("mood") == "happy", 60, "a mood after recovery")
        assert app.error()["hidden"]
