"""Drawing the custom-detector mode: each box with its class and score, the list of objects.

DOM (besides browser.ui's contract):
- <html data-mode>: "custom"; <html data-model>: the custom model's name
- #overlay[data-detections]: JSON [{label, score, box: [x0,y0,x1,y1] as drawn (mirrored with the
  picture), source_box: the same in source pixels}]
- #detecting: what the page detects; #detection-list: one <li> per object ("circle 97%")
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..mood.presentation import OKABE_ITO
from .custom_mode import CustomResult, Detection
from .perf import PerfMeter
from .render import Overlay, shown_boxes
from .runner import FrameJob
from .ui import Ui

# Okabe-Ito colours for the classes, in label order (black is the under-stroke).
CLASS_COLOURS = ("orange", "sky_blue", "bluish_green", "yellow", "blue", "vermillion", "reddish_purple")


def caption(d: Detection) -> str:
    return f"{d.label} {round(100 * d.score)}%"


class DetectionRenderer:
    def __init__(self, overlay: Overlay, ui: Ui, labels: tuple[str, ...], *, show_boxes: bool = True) -> None:
        self.overlay = overlay
        self.ui = ui
        self.labels = labels
        self.show_boxes = show_boxes
        self.show_keypoints = False

    def colour(self, label: str) -> str:
        i = self.labels.index(label) if label in self.labels else 0
        return OKABE_ITO[CLASS_COLOURS[i % len(CLASS_COLOURS)]]

    def introduce(self, name: str, summary: str) -> None:
        """Say on the page what it detects now (the mood parts are hidden by CSS in this mode)."""
        self.ui.data("mode", "custom")
        self.ui.data("model", name)
        self.ui.text("detecting-title", f"Detecting: {', '.join(self.labels)}")
        self.ui.text("detecting-note", f"Custom detector “{name}”" + (f" ({summary})" if summary else "")
                     + ". Mood reading is off in this mode; choose “faces” under Detect to turn it back on.")
        self.ui.hidden("detecting", False)

    def show(self, job: FrameJob) -> None:
        result: CustomResult = job.result
        size, mirrored = (job.frame.width, job.frame.height), job.frame.mirrored
        line = self.overlay.begin(*size)
        source = np.array([d.box for d in result.detections], dtype=float).reshape(-1, 4)
        drawn = shown_boxes(source, size[0], mirrored)
        if self.show_boxes:
            for d, box in zip(result.detections, drawn):
                self.overlay.box(box, self.colour(d.label), line)
                self.overlay.tag(caption(d), float(box[0]), float(box[1]), line)
        rows: list[dict[str, Any]]
        rows = [{"label": d.label, "score": round(d.score, 3), "box": [round(float(v), 1) for v in b],
                 "source_box": [round(float(v), 1) for v in sb]}
                for d, b, sb in zip(result.detections, drawn, source)]
        self.ui.el_data("overlay", "detections", json.dumps(rows))
        self.ui.text("detection-count", str(len(rows)))
        order = sorted(range(len(rows)), key=lambda i: (rows[i]["box"][0], rows[i]["box"][1]))
        self.ui.items("detection-list", [caption(result.detections[i]) for i in order])

    def clear(self) -> None:
        self.overlay.clear()
        self.ui.el_data("overlay", "detections", "[]")

    def hud(self, job: FrameJob, perf: PerfMeter, backend: str, force: bool = False) -> None:
        self.ui.text("hud-fps", f"{perf.fps:.1f}")
        self.ui.text("hud-backend", backend)
        self.ui.text("hud-detector", f"{perf.averages['detector_ms']:.1f}")
