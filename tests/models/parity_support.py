"""Inputs and a browser runner for the TF.js parity tests.

Inputs are real photos from scikit-image (astronaut(), camera(), lfw_subset()),
prepared the way the app feeds each model. Face boxes were found once with the
original BlazeFace (TFLite) on the 512x512 images and are fixed here so the
crops do not depend on the code under test.

`run_tfjs(models_dir, jobs, backend)` serves a throwaway folder (index.html,
TF.js + wasm backend from node_modules, the models, the inputs as raw float32)
with the app's own server and runs every job in headless Debian Chromium.
"""
from __future__ import annotations

import base64
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
TFJS = REPO / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"
TFJS_WASM = REPO / "node_modules" / "@tensorflow" / "tfjs-backend-wasm" / "dist"
WASM_FILES = ["tf-backend-wasm.min.js", "tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm",
              "tfjs-backend-wasm-threaded-simd.wasm"]

# (x1, y1, x2, y2) in the 512x512 images, from face_detection_short_range.tflite.
FACE_BOXES = {"astronaut": (179.2, 81.9, 273.8, 176.5), "camera": (174.1, 120.3, 266.6, 212.8)}


def photos() -> dict[str, np.ndarray]:
    from skimage import data
    return {"astronaut": data.astronaut(), "camera": np.stack([data.camera()] * 3, axis=-1)}


def _crop(image: np.ndarray, box, size: int, *, scale: float = 1.0, shift=(0.0, 0.0),
          flip: bool = False) -> np.ndarray:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 + shift[0] * (x2 - x1), (y1 + y2) / 2 + shift[1] * (y2 - y1)
    half = max(x2 - x1, y2 - y1) * scale / 2
    pad = int(np.ceil(half)) + 2                      # crops may reach past the border: pad with edges
    img = Image.fromarray(np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge"))
    cx, cy = cx + pad, cy + pad
    out = img.resize((size, size), Image.BILINEAR, box=(cx - half, cy - half, cx + half, cy + half))
    arr = np.asarray(out)
    return arr[:, ::-1] if flip else arr


def _grey(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _photo_views(size: int, far_scale: float) -> tuple[list[np.ndarray], list[str]]:
    """Each photo whole (the face is small), near (2.5x the face box: the face is large) and far
    (`far_scale`x, shifted and mirrored), size x size."""
    frames, names = [], []
    for name, image in photos().items():
        frames.append(np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR)))
        names.append(f"{name}-whole")
        frames.append(_crop(image, FACE_BOXES[name], size, scale=2.5))
        names.append(f"{name}-near")
        frames.append(_crop(image, FACE_BOXES[name], size, scale=far_scale, shift=(0.2, 0.1), flip=True))
        names.append(f"{name}-far-flipped")
    return frames, names


def _with_noise(frames: list[np.ndarray], names: list[str], size: int) -> tuple[np.ndarray, list[str]]:
    """The frames and one of noise, as BlazeFace reads them: (x - 127.5) / 127.5."""
    rng = np.random.default_rng(7)
    x = np.stack([*frames, rng.integers(0, 256, (size, size, 3), dtype=np.uint8)]).astype(np.float32)
    return (x - 127.5) / 127.5, [*names, "noise"]


def blazeface_inputs() -> tuple[np.ndarray, list[str]]:
    """Whole photos (the face is small) and face-region views (the face is large), 128x128."""
    return _with_noise(*_photo_views(128, far_scale=4.0), 128)


def general_object_inputs(size: int) -> tuple[np.ndarray, list[str]]:
    """The photos whole, near and far, and noise, size x size, (x - 127.5) / 127.5: what the Objectron
    SSD MobileNetV2 reads (a person, a camera and a helmet; moodcam_tools.train.backbones)."""
    return _with_noise(*_photo_views(size, far_scale=4.0), size)


def letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """Fit the image into size x size keeping its aspect, centred, zero (black) padding."""
    h, w = image.shape[:2]
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    out = np.zeros((size, size, 3), np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top:top + nh, left:left + nw] = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR))
    return out


def blazeface_full_range_inputs() -> tuple[np.ndarray, list[str]]:
    """192x192: the photos whole, near and far, the composed group scenes letterboxed from 640x480
    (tests/fixtures/scenes.py; faces 28..250 px wide), and noise."""
    from tests.fixtures import scenes

    frames, names = _photo_views(192, far_scale=6.0)
    for name in scenes.SCENES:
        frames.append(letterbox(scenes.scene(name)[0], 192))
        names.append(f"scene-{name}")
    return _with_noise(frames, names, 192)


def face_landmark_inputs() -> tuple[np.ndarray, list[str]]:
    """Face crops as MediaPipe makes them (detector box enlarged 1.5x), 192x192, x/255."""
    crops, names = [], []
    for name, image in photos().items():
        for scale, shift, flip in [(1.5, (0, 0), False), (1.7, (0.05, -0.05), True)]:
            crops.append(_crop(image, FACE_BOXES[name], 192, scale=scale, shift=shift, flip=flip))
            names.append(f"{name}-{scale}{'-flipped' if flip else ''}")
    return np.stack(crops).astype(np.float32) / 255.0, names


