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


def test_the_page_sends_every_page_message_and_command_the_table_lists():
    from moodcam.browser.protocol import CALIBRATION_COMMANDS, PAGE_TO_ENGINE, TEACH_COMMANDS

    page = "".join((APP / name).read_text() for name in ("page.js", "boot.js", "camera.js"))
    sent = set(re.findall(r'type: "(\w+)"', page))
    assert set(PAGE_TO_ENGINE) <= sent, set(PAGE_TO_ENGINE) - sent
    teach = set(re.findall(r'teach\("(\w+)"', page))
    calibration = set(re.findall(r'calibration\("(\w+)"', page))
    assert teach == set(TEACH_COMMANDS) and calibration == set(CALIBRATION_COMMANDS), (teach, calibration)


def test_the_engine_routes_the_teach_and_calibration_messages():
    engine = (Path(__file__).resolve().parents[2] / "py/moodcam/browser/engine.py").read_text()
    handlers = (Path(__file__).resolve().parents[2] / "py/moodcam/browser/teach_mode.py").read_text()
    from moodcam.browser.protocol import CALIBRATION_COMMANDS, TEACH_COMMANDS

    assert 'kind == "teach"' in engine and 'kind == "calibration"' in engine
    for cmd in TEACH_COMMANDS + CALIBRATION_COMMANDS:
        assert f'cmd == "{cmd}"' in handlers, cmd
