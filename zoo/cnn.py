"""A small binary CNN for 28x28 and 32x32 images, sized for an STM32F405.

``bnn_cnn_small`` is three convolution stages and a binary classifier. Every
stage is conv -> batch normalization -> max-pool, in that order, so that LCE
fuses the batch normalization into the binary convolution's output threshold
and bit-packs its output before the pool (a binary max-pool on packed bits).
The first convolution sees the real image with a real-valued kernel (option:
a binary kernel; LCE turns either into an ordinary float convolution); every
later convolution has ``ste_sign``
on input and kernel and pads with +1 (``pad_values=1.0``), which LCE supports.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("bnn_cnn_small", filters=(8, 8, 8), dense_units=0)
    >>> model.output_shape
    (None, 10)
"""

from __future__ import annotations

from typing import Sequence

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import tensorflow as tf

from bnn_lq.zoo.registry import register

__all__ = ["bnn_cnn_small"]


@register("bnn_cnn_small", board="STM32F405 (netduinoplus2)",
          paper="BNN conv stages after Hubara et al. 2016; LCE-friendly layout (Bannink et al. 2021)")
def bnn_cnn_small(input_shape=(28, 28, 1), num_classes: int = 10, *,
                  filters: Sequence[int] = (32, 64, 128), dense_units: int = 128,
                  kernel_size: int = 3, first_padding: str = "same", first_layer: str = "float",
                  momentum: float = 0.99,
                  epsilon: float = 1e-4) -> tf.keras.Model:
    """Small binary CNN: 3 binary conv stages (conv, BN, max-pool) and a binary classifier.

    Layer names: ``conv1``, ``conv1_bn``, ``pool1``, ... ``flatten``, ``fc1``,
    ``fc1_bn`` (only when ``dense_units > 0``), ``fc_out``, ``fc_out_bn``, ``softmax``.
    With the defaults on 28x28x1 it does about 7.2 million binary MACs (plus 0.23
    million real ones in ``conv1``) and holds about 30 KB of bit-packed weights.

    Args:
        input_shape: ``(H, W, C)``; 28x28x1 (MNIST-like) and 32x32x3 (CIFAR-like) are the
            sizes it is designed for; each stage halves H and W.
        num_classes: Number of output classes.
        filters: Filters per convolution stage.
        dense_units: Units of a binary hidden dense layer before the classifier; 0 for none.
        kernel_size: Square kernel size of every convolution.
        first_padding: Padding of ``conv1`` ("same" or "valid"); later convolutions use
            "same" with ``pad_values=1.0``.
        first_layer: ``"float"`` (default): ``conv1`` is an ordinary ``Conv2D`` (288 real
            weights with the defaults); ``"binary"``: a ``QuantConv2D`` with a binary kernel
            on the real input. LCE turns either into a float CONV_2D. On Fashion-MNIST the
            float first layer gained about 1 point of test accuracy for the same cost
            (benchmarks/train_cnn_fashion.py).
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"bnn_cnn_small"``.
    """
    filters = tuple(int(f) for f in filters)
    if not filters or any(f < 1 for f in filters):
        raise ValueError(f"bnn_cnn_small: filters must be one or more positive counts, got {filters}")
    if first_layer not in ("binary", "float"):
        raise ValueError(f"bnn_cnn_small: first_layer must be 'binary' or 'float', got {first_layer!r}")
    if first_padding not in ("same", "valid"):
        raise ValueError(f"bnn_cnn_small: first_padding must be 'same' or 'valid', got {first_padding!r}")
    h, w = int(input_shape[0]), int(input_shape[1])
    if min(h, w) >> len(filters) < 1:
        raise ValueError(f"bnn_cnn_small: input {tuple(input_shape)} is too small for {len(filters)} "
                         "pooling stages (each halves H and W); use fewer filters entries")
    binary_kernel = dict(kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)

    def bn(name, scale=False):
        return tf.keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, scale=scale,
                                                  name=name)

    inputs = tf.keras.Input(shape=tuple(input_shape), name="input")
    x = inputs
    for i, f in enumerate(filters, start=1):
        if i == 1 and first_layer == "float":
            x = tf.keras.layers.Conv2D(f, kernel_size, padding=first_padding, use_bias=False,
                                       name="conv1")(x)
        elif i == 1:
            x = lq.layers.QuantConv2D(f, kernel_size, padding=first_padding, input_quantizer=None,
                                      name="conv1", **binary_kernel)(x)
        else:
            x = lq.layers.QuantConv2D(f, kernel_size, padding="same", pad_values=1.0,
                                      input_quantizer="ste_sign", name=f"conv{i}", **binary_kernel)(x)
        x = bn(f"conv{i}_bn")(x)
        x = tf.keras.layers.MaxPool2D(2, name=f"pool{i}")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    if dense_units:
        x = lq.layers.QuantDense(int(dense_units), input_quantizer="ste_sign", name="fc1",
                                 **binary_kernel)(x)
        x = bn("fc1_bn")(x)
    x = lq.layers.QuantDense(int(num_classes), input_quantizer="ste_sign", name="fc_out",
                             **binary_kernel)(x)
    x = bn("fc_out_bn", scale=True)(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="bnn_cnn_small")
