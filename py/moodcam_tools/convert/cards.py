"""Model cards (models/<name>/README.md), generated so they always agree with
the manifest. Text only; facts come from specs and the built files."""
from __future__ import annotations

from .specs import BLAZEFACE, BLAZEFACE_FULL_RANGE, EMOTION, FACE_LANDMARK, ModelSpec

LIMITS = {
    BLAZEFACE.name: """\
- Short-range model: trained for faces filling a good part of a front-camera
  frame, best within about 2 m of the camera. Small or distant faces (under
  roughly 20 px in the 128 px input) are missed; MediaPipe's full-range model
  covers those (blazeface_full_range).
- Boxes are axis aligned; the six key points are coarse (eyes, nose tip,
  mouth centre, ear tragions). Strong profile views, heavy occlusion (hands,
  masks) and extreme lighting lower the score.
- MediaPipe's model card reports evaluation across regions and skin tones
  with small differences; we did not re-evaluate fairness here. Treat scores
  near the 0.5 threshold as uncertain.
- Converted from fp16 TFLite weights; the TF.js weights are the same fp16
  values (no extra loss).
""",
    BLAZEFACE_FULL_RANGE.name: """\
- Full-range model: made for faces up to about 5 m from the camera (groups,
  a room, a rear camera). One 192 px pass over a 640x480 frame (letterboxed,
  0.3 input pixels per frame pixel) finds faces down to about 45-50 px wide
  in the frame (measured on a real face: from 44 px at the centre, 52 px near
  a corner; a harder face, half hidden by a camera, from 96 px); the
  short-range model needs about 80 px. Smaller faces need more input pixels:
  the app's far range alternates whole-frame runs with runs on four
  overlapping 352x272 tiles (moodcam.detection.tiles), which finds the same
  face from about 20 px (tests/parity/measure_tiled_pass.py).
- It costs several times the short-range model per run (2304 anchors at
  48x48, a 192 px input); near faces that fill the frame are better served
  by blazeface_short_range.
- The TFLite file stores most 1x1 convolution weights sparse (DENSIFY ops);
  the build densifies them and checks each against the TFLite interpreter's
  DENSIFY output bit for bit. TF.js runs them dense: no speed-up from the
  sparsity, and the weights are larger than the TFLite file's.
- MediaPipe's graph keeps detections from score 0.6 (its Python solution
  passes min_detection_confidence, 0.5 by default, instead). Boxes are axis
  aligned; key points and the fairness caveats are as for short range
  (MediaPipe's model card; not re-evaluated here).
- Converted from fp16 TFLite weights; the TF.js weights are the same fp16
  values (no extra loss).
""",
    FACE_LANDMARK.name: """\
- Expects a face crop prepared like MediaPipe's pipeline (detector box
  enlarged 1.5x, rotated so the eyes are level). Landmarks degrade quickly
  on loose or off-centre crops; re-detect when `face_flag` drops.
- 468 points of a canonical mesh: no iris points (a separate model), z is a
  relative depth, not metric.
- Same data caveats as the detector: trained on MediaPipe's own data;
  performance differs with pose, occlusion (glasses, masks, hands) and
  lighting. Not re-evaluated here.
- Face parts are outlines through mesh landmarks, not a segmentation: they
  follow the mesh (closed eyes, open mouth) but carry its errors; hair, ears,
  neck and skin are not parts here.
""",
    EMOTION.name: """\
- Trained on FER-2013: 35,887 low-resolution (48x48) grey faces scraped from
  web image searches, many posed or acted expressions. Classes are strongly
  unbalanced (happy ~25 %, disgust ~1.5 %): "disgust" is rarely predicted and
  unreliable; "fear" and "sad" are often confused; "neutral" absorbs subtle
  expressions.
- Reported accuracy of this architecture on the FER-2013 test set is about
  66 %: the output is a guess about a displayed expression, not a reading of
  how a person feels. Do not use it for decisions about people.
- The data set's demographic balance is not documented; expect uneven
  accuracy across age, skin tone, gender presentation and culture of
  expression. Glasses, beards, head pose and low light reduce accuracy.
- Input must be a tight grey face crop; loose crops (much background) shift
  predictions towards "neutral"/"sad".
- The `features` output is not a face identity embedding and carries no
  meaning outside this network; a calibration fitted on it works only with
  this exact model (calibration files are bound to its sha256).
""",
}

