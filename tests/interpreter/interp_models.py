"""The random test models: each batches several layer configurations into one LCE
conversion (spec §10 grid: SAME/VALID, strides, dilation, pad values 0/1, channel counts
1, 3, 31, 32, 33, 64, 100, bit-packed chains, groups, float and int8)."""

from __future__ import annotations

import inspect

import numpy as np

import bnn_lq  # noqa: F401  (Keras 2 switch)

__all__ = ["MODELS", "build"]

FQ_RANGE = (-4.0, 4.0)


def _bconv(**kw):
    import larq as lq

    kw.setdefault("kernel_size", 3)
    kw.setdefault("padding", "valid")
    return lq.layers.QuantConv2D(input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                 kernel_constraint="weight_clip",
                                 use_bias=kw.pop("use_bias", False), **kw)


def _fq(x):
    import tensorflow as tf

    return tf.keras.layers.Lambda(
        lambda t: tf.quantization.fake_quant_with_min_max_args(t, min=FQ_RANGE[0],
                                                               max=FQ_RANGE[1]))(x)


def _bn(x):
    import tensorflow as tf

    return tf.keras.layers.BatchNormalization()(x)


def float_chain():
    """VALID / SAME pv1 / SAME pv0, strides 1-2, dilation, odd channel counts, bit-packed
    chains (bconv -> bn -> bconv), LceBMaxPool2d, fused ReLU, QuantDense."""
    import tensorflow as tf

    x_in = tf.keras.Input((11, 11, 3), batch_size=1)
    x = _bconv(filters=31, kernel_size=3)(x_in)                       # Cin 3 from the input
    x = _bn(x)
    x = _bconv(filters=33, kernel_size=3, padding="same", pad_values=1.0, strides=2)(x)  # packed in
    x = _bn(x)
    x = _bconv(filters=32, kernel_size=2, padding="same", pad_values=1.0)(x)
    x = tf.keras.layers.ReLU()(x)                                     # fused RELU
    x = _bn(x)
    x = tf.keras.layers.MaxPool2D(2, strides=1, padding="same")(x)    # -> LceBMaxPool2d
    x = _bconv(filters=33, kernel_size=3, padding="same", dilation_rate=2)(x)  # pv0, Cin 32
    x = _bn(x)
    x = _bconv(filters=1, kernel_size=3, padding="same")(x)           # pv0, Cin 33 (odd)
    x = _bn(x)
    y = tf.keras.layers.Flatten()(x)
    import larq as lq
    y = lq.layers.QuantDense(10, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                             kernel_constraint="weight_clip", use_bias=False)(y)
    return tf.keras.Model(x_in, y)


