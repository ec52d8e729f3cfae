"""Camera capture: getUserMedia into the <video>, and knowing when it stops.

Errors come back as `Failure`s (failures.camera_error) rather than exceptions,
so the app always has a message and a way forward to show.
"""
from __future__ import annotations

from dataclasses import dataclass

import js
from pyodide.ffi import JsException, to_js

from . import failures
from .failures import Failure


@dataclass
class CameraResult:
    stream: object | None
    failure: Failure | None
    facing: str = "user"


def availability() -> Failure | None:
    """Why a camera cannot even be asked for here, or None."""
    if not js.window.isSecureContext:
        return failures.insecure_context()
    media = getattr(js.navigator, "mediaDevices", None)
    if media is None or not hasattr(media, "getUserMedia"):
        return failures.no_camera_api()
    return None


def _error_name(error: BaseException) -> tuple[str, str]:
    js_error = getattr(error, "js_error", None)
    if js_error is not None:
        return str(getattr(js_error, "name", "")), str(getattr(js_error, "message", ""))
    return type(error).__name__, str(error)


async def open_camera(video, facing: str) -> CameraResult:
    """Ask for a camera facing `facing` ("user" or "environment") and play it in `video`."""
    blocked = availability()
    if blocked is not None:
        return CameraResult(None, blocked, facing)
    # ~640 px wide is plenty: the detector sees 128 px and the emotion net 64 px crops. Only the
    # width is asked for: asking for a height too makes Chrome crop the picture to that aspect.
    constraints = to_js({"audio": False, "video": {"facingMode": {"ideal": facing},
                                                   "width": {"ideal": 640}}},
                        dict_converter=js.Object.fromEntries)
    try:
        stream = await js.navigator.mediaDevices.getUserMedia(constraints)
    except JsException as error:
        name, detail = _error_name(error)
        return CameraResult(None, failures.camera_error(name, detail), facing)
    video.srcObject = stream
    try:
        await video.play()
    except JsException:
        pass  # autoplay may refuse when not muted; the video is muted, and frames still decode
    return CameraResult(stream, None, facing)


def stop_stream(stream) -> None:
    if stream is None:
        return
    for track in stream.getTracks():
        track.stop()


def video_track(stream):
    tracks = stream.getVideoTracks() if stream is not None else None
    return tracks[0] if tracks is not None and tracks.length else None


async def camera_count() -> int:
    """How many video inputs exist (to offer 'switch camera' only when it can do something)."""
    try:
        devices = await js.navigator.mediaDevices.enumerateDevices()
    except (JsException, AttributeError):
        return 0
    return sum(1 for d in devices if str(d.kind) == "videoinput")
