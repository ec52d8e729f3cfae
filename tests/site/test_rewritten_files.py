"""Every file the build writes or rewrites is revalidated, even inside a versioned vendor folder.

numpy's wheel and python_stdlib.zip were served `immutable` for a year although the build
rewrites them: a browser without the service worker in control kept the old file after a
deploy, and Pyodide's sha256 check then failed on every reload. Only a file shipped byte for
byte as its release published it is listed in site.json's "immutable".

The built site is dist/ (`python3 build.py site`), or MOODCAM_DIST.
"""
from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from moodcam_tools.site.assemble import published_as_is, published_sha256s
from moodcam_tools.site.serve import IMMUTABLE, serving

REPO = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("MOODCAM_DIST") or REPO / "dist")


def test_only_files_as_published_are_listed():
    files = {"vendor/pyodide-0.27.7/pyodide.asm.wasm": "a", "vendor/pyodide-0.27.7/python_stdlib.zip": "stored",
             "vendor/pyodide-0.27.7/pyodide-lock.json": "ours", "index.html": "page"}
    published = {"vendor/pyodide-0.27.7/pyodide.asm.wasm": "a", "vendor/pyodide-0.27.7/python_stdlib.zip": "deflated"}
    assert published_as_is(files, published) == ["vendor/pyodide-0.27.7/pyodide.asm.wasm"]


@pytest.fixture(scope="module")
def site() -> dict:
    if not (DIST / "site.json").is_file():
        pytest.skip(f"no built site at {DIST}: run `python3 build.py site` (or set MOODCAM_DIST)")
    return json.loads((DIST / "site.json").read_text())


def test_site_json_lists_exactly_the_files_shipped_as_published(site):
    published = published_sha256s(REPO / "node_modules", site["pyodide"], site["tfjs"])
    assert site["immutable"] == published_as_is(site["files"], published)
    numpy = next(path for path in site["files"] if path.startswith(site["pyodide"] + "numpy-"))
    rewritten = {numpy, site["pyodide"] + "python_stdlib.zip", site["pyodide"] + "pyodide-lock.json"}
    assert not rewritten & set(site["immutable"])
    assert site["pyodide"] + "pyodide.asm.wasm" in site["immutable"]
    assert site["tfjs"] + "tfjs-backend-wasm-simd.wasm" in site["immutable"]


def test_the_rewritten_files_are_served_no_cache(site):
    numpy = next(path for path in site["files"] if path.startswith(site["pyodide"] + "numpy-"))
    with serving(DIST) as server:
        for path in site["files"]:
            with urllib.request.urlopen(server.url + path, timeout=10) as response:
                expected = IMMUTABLE if path in site["immutable"] else "no-cache"
                assert response.headers["Cache-Control"] == expected, path
        for path in (numpy, site["pyodide"] + "python_stdlib.zip"):
            with urllib.request.urlopen(server.url + path, timeout=10) as response:
                assert response.headers["Cache-Control"] == "no-cache", path
