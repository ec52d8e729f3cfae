from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def clip_folder(tmp_path_factory):
    """One folder for every clip of the session (each is encoded once)."""
    return tmp_path_factory.mktemp("media-clips")