WHAT = {
    BLAZEFACE.name: "BlazeFace short range, MediaPipe's face detector for front (selfie) cameras: a "
                    "lightweight SSD-style network over 896 anchors that outputs a face score per anchor "
                    "plus a box and six key points.",
    BLAZEFACE_FULL_RANGE.name: "BlazeFace full range, MediaPipe's face detector for faces up to about 5 m "
                               "away (groups, a room): an SSD-style network over 2304 anchors (one 48x48 "
                               "layer at stride 4 on a 192x192 input) that outputs a face score per anchor "
                               "plus a box and six key points.",
    FACE_LANDMARK.name: "MediaPipe FaceMesh's landmark network: from a 192x192 face crop it outputs 468 "
                        "3-D landmarks and a face-presence score.",
    EMOTION.name: "The mini-Xception facial-expression classifier shipped with the `fer` package "
                  "(Arriaga et al., 2017 architecture, 58,423 parameters): a 64x64 grey face crop in, "
                  "probabilities for 7 expressions out. A second output, `features`, gives the same "
                  "run's penultimate features (128 numbers per face) for the per-person calibration "
                  "head (py/moodcam/calibration.py); the weights are the original's, unchanged.",
}


GRAPHS = {BLAZEFACE.name: "face_detection_short_range",
          BLAZEFACE_FULL_RANGE.name: "face_detection_full_range"}


def render(spec: ModelSpec, entry: dict) -> str:
    src = entry["source"]
    inp = entry["input"]
    lines = [
        f"# {spec.name}",
        "",
        "## What it is",
        "",
        WHAT[spec.name],
        "",
        f"- Task: {spec.task}",
        f"- Format: TF.js graph model, {entry['weights_dtype']} weights, "
        f"{entry['weights_bytes']} bytes of weights",
        f"- Input `{inp['key']}` (tensor `{inp['tensor']}`): shape {inp['shape']}, {inp['dtype']}, "
        f"{inp['layout']}, {inp['color']}; normalisation `{inp['normalisation']['formula']}` on 0..255 pixels",
        f"- Preparing the input: {inp['resize']}",
    ]
    for out in entry["outputs"]:
        lines.append(f"- Output `{out['key']}` (tensor `{out['tensor']}`, shape {out['shape']}): {out['meaning']}")
    if "labels" in entry:
        lines.append(f"- Labels, in output order: {', '.join(entry['labels'])}")
    if "parts" in entry:
        src_parts = entry["parts_source"]
        lines.append(f"- Face parts: `parts` in ../manifest.json holds MediaPipe's landmark index groups "
                     f"({', '.join(sorted(entry['parts']))}) as edge lists, read at build time from "
                     f"`{src_parts['path']}` in the same wheel (sha256 `{src_parts['sha256']}`); "
                     "py/moodcam/landmarks/parts.py turns them into closed outlines to fill")
    if "anchors" in entry:
        lines.append("- Anchors and decoding: see `anchors` and `decoding` in ../manifest.json "
                     f"(MediaPipe's {GRAPHS[spec.name]} graph settings)")
    if "DENSIFY" in entry.get("source_ops", {}):
        lines.append(f"- Sparse weights: the source stores {entry['source_ops']['DENSIFY']} weight tensors sparse "
                     "(TFLite DENSIFY); py/moodcam_tools/convert/sparse.py densifies them from the "
                     "flatbuffer's sparsity parameters and the build checks each against the TFLite "
                     "interpreter's DENSIFY output")
    lines += [
        "",
        "## Where it came from",
        "",
        f"- Package: PyPI `{src['package']}=={src['version']}`, wheel `{src['wheel']}` "
        f"(sha256 `{src['wheel_sha256']}`)",
        f"- File: `{src['path']}` (sha256 `{src['sha256']}`, {src['size']} bytes)",
        f"- Licence: {entry['licence']}",
        "- Converted by `build.py models` (py/moodcam_tools/convert): "
        + ("TFLite flatbuffer read and rebuilt op by op as a TensorFlow graph"
           if src["path"].endswith(".tflite") else "Keras 3 `load_model(compile=False)` and export")
        + f", saved as a SavedModel, converted with tensorflowjs {entry['converter']['tensorflowjs']} "
        f"(TensorFlow {entry['converter']['tensorflow']}). The build checks the rebuilt graph against "
        "the original; tests/models/test_parity_tfjs.py checks the TF.js model in Chromium "
        "(wasm and webgl) against the original.",
        "",
        "## Known limits and biases",
        "",
        LIMITS[spec.name].rstrip(),
        "",
    ]
    return "\n".join(lines)
