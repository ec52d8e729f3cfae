"""The boot chain: Pyodide + TF.js start, moodcam installs, Python reads a camera frame through TF.js.

First milestone ("chain" page): the page shows what Python computed on a real
camera frame and which TF.js backend did it. WebGL is preferred; without it
the page says so and runs on wasm.
"""
from __future__ import annotations

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e


def test_boot_chain_on_camera_frame_wasm(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm") as app:
        data = app.wait_state("running", "error")
        assert data["appState"] == "running", app.error()
        assert data["backend"] == "wasm"
        assert data.get("source") == "camera"
        app.wait_frames(3)
        # The chain's check (TF.js read a real camera frame, Python got the numbers) is in the HUD.
        chain = app.wait_for(lambda s: s.text("hud-chain") not in ("", "–") and s.text("hud-chain"), 30,
                             "the chain result")
        # The astronaut frame is 512x512 and mostly warm (skin, flag, suit): R > G > B on average.
        assert "512x512" in chain and "wasm" in chain, chain
        assert app.text("hud-backend") == "wasm"
        assert app.error()["hidden"]
        app.screenshot("boot-wasm-1366x768")
        app.assert_network_clean()


def test_boot_prefers_webgl_when_usable(server, cameras):
    # SwiftShader gives WebGL2 with EXT_color_buffer_float here (NOTES.md), so auto picks webgl.
    with open_app(server, camera=cameras("astronaut"), query="?backend=auto") as app:
        data = app.wait_state("running", "error")
        assert data["appState"] == "running", app.error()
        assert data["backend"] == "webgl"
        assert app.engine_eval("() => tf.getBackend()") == "webgl"
        assert app.engine_eval("() => tf.ENV.getBool('WEBGL_RENDER_FLOAT32_ENABLED')")
        app.wait_frames(1, timeout=60)
        assert app.page.evaluate("() => document.getElementById('notice').hidden")
        app.assert_network_clean()


def test_boot_without_webgl_falls_back_to_wasm_and_says_so(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=auto", webgl=False) as app:
        data = app.wait_state("running", "error")
        assert data["appState"] == "running", app.error()
        assert data["backend"] == "wasm"
        notice = app.text("notice")
        assert "WebGL" in notice and "wasm" in notice, notice
        # The wasm fallback still produces a mood.
        app.wait_for(lambda s: s.data().get("mood") == "happy", 90, "mood 'happy' on the wasm fallback")
        app.screenshot("boot-no-webgl")
        app.assert_network_clean()
