"""Face parts in the browser: FaceMesh landmarks tracked frame to frame, drawn as part regions + key points.

Fake cameras:
- the still astronaut (as in test_app): the lips region lies inside the face box and
  over the mouth key point, the eye regions over the mesh's eye key points, the legend
  and the HUD figures are shown, emotion and mood keep working, tensors stay flat;
- a moving clip made here from astronaut() (panned and rotated over time, a seamless
  loop): the detector runs on a small fraction of frames while every sampled set of
  mesh key points matches the known motion of the face.

The page's contract (moodcam.browser.ui): ?parts=1&meshpoints=1 turn both views on;
#overlay[data-parts] holds the drawn parts and key points in display pixels (mirrored
for the front camera, like #overlay[data-faces] "box").
"""
from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e

PARTS_QUERY = "?backend=wasm&parts=1&meshpoints=1"
# MediaPipe's BlazeFace box for astronaut() (test_app.ASTRONAUT_REFERENCE_BOX), source pixels.
ASTRONAUT_REFERENCE_BOX = (177.565, 82.871, 272.909, 178.215)
# The mesh's named key points on the still astronaut (source pixels, unmirrored), as this app
# computes them (FaceMesh on wasm, tracked ROI); the moving clip is checked against these moved.
ASTRONAUT_KEY_POINTS = {
    "right_eye": (203.2, 101.6), "left_eye": (247.1, 103.9), "nose_tip": (222.8, 131.6),
    "mouth": (222.6, 146.3), "mouth_right": (200.5, 139.2), "mouth_left": (246.3, 141.9),
    "chin": (220.5, 177.0),
}

# The moving clip: 640x480, the astronaut's face centre panned and rotated, seamless loop.
CLIP_SIZE = (640, 480)
CLIP_FRAMES = 120                  # 8 s at 15 fps
CLIP_FPS = 15
FACE_CENTRE = (225.0, 130.0)       # in astronaut() pixels
PLACE = (320.0, 200.0)             # where the face centre sits in the clip at rest
PAN_X, PAN_Y = 50.0, 15.0          # pixels
TILT_DEG = 12.0


def clip_pose(i: int) -> tuple[float, float, float]:
    """(dx, dy, angle in radians) of clip frame i."""
    phase = 2 * math.pi * i / CLIP_FRAMES
    return PAN_X * math.sin(phase), PAN_Y * math.sin(2 * phase), math.radians(TILT_DEG) * math.sin(phase + 1.0)


def clip_map(points: np.ndarray, i: int) -> np.ndarray:
    """astronaut() pixels -> clip frame i pixels (the known motion)."""
    dx, dy, a = clip_pose(i)
    c, s = math.cos(a), math.sin(a)
    p = np.asarray(points, dtype=float) - FACE_CENTRE
    rotated = np.stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1]], axis=1)
    return rotated + np.array(PLACE) + (dx, dy)


def moving_clip(folder: Path) -> Path:
    """The moving astronaut as a y4m (PNG frames through ffmpeg, as the still cameras are made)."""
    from PIL import Image

    from tests.fixtures.cameras import FFMPEG, astronaut

    out = folder / "astronaut_moving.y4m"
    if out.exists():
        return out
    frames = folder / "moving"
    frames.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(astronaut())
    for i in range(CLIP_FRAMES):
        dx, dy, a = clip_pose(i)
        c, s = math.cos(a), math.sin(a)
        # PIL wants output -> input: p = R(-a) (q - PLACE - d) + FACE_CENTRE.
        ox, oy = PLACE[0] + dx, PLACE[1] + dy
        coeffs = (c, s, FACE_CENTRE[0] - c * ox - s * oy,
                  -s, c, FACE_CENTRE[1] + s * ox - c * oy)
        frame = img.transform(CLIP_SIZE, Image.AFFINE, coeffs, resample=Image.BILINEAR, fillcolor=(128, 128, 128))
        frame.save(frames / f"f{i:03d}.png")
    subprocess.run([FFMPEG, "-loglevel", "error", "-y", "-framerate", str(CLIP_FPS), "-i", str(frames / "f%03d.png"),
                    "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def inside(point, polygon) -> bool:
    """Ray casting (even-odd) point-in-polygon."""
    x, y = point
    poly = np.asarray(polygon, dtype=float)
    hit = False
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0)):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def unmirror(points, data: dict) -> np.ndarray:
    p = np.asarray(points, dtype=float).reshape(-1, 2).copy()
    if data["mirrored"]:
        p[:, 0] = data["frame_width"] - p[:, 0]
    return p


def parts_data(app) -> dict:
    text = app.page.evaluate("() => document.getElementById('overlay').dataset.parts || ''")
    return json.loads(text) if text else {}


def one_face(app) -> dict | None:
    d = parts_data(app)
    faces = d.get("faces") or []
    return d if len(faces) == 1 and faces[0].get("parts") and faces[0].get("key_points") else None


def tensors_between_frames(app) -> int:
    return int(app.diagnostics()["tensorsBetweenFrames"])


