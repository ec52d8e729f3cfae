"""The models: manifest -> fetch -> sha256 check -> TF.js graph, and rebuilding them.

Every file is checked BEFORE TF.js sees it: models/manifest.json against the
sha256 that site.json lists for it, each model file against the manifest. The
verified bytes go to tf.loadGraphModel through tf.io.fromMemory, so nothing is
fetched twice and nothing unverified is executed, and they are kept, so the
models can be rebuilt on another backend (a setting, or a lost WebGL context)
without the network. A missing or damaged file becomes a ModelError carrying
the Failure that names the file and the fix.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..manifest import Manifest, ManifestError, ModelEntry, parse_manifest
from . import failures
from .failures import Failure
from .interop import fetch, js_array, js_bytes, json_parse, tf, tf_scope

MANIFEST = "manifest.json"


class ModelError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass
class LoadedModel:
    entry: ModelEntry
    model_json: dict
    weights: bytes                  # the shards concatenated in model.json order
    graph: Any = None               # tf.GraphModel on the active backend
    output_names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.entry.name

    def dispose(self) -> None:
        graph, self.graph = self.graph, None
        if graph is not None:
            try:
                graph.dispose()
            except Exception:  # noqa: BLE001 - disposing on a lost context may fail; the bytes are kept
                pass


async def fetch_bytes(url: str, label: str) -> bytes:
    try:
        response = await fetch(url, cache="no-cache")
    except Exception as error:  # noqa: BLE001 - network failure = missing file for the person
        raise ModelError(failures.model_missing(label, f"network error: {error}")) from None
    if not response.ok:
        raise ModelError(failures.model_missing(label, response.status))
    return await response.bytes()


def verify(label: str, data: bytes, expected_sha256: str, expected_size: int | None = None) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256.lower() or (expected_size is not None and len(data) != expected_size):
        raise ModelError(failures.model_checksum(label, expected_sha256, actual))


class ModelStore:
    def __init__(self, base_url: str, site: dict) -> None:
        self.folder = str(site.get("models", "models/"))
        self.base = base_url + self.folder
        self._site_files: dict[str, str] = dict(site.get("files") or {})
        self._manifest: Manifest | None = None
        self.loaded: dict[str, LoadedModel] = {}
        self._manifest_task: asyncio.Future[Manifest] | None = None
        self._fetching: dict[str, asyncio.Future[LoadedModel]] = {}

    async def manifest(self) -> Manifest:
        """The parsed manifest (fetched and checked against site.json once; the prefetches of
        several models share that one fetch, and a failed one is tried again next time)."""
        if self._manifest is None:
            if self._manifest_task is None:
                self._manifest_task = asyncio.ensure_future(self._read_manifest())
            task = self._manifest_task
            try:
                self._manifest = await task
            finally:
                if self._manifest_task is task:
                    self._manifest_task = None
        return self._manifest

    async def _read_manifest(self) -> Manifest:
        label = self.folder + MANIFEST
        data = await fetch_bytes(self.base + MANIFEST, label)
        expected = self._site_files.get(label)
        if expected is None:
            raise ModelError(failures.manifest_problem("site.json lists no sha256 for it"))
        verify(label, data, expected)
        try:
            return parse_manifest(data)
        except ManifestError as error:
            raise ModelError(failures.manifest_problem(str(error))) from None

    def prefetch(self, *names: str) -> None:
        """Start fetching and checking these models' files now (no backend needed), so a later
        load() finds them on their way: the app's start overlaps them with the backend's.
        A problem is raised by that load(), where it is shown."""
        for name in names:
            if name not in self.loaded and name not in self._fetching:
                task = asyncio.ensure_future(self._fetch_named(name))
                task.add_done_callback(_retrieved)
                self._fetching[name] = task

    async def _fetch_named(self, name: str) -> LoadedModel:
        manifest = await self.manifest()
        try:
            entry = manifest.require(name)
        except ManifestError as error:
            raise ModelError(failures.manifest_problem(str(error))) from None
        return await self._fetch(entry)

    async def load(self, *names: str) -> list[LoadedModel]:
        """Fetch and verify every file of these models, then build them (once; later calls return them).

        All files are checked before any graph is built: a damaged file stops the load with
        nothing of it in TF.js."""
        await self.manifest()
        fetched: dict[str, LoadedModel] = {}
        for name in names:
            if name not in self.loaded and name not in fetched:
                self.prefetch(name)
                task = self._fetching[name]
                try:
                    fetched[name] = await task
                finally:
                    if self._fetching.get(name) is task:
                        del self._fetching[name]
        try:
            for model in fetched.values():
                await self.build(model)
        except BaseException:
            for model in fetched.values():
                model.dispose()
            raise
        self.loaded.update(fetched)
        return [self.loaded[name] for name in names]

    async def _fetch(self, entry: ModelEntry) -> LoadedModel:
        items = entry.files_for("graph", "weights")
        # All of a model's files at once: each is checked as it arrives.
        datas = await asyncio.gather(*(self._fetch_checked(item.path, item.sha256, item.size) for item in items))
        blobs = {item.path: data for item, data in zip(items, datas)}
        graph_path = entry.graph_file.path
        folder = graph_path.rsplit("/", 1)[0] + "/" if "/" in graph_path else ""
        try:
            model_json = json.loads(blobs[graph_path])
        except ValueError as error:
            raise ModelError(failures.model_load(entry.name, f"model.json is not JSON ({error})")) from None
        shards = []
        for group in model_json.get("weightsManifest", []):
            for shard in group["paths"]:
                if folder + shard not in blobs:
                    # model.json names a shard the manifest does not vouch for: refuse it.
                    raise ModelError(failures.model_missing(f"{self.folder}{folder}{shard}", "not in the manifest"))
                shards.append(blobs[folder + shard])
        return LoadedModel(entry, model_json, b"".join(shards))

    async def _fetch_checked(self, path: str, sha256: str, size: int | None) -> bytes:
        label = f"{self.folder}{path}"
        data = await fetch_bytes(self.base + path, label)
        verify(label, data, sha256, size)
        return data

    async def build(self, model: LoadedModel) -> None:
        """(Re)create the GraphModel on the active backend from the verified bytes (warmed up on WebGL)."""
        model.dispose()
        mj = model.model_json
        artifacts = json_parse(json.dumps({
            "modelTopology": mj["modelTopology"], "format": mj.get("format", "graph-model"),
            "generatedBy": mj.get("generatedBy", ""), "convertedBy": mj.get("convertedBy", ""),
            "signature": mj.get("signature"), "userDefinedMetadata": mj.get("userDefinedMetadata"),
            "modelInitializer": mj.get("modelInitializer"),
            "weightSpecs": [w for g in mj.get("weightsManifest", []) for w in g["weights"]],
        }))
        artifacts.weightData = js_bytes(model.weights)
        try:
            model.graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts))
        except Exception as error:  # noqa: BLE001 - a broken graph is a failure to show, not a crash
            raise ModelError(failures.model_load(model.name, str(error)[:200])) from None
        model.output_names = [str(n) for n in model.graph.outputNodes]
        if str(tf.getBackend()) == "webgl":
            await warm_up(model)

    async def rebuild_all(self) -> None:
        """Every loaded model on the backend that is active now (after a switch or a lost context)."""
        for model in self.loaded.values():
            await self.build(model)

    def dispose_all(self) -> None:
        for model in self.loaded.values():
            model.dispose()


def _retrieved(task: "asyncio.Future[LoadedModel]") -> None:
    # A prefetch nobody awaited (the start stopped earlier): its error is not "never retrieved".
    if not task.cancelled():
        task.exception()


async def warm_up(model: LoadedModel) -> None:
    """One inference on zeros: compiles WebGL's shaders so the first real frame is not slow.

    WebGL only: on wasm there is nothing to compile, and the warm-up was one whole inference per
    model spent before the first frame (CPU a phone needs for the start, issue 26)."""
    kept = []
    try:
        with tf_scope("warmup"):
            out = model.graph.execute(tf.zeros(js_array(list(model.entry.input.warmup_shape()))))
            kept = [tf.keep(t) for t in (out if hasattr(out, "length") else [out])]
        for t in kept:
            await t.data()
    finally:
        for t in kept:
            t.dispose()
