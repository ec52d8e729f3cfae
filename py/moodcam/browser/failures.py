"""Every failure the page can meet, as data: what happened, how to go on.

Pure Python (no JS) so the wording and the mapping from browser error names
are testable without a browser. The page shows `message` and `fix`, and
offers `action` as a button; the button carries the Action's value and the
session (browser.session) carries it out: no label is ever parsed.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Action(str, Enum):
    """What the error button does."""

    RELOAD = "reload"
    PICK_PHOTO = "pick-photo"
    DETECT_FACES = "detect-faces"
    RESTART_CAMERA = "restart-camera"
    RETRY_CAMERA = "retry-camera"


ACTION_LABELS = {
    Action.RELOAD: "Reload the page",
    Action.PICK_PHOTO: "Analyse a photo",
    Action.DETECT_FACES: "Detect faces instead",
    Action.RESTART_CAMERA: "Restart the camera",
    Action.RETRY_CAMERA: "Try the camera again",
}


@dataclass(frozen=True)
class Failure:
    code: str                # stable id, exposed as #error[data-error-code] for tests
    message: str             # what happened, in plain words
    fix: str                 # what the person can do about it
    action: Action | None = None  # the button; None when there is nothing to press
    fatal: bool = False      # True when nothing else on the page can work

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action] if self.action is not None else ""


def insecure_context() -> Failure:
    return Failure(
        "insecure-context",
        "The camera is only available on a secure page.",
        "Open moodcam over https, or on this computer at http://localhost. "
        "You can still analyse a photo below.",
        action=Action.PICK_PHOTO,
    )


def no_camera_api() -> Failure:
    return Failure(
        "no-camera",
        "This browser offers no camera access.",
        "Use a current Chrome, Edge, Firefox or Safari, or analyse a photo instead.",
        action=Action.PICK_PHOTO,
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
            action=Action.RETRY_CAMERA,
        )
    if name in ("NotFoundError", "DevicesNotFoundError", "OverconstrainedError"):
        return Failure(
            "no-camera",
            "No camera was found.",
            "Plug in or enable a camera and try again, or analyse a photo instead.",
            action=Action.RETRY_CAMERA,
        )
    if name in ("NotReadableError", "TrackStartError", "AbortError"):
        return Failure(
            "camera-busy",
            "The camera is in use by another app or could not be started.",
            "Close other apps or tabs using the camera, then try again.",
            action=Action.RETRY_CAMERA,
        )
    return Failure(
        "camera-error",
        f"The camera could not be started ({name or 'unknown error'}{': ' + detail if detail else ''}).",
        "Try again, or analyse a photo instead.",
        action=Action.RETRY_CAMERA,
    )


def camera_ended() -> Failure:
    return Failure(
        "camera-ended",
        "The camera stopped (it was unplugged, or another app took it).",
        "Reconnect the camera, then restart it.",
        action=Action.RESTART_CAMERA,
    )


def model_missing(path: str, status: int | str) -> Failure:
    return Failure(
        "model-missing",
        f"A model file is missing: {path} (HTTP {status}).",
        "The site was deployed incompletely. Rebuild it (python3 build.py site) and redeploy, then reload.",
        action=Action.RELOAD,
        fatal=True,
    )


def model_checksum(path: str, expected: str, actual: str) -> Failure:
    return Failure(
        "model-checksum",
        f"A model file failed its checksum: {path} (expected sha256 {expected[:12]}…, got {actual[:12]}…).",
        "The file is damaged or out of date. Rebuild the site (python3 build.py site) and redeploy, then reload.",
        action=Action.RELOAD,
        fatal=True,
    )


def manifest_problem(detail: str) -> Failure:
    return Failure(
        "model-manifest",
        f"The model list (models/manifest.json) could not be used: {detail}.",
        "Rebuild the site (python3 build.py site) and redeploy, then reload.",
        action=Action.RELOAD,
        fatal=True,
    )


def model_load(name: str, detail: str) -> Failure:
    return Failure(
        "model-load",
        f"The {name} model could not be loaded into TensorFlow.js: {detail}.",
        "Reload the page; if it keeps failing, rebuild and redeploy the site.",
        action=Action.RELOAD,
        fatal=True,
    )


def unknown_model(name: str, available: list[str]) -> Failure:
    """?model=<name> (or a stored choice) that models/manifest.json does not list."""
    return Failure(
        "model-unknown",
        f"There is no model named “{name}” in models/manifest.json.",
        f"Available: {short(', '.join(available), 200)}. Choose one under Detect, or open the page with ?model=<name> "
        "(a custom detector is installed with python3 build.py train-detector --install-into models).",
        action=Action.DETECT_FACES,
    )


def not_a_detector(name: str, task: str, available: list[str]) -> Failure:
    return Failure(
        "model-unknown",
        f"The model “{name}” is not an object detector (its task is {task}).",
        f"Available detectors: {short(', '.join(available), 200)}. Choose one under Detect.",
        action=Action.DETECT_FACES,
    )


def backend_unavailable(detail: str) -> Failure:
    return Failure(
        "backend",
        f"No TensorFlow.js backend could start: {detail}.",
        "Reload the page, or try another browser.",
        action=Action.RELOAD,
        fatal=True,
    )


def short(text: str, limit: int = 80) -> str:
    """A name or detail from outside (a file name, a browser message) cut to fit a sentence."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def photo_unreadable(name: str) -> Failure:
    return Failure(
        "photo",
        f"The photo {short(name)!r} could not be read as an image.",
        "Pick a JPEG, PNG or WebP photo.",
    )


def photo_too_large(name: str, width: int, height: int) -> Failure:
    return Failure(
        "photo",
        f"The photo {short(name)!r} ({width}x{height} px) is too large for this browser to scale.",
        "Pick a smaller photo, or scale it down first (a long side of 4000 px or less is plenty).",
    )


def unexpected(detail: str) -> Failure:
    return Failure(
        "unexpected",
        "Something went wrong while reading the picture.",
        f"Restart the camera; if it happens again, reload the page. ({detail[:200]})",
        action=Action.RESTART_CAMERA,
    )


def crashed(detail: str) -> Failure:
    """An error nothing else caught (browser.tasks routes every task's exception here)."""
    return Failure(
        "unexpected",
        "moodcam stopped with an unexpected error.",
        f"Reload the page. If it happens again, please report it with this text: {detail[:200]}",
        action=Action.RELOAD,
        fatal=True,
    )


def camera_blocked(reason: str) -> Failure:
    """What app/camera.js reports before asking: not a secure page, or no camera API at all."""
    return insecure_context() if reason == "insecure-context" else no_camera_api()


# Notes (not failures): the page still works, the person should know why it is slower.
def webgl_fallback_note(reason: str) -> str:
    return f"WebGL is not usable here ({reason}), so moodcam runs on the wasm backend (CPU). It works, a little slower."


def context_lost_note() -> str:
    return "The graphics context was lost; moodcam recovered on the wasm backend (CPU)."


def video_unreadable(name: str, mime: str, error: str) -> Failure:
    """A chosen video this browser cannot open or decode (not a video, or a codec it lacks)."""
    kind = f"a {mime} file" if mime else "a file of unknown type"
    return Failure(
        "video",
        f"The video {short(name)!r} ({kind}) could not be decoded by this browser ({error or 'no reason given'}).",
        "Choose an H.264 MP4 or a VP8/VP9 WebM video; convert others first, for example "
        "ffmpeg -i input.mov -c:v libx264 -pix_fmt yuv420p output.mp4.",
    )
