"""A BlazeFace-style detector in Keras (128 and 256 px, one or more classes) and its settings.

The 128 px network is MediaPipe's face_detection_short_range graph layer for
layer (5x5 stem, 16 BlazeBlocks of depthwise 3x3 + pointwise 1x1 with a
residual that is max-pooled on stride 2 and zero-padded in channels, ReLU; heads
on the 16x16x88 and 8x8x96 maps with 2 and 6 anchors a cell). The layers carry
the TFLite tensor names, so ``init_from_mediapipe`` copies the backbone of the
shipped BlazeFace into it. The 256 px variant adds one stride-2 BlazeBlock after
the stem and keeps everything else (same 896 anchors, strides 16/32).

With ``box_coding="ssd"`` (``train-detector --anchors fit``) the anchors have
real sizes, the aspect ratios and scales fitted to the training boxes
(``anchor_fit``): each cell then holds len(aspect_ratios) + 1 anchors per
generator layer (2 and 6 again for one ratio), and the regressors are SSD
offsets (no pixel rescaling).

Outputs, as moodcam.detection.decode reads them (MediaPipe's
TensorsToDetectionsCalculator, ``reverse_output_order: true``):
    regressors      [B, 896, 4]  per anchor x_center, y_center, w, h in input pixels relative
                                 to the anchor (decode divides by the input size)
    classificators  [B, 896, C]  one logit per class (sigmoid, best class wins)
Anchor order is the generator's: rows of cells, then anchors in a cell.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

from moodcam.detection.anchors import BLAZEFACE_BACK_256, BLAZEFACE_SHORT_RANGE, SsdAnchorOptions, generate_anchors
from moodcam.detection.decode import DecodeOptions
from moodcam.detection.nms import NMS_ALGORITHMS, NmsOptions
from moodcam.detection.pipeline import DetectorSpec

from ..errors import BuildError

__all__ = ["DetectorConfig", "build_model", "init_from_mediapipe", "INPUT_SIZES", "BOX_CODINGS", "anchors_per_cell"]

INPUT_SIZES = (128, 256)
# (out_channels, stride) per BlazeBlock of the short-range model; input channels follow.
_BLOCKS = [(24, 1), (28, 1), (32, 2), (36, 1), (42, 1), (48, 2), (56, 1), (64, 1), (72, 1), (80, 1), (88, 1),
           (96, 2), (96, 1), (96, 1), (96, 1), (96, 1)]
_HEAD1_AFTER_BLOCK = 10     # 16x16x88 map (after "activation_11")
BOX_CODINGS = ("blazeface", "ssd")
# "blazeface": the BlazeBlocks above (``--init mediapipe`` / ``none``); "mobilenetv2_oidv4": MobileNetV2 1.0
# from MediaPipe's Objectron SSD trained on Open Images (``--init objectron``, train.backbones), heads on
# its stride 8/16 maps at 128 (32 and 96 channels) or 16/32 at 256 (96 and 320).
BACKBONES = ("blazeface", "mobilenetv2_oidv4")
SSD_XY_SCALE = 10.0         # 1 / centre variance 0.1 (TF Object Detection API, MediaPipe's SSD graphs)
SSD_WH_SCALE = 5.0          # 1 / size variance 0.2
NmsAlgorithm = Literal["weighted", "hard"]   # moodcam.detection.nms.NMS_ALGORITHMS, as NmsOptions types it
PRIOR = 0.01                # initial foreground probability of the class logits (RetinaNet)


@dataclasses.dataclass(frozen=True)
class DetectorConfig:
    """Everything that defines one trained detector besides its weights (stored as config.json)."""

    class_names: tuple[str, ...]
    input_size: int = 128
    # Normalisation: y = x * scale + offset on 0..255 pixels, as the app and MediaPipe do.
    norm_scale: float = 1 / 127.5
    norm_offset: float = -1.0
    min_score_thresh: float = 0.5
    nms_iou: float = 0.3
    # "hard" (MediaPipe's DEFAULT; what config.json files without this field describe) or "weighted"
    # (MediaPipe's blending, as its face detector: the score-weighted mean of each cluster's boxes).
    nms: NmsAlgorithm = "hard"
    # Anchors and box encoding. "blazeface": MediaPipe's square anchors of fixed size 1, regressors in
    # input pixels (as the face model; what config.json files without this field describe).
    # "ssd": anchors with real sizes (aspect_ratios x scales min_scale..max_scale over the strides, see
    # moodcam.detection.anchors), regressors in SSD units relative to the anchor with log-space sizes
    # (x/y scale 10, w/h scale 5, exponential), so one head output means the same at every anchor.
    box_coding: str = "blazeface"
    aspect_ratios: tuple[float, ...] = (1.0,)
    min_scale: float | None = None          # None: the BlazeFace layout's own
    max_scale: float | None = None
    backbone: str = "blazeface"             # BACKBONES; config.json files without this field describe blazeface
    # The two feature maps' strides; None: the BlazeFace layouts' own, (8, 16) at 128 px and (16, 32) at
    # 256 px. (8, 16) at 256 px puts the first head on the MobileNetV2 trunk's 32x32 map (4x the cells):
    # small, packed objects each get an anchor of their own instead of sharing a 16 px cell.
    head_strides: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "aspect_ratios", tuple(float(r) for r in self.aspect_ratios))
        if self.head_strides is not None:
            strides = tuple(int(v) for v in self.head_strides)
            object.__setattr__(self, "head_strides", None if strides == self.layout_strides else strides)
        if self.input_size not in INPUT_SIZES:
            raise BuildError(f"input size {self.input_size} is not supported", expected="128 or 256")
        if not self.class_names:
            raise BuildError("a detector needs at least one class")
        if self.nms not in NMS_ALGORITHMS:
            raise BuildError(f"unknown NMS {self.nms!r}", expected=" or ".join(NMS_ALGORITHMS))
        if self.backbone not in BACKBONES:
            raise BuildError(f"unknown backbone {self.backbone!r}", expected=" or ".join(BACKBONES))
        if self.box_coding not in BOX_CODINGS:
            raise BuildError(f"unknown box coding {self.box_coding!r}", expected=" or ".join(BOX_CODINGS))
        if not self.aspect_ratios or min(self.aspect_ratios) <= 0:
            raise BuildError(f"aspect ratios must be positive, got {self.aspect_ratios}")
        if self.head_strides not in (None, self.layout_strides, (8, 16)):
            raise BuildError(f"head strides {self.head_strides} are not supported at {self.input_size} px",
                             expected=f"8,16 or {','.join(map(str, self.layout_strides))}")
        if self.strides == (8, 16) and self.input_size == 256 and self.backbone != "mobilenetv2_oidv4":
            raise BuildError("head strides 8,16 at 256 px need the MobileNetV2 trunk (--init objectron): the "
                             "BlazeFace backbone has no stride-8 map at 256 px",
                             fix="add --init objectron, or leave the strides at 16,32")
        if self.box_coding == "blazeface" and (self.aspect_ratios != (1.0,) or self.min_scale is not None
                                               or self.max_scale is not None):
            raise BuildError("the blazeface box coding has square anchors of fixed size",
                             fix="use box_coding 'ssd' for fitted aspect ratios and scales")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def layout_strides(self) -> tuple[int, int]:
        """The BlazeFace layout's two strides at this input size."""
        return (8, 16) if self.input_size == 128 else (16, 32)

    @property
    def strides(self) -> tuple[int, int]:
        """The two feature maps' strides this detector uses."""
        return self.head_strides or self.layout_strides

    @property
    def anchor_options(self) -> SsdAnchorOptions:
        base = BLAZEFACE_SHORT_RANGE if self.input_size == 128 else BLAZEFACE_BACK_256
        if self.strides != self.layout_strides:         # the layout's 4 layers: 1 on the first map, 3 on the second
            first, second = self.strides
            base = dataclasses.replace(base, strides=(first, second, second, second))
        if self.box_coding == "blazeface":
            return base
        return dataclasses.replace(
            base, aspect_ratios=self.aspect_ratios, fixed_anchor_size=False,
            min_scale=base.min_scale if self.min_scale is None else float(self.min_scale),
            max_scale=base.max_scale if self.max_scale is None else float(self.max_scale))

    @property
    def anchors_per_cell(self) -> tuple[int, int]:
        """Anchors per cell on the stride-s1 map and on the stride-s2 map (the generator's grouping)."""
        s1, s2 = anchors_per_cell(self.anchor_options)   # both layouts have exactly these two strides
        return s1, s2

    @property
    def regressor_scale(self) -> float:
        """Constant the head's raw output is multiplied by (keeps the learnt weights O(1))."""
        # blazeface: targets are input pixels (tens), learnt in units of 1/8 of the input.
        return self.input_size / 8.0 if self.box_coding == "blazeface" else 1.0

    @property
    def num_anchors(self) -> int:
        return int(generate_anchors(self.anchor_options).shape[0])

    def decode_options(self, min_score: float | None = None) -> DecodeOptions:
        s = float(self.input_size)
        ssd = self.box_coding == "ssd"
        xy, wh = (SSD_XY_SCALE, SSD_WH_SCALE) if ssd else (s, s)
        return DecodeOptions(num_classes=self.num_classes, num_boxes=self.num_anchors, num_coords=4,
                             box_coord_offset=0, keypoint_coord_offset=4, num_keypoints=0,
                             num_values_per_keypoint=2, sigmoid_score=True, score_clipping_thresh=100.0,
                             reverse_output_order=True, x_scale=xy, y_scale=xy, w_scale=wh, h_scale=wh,
                             apply_exponential_on_box_size=ssd,
                             min_score_thresh=self.min_score_thresh if min_score is None else min_score)

    def nms_options(self, min_score: float | None = None, max_detections: int | None = None) -> NmsOptions:
        return NmsOptions(algorithm=self.nms, min_suppression_threshold=self.nms_iou,
                          min_score=self.min_score_thresh if min_score is None else min_score,
                          max_detections=max_detections)

    def spec(self, min_score: float | None = None, max_detections: int | None = None) -> DetectorSpec:
        return DetectorSpec(self.anchor_options, self.decode_options(min_score),
                            self.nms_options(min_score, max_detections))

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "class_names": list(self.class_names)}

    @classmethod
    def from_json(cls, data: dict) -> "DetectorConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in fields}
        return cls(**values)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "DetectorConfig":
        try:
            return cls.from_json(json.loads(Path(path).read_text()))
        except (OSError, ValueError, TypeError) as error:
            raise BuildError(f"cannot read the detector settings {path}: {error}",
                             fix="point at a folder written by `build.py train-detector`") from None


