"""An insecure context (plain http on a name other than localhost): the camera cannot be
used, and the page says so and how to fix it, instead of failing silently.

Chromium resolves the made-up name `moodcam.test` to 127.0.0.1 (--host-resolver-rules), so
the page is served from this machine's loopback but is, to the browser, an ordinary
http site: `window.isSecureContext` is false, exactly as for a phone opening the
laptop's LAN address over http.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e


def test_insecure_context_explains_https_or_localhost(server, cameras):
    port = urlsplit(server.url).port
    site = f"http://moodcam.test:{port}/"
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm", site_url=site,
                  extra_flags=["--host-resolver-rules=MAP moodcam.test 127.0.0.1"]) as app:
        assert app.page.evaluate("() => window.isSecureContext") is False
        app.wait_for(lambda s: s.error()["code"] == "insecure-context", 120, "the insecure-context message")
        error = app.error()
        text = (error["message"] + " " + error["fix"]).lower()
        assert "https" in text and "localhost" in text, error
        assert int(app.data().get("frames", "0") or 0) == 0, "no camera frame may be analysed"
        # No crypto.subtle here: the moodcam wheel was checked with Python's hashlib, then installed.
        assert app.engine_eval("() => typeof crypto.subtle") == "undefined"
        assert app.engine_eval(
            "() => self.moodcam.pyodide.runPython(\"import sys; 'moodcam.browser.engine' in sys.modules\")") is True
        app.screenshot("insecure-context")
        app.assert_network_clean()
