"""FaceMesh results for the rest of the app: faces for FrameLogic, and the face-parts overlay data.

Pure Python + numpy (the browser layer draws what these return):

* :func:`mesh_detections` turns tracked :class:`MeshFace` s into the
  :class:`~moodcam.detection.result.Detections` that ``FrameLogic.submit_faces``
  takes (box = landmark bounds, score = face presence, the six key points in
  BlazeFace's order), so emotion and mood keep working while the detector is
  mostly skipped.
* :func:`overlay_data` is the page's ``#overlay[data-parts]`` payload: per
  face the part outlines and the named key points in display pixels.
* :func:`canvas_transform` / :func:`roi_inside`: drawing a FaceMesh ROI straight
  from the video with a 2-D canvas, equal to ``tf.image.transform`` (no whole-frame read).
* :func:`svg_path` turns a part's loops into one SVG path string (for
  ``new Path2D(d)``: one JS call per part instead of one per point), filled
  with the even-odd rule so the inner lip loop cuts out the mouth.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..detection.result import Detections
from .mesh import MeshFace, MeshResult
from .parts import DEFAULT_LAYOUT, FacePartLayout

__all__ = ["mesh_detections", "overlay_data", "svg_path", "canvas_transform", "roi_inside"]


def mesh_detections(faces: Sequence[MeshFace]) -> Detections:
    """Detections (frame pixels, unmirrored) from FaceMesh faces: one per face, in the given order."""
    if not faces:
        return Detections.empty()
    boxes = np.stack([f.box for f in faces]).astype(np.float32)
    scores = np.array([f.presence for f in faces], dtype=np.float32)
    keypoints = np.stack([f.keypoints for f in faces]).astype(np.float32)
    return Detections(boxes, scores, keypoints)


def _round(v: float, decimals: int) -> float:
    return round(float(v), decimals)


def overlay_data(result: MeshResult | None, layout: FacePartLayout = DEFAULT_LAYOUT, *, mirror: bool = False,
                 parts: bool = True, points: bool = True, decimals: int = 1) -> dict:
    """``#overlay[data-parts]``: what the face-parts overlay shows, in display pixels.

    {"frame": i, "frames": n, "detector_runs": r, "detector_fraction": f, "ran_detector": bool,
     "mirrored": bool, "frame_width": W,
     "faces": [{"id", "presence", "source", "tracked_frames", "box": [x0, y0, x1, y1],
                "parts": [{"name", "label", "color", "fill_alpha", "fill_rule", "loops", "lines"}],
                "key_points": [{"name", "x", "y"}]}]}
    ``parts`` / ``points`` leave out what is not shown. No face: an empty list.
    """
    if result is None:
        return {"frame": -1, "frames": 0, "detector_runs": 0, "detector_fraction": 0.0, "ran_detector": False,
                "mirrored": mirror, "frame_width": 0.0, "faces": []}
    mw = result.frame_width if mirror else None
    faces = []
    for f in result.faces:
        d = f.to_dict(layout, mw, parts=parts, points=points, decimals=decimals)
        d.pop("landmarks", None)
        d["presence"] = _round(d["presence"], 3)
        d["box"] = [_round(v, decimals) for v in d["box"]]
        if points:
            d["key_points"] = [{"name": k["name"], "x": _round(k["x"], decimals), "y": _round(k["y"], decimals)}
                               for k in d["key_points"]]
        faces.append(d)
    return {"frame": result.frame_index, "frames": result.frames, "detector_runs": result.detector_runs,
            "detector_fraction": round(result.detector_fraction, 4), "ran_detector": result.ran_detector,
            "mirrored": mirror, "frame_width": result.frame_width, "faces": faces}


def svg_path(loops: Sequence[Sequence[Sequence[float]]], *, close: bool = True, decimals: int = 1) -> str:
    """'M x y L x y ... Z M ...' for a part's loops (or, with close=False, its open lines)."""
    out = []
    for loop in loops:
        pts = np.asarray(loop, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            continue
        coords = [f"{x:.{decimals}f} {y:.{decimals}f}" for x, y in pts]
        out.append("M" + coords[0] + ("L" + "L".join(coords[1:]) if len(coords) > 1 else "") + ("Z" if close else ""))
    return "".join(out)


def canvas_transform(transform, size: int) -> tuple[float, ...]:
    """ctx.setTransform(a, b, c, d, e, f) that draws the frame (image coordinates) so that the
    canvas equals tf.image.transform(frame, [transform], 'bilinear', ..., [size, size]).

    tf.image.transform maps output pixel index (u, v) to frame pixel index A (u, v) + t;
    the canvas samples at pixel centres (u + 0.5), so in continuous coordinates the
    canvas -> image map is A c + t + 0.5 (1 - A 1); setTransform wants its inverse.
    """
    a0, a1, a2, b0, b1, b2 = (float(v) for v in transform[:6])
    m = np.array([[a0, a1], [b0, b1]])
    t = np.array([a2 + 0.5 - 0.5 * (a0 + a1), b2 + 0.5 - 0.5 * (b0 + b1)])
    inv = np.linalg.inv(m)
    off = -inv @ t
    return (float(inv[0, 0]), float(inv[1, 0]), float(inv[0, 1]), float(inv[1, 1]), float(off[0]), float(off[1]))


def roi_inside(transform, size: int, width: float, height: float) -> bool:
    """Whether the whole output square samples inside the frame (no border to replicate)."""
    a0, a1, a2, b0, b1, b2 = (float(v) for v in transform[:6])
    for u, v in ((0, 0), (size - 1, 0), (0, size - 1), (size - 1, size - 1)):
        x, y = a0 * u + a1 * v + a2, b0 * u + b1 * v + b2
        if not (0.0 <= x <= width - 1 and 0.0 <= y <= height - 1):
            return False
    return True