def emotion_inputs() -> tuple[np.ndarray, list[str]]:
    """Tight grey face crops, 64x64, (x/255-0.5)*2: photos with variations plus LFW faces."""
    from skimage import data
    crops, names = [], []
    for name, image in photos().items():
        for scale, shift, flip in [(1.0, (0, 0), False), (1.0, (0, 0), True), (0.9, (0, 0.05), False),
                                   (1.15, (0.05, 0), False), (1.05, (-0.05, -0.03), True)]:
            crops.append(_grey(_crop(image, FACE_BOXES[name], 64, scale=scale, shift=shift, flip=flip)
                               .astype(np.float32)))
            names.append(f"{name}-s{scale}{'-f' if flip else ''}-{shift[0]},{shift[1]}")
    faces = data.lfw_subset()[:100]          # first 100 are faces, 25x25 in [0, 1]
    for i in range(0, 100, 10):
        up = Image.fromarray((faces[i] * 255).astype(np.uint8)).resize((64, 64), Image.BICUBIC)
        crops.append(np.asarray(up, dtype=np.float32))
        names.append(f"lfw-{i}")
    x = np.stack(crops)[..., None]
    return (x / 255.0 - 0.5) * 2.0, names


# ---------------------------------------------------------------- browser side

PAGE = """<!doctype html><meta charset="utf-8"><title>moodcam parity</title>
<script src="tf.min.js"></script><script src="tf-backend-wasm.min.js"></script>
<script>
function b64(f32) {
  const u8 = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}
window.runParity = async function (backend, jobs) {
  tf.wasm.setWasmPaths(new URL('./', location.href).href);
  if (!(await tf.setBackend(backend))) throw new Error('backend ' + backend + ' unavailable');
  await tf.ready();
  const info = {backend: tf.getBackend(), wasm_threads: null, webgl_float32: null};
  if (backend === 'webgl') info.webgl_float32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
  const results = {info, jobs: {}};
  for (const job of jobs) {
    const model = await tf.loadGraphModel(job.model);
    const all = new Float32Array(await (await fetch(job.input)).arrayBuffer());
    const per = job.shape.slice(1).reduce((a, b) => a * b, 1);
    const outs = job.outputs.map(() => []);
    const t0 = performance.now();
    for (let start = 0; start < job.shape[0]; start += job.batch) {
      const n = Math.min(job.batch, job.shape[0] - start);
      const x = tf.tensor(all.subarray(start * per, (start + n) * per), [n, ...job.shape.slice(1)]);
      let ys = model.execute({[job.inputTensor]: x}, job.outputs);
      if (!Array.isArray(ys)) ys = [ys];
      for (let k = 0; k < ys.length; k++) { outs[k].push(await ys[k].data()); ys[k].dispose(); }
      x.dispose();
    }
    const ms = performance.now() - t0;
    results.jobs[job.name] = {ms, outputs: outs.map(parts => {
      const total = parts.reduce((a, p) => a + p.length, 0), flat = new Float32Array(total);
      let o = 0; for (const p of parts) { flat.set(p, o); o += p.length; }
      return b64(flat);
    })};
    model.dispose();
  }
  return results;
};
</script>
"""


def run_tfjs(models_dir: Path, jobs: list[dict], backends: list[str]) -> dict[str, dict]:
    """jobs: {name, model (dir name under models_dir), input_key -> tensor, outputs (tensor names),
    x (N,...) float32, batch}. Returns {backend: {info, jobs: {name: {ms, outputs: [arrays]}}}}."""
    from moodcam_tools.site.serve import serving
    from tests.support.browser import chromium

    root = Path(tempfile.mkdtemp(prefix="moodcam-parity-"))
    try:
        (root / "index.html").write_text(PAGE)
        shutil.copy(TFJS, root / "tf.min.js")
        for name in WASM_FILES:
            shutil.copy(TFJS_WASM / name, root / name)
        (root / "models").symlink_to(models_dir.resolve(), target_is_directory=True)
        page_jobs = []
        for job in jobs:
            (root / f"{job['name']}.bin").write_bytes(np.ascontiguousarray(job["x"], np.float32).tobytes())
            page_jobs.append({"name": job["name"], "model": f"models/{job['model']}/model.json",
                              "input": f"{job['name']}.bin", "shape": list(job["x"].shape),
                              "inputTensor": job["input_tensor"], "outputs": job["outputs"],
                              "batch": job["batch"]})
        results = {}
        with serving(root) as server, chromium(webgl=True) as context:
            for backend in backends:
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(server.url + "index.html")
                raw = page.evaluate("([b, j]) => window.runParity(b, j)", [backend, page_jobs])
                page.close()
                assert not errors, errors
                decoded = {}
                for job in jobs:
                    r = raw["jobs"][job["name"]]
                    arrays = [np.frombuffer(base64.b64decode(s), np.float32) for s in r["outputs"]]
                    n = job["x"].shape[0]
                    decoded[job["name"]] = {"ms": r["ms"], "outputs": [a.reshape(n, -1) for a in arrays]}
                results[backend] = {"info": raw["info"], "jobs": decoded}
        return results
    finally:
        shutil.rmtree(root, ignore_errors=True)


def manifest(models_dir: Path) -> dict:
    return json.loads((models_dir / "manifest.json").read_text())


def chromium_path() -> str:
    from tests.support.browser import CHROMIUM
    return CHROMIUM
