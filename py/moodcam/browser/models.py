"""Loading the models: manifest -> fetch -> sha256 check -> TF.js from memory.

Every file is checked against models/manifest.json BEFORE TF.js sees it, and
the verified bytes are handed to tf.loadGraphModel through tf.io.fromMemory,
so nothing is fetched twice and nothing unverified is ever executed. A
missing or damaged file becomes a `Failure` naming the file and the fix.

The verified bytes are kept (`LoadedModel.artifacts_bytes`) so the models can
be rebuilt on another backend after a WebGL context loss without the network.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import js
from pyodide.http import pyfetch

from . import failures
from .failures import Failure
from .interop import js_bytes, tf


class ModelError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass
class LoadedModel:
    name: str
    spec: dict                      # this model's manifest entry
    model_json: dict
    weights: bytes                  # the shards concatenated in manifest order
    graph: object = None            # tf.GraphModel on the active backend
    output_names: list[str] = field(default_factory=list)

    def dispose(self) -> None:
        if self.graph is not None:
            self.graph.dispose()
            self.graph = None


async def fetch_bytes(url: str, label: str) -> bytes:
    try:
        response = await pyfetch(url, cache="no-cache")
    except Exception as error:  # noqa: BLE001 - network failure = missing file for the person
        raise ModelError(failures.model_missing(label, f"network error: {error}")) from None
    if not response.ok:
        raise ModelError(failures.model_missing(label, response.status))
    return await response.bytes()


def verify(label: str, data: bytes, expected_sha256: str, expected_size: int | None) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256.lower() or (expected_size is not None and len(data) != expected_size):
        raise ModelError(failures.model_checksum(label, expected_sha256, actual))


def _file_table(name: str, spec: dict) -> dict[str, dict]:
    """{path under models/: {"sha256":..., "size":...}} from a manifest entry.

    The manifest lists `files: [{path, role, sha256, size}]` with paths relative to
    models/ (e.g. "blazeface_short_range/model.json"); a {name: sha256} mapping
    relative to the model's folder is accepted too.
    """
    files = spec.get("files")
    if isinstance(files, list) and files:
        return {str(item["path"]): item for item in files}
    if isinstance(files, dict) and files:
        folder = str(spec.get("dir") or name).rstrip("/") + "/"
        return {folder + rel: (info if isinstance(info, dict) else {"sha256": info}) for rel, info in files.items()}
    raise ModelError(failures.manifest_problem(f"model {name} lists no files"))


async def fetch_verified(base_url: str, name: str, spec: dict) -> LoadedModel:
    """Fetch every file of one model, verify it, and assemble JSON + weight bytes."""
    table = _file_table(name, spec)
    blobs: dict[str, bytes] = {}
    for path, info in table.items():
        label = f"models/{path}"
        data = await fetch_bytes(base_url + path, label)
        verify(label, data, str(info.get("sha256", "")), info.get("size"))
        blobs[path] = data
    json_path = next((p for p, i in table.items() if i.get("role") == "graph" or p.endswith("model.json")), None)
    if json_path is None:
        raise ModelError(failures.manifest_problem(f"model {name} has no model.json"))
    folder = json_path.rsplit("/", 1)[0] + "/" if "/" in json_path else ""
    try:
        model_json = json.loads(blobs[json_path])
    except ValueError as error:
        raise ModelError(failures.model_load(name, f"model.json is not JSON ({error})")) from None
    shards = []
    for group in model_json.get("weightsManifest", []):
        for shard in group["paths"]:
            if folder + shard not in blobs:
                # model.json names a shard the manifest does not vouch for: refuse it.
                raise ModelError(failures.model_missing(f"models/{folder}{shard}", "not in the manifest"))
            shards.append(blobs[folder + shard])
    return LoadedModel(name, spec, model_json, b"".join(shards))


async def build_graph(model: LoadedModel) -> None:
    """(Re)create the TF.js GraphModel on the active backend from the verified bytes."""
    model.dispose()
    artifacts = js.JSON.parse(json.dumps({
        "modelTopology": model.model_json["modelTopology"],
        "format": model.model_json.get("format", "graph-model"),
        "generatedBy": model.model_json.get("generatedBy", ""),
        "convertedBy": model.model_json.get("convertedBy", ""),
        "signature": model.model_json.get("signature"),
        "userDefinedMetadata": model.model_json.get("userDefinedMetadata"),
        "modelInitializer": model.model_json.get("modelInitializer"),
        "weightSpecs": [w for g in model.model_json.get("weightsManifest", []) for w in g["weights"]],
    }))
    artifacts.weightData = js_bytes(model.weights)
    try:
        model.graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts))
    except Exception as error:  # noqa: BLE001 - a broken graph is a failure to show, not a crash
        raise ModelError(failures.model_load(model.name, str(error)[:200])) from None
    model.output_names = [str(n) for n in model.graph.outputNodes]


async def warm_up(model: LoadedModel, shape: list[int]) -> None:
    """One inference on zeros: compiles shaders / allocates so the first real frame is not slow."""
    from pyodide.ffi import to_js

    engine = tf.engine()
    engine.startScope("warmup")
    try:
        x = tf.zeros(to_js(shape))
        out = model.graph.execute(x)
        outs = out if hasattr(out, "length") else [out]
        for t in outs:
            await t.data()
    finally:
        engine.endScope()


async def load_manifest(base_url: str) -> dict:
    data = await fetch_bytes(base_url + "manifest.json", "models/manifest.json")
    try:
        manifest = json.loads(data)
    except ValueError as error:
        raise ModelError(failures.manifest_problem(f"not JSON ({error})")) from None
    if not isinstance(manifest, dict) or "models" not in manifest:
        raise ModelError(failures.manifest_problem("no 'models' entry"))
    return manifest


def manifest_models(manifest: dict) -> dict[str, dict]:
    models = manifest["models"]
    if isinstance(models, list):
        return {m["name"]: m for m in models}
    return dict(models)
