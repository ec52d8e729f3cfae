"""Reference: MediaPipe's own face detection, plus the raw BlazeFace outputs for the same input.

Runs ONLY in the MediaPipe reference environment (.venv-mediapipe: mediapipe==0.10.21,
ai-edge-litert, its own numpy 1.x), never in the main test environment:

    .venv-mediapipe/bin/python tests/reference/mediapipe_faces.py [--full-range] IMAGE [IMAGE ...]

Prints one JSON object to stdout: {"results": [ per image ]}, each with
  image_size       [W, H]
  mediapipe        MediaPipe's detections (mp.solutions.face_detection,
                   model_selection=0, i.e. face_detection_short_range.tflite;
                   with --full-range model_selection=1, i.e.
                   face_detection_full_range_sparse.tflite, and
                   min_detection_confidence 0.6, the full-range graph's own
                   min_score_thresh), in image pixels: box_xyxy, score,
                   keypoints (6 x [x, y])
  raw              the same model's raw outputs on the letterboxed 128 x 128
                   (full range: 192 x 192) input MediaPipe builds:
                   regressors [896][16], classificators [896][1] (full range:
                   2304) (TFLite interpreter: ai_edge_litert)
  letterbox        the padding used (fractions of the tensor, MediaPipe's PadRoi)

The 128 x 128 input is built as MediaPipe's ImageToTensorCalculator does with
keep_aspect_ratio: true and border_mode: BORDER_ZERO on CPU
(image_to_tensor_utils.cc PadRoi + image_to_tensor_converter_opencv.cc):
pad the full-image ROI to the tensor's aspect ratio, map its corners onto the
tensor's corners with a perspective transform, warp the uint8 image with
bilinear sampling and a zero border, then scale to [-1, 1].
"""

from __future__ import annotations

import json
import os
import sys

import cv2
import numpy as np

TENSOR_SIZE = 128
# model_selection -> (tensor size, model file, min_detection_confidence)
MODELS = {0: (128, "face_detection_short_range.tflite", 0.5),
          1: (192, "face_detection_full_range_sparse.tflite", 0.6)}
SELECTION = 0


def model_path() -> str:
    import mediapipe as mp

    return os.path.join(os.path.dirname(mp.__file__), "modules", "face_detection", MODELS[SELECTION][1])


def letterbox_input(rgb: np.ndarray) -> tuple[np.ndarray, dict]:
    """The [1, 128, 128, 3] float32 tensor MediaPipe feeds the short-range model."""
    h, w = rgb.shape[:2]
    # PadRoi: grow the full-image ROI so its aspect matches the (square) tensor.
    tensor_aspect = TENSOR_SIZE / TENSOR_SIZE
    roi_aspect = h / w
    roi_w, roi_h = float(w), float(h)
    pad_x = pad_y = 0.0
    if tensor_aspect > roi_aspect:
        roi_h = w * tensor_aspect
        pad_y = (1.0 - roi_aspect / tensor_aspect) / 2.0
    else:
        roi_w = h / tensor_aspect
        pad_x = (1.0 - tensor_aspect / roi_aspect) / 2.0
    rect = ((w / 2.0, h / 2.0), (roi_w, roi_h), 0.0)
    src = cv2.boxPoints(rect).astype(np.float32)  # bottom-left, top-left, top-right, bottom-right
    dst = np.array([[0, TENSOR_SIZE], [0, 0], [TENSOR_SIZE, 0], [TENSOR_SIZE, TENSOR_SIZE]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(rgb, m, (TENSOR_SIZE, TENSOR_SIZE), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    tensor = warped.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
    return tensor[None], {"pad_x": pad_x, "pad_y": pad_y}


def mediapipe_detections(rgb: np.ndarray) -> list[dict]:
    import mediapipe as mp

    h, w = rgb.shape[:2]
    out = []
    with mp.solutions.face_detection.FaceDetection(model_selection=SELECTION,
                                                   min_detection_confidence=MODELS[SELECTION][2]) as fd:
        res = fd.process(rgb)
    for d in res.detections or []:
        bb = d.location_data.relative_bounding_box
        out.append({
            "score": float(d.score[0]),
            "box_xyxy": [bb.xmin * w, bb.ymin * h, (bb.xmin + bb.width) * w, (bb.ymin + bb.height) * h],
            "keypoints": [[k.x * w, k.y * h] for k in d.location_data.relative_keypoints],
        })
    return out


def raw_outputs(tensor: np.ndarray) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=model_path())
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], tensor)
    it.invoke()
    # Short range names its outputs regressors / classificators, full range Identity / Identity_1:
    # tell them apart by their last dimension (16 box and key point values, 1 score).
    outs = {("regressors" if d["shape"][-1] == 16 else "classificators"): it.get_tensor(d["index"])
            for d in it.get_output_details()}
    return {"regressors": outs["regressors"][0].tolist(), "classificators": outs["classificators"][0].tolist()}


def main(paths: list[str]) -> int:
    global SELECTION, TENSOR_SIZE
    if paths and paths[0] == "--full-range":
        paths = paths[1:]
        SELECTION = 1
        TENSOR_SIZE = MODELS[1][0]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    results = []
    for path in paths:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            print(f"cannot read image {path!r}", file=sys.stderr)
            return 2
        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        tensor, pad = letterbox_input(rgb)
        results.append({
            "path": path,
            "image_size": [int(rgb.shape[1]), int(rgb.shape[0])],
            "mediapipe": mediapipe_detections(rgb),
            "raw": raw_outputs(tensor),
            "letterbox": pad,
        })
    json.dump({"results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
