"""Per-frame stage timers for the app page, installed from outside through `moodcam.pyodide`.

The app (py/moodcam/browser) keeps exponential averages only; a benchmark needs every
frame. This source is run with `pyodide.runPython` once the app is running. It wraps,
at class level, the functions the frame already calls, so the work done is unchanged
(a few perf_counter calls per frame are added):

  grab_ms        reading pixels into tensors: FrameReader.letterboxed / crops (the default path:
                 draw the detector input and each face crop straight from the video at model
                 size) or FrameReader.grab (the `?grab=work` whole-frame path)
  det_pre_ms     FrameReader.detector_input: letterbox + normalise (TF.js ops)
  emo_pre_ms     FrameReader.emotion_input: cropAndResize + grey + normalise
  read_wait_ms   `await tensor.data()` (webgl: waits for the GPU; wasm: already computed)
  transfer_ms    JS <-> Python copies: typed array -> bytes -> numpy, numpy -> Float32Array
  decode_ms      FrameLogic.submit_detections (decode + weighted NMS + tracking update)
  logic_ms       every FrameLogic call (begin_frame, submit_*, emotion_requests, end_frame)
  draw_ms        Renderer.show (overlay canvas, mood frame, face list)
  hud_ms         Renderer.hud
  det_grab_ms    the part of grab_ms that feeds the detector (letterboxed, or grab)
  detect_step_ms Analyser._detect as a whole: letterbox read + normalise + execute + output reads
  mesh_on, ran_detector, app_detector_fraction, mesh_faces
                 face-parts mode only (MeshStage.result): whether the detector ran this frame, the
                 app's own running fraction (as on the HUD), faces FaceMesh tracks
  det_ms, emo_ms the app's own FrameTimes (whole detector / emotion step, as on the HUD)
  app_*          the app's own FrameTimes.as_dict() (grab, detector, emotion, mesh, transfer,
                 logic, draw, other, total); app_python_ms is FrameLogic alone, as on the HUD
  frame_ms       Analyser.analyse start -> end of App._after_frame
"""

