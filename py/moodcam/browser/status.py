"""The app's state and the failure on show: one place sets <html data-app-state> and #error.

States (AppState): loading -> running (camera loop) | ready (no loop: waiting for the
camera, or showing a photo's analysis) | paused (page hidden) | error (nothing can work: a
model failed its checksum...). A fatal failure leaves the app in "error" for good.
"""
from __future__ import annotations

from . import failures
from .failures import Failure
from .messages import AppState
from .ui import Ui


class AppStatus:
    def __init__(self, ui: Ui) -> None:
        self._ui = ui
        self.state = AppState.LOADING
        self.failure: Failure | None = None

    def set(self, state: AppState) -> None:
        self.state = state
        self._ui.state(state.value)

    def fail(self, failure: Failure) -> None:
        self.failure = failure
        self._ui.show_failure(failure)
        if failure.fatal:
            self.state = AppState.ERROR
        elif self.state != AppState.RUNNING:
            self.set(AppState.READY)

    def clear_failure(self) -> None:
        self.failure = None
        self._ui.clear_failure()

    def crashed(self, error: BaseException) -> None:
        self.fail(failures.crashed(f"{type(error).__name__}: {error}"))

    def unexpected(self, error: BaseException) -> None:
        """A frame failed: the loop has stopped; say so with a way forward."""
        self.set(AppState.READY)
        self.fail(failures.unexpected(f"{type(error).__name__}: {error}"))
