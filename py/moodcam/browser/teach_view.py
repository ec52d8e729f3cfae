"""Teach mode on the page: the panel's parts shown as ui ops (pure: tests/browser_logic).

Parts (index.html, "Teach it your face"): #teach-pick (the mood checkboxes
input[name=teach-mood], #teach-start), #teach-step (#teach-instruction, the ring #teach-ring
whose CSS fill follows --progress, its text #teach-ring-text, #teach-counts, #teach-record,
#teach-cancel), #teach-review (#teach-result, #teach-per-mood, #teach-name, #teach-accept,
#teach-discard), and #teach-status for problems. Changes of step are announced once
through the live region.
"""
from __future__ import annotations

from ..mood.presentation import PRESENTATIONS
from .teach import SKIP_REASONS, MoodTake, TeachSession
from .ui import Ui

SKIP_WORDS = {"no_face": "no face", "several": "several faces", "moving": "moving",
              "not_read": "not read"}


def mood_name(label: str) -> str:
    return PRESENTATIONS[label].name if label in PRESENTATIONS else label


def counts_text(take: MoodTake) -> str:
    """'Kept 31 frames. Skipped: no face 0, several faces 0, moving 4, not read 0.'"""
    skipped = ", ".join(f"{SKIP_WORDS[r]} {take.skipped[r]}" for r in SKIP_REASONS)
    return f"Kept {take.kept} frames. Skipped: {skipped}."


def percent(value: float) -> str:
    return f"{round(100 * value)} %" if value == value else "–"      # NaN: no figure to show


class TeachView:
    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self._said = ""

    def say(self, text: str) -> None:
        """Announce a step once (screen readers) and keep it visible in #teach-status."""
        self.ui.text("teach-status", text)
        if text and text != self._said:
            self.ui.announce(text)
        self._said = text

    def show_picker(self) -> None:
        self.ui.hidden("teach-pick", False)
        self.ui.hidden("teach-step", True)
        self.ui.hidden("teach-review", True)
        self.ring(0.0)

    def show_step(self, session: TeachSession) -> None:
        ui = self.ui
        ui.hidden("teach-pick", True)
        ui.hidden("teach-step", False)
        ui.hidden("teach-review", True)
        take = session.current
        name = mood_name(take.mood)
        position = f"{session.index + 1} of {len(session.moods)}"
        recording = session.state == "recording"
        ui.text("teach-instruction", f"Show {name.lower()} ({position}): hold still while the ring fills."
                if recording else f"Next: {name.lower()} ({position}). Show it, then press Record.")
        ui.text("teach-record", f"Recording {name.lower()}…" if recording else f"Record {name.lower()} (3 s)")
        ui.prop("teach-record", "disabled", recording)
        self.ring(take.progress)
        ui.text("teach-counts", counts_text(take))

    def ring(self, fraction: float) -> None:
        value = round(100 * max(0.0, min(1.0, fraction)))
        self.ui.style("teach-ring", "--progress", f"{value / 100:.2f}")
        self.ui.op("attr", "teach-ring", "aria-valuenow", str(value), key=("attr", "teach-ring", "aria-valuenow"))
        self.ui.text("teach-ring-text", f"{value} %")

    def show_review(self, session: TeachSession, cv_accuracy: float, generic_accuracy: float) -> None:
        ui = self.ui
        ui.hidden("teach-pick", True)
        ui.hidden("teach-step", True)
        ui.hidden("teach-review", False)
        kept = sum(t.kept for t in session.takes)
        ui.text("teach-result", f"On your {kept} frames, this calibration reads {percent(cv_accuracy)} right "
                                f"(cross-validated: each frame judged by a fit that never saw it); the generic "
                                f"net alone reads {percent(generic_accuracy)} of the same frames right.")
        ui.items("teach-per-mood", [f"{mood_name(t.mood)}: {counts_text(t)}" for t in session.takes])
