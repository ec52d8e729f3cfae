"""The page <-> engine message protocol (browser.protocol) and the ui ops app/page.js applies."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from moodcam.browser.protocol import UI_OPS, check_op

APP = Path(__file__).resolve().parents[2] / "app"


def test_every_ui_op_is_applied_by_the_page():
    page = (APP / "page.js").read_text()
    block = page[page.index("const OPS = {"):page.index("function apply(")]
    applied = set(re.findall(r"^    (\w+): ", block, re.M))
    assert applied == set(UI_OPS), (applied ^ set(UI_OPS))


def test_ops_are_checked():
    assert check_op(["text", "mood-label", "Happy"]) == ["text", "mood-label", "Happy"]
    with pytest.raises(ValueError, match="unknown ui op"):
        check_op(["innerHTML", "x", "<b>"])
    with pytest.raises(ValueError, match="takes"):
        check_op(["text", "only-one"])


def test_the_page_handles_every_engine_message():
    page = (APP / "page.js").read_text() + (APP / "boot.js").read_text()
    for kind in ("ui", "camera", "store", "go", "download", "reply", "fatal"):
        assert f'"{kind}"' in page, kind
