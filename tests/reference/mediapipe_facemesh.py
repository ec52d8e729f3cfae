"""Reference: MediaPipe's own FaceMesh, and the raw FaceMesh model on crops we make.

Runs ONLY in the MediaPipe reference environment (.venv-mediapipe: mediapipe==0.10.21,
ai-edge-litert, numpy 1.x), never in the main test environment:

    .venv-mediapipe/bin/python tests/reference/mediapipe_facemesh.py mesh IMAGE [IMAGE ...]
        prints {"results": [per image]} with
          image_size   [W, H]
          mesh         MediaPipe's landmarks (mp.solutions.face_mesh, static_image_mode=True,
                       refine_landmarks=False, max_num_faces=1) in image pixels,
                       468 x [x, y, z] (z scaled by W, as MediaPipe's normalised z), or null
          raw          face_detection_short_range.tflite's raw outputs on MediaPipe's
                       letterboxed 128 x 128 input (see mediapipe_faces.py)
    .venv-mediapipe/bin/python tests/reference/mediapipe_facemesh.py infer CROPS.npy OUT.npz
        runs face_landmark.tflite (TFLite interpreter, ai_edge_litert) on every [192, 192, 3]
        float32 crop (already x/255); writes landmarks [N, 1404] and face_flag [N] (logits).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mediapipe_faces  # noqa: E402  (same folder)


def landmark_model_path() -> str:
    import mediapipe as mp

    return os.path.join(os.path.dirname(mp.__file__), "modules", "face_landmark", "face_landmark.tflite")


def mesh(rgb: np.ndarray):
    import mediapipe as mp

    h, w = rgb.shape[:2]
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False,
                                         min_detection_confidence=0.5) as fm:
        res = fm.process(rgb)
    if not res.multi_face_landmarks:
        return None
    return [[p.x * w, p.y * h, p.z * w] for p in res.multi_face_landmarks[0].landmark]


def infer(crops: np.ndarray) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=landmark_model_path())
    it.allocate_tensors()
    inp = it.get_input_details()[0]["index"]
    outs = {d["name"]: d["index"] for d in it.get_output_details()}
    lms, flags = [], []
    for crop in crops.astype(np.float32):
        it.set_tensor(inp, crop[None])
        it.invoke()
        lms.append(it.get_tensor(outs["conv2d_21"]).reshape(-1))
        flags.append(float(it.get_tensor(outs["conv2d_31"]).reshape(-1)[0]))
    return {"landmarks": np.stack(lms), "face_flag": np.array(flags, np.float32)}


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "mesh":
        import cv2

        results = []
        for path in argv[1:]:
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is None:
                print(f"cannot read image {path!r}", file=sys.stderr)
                return 2
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            tensor, pad = mediapipe_faces.letterbox_input(rgb)
            results.append({"path": path, "image_size": [int(rgb.shape[1]), int(rgb.shape[0])], "mesh": mesh(rgb),
                            "raw": mediapipe_faces.raw_outputs(tensor), "letterbox": pad})
        json.dump({"results": results}, sys.stdout)
        return 0
    if len(argv) == 3 and argv[0] == "infer":
        out = infer(np.load(argv[1]))
        np.savez(argv[2], **out)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