def test_astronaut_face_parts_over_the_key_points(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query=PARTS_QUERY) as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        d = app.wait_for(one_face, 90, "one face with parts and key points in #overlay[data-parts]")
        assert app.data().get("mesh") == "on"
        # Emotion and mood keep working on the mesh-tracked face (the detector mostly off).
        app.wait_for(lambda s: s.data().get("mood") == "happy", 90, "mood 'happy' in face-parts mode")
        d = app.wait_for(one_face, 10, "parts")
        face = d["faces"][0]
        parts = {p["name"]: p for p in face["parts"]}
        kp = {k["name"]: (k["x"], k["y"]) for k in face["key_points"]}
        assert set(parts) == {"face_oval", "lips", "left_eye", "right_eye", "left_eyebrow", "right_eyebrow", "nose"}
        assert all(p["fill_rule"] == "evenodd" and p["color"].startswith("#") for p in parts.values())
        lips = parts["lips"]
        assert len(lips["loops"]) == 2                      # outer lip line + inner (the mouth cut out)
        outer = max(lips["loops"], key=lambda loop: np.ptp(np.asarray(loop)[:, 0]))
        # The lips region lies inside the face box (display pixels, the same space as data-parts) ...
        (view_face,) = app.faces()
        x0, y0, x1, y1 = view_face["box"]
        o = np.asarray(outer)
        assert (o[:, 0] >= x0).all() and (o[:, 0] <= x1).all() and (o[:, 1] >= y0).all() and (o[:, 1] <= y1).all()
        # ... and inside MediaPipe's own BlazeFace box (source pixels): an independent face box.
        src = unmirror(outer, d)
        rx0, ry0, rx1, ry1 = ASTRONAUT_REFERENCE_BOX
        assert (src[:, 0] > rx0).all() and (src[:, 0] < rx1).all() and (src[:, 1] > ry0).all() \
            and (src[:, 1] < ry1).all(), (src.min(0), src.max(0))
        # The lips region is over the mouth key point (and the mouth corners are its ends).
        assert inside(kp["mouth"], outer), (kp["mouth"], outer)
        for corner in ("mouth_left", "mouth_right"):
            assert min(math.dist(kp[corner], p) for p in outer) < 3.0
        # Each eye region is over the mesh's own eye key point (not the other eye's).
        for eye, other in (("left_eye", "right_eye"), ("right_eye", "left_eye")):
            (loop,) = parts[eye]["loops"]
            assert inside(kp[eye], loop), (eye, kp[eye], loop)
            assert not inside(kp[other], loop)
        # Subject's right eye is on the image's left in the unmirrored frame.
        assert unmirror([kp["right_eye"]], d)[0, 0] < unmirror([kp["left_eye"]], d)[0, 0]
        # Nose tip between the eyes and above the mouth; eyebrows above the eyes.
        assert kp["right_eye"][1] < kp["nose_tip"][1] < kp["mouth"][1] < kp["chin"][1]
        for side in ("left", "right"):
            brow = np.asarray(parts[f"{side}_eyebrow"]["loops"][0])
            assert brow[:, 1].mean() < np.asarray(parts[f"{side}_eye"]["loops"][0])[:, 1].mean()
        # The key points match the recorded ones (a regression guard, 6 px).
        for name, ref in ASTRONAUT_KEY_POINTS.items():
            assert math.dist(unmirror([kp[name]], d)[0], ref) < 6.0, (name, kp[name], ref)
        # Legend: one item per part with its colour and name, in drawing order; shown.
        legend = app.page.evaluate("""() => { const box = document.getElementById('parts-legend');
            return {hidden: box.hidden, items: [...document.querySelectorAll('#parts-legend-list li')].map(li => ({
              part: li.dataset.part, text: li.textContent.trim(),
              colour: getComputedStyle(li.querySelector('.part-swatch')).backgroundColor}))}; }""")
        assert not legend["hidden"]
        assert [i["part"] for i in legend["items"]] == [p["name"] for p in face["parts"]]
        assert [i["text"] for i in legend["items"]] == [p["label"] for p in face["parts"]]
        assert len({i["colour"] for i in legend["items"]}) == len(legend["items"])   # distinct colours
        # HUD: mesh ms and the detector-run share.
        app.wait_for(lambda s: s.text("hud-mesh") not in ("", "–"), 20, "the mesh ms in the HUD")
        assert "%" in app.text("hud-detector-share")
        # The overlay really has the lips' colour over the mouth (drawn, not only described).
        mx, my = kp["mouth_left"]
        # (The overlay is drawn by the engine: in the worker it is the transferred OffscreenCanvas.)
        pixel = app.engine_eval("""([x, y]) => Array.from(moodcam.canvases.overlay.getContext('2d')
            .getImageData(Math.round(x), Math.round(y), 1, 1).data)""", [mx, my])
        assert pixel[3] > 0, pixel
        # Tensors stay flat across frames in face-parts mode.
        counts = []
        for _ in range(3):
            app.wait_frames(int(app.data()["frames"]) + 3, timeout=60)
            counts.append(tensors_between_frames(app))
        assert len(set(counts)) == 1, counts
        perf = json.loads(app.data().get("perf") or "{}")
        d = parts_data(app)
        print(f"\nface parts (astronaut): detector share {d['detector_fraction']:.3f} of {d['frames']} frames; "
              f"perf {perf}; tensors {counts}")
        app.screenshot("face-parts-astronaut-1366x768")
        # Both views can be switched off: the overlay data empties, the legend hides.
        app.page.click("#show-parts")
        app.page.click("#show-mesh-points")
        app.wait_for(lambda s: s.data().get("mesh") == "off", 10, "face-parts mode off")
        app.wait_frames(int(app.data()["frames"]) + 2, timeout=60)
        assert parts_data(app).get("faces", []) == []
        assert app.page.evaluate("() => document.getElementById('parts-legend').hidden")
        stored = json.loads(app.page.evaluate("() => localStorage.getItem('moodcam.settings.v1')"))
        assert stored["show_parts"] is False and stored["show_mesh_points"] is False
        assert len(app.faces()) == 1                      # the plain detector path carries on
        app.assert_network_clean()


