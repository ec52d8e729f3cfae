"""A mood log: a small app on moodcam's core, from a face detector's and an emotion net's raw outputs.

It plays a short scripted visit (nobody, a smiling face, a face the net cannot read firmly, a
surprised face, nobody again) through moodcam.pipeline.FrameLogic at 30 frames a second and prints
each change of what a page would show, then how long each answer was shown. The two models are
stand-ins that give the raw outputs a real run would: `detector` the BlazeFace short-range tensors
for a face box, `emotion_net` seven probabilities. In the browser, run the real models there
instead (TF.js, as docs/reuse.md shows); the rest stays as it is.

Runs in CPython (`pip install -e .`, then `python docs/examples/mood_log.py`) and in Pyodide
(micropip-install the moodcam wheel from dist/wheels/, then run this file's text).
"""
from __future__ import annotations

import numpy as np

from moodcam.detection import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.mood import CANT_TELL, EMOTIONS
from moodcam.mood.presentation import PRESENTATIONS, headline
from moodcam.mood.timeline import MoodTimeline
from moodcam.pipeline import FrameLogic, FrameLogicConfig, FramePlan

FRAME_W, FRAME_H, FPS = 640, 480, 30
ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)   # the 896 anchors the short-range detector's outputs refer to

# What the camera sees from each second on: an expression, or None for nobody in view.
SCRIPT = [(0.0, None), (0.5, "smiling"), (3.0, "unsure"), (6.0, "surprised"), (8.5, None)]
END_S = 12.0
# What the emotion net says for each expression; the probability left over is spread over the other moods.
READINGS = {"smiling": {"happy": 0.85}, "unsure": {"neutral": 0.40, "sad": 0.34}, "surprised": {"surprise": 0.90}}


def expression_at(t_s: float) -> str | None:
    return [what for start, what in SCRIPT if start <= t_s][-1]


def face_box_at(t_s: float) -> list[float]:
    """The face in frame pixels (x1, y1, x2, y2), drifting slowly to the right."""
    return [220 + 4 * t_s, 140, 360 + 4 * t_s, 300]


def detector(plan: FramePlan, box: list[float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Stand-in for BlazeFace: raw outputs (regressors, logits) that decode to `box`, or to nothing."""
    if box is None:
        return encode_raw_outputs(ANCHORS, [], np.zeros((0, 4)), np.zeros((0, 6, 2)), np.zeros(0))
    letterbox = plan.detector_letterbox                  # how the frame was drawn into the 128 px input
    norm = letterbox.boxes_to_target(np.array([box])) / np.array(letterbox.target_size * 2)
    ids = anchors_near(ANCHORS, norm, 2)[0]               # a real detector fires on a few neighbouring anchors
    keypoints = np.tile(norm[:, :2], (2, 6, 1))
    return encode_raw_outputs(ANCHORS, ids, np.repeat(norm, 2, axis=0), keypoints, np.array([4.0, 3.0]))


def emotion_net(expression: str) -> np.ndarray:
    """Stand-in for the emotion net: seven probabilities, in moodcam.mood.EMOTIONS order."""
    named = READINGS[expression]
    rest = (1.0 - sum(named.values())) / (len(EMOTIONS) - len(named))
    return np.array([named.get(label, rest) for label in EMOTIONS])


def run() -> list[str]:
    """Play the script; return the log's lines."""
    logic = FrameLogic(FrameLogicConfig())               # the app's defaults: BlazeFace short range, ema voting
    timeline = MoodTimeline()
    lines: list[str] = []
    shown: tuple[str, str | None, str | None] | None = None
    for frame in range(int(END_S * FPS)):
        t_ms = frame * 1000.0 / FPS
        expression = expression_at(t_ms / 1000)
        plan = logic.begin_frame(t_ms, FRAME_W, FRAME_H)
        if plan.run_detector:
            logic.submit_detections(*detector(plan, face_box_at(t_ms / 1000) if expression else None))
        for request in logic.emotion_requests():        # request.box: where to crop the frame for the net
            logic.submit_emotion(request.face_id, emotion_net(expression or "unsure"))
        result = logic.end_frame()
        mood = result.mood                                # what the page shows: state, mood, leading guess
        timeline.add(t_ms, mood.state, mood.mood, len(result.faces), headline(mood))
        answer = (mood.state, mood.mood, mood.leading_label if mood.state == CANT_TELL else None)
        if answer != shown:                               # a new answer (not just a new percentage)
            lines.append(f"{t_ms / 1000:5.2f} s  {headline(mood):<32} faces: {len(result.faces)}")
            shown = answer
    shown_for: dict[str, float] = {}                      # the timeline's keys: a mood, or a state
    for segment in timeline.segments:
        shown_for[segment.key] = shown_for.get(segment.key, 0.0) + segment.end_ms - segment.start_ms
    lines.append("shown for: " + ", ".join(f"{PRESENTATIONS[key].name} {ms / 1000:.1f} s"
                                           for key, ms in shown_for.items()))
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