def float_wide():
    """64 and 100 channels, stride 2 VALID, dilation (2, 1), RELU6 / clip fused, degenerate
    zero padding (dilated kernel larger than the input), even channels for the reference
    kernel."""
    import tensorflow as tf

    x_in = tf.keras.Input((9, 9, 64), batch_size=1)
    x = _bconv(filters=100, kernel_size=3, strides=2)(x_in)            # VALID s2, Cin 64
    x = tf.keras.layers.ReLU(max_value=6.0)(x)                         # fused RELU6
    x = _bn(x)
    x = _bconv(filters=64, kernel_size=3, padding="same", dilation_rate=(2, 1))(x)  # pv0 Cin 100
    x = _bn(x)
    x = _bconv(filters=32, kernel_size=3, padding="same", dilation_rate=2)(x)  # 4x4: degenerate
    x = _bn(x)
    x = _bconv(filters=100, kernel_size=1, padding="same", pad_values=1.0)(x)
    x = _bn(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dense(10)(x)
    return tf.keras.Model(x_in, x)


def groups():
    """Grouped binary convolutions (groups 2 and 4): the default LCE kernel rejects them, the
    oracle runs the indirect kernel."""
    import tensorflow as tf

    x_in = tf.keras.Input((6, 6, 64), batch_size=1)
    x = _bconv(filters=64, kernel_size=3, groups=2, padding="same", pad_values=1.0)(x_in)
    x = _bn(x)
    x = _bconv(filters=128, kernel_size=3, groups=2)(x)                 # packed input
    x = _bn(x)
    x = _bconv(filters=64, kernel_size=1, groups=4)(x)
    x = _bn(x)
    return tf.keras.Model(x_in, x)


def int8_qat():
    """QAT-style fake quantization: int8 model input packed against its zero point, int8
    LceBconv2d outputs, int8 builtins, int8 LceDequantize (a fake-quant on a sign output)."""
    import larq as lq
    import tensorflow as tf

    x_in = tf.keras.Input((8, 8, 3), batch_size=1)
    x = _fq(x_in)
    x = _fq(tf.keras.layers.Conv2D(32, 3, padding="same")(x))          # int8 CONV_2D
    x = _bconv(filters=33, kernel_size=3)(x)                            # int8 LceQuantize
    x = _fq(_bn(x))                                                     # int8 Bconv output
    x = _bconv(filters=64, kernel_size=3, padding="same", pad_values=1.0, strides=2)(x)
    x = _fq(_bn(x))
    s = _fq(tf.keras.layers.Lambda(lq.quantizers.ste_sign)(x))          # int8 LceDequantize
    x = _fq(tf.keras.layers.Add()([x, s]))
    x = _fq(tf.keras.layers.DepthwiseConv2D(3, padding="same")(x))
    x = _fq(tf.keras.layers.GlobalAveragePooling2D()(x))
    x = _fq(tf.keras.layers.Dense(10)(x))
    return tf.keras.Model(x_in, x)


def builtins():
    """The builtins of the spec's list around binary convolutions; converted both as float
    and with experimental_default_int8_range (int8 builtins, float Bconv outputs)."""
    import tensorflow as tf

    x_in = tf.keras.Input((12, 12, 3), batch_size=1)
    x = tf.keras.layers.Conv2D(16, 3, strides=2, padding="same")(x_in)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.PReLU(shared_axes=[1, 2])(x)
    a = tf.keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    a = tf.keras.layers.ReLU(max_value=6.0)(a)
    b = _bconv(filters=32, kernel_size=3, padding="same", pad_values=1.0)(x)
    b = _bn(b)
    x = tf.keras.layers.Concatenate()([a, b])
    x = tf.keras.layers.LeakyReLU(0.1)(x)
    c = tf.keras.layers.AveragePooling2D(2, strides=1, padding="same")(x)
    x = tf.keras.layers.Add()([x, c])
    x = tf.keras.layers.Subtract()([x, tf.keras.layers.Activation("tanh")(c)])
    x = tf.keras.layers.Multiply()([x, tf.keras.layers.Activation("sigmoid")(c)])
    x = tf.keras.layers.ZeroPadding2D(((1, 0), (0, 1)))(x)
    x = tf.keras.layers.MaxPool2D(2)(x)
    x = tf.keras.layers.ReLU()(x)
    x = tf.keras.layers.Conv2D(100, 1)(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Reshape((10, 10))(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(10, activation="softmax")(x)
    return tf.keras.Model(x_in, x)


# name -> (builder, LCE convert kwargs as text (evaluated lazily), oracle kernel flags)
MODELS = {
    "float_chain": (float_chain, "{}", {}),
    "float_wide": (float_wide, "{}", {}),
    "groups": (groups, "{}", {"use_indirect_bgemm": True}),
    "int8_qat": (int8_qat, "dict(inference_input_type=tf.int8, inference_output_type=tf.int8)",
                 {}),
    "builtins_float": (builtins, "{}", {}),
    "builtins_int8": (builtins, "dict(inference_input_type=tf.int8, "
                                "inference_output_type=tf.int8, "
                                "experimental_default_int8_range=(-3.0, 3.0))", {}),
}


def build(name: str, seed: int = 0):
    """The Keras model ``name`` with random latent weights and BatchNorm statistics."""
    import oracle
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model = MODELS[name][0]()
    oracle.randomize_model(model, np.random.default_rng(seed), zero_gamma_frac=0.05)
    return model


def source(name: str) -> str:
    return inspect.getsource(MODELS[name][0]) + MODELS[name][1] + inspect.getsource(_bconv)
