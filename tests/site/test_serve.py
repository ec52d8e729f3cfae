"""The static server sends what the app needs: wasm MIME, isolation headers, caching."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from moodcam_tools.site.serve import serving

DIST = Path(__file__).resolve().parents[2] / "dist"


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers, response.read()


def test_headers_for_page_wasm_and_vendor_files():
    site = json.loads((DIST / "site.json").read_text())
    with serving(DIST) as server:
        status, headers, body = _get(server.url)
        assert status == 200 and b"<html" in body.lower()
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert headers["Cache-Control"] == "no-cache"

        status, headers, _ = _get(server.url + site["pyodide"] + "pyodide.asm.wasm")
        assert headers["Content-Type"] == "application/wasm"
        assert "immutable" in headers["Cache-Control"]

        _, headers, _ = _get(server.url + site["tfjs"] + "tfjs-backend-wasm-simd.wasm")
        assert headers["Content-Type"] == "application/wasm"

        _, headers, body = _get(server.url + "models/manifest.json")
        assert headers["Content-Type"].startswith("application/json")
        assert headers["Cache-Control"] == "no-cache"
        json.loads(body)
