"""Trained detector -> SavedModel -> TF.js graph model (4 MB shards) + a models/manifest.json entry.

The model folder is converted into a staging folder next to its destination
and swapped into place only when everything succeeded (conversion, a SavedModel
vs Keras check, the model card); the manifest is then rewritten atomically with
the new entry merged in, other entries untouched.

The entry has the same schema as the shipped models (moodcam_tools.convert):
``input`` (tensor, shape, normalisation, letterbox), ``outputs`` (tensor names,
shapes, meaning), ``labels``, ``anchors`` (SsdAnchorsCalculator options) and
``decoding`` (TensorsToDetectionsCalculator options + NMS), so the app can build
its DetectorSpec from it with :func:`moodcam.detection.spec.spec_from_entry` (re-exported
here), the function the app itself uses.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from moodcam.detection.spec import spec_from_entry

from ..convert.detector_blocks import anchors_block, box_formula, decoding_block
from ..errors import BuildError
from ..fsutil import staged_directory
from .model import DetectorConfig

__all__ = ["export_detector", "manifest_entry", "spec_from_entry", "save_serving_model", "VERIFY_TOLERANCE"]

VERIFY_TOLERANCE = 1e-3
_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def built_in_names() -> tuple[str, ...]:
    """The models `build.py models` makes (models/manifest.json's built-in entries): never a trained model's name."""
    from ..convert.specs import MODELS

    return tuple(spec.name for spec in MODELS)


def check_name(name: str) -> str:
    if not name or not set(name) <= _NAME_OK or name[0] in "-_":
        raise BuildError(f"model name {name!r} is not usable in a URL (?model=<name>) or as a folder",
                         expected="lower-case letters, digits, '_' and '-', starting with a letter or digit",
                         fix="pass e.g. --name shapes_detector")
    if name in built_in_names():
        raise BuildError(f"model name {name!r} belongs to a built-in model of the app (made by `build.py models`); "
                         "a trained detector under that name would replace it",
                         expected="a name that is none of " + ", ".join(built_in_names()),
                         fix=f"pass another --name, e.g. --name my_{name} (without --name the name is the "
                             "--data folder's)")
    return name


def check_install_target(models_dir: Path, name: str, *, overwrite: bool) -> None:
    """Refuse to replace a model already in ``models_dir`` (its manifest entry or folder) unless ``overwrite``."""
    models_dir = Path(models_dir)
    manifest = models_dir / "manifest.json"
    entries: dict = {}
    if manifest.is_file():
        try:
            entries = json.loads(manifest.read_text()).get("models") or {}
        except (ValueError, AttributeError) as error:
            raise BuildError(f"{manifest} is not a valid manifest ({error}); not touching it",
                             fix="repair or remove it, then train again") from None
    if overwrite or (name not in entries and not (models_dir / name).exists()):
        return
    what = "an entry in manifest.json" if name in entries else "a folder"
    raise BuildError(f"{models_dir} already holds a model named {name!r} ({what}); installing would replace it",
                     fix=f"pass another --name, or add --overwrite to replace {models_dir / name}")


def save_serving_model(model, config: DetectorConfig, directory: Path) -> Path:
    """A SavedModel whose serving_default takes ``input`` [1, S, S, 3] and returns regressors/classificators."""
    import tensorflow as tf

    s = config.input_size

    @tf.function(input_signature=[tf.TensorSpec([1, s, s, 3], tf.float32, name="input")], autograph=False)
    def serve(x):
        reg, cls = model(x, training=False)
        return {"regressors": tf.identity(reg, name="regressors"),
                "classificators": tf.identity(cls, name="classificators")}

    module = tf.Module()
    module.model = model            # tracks the variables
    concrete = serve.get_concrete_function()
    module.serve = concrete
    tf.saved_model.save(module, str(directory), signatures={"serving_default": concrete})
    return directory


def _verify_saved_model(model, config: DetectorConfig, directory: Path) -> float:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(directory))
    fn = loaded.signatures["serving_default"]
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(2):
        x = rng.uniform(-1, 1, (1, config.input_size, config.input_size, 3)).astype(np.float32)
        got = fn(input=tf.constant(x))
        reg, cls = model(x, training=False)
        worst = max(worst, float(np.max(np.abs(got["regressors"].numpy() - np.asarray(reg)))),
                    float(np.max(np.abs(got["classificators"].numpy() - np.asarray(cls)))))
    if not np.isfinite(worst) or worst > VERIFY_TOLERANCE:
        raise BuildError(f"the SavedModel differs from the Keras model by {worst:.3g}",
                         expected=f"max abs error <= {VERIFY_TOLERANCE}")
    return worst


def _anchor_block(config: DetectorConfig) -> dict:
    opts = config.anchor_options
    s1, s2 = opts.strides[0], opts.strides[-1]
    n1, n2 = config.anchors_per_cell
    size = ("anchor w = h = 1 (fixed size)" if opts.fixed_anchor_size else
            f"anchor sizes from aspect ratios {list(opts.aspect_ratios)} and scales {opts.min_scale:g}.."
            f"{opts.max_scale:g} (fitted to the training boxes)")
    layout = (f"stride {s1}: {config.input_size // s1}x{config.input_size // s1} cells x {n1} anchors "
              f"(rows first), then stride {s2}: {config.input_size // s2}x{config.input_size // s2} cells "
              f"x {n2} anchors; {size}")
    return anchors_block(opts, layout=layout)


def _decoding_block(config: DetectorConfig) -> dict:
    spec = config.spec()
    formula = (box_formula(spec.decode)
               + "; score = sigmoid(clip(logit, -100, 100)), label = argmax over classes")
    return decoding_block(spec.decode, spec.nms, keypoints=[], formula=formula, class_agnostic=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def init_weights_notice(init: str | None) -> str | None:
    """The card's line naming the pretrained weights a detector was started from, or None from scratch.

    Both built-in starts are Apache-2.0 works: a model fine-tuned from them is a modified version, and
    Apache-2.0 section 4 asks that it say so and carry the licence on.
    """
    from ..convert.sources import BLAZEFACE_TFLITE
    from .backbones import OBJECTRON_SSD

    if init in (None, "", "none"):
        return None
    if init == "mediapipe":
        licence = BLAZEFACE_TFLITE.wheel.licence
        source = (f"MediaPipe's BlazeFace backbone ({Path(BLAZEFACE_TFLITE.member).name}, PyPI "
                  f"{BLAZEFACE_TFLITE.wheel.requirement})")
    elif init == "objectron":
        licence = OBJECTRON_SSD.licence
        source = (f"the MobileNetV2 trunk of MediaPipe's Objectron SSD ({OBJECTRON_SSD.filename}, npm "
                  f"{OBJECTRON_SSD.package}@{OBJECTRON_SSD.version}, trained on Open Images)")
    else:
        return (f"- Started from: the weights of {Path(init).name}, under that file's own licence; this model "
                "is a modified version of them.")
    return (f"- Started from: {source}, {licence}. This model is a modified version of those weights "
            f"(fine-tuned with `build.py train-detector`); the {licence} licence and its notice apply to it.")


def _card(name: str, entry: dict) -> str:
    t = entry["training"]
    coco = t.get("coco") or {}
    lines = [
        f"# {name}", "",
        f"{entry['summary']}.", "",
        f"- Input: {entry['input']['size'][0]}x{entry['input']['size'][1]} RGB, letterboxed (keep aspect, black "
        f"padding), normalised {entry['input']['normalisation']['formula']}.",
        f"- Labels: {', '.join(entry['labels'])}.",
        f"- Outputs: regressors [1, {entry['anchors']['num_anchors']}, 4] (x, y, w, h relative to "
        f"the anchor, see decoding) and classificators [1, {entry['anchors']['num_anchors']}, {len(entry['labels'])}] (logits).",
        f"- Decoding: MediaPipe SSD anchors ({entry['anchors']['layout']}), sigmoid scores >= "
        f"{entry['decoding']['min_score_thresh']}, {entry['decoding']['nms']['algorithm']} NMS at IoU "
        f"{entry['decoding']['nms']['min_suppression_threshold']}.",
        f"- Trained with `build.py train-detector` on {t.get('train_images')} images ({t.get('data_format')}), "
        f"validated on {t.get('val_images')}; loss {t.get('loss')}, initialisation {t.get('init')}, "
        f"{t.get('epochs_run')} epochs (best {t.get('best_epoch')}).",
        f"- Licence: {entry['licence']}.",
    ]
    notice = init_weights_notice(t.get("init"))
    if notice:
        lines.append(notice)
    if coco:
        from .evaluate import format_summary
        lines += ["", "COCO evaluation on the validation split:", "", "```", format_summary(coco), "```"]
    return "\n".join(lines) + "\n"


def manifest_entry(name: str, config: DetectorConfig, model_json: dict, weights_bytes: int, *, float16: bool,
                   summary: str, licence: str, training: dict, weights_file: Path | None) -> dict:
    import keras
    import tensorflow as tf
    import tensorflowjs

    from ..convert import tfjs_export

    sig = tfjs_export.signature(model_json)
    (inp,) = sig["inputs"]
    n, c, s = config.num_anchors, config.num_classes, config.input_size
    meanings = {
        "regressors": ("per anchor: box x_center, y_center, w, h relative to the anchor (SSD coding, log sizes; "
                       "see decoding)") if config.box_coding == "ssd" else
                      f"per anchor: box x_center, y_center, w, h in input pixels relative to the anchor "
                      f"(divide by {s}, see decoding)",
        "classificators": f"per anchor: {c} class logits in label order; sigmoid(clip(v, -100, 100)) is the "
                          "probability, the best class wins",
    }
    outputs = [{**o, "meaning": meanings[o["key"]]} for o in sig["outputs"]]
    for o in outputs:
        want = [1, n, 4] if o["key"] == "regressors" else [1, n, c]
        if o["shape"] != want:
            raise BuildError(f"converted output {o['key']} has shape {o['shape']}, expected {want}")
    mp = config.norm_offset == -1.0 and abs(config.norm_scale - 1 / 127.5) < 1e-12
    return {
        "task": "object_detection",
        "summary": summary,
        "format": "tfjs_graph_model",
        "model_json": f"{name}/model.json",
        "weights_dtype": "float16" if float16 else "float32",
        "weights_bytes": weights_bytes,
        "input": {**inp, "dtype": "float32", "layout": "NHWC", "color": "RGB", "size": [s, s],
                  "resize": f"letterbox the frame to {s}x{s} (keep aspect, pad with black, bilinear), map boxes back",
                  "normalisation": {"formula": "(x-127.5)/127.5" if mp else f"x*{config.norm_scale}+{config.norm_offset}",
                                    "scale": config.norm_scale, "offset": config.norm_offset,
                                    "note": "x is the 0..255 pixel value; y = x*scale + offset"}},
        "outputs": outputs,
        "output_order": [o["key"] for o in outputs],
        "labels": list(config.class_names),
        "anchors": _anchor_block(config),
        "decoding": _decoding_block(config),
        "source": {"package": "moodcam (trained with build.py train-detector)", "version": "",
                   "wheel": "", "wheel_sha256": "", "requirement": "",
                   "path": weights_file.name if weights_file else "",
                   "sha256": _sha256(weights_file) if weights_file and weights_file.is_file() else "",
                   "size": weights_file.stat().st_size if weights_file and weights_file.is_file() else 0,
                   "fetch": "python3 build.py train-detector (see the card)"},
        "licence": licence,
        "card": f"{name}/README.md",
        "converter": {"tool": "moodcam_tools.train.export (build.py train-detector)",
                      "tensorflowjs": tensorflowjs.__version__, "tensorflow": tf.__version__,
                      "keras": keras.__version__, "weight_quantization": "float16" if float16 else "none"},
        "training": training,
    }


def _manifest_with(models_dir: Path, name: str, entry: dict) -> dict:
    """models_dir/manifest.json with `entry` merged in, checked as the app parses it (BuildError if not)."""
    from ..convert import manifest

    path = models_dir / "manifest.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except ValueError as error:
            raise BuildError(f"{path} is not valid JSON ({error}); not touching it",
                             fix="repair or remove it, then export again") from None
    else:
        data = {"format": manifest.FORMAT,
                "about": "Models for moodcam; every file's sha256 is checked by the app before use.",
                "models": {}}
    data.setdefault("models", {})[name] = entry
    manifest.validate(data)
    return data


def _write_manifest(models_dir: Path, data: dict) -> Path:
    from ..convert import manifest

    manifest.validate(data)
    path = models_dir / "manifest.json"
    tmp = path.with_name(f".manifest-{os.getpid()}.json")
    tmp.write_text(manifest.dumps(data))
    os.replace(tmp, path)
    return path


def export_detector(model, config: DetectorConfig, models_dir: Path, name: str, *, float16: bool = False,
                    summary: str | None = None, licence: str = "unspecified: the licence of your training data",
                    training: dict | None = None, weights_file: Path | None = None, log=print) -> dict:
    """Write ``models_dir/name/`` (model.json, shards, README.md) and merge its entry into manifest.json."""
    from ..convert import tfjs_export

    check_name(name)
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    shape = "BlazeFace-style" if config.backbone == "blazeface" else "MobileNetV2 SSD-style"
    summary = summary or (f"custom {shape} detector ({config.input_size} px, {config.num_anchors} SSD "
                          f"anchors) for {', '.join(config.class_names)}")
    training = dict(training or {})
    training.setdefault("exported", datetime.date.today().isoformat())
    with tempfile.TemporaryDirectory(prefix="moodcam-export-") as tmp:
        saved = save_serving_model(model, config, Path(tmp) / "saved_model")
        error = _verify_saved_model(model, config, saved)
        log(f"[export] SavedModel matches Keras (max abs error {error:.2g})")
        with staged_directory(models_dir / name) as staging:
            model_json = tfjs_export.convert(saved, staging, float16=float16)
            weight_paths = tfjs_export.weight_files(model_json)
            weights_bytes = sum((staging / p).stat().st_size for p in weight_paths)
            entry = manifest_entry(name, config, model_json, weights_bytes, float16=float16, summary=summary,
                                   licence=licence, training=training, weights_file=weights_file)
            (staging / "README.md").write_text(_card(name, entry))
            files = [("model.json", "graph")] + [(p, "weights") for p in weight_paths] + [("README.md", "card")]
            entry["files"] = [{"path": f"{name}/{p}", "sha256": _sha256(staging / p),
                               "size": (staging / p).stat().st_size, "role": role} for p, role in files]
            spec_from_entry(entry)          # the entry must describe a decodable model
            # ... that the app accepts, merged into a manifest it accepts: checked before the folder is swapped in.
            data = _manifest_with(models_dir, name, entry)
    path = _write_manifest(models_dir, data)
    log(f"[export] wrote {models_dir / name} ({weights_bytes:,} bytes of weights in {len(weight_paths)} shard(s)) "
        f"and the {name!r} entry of {path}")
    return entry
