"""Binarized AlexNet (Hubara et al. 2016), as in the BinaryNet.pytorch ``alexnet_binary``
model that seed 003 trains.

ImageNet layout (inputs of 64 pixels and more): five binary convolutions with the
channel counts of AlexNet-OWT multiplied by ``ratio_infl`` = 3 (192-576-1152-768-256),
11x11/4 and 5x5 kernels and 3x3/2 max-pools, then binary 4096-4096-classes. The
first convolution sees the real image (binary kernel). Small inputs (28x28,
32x32) keep the five convolutions and their widths, with a 5x5/1 first
convolution and 2x2 pools ("same", so 28 -> 14 -> 7 -> 4), as CIFAR versions of
this network do. Pools come after the batch normalization (LCE order), not before.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("binary_alexnet", input_shape=(28, 28, 1), num_classes=10, ratio_infl=0.125,
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

__all__ = ["binary_alexnet", "IMAGENET_MIN_SIZE"]

#: Inputs at least this large get the ImageNet stem (11x11/4 + 3x3/2 pools).
IMAGENET_MIN_SIZE = 64


@register("binary_alexnet", paper="Hubara et al. 2016, Binarized Neural Networks (arXiv:1602.02830); "
          "BinaryNet.pytorch alexnet_binary (seed 003)")
def binary_alexnet(input_shape=(224, 224, 3), num_classes: int = 1000, *, ratio_infl: float = 3.0,
                   dense_units: Sequence[int] | None = None, momentum: float = 0.9,
                   epsilon: float = 1e-4) -> tf.keras.Model:
    """Binarized AlexNet: 5 binary convolutions (widths x ``ratio_infl``) and binary FCs.

    Layer names: ``conv1``..``conv5`` each with ``conv<i>_bn``; ``pool1``, ``pool2``,
    ``pool5``; ``fc1``, ``fc1_bn``, ``flatten``, ``fc2``, ``fc2_bn``, ``fc_out``,
    ``fc_out_bn``, ``softmax``.

    Args:
        input_shape: ``(H, W, C)``; 224x224x3 for ImageNet; below 64 pixels the small-input
            layout is used (see the module docstring).
        num_classes: Number of output classes.
        ratio_infl: Width multiplier of conv1-conv4 (BinaryNet.pytorch uses 3; conv5 stays 256).
        dense_units: Binary hidden dense layers; default (4096, 4096) for ImageNet inputs
            and (1024, 1024) for small inputs.
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"binary_alexnet"``.

    References:
        I. Hubara, M. Courbariaux, D. Soudry, R. El-Yaniv, Y. Bengio, "Binarized Neural
        Networks", NeurIPS 2016, https://arxiv.org/abs/1602.02830
    """
    h, w, c = check_input_shape("binary_alexnet", input_shape, min_size=8)
    imagenet = min(h, w) >= IMAGENET_MIN_SIZE
    widths = [max(1, int(round(f * ratio_infl))) for f in (64, 192, 384, 256)] + [256]
    if dense_units is None:
        dense_units = (4096, 4096) if imagenet else (1024, 1024)
    pool_size, pool_strides, pool_padding = ((3, 2, "valid") if imagenet else (2, 2, "same"))

    def pool(name):
        return tf.keras.layers.MaxPool2D(pool_size, strides=pool_strides, padding=pool_padding,
                                         name=name)

    inputs = tf.keras.Input(shape=(h, w, c), name="input")
    if imagenet:
        conv1 = dict(kernel_size=11, strides=4, padding="same")
    else:
        conv1 = dict(kernel_size=5, strides=1, padding="same")
    x = lq.layers.QuantConv2D(widths[0], input_quantizer=None, kernel_quantizer="ste_sign",
                              kernel_constraint="weight_clip", use_bias=False, name="conv1",
                              **conv1)(inputs)
    x = bn("conv1_bn", momentum=momentum, epsilon=epsilon, scale=False)(x)
    x = pool("pool1")(x)
    x = binary_conv(widths[1], 5, name="conv2")(x)
    x = bn("conv2_bn", momentum=momentum, epsilon=epsilon, scale=False)(x)
    x = pool("pool2")(x)
    for i, f in ((3, widths[2]), (4, widths[3]), (5, widths[4])):
        x = binary_conv(f, 3, name=f"conv{i}")(x)
        x = bn(f"conv{i}_bn", momentum=momentum, epsilon=epsilon, scale=False)(x)
    x = pool("pool5")(x)
    outputs = classifier(x, num_classes, hidden=tuple(int(u) for u in dense_units),
                         momentum=momentum, epsilon=epsilon)
    return tf.keras.Model(inputs, outputs, name="binary_alexnet")