def anchors_per_cell(options: SsdAnchorOptions) -> tuple[int, ...]:
    """Anchors per cell of each feature map (one per distinct stride), as generate_anchors lays them out."""
    counts: list[int] = []
    strides = list(options.strides)
    per_layer = len(options.aspect_ratios) + (1 if options.interpolated_scale_aspect_ratio > 0 else 0)
    for i, stride in enumerate(strides):
        if i and stride == strides[i - 1]:
            counts[-1] += per_layer
        else:
            counts.append(per_layer)
    return tuple(counts)


def _channel_pad_layer():
    import keras

    @keras.saving.register_keras_serializable(package="moodcam")
    class ChannelPad(keras.layers.Layer):
        """Zero channels appended to the residual (MediaPipe's PAD op), so it can be added to a wider output."""

        def __init__(self, extra: int, **kwargs):
            super().__init__(**kwargs)
            self.extra = int(extra)

        def call(self, x):
            return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, self.extra]])

        def compute_output_shape(self, shape):
            return (*shape[:3], shape[3] + self.extra)

        def get_config(self):
            return {**super().get_config(), "extra": self.extra}

    return ChannelPad


def _blaze_block(x, out_ch: int, stride: int, suffix: str):
    import keras
    from keras import layers

    in_ch = x.shape[-1]
    h = layers.DepthwiseConv2D(3, strides=stride, padding="same", name=f"depthwise_conv2d{suffix}")(x)
    h = layers.Conv2D(out_ch, 1, padding="valid", name=f"conv2d{_next(suffix)}")(h)
    shortcut = x
    if stride == 2:
        shortcut = layers.MaxPooling2D(2, 2, name=f"max_pool{suffix}")(shortcut)
    if out_ch > in_ch:
        shortcut = _channel_pad_layer()(out_ch - in_ch, name=f"channel_padding{suffix}")(shortcut)
    out = layers.Add(name=f"add{suffix}")([shortcut, h])
    return keras.layers.ReLU(name=f"activation{_next(suffix)}")(out)


