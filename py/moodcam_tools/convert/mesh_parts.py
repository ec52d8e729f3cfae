"""FaceMesh part groups as data: MediaPipe's FACEMESH_* edge lists, read from the
pinned wheel's mediapipe/python/solutions/face_mesh_connections.py with `ast`
(mediapipe is never imported: it pins numpy 1.x and protobuf 4).

The result goes into models/manifest.json under face_landmark -> "parts":
{part name: [[a, b], ...]} with the edges sorted, each edge kept in
MediaPipe's own direction (moodcam.landmarks.parts relies on it to join the
two eyebrow chains into one outline).
"""
from __future__ import annotations

import ast
import hashlib
import zipfile
from pathlib import Path

from ..errors import BuildError

MEMBER = "mediapipe/python/solutions/face_mesh_connections.py"

# our part name -> MediaPipe constant
PART_CONSTANTS: dict[str, str] = {
    "face_oval": "FACEMESH_FACE_OVAL",
    "lips": "FACEMESH_LIPS",
    "left_eye": "FACEMESH_LEFT_EYE",
    "right_eye": "FACEMESH_RIGHT_EYE",
    "left_eyebrow": "FACEMESH_LEFT_EYEBROW",
    "right_eyebrow": "FACEMESH_RIGHT_EYEBROW",
    "nose": "FACEMESH_NOSE",
}
NUM_LANDMARKS = 468


def _edges(node: ast.AST, name: str) -> list[list[int]]:
    # frozenset([(a, b), ...]) written as a literal call
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "frozenset"
            and len(node.args) == 1):
        raise BuildError(f"{MEMBER}: {name} is not a frozenset([...]) literal")
    try:
        pairs = ast.literal_eval(node.args[0])
    except ValueError as error:
        raise BuildError(f"{MEMBER}: {name} is not a literal list of pairs ({error})") from None
    out = []
    for pair in pairs:
        if (not isinstance(pair, tuple) or len(pair) != 2
                or not all(isinstance(v, int) and 0 <= v < NUM_LANDMARKS for v in pair)):
            raise BuildError(f"{MEMBER}: {name} holds {pair!r}, not a pair of landmark indices 0..467")
        out.append([pair[0], pair[1]])
    if len({tuple(e) for e in out}) != len(out):
        raise BuildError(f"{MEMBER}: {name} repeats an edge")
    return sorted(out)


def parse(source: str) -> dict[str, list[list[int]]]:
    """{part: sorted [[a, b], ...]} from the text of face_mesh_connections.py."""
    tree = ast.parse(source)
    found: dict[str, ast.AST] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            found[stmt.targets[0].id] = stmt.value
    parts = {}
    for part, constant in PART_CONSTANTS.items():
        if constant not in found:
            raise BuildError(f"{MEMBER} defines no {constant}", expected="mediapipe==0.10.21's face mesh connections")
        parts[part] = _edges(found[constant], constant)
    return parts


def member_sha256(wheel_path: Path) -> str:
    with zipfile.ZipFile(wheel_path) as archive:
        return hashlib.sha256(archive.read(MEMBER)).hexdigest()


def from_wheel(wheel_path: Path) -> dict[str, list[list[int]]]:
    """Read and parse the member from a (sha256-verified) mediapipe wheel."""
    try:
        with zipfile.ZipFile(wheel_path) as archive:
            source = archive.read(MEMBER).decode("utf-8")
    except KeyError:
        raise BuildError(f"{wheel_path.name} holds no {MEMBER}") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise BuildError(f"{wheel_path} is not a readable wheel (zip): {error}") from None
    return parse(source)
