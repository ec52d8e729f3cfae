"""The page's controls and commands, carried out on the session.

Every "control" message changes one Settings field through the SettingsStore (stored
in localStorage by the page; URL values are never stored) and then applies it: new
cadence/threshold to the analyser, a backend switch (models rebuilt from their
verified bytes), the face-parts view (FaceMesh loaded on first use), the HUD.
"command" messages are the buttons; the error button carries a failures.Action.
Photos, page visibility and queries (diagnostics, bench figures) arrive here too.
"""
from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import js

from . import failures
from .failures import Action, Failure
from .interop import ProxyBag, tf
from .model_store import ModelError
from .modes import switch_face_parts, switch_range
from .photo import decode
from .session import Session, now_ms
from .settings import FACES, RANGES, STORAGE_KEY, coerce


def url_with_model(href: str, name: str) -> str:
    """The page's address with ?model=<name> set (faces: the parameter removed)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "model"]
    if name != FACES:
        query.append(("model", name))
    return urlunsplit(parts._replace(query=urlencode(query)))


class Controls:
    def __init__(self, session: Session) -> None:
        self.s = session

    def show_settings(self) -> None:
        """The controls as the settings are (ranges from the clamps: a slider offers only what is kept)."""
        ui, st = self.s.ui, self.s.settings
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

    # == controls =================================================================================
    def on_control(self, message: Any) -> None:
        name = str(message.name)
        try:
            value = coerce(name, message.value)
        except (TypeError, ValueError):
            return                      # a value the page cannot send; nothing to change
        s = self.s
        settings = s.store.update(**{name: value})
        s.post({"type": "store", "key": STORAGE_KEY, "value": s.store.to_json()})
        if name in ("detect_every", "threshold"):
            s.ui.text("cadence-value", str(settings.detect_every))
            s.ui.text("threshold-value", f"{settings.threshold:.2f}")
            if s.analyser is not None and s.source == "camera":
                s.analyser.reconfigure(settings)
        elif name == "backend":
            s.tasks.spawn(self.switch_backend(settings.backend))
        elif name == "model":
            s.post({"type": "go", "cmd": "navigate", "href": url_with_model(s.href, settings.model)})
        elif name == "show_hud":
            s.ui.hidden("hud", not value)
        elif name == "show_bars" and s.presenter.bars is not None:
            s.presenter.bars.toggle(bool(value))
        elif name in ("show_parts", "show_mesh_points"):
            s.tasks.spawn(self.sync_mesh())
        elif name == "range":
            s.tasks.spawn(switch_range(s))
        elif s.renderer is not None and name in ("show_boxes", "show_keypoints"):
            setattr(s.renderer, name, value)

    def on_command(self, message: Any) -> None:
        s = self.s
        name = str(message.name)
        if name == "start-stop":
            if s.loop is not None:
                s.stop_camera()
                s.renderer.clear()  # type: ignore[union-attr]
                s.set_state("ready")
            else:
                s.tasks.spawn(s.start_camera())
        elif name == "switch-camera":
            facing = "environment" if s.settings.facing == "user" else "user"
            s.store.update(facing=facing)
            s.post({"type": "store", "key": STORAGE_KEY, "value": s.store.to_json()})
            s.tasks.spawn(s.start_camera())
        elif name == "save-session":
            self.save_session()
        elif name == "action":
            self.act(Action(str(message.action)))

    def save_session(self) -> None:
        """The mood timeline as CSV and JSON files, made here and saved by the browser (nothing uploaded)."""
        s = self.s
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(s.timeline.started_at_unix_ms / 1000))
        s.post({"type": "download", "name": f"moodcam-session-{stamp}.csv", "mime": "text/csv",
                "text": s.timeline.to_csv()})
        s.post({"type": "download", "name": f"moodcam-session-{stamp}.json", "mime": "application/json",
                "text": s.timeline.to_json()})

    def act(self, action: Action) -> None:
        s = self.s
        if action is Action.RELOAD:
            s.post({"type": "go", "cmd": "reload"})
        elif action is Action.PICK_PHOTO:
            s.post({"type": "go", "cmd": "pick-photo"})
        elif action is Action.DETECT_FACES:
            s.store.update(model=FACES)
            s.post({"type": "store", "key": STORAGE_KEY, "value": s.store.to_json()})
            s.post({"type": "go", "cmd": "navigate", "href": url_with_model(s.href, FACES)})
        else:   # RESTART_CAMERA, RETRY_CAMERA
            s.tasks.spawn(s.start_camera())

    async def sync_mesh(self) -> None:
        await switch_face_parts(self.s)

    # == backend ==================================================================================
    async def switch_backend(self, preferred: str, note: str = "") -> None:
        """Move the models to another backend (a setting change, or recovery from a lost context)."""
        s = self.s
        if s.switching_backend:
            return
        s.switching_backend = True
        loop = s.loop
        running = loop is not None and loop.running
        try:
            if loop is not None:
                loop.stop()
                try:
                    # A read from a lost WebGL context never resolves: do not wait for it forever.
                    await asyncio.wait_for(loop.idle(), 2.0)
                except asyncio.TimeoutError:
                    pass
            s.models.dispose_all()
            if not await s.start_backend(preferred):
                return
            if note:
                s.ui.notice(note)      # said as soon as the backend switched, not after the rebuild
            try:
                await s.models.rebuild_all()
            except ModelError as error:
                s.fail(error.failure)
                return
            if running and loop is s.loop:
                s.analyser.reset(s.settings, now_ms())  # type: ignore[union-attr]  # set once a mode loaded
                loop.start(fresh=True)  # type: ignore[union-attr]  # running: loop is set
                s.set_state("running")
        finally:
            s.switching_backend = False

    def context_lost(self, event: Any) -> None:
        # The GPU dropped our context (driver reset, too many tabs): the weights on it are gone.
        # Rebuild the models from the verified bytes we kept, on wasm, and carry on.
        event.preventDefault()
        self.s.ui.data("contextLost", "1")
        self.s.tasks.spawn(self.switch_backend("wasm", failures.context_lost_note()))

    # == photo, visibility, queries =================================================================
    async def photo(self, file: Any, name: str) -> None:
        s = self.s
        if s.analyser is None:
            return
        decoded = await decode(file, name)
        if isinstance(decoded, Failure):
            s.fail(decoded)
            return
        bitmap, w, h = decoded
        await s.photo.cancel()
        s.stop_camera()
        s.clear_failure()
        s.renderer.clear()  # type: ignore[union-attr]
        s.ui.hidden("still", False)
        s.ui.hidden("video", True)
        s.source = "photo"
        s.ui.data("source", "photo")
        s.ui.data("analysis", "running")
        s.set_state("ready")
        s.analyser.reset(s.settings, 0.0)
        if await s.photo.run(bitmap, w, h, self._photo_frame):
            s.ui.data("analysis", "done")

    async def _photo_frame(self, still: Any, w: int, h: int, t: float, last: bool) -> None:
        result = await self.s.analyser.analyse(still, w, h, t)  # type: ignore[union-attr]
        self.s.after_frame(result, (w, h), now_ms(), False, force_hud=last)

    async def visibility(self, hidden: bool) -> None:
        s = self.s
        s.hidden = hidden
        loop = s.loop
        logic = s.face.logic if s.face is not None and s.analyser is not None and s.source == "camera" else None
        if loop is None:
            return
        if hidden and loop.running:
            loop.stop()                 # let the frame in flight finish: FrameLogic is then between frames
            await loop.idle()
            if logic is not None:
                logic.pause(now_ms())
                s.renderer.show_mood(logic.state.snapshot)  # type: ignore[union-attr]
            s.renderer.clear()  # type: ignore[union-attr]
            s.set_state("paused")
        elif not hidden and not loop.running and s.state == "paused":
            if logic is not None:
                logic.resume(now_ms())
            s.perf.reset_clock()
            loop.start()
            s.set_state("running")

    def query(self, message: Any) -> None:
        s = self.s
        what = str(message.what)
        if what == "bench":
            text = s.perf.bench_json(float(js.performance.timeOrigin))
        else:
            mem = tf.memory()
            heap = getattr(getattr(js, "moodcam", None), "pyodide", None)
            text = json.dumps({
                "numTensors": int(mem.numTensors), "numBytes": int(mem.numBytes),
                "tensorsBetweenFrames": s.presenter.tensors_between_frames, "frames": s.perf.frames,
                "proxies": ProxyBag.live_total, "gc_objects": len(gc.get_objects()),
                "perf": json.loads(s.perf.summary()), "dropped": s.loop.stats.dropped if s.loop else 0,
                "tasks": s.tasks.running, "lateCameraStreams": s.camera.late_streams,
                "engine": "worker" if not hasattr(js, "document") else "page",
                "wasmHeap": int(heap._module.HEAP8.length) if heap is not None else 0})
        s.post({"type": "reply", "id": message.id, "json": text})
