"""moodcam in the page: boot.js calls `start(site_json)` and Python runs the rest."""
from __future__ import annotations

import json

import js

from . import dom
from .app_state import App


async def start(site_json: str) -> None:
    site = json.loads(site_json)
    app = App(site)
    App.current = app
    # For tests and the console: tensors, proxies, Python objects, timings as JSON.
    # One proxy for the page's lifetime (owned by the app's ProxyBag).
    js.window.moodcamDiagnostics = app.bag.wrap(app.diagnostics)
    try:
        await app.boot()
    except Exception as error:  # noqa: BLE001 - anything unforeseen still ends visible
        import traceback

        traceback.print_exc()
        from .failures import Failure

        dom.show_failure(Failure("unexpected", "moodcam stopped with an unexpected error.",
                                 f"Reload the page. ({type(error).__name__}: {str(error)[:200]})",
                                 fatal=True))
