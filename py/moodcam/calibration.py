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

import json
import math
import re
import reprlib
from dataclasses import dataclass
from typing import NoReturn, Sequence

import numpy as np

from .calibration_head import METHODS, CalibrationHead, fit_head, unbounded_output

__all__ = ["CalibrationFormatError", "CalibrationHead", "CalibrationFit", "fit_calibration",
           "calibrated_probabilities", "calibration_to_json", "calibration_from_json", "calibration_from_text",
           "FORMAT", "VERSION",
           "DEFAULT_METHOD", "MIN_FRAMES_PER_MOOD", "METHODS", "cross_validated_accuracy"]

FORMAT = "moodcam-calibration"
VERSION = 1
DEFAULT_METHOD = "nearest_mean"   # chosen by measurement: docs/teach.md, "How the fit was chosen"
HEAD_WEIGHT = 1.0                 # the head's share against the net's: 1 = replace (measured, see above)
MIN_FRAMES_PER_MOOD = 5         # fewer cannot be split into folds that each hold every mood
FOLDS = 5
# A calibration file nests three deep (the object, "weights", its rows). Deeper files are refused before
# json.loads, whose recursion a file nested 200,000 deep would exhaust (RecursionError in CPython; in
# Pyodide it could overflow the wasm stack first).
MAX_FILE_DEPTH = 8
SHOWN_CHARS = 60                # a value quoted in a refusal: enough to recognise, never a whole file
_REPR = reprlib.Repr()                       # (keyword arguments only from Python 3.12)
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 3, 4, 4
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = SHOWN_CHARS


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
    if head_weight == 1.0:
        out = taught                  # the net's share is 0: its output (all zeros, even) cannot spoil the head's
    else:
        total = g2.sum(axis=1, keepdims=True)
        out = head_weight * taught + (1.0 - head_weight) * g2 / np.where(total > 0, total, 1.0)
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
        fail(f"format {_shown(data.get('format'))}, expected {FORMAT!r} (not a moodcam calibration)",
             "choose a file exported by moodcam's teach mode")
    if data.get("version") != VERSION:
        fail(f"version {_shown(data.get('version'))}, this moodcam reads version {VERSION}",
             "use the moodcam that exported it, or teach it anew")
    model = data.get("model")
    if not isinstance(model, dict) or model.get("sha256") != model_sha256:
        found = model.get("sha256") if isinstance(model, dict) else model
        fail(f"made for another emotion model (sha256 {_shown(found)}, this page's is {model_sha256!r})",
             "teach it anew with this version of the page")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        fail(f"name {_shown(name)} is not a non-empty text")
    labels = data.get("labels")
    if not isinstance(labels, list) or not all(isinstance(m, str) for m in labels) or len(labels) < 2 \
            or len(set(labels)) != len(labels):
        fail(f"labels {_shown(labels)}: expected a list of at least two different moods")
    unknown = [m for m in labels if m not in known]
    if unknown:
        fail(f"unknown mood(s) {_shown(unknown)} (moods: {', '.join(known)})")
    if data.get("method") not in METHODS:
        fail(f"method {_shown(data.get('method'))}, expected one of {list(METHODS)}")
    k = len(labels)
    arrays = {}
    for key, shape in (("mean", (feature_size,)), ("scale", (feature_size,)), ("weights", (feature_size, k)),
                       ("bias", (k,))):
        found = _shape_of(data.get(key), len(shape))
        if found is None:
            fail(f"{key!r} is not a list of numbers" if len(shape) == 1 else f"{key!r} is not a list of rows of "
                 "numbers")
        if found != shape:
            fail(f"{key!r} has shape {found}, expected {shape} ({feature_size} features, {k} moods)")
        array = np.array(_floats(data[key]), dtype=np.float64).reshape(shape)
        if not np.isfinite(array).all():
            fail(f"{key!r} holds NaN, infinite or too large values")
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
            fail(f"{key!r} is {_shown(value)}, expected a number from 0 to 1")
        accuracies.append(float(value))
    counts = data.get("counts")
    if not isinstance(counts, dict) or set(counts) != set(labels) \
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts.values()):
        fail(f"counts {_shown(counts)}: expected a frame count for each of {labels}")
    # Stored in the net's order (as fit_calibration makes them): keeps every head's columns comparable.
    if [m for m in known if m in labels] != labels:
        fail(f"labels {_shown(labels)} are not in the emotion net's order {list(known)}")
    head = CalibrationHead(tuple(labels), str(data["method"]), arrays["mean"], arrays["scale"], arrays["weights"],
                           arrays["bias"])
    overflow = unbounded_output(head)        # finite numbers that still make NaN moods: refused, never stored
    if overflow:
        fail(overflow)
    return name.strip(), CalibrationFit(head, accuracies[0], accuracies[1], {m: counts[m] for m in labels})


