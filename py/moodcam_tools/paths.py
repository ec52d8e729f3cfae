"""Where things live. The cache sits outside the repo so clean checkouts and
CI runs on the same machine reuse downloads; override with MOODCAM_CACHE."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PY_SRC = REPO / "py"
MODELS = REPO / "models"
DIST = REPO / "dist"
NODE_MODULES = REPO / "node_modules"


def cache_dir() -> Path:
    root = os.environ.get("MOODCAM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "moodcam")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def downloads_dir() -> Path:
    path = cache_dir() / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path
