"""Small random Larq models that exercise every runtime op, for the C-vs-LCE tests.

Each builder returns an uncompiled multi-output functional model: independent branches
from one input, so one LCE conversion covers many layer configurations. Weights are
randomized by tests/oracle.py's ``randomize_model`` (spec §10 distributions)."""

from __future__ import annotations

import larq as lq
import tensorflow as tf

__all__ = ["float_model", "int8_default_range_model", "int8_qat_model"]

L = tf.keras.layers


def _bconv(filters, k=3, **kw):
    return lq.layers.QuantConv2D(filters, k, input_quantizer="ste_sign",
                                 kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                                 use_bias=False, **kw)


def float_model() -> tf.keras.Model:
    """Float model: bconv in every padding/stride/dilation/group/output mode, plus builtins."""
    tf.keras.utils.set_random_seed(3)
    x = tf.keras.Input((11, 11, 3), batch_size=1)
    outs = []
    # 1. chain of bit-packed outputs: SAME pv1 (33 ch in) -> VALID s2 -> VALID (float out)
    h = L.Conv2D(33, 1)(x)
    h = _bconv(32, padding="same", pad_values=1.0)(h)
    h = L.BatchNormalization()(h)
    h = _bconv(33, strides=2)(h)
    h = L.BatchNormalization()(h)
    h = _bconv(100, k=2)(h)
    outs.append(L.BatchNormalization()(h))
    # 2. SAME pv0 (default kernel float correction), odd channels, stride 2
    h = L.Conv2D(31, 1)(x)
    outs.append(L.BatchNormalization()(_bconv(64, padding="same", strides=2)(h)))
    # 3. SAME pv0 dilation 2 (normal regime) and a degenerate one (Appendix B)
    h = L.Conv2D(64, 1)(x)
    outs.append(L.BatchNormalization()(_bconv(32, padding="same", dilation_rate=2)(h)))
    h = L.MaxPool2D(4)(L.Conv2D(32, 1)(x))                      # 2x2x32
    outs.append(L.BatchNormalization()(_bconv(5, padding="same", dilation_rate=2)(h)))
    # 4. one input channel, fused ReLU (float out), and RELU6 via SAME pv1
    h = L.Conv2D(1, 1)(x)
    outs.append(L.BatchNormalization()(L.ReLU()(_bconv(3, k=2, strides=2)(h))))
    h = L.Conv2D(3, 1)(x)
    outs.append(L.ReLU(max_value=6.0)(_bconv(31, padding="same", pad_values=1.0)(h)))
    # 5. maxpool -> binary layer = LceBMaxPool2d; groups (indirect kernel)
    h = L.Conv2D(64, 1)(x)
    h = L.MaxPool2D(3, strides=2, padding="same")(h)
    h = _bconv(32, groups=2, padding="same", pad_values=1.0)(h)
    outs.append(L.BatchNormalization()(h))
    # 6. float builtins
    h = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", strides=2)(x)
    h = L.PReLU(shared_axes=[1, 2])(h)
    h = L.AveragePooling2D(3, strides=1, padding="same")(h)
    h = L.LeakyReLU(0.2)(h)
    h2 = L.Conv2D(6, 3, padding="same", dilation_rate=2, activation="relu")(x)
    h2 = L.MaxPool2D(2)(h2)
    h2 = L.ZeroPadding2D(((0, 1), (0, 1)))(h2)
    h = L.Add()([h, h2])
    h = L.Multiply()([h, L.Conv2D(6, 1)(L.AveragePooling2D(2, padding="same")(x))])
    sub = L.Subtract()([h2, h])
    h = L.Concatenate()([h, sub])
    g = L.GlobalAveragePooling2D()(h)
    d = lq.layers.QuantDense(12, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                             kernel_constraint="weight_clip")(L.Flatten()(h))
    d = L.Concatenate()([d, g])
    outs.append(L.Softmax()(L.Dense(10)(d)))
    outs.append(L.Concatenate(axis=1)([sub, h2]))
    return tf.keras.Model(x, outs)


def int8_default_range_model() -> tf.keras.Model:
    """Builtins that experimental_default_int8_range turns int8; bconvs stay float out."""
    tf.keras.utils.set_random_seed(4)
    x = tf.keras.Input((9, 9, 3), batch_size=1)
    h = L.Conv2D(32, 3, padding="same", activation="relu")(x)
    b = _bconv(33, padding="same", pad_values=1.0)(h)          # LceQuantize int8 in
    b = L.BatchNormalization()(b)
    h = L.DepthwiseConv2D(3, padding="same", strides=2)(h)
    h = L.PReLU(shared_axes=[1, 2])(h)
    h = L.LeakyReLU(0.3)(h)
    h1 = L.MaxPool2D(2, padding="same")(h)
    h2 = L.AveragePooling2D(2, padding="same")(h)
    h = L.Add()([h1, h2])
    h = L.Multiply()([h, h2])
    h = L.Concatenate()([h, h1])
    h = L.ZeroPadding2D(1)(h)
    h = L.Conv2D(16, 3, strides=2)(h)
    h = L.ReLU(max_value=6.0)(h)
    g = L.GlobalAveragePooling2D()(h)
    d = L.Dense(10)(L.Flatten()(h))
    d = L.Concatenate()([d, g])
    out = L.Softmax()(L.Dense(10)(d))
    dw = L.DepthwiseConv2D(5, depth_multiplier=3, activation="relu")(x)   # 9 channels, k5 s1
    return tf.keras.Model(x, [out, b, dw])


def _fq(lo=-4.0, hi=4.0):
    return L.Lambda(lambda t: tf.quantization.fake_quant_with_min_max_args(t, lo, hi))


def int8_qat_model() -> tf.keras.Model:
    """QAT fake-quant model: bconv int8 outputs (VALID, SAME pv1, SAME pv0 even channels),
    int8 LceQuantize input and int8 LceDequantize output (run with the reference kernel)."""
    tf.keras.utils.set_random_seed(5)
    x = tf.keras.Input((8, 8, 3), batch_size=1)
    h = _fq()(x)
    h = _fq()(L.Conv2D(32, 3, padding="same")(h))
    outs = []
    b = _fq(-20, 20)(L.BatchNormalization()(_bconv(33, padding="same", pad_values=1.0)(h)))
    outs.append(b)
    outs.append(_fq(-30, 30)(L.BatchNormalization()(_bconv(64, strides=2)(h))))
    b2 = _fq(-30, 30)(L.BatchNormalization()(_bconv(40, padding="same", dilation_rate=2)(h)))
    outs.append(b2)
    s = _fq(-1.0, 1.0)(lq.quantizers.SteSign()(h))                 # LceDequantize int8
    outs.append(_fq()(L.Conv2D(4, 1)(s)))
    return tf.keras.Model(x, outs)