def _next(suffix: str) -> str:
    """TFLite names: block i uses depthwise_conv2d[_i] and conv2d_{i+1}."""
    if suffix.startswith("_extra"):
        return suffix
    return f"_{int(suffix[1:]) + 1}" if suffix else "_1"


def _blaze_feature_maps(inp, s: int) -> list:
    """The BlazeBlocks' 16x16x88 and 8x8x96 maps (at 128: stride 8 and 16; at 256: 16 and 32)."""
    from keras import layers

    x = layers.Conv2D(24, 5, strides=2, padding="same", name="conv2d")(inp)
    x = layers.ReLU(name="activation")(x)
    if s == 256:
        x = _blaze_block(x, 24, 2, "_extra")
    feature_maps = []
    for i, (out_ch, stride) in enumerate(_BLOCKS):
        x = _blaze_block(x, out_ch, stride, f"_{i}" if i else "")
        if i == _HEAD1_AFTER_BLOCK:
            feature_maps.append(x)
    feature_maps.append(x)
    return feature_maps


def build_model(config: DetectorConfig):
    """The Keras model: input [B, S, S, 3] normalised -> [regressors [B, N, 4], classificators [B, N, C]]."""
    import keras
    from keras import layers

    s, c = config.input_size, config.num_classes
    inp = keras.Input((s, s, 3), name="input")
    if config.backbone == "mobilenetv2_oidv4":
        from .backbones import trunk_maps
        maps = trunk_maps(inp, up_to_stride=config.strides[1])
        feature_maps = [maps[stride] for stride in config.strides]
    else:
        feature_maps = _blaze_feature_maps(inp, s)
    bias = keras.initializers.Constant(-math.log((1 - PRIOR) / PRIOR))
    regs, clss = [], []
    if len(config.anchors_per_cell) != len(feature_maps):
        raise AssertionError(f"{len(config.anchors_per_cell)} anchor layers for {len(feature_maps)} feature maps")
    for fmap, per_cell, tag in zip(feature_maps, config.anchors_per_cell, ("8", "16")):
        n = fmap.shape[1] * fmap.shape[2] * per_cell
        cl = layers.Conv2D(per_cell * c, 1, bias_initializer=bias, name=f"classificator_{tag}")(fmap)
        rg = layers.Conv2D(per_cell * 4, 1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
                           name=f"regressor_{tag}")(fmap)
        clss.append(layers.Reshape((n, c), name=f"reshape_cls_{tag}")(cl))
        regs.append(layers.Reshape((n, 4), name=f"reshape_reg_{tag}")(rg))
    reg = layers.Concatenate(axis=1, name="regressors")(regs)
    cls = layers.Concatenate(axis=1, name="classificators")(clss)
    # blazeface coding: the regressors are in input pixels (tens); the layer learns in units of 1/8 of
    # the input, so its weights stay O(1). A constant scale folds into the graph.
    if config.regressor_scale != 1.0:
        reg = layers.Rescaling(config.regressor_scale, name="regressors_px")(reg)
    model = keras.Model(inp, [reg, cls], name=f"blazedetector_{s}" if config.backbone == "blazeface"
                        else f"{config.backbone}_detector_{s}")
    if model.outputs[0].shape[1] != config.num_anchors:
        raise AssertionError(f"model has {model.outputs[0].shape[1]} anchors, generator {config.num_anchors}")
    return model


