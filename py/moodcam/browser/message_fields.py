"""Reading the fields of a message from the page: a JsProxy in the browser, a dict in CPython tests.

Shared by browser.messages (every message) and browser.video_messages (the video's), so each
parser reads a missing field, an unknown name or a JS array the same way. Pure Python.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

MISSING: Any = object()
E = TypeVar("E", bound=Enum)


def field(message: Any, name: str, default: Any = None) -> Any:
    """message[name] (a dict) or message.name (a JsProxy: an undefined property is an AttributeError);
    `default` for a missing field or a null one."""
    value = message.get(name, default) if isinstance(message, Mapping) else getattr(message, name, default)
    return default if value is None else value


def required(message: Any, name: str, kind: str) -> Any:
    value = field(message, name, MISSING)
    if value is MISSING:
        raise ValueError(f"a {kind!r} message from the page lacks {name!r}")
    return value


def member(enum: type[E], value: Any, what: str) -> E:
    if isinstance(value, Enum):     # str() of a (str, Enum) member, e.g. failures.Action, is its qualified name
        value = value.value
    try:
        return enum(str(value))
    except ValueError:
        known = ", ".join(str(m.value) for m in enum)
        raise ValueError(f"unknown {what} {str(value)!r}; known: {known}") from None


def to_py(value: Any) -> Any:
    """A JS object or array as a dict or list (a JsProxy's to_py); Python values unchanged."""
    return value.to_py() if hasattr(value, "to_py") else value


def plain_dict(value: Any) -> dict:
    # As the engine always read params and stored: absent or empty -> {}.
    return dict(to_py(value)) if value else {}
