"""The BlazeFace-style network: output layout for 128/256 px and n classes; MediaPipe initialisation."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.convert


@pytest.mark.parametrize("size,classes", [(128, 1), (128, 3), (256, 2)])
def test_outputs_match_the_decoder(size, classes):
    from moodcam_tools.train.model import DetectorConfig, build_model

    config = DetectorConfig(tuple(f"c{i}" for i in range(classes)), input_size=size)
    model = build_model(config)
    reg, cls = model(np.zeros((2, size, size, 3), np.float32))
    assert tuple(reg.shape) == (2, 896, 4) and tuple(cls.shape) == (2, 896, classes)
    assert config.decode_options().num_boxes == 896 and config.decode_options().num_classes == classes
    # class logits start at the RetinaNet prior (sigmoid ~ 0.01): nothing passes 0.5 untrained
    assert float(np.max(cls)) < 0.0


@pytest.mark.parametrize("size,ratios", [(128, (1.0,)), (256, (0.4, 1.0, 2.0))])
def test_fitted_anchor_heads_match_the_generator(size, ratios):
    from moodcam.detection.anchors import generate_anchors
    from moodcam_tools.train.model import DetectorConfig, build_model

    config = DetectorConfig(("a", "b"), input_size=size, box_coding="ssd", aspect_ratios=ratios, min_scale=0.2,
                            max_scale=0.9)
    n = generate_anchors(config.anchor_options).shape[0]
    assert config.anchors_per_cell == (len(ratios) + 1, 3 * (len(ratios) + 1))
    reg, cls = build_model(config)(np.zeros((1, size, size, 3), np.float32))
    assert tuple(reg.shape) == (1, n, 4) and tuple(cls.shape) == (1, n, 2) and config.num_anchors == n
    # SSD coding: regressors start near 0 (the anchor itself), no pixel rescaling layer
    assert float(np.max(np.abs(reg))) < 1.0


def test_configs_without_anchor_fields_load_as_blazeface(tmp_path):
    from moodcam_tools.train.model import DetectorConfig

    old = {"class_names": ["a"], "input_size": 128, "min_score_thresh": 0.5, "nms_iou": 0.3,
           "norm_scale": 1 / 127.5, "norm_offset": -1.0}
    assert DetectorConfig.from_json(old).box_coding == "blazeface"
    assert DetectorConfig.from_json(old).nms_options().algorithm == "hard"     # what older runs were made with
    fitted = DetectorConfig(("a",), box_coding="ssd", aspect_ratios=(0.5, 2.0), min_scale=0.2, max_scale=0.8)
    fitted.save(tmp_path / "config.json")
    assert DetectorConfig.load(tmp_path / "config.json") == fitted


def test_mediapipe_initialisation_reproduces_blazeface(tmp_path):
    """With the face heads copied as well, the Keras net equals MediaPipe's graph on a real face."""
    from moodcam_tools.convert import rebuild
    from moodcam_tools.convert.tflite_reader import read_tflite
    from moodcam_tools.train.augment import letterbox_image
    from moodcam_tools.train.model import DetectorConfig, build_model, init_from_mediapipe, mediapipe_tflite
    from skimage import data
    import tensorflow as tf

    path = mediapipe_tflite()
    config = DetectorConfig(("face",))
    model = build_model(config)
    done = init_from_mediapipe(model, path)
    assert len(done) == 33                                  # stem + 16 blocks x (depthwise, pointwise)
    graph = read_tflite(path, name=path.name)
    consts = {graph.tensors[op.outputs[0]].name.replace("_dequantize", ""): graph.tensors[op.inputs[0]].data
              for op in graph.operators if op.op_name == "DEQUANTIZE"}
    for name in ("classificator_8", "classificator_16"):
        model.get_layer(name).set_weights([consts[f"{name}/Kernel"].astype(np.float32).transpose(1, 2, 3, 0),
                                           consts[f"{name}/Bias"].astype(np.float32)])
    reference = rebuild.build_function(graph, input_name="input",
                                       output_names={"regressors": "regressors", "classificators": "classificators"})
    pixels, _ = letterbox_image(data.astronaut(), 128)
    x = (pixels / 127.5 - 1.0)[None].astype(np.float32)
    want = reference(tf.constant(x))["classificators"].numpy()
    got = np.asarray(model(x)[1])
    assert np.abs(want - got).max() < 1e-4
    assert want.max() > 0                                    # the astronaut's face is found


def test_nms_choice_reaches_validation_and_is_checked():
    from moodcam_tools.errors import BuildError
    from moodcam_tools.train.cli import nms_algorithm
    from moodcam_tools.train.model import DetectorConfig

    assert nms_algorithm("auto", 1) == "weighted" and nms_algorithm("auto", 3) == "hard"
    assert nms_algorithm("hard", 1) == "hard" and nms_algorithm("weighted", 3) == "weighted"
    config = DetectorConfig(("a",), nms="weighted", nms_iou=0.6)
    assert config.spec().nms.algorithm == "weighted" and config.spec().nms.min_suppression_threshold == 0.6
    with pytest.raises(BuildError, match="unknown NMS 'soft'"):
        DetectorConfig(("a",), nms="soft")
