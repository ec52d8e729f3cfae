"""The page's controls and buttons, carried out on the booted app's parts.

Every "control" message changes one Settings field through KeptSettings (stored in
localStorage by the page; URL values are never stored) and then applies it: new
cadence/threshold to the analyser, a backend switch (browser.backend_switch), the
face-parts view and the range (the face mode loads FaceMesh or the other detector on
first use), the HUD, the mode's display settings. "command" messages are the buttons;
the error button carries a failures.Action.
"""
from __future__ import annotations

import time
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..mood.timeline import MoodTimeline
from .backend_switch import BackendSwitch
from .failures import Action
from .flow import FrameFlow
from .messages import Command, DownloadMessage, Navigate, PickPhoto, Post, Reload
from .modes import DISPLAY_SETTINGS, FaceMode, Mode
from .settings import FACES, RANGES, KeptSettings, Settings, coerce
from .tasks import Tasks
from .ui import Ui


def url_with_model(href: str, name: str) -> str:
    """The page's address with ?model=<name> set (faces: the parameter removed)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "model"]
    if name != FACES:
        query.append(("model", name))
    return urlunsplit(parts._replace(query=urlencode(query)))


def show_settings(ui: Ui, st: Settings) -> None:
    """The controls as the settings are (ranges from the clamps: a slider offers only what is kept)."""
    for element_id, name in (("cadence", "detect_every"), ("threshold", "threshold")):
        low, high, step = RANGES[name]
        ui.prop(element_id, "min", str(low))
        ui.prop(element_id, "max", str(high))
        ui.prop(element_id, "step", str(step))
    ui.prop("cadence", "value", str(st.detect_every))
    ui.text("cadence-value", str(st.detect_every))
    ui.prop("threshold", "value", str(st.threshold))
    ui.text("threshold-value", f"{st.threshold:.2f}")
    ui.prop("backend-select", "value", st.backend)
    ui.prop("range-select", "value", st.range)
    for element_id, on in (("show-boxes", st.show_boxes), ("show-keypoints", st.show_keypoints),
                           ("show-hud", st.show_hud), ("show-bars", st.show_bars), ("show-parts", st.show_parts),
                           ("show-mesh-points", st.show_mesh_points)):
        ui.prop(element_id, "checked", on)
    ui.hidden("hud", not st.show_hud)


class Actions:
    """The error button's Action (failures.Action), carried out. Works before and without a booted
    app (a model that failed its checksum offers Reload), so it needs only these four."""

    def __init__(self, settings: KeptSettings, post: Post, href: str,
                 restart_camera: Callable[[], object] | None) -> None:
        self._settings = settings
        self._post = post
        self._href = href
        self._restart_camera = restart_camera

    def act(self, action: Action) -> None:
        if action is Action.RELOAD:
            self._post(Reload())
        elif action is Action.PICK_PHOTO:
            self._post(PickPhoto())
        elif action is Action.DETECT_FACES:
            self._settings.update(model=FACES)
            self._post(Navigate(url_with_model(self._href, FACES)))
        elif self._restart_camera is not None:   # RESTART_CAMERA, RETRY_CAMERA (the camera opens after boot)
            self._restart_camera()


class Controls:
    def __init__(self, *, settings: KeptSettings, mode: Mode, flow: FrameFlow, backend: BackendSwitch, ui: Ui,
                 tasks: Tasks, post: Post, href: str, timeline: MoodTimeline) -> None:
        self._settings = settings
        self._mode = mode
        self._flow = flow
        self._backend = backend
        self._ui = ui
        self._tasks = tasks
        self._post = post
        self._href = href
        self._timeline = timeline
        self._actions = Actions(settings, post, href, lambda: tasks.spawn(flow.start_camera()))

    # == controls =================================================================================
    def on_control(self, name: str, value: Any) -> None:
        try:
            value = coerce(name, value)
        except (TypeError, ValueError):
            return                      # a value the page cannot send; nothing to change
        settings = self._settings.update(**{name: value})
        ui, mode, spawn = self._ui, self._mode, self._tasks.spawn
        if name in ("detect_every", "threshold"):
            ui.text("cadence-value", str(settings.detect_every))
            ui.text("threshold-value", f"{settings.threshold:.2f}")
            if self._flow.source == "camera":
                mode.analyser.reconfigure(settings)
        elif name == "backend":
            spawn(self._backend.switch(settings.backend))
        elif name == "model":
            self._post(Navigate(url_with_model(self._href, settings.model)))
        elif name == "show_hud":
            ui.hidden("hud", not value)
        elif name in ("show_parts", "show_mesh_points"):
            if isinstance(mode, FaceMode):
                spawn(mode.sync_parts(settings, lambda: self._settings.current))
        elif name == "range":
            if isinstance(mode, FaceMode):
                spawn(mode.switch_range(settings))
        elif name in DISPLAY_SETTINGS:
            mode.show_setting(name, bool(value))

    def on_command(self, command: Command, action: str = "") -> None:
        flow = self._flow
        if command is Command.START_STOP:
            if flow.loop is not None:
                flow.stop_by_request()
            else:
                self._tasks.spawn(flow.start_camera())
        elif command is Command.SWITCH_CAMERA:
            self._settings.update(facing="environment" if self._settings.current.facing == "user" else "user")
            self._tasks.spawn(flow.start_camera())
        elif command is Command.SAVE_SESSION:
            self.save_session()
        elif command is Command.ACTION:
            self._actions.act(Action(action))

    def save_session(self) -> None:
        """The mood timeline as CSV and JSON files, made here and saved by the browser (nothing uploaded)."""
        timeline = self._timeline
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(timeline.started_at_unix_ms / 1000))
        self._post(DownloadMessage(f"moodcam-session-{stamp}.csv", "text/csv", timeline.to_csv()))
        self._post(DownloadMessage(f"moodcam-session-{stamp}.json", "application/json", timeline.to_json()))
