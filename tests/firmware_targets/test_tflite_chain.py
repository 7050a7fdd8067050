"""The whole chain with the other stages' real code: a tiny binary CNN (random
weights, converted once by LCE) -> bnn_lq.convert.codegen -> firmware/runtime ->
device, with test images from bnn_lq.data and the oracle from LCE's interpreter.
Accuracy is meaningless (untrained); the device must agree with LCE on every image."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from firmware_targets_helpers import need  # noqa: E402

from bnn_lq import deploy  # noqa: E402
from bnn_lq.errors import DeployError  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.target]


@pytest.fixture(scope="module")
def tiny_tflite(tmp_path_factory):
    import bnn_lq  # noqa: F401  (Keras 2 before TensorFlow)
    import larq as lq
    import tensorflow as tf

    from bnn_lq import convert

    kw = dict(kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)
    model = tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)),
        lq.layers.QuantConv2D(8, 3, strides=2, **kw),           # real input, binary kernel
        tf.keras.layers.BatchNormalization(),
        lq.layers.QuantConv2D(32, 3, input_quantizer="ste_sign", **kw),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.MaxPool2D(2),
        tf.keras.layers.Flatten(),
        lq.layers.QuantDense(10, input_quantizer="ste_sign", **kw),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.Activation("softmax"),
    ])
    rng = np.random.default_rng(0)
    for layer in model.layers:  # non-trivial batch-norm statistics, as after training
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.5, n),
                               rng.normal(0, 1, n), rng.uniform(0.5, 2, n)])
    path = tmp_path_factory.mktemp("tflite") / "tiny.tflite"
    path.write_bytes(convert.to_tflite(model))
    return path


@pytest.mark.parametrize("board", ["host", "netduinoplus2"])
def test_device_agrees_with_lce(tiny_tflite, board, tmp_path):
    need("gcc" if board == "host" else "arm-none-eabi-gcc")
    built = deploy.build(tiny_tflite, board=board, out_dir=tmp_path, testset="fashion_mnist:32")
    assert built.images == 32
    res = deploy.run(tmp_path, timeout=120)
    assert res.images == 32 and res.agree == 32 and res.correct == res.oracle_correct
    assert res.model == "tiny" and res.matches_oracle


@pytest.fixture(scope="module")
def wide_float_tflite(tmp_path_factory):
    """A float model whose 6000-wide hidden layer (24 KB of activations) cannot be fused
    away: plain TFLite conversion, no LCE needed."""
    import bnn_lq  # noqa: F401  (Keras 2 before TensorFlow)
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.Input((28, 28, 1)),
                                 tf.keras.layers.GlobalAveragePooling2D(),
                                 tf.keras.layers.Dense(6000, activation="relu"),
                                 tf.keras.layers.Dense(2)])
    path = tmp_path_factory.mktemp("wide") / "wide.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


def test_too_big_for_microbit(wide_float_tflite, tmp_path):
    """The arena (> 24 KB) exceeds the nRF51's 16 KB: refused before building, with
    needed vs available and the biggest tensors."""
    with pytest.raises(DeployError, match=r"(?s)does not fit on microbit: RAM: needs at least"
                                          r".*16,384 B; biggest tensors: "):
        deploy.build(wide_float_tflite, board="microbit", out_dir=tmp_path,
                     testset=(np.zeros((1, 28, 28, 1), np.float32), np.zeros(1, np.uint8),
                              np.zeros(1, np.uint8)))
    assert not (tmp_path / "app.elf").exists()
