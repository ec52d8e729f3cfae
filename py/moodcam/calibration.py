"""Teach it your face: fit a small head on one person's frames, apply it, store it as a file.

    fit = fit_calibration(features, labels, emotion_labels=EMOTIONS, generic_probabilities=probs)
        features (N, D): the emotion graph's `features` output for the tracked face, one row a frame
        labels (N,): the mood the person was showing for each row (taught moods, any subset)
        -> fit.head, fit.cv_accuracy (held-out frames), fit.generic_accuracy, fit.counts
    p = calibrated_probabilities(fit.head, generic, features, EMOTIONS)      # (N, 7) -> (N, 7)
    body = calibration_to_json(name, fit, model_sha256)   /   calibration_from_json(body, ...)

Cross-validation holds out contiguous blocks: frames a few ms apart are near copies of each
other, so random folds would grade the head on frames it has all but seen. Fold i holds the
i-th block of every mood's frames, in the order they were collected.

The rule for using a head (`calibrated_probabilities`): the head's probabilities *replace* the
generic net's: the taught moods get the head's split, untaught moods get 0. Measured on real
photos (docs/teach.md, "How the fit was chosen"): the net's mistakes on a face it is
unsure of go to a mood that was not taught (neutral faces read as sad: 78 % top-1 over seven
labels, 99 % between the two taught moods), so a rule that leaves the net its untaught share keeps
those mistakes (81 %), while replace reaches the head's own 99.7 %. A 50/50 blend scored as well on
taught frames but halves every margin the head earns, and its one gain, showing an untaught mood,
rests on the net's reading of the very faces it misreads. To have a mood read, teach it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NoReturn, Sequence

import numpy as np

from .calibration_head import METHODS, CalibrationHead, fit_head

__all__ = ["CalibrationFormatError", "CalibrationHead", "CalibrationFit", "fit_calibration",
           "calibrated_probabilities", "calibration_to_json", "calibration_from_json", "FORMAT", "VERSION",
           "DEFAULT_METHOD", "MIN_FRAMES_PER_MOOD", "METHODS", "cross_validated_accuracy"]

FORMAT = "moodcam-calibration"
VERSION = 1
DEFAULT_METHOD = "nearest_mean"   # chosen by measurement: docs/teach.md, "How the fit was chosen"
HEAD_WEIGHT = 1.0                 # the head's share against the net's: 1 = replace (measured, see above)
MIN_FRAMES_PER_MOOD = 5         # fewer cannot be split into folds that each hold every mood
FOLDS = 5


class CalibrationFormatError(ValueError):
    """A calibration file that cannot be used; the message names the problem and the fix."""


@dataclass(frozen=True, eq=False)
class CalibrationFit:
    head: CalibrationHead
    cv_accuracy: float             # cross-validated top-1 of the head on the collected frames
    generic_accuracy: float        # the generic net's own top-1 (all 7 labels) on the same frames; nan if not given
    counts: dict[str, int]         # frames per taught mood


def fit_calibration(features: np.ndarray, labels: Sequence[str], *, emotion_labels: Sequence[str],
                    generic_probabilities: np.ndarray | None = None,
                    method: str = DEFAULT_METHOD) -> CalibrationFit:
    """Fit a head on the taught frames; ValueError naming the problem for unusable input."""
    x = np.asarray(features, dtype=np.float64)
    labels = list(labels)
    emotion_labels = tuple(emotion_labels)
    if x.ndim != 2 or x.shape[0] != len(labels):
        raise ValueError(f"features of shape {x.shape} for {len(labels)} labels; expected (N, D) with one "
                         "label per row")
    if not np.isfinite(x).all():
        raise ValueError("features hold NaN or infinite values; drop those frames before fitting")
    unknown = sorted(set(labels) - set(emotion_labels))
    if unknown:
        raise ValueError(f"unknown mood(s) {unknown}; taught moods must be among {list(emotion_labels)}")
    taught = tuple(m for m in emotion_labels if m in set(labels))    # the net's order
    counts = {m: labels.count(m) for m in taught}
    if len(taught) < 2:
        raise ValueError(f"only {list(taught)} taught; teach at least two moods")
    short = {m: c for m, c in counts.items() if c < MIN_FRAMES_PER_MOOD}
    if short:
        raise ValueError(f"too few frames for {short}; show each mood for at least {MIN_FRAMES_PER_MOOD} frames")
    targets = np.array([taught.index(m) for m in labels])
    head = fit_head(x, targets, taught, method)
    return CalibrationFit(head, cross_validated_accuracy(x, targets, taught, method),
                          _generic_accuracy(generic_probabilities, labels, emotion_labels), counts)


def cross_validated_accuracy(x: np.ndarray, targets: np.ndarray, taught: tuple[str, ...], method: str,
                             folds: int = FOLDS) -> float:
    """Top-1 on held-out contiguous blocks (see the module docstring), normalisation refitted per fold."""
    fold_of = np.empty(len(targets), dtype=np.int64)
    for k in range(len(taught)):
        rows = np.flatnonzero(targets == k)                           # this mood's frames, in order
        fold_of[rows] = np.arange(len(rows)) * folds // len(rows)    # folds contiguous blocks
    correct = 0
    for f in range(folds):
        held = fold_of == f
        head = fit_head(x[~held], targets[~held], taught, method)
        correct += int((head.predict_proba(x[held]).argmax(axis=1) == targets[held]).sum())
    return correct / len(targets)


def _generic_accuracy(probabilities, labels: list[str], emotion_labels: tuple[str, ...]) -> float:
    if probabilities is None:
        return math.nan
    p = np.asarray(probabilities, dtype=np.float64)
    if p.shape != (len(labels), len(emotion_labels)):
        raise ValueError(f"generic_probabilities of shape {p.shape}, expected ({len(labels)}, {len(emotion_labels)})")
    truth = np.array([emotion_labels.index(m) for m in labels])
    return float(np.mean(p.argmax(axis=1) == truth))


def calibrated_probabilities(head: CalibrationHead, generic: np.ndarray, features: np.ndarray,
                             emotion_labels: Sequence[str], *, head_weight: float = HEAD_WEIGHT) -> np.ndarray:
    """(N, L) generic probabilities + (N, D) features -> (N, L), rows summing to 1 (1-D rows: 1-D result).

    head_weight x the head's probabilities (on the taught moods, 0 elsewhere) + (1 - head_weight) x the
    generic net's; the default 1.0 replaces the net's output (see the module docstring for why).
    """
    g = np.asarray(generic, dtype=np.float64)
    single = g.ndim == 1
    g2 = g[None] if single else g
    f = np.asarray(features, dtype=np.float64)
    f2 = f[None] if f.ndim == 1 else f
    if g2.ndim != 2 or g2.shape[1] != len(emotion_labels) or f2.shape[0] != g2.shape[0]:
        raise ValueError(f"generic {g.shape} and features {f.shape} do not match {len(emotion_labels)} labels "
                         "and one feature row per probability row")
    if not 0.0 <= head_weight <= 1.0:
        raise ValueError(f"head_weight {head_weight}, expected 0..1")
    index = [list(emotion_labels).index(m) for m in head.labels]
    taught = np.zeros_like(g2)                                        # (N, L)
    taught[:, index] = head.predict_proba(f2)                         # (N, K) into the taught columns
    out = head_weight * taught + (1.0 - head_weight) * g2 / g2.sum(axis=1, keepdims=True)
    return out[0] if single else out


# -- the file ------------------------------------------------------------------------------------------
def calibration_to_json(name: str, fit: CalibrationFit, model_sha256: str) -> dict:
    """The export file's body (plain JSON types), bound to the emotion model it was fitted on."""
    h = fit.head
    return {"format": FORMAT, "version": VERSION, "name": name,
            "model": {"sha256": model_sha256, "feature_size": h.feature_size},
            "labels": list(h.labels), "method": h.method,
            "mean": h.mean.tolist(), "scale": h.scale.tolist(), "weights": h.weights.tolist(),
            "bias": h.bias.tolist(),
            "cv_accuracy": fit.cv_accuracy,
            "generic_accuracy": None if math.isnan(fit.generic_accuracy) else fit.generic_accuracy,
            "counts": dict(fit.counts)}


