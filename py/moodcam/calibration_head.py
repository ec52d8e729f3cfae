"""A small head on the emotion net's features: normalisation, two fits, probabilities.

The head sees one face's penultimate features (the emotion graph's `features` output, (D,) per
face, D = 128 for fer's mini-Xception) and scores the moods a person taught:

    z = (x - mean) / scale                   # (N, D) standardised with the taught frames' statistics
    u = z / |z| * sqrt(D)                    # (N, D) on a sphere (measured better than without: docs/teach.md)
    p = softmax(u @ weights + bias)          # (N, K) over the taught labels

Both fits produce that same form, so one file format and one `predict_proba` serve both:
  * "logistic": multinomial logistic regression, L2 penalty, Nesterov's accelerated gradient with
    the step from the loss's curvature bound (a fixed number of steps: no line search, no SciPy,
    the same arithmetic in CPython and Pyodide);
  * "nearest_mean": cosine similarity to each taught mood's mean of u, times a temperature fitted
    on the taught frames (1-D grid).
Pure numpy; nothing here reads a clock.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CalibrationHead", "METHODS", "fit_head", "standardiser", "unbounded_output", "FEATURE_LIMIT"]

METHODS = ("logistic", "nearest_mean")
L2_PENALTY = 1e-3          # logistic: weight decay on the weights (not the bias); best of 1e-3..1e-1 (docs/teach.md)
LOGISTIC_STEPS = 30        # accelerated gradient steps: 120 gave the same held-out accuracy (docs/teach.md)
TEMPERATURES = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])   # nearest_mean: candidate softmax sharpness
_SCALE_FLOOR = 1e-3        # a feature that never moved is scaled by this share of the typical spread
# The net's features come out of a float32 tensor: a finite one is at most float32's largest value.
FEATURE_LIMIT = float(np.finfo(np.float32).max)
# What unbounded_output lets the standardised features and the scores reach. Far above any fit (its
# scores stay under a few hundred) and 1e8 times below float64's largest value (1.8e308), so no rounding
# of a sum of D terms can carry a value under it to infinity.
_SAFE_LIMIT = 1e300


@dataclass(frozen=True, eq=False)
class CalibrationHead:
    """A fitted head. Arrays are read-only float64.

    labels: the taught moods, a subset of the emotion net's labels, in the net's order.
    method: how it was fitted ("logistic" or "nearest_mean"); both predict the same way.
    mean, scale: (D,) standardisation; weights: (D, K); bias: (K,), K = len(labels).
    """

    labels: tuple[str, ...]
    method: str
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        for name in ("mean", "scale", "weights", "bias"):
            array = np.array(getattr(self, name), dtype=np.float64)
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        d, k = self.mean.shape[0], len(self.labels)
        if self.mean.shape != (d,) or self.scale.shape != (d,) or self.weights.shape != (d, k) \
                or self.bias.shape != (k,):
            raise ValueError(f"head shapes mean {self.mean.shape}, scale {self.scale.shape}, weights "
                             f"{self.weights.shape}, bias {self.bias.shape} do not fit D={d}, K={k}")

    @property
    def feature_size(self) -> int:
        return int(self.mean.shape[0])

    def normalise(self, features: np.ndarray) -> np.ndarray:
        """(N, D) raw features -> (N, D) standardised and projected on the sphere of radius sqrt(D)."""
        return project(np.asarray(features, dtype=np.float64), self.mean, self.scale)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(N, D) -> (N, K) probabilities over ``labels`` (a (D,) row gives (K,))."""
        x = np.asarray(features, dtype=np.float64)
        single = x.ndim == 1
        x = x[None] if single else x
        if x.ndim != 2 or x.shape[1] != self.feature_size:
            raise ValueError(f"features of shape {np.shape(features)}, expected (N, {self.feature_size})")
        p = softmax(self.normalise(x) @ self.weights + self.bias)    # (N, K)
        return p[0] if single else p


