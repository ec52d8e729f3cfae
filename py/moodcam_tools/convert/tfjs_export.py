"""SavedModel -> TF.js graph model with the tensorflowjs converter (Python API,
same code path as `tensorflowjs_converter --input_format tf_saved_model
--output_format tfjs_graph_model [--quantize_float16 '*']`).

model.json is rewritten with sorted keys and fixed separators so the bytes do
not depend on dict order; the converter writes no timestamps or paths (checked
by `check_no_leaks`). Weight shards are 4 MB as the converter's default.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from ..errors import BuildError

SHARD_BYTES = 4 * 1024 * 1024


def convert(saved_model_dir: Path, output_dir: Path, *, float16: bool) -> dict:
    from tensorflowjs.converters import tf_saved_model_conversion_v2 as tfjs_conv

    output_dir.mkdir(parents=True, exist_ok=True)
    quantization = {"float16": ["*"]} if float16 else None
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            tfjs_conv.convert_tf_saved_model(str(saved_model_dir), str(output_dir),
                                             signature_def="serving_default", saved_model_tags="serve",
                                             quantization_dtype_map=quantization,
                                             weight_shard_size_bytes=SHARD_BYTES)
    except Exception as error:
        raise BuildError(f"the tensorflowjs converter failed on {saved_model_dir.name}: "
                         f"{type(error).__name__}: {error}\n{log.getvalue()[-2000:]}",
                         fix="check the op is supported by TF.js (tfjs-converter op list)") from None
    model_json = output_dir / "model.json"
    data = json.loads(model_json.read_text())
    model_json.write_text(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n")
    check_no_leaks(output_dir, [str(saved_model_dir), str(output_dir), str(saved_model_dir.parent)])
    return data


def check_no_leaks(output_dir: Path, paths: list[str]) -> None:
    text = (output_dir / "model.json").read_text()
    for p in paths:
        if p and p in text:
            raise BuildError(f"{output_dir / 'model.json'} mentions the build path {p}; the output would "
                             "not be reproducible")


def signature(model_json: dict) -> dict:
    """Input/output names as the browser sees them: signature key -> tensor name, shape, dtype."""
    sig = model_json.get("signature", {})

    def entries(block: dict) -> list[dict]:
        out = []
        for key, info in sorted(block.items()):
            dims = info.get("tensorShape", {}).get("dim", [])
            out.append({"key": key, "tensor": info["name"],
                        "shape": [int(d.get("size", -1)) for d in dims],
                        "dtype": info.get("dtype", "").replace("DT_", "").lower()})
        return out

    return {"inputs": entries(sig.get("inputs", {})), "outputs": entries(sig.get("outputs", {}))}


def weight_files(model_json: dict) -> list[str]:
    return [p for group in model_json["weightsManifest"] for p in group["paths"]]
