"""Real-photo features for the calibration head: the data behind docs/teach.md "How the fit was
chosen", shared by tests/parity/test_calibration_photos.py and tests/parity/measure_calibration.py.

Photos (as tests/parity/measure_voting.py, which states each one's source and licence): scikit-image
astronaut() (smiling) and camera() (neutral), matplotlib's grace_hopper.jpg (neutral, faint smile; when
.venv-mediapipe has matplotlib), and seven faces of scikit-image lfw_subset() (three smiling, four neutral).
Each becomes a "teaching" clip as teach mode would collect it: FRAMES frames of the app's own face crop with
camera-like jitter (measure_voting.jittered_crops: slow walks of position, size and brightness, sensor
noise), run through the original Keras model (fer's mini-Xception, the source of the shipped graph) for both
its probabilities and the `features` the shipped graph outputs (GAP of layer add_4, as
moodcam_tools.convert.keras_h5.with_features builds it).
"""
from __future__ import annotations

import numpy as np

FRAMES = 60          # per photo: 2 s at 30 frames/s, as teach mode's ~3 s with some frames skipped


def teaching_clips(frames: int = FRAMES, seed: int = 0) -> dict[str, dict]:
    """photo name -> {"label": mood, "features": (frames, 128), "probabilities": (frames, 7)}."""
    from moodcam_tools.convert.keras_h5 import with_features
    from moodcam_tools.convert.specs import EMOTION
    from tests.parity.measure_voting import NAMED, emotion_model, jittered_crops, photos

    both = with_features(emotion_model(), EMOTION.features_layer, probabilities="probabilities",
                         features="features")
    clips = {}
    for name, (image, box) in photos().items():
        rng = np.random.default_rng([20261215, seed, sum(map(ord, name))])
        crops = jittered_crops(image, box, frames, rng)                             # (frames, 64, 64)
        x = ((crops / 255.0 - 0.5) * 2.0)[..., None].astype(np.float32)            # (frames, 64, 64, 1)
        out = both.predict(x, batch_size=100, verbose=0)
        clips[name] = {"label": NAMED[name], "features": np.asarray(out["features"], np.float64),
                       "probabilities": np.asarray(out["probabilities"], np.float64)}
    return clips


def pooled(clips: dict[str, dict]) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """Frames of every clip, grouped by mood (teach mode collects one mood, then the next):
    features (N, 128), labels (N,), generic probabilities (N, 7), photo name per frame (N,)."""
    order = sorted(clips, key=lambda n: (clips[n]["label"], n))
    features = np.concatenate([clips[n]["features"] for n in order])
    probabilities = np.concatenate([clips[n]["probabilities"] for n in order])
    labels = [clips[n]["label"] for n in order for _ in range(len(clips[n]["features"]))]
    names = [n for n in order for _ in range(len(clips[n]["features"]))]
    return features, labels, probabilities, names
