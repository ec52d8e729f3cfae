#!/usr/bin/env python3
"""moodcam's one command line for offline work. Run `python3 build.py --help`.

Runs on a bare python3 (3.11+): the tooling lives in py/moodcam_tools and
imports heavy packages only inside the commands that need them.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "py"))

from moodcam_tools.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