def unbounded_output(head: CalibrationHead) -> str | None:
    """What lets this head's output be NaN or infinite for some features the net can give, or None.

    None proves that predict_proba is finite for every finite feature vector with |x_d| <=
    FEATURE_LIMIT (the net's whole range), by bounding each step of the formula (module docstring):
      1. |z_d| = |x_d - mean_d| / scale_d <= (FEATURE_LIMIT + |mean_d|) / scale_d, checked <= 1e300:
         z is finite (a tiny scale, 1e-320 say, fails here);
      2. u = z * sqrt(D) / max(|z|, 1e-12): |z| is finite (then |u_d| <= sqrt(D)) or, when the
         squares overflow, +inf (then u = z * 0 = 0); never NaN, as every square is >= 0;
      3. |score_k| <= sqrt(D) * sum_d |weights_dk| + |bias_k|, checked <= 1e300: scores are finite
         (weights of 1e308 fail here);
      4. softmax subtracts the largest score: every exponent is <= 0 and one is 0, so the sum lies
         in [1, K] and every probability in [0, 1].
    Checking bounds proves it for all features at once, which a probe set of features cannot.
    Each bound is computed in float64 from finite numbers: an overflow gives inf, which fails.
    """
    sqrt_d = np.sqrt(head.feature_size)
    with np.errstate(over="ignore", divide="ignore"):
        z_bound = (FEATURE_LIMIT + np.abs(head.mean)) / head.scale                  # (D,)
        score_bound = sqrt_d * np.abs(head.weights).sum(axis=0) + np.abs(head.bias)  # (K,)
    if not (head.scale > 0).all() or not (z_bound <= _SAFE_LIMIT).all():
        worst = int(np.argmax(np.where(np.isnan(z_bound), np.inf, z_bound)))
        return (f"'mean' and 'scale' let the standardised features overflow (feature {worst}: mean "
                f"{head.mean[worst]:.3g}, scale {head.scale[worst]:.3g})")
    if not (score_bound <= _SAFE_LIMIT).all():
        return (f"'weights' and 'bias' are large enough for the scores to overflow (up to "
                f"{float(np.max(score_bound)):.3g}; a fitted head's stay under a few hundred)")
    return None


def standardiser(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) -> mean (D,), scale (D,) of the frames a head is fitted on."""
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    floor = _SCALE_FLOOR * (float(np.median(std)) or 1.0)
    return mean, np.maximum(std, floor)


def project(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    z = (x - mean) / scale                                            # (N, D)
    norm = np.sqrt((z * z).sum(axis=1, keepdims=True))               # (N, 1)
    return z * (np.sqrt(z.shape[1]) / np.maximum(norm, 1e-12))


def softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def fit_head(features: np.ndarray, targets: np.ndarray, labels: tuple[str, ...], method: str) -> CalibrationHead:
    """features (N, D), targets (N,) ints in [0, K) -> a head over ``labels`` (K of them)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (methods: {', '.join(METHODS)})")
    mean, scale = standardiser(features)
    u = project(features, mean, scale)                                # (N, D)
    onehot = np.eye(len(labels))[targets]                             # (N, K)
    fit = _fit_logistic if method == "logistic" else _fit_nearest_mean
    weights, bias = fit(u, onehot)
    return CalibrationHead(labels, method, mean, scale, weights, bias)


def _fit_nearest_mean(u: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centroids = (onehot.T @ u) / onehot.sum(axis=0)[:, None]          # (K, D)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    cosine = (u @ centroids.T) / np.sqrt(u.shape[1])                  # (N, K) in [-1, 1]
    # The temperature that best explains the taught frames (mean log-likelihood).
    loglik = [np.mean(np.log(np.maximum((softmax(t * cosine) * onehot).sum(axis=1), 1e-300)))
              for t in TEMPERATURES]
    t = float(TEMPERATURES[int(np.argmax(loglik))])
    return centroids.T * (t / np.sqrt(u.shape[1])), np.zeros(onehot.shape[1])


def _fit_logistic(u: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, d = u.shape
    a = np.concatenate([u, np.ones((n, 1))], axis=1)                 # (N, D+1): the bias as a column
    # Softmax cross-entropy's Hessian is at most 1/2 * A^T A / N (per class); its top eigenvalue
    # by power iteration gives a safe step 1/L without a line search.
    gram = a.T @ a / n                                                # (D+1, D+1)
    v = np.ones(d + 1)
    for _ in range(30):
        v = gram @ v
        v /= np.linalg.norm(v)
    lipschitz = 0.5 * float(v @ gram @ v) + L2_PENALTY
    step = 1.0 / lipschitz
    decay = np.ones((d + 1, 1))
    decay[-1] = 0.0                                                   # the bias is not penalised
    w = np.zeros((d + 1, onehot.shape[1]))                            # (D+1, K)
    previous, y = w, w
    for k in range(1, LOGISTIC_STEPS + 1):
        gradient = a.T @ (softmax(a @ y) - onehot) / n + L2_PENALTY * decay * y
        w = y - step * gradient
        y = w + (k - 1) / (k + 2) * (w - previous)
        previous = w
    return w[:-1], w[-1]
