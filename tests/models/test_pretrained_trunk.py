"""The MobileNetV2 trunk rebuilt in Keras from MediaPipe's Objectron SSD (moodcam_tools.train.backbones)
against the TFLite interpreter running the original file, on real photos.

Tolerance: every trunk map (strides 8, 16, 32) within 2e-5 of its largest magnitude. Both sides use
the same fp16 weights widened to float32 and float32 arithmetic, so only the order of summation differs
(measured here: 2.6e-6, 0.9e-6 and 1.8e-6 of the range at strides 8, 16, 32; 2e-5 leaves 8x for other
kernels' summation orders). One depthwise weight moved by 5 % of the kernel's largest gives 8.6e-4 after
it, 40x the tolerance (test_one_changed_weight_is_caught).
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from moodcam_tools.errors import BuildError
from moodcam_tools.train import backbones

from tests.models.parity_support import general_object_inputs

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # TF segfaults in predict without it (NOTES.md)
pytestmark = pytest.mark.convert
TOLERANCE = 2e-5
SIZE = 300          # the .tflite's fixed input; the Keras trunk takes any size


def test_scope_reads_the_ops_own_name():
    fused = ("FeatureExtractor/MobilenetV2/expanded_conv_3/project/BatchNorm/FusedBatchNormV3;"
             "FeatureExtractor/MobilenetV2/expanded_conv_5/project/Conv2D")
    assert backbones._scope(fused) == "expanded_conv_3/project"
    assert backbones._scope("FeatureExtractor/MobilenetV2/Conv/Relu6;x") == "Conv"
    assert backbones._scope("FeatureExtractor/MobilenetV2/expanded_conv_12/add") == "expanded_conv_12/add"
    assert backbones._scope("BoxPredictor_0/ClassPredictor/BiasAdd;FeatureExtractor/MobilenetV2/Conv") == ""


def relative_errors(model, x: np.ndarray, reference: dict[str, np.ndarray]) -> dict[str, float]:
    """max |keras - tflite| / max |tflite| for each trunk map."""
    maps = model.predict(x, batch_size=4, verbose=0)
    out = {}
    for stride, got in zip(sorted(backbones.TRUNK_MAPS), maps):
        want = reference[backbones.TRUNK_MAPS[stride]]
        assert got.shape == want.shape, (stride, got.shape, want.shape)
        out[backbones.TRUNK_MAPS[stride]] = float(np.abs(got - want).max() / np.abs(want).max())
    return out


@pytest.fixture(scope="module")
def trunk_and_reference(tmp_path_factory):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (needs the convert extra)")
    from moodcam_tools.convert.tflite_reader import read_tflite

    tflite = backbones.objectron_ssd_tflite()
    x, _ = general_object_inputs(SIZE)
    reference = backbones.reference_tensors(tflite, x, tmp_path_factory.mktemp("trunk"))
    model = backbones.build_trunk(SIZE)
    assert len(backbones.load_trunk_weights(model, read_tflite(tflite))) == 51   # stem + 17 blocks x 3 - the first block's expansion
    return model, x, reference


def test_trunk_matches_the_tflite_interpreter(trunk_and_reference):
    model, x, reference = trunk_and_reference
    assert [tuple(reference[backbones.TRUNK_MAPS[s]].shape[1:]) for s in (8, 16, 32)] == \
        [(38, 38, 32), (19, 19, 96), (10, 10, 320)]
    errors = relative_errors(model, x, reference)
    print("relative max errors:", errors)
    assert max(errors.values()) <= TOLERANCE, errors


def test_one_changed_weight_is_caught(trunk_and_reference):
    model, x, reference = trunk_and_reference
    layer = model.get_layer("expanded_conv_8_depthwise")
    kernel, bias = layer.get_weights()
    changed = kernel.copy()
    changed[1, 1, 7, 0] += 0.05 * np.abs(kernel).max()
    layer.set_weights([changed, bias])
    try:
        errors = relative_errors(model, x, reference)
    finally:
        layer.set_weights([kernel, bias])
    print("relative max errors with one weight changed:", errors)
    assert errors["expanded_conv_5/add"] <= TOLERANCE                 # before the change
    assert errors["expanded_conv_12/add"] > TOLERANCE                  # the parity check fails
    assert errors["expanded_conv_16/project"] > TOLERANCE


def test_a_foreign_model_is_refused(trunk_and_reference):
    from moodcam_tools.convert.tflite_reader import TFLiteGraph

    model, _, _ = trunk_and_reference
    with pytest.raises(BuildError, match="holds no weights for trunk layer Conv"):
        backbones.load_trunk_weights(model, TFLiteGraph("other.tflite", "", [], [], (), ()))
