"""models/manifest.json parsed once into typed, frozen entries.

The app reads every model's facts from here (input size and normalisation,
output tensor names by key, labels, files by role, the detector spec), never
from the raw JSON; the tools that write the manifest (``build.py models``,
``build.py train-detector``) validate what they write with
:func:`parse_manifest`, so a writer cannot produce a manifest the app refuses.

Every key is known: a key this module does not know, at any level, is a
:class:`ManifestError` that names it (a typo such as ``"scael"`` would
otherwise be dropped silently and a default used). Keys that only describe the
model (card, converter, licence, source, ...) are kept in ``ModelEntry.details``.

Pure Python (stdlib + numpy through ``moodcam.detection``): runs in CPython and
in Pyodide.

Why one file of over 500 lines: one job, the manifest's schema. Each typed entry is parsed
by the same strict key checks, and the schema reads whole only when every block of it
(input, outputs, files, detector, parts, calibration) sits together.
"""
from __future__ import annotations

import copy
import hashlib
import dataclasses
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .detection.anchors import SsdAnchorOptions
from .detection.decode import DecodeOptions
from .detection.pipeline import DetectorSpec
from .detection.spec import DETECTION_TASK, EntryError, spec_from_entry

__all__ = [
    "FORMAT", "GRAPH_FORMAT", "ROLES", "TASKS",
    "ManifestError", "Normalisation", "InputSpec", "OutputSpec", "ModelFile", "ModelEntry", "Manifest",
    "parse_manifest", "parse_entry",
]

FORMAT = "moodcam-models/1"
GRAPH_FORMAT = "tfjs_graph_model"
ROLES = ("graph", "weights", "card")
TASKS = ("face_detection", "emotion_classification", "face_landmarks", DETECTION_TASK)

FIX_REBUILD = "rebuild with python3 build.py models"
FIX_REEXPORT = "re-export the detector (python3 build.py train-detector ... --install-into models)"

# -- the keys every level may hold ---------------------------------------------------------------------
_TOP_KEYS = frozenset({"about", "format", "models"})
# Read into typed fields of ModelEntry.
_TYPED_KEYS = frozenset({"task", "summary", "format", "input", "outputs", "labels", "files", "parts"})
# Kept as they are in ModelEntry.details (anchors/decoding are also turned into the detector spec).
_DETAIL_KEYS = frozenset({
    "anchors", "decoding",                                   # SSD detectors (read by detector_spec)
    "card", "converter", "licence", "source", "source_ops", "model_json", "weights_bytes",
    "weights_dtype", "output_order",                         # every model (moodcam_tools.convert / train.export)
    "training",                                              # custom detectors (train.export)
    "landmark_groups", "num_landmarks", "parts_source",      # face_landmark (convert specs + derived data)
})
_ENTRY_KEYS = _TYPED_KEYS | _DETAIL_KEYS
_INPUT_KEYS = frozenset({"color", "dtype", "key", "layout", "normalisation", "resize", "shape", "size", "tensor"})
_NORMALISATION_KEYS = frozenset({"formula", "note", "offset", "scale"})
_OUTPUT_KEYS = frozenset({"dtype", "key", "meaning", "reshape", "shape", "tensor"})
_FILE_KEYS = frozenset({"path", "role", "sha256", "size"})
_ANCHOR_KEYS = frozenset(f.name for f in dataclasses.fields(SsdAnchorOptions)) | {"calculator", "layout", "num_anchors"}
_DECODING_KEYS = frozenset(f.name for f in dataclasses.fields(DecodeOptions)) | {"box_format", "keypoints", "nms",
                                                                                 "formula"}
