"""The person's settings: a dataclass, parsed defensively, kept as JSON.

Pure Python. SettingsStore keeps what the person chose (stored in localStorage
by the page) apart from what the address asked for this visit (`?backend=wasm&clock=raf`):
URL values apply on top but are never stored. The sliders' ranges are the clamps'
(RANGES), sent to the page at start, so a control cannot offer what is not kept.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Callable

from .messages import StoreMessage

STORAGE_KEY = "moodcam.settings.v1"
BACKENDS = ("auto", "webgl", "wasm")
CLOCKS = ("video", "raf")
FACINGS = ("user", "environment")
# auto: near and far faces alike (moodcam.auto_range: BlazeFace short range on most detector runs, full range
# and its tile sweep between them, small faces confirmed by a second look); near: short range only, the
# cheapest, for the slowest devices. "far" (the old setting, stored or in a URL) reads as auto.
RANGES_OF_VIEW = ("auto", "near")
RANGE_ALIASES = {"far": "auto"}
GRABS = ("direct", "work")          # how frames are read (browser.frames): nets' sizes only, or a work frame
FACES = ""                          # Settings.model for the built-in face + mood mode
FACE_ALIASES = ("", "faces", "blazeface", "blazeface_short_range")
MODEL_NAME_MAX = 64
CALIBRATION_ID_MAX = 64
# (min, max, step) of the numeric settings: the clamps and the page's sliders.
RANGES = {"detect_every": (1, 30, 1), "emotion_every": (1, 30, 1), "threshold": (0.05, 0.99, 0.01)}


@dataclass(frozen=True)
class Settings:
    detect_every: int = 3          # run the detector every N processed frames, track in between
    emotion_every: int = 2         # run the emotion net every N processed frames per tracked face
    threshold: float = 0.5         # detector confidence
    backend: str = "auto"          # auto = webgl when usable, else wasm
    show_boxes: bool = True
    show_keypoints: bool = True
    show_hud: bool = True
    show_bars: bool = True         # per-face probability bars (browser.render_mood)
    facing: str = "user"           # front camera first; its picture is mirrored
    clock: str = "video"           # "video": requestVideoFrameCallback; "raf": every animation frame
    show_parts: bool = False       # face-parts view (FaceMesh regions + legend)
    show_mesh_points: bool = False  # mesh key-points view (FaceMesh's named points)
    grab: str = "direct"           # see GRABS (?grab=work compares the whole-frame read)
    model: str = FACES             # "" = faces + mood; else a manifest entry with task object_detection
    range: str = "auto"            # see RANGES_OF_VIEW (docs/using.md "Near and far; groups")
    calibration: str = ""          # id of the active calibration (browser.calibrations); "" = the generic net
    adapt: bool = True             # the nets' cadence follows the device (moodcam.cadence); off: exactly the above

    def clamped(self) -> "Settings":
        """Bring every value back into its range (stored JSON may be stale or edited)."""
        return replace(
            self,
            detect_every=int(_clamp(int(self.detect_every), "detect_every")),
            emotion_every=int(_clamp(int(self.emotion_every), "emotion_every")),
            threshold=round(_clamp(float(self.threshold), "threshold"), 3),
            backend=self.backend if self.backend in BACKENDS else "auto",
            facing=self.facing if self.facing in FACINGS else "user",
            clock=self.clock if self.clock in CLOCKS else "video",
            show_boxes=bool(self.show_boxes),
            show_keypoints=bool(self.show_keypoints),
            show_hud=bool(self.show_hud),
            show_bars=bool(self.show_bars),
            show_parts=bool(self.show_parts),
            show_mesh_points=bool(self.show_mesh_points),
            grab=self.grab if self.grab in GRABS else "direct",
            range=_range_of_view(self.range),
            model=_model_name(self.model),
            calibration=str(self.calibration).strip()[:CALIBRATION_ID_MAX],
            adapt=bool(self.adapt),
        )

    @property
    def custom_model(self) -> bool:
        return self.model != FACES


def _clamp(value: float, name: str) -> float:
    low, high, _step = RANGES[name]
    return min(max(value, low), high)


def _model_name(value) -> str:
    """A model name as asked for (checked against the manifest by the app, which names a wrong one)."""
    name = str(value).strip()[:MODEL_NAME_MAX]
    return FACES if name.lower() in FACE_ALIASES else name


_TYPES = {f.name: f.type for f in fields(Settings)}
_URL_NAMES = {"backend": "backend", "clock": "clock", "cadence": "detect_every",
              "emotion": "emotion_every", "threshold": "threshold", "facing": "facing",
              "parts": "show_parts", "meshpoints": "show_mesh_points", "bars": "show_bars", "model": "model", "grab": "grab",
              "range": "range", "adapt": "adapt"}


def _coerce(name: str, value):
    kind = _TYPES[name]
    if kind == "bool":
        return value in (True, "1", "true", "on", 1)
    if kind == "int":
        return int(_finite(value))
    if kind == "float":
        return _finite(value)
    if isinstance(value, (dict, list)):
        raise TypeError(f"{name} must be text")
    return str(value)


def _finite(value) -> float:
    if isinstance(value, bool):
        raise TypeError("a number, not true/false")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def from_json(text: str | None) -> Settings:
    """Settings from stored JSON; anything unreadable falls back to the defaults."""
    base = Settings()
    if not text:
        return base
    try:
        data = json.loads(text)
    except ValueError:
        return base
    if not isinstance(data, dict):
        return base
    values = {}
    for name, value in data.items():
        if name in _TYPES:
            try:
                values[name] = _coerce(name, value)
            except (TypeError, ValueError):
                continue
    return replace(base, **values).clamped()


def to_json(settings: Settings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def with_url_params(settings: Settings, params: dict[str, str]) -> Settings:
    """Apply ?backend=wasm&clock=raf&cadence=2... on top (not stored: a link is not a preference)."""
    values = {}
    for key, name in _URL_NAMES.items():
        if key in params:
            try:
                values[name] = _coerce(name, params[key])
            except (TypeError, ValueError):
                continue
    return replace(settings, **values).clamped()


def coerce(name: str, value) -> object:
    """A control's value as the Settings field `name` holds it (ValueError / TypeError if it cannot be)."""
    if name not in _TYPES:
        raise ValueError(f"no setting named {name!r}")
    return _coerce(name, value)


