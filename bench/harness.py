"""Kept only for tests/e2e/test_start_snapshot.py, which reads ENGINE_MARKS from here.

The bench that lived in this file is now bench/runner.py (the run), bench/steady.py (frame-rate
runs), bench/cold.py (first and return visits) and bench/browser.py (what they share); new code
imports from those. This module goes once that test imports bench.browser.
"""
from __future__ import annotations

from .browser import ENGINE_MARKS

__all__ = ["ENGINE_MARKS"]