def calibration_from_json(data: object, *, model_sha256: str, feature_size: int,
                          emotion_labels: Sequence[str] | None = None) -> tuple[str, CalibrationFit]:
    """Check a file body and rebuild (name, fit); CalibrationFormatError says what is wrong and what to do."""
    from .mood.labels import EMOTIONS
    known = tuple(emotion_labels) if emotion_labels is not None else EMOTIONS

    def fail(problem: str, fix: str = "export the calibration again from moodcam, or teach it anew") -> NoReturn:
        raise CalibrationFormatError(f"not a usable calibration file: {problem}; {fix}")

    if not isinstance(data, dict):
        fail(f"expected a JSON object, found {type(data).__name__}", "choose a file exported by moodcam")
    if data.get("format") != FORMAT:
        fail(f"format {data.get('format')!r}, expected {FORMAT!r} (not a moodcam calibration)",
             "choose a file exported by moodcam's teach mode")
    if data.get("version") != VERSION:
        fail(f"version {data.get('version')!r}, this moodcam reads version {VERSION}",
             "use the moodcam that exported it, or teach it anew")
    model = data.get("model")
    if not isinstance(model, dict) or model.get("sha256") != model_sha256:
        found = model.get("sha256") if isinstance(model, dict) else model
        fail(f"made for another emotion model (sha256 {found!r}, this page's is {model_sha256!r})",
             "teach it anew with this version of the page")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        fail(f"name {name!r} is not a non-empty text")
    labels = data.get("labels")
    if not isinstance(labels, list) or not all(isinstance(m, str) for m in labels) or len(labels) < 2 \
            or len(set(labels)) != len(labels):
        fail(f"labels {labels!r}: expected a list of at least two different moods")
    unknown = [m for m in labels if m not in known]
    if unknown:
        fail(f"unknown mood(s) {unknown} (moods: {', '.join(known)})")
    if data.get("method") not in METHODS:
        fail(f"method {data.get('method')!r}, expected one of {list(METHODS)}")
    k = len(labels)
    arrays = {}
    for key, shape in (("mean", (feature_size,)), ("scale", (feature_size,)), ("weights", (feature_size, k)),
                       ("bias", (k,))):
        try:
            array = np.array(data.get(key), dtype=np.float64)
        except (TypeError, ValueError):
            fail(f"{key!r} is not a list of numbers")
        if array.shape != shape:
            fail(f"{key!r} has shape {array.shape}, expected {shape} ({feature_size} features, {k} moods)")
        if not np.isfinite(array).all():
            fail(f"{key!r} holds NaN or infinite values")
        arrays[key] = array
    if not (arrays["scale"] > 0).all():
        fail("'scale' holds values <= 0")
    accuracies = []
    for key in ("cv_accuracy", "generic_accuracy"):
        value = data.get(key)
        if value is None and key == "generic_accuracy":
            accuracies.append(math.nan)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            fail(f"{key!r} is {value!r}, expected a number from 0 to 1")
        accuracies.append(float(value))
    counts = data.get("counts")
    if not isinstance(counts, dict) or set(counts) != set(labels) \
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts.values()):
        fail(f"counts {counts!r}: expected a frame count for each of {labels}")
    # Stored in the net's order (as fit_calibration makes them): keeps every head's columns comparable.
    if [m for m in known if m in labels] != labels:
        fail(f"labels {labels} are not in the emotion net's order {list(known)}")
    head = CalibrationHead(tuple(labels), str(data["method"]), arrays["mean"], arrays["scale"], arrays["weights"],
                           arrays["bias"])
    return name.strip(), CalibrationFit(head, accuracies[0], accuracies[1], {m: counts[m] for m in labels})
