"""Tiny seeded Larq models shared by the tests of tests/convert (no conversion here)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

import bnn_lq  # noqa: E402,F401  (Keras-2 switch before TensorFlow)

BINARY = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign",
              kernel_constraint="weight_clip", use_bias=False)


def randomize(model, seed: int) -> None:
    """Latent weights N(0, 1); BN gamma N(0,1), beta N(0,2), mean N(0,4), var U(0.3, 6)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            shapes = [w.shape for w in layer.get_weights()]
            values = []
            names = [w.name for w in layer.weights]
            for name, shape in zip(names, shapes):
                if "gamma" in name:
                    values.append(rng.normal(0, 1, shape))
                elif "beta" in name:
                    values.append(rng.normal(0, 2, shape))
                elif "moving_mean" in name:
                    values.append(rng.normal(0, 4, shape))
                else:
                    values.append(rng.uniform(0.3, 6, shape))
            layer.set_weights([v.astype("float32") for v in values])
        elif layer.get_weights():
            layer.set_weights([rng.normal(0, 1, w.shape).astype("float32")
                               for w in layer.get_weights()])


def build_small_cnn():
    """12x12x3 -> float conv -> BN -> bconv SAME pv=1 (bit-packed output) -> BN ->
    bconv VALID -> maxpool (LceBMaxPool2d) -> bconv SAME pv=0 (float out) -> BN ->
    flatten -> binary dense 32 -> BN -> binary dense 10 -> softmax."""
    import larq as lq
    import tensorflow as tf

    x = inp = tf.keras.Input((12, 12, 3), name="image")
    x = tf.keras.layers.Conv2D(16, 3, use_bias=False, name="conv0")(x)
    x = tf.keras.layers.BatchNormalization(name="bn0")(x)
    x = lq.layers.QuantConv2D(40, 3, padding="same", pad_values=1.0, name="bconv1", **BINARY)(x)
    x = tf.keras.layers.BatchNormalization(name="bn1")(x)
    x = lq.layers.QuantConv2D(33, 3, padding="valid", name="bconv2", **BINARY)(x)
    x = tf.keras.layers.MaxPool2D(2, name="pool2")(x)
    x = lq.layers.QuantConv2D(20, 3, padding="same", name="bconv3", **BINARY)(x)
    x = tf.keras.layers.BatchNormalization(name="bn3")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = lq.layers.QuantDense(32, name="fc1", **BINARY)(x)
    x = tf.keras.layers.BatchNormalization(name="fc1_bn")(x)
    x = lq.layers.QuantDense(10, name="fc2", **BINARY)(x)
    x = tf.keras.layers.Softmax(name="softmax")(x)
    model = tf.keras.Model(inp, x, name="small_cnn")
    randomize(model, seed=1)
    return model


def build_small_int8():
    """A model converted with int8 I/O and experimental_default_int8_range."""
    import larq as lq
    import tensorflow as tf

    x = inp = tf.keras.Input((8, 8, 2), name="image")
    x = tf.keras.layers.Conv2D(8, 3, padding="same", name="conv0")(x)
    x = tf.keras.layers.BatchNormalization(name="bn0")(x)
    x = lq.layers.QuantConv2D(32, 3, name="bconv1", **BINARY)(x)
    x = tf.keras.layers.BatchNormalization(name="bn1")(x)
    x = tf.keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = tf.keras.layers.Dense(4, name="fc")(x)
    model = tf.keras.Model(inp, x, name="small_int8")
    randomize(model, seed=2)
    return model