class SettingsStore:
    """What the person chose (stored) plus what the address asked for this visit (not stored)."""

    def __init__(self, stored_json: str | None, url_params: dict[str, str]) -> None:
        self.stored = from_json(stored_json)
        self._params = {k: v for k, v in url_params.items() if k in _URL_NAMES}
        self.current = with_url_params(self.stored, self._params)

    def update(self, **changes) -> Settings:
        """A control changed: keep it (and drop any URL value for the same setting)."""
        self.stored = replace(self.stored, **changes).clamped()
        for key, name in _URL_NAMES.items():
            if name in changes:
                self._params.pop(key, None)
        self.current = with_url_params(self.stored, self._params)
        return self.current

    def to_json(self) -> str:
        """What is kept in localStorage: the stored choices, never the URL's."""
        return to_json(self.stored)


class KeptSettings:
    """The SettingsStore plus the page's localStorage: every change is kept at once (one place
    builds the store message)."""

    def __init__(self, store: SettingsStore, post: Callable[[StoreMessage], None]) -> None:
        self._store = store
        self._post = post

    @property
    def current(self) -> Settings:
        return self._store.current

    def update(self, **changes: Any) -> Settings:
        settings = self._store.update(**changes)
        self._post(StoreMessage(STORAGE_KEY, self._store.to_json()))
        return settings


def _range_of_view(value) -> str:
    value = RANGE_ALIASES.get(str(value), str(value))
    return value if value in RANGES_OF_VIEW else "auto"