SOURCE = r'''
import sys, time, types
import js
import numpy as np

if "_moodcam_bench" not in sys.modules:
    import moodcam.browser.analyser as _A
    import moodcam.browser.frames as _F
    import moodcam.browser.render as _R
    import moodcam.browser.app_state as _S
    import moodcam.browser.interop as _I
    import moodcam.pipeline as _P

    _b = types.ModuleType("_moodcam_bench")
    _b.records = []
    _b.cur = None
    sys.modules["_moodcam_bench"] = _b
    _pc = time.perf_counter

    def _add(key, dt):
        c = _b.cur
        if c is not None:
            c[key] = c.get(key, 0.0) + dt

    def _wrap(owner, name, *keys):
        orig = getattr(owner, name)
        def timed(*a, **k):
            t = _pc()
            try:
                return orig(*a, **k)
            finally:
                dt = 1000.0 * (_pc() - t)
                for key in keys:
                    _add(key, dt)
        setattr(owner, name, timed)

    for _n in ("begin_frame", "emotion_requests", "submit_emotion", "end_frame"):
        _wrap(_P.FrameLogic, _n, "logic_ms")
    _wrap(_P.FrameLogic, "submit_detections", "logic_ms", "decode_ms")
    # grab_ms: every pixel read; det_grab_ms: the part that feeds the detector (letterbox, or the
    # whole work frame with ?grab=work); crops are the emotion net's.
    _wrap(_F.FrameReader, "grab", "grab_ms", "det_grab_ms")
    _wrap(_F.FrameReader, "letterboxed", "grab_ms", "det_grab_ms")
    _wrap(_F.FrameReader, "crops", "grab_ms")
    _wrap(_F.FrameReader, "detector_input", "det_pre_ms")
    _wrap(_F.FrameReader, "emotion_input", "emo_pre_ms")
    _wrap(_R.Renderer, "show", "draw_ms")
    _wrap(_R.Renderer, "hud", "hud_ms")
    _wrap(_A, "js_float32", "transfer_ms")
    _wrap(_A, "js_int32", "transfer_ms")

    _DT = getattr(_I, "_DTYPES", {"float32": np.float32, "int32": np.int32, "bool": np.uint8})

    async def _to_numpy_async(tensor):
        # interop.to_numpy_async, with its two halves timed apart.
        t0 = _pc()
        data = await tensor.data()
        t1 = _pc()
        dtype = _DT.get(str(tensor.dtype), np.float32)
        array = np.frombuffer(data.to_bytes(), dtype=dtype).reshape(tuple(tensor.shape.to_py()))
        t2 = _pc()
        _add("read_wait_ms", 1000.0 * (t1 - t0))
        _add("transfer_ms", 1000.0 * (t2 - t1))
        return array

    _A.to_numpy_async = _to_numpy_async

    # The whole detector step as the frame sees it (letterbox read + normalise + execute + output
    # reads), also when face-parts mode calls it through MeshStage: frame in -> raw outputs.
    _orig_detect = _A.Analyser._detect

    async def _detect(self, *a, **k):
        t = _pc()
        try:
            return await _orig_detect(self, *a, **k)
        finally:
            _add("detect_step_ms", 1000.0 * (_pc() - t))

    _A.Analyser._detect = _detect

    _orig_analyse = _A.Analyser.analyse

    async def _analyse(self, *a, **k):
        _b.cur = {"t0": float(js.performance.now()), "_p0": _pc()}
        return await _orig_analyse(self, *a, **k)

    _A.Analyser.analyse = _analyse

    _orig_after = _S.App._after_frame

    def _after_frame(self, result, size, now, force_hud=False):
        _orig_after(self, result, size, now, force_hud)
        c = _b.cur
        if c is None:
            return
        _b.cur = None
        t = self.analyser.times
        c["frame_ms"] = 1000.0 * (_pc() - c.pop("_p0"))
        c["t_end"] = float(js.performance.now())
        c["det_ms"] = t.detector_ms
        c["emo_ms"] = t.emotion_ms
        c["mesh_ms"] = getattr(t, "mesh_ms", 0.0)
        c.update({"app_" + key: value for key, value in t.as_dict().items()})
        c["faces"] = len(result.faces)
        mesh = self.analyser.mesh if getattr(self.analyser, "mesh_on", False) else None
        if mesh is not None and mesh.result is not None:
            # Face-parts mode: FaceMesh tracks the faces; the detector runs when the tracker asks.
            c["mesh_on"] = 1
            c["ran_detector"] = 1 if mesh.result.ran_detector else 0
            c["app_detector_fraction"] = mesh.result.detector_fraction
            c["mesh_faces"] = len(mesh.result.faces)
        c["mood_state"] = result.mood.state
        _b.records.append(c)
        if len(_b.records) > 20000:
            del _b.records[:5000]

    _S.App._after_frame = _after_frame
'''

COUNT = 'len(__import__("_moodcam_bench").records)'
COUNT_MESH = 'sum(1 for r in __import__("_moodcam_bench").records if r.get("mesh_on"))'
DUMP = 'import json; json.dumps(__import__("_moodcam_bench").records)'
CLEAR = '__import__("_moodcam_bench").records.clear()'

# Experiment (pipeline "ours-equal-sync", wasm only): read model outputs with dataSync() instead of
# `await tensor.data()`. On wasm the outputs are already computed, so the await only yields to the
# browser's event loop (Pyodide schedules the continuation as a new task); this shows what that costs.
SYNC_READS = r'''
import sys, time
import numpy as np
import moodcam.browser.analyser as _A
import moodcam.browser.interop as _I
_b = sys.modules["_moodcam_bench"]
_pc = time.perf_counter
_DT = getattr(_I, "_DTYPES", {"float32": np.float32, "int32": np.int32, "bool": np.uint8})

async def _to_numpy_sync(tensor):
    t0 = _pc()
    data = tensor.dataSync()
    t1 = _pc()
    array = np.frombuffer(data.to_bytes(), dtype=_DT.get(str(tensor.dtype), np.float32)).reshape(
        tuple(tensor.shape.to_py()))
    t2 = _pc()
    c = _b.cur
    if c is not None:
        c["read_wait_ms"] = c.get("read_wait_ms", 0.0) + 1000.0 * (t1 - t0)
        c["transfer_ms"] = c.get("transfer_ms", 0.0) + 1000.0 * (t2 - t1)
    return array

_A.to_numpy_async = _to_numpy_sync
'''
