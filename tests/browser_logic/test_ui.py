"""browser.ui: DOM patches batched into one "ui" message, values already shown not sent again."""
from __future__ import annotations

import asyncio

import pytest

from moodcam.browser import failures
from moodcam.browser.ui import Ui


def collect():
    posted: list[dict] = []
    return Ui(posted.append), posted


def test_ops_are_batched_and_unchanged_values_skipped():
    ui, posted = collect()
    ui.text("mood-label", "Happy")
    ui.text("mood-label", "Happy")          # already on the page: not sent again
    ui.data("frames", 3)
    ui.flush()
    assert [m.to_dict() for m in posted] == [{"type": "ui", "ops": [["text", "mood-label", "Happy"], ["data", "frames", "3"]]}]
    ui.flush()
    assert len(posted) == 1                  # nothing new: no message


def test_one_message_per_event_loop_turn():
    async def run() -> list[dict]:
        ui, posted = collect()
        for i in range(5):
            ui.data("frames", i)
        await asyncio.sleep(0)
        return posted
    posted = asyncio.run(run())
    assert len(posted) == 1 and [op[2] for op in posted[0].ops] == ["0", "1", "2", "3", "4"]


def test_failure_shows_its_action_value_and_label():
    ui, posted = collect()
    ui.show_failure(failures.camera_ended())
    ui.flush()
    ops = posted[0].ops
    assert ["eldata", "error-action", "action", "restart-camera"] in ops
    assert ["text", "error-action", "Restart the camera"] in ops
    assert ["hidden", "error", False] in ops


def test_unknown_op_is_refused():
    ui, _ = collect()
    with pytest.raises(ValueError):
        ui.op("innerHTML", "x", "<b>")