def test_views_toggle_from_the_controls_and_persist(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm") as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        assert app.data().get("mesh") == "off"
        assert parts_data(app).get("faces", []) == []
        app.page.click("#show-parts")                      # face parts only, no mesh key points
        d = app.wait_for(lambda s: (x := parts_data(s)).get("faces") and x, 60, "parts after ticking the box")
        assert "parts" in d["faces"][0] and "key_points" not in d["faces"][0]
        assert not app.page.evaluate("() => document.getElementById('parts-legend').hidden")
        stored = json.loads(app.page.evaluate("() => localStorage.getItem('moodcam.settings.v1')"))
        assert stored["show_parts"] is True and stored["show_mesh_points"] is False
        # A reload keeps the view (localStorage), without URL parameters.
        app.page.reload()
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        assert app.page.evaluate("() => document.getElementById('show-parts').checked")
        assert not app.page.evaluate("() => document.getElementById('show-mesh-points').checked")
        app.wait_for(lambda s: (x := parts_data(s)).get("faces") and x, 60, "parts after the reload")
        app.assert_network_clean()


def test_moving_clip_tracks_with_the_detector_mostly_off(server, tmp_path_factory):
    clip = moving_clip(tmp_path_factory.mktemp("moving"))
    names = list(ASTRONAUT_KEY_POINTS)
    ref = np.array([ASTRONAUT_KEY_POINTS[n] for n in names])
    poses = np.stack([clip_map(ref, i) for i in range(CLIP_FRAMES)])          # (frames, points, 2)
    with open_app(server, camera=clip, query=PARTS_QUERY) as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        app.wait_for(one_face, 90, "a tracked face")
        samples, seen = [], set()
        end = time.monotonic() + 40
        while time.monotonic() < end and len(samples) < 60:
            d = parts_data(app)
            if d.get("frame", -1) not in seen:
                seen.add(d.get("frame", -1))
                samples.append(d)
            time.sleep(0.15)
        final = parts_data(app)
        with_face = [s for s in samples if len(s.get("faces") or []) == 1]
        errors, matched = [], []
        for s in with_face:
            kp = {k["name"]: (k["x"], k["y"]) for k in s["faces"][0]["key_points"]}
            got = unmirror([kp[n] for n in names], s)
            err = np.linalg.norm(poses - got[None], axis=2)             # (frames, points)
            best = int(np.argmin(err.mean(axis=1)))
            errors.append(float(err[best].max()))
            matched.append(best)
        xs = [clip_map(np.array([FACE_CENTRE]), i)[0, 0] for i in matched]
        report = {"samples": len(samples), "with_face": len(with_face),
                  "detector_fraction": final["detector_fraction"], "frames": final["frames"],
                  "detector_runs": final["detector_runs"], "max_err_px_median": round(float(np.median(errors)), 1),
                  "max_err_px_worst": round(max(errors), 1), "pan_covered_px": round(max(xs) - min(xs), 1),
                  "perf": json.loads(app.data().get("perf") or "{}")}
        print("\nface parts (moving clip):", json.dumps(report))
        app.screenshot("face-parts-moving-clip")
        assert len(samples) >= 15, report
        # Landmarks stay on the face: one face on (almost) every sampled frame, and each
        # sample's key points are the reference key points moved by one of the clip's poses.
        assert len(with_face) >= 0.9 * len(samples), report
        assert np.median(errors) <= 6.0 and np.percentile(errors, 90) <= 12.0, (report, errors)
        # ... over a real part of the motion, not one pose.
        assert max(xs) - min(xs) >= PAN_X, report
        # The detector ran on a small fraction of frames.
        assert final["frames"] >= 15 and final["detector_fraction"] <= 0.25, report
        app.assert_network_clean()
