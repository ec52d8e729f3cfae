"""The App: boots backend, models and camera, owns the frame loop, wires the controls.

States (html[data-app-state]): loading -> running (camera loop) | ready (no loop:
waiting for the camera to be allowed/restarted or showing a photo's analysis)
| paused (page hidden) | error (nothing can work: a model failed its checksum...).
"""
from __future__ import annotations

import asyncio
import gc
import json
import time

import js
from pyodide.ffi import JsException

from . import custom, dom, failures
from . import settings as settings_mod
from .analyser import Analyser
from .backend import BackendChoice, choose_backend, webgl_canvas
from .camera import camera_count, open_camera, stop_stream, video_track
from .failures import Failure
from .frames import FrameReader, channel_means
from .interop import ProxyBag, tf, tf_scope
from .loop import FrameLoop
from .models import LoadedModel, ModelError, build_graph, fetch_verified, load_manifest, manifest_models, warm_up
from .render import Renderer
from .render_parts import PartsRenderer

DETECTOR = "blazeface_short_range"
EMOTION = "emotion_mini_xception"
PHOTO_FRAMES = 30          # synthetic frames for a photo: enough for voting + the mood dwell
PHOTO_STEP_MS = 100.0


class App:
    current: "App | None" = None

    def __init__(self, site: dict) -> None:
        self.site = site
        self.base = str(js.location.href).split("?")[0].split("#")[0].rsplit("/", 1)[0] + "/"
        self.settings = settings_mod.Settings()
        self.backend: BackendChoice | None = None
        self.reader = FrameReader()
        self.bag = ProxyBag()              # listeners for the page's lifetime
        self.stream = None
        self.track_bag = ProxyBag()        # the current camera track's 'ended' listener
        self.loop: FrameLoop | None = None
        self.video = dom.el("video")
        self.models: dict[str, LoadedModel] = {}
        self.analyser: Analyser | None = None
        self.renderer: Renderer | None = None
        self.failure: Failure | None = None
        self.parts: PartsRenderer | None = None     # face-parts / mesh key-points views
        self.manifest: dict[str, dict] = {}
        self._mesh_loading = False
        self.frames = 0
        self.mirrored = False
        self.source = ""
        self.perf = {"detector_ms": 0.0, "emotion_ms": 0.0, "python_ms": 0.0, "total_ms": 0.0, "grab_ms": 0.0,
                     "transfer_ms": 0.0, "logic_ms": 0.0, "draw_ms": 0.0}
        self._busy_switch = False
        self.tensors_between_frames = -1

    # == boot ======================================================================
    async def boot(self) -> None:
        self.settings = self._load_settings()
        self.renderer = Renderer(self.settings.show_boxes, self.settings.show_keypoints)
        self.parts = PartsRenderer(self.settings.show_parts, self.settings.show_mesh_points)
        self._apply_settings_to_controls()
        self._wire_controls()
        dom.progress(0.7, "Starting TensorFlow.js…")
        if not await self._activate_backend(self.settings.backend):
            return
        if self.settings.custom_model:
            # A detector from `build.py train-detector` (?model=<name>): labelled boxes, no mood.
            if not await custom.boot_custom(self):
                return
        else:
            dom.set_data("mode", "faces")
            if not await self._load_models():
                return
            self.analyser = Analyser(self.models[DETECTOR], self.models[EMOTION], self.reader)
            await self._sync_mesh()
        dom.progress(0.98, "Opening the camera…")
        for name in ("start-stop", "switch-camera"):
            dom.el(name).disabled = False
        await self.start_camera()
        if await camera_count() < 2:
            dom.el("switch-camera").disabled = True
            dom.el("switch-camera").title = "Only one camera was found"

    def _load_settings(self) -> settings_mod.Settings:
        stored = None
        try:
            stored = js.localStorage.getItem(settings_mod.STORAGE_KEY)
        except JsException:
            pass  # storage disabled (private mode): defaults it is
        params = {str(k): str(v) for k, v in js.Object.fromEntries(
            js.URLSearchParams.new(js.location.search)).to_py().items()}
        return settings_mod.with_url_params(settings_mod.from_json(stored), params)

    def _save_settings(self) -> None:
        try:
            js.localStorage.setItem(settings_mod.STORAGE_KEY, settings_mod.to_json(self.settings))
        except JsException:
            pass

    async def _activate_backend(self, preferred: str) -> bool:
        try:
            self.backend = await choose_backend(preferred, self.base + self.site["tfjs"])
        except RuntimeError as error:
            self.fail(failures.backend_unavailable(str(error)))
            return False
        dom.set_data("backend", self.backend.name)
        dom.set_text("hud-backend", self.backend.name)
        dom.show_notice(failures.webgl_fallback_note(self.backend.fallback_reason)
                        if self.backend.fallback_reason else "")
        self._watch_context_loss()
        return True

    async def _load_models(self) -> bool:
        base = self.base + self.site.get("models", "models/")
        try:
            manifest = manifest_models(await load_manifest(base))
            self.manifest = manifest
            custom.fill_model_select(manifest, self.settings.model)
            for i, name in enumerate((DETECTOR, EMOTION)):
                if name not in manifest:
                    raise ModelError(failures.manifest_problem(f"it lists no {name}"))
                dom.progress(0.72 + 0.1 * i, f"Loading the {name.replace('_', ' ')} model…")
                spec = dict(manifest[name])
                # Only the graph and its weights are needed (not the model card).
                spec["files"] = [f for f in spec["files"] if f.get("role") in ("graph", "weights")]
                self.models[name] = await fetch_verified(base, name, spec)
            await self._build_graphs()
        except ModelError as error:
            self.fail(error.failure)
            return False
        return True

    async def _build_graphs(self) -> None:
        dom.progress(0.92, "Preparing the models…")
        for model in self.models.values():
            await build_graph(model)
            shape = [1 if v == -1 else int(v) for v in model.spec["input"]["shape"]]
            await warm_up(model, shape)

    # == face parts (FaceMesh) ========================================================
    async def _sync_mesh(self) -> None:
        """Follow the face-parts / mesh key-points settings: load FaceMesh on first use, switch the mode."""
        from .mesh import MESH, MeshStage, warm_up_mesh

        s = self.settings
        want = s.show_parts or s.show_mesh_points
        self.parts.show_parts, self.parts.show_points = s.show_parts, s.show_mesh_points
        self.parts.update_legend()
        if self.analyser is None:
            return
        if want and self.analyser.mesh is None:
            if self._mesh_loading or MESH not in self.manifest:
                if MESH not in self.manifest:
                    dom.show_notice("Face parts are unavailable: the model manifest lists no face_landmark model.")
                return
            self._mesh_loading = True
            try:
                spec = dict(self.manifest[MESH])
                spec["files"] = [f for f in spec["files"] if f.get("role") in ("graph", "weights")]
                model = await fetch_verified(self.base + self.site.get("models", "models/"), MESH, spec)
                await build_graph(model)
                await warm_up_mesh(model)
            except ModelError as error:
                # Not fatal: the app works on without face parts.
                dom.show_notice(f"Face parts are unavailable: {error.failure.message} {error.failure.fix}")
                return
            finally:
                self._mesh_loading = False
            self.models[MESH] = model
            self.analyser.mesh = MeshStage(model)
            self.parts.set_layout(self.analyser.mesh.layout)
            # The settings may have changed while the model loaded.
            want = self.settings.show_parts or self.settings.show_mesh_points
        if self.analyser.mesh is not None:
            if want and not self.analyser.mesh_on:
                self.analyser.mesh.reset()
            self.analyser.mesh_on = want
        dom.set_data("mesh", "on" if want and self.analyser.mesh is not None else "off")

    # == failures =====================================================================
    def fail(self, failure: Failure) -> None:
        self.failure = failure
        dom.show_failure(failure, self._on_error_action)
        if not failure.fatal and dom.root().dataset.appState != "running":
            dom.set_state("ready")

    def clear_failure(self) -> None:
        self.failure = None
        dom.clear_failure()

    def _error_action(self, *_args) -> None:
        failure = self.failure
        if failure is None:
            return
        label = failure.action or ""
        if label.startswith("Reload"):
            js.location.reload()
        elif label.startswith("Analyse a photo"):
            dom.el("photo-input").click()
        elif label.startswith("Detect faces"):
            self._update_settings(model=settings_mod.FACES)
            custom.go_to_model(settings_mod.FACES)
        else:
            asyncio.ensure_future(self.start_camera())

    # == camera =======================================================================
    async def start_camera(self) -> None:
        if self.analyser is None:
            return
        self.stop_camera()
        result = await open_camera(self.video, self.settings.facing)
        if result.failure is not None:
            self.fail(result.failure)
            self._set_start_label(False)
            return
        self.stream = result.stream
        track = video_track(self.stream)
        if track is not None:
            # A camera unplugged or taken by another app ends its track: say so, offer restart.
            self.track_bag.listen(track, "ended", self._camera_ended)
            facing = getattr(track.getSettings(), "facingMode", None)
            self.mirrored = (str(facing) if facing else self.settings.facing) == "user"
        await self._wait_for_video()
        dom.set_text("chain-result", await self.chain_check())
        dom.el("chain-result").hidden = False
        self.clear_failure()
        self._show_video()
        self.video.classList.toggle("mirrored", self.mirrored)
        self.renderer.mirrored = self.mirrored
        self.source = "camera"
        dom.set_data("source", "camera")
        self.analyser.reset(self.settings, self.mirrored, float(js.performance.now()))
        self.loop = FrameLoop(self._camera_frame, video=self.video, clock=self.settings.clock,
                              on_error=self._loop_failed)
        dom.set_data("clock", self.loop.clock_name)
        self._set_start_label(True)
        if js.document.visibilityState == "hidden":
            dom.set_state("paused")
            return
        self.loop.start()
        dom.set_state("running")

    def stop_camera(self) -> None:
        if self.loop is not None:
            self.loop.stop()
            self.loop = None
        self.track_bag.release()
        stop_stream(self.stream)
        self.stream = None
        self.video.srcObject = None
        self._set_start_label(False)

    def _camera_ended(self, *_args) -> None:
        self.stop_camera()
        self.renderer.clear_overlay()
        dom.set_state("ready")
        self.fail(failures.camera_ended())

    async def _wait_for_video(self) -> None:
        for _ in range(200):
            if int(self.video.videoWidth) > 0 and int(self.video.readyState) >= 2:
                return
            await asyncio.sleep(0.025)

    def _loop_failed(self, error: BaseException) -> None:
        dom.set_state("ready")
        self.fail(failures.unexpected(f"{type(error).__name__}: {error}"))

    def _set_start_label(self, running: bool) -> None:
        dom.set_text("start-stop", "Stop camera" if running else "Start camera")
        dom.el("start-stop").setAttribute("aria-pressed", "true" if running else "false")

    def _show_video(self) -> None:
        dom.el("video").hidden = False
        dom.el("still").hidden = True

    # == per frame ======================================================================
    async def _camera_frame(self) -> None:
        w, h = int(self.video.videoWidth), int(self.video.videoHeight)
        if w == 0 or h == 0:
            return
        now = float(js.performance.now())
        result = await self.analyser.analyse(self.video, w, h, now)
        # Live tensors between frames (nothing of this frame is alive now): the soak's leak gauge.
        self.tensors_between_frames = int(tf.memory().numTensors)
        self._after_frame(result, (w, h), now)

    def _after_frame(self, result, size, now: float, force_hud: bool = False) -> None:
        r0 = time.perf_counter()
        self.renderer.show(result, size)
        self.parts.mirrored = self.renderer.mirrored
        mesh = self.analyser.mesh if self.analyser.mesh_on else None
        self.parts.show(None if mesh is None else mesh.result)
        times = self.analyser.times
        times.draw_ms = 1000 * (time.perf_counter() - r0)
        times.total_ms += times.draw_ms
        self.frames += 1
        dom.set_data("frames", self.frames)
        self._update_perf(times)
        if dom.el("hud").hidden is False or force_hud:
            self.renderer.hud(now, self._perf_times(), self.backend.name, force=force_hud)
            self.parts.hud(now, times.mesh_ms, None if mesh is None else mesh.result, force=force_hud)

    def _update_perf(self, times) -> None:
        # Exponential averages; detector/emotion only when they ran (they skip frames by design).
        a = 0.1
        p = self.perf
        if times.detector_ms:
            p["detector_ms"] = times.detector_ms if not p["detector_ms"] else (1 - a) * p["detector_ms"] + a * times.detector_ms
        if times.emotion_ms:
            p["emotion_ms"] = times.emotion_ms if not p["emotion_ms"] else (1 - a) * p["emotion_ms"] + a * times.emotion_ms
        if getattr(times, "mesh_ms", 0.0):
            p["mesh_ms"] = times.mesh_ms if not p.get("mesh_ms") else (1 - a) * p["mesh_ms"] + a * times.mesh_ms
        mesh = self.analyser.mesh if self.analyser.mesh_on else None
        p["detector_fraction"] = mesh.result.detector_fraction if mesh is not None and mesh.result else 0.0
        # Pixel reads and output reads only happen on frames where a net runs: averaged over those.
        for key in ("grab_ms", "transfer_ms"):
            value = getattr(times, key)
            if value:
                p[key] = value if not p[key] else (1 - a) * p[key] + a * value
        for key, value in (("python_ms", times.python_ms), ("total_ms", times.total_ms),
                           ("logic_ms", times.logic_ms), ("draw_ms", times.draw_ms)):
            p[key] = value if not p[key] else (1 - a) * p[key] + a * value
        if self.frames % 15 == 0:
            stats = dict(p, frames=self.frames, fps=round(self.renderer._fps, 2),
                         dropped=self.loop.stats.dropped if self.loop else 0,
                         proxies=ProxyBag.live_total + (1 if self.loop else 0))
            dom.set_data("perf", json.dumps({k: round(v, 2) if isinstance(v, float) else v
                                             for k, v in stats.items()}))

    def _perf_times(self):
        from .analyser import FrameTimes

        p = self.perf
        return (FrameTimes(p["detector_ms"], p["emotion_ms"], p["total_ms"], mesh_ms=p.get("mesh_ms", 0.0),
                           grab_ms=p["grab_ms"], transfer_ms=p["transfer_ms"], logic_ms=p["logic_ms"],
                           draw_ms=p["draw_ms"])
                if p["total_ms"] else self.analyser.times)

    # == photo mode =======================================================================
    async def analyse_photo(self, file) -> None:
        if self.analyser is None:
            return
        name = str(getattr(file, "name", "photo"))
        try:
            bitmap = await js.createImageBitmap(file)
        except JsException:
            self.fail(failures.photo_unreadable(name))
            return
        self.stop_camera()
        self.clear_failure()
        w, h = int(bitmap.width), int(bitmap.height)
        still = dom.el("still")
        still.width, still.height = w, h
        still.getContext("2d").drawImage(bitmap, 0, 0)
        still.hidden = False
        dom.el("video").hidden = True
        self.mirrored = False
        self.renderer.mirrored = False
        self.source = "photo"
        dom.set_data("source", "photo")
        dom.set_data("analysis", "running")
        dom.set_state("ready")
        # A photo is one moment: feed it as a short burst of frames so voting and the
        # mood's dwell time settle exactly as they would on a still camera picture.
        self.analyser.reset(self.settings, False, 0.0)
        for i in range(PHOTO_FRAMES):
            t = i * PHOTO_STEP_MS
            result = await self.analyser.analyse(still, w, h, t)
            self._after_frame(result, (w, h), float(js.performance.now()), force_hud=(i == PHOTO_FRAMES - 1))
            await asyncio.sleep(0)  # let the page paint and stay responsive
            if self.source != "photo":
                break
        bitmap.close()
        dom.set_data("analysis", "done")

    # == controls ===========================================================================
    def _apply_settings_to_controls(self) -> None:
        s = self.settings
        dom.el("cadence").value = str(s.detect_every)
        dom.set_text("cadence-value", str(s.detect_every))
        dom.el("threshold").value = str(s.threshold)
        dom.set_text("threshold-value", f"{s.threshold:.2f}")
        dom.el("backend-select").value = s.backend
        dom.el("show-boxes").checked = s.show_boxes
        dom.el("show-keypoints").checked = s.show_keypoints
        dom.el("show-hud").checked = s.show_hud
        dom.el("show-parts").checked = s.show_parts
        dom.el("show-mesh-points").checked = s.show_mesh_points
        dom.el("hud").hidden = not s.show_hud

    def _wire_controls(self) -> None:
        bag = self.bag
        self._on_error_action = bag.wrap(self._error_action)
        custom.wire_model_select(self)
        bag.listen(dom.el("start-stop"), "click", lambda *_: asyncio.ensure_future(self._toggle_camera()))
        bag.listen(dom.el("switch-camera"), "click", lambda *_: asyncio.ensure_future(self._switch_camera()))
        bag.listen(dom.el("cadence"), "input", self._on_cadence)
        bag.listen(dom.el("threshold"), "input", self._on_threshold)
        bag.listen(dom.el("backend-select"), "change",
                   lambda *_: asyncio.ensure_future(self._on_backend()))
        for element_id, name in (("show-boxes", "show_boxes"), ("show-keypoints", "show_keypoints"),
                                 ("show-hud", "show_hud"), ("show-parts", "show_parts"),
                                 ("show-mesh-points", "show_mesh_points")):
            bag.listen(dom.el(element_id), "change", self._toggle_handler(element_id, name))
        bag.listen(dom.el("photo-input"), "change", self._on_photo_input)
        view = dom.el("view")
        bag.listen(view, "dragover", self._on_dragover)
        bag.listen(view, "dragleave", lambda *_: view.classList.remove("dragging"))
        bag.listen(view, "drop", self._on_drop)
        bag.listen(js.document, "visibilitychange", self._on_visibility)

    def _update_settings(self, **changes) -> None:
        from dataclasses import replace

        self.settings = replace(self.settings, **changes).clamped()
        self._save_settings()

    def _relogic(self) -> None:
        """Apply cadence/threshold changes: FrameLogic takes the new knobs, keeping faces and mood."""
        if self.analyser is not None and self.source == "camera":
            self.analyser.reconfigure(self.settings, self.mirrored)

    def _on_cadence(self, event) -> None:
        value = int(event.target.value)
        dom.set_text("cadence-value", str(value))
        self._update_settings(detect_every=value)
        self._relogic()

    def _on_threshold(self, event) -> None:
        value = float(event.target.value)
        dom.set_text("threshold-value", f"{value:.2f}")
        self._update_settings(threshold=value)
        self._relogic()

    def _toggle_handler(self, element_id: str, name: str):
        def handler(event) -> None:
            on = bool(event.target.checked)
            self._update_settings(**{name: on})
            if name == "show_hud":
                dom.el("hud").hidden = not on
            elif name in ("show_parts", "show_mesh_points"):
                asyncio.ensure_future(self._sync_mesh())
            else:
                setattr(self.renderer, name, on)
        return handler

    async def _toggle_camera(self) -> None:
        if self.loop is not None:
            self.stop_camera()
            self.renderer.clear_overlay()
            dom.set_state("ready")
        else:
            await self.start_camera()

    async def _switch_camera(self) -> None:
        self._update_settings(facing="environment" if self.settings.facing == "user" else "user")
        await self.start_camera()

    async def _on_backend(self) -> None:
        choice = str(dom.el("backend-select").value)
        self._update_settings(backend=choice)
        await self._rebuild_on_backend(choice)

    async def _rebuild_on_backend(self, preferred: str, note: str = "") -> None:
        """Move the models to another backend (a setting change, or recovery from context loss)."""
        if self._busy_switch:
            return
        self._busy_switch = True
        running = self.loop is not None and self.loop.running
        try:
            if self.loop is not None:
                self.loop.stop()
                try:
                    # A read from a lost WebGL context never resolves: do not wait for it forever.
                    await asyncio.wait_for(self.loop.idle(), 2.0)
                except asyncio.TimeoutError:
                    pass
            for model in self.models.values():
                try:
                    model.dispose()
                except Exception:  # noqa: BLE001 - disposing on a lost context may fail; the bytes are kept
                    model.graph = None
            if not await self._activate_backend(preferred):
                return
            if note:
                # Said as soon as the backend switched (data-backend), not after the models rebuilt.
                dom.show_notice(note)
            try:
                await self._build_graphs()
            except ModelError as error:
                self.fail(error.failure)
                return
            if running:
                # The abandoned frame may have left FrameLogic mid-frame: start it afresh.
                self.analyser.reset(self.settings, self.mirrored, float(js.performance.now()))
                self.loop = FrameLoop(self._camera_frame, video=self.video, clock=self.settings.clock,
                                      on_error=self._loop_failed)
                self.loop.start()
                dom.set_state("running")
        finally:
            self._busy_switch = False

    def _watch_context_loss(self) -> None:
        canvas = webgl_canvas() if self.backend and self.backend.name == "webgl" else None
        if canvas is not None and not getattr(canvas, "_moodcamWatched", False):
            canvas._moodcamWatched = True
            self.bag.listen(canvas, "webglcontextlost", self._on_context_lost)

    def _on_context_lost(self, event) -> None:
        event.preventDefault()
        # The GPU dropped our context (driver reset, too many tabs): the models' weights on it
        # are gone. Rebuild them from the verified bytes we kept, on wasm, and carry on.
        dom.set_data("contextLost", "1")
        asyncio.ensure_future(self._rebuild_on_backend("wasm", failures.context_lost_note()))

    def _on_photo_input(self, event) -> None:
        files = event.target.files
        if files is not None and files.length:
            asyncio.ensure_future(self.analyse_photo(files.item(0)))
        event.target.value = ""

    def _on_dragover(self, event) -> None:
        event.preventDefault()
        dom.el("view").classList.add("dragging")

    def _on_drop(self, event) -> None:
        event.preventDefault()
        dom.el("view").classList.remove("dragging")
        files = event.dataTransfer.files if event.dataTransfer is not None else None
        if files is not None and files.length:
            asyncio.ensure_future(self.analyse_photo(files.item(0)))

    def _on_visibility(self, *_args) -> None:
        asyncio.ensure_future(self._visibility_changed())

    async def _visibility_changed(self) -> None:
        hidden = js.document.visibilityState == "hidden"
        if self.loop is None or self.analyser is None or self.analyser.logic is None:
            return
        if hidden and self.loop.running:
            # Stop first and let the frame in flight finish, so FrameLogic is between frames.
            self.loop.stop()
            await self.loop.idle()
            self.analyser.logic.pause(float(js.performance.now()))
            self.renderer.show_mood(self.analyser.logic.state.snapshot)
            self.renderer.clear_overlay()
            dom.set_state("paused")
        elif not hidden and not self.loop.running and dom.root().dataset.appState == "paused":
            self.analyser.logic.resume(float(js.performance.now()))
            self.loop.start()
            dom.set_state("running")

    # == diagnostics (tests, console) ========================================================
    def diagnostics(self) -> str:
        mem = tf.memory()
        return json.dumps({"numTensors": int(mem.numTensors), "numBytes": int(mem.numBytes),
                           "tensorsBetweenFrames": self.tensors_between_frames,
                           "frames": self.frames, "proxies": ProxyBag.live_total + (1 if self.loop else 0),
                           "gc_objects": len(gc.get_objects()), "perf": self.perf,
                           "dropped": self.loop.stats.dropped if self.loop else 0})

    async def chain_check(self) -> str:
        """The boot chain on the current frame: Python -> TF.js -> numbers back (first milestone)."""
        w, h = int(self.video.videoWidth), int(self.video.videoHeight)
        with tf_scope("chain"):
            means = channel_means(self.reader.grab(self.video, w, h))
        return (f"TF.js ({self.backend.name}) read a {w}x{h} frame: mean RGB "
                + ", ".join(f"{m:.1f}" for m in means))
