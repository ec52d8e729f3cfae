"""Detector milliseconds per run in headless Chromium, TF.js wasm (issue 12: near vs far).

    .venv/bin/python -m tests.models.measure_detector_ms [--backend wasm] [--runs 60] [--export DIR ...]

Loads blazeface_short_range (128 px) and blazeface_full_range (192 px) from
models/ in one page (served with COOP/COEP by the app's server, so wasm may use
threads), feeds each the letterboxed group scene `group4` (tests/fixtures/scenes.py),
warms up, then times `execute` + `dataSync` of both outputs, alternating the two
models run by run. ``--export DIR`` (repeatable) adds every model of an export folder of
`build.py train-detector` (DIR/manifest.json + DIR/NAME/), such as a custom detector, to the
same page and the same alternation. Prints and writes test-results/detector_ms.json: median, p10,
p90 per model, and the faces each finds on the scene (our decoding, manifest spec).
Figures only, never a gate: this machine's two cores are not a phone.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT))

NAMES = ["blazeface_short_range", "blazeface_full_range"]

PAGE = """<!doctype html><meta charset="utf-8"><title>detector ms</title>
<script src="tf.min.js"></script><script src="tf-backend-wasm.min.js"></script>
<script>
window.timeDetectors = async function (backend, jobs, runs) {
  tf.wasm.setWasmPaths(new URL('./', location.href).href);
  if (!(await tf.setBackend(backend))) throw new Error('backend ' + backend + ' unavailable');
  await tf.ready();
  const loaded = [];
  for (const job of jobs) {
    const model = await tf.loadGraphModel(job.model);
    const data = new Float32Array(await (await fetch(job.input)).arrayBuffer());
    const x = tf.tensor(data, job.shape);
    loaded.push({job, model, x, ms: []});
  }
  const run = (l) => { const ys = l.model.execute({[l.job.inputTensor]: l.x}, l.job.outputs);
                       const out = ys.map(y => y.dataSync().slice()); ys.forEach(y => y.dispose()); return out; };
  for (let i = 0; i < 5; i++) for (const l of loaded) run(l);
  for (let i = 0; i < runs; i++) for (const l of loaded) {
    const t0 = performance.now(); run(l); l.ms.push(performance.now() - t0);
  }
  const out = {backend: tf.getBackend(), threads: backend === 'wasm' ? tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') : null,
               models: {}};
  for (const l of loaded) {
    const ys = run(l);
    out.models[l.job.name] = {ms: l.ms, outputs: ys.map(a => Array.from(a))};
  }
  return out;
};
</script>
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="wasm")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--export", action="append", default=[], metavar="DIR",
                        help="an export folder (manifest.json + NAME/) whose models are timed too")
    args = parser.parse_args(argv)

    from moodcam.detection import FaceDetectorPostprocess, Letterbox
    from moodcam.manifest import parse_manifest
    from moodcam_tools.site.serve import serving
    from tests.fixtures import scenes
    from tests.models import parity_support as ps
    from tests.support.browser import chromium

    manifest_text = (ROOT / "models" / "manifest.json").read_text()
    entries = dict(parse_manifest(manifest_text).models)                 # name -> ModelEntry
    raw_entries = json.loads(manifest_text)["models"]
    sources = {name: "models" for name in NAMES}          # model name -> served folder
    extra_dirs = {f"export{i}": Path(d).resolve() for i, d in enumerate(args.export)}
    for served, folder in extra_dirs.items():
        text = (folder / "manifest.json").read_text()
        entries.update(parse_manifest(text).models)
        for name, entry in json.loads(text)["models"].items():
            raw_entries[name] = entry
            sources[name] = served
    frame, faces = scenes.scene("group4")
    root = Path(tempfile.mkdtemp(prefix="moodcam-ms-"))
    try:
        (root / "index.html").write_text(PAGE)
        shutil.copy(ps.TFJS, root / "tf.min.js")
        for name in ps.WASM_FILES:
            shutil.copy(ps.TFJS_WASM / name, root / name)
        (root / "models").symlink_to((ROOT / "models").resolve(), target_is_directory=True)
        for served, folder in extra_dirs.items():
            (root / served).symlink_to(folder, target_is_directory=True)
        jobs = []
        for name, served in sources.items():
            entry = raw_entries[name]
            size = entry["input"]["size"][0]
            norm = entries[name].input.normalisation                     # y = pixel * scale + offset
            x = ps.letterbox(frame, size).astype(np.float32) * norm.scale + norm.offset
            (root / f"{name}.bin").write_bytes(np.ascontiguousarray(x[None], np.float32).tobytes())
            jobs.append({"name": name, "model": f"{served}/{name}/model.json", "input": f"{name}.bin",
                         "shape": [1, size, size, 3], "inputTensor": entry["input"]["tensor"],
                         "outputs": [o["tensor"] for o in entry["outputs"]],
                         "keys": [o["key"] for o in entry["outputs"]]})
        with serving(root) as server, chromium(webgl=args.backend == "webgl") as context:
            page = context.new_page()
            page.goto(server.url + "index.html")
            raw = page.evaluate("([b, j, r]) => window.timeDetectors(b, j, r)", [args.backend, jobs, args.runs])
            page.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    report = {"backend": raw["backend"], "wasm_threads": raw["threads"], "runs": args.runs,
              "scene": "group4", "faces_in_scene": len(faces), "models": {}}
    for job in jobs:
        r = raw["models"][job["name"]]
        ms = np.asarray(r["ms"])
        outs = dict(zip(job["keys"], (np.asarray(o, np.float32) for o in r["outputs"])))
        spec = entries[job["name"]].detector_spec()
        n = spec.decode.num_boxes
        det = FaceDetectorPostprocess(spec)(outs["regressors"].reshape(n, spec.decode.num_coords),
                                            outs["classificators"].reshape(n, spec.decode.num_classes),
                                            Letterbox.fit(640, 480, *spec.input_size))
        report["models"][job["name"]] = {"median_ms": round(float(np.median(ms)), 2),
                                         "p10_ms": round(float(np.percentile(ms, 10)), 2),
                                         "p90_ms": round(float(np.percentile(ms, 90)), 2),
                                         "faces_found": len(det)}
        print(f"{job['name']}: {report['models'][job['name']]} ({raw['backend']}, threads {raw['threads']})")
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    (out / "detector_ms.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
