"""Teach mode's controller: the page's teach messages, the camera frames while teaching, the fit.

Pure Python (no js): what it needs from the rest of the engine comes in as callables, so
tests/browser_logic drives a whole teach round with synthetic faces. Flow: start(moods)
-> for each mood: record(), frames through observe() until its take is done -> the fit
(moodcam.calibration.fit_calibration: cross-validated accuracy beside the generic net's own
on the same frames) -> review -> accept(name) keeps it (and makes it the active one) or
discard() drops it. While a session is open the analyser reads every tracked face on every
frame (`set_teaching(True)`), so each steady frame gives one sample.
"""
from __future__ import annotations

from typing import Awaitable, Callable, Sequence

from ..calibration import CalibrationFit, fit_calibration
from .calibration_records import BadName, clean_name
from .teach import TeachError, TeachFace, TeachSession
from .teach_view import TeachView, mood_name, percent


class TeachPanel:
    def __init__(self, view: TeachView, *, labels: Callable[[], Sequence[str]],
                 camera_running: Callable[[], bool], set_teaching: Callable[[bool], None],
                 keep: Callable[[str, CalibrationFit], Awaitable[str | None]]) -> None:
        self.view = view
        self._labels = labels
        self._camera_running = camera_running
        self._set_teaching = set_teaching
        self._keep = keep                  # -> None when kept, else the problem to show
        self.session: TeachSession | None = None
        self.fit: CalibrationFit | None = None

    # == the page's messages ======================================================================
    def start(self, moods: Sequence[str]) -> None:
        if not self._camera_running():
            self.view.say("Start the camera first: teaching needs its live picture.")
            return
        try:
            self.session = TeachSession([str(m) for m in moods], tuple(self._labels()))
        except TeachError as error:
            self.view.say(str(error))
            return
        self.fit = None
        self._set_teaching(True)
        self.view.show_step(self.session)
        self.view.say(f"Teaching {len(self.session.moods)} moods. Next: "
                      f"{mood_name(self.session.current.mood).lower()}; show it, then press Record.")

    def record(self) -> None:
        session = self.session
        if session is None or session.state != "ready":
            return
        session.record()
        self.view.show_step(session)
        self.view.say(f"Recording {mood_name(session.current.mood).lower()}: hold still.")

    def cancel(self) -> None:
        self._close("Teaching cancelled; nothing was kept.")

    def discard(self) -> None:
        self._close("Calibration discarded; nothing was kept.")

    async def accept(self, name: str) -> None:
        if self.fit is None:
            return
        try:
            cleaned = clean_name(name)
        except BadName as error:
            self.view.say(str(error))
            return
        problem = await self._keep(cleaned, self.fit)
        if problem is not None:
            self.view.say(problem)             # the review stays: the person can try again
            return
        self._close(f"Calibration “{cleaned}” kept on this device and switched on.")

    # == frames ===================================================================================
    def observe(self, faces: Sequence[TeachFace], t_ms: float) -> None:
        """One camera frame while a session is open (ignored otherwise)."""
        session = self.session
        if session is None or session.state == "complete":
            return
        before = (session.index, session.state)
        session.observe(faces, t_ms)
        if (session.index, session.state) == before:
            if session.state == "recording":
                self.view.show_step(session)
            return
        done = session.takes[before[0]]
        said = f"{mood_name(done.mood)} recorded: {done.kept} frames kept, {sum(done.skipped.values())} skipped."
        if session.state == "complete":
            self._fit(said)
        else:
            self.view.show_step(session)
            self.view.say(f"{said} Next: {mood_name(session.current.mood).lower()}; show it, then press Record.")

    def _fit(self, said: str) -> None:
        session = self.session
        assert session is not None
        self._set_teaching(False)
        features, labels, generic = session.samples()
        try:
            fit = fit_calibration(features, labels, emotion_labels=tuple(self._labels()),
                                  generic_probabilities=generic)
        except ValueError as error:
            self._close(f"{said} The fit failed ({error}); nothing was kept. Try again with a steadier face.")
            return
        self.fit = fit
        self.view.show_review(session, fit.cv_accuracy, fit.generic_accuracy)
        self.view.say(f"{said} Calibration ready: {percent(fit.cv_accuracy)} right by cross-validation, the "
                      f"generic net {percent(fit.generic_accuracy)}. Name it and keep it, or discard it.")

    def _close(self, said: str) -> None:
        if self.session is not None and self.session.state != "complete":
            self._set_teaching(False)
        self.session = None
        self.fit = None
        self.view.show_picker()
        self.view.say(said)

    @property
    def open(self) -> bool:
        return self.session is not None