def calibration_from_text(text: str, *, model_sha256: str, feature_size: int,
                          emotion_labels: Sequence[str] | None = None) -> tuple[str, CalibrationFit]:
    """A file's text -> (name, fit); every problem, not JSON included, is a CalibrationFormatError."""
    def fail(problem: str) -> NoReturn:
        raise CalibrationFormatError(f"not a usable calibration file: {problem}; choose a file exported by "
                                     "moodcam's teach mode")

    depth = json_depth(text)
    if depth > MAX_FILE_DEPTH:
        fail(f"it nests {depth} levels deep, a calibration file only 3")
    try:
        data = json.loads(text)
    except RecursionError:                      # not reached below MAX_FILE_DEPTH; kept as the last word
        fail("it nests too deep")
    except ValueError as error:                 # not JSON, or an integer of more digits than Python reads
        fail(f"it is not JSON ({_cut(str(error))})")
    return calibration_from_json(data, model_sha256=model_sha256, feature_size=feature_size,
                                 emotion_labels=emotion_labels)


# A string, its closing quote optional: the pattern always matches at a quote, so an unterminated
# string costs one scan to the end instead of one per later quote (quadratic on a hostile file).
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_OPEN = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})   # +1 and -1 as int8


def json_depth(text: str) -> int:
    """How deep a JSON text's arrays and objects nest (brackets inside strings do not count), found
    without recursion; malformed text gives some number, and json.loads then says what is wrong."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    steps = np.frombuffer(brackets.translate(_OPEN).encode("latin-1"), dtype=np.int8)
    return int(np.cumsum(steps, dtype=np.int64).max(initial=0))


def _shown(value: object) -> str:
    """A value as quoted in a refusal, cut to SHOWN_CHARS: reprlib looks at a few items of a list and a
    few levels of nesting only, so a 1 MB list is named, not pasted (nor turned into text first)."""
    try:
        return _cut(_REPR.repr(value))
    except ValueError:                          # an int of more digits than Python writes out
        return "a number of more digits than can be shown"


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shape_of(value: object, depth: int) -> tuple[int, ...] | None:
    """The shape of `value` when it is a regular list, `depth` deep, of JSON numbers; None otherwise
    (strings such as "1e5", booleans, ragged rows, nulls: numpy would take some of them)."""
    if depth == 0:
        return () if _is_number(value) else None
    if not isinstance(value, list):
        return None
    shapes = [_shape_of(item, depth - 1) for item in value]
    first = shapes[0] if shapes else (0,) * (depth - 1)
    if first is None or any(shape != first for shape in shapes):
        return None
    return (len(value),) + first


def _floats(value: object) -> object:
    """The same nesting with every number a float; an integer beyond float64 (400 digits, say) becomes inf,
    which the finite check then refuses (float() would raise OverflowError)."""
    if isinstance(value, list):
        return [_floats(item) for item in value]
    try:
        return float(value)                    # type: ignore[arg-type]
    except OverflowError:
        return math.inf if value > 0 else -math.inf    # type: ignore[operator]