_NMS_KEYS = frozenset({"algorithm", "min_suppression_threshold", "overlap_type", "class_agnostic"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ValueError):
    """models/manifest.json (or one entry of it) is not what the app can use.

    The message names the model, the key path, what is wrong and the fix;
    the parts are also attributes (``model``, ``key``, ``problem``, ``fix``).
    """

    def __init__(self, problem: str, *, model: str | None = None, key: str | None = None,
                 fix: str = FIX_REBUILD) -> None:
        self.model, self.key, self.problem, self.fix = model, key, problem, fix
        where = "models/manifest.json"
        if model is not None:
            where += f", model {model!r}"
        if key:
            where += f", key {key!r}"
        super().__init__(f"{where}: {problem}; fix: {fix}")


# -- typed entries ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Normalisation:
    """Model input from 0..255 pixels: ``y = x * scale + offset``."""

    scale: float
    offset: float


@dataclass(frozen=True)
class InputSpec:
    width: int
    height: int
    shape: tuple[int, ...]          # as in the manifest (NHWC); -1 is a free (batch) dimension
    normalisation: Normalisation
    grey: bool                      # the model takes one grey channel (the entry's input colour says grey)
    key: str                        # the graph's signature input key
    tensor: str = ""                # the graph's input tensor name (e.g. "input:0")

    def warmup_shape(self) -> tuple[int, ...]:
        """The shape to warm the model up with: ``shape`` with every -1 replaced by 1."""
        return tuple(1 if v == -1 else v for v in self.shape)


@dataclass(frozen=True)
class OutputSpec:
    key: str
    tensor: str                     # graph tensor name (e.g. "Identity_1:0")
    shape: tuple[int, ...] = ()
    dtype: str = ""
    meaning: str = ""
    reshape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ModelFile:
    path: str                       # relative to models/ (checked: no "..", no leading "/")
    role: str                       # one of ROLES
    sha256: str                     # lower-case hex
    size: int | None


@dataclass(frozen=True)
class ModelEntry:
    name: str
    task: str
    input: InputSpec
    outputs: Mapping[str, str]                      # output key -> graph tensor name
    labels: tuple[str, ...]                         # as the manifest lists them (empty when it has none)
    files: tuple[ModelFile, ...]
    summary: str
    parts: object | None = None                     # face_landmark's raw "parts" value
    output_specs: Mapping[str, OutputSpec] = field(default_factory=lambda: MappingProxyType({}))
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    _spec: DetectorSpec | None = field(default=None, repr=False, compare=False)

    @property
    def fix(self) -> str:
        return _fix_for(self.task, self.details.get("converter"))

    @property
    def feature_size(self) -> int | None:
        """D of the `features` output ([N, D], the emotion net's penultimate features); None without one."""
        spec = self.output_specs.get("features")
        if spec is None or len(spec.shape) != 2 or spec.shape[1] < 1:
            return None
        return int(spec.shape[1])

    @property
    def model_sha256(self) -> str:
        """One id for the exact net: sha256 of its graph and weight files' sha256s (hex, one a line, in
        manifest order). A calibration file is bound to it (moodcam.calibration)."""
        lines = "".join(f"{f.sha256}\n" for f in self.files if f.role in ("graph", "weights"))
        return hashlib.sha256(lines.encode("ascii")).hexdigest()

    def output(self, key: str) -> str:
        """The graph tensor name of output ``key``."""
        try:
            return self.outputs[key]
        except KeyError:
            raise ManifestError(f"no output {key!r} (outputs: {', '.join(self.outputs) or 'none'})",
                                model=self.name, key="outputs", fix=self.fix) from None

    def files_for(self, *roles: str) -> tuple[ModelFile, ...]:
        """The files with one of ``roles``, in manifest order; e.g. ("graph", "weights") is what the app fetches."""
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown file role(s) {unknown}; roles are {', '.join(ROLES)}")
        return tuple(f for f in self.files if f.role in roles)

    @property
    def graph_file(self) -> ModelFile:
        found = self.files_for("graph")
        if not found:
            raise ManifestError("no file with role 'graph'", model=self.name, key="files", fix=self.fix)
        return found[0]

    @property
    def is_detector(self) -> bool:
        """An SSD detector: the entry has ``anchors`` and ``decoding`` (BlazeFace and custom detectors)."""
        return self._spec is not None

    @property
    def is_custom_detector(self) -> bool:
        """A detector chosen with ?model=<name> (task object_detection), as moodcam.detection.spec.is_detector_entry."""
        return self.is_detector and self.task == DETECTION_TASK

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in output order ("object" for a single unnamed class), as moodcam.detection.spec.entry_labels."""
        if self.labels:
            return self.labels
        n = self._spec.decode.num_classes if self._spec is not None else 1
        return ("object",) if n == 1 else tuple(f"class {i}" for i in range(n))

    def detector_spec(self, min_score: float | None = None) -> DetectorSpec:
        """The DetectorSpec that decodes this detector's outputs; ``min_score`` overrides its score threshold."""
        if self._spec is None:
            raise ManifestError("not a detector: it has no 'anchors' and 'decoding'", model=self.name,
                                key="anchors", fix=self.fix)
        if min_score is None:
            return self._spec
        try:
            return spec_from_entry(self._detector_blocks(), min_score=min_score)
        except EntryError as error:
            raise ManifestError(f"not a decodable detector ({error})", model=self.name, key="decoding",
                                fix=self.fix) from None

    def _detector_blocks(self) -> dict:
        out = {"anchors": self.details["anchors"], "decoding": self.details["decoding"]}
        if self.labels:
            out["labels"] = list(self.labels)
        return out


@dataclass(frozen=True)
class Manifest:
    models: Mapping[str, ModelEntry]
    format: str = FORMAT
    about: str = ""

    def __getitem__(self, name: str) -> ModelEntry:
        return self.require(name)

    def __contains__(self, name: object) -> bool:
        return name in self.models

    def __iter__(self):
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def get(self, name: str, default: ModelEntry | None = None) -> ModelEntry | None:
        return self.models.get(name, default)

    def names(self) -> list[str]:
        return list(self.models)

    def require(self, name: str, task: str | None = None) -> ModelEntry:
        """The entry ``name`` (of ``task`` when given); ManifestError naming what is missing and what exists."""
        entry = self.models.get(name)
        if entry is None:
            raise ManifestError(f"no model {name!r} (models: {', '.join(sorted(self.models)) or 'none'})",
                                model=name, key="models",
                                fix=FIX_REBUILD if task != DETECTION_TASK else FIX_REEXPORT)
        if task is not None and entry.task != task:
            same = sorted(n for n, e in self.models.items() if e.task == task)
            raise ManifestError(f"task is {entry.task!r}, expected {task!r} (models of that task: "
                                f"{', '.join(same) or 'none'})", model=name, key="task", fix=entry.fix)
        return entry

    def detector_names(self) -> list[str]:
        """The custom detectors (task object_detection with anchors and decoding), sorted."""
        return sorted(name for name, entry in self.models.items() if entry.is_custom_detector)


# -- parsing ---------------------------------------------------------------------------------------------
def parse_manifest(data: bytes | str | Mapping) -> Manifest:
    """models/manifest.json (its bytes, text or the decoded object) -> Manifest; ManifestError on any problem."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ManifestError(f"not UTF-8 text ({error})") from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise ManifestError(f"not JSON ({error})") from None
    if not isinstance(data, Mapping):
        raise ManifestError(f"the manifest is a JSON {_kind(data)}, expected an object")
    _known(data, _TOP_KEYS, None, "")
    if data.get("format") != FORMAT:
        raise ManifestError(f"format is {data.get('format')!r}, expected {FORMAT!r}", key="format")
    about = data.get("about", "")
    if not isinstance(about, str):
        raise ManifestError(f"'about' is a {_kind(about)}, expected text", key="about")
    if "models" not in data:
        raise ManifestError("no 'models'", key="models")
    raw = data["models"]
    items: list[tuple[str, Mapping]] = []
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise ManifestError("each item of a 'models' list needs a 'name'", key=f"models[{i}]")
            items.append((item["name"], {k: v for k, v in item.items() if k != "name"}))
    else:
        raise ManifestError(f"'models' is a {_kind(raw)}, expected an object or a list", key="models")
    models: dict[str, ModelEntry] = {}
    for name, entry in items:
        if not isinstance(name, str) or not name:
            raise ManifestError(f"model name {name!r} is not a non-empty string", key="models")
        if name in models:
            raise ManifestError("listed twice", model=name, key="models")
        models[name] = parse_entry(name, entry)
    return Manifest(MappingProxyType(models), FORMAT, about)


def parse_entry(name: str, entry: Mapping) -> ModelEntry:
    """One manifest entry -> ModelEntry; ManifestError naming the model, the key and the fix."""
    if not isinstance(entry, Mapping):
        raise ManifestError(f"the entry is a {_kind(entry)}, expected an object", model=name)
    fix = _fix_for(entry.get("task"), entry.get("converter"))

    def fail(key: str, problem: str) -> ManifestError:
        return ManifestError(problem, model=name, key=key, fix=fix)

    _known(entry, _ENTRY_KEYS, name, "", fix)
    for key in ("task", "format", "input", "outputs", "files"):
        if key not in entry:
            raise fail(key, "missing")
    task = _text(entry, "task", fail)
    if task not in TASKS:
        raise fail("task", f"unknown task {task!r} (tasks: {', '.join(TASKS)})")
    if entry["format"] != GRAPH_FORMAT:
        raise fail("format", f"{entry['format']!r}, expected {GRAPH_FORMAT!r} (the app loads TF.js graph models)")
    summary = _text(entry, "summary", fail, required=False)
    inp = _parse_input(entry["input"], name, fail, fix)
    output_specs = _parse_outputs(entry["outputs"], name, fail, fix)
    files = _parse_files(entry["files"], name, fail, fix)
    labels: tuple[str, ...] = ()
    if "labels" in entry:
        raw_labels = entry["labels"]
        if not isinstance(raw_labels, list) or not all(isinstance(v, str) and v for v in raw_labels):
            raise fail("labels", "expected a list of non-empty strings")
        if len(set(raw_labels)) != len(raw_labels):
            raise fail("labels", "a label is listed twice")
        labels = tuple(raw_labels)
    # Copies: the entry must not change when the caller's JSON object does.
    details = {k: copy.deepcopy(v) for k, v in entry.items() if k in _DETAIL_KEYS}
    _check_consistency(details, output_specs, files, fail)
    spec = _parse_detector(entry, task, labels, fail, fix)
    return ModelEntry(name=name, task=task, input=inp,
                      outputs=MappingProxyType({k: o.tensor for k, o in output_specs.items()}),
                      labels=labels, files=files, summary=summary, parts=copy.deepcopy(entry.get("parts")),
                      output_specs=MappingProxyType(output_specs), details=MappingProxyType(details), _spec=spec)


def _parse_input(inp: Any, name: str, fail, fix: str) -> InputSpec:
    if not isinstance(inp, Mapping):
        raise fail("input", f"a {_kind(inp)}, expected an object")
    _known(inp, _INPUT_KEYS, name, "input", fix)
    for key in ("key", "shape", "normalisation"):
        if key not in inp:
            raise fail(f"input.{key}", "missing")
    key = _text(inp, "key", lambda k, p: fail(f"input.{k}", p))
    tensor = _text(inp, "tensor", lambda k, p: fail(f"input.{k}", p), required=False)
    shape = _int_list(inp["shape"], "input.shape", fail)
    if len(shape) != 4 or any(v < 1 for v in shape[1:]) or shape[0] not in (-1, 1):
        raise fail("input.shape", f"{list(shape)}, expected [batch (1 or -1), height, width, channels]")
    if inp.get("layout", "NHWC") != "NHWC":
        raise fail("input.layout", f"{inp['layout']!r}, expected 'NHWC'")
    if inp.get("dtype", "float32") != "float32":
        raise fail("input.dtype", f"{inp['dtype']!r}, expected 'float32'")
    height, width, channels = shape[1], shape[2], shape[3]
    if "size" in inp and _int_list(inp["size"], "input.size", fail) != (width, height):
        raise fail("input.size", f"{inp['size']}, but the shape {list(shape)} says [{width}, {height}] (width, height)")
    color = inp.get("color", "RGB")
    if not isinstance(color, str):
        raise fail("input.color", f"a {_kind(color)}, expected text")
    grey = color.lower().startswith(("grey", "gray"))
    if channels != (1 if grey else 3):
        raise fail("input.shape", f"{channels} channel(s) for colour {color!r}")
    norm = inp["normalisation"]
    if not isinstance(norm, Mapping):
        raise fail("input.normalisation", f"a {_kind(norm)}, expected an object")
    _known(norm, _NORMALISATION_KEYS, name, "input.normalisation", fix)
    values = []
    for k in ("scale", "offset"):
        v = norm.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise fail(f"input.normalisation.{k}", f"{v!r}, expected a finite number")
        values.append(float(v))
    if values[0] == 0.0:
        raise fail("input.normalisation.scale", "0 would make every input the same")
    return InputSpec(width=width, height=height, shape=shape, normalisation=Normalisation(*values), grey=grey,
                     key=key, tensor=tensor)


def _parse_outputs(outputs: Any, name: str, fail, fix: str) -> dict[str, OutputSpec]:
    if not isinstance(outputs, list) or not outputs:
        raise fail("outputs", "expected a non-empty list of {key, tensor, shape, dtype, meaning}")
    found: dict[str, OutputSpec] = {}
    for i, item in enumerate(outputs):
        where = f"outputs[{i}]"
        if not isinstance(item, Mapping):
            raise fail(where, f"a {_kind(item)}, expected an object")
        _known(item, _OUTPUT_KEYS, name, where, fix)
        key = _text(item, "key", lambda k, p: fail(f"{where}.{k}", p))
        tensor = _text(item, "tensor", lambda k, p: fail(f"{where}.{k}", p))
        if key in found:
            raise fail(where, f"output key {key!r} listed twice")
        shape = _int_list(item["shape"], f"{where}.shape", fail) if "shape" in item else ()
        reshape = _int_list(item["reshape"], f"{where}.reshape", fail) if "reshape" in item else None
        found[key] = OutputSpec(key=key, tensor=tensor, shape=shape, reshape=reshape,
                                dtype=_text(item, "dtype", lambda k, p: fail(f"{where}.{k}", p), required=False),
                                meaning=_text(item, "meaning", lambda k, p: fail(f"{where}.{k}", p), required=False))
    return found


def _parse_files(files: Any, name: str, fail, fix: str) -> tuple[ModelFile, ...]:
    if not isinstance(files, list) or not files:
        raise fail("files", "expected a non-empty list of {path, role, sha256, size}")
    out: list[ModelFile] = []
    seen: set[str] = set()
    for i, item in enumerate(files):
        where = f"files[{i}]"
        if not isinstance(item, Mapping):
            raise fail(where, f"a {_kind(item)}, expected an object {{path, role, sha256, size}}")
        _known(item, _FILE_KEYS, name, where, fix)
        path = _text(item, "path", lambda k, p: fail(f"{where}.{k}", p))
        problem = path_problem(path)
        if problem:
            raise fail(f"{where}.path", f"{path!r} {problem}")
        if path in seen:
            raise fail(f"{where}.path", f"{path!r} listed twice")
        seen.add(path)
        role = _text(item, "role", lambda k, p: fail(f"{where}.{k}", p))
        if role not in ROLES:
            raise fail(f"{where}.role", f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        sha = _text(item, "sha256", lambda k, p: fail(f"{where}.{k}", p))
        if not _SHA256.match(sha):
            raise fail(f"{where}.sha256", f"{sha!r} is not 64 lower-case hex digits")
        size = item.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise fail(f"{where}.size", f"{size!r}, expected a byte count")
        out.append(ModelFile(path=path, role=role, sha256=sha, size=size))
    roles = [f.role for f in out]
    if roles.count("graph") != 1:
        raise fail("files", f"{roles.count('graph')} files with role 'graph', expected exactly 1 (model.json)")
    if "weights" not in roles:
        raise fail("files", "no file with role 'weights'")
    return tuple(out)


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a file under models/ (None when it can): relative, '/'-separated, no '..'."""
    if path.startswith("/") or "\\" in path or ":" in path.split("/", 1)[0]:
        return "is not a relative path under models/"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must not hold '..', '.' or empty parts (it has to stay inside models/)"
    return None


def _check_consistency(details: dict, outputs: dict[str, OutputSpec], files: tuple[ModelFile, ...], fail) -> None:
    if "output_order" in details and details["output_order"] != list(outputs):
        raise fail("output_order", f"{details['output_order']}, but the outputs are {list(outputs)}")
    graph = next(f.path for f in files if f.role == "graph")
    if "model_json" in details and details["model_json"] != graph:
        raise fail("model_json", f"{details['model_json']!r}, but the graph file is {graph!r}")
    if "card" in details and details["card"] not in {f.path for f in files if f.role == "card"}:
        raise fail("card", f"{details['card']!r} is not a file with role 'card'")


def _parse_detector(entry: Mapping, task: str, labels: tuple[str, ...], fail, fix: str) -> DetectorSpec | None:
    has = [k for k in ("anchors", "decoding") if k in entry]
    if not has:
        if task == DETECTION_TASK:
            raise fail("anchors", "an object_detection entry needs 'anchors' and 'decoding'")
        return None
    if len(has) == 1:
        missing = "decoding" if has == ["anchors"] else "anchors"
        raise fail(missing, f"missing ('{has[0]}' without '{missing}')")
    anchors, decoding = entry["anchors"], entry["decoding"]
    for key, block, known in (("anchors", anchors, _ANCHOR_KEYS), ("decoding", decoding, _DECODING_KEYS)):
        if not isinstance(block, Mapping):
            raise fail(key, f"a {_kind(block)}, expected an object")
        _known(block, known, None, key, fix, fail)
    nms = decoding.get("nms")
    if not isinstance(nms, Mapping):
        raise fail("decoding.nms", "missing or not an object")
    _known(nms, _NMS_KEYS, None, "decoding.nms", fix, fail)
    if anchors.get("calculator", "SsdAnchorsCalculator") != "SsdAnchorsCalculator":
        raise fail("anchors.calculator", f"{anchors['calculator']!r}, expected 'SsdAnchorsCalculator'")
    if decoding.get("box_format", "xywh") != "xywh":
        raise fail("decoding.box_format", f"{decoding['box_format']!r}, expected 'xywh'")
    if nms.get("overlap_type", "intersection_over_union") != "intersection_over_union":
        raise fail("decoding.nms.overlap_type", f"{nms['overlap_type']!r}, expected 'intersection_over_union'")
    blocks = {"anchors": anchors, "decoding": decoding}
    if labels:
        blocks["labels"] = list(labels)
    try:
        spec = spec_from_entry(blocks)
    except EntryError as error:
        raise fail("decoding", f"not a decodable detector ({error})") from None
    if "num_anchors" in anchors and anchors["num_anchors"] != spec.decode.num_boxes:
        raise fail("anchors.num_anchors", f"{anchors['num_anchors']}, but the anchor options give "
                                          f"{spec.decode.num_boxes}")
    keypoints = decoding.get("keypoints")
    if keypoints is not None and (not isinstance(keypoints, list) or len(keypoints) != spec.decode.num_keypoints):
        raise fail("decoding.keypoints", f"expected a list of {spec.decode.num_keypoints} names")
    return spec


# -- small helpers ---------------------------------------------------------------------------------------
def _fix_for(task: Any, converter: Any) -> str:
    tool = converter.get("tool", "") if isinstance(converter, Mapping) else ""
    if task == DETECTION_TASK or "train" in str(tool):
        return FIX_REEXPORT
    return FIX_REBUILD


def _known(block: Mapping, known: frozenset, model: str | None, where: str, fix: str = FIX_REBUILD,
           fail=None) -> None:
    for key in block:
        if key not in known:
            path = f"{where}.{key}" if where else str(key)
            problem = f"unknown key {key!r} (known here: {', '.join(sorted(known))})"
            if fail is not None:
                raise fail(path, problem)
            raise ManifestError(problem, model=model, key=path, fix=fix)


def _text(block: Mapping, key: str, fail, *, required: bool = True) -> str:
    if key not in block:
        if required:
            raise fail(key, "missing")
        return ""
    value = block[key]
    if not isinstance(value, str) or (required and not value):
        raise fail(key, f"{value!r}, expected {'non-empty ' if required else ''}text")
    return value


def _int_list(value: Any, where: str, fail) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise fail(where, f"{value!r}, expected a list of integers")
    return tuple(value)


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)
