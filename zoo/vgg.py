"""Binarized VGG (Simonyan & Zisserman 2015 layouts, binarized as Hubara et al. 2016).

VGG-11/13/16 (configurations A, B, D) with every convolution binary except the
first, which sees the real image through a binary kernel, and binary
classifier layers. Each convolution is followed directly by its batch
normalization, and the five 2x2 max-pools come right after a batch
normalization (LCE pools the bit-packed signs). Inputs smaller than 64 pixels
pool with "same" padding (28 -> 14 -> 7 -> 4 -> 2 -> 1) and get a smaller default
classifier (512-512), as the CIFAR versions of binary VGGs do; seed 003's
``vgg_cifar10_binary`` is BinaryNet's network, registered as ``binarynet``.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("binary_vgg", input_shape=(32, 32, 3), num_classes=10, depth=11, width=0.125,
    ...                 dense_units=(64,))
    >>> model.output_shape
    (None, 10)
"""

from __future__ import annotations

from typing import Sequence

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import tensorflow as tf

from bnn_lq.zoo._blocks import binary_conv, bn, check_input_shape, classifier
from bnn_lq.zoo.registry import register

__all__ = ["binary_vgg", "CONFIGS"]

#: Filters per convolution, "M" a 2x2 max-pool (Simonyan & Zisserman, table 1).
CONFIGS = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
}


@register("binary_vgg", paper="Simonyan & Zisserman 2015 (arXiv:1409.1556) binarized as in "
          "Hubara et al. 2016 (arXiv:1602.02830); seed 003")
def binary_vgg(input_shape=(224, 224, 3), num_classes: int = 1000, *, depth: int = 16,
               width: float = 1.0, dense_units: Sequence[int] | None = None,
               momentum: float = 0.9, epsilon: float = 1e-4) -> tf.keras.Model:
    """Binarized VGG-11/13/16.

    Layer names: ``conv1``, ``conv1_bn``, ..., ``pool<i>`` after the i-th convolution where
    the configuration pools, then ``fc1``, ``fc1_bn``, ``flatten``, ``fc2``, ``fc2_bn``,
    ``fc_out``, ``fc_out_bn``, ``softmax``.

    Args:
        input_shape: ``(H, W, C)``; 224x224x3 for ImageNet, 28x28x1 and 32x32x3 work too.
        num_classes: Number of output classes.
        depth: 11, 13 or 16 (configurations A, B, D).
        width: Multiplies every convolution's filters.
        dense_units: Binary hidden dense layers; default (4096, 4096) for inputs of 64
            pixels and more, else (512, 512).
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"binary_vgg<depth>"``.

    References:
        K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale
        Image Recognition", ICLR 2015, https://arxiv.org/abs/1409.1556
    """
    if depth not in CONFIGS:
        raise ValueError(f"binary_vgg: depth must be one of {sorted(CONFIGS)}, got {depth!r}")
    h, w, c = check_input_shape("binary_vgg", input_shape, min_size=8)
    small = min(h, w) < 64
    if dense_units is None:
        dense_units = (512, 512) if small else (4096, 4096)
    inputs = tf.keras.Input(shape=(h, w, c), name="input")
    x, i = inputs, 0
    for item in CONFIGS[depth]:
        if item == "M":
            x = tf.keras.layers.MaxPool2D(2, padding="same" if small else "valid",
                                          name=f"pool{i}")(x)
            continue
        i += 1
        f = max(1, int(round(item * width)))
        if i == 1:
            x = lq.layers.QuantConv2D(f, 3, padding="same", input_quantizer=None,
                                      kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                                      use_bias=False, name="conv1")(x)
        else:
            x = binary_conv(f, 3, name=f"conv{i}")(x)
        x = bn(f"conv{i}_bn", momentum=momentum, epsilon=epsilon, scale=False)(x)
    outputs = classifier(x, num_classes, hidden=tuple(int(u) for u in dense_units),
                         momentum=momentum, epsilon=epsilon)
    return tf.keras.Model(inputs, outputs, name=f"binary_vgg{depth}")
