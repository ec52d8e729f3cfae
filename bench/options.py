"""What a bench run measures: its clips, pipelines and engines by name, and the options of one run.

bench/cli.py turns the command line into `Options`; bench/runner.py, bench/steady.py and
bench/cold.py read the names from here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .site import REPO

CLIPS = {"one_face": "astronaut", "two_faces": "two_faces", "no_face": "coffee"}
APP_DEFAULT_CADENCE = (3, 2)   # py/moodcam/browser/settings.py: detect_every, emotion_every
PIPELINES = ["ours-equal", "ours-equal-page", "ours-far", "floor-equal", "human-equal", "mediapipe", "ours-default",
             "ours-near", "floor-default", "human-default", "ours-parts"]
# Face-parts mode runs on these clips on every backend (webgl included), apart from --clips/--webgl-clips.
PARTS_PIPELINES = {"ours-parts"}
PARTS_CLIPS = ["one_face", "two_faces"]
ENGINES = ("worker", "page")
# Cold start also measures, in the same run, a peer: human's own page (bench/pages/human.html, its
# default skipping, as a user meets it), to its first face with an emotion; and our floor:
# Pyodide and numpy started by the engine's own code with nothing beside them
# (bench/pages/pyodide_floor.html), to numpy imported.
COLD_ENGINES = ("worker", "page", "human", "pyodide-floor")


@dataclass
class Options:
    backends: list[str]
    clips: list[str]
    frames: int = 100
    warmup: int = 15
    webgl_frames: int = 12
    webgl_warmup: int = 3
    webgl_clips: list[str] = field(default_factory=lambda: ["one_face"])
    parts_clips: list[str] = field(default_factory=lambda: list(PARTS_CLIPS))
    pipelines: list[str] = field(default_factory=lambda: list(PIPELINES))
    cold: bool = True
    cold_engines: list[str] = field(default_factory=lambda: list(COLD_ENGINES))
    webgl_cold_engines: list[str] = field(default_factory=lambda: ["worker"])
    cold_throttle: bool = True
    phone: bool = False          # cold visits also with the whole browser under a CPU quota (bench/cpu.py)
    phone_quota: float = 0.5     # ...of this share of one core (phone-cpu --quota 0.5)
    cold_repeats: int = 3
    ab_rounds: int = 3
    note: str = ""
    core_frames: int = 2000
    dist: Path | None = None
    out: Path = REPO / "bench" / "results"
    keep_raw: bool = False
    page_timeout: float = 180.0
