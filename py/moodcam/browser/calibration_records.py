"""A stored calibration as the page lists it: pure Python (tests/browser_logic), no js.

A record is {id, name, created_ms, body}: body is the export file's JSON text, the
single source of truth for the head itself (checked by moodcam.calibration's parser on
every read). The name is the person's; names are trimmed, kept short and need not be
unique (the id tells records apart).
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Sequence

from ..calibration import MAX_FILE_DEPTH, CalibrationFit, calibration_from_text, json_depth

NAME_MAX = 40
GENERIC = "generic net"            # what the HUD and the list say when no calibration is active


DELETE_LABEL = "Delete"
CONFIRM_DELETE_LABEL = "Confirm delete"


class DeleteConfirm:
    """Deleting a calibration takes two presses: the first asks, a second on the same record within
    `window_ms` deletes it. A kept calibration is minutes of a person's teaching and cannot be
    undone, so one slip of the finger must not lose it. Times are the caller's (ms, any clock)."""

    __slots__ = ("window_ms", "_record_id", "_since_ms")

    def __init__(self, window_ms: float = 6000.0) -> None:
        if not window_ms > 0:
            raise ValueError(f"window_ms must be > 0, got {window_ms}")
        self.window_ms = float(window_ms)
        self._record_id: str | None = None
        self._since_ms = 0.0

    def press(self, record_id: str, now_ms: float) -> bool:
        """True: delete now (the second press in time). False: this press asks (or asks again)."""
        if self._record_id == record_id and 0 <= now_ms - self._since_ms <= self.window_ms:
            self._record_id = None
            return True
        self._record_id, self._since_ms = record_id, float(now_ms)
        return False

    def expired(self, asked_ms: float) -> bool:
        """True once: the question asked at `asked_ms` is still open and its time is up (the caller
        then puts the button back). False when it was answered, withdrawn or asked again since."""
        if self._record_id is None or self._since_ms != asked_ms:
            return False
        self._record_id = None
        return True

    def withdraw(self) -> None:
        """Another action (a switch, a rename, an import) ends the question unanswered."""
        self._record_id = None

    @property
    def asking(self) -> str | None:
        """The record id a press is waiting to be confirmed for, if any."""
        return self._record_id


class BadName(ValueError):
    """A name that cannot be used (the message says what to type)."""


def clean_name(text: Any) -> str:
    """The name as kept: whitespace collapsed, at most NAME_MAX characters; empty -> BadName."""
    name = re.sub(r"\s+", " ", str(text if text is not None else "")).strip()[:NAME_MAX]
    if not name:
        raise BadName("Give the calibration a name (for example your first name).")
    return name


def new_id(created_ms: float, taken: set[str]) -> str:
    """An id not in `taken`, from the creation time (readable in the database, sortable)."""
    base = f"c{int(created_ms):d}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def file_name(name: str) -> str:
    """The export's file name: moodcam-calibration-<name>.json with only safe characters."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "calibration"
    return f"moodcam-calibration-{safe[:NAME_MAX]}.json"


def created_text(created_ms: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(created_ms / 1000)) + " UTC"


@dataclass(frozen=True)
class CalibrationRecord:
    id: str
    name: str
    created_ms: float
    body: str                      # the export file's JSON text

    def to_row(self) -> dict:
        return {"id": self.id, "name": self.name, "created_ms": self.created_ms, "body": self.body}

    @classmethod
    def from_row(cls, row: Any) -> "CalibrationRecord | None":
        """A record from what IndexedDB returned, or None when it is not one of ours."""
        if not isinstance(row, dict):
            return None
        try:
            record = cls(str(row["id"]), str(row["name"]), float(row["created_ms"]), str(row["body"]))
        except (KeyError, TypeError, ValueError):
            return None
        return record if record.id and isinstance(row["body"], str) else None

    def renamed(self, name: str) -> "CalibrationRecord":
        return CalibrationRecord(self.id, clean_name(name), self.created_ms, self.body)


def select_options(records: list[CalibrationRecord]) -> list[list[str]]:
    """The "Reading with" select: the generic net first, then each calibration by name."""
    return [["", GENERIC]] + [[r.id, r.name] for r in records]


def record_caption(record: CalibrationRecord, active: bool) -> str:
    """'Anna: happy, neutral; 94 % cross-validated (generic net 41 %), 2026-12-02 10:31 UTC (active)'."""
    try:
        if json_depth(record.body) > MAX_FILE_DEPTH:      # a stored row is not trusted further than a file
            raise ValueError("nested too deep")
        data = json.loads(record.body)
        moods = ", ".join(str(m) for m in data.get("labels", []))
        cv, generic = data.get("cv_accuracy"), data.get("generic_accuracy")
        figures = f"; {round(100 * float(cv))} % cross-validated" if isinstance(cv, (int, float)) else ""
        if figures and isinstance(generic, (int, float)) and math.isfinite(generic):
            figures += f" (generic net {round(100 * float(generic))} %)"
    except (ValueError, TypeError, AttributeError, OverflowError):      # OverflowError: round(inf)
        moods, figures = "unreadable", ""
    return f"{record.name}: {moods}{figures}, {created_text(record.created_ms)}{' (active)' if active else ''}"


def read_calibration_file(text: str, *, model_sha256: str, feature_size: int,
                          emotion_labels: Sequence[str]) -> tuple[str, CalibrationFit]:
    """(name, fit) from a file's text; CalibrationFormatError for anything else (not JSON, nested too
    deep, numbers too large, a head whose output could overflow: moodcam.calibration says why)."""
    return calibration_from_text(text, model_sha256=model_sha256, feature_size=feature_size,
                                 emotion_labels=emotion_labels)
