"""Every failure the page can meet, as data: what happened, how to go on.

Pure Python (no JS) so the wording and the mapping from browser error names
are testable without a browser. The page shows `message` and `fix`, and
offers `action` as a button (its meaning is decided by the app).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    code: str                # stable id, exposed as #error[data-error-code] for tests
    message: str             # what happened, in plain words
    fix: str                 # what the person can do about it
    action: str | None = None  # button label; None when only a reload helps
    fatal: bool = False      # True when nothing else on the page can work


def insecure_context() -> Failure:
    return Failure(
        "insecure-context",
        "The camera is only available on a secure page.",
        "Open moodcam over https, or on this computer at http://localhost. "
        "You can still analyse a photo below.",
        action="Analyse a photo",
    )


def no_camera_api() -> Failure:
    return Failure(
        "no-camera",
        "This browser offers no camera access.",
        "Use a current Chrome, Edge, Firefox or Safari, or analyse a photo instead.",
        action="Analyse a photo",
    )


# DOMException names from getUserMedia (the Media Capture and Streams spec, getUserMedia errors)
def camera_error(name: str, detail: str = "") -> Failure:
    """Map a getUserMedia error name to what the person should do."""
    if name in ("NotAllowedError", "PermissionDeniedError", "SecurityError"):
        return Failure(
            "permission-denied",
            "Camera permission was denied.",
            "Allow the camera for this site: click the camera or lock icon next to the address "
            "(on a phone: the site settings in the browser menu), choose Allow, then try again. "
            "Or analyse a photo instead.",
            action="Try the camera again",
        )
    if name in ("NotFoundError", "DevicesNotFoundError", "OverconstrainedError"):
        return Failure(
            "no-camera",
            "No camera was found.",
            "Plug in or enable a camera and try again, or analyse a photo instead.",
            action="Try the camera again",
        )
    if name in ("NotReadableError", "TrackStartError", "AbortError"):
        return Failure(
            "camera-busy",
            "The camera is in use by another app or could not be started.",
            "Close other apps or tabs using the camera, then try again.",
            action="Try the camera again",
        )
    return Failure(
        "camera-error",
        f"The camera could not be started ({name or 'unknown error'}{': ' + detail if detail else ''}).",
        "Try again, or analyse a photo instead.",
        action="Try the camera again",
    )


def camera_ended() -> Failure:
    return Failure(
        "camera-ended",
        "The camera stopped (it was unplugged, or another app took it).",
        "Reconnect the camera, then restart it.",
        action="Restart the camera",
    )


def model_missing(path: str, status: int | str) -> Failure:
    return Failure(
        "model-missing",
        f"A model file is missing: {path} (HTTP {status}).",
        "The site was deployed incompletely. Rebuild it (python3 build.py site) and redeploy, then reload.",
        action="Reload the page",
        fatal=True,
    )


def model_checksum(path: str, expected: str, actual: str) -> Failure:
    return Failure(
        "model-checksum",
        f"A model file failed its checksum: {path} (expected sha256 {expected[:12]}…, got {actual[:12]}…).",
        "The file is damaged or out of date. Rebuild the site (python3 build.py site) and redeploy, then reload.",
        action="Reload the page",
        fatal=True,
    )


def manifest_problem(detail: str) -> Failure:
    return Failure(
        "model-manifest",
        f"The model list (models/manifest.json) could not be used: {detail}.",
        "Rebuild the site (python3 build.py site) and redeploy, then reload.",
        action="Reload the page",
        fatal=True,
    )


def model_load(name: str, detail: str) -> Failure:
    return Failure(
        "model-load",
        f"The {name} model could not be loaded into TensorFlow.js: {detail}.",
        "Reload the page; if it keeps failing, rebuild and redeploy the site.",
        action="Reload the page",
        fatal=True,
    )


def unknown_model(name: str, available: list[str]) -> Failure:
    """?model=<name> (or a stored choice) that models/manifest.json does not list."""
    return Failure(
        "model-unknown",
        f"There is no model named “{name}” in models/manifest.json.",
        f"Available: {', '.join(available)}. Choose one under Detect, or open the page with ?model=<name> "
        "(a custom detector is installed with python3 build.py train-detector --install-into models).",
        action="Detect faces instead",
    )


def not_a_detector(name: str, task: str, available: list[str]) -> Failure:
    return Failure(
        "model-unknown",
        f"The model “{name}” is not an object detector (its task is {task}).",
        f"Available detectors: {', '.join(available)}. Choose one under Detect.",
        action="Detect faces instead",
    )


def backend_unavailable(detail: str) -> Failure:
    return Failure(
        "backend",
        f"No TensorFlow.js backend could start: {detail}.",
        "Reload the page, or try another browser.",
        action="Reload the page",
        fatal=True,
    )


def photo_unreadable(name: str) -> Failure:
    return Failure(
        "photo",
        f"The photo {name!r} could not be read as an image.",
        "Pick a JPEG, PNG or WebP photo.",
    )


def unexpected(detail: str) -> Failure:
    return Failure(
        "unexpected",
        "Something went wrong while reading the picture.",
        f"Restart the camera; if it happens again, reload the page. ({detail[:200]})",
        action="Restart the camera",
    )


# Notes (not failures): the page still works, the person should know why it is slower.
def webgl_fallback_note(reason: str) -> str:
    return f"WebGL is not usable here ({reason}), so moodcam runs on the wasm backend (CPU). It works, a little slower."


def context_lost_note() -> str:
    return "The graphics context was lost; moodcam recovered on the wasm backend (CPU)."
