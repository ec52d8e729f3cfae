"""The bench: see bench/README.md.

Every entry point (`python -m bench.cli`, `bench.trace`, `bench.soak`, `build.py bench`) imports this
package first, so its import path is set up here once: the repository root (for `bench` itself when
run from elsewhere) and py/ (moodcam and moodcam_tools, for a Python without the editable install).
"""
from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
for _path in (_REPO, _REPO / "py"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