def init_from_mediapipe(model, tflite_path: Path) -> list[str]:
    """Copy the backbone weights of MediaPipe's face_detection_short_range.tflite into ``model``.

    Returns the names of the layers that were set. Heads (class count differs) stay random.
    """
    from ..convert.tflite_reader import read_tflite

    graph = read_tflite(Path(tflite_path), name=Path(tflite_path).name)
    consts: dict[str, np.ndarray] = {}
    for op in graph.operators:
        if op.op_name == "DEQUANTIZE":
            src, dst = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
            consts[dst.name.replace("_dequantize", "")] = np.asarray(src.data, np.float32)
    for t in graph.tensors:
        if t.data is not None and t.name not in consts and t.data.dtype == np.float32:
            consts[t.name] = np.asarray(t.data, np.float32)
    done = []
    for layer in model.layers:
        kernel, bias = consts.get(f"{layer.name}/Kernel"), consts.get(f"{layer.name}/Bias")
        if kernel is None or bias is None or layer.name.startswith(("classificator", "regressor")):
            continue
        if layer.__class__.__name__ == "DepthwiseConv2D":
            k = kernel.transpose(1, 2, 3, 0)            # 1HWC -> HWC1
        else:
            k = kernel.transpose(1, 2, 3, 0)            # OHWI -> HWIO
        want = [tuple(w.shape) for w in layer.get_weights()]
        if want != [k.shape, bias.shape]:
            continue
        layer.set_weights([k, bias])
        done.append(layer.name)
    if not done:
        raise BuildError(f"{tflite_path} gave no weights for this model",
                         expected="MediaPipe's face_detection_short_range.tflite")
    return done


def mediapipe_tflite(cache: Path | None = None, *, download: bool = True) -> Path:
    """The pinned face_detection_short_range.tflite, fetched and verified like `build.py models` does."""
    from .. import paths
    from ..convert import sources

    cache = cache or paths.downloads_dir()
    dest = paths.cache_dir() / "train-init"
    return sources.prepare([sources.BLAZEFACE_TFLITE], cache, dest, download=download)[
        sources.BLAZEFACE_TFLITE.member]
