"""BinaryNet's VGG-like CIFAR-10 network (Courbariaux, Hubara et al. 2016).

The convolutional network of "Binarized Neural Networks" for CIFAR-10 and SVHN:
``2x128C3 - MP2 - 2x256C3 - MP2 - 2x512C3 - MP2 - 2x1024FC - 10``, every layer
binary (±1 weights and activations) except that the first layer sees the real
image, with batch normalization after each layer. The paper pools before its
batch normalization (conv -> MP -> BN); here the pool comes after the batch
normalization (conv -> BN -> MP) so that LCE folds the batch norm into the
binary convolution and pools the bit-packed signs; the layer count and sizes are
the paper's.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("binarynet", input_shape=(28, 28, 1), width=0.125, dense_units=(64,))
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

__all__ = ["binarynet"]


@register("binarynet", paper="Courbariaux, Hubara et al. 2016, Binarized Neural Networks "
          "(arXiv:1602.02830), VGG-like CIFAR-10 network")
def binarynet(input_shape=(32, 32, 3), num_classes: int = 10, *,
              filters: Sequence[int] = (128, 256, 512), dense_units: Sequence[int] = (1024, 1024),
              width: float = 1.0, momentum: float = 0.9, epsilon: float = 1e-4) -> tf.keras.Model:
    """BinaryNet VGG-like CIFAR network: 3 stages of 2 binary 3x3 convs + max-pool, 2 binary FCs.

    Layer names: ``conv1`` (binary kernel, real input), ``conv1_bn``, ``conv2``,
    ``conv2_bn``, ``pool2``, ..., ``conv6``, ``conv6_bn``, ``pool6``, ``fc1``, ``fc1_bn``,
    ``flatten``, ``fc2``, ``fc2_bn``, ``fc_out``, ``fc_out_bn``, ``softmax``. ``fc1`` is a
    binary convolution over the whole last feature map (the arithmetic of
    Flatten + Dense, which keeps ``pool6`` bit-packed in LCE).

    Args:
        input_shape: ``(H, W, C)``; 32x32x3 as in the paper, 28x28x1 works too (3 pools).
        num_classes: Number of output classes.
        filters: Filters of the three stages (each stage is two convolutions).
        dense_units: Units of the binary hidden dense layers.
        width: Multiplies ``filters`` (and not ``dense_units``); 1.0 is the paper's network.
        momentum: Batch-normalization momentum (the paper uses 0.9).
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"binarynet"``.

    References:
        M. Courbariaux, I. Hubara, D. Soudry, R. El-Yaniv, Y. Bengio, "Binarized Neural
        Networks", NeurIPS 2016, https://arxiv.org/abs/1602.02830
    """
    h, w, c = check_input_shape("binarynet", input_shape, min_size=8)
    stage_filters = [max(1, int(round(f * width))) for f in filters]
    if len(stage_filters) != 3:
        raise ValueError(f"binarynet: filters must give 3 stages, got {tuple(filters)}")
    inputs = tf.keras.Input(shape=(h, w, c), name="input")
    x = lq.layers.QuantConv2D(stage_filters[0], 3, padding="same", input_quantizer=None,
                              kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                              use_bias=False, name="conv1")(inputs)
    x = bn("conv1_bn", momentum=momentum, epsilon=epsilon, scale=False)(x)
    i = 2
    for stage, f in enumerate(stage_filters):
        for first in ((False,) if stage == 0 else (True, False)):
            x = binary_conv(f, 3, name=f"conv{i}")(x)
            x = bn(f"conv{i}_bn", momentum=momentum, epsilon=epsilon, scale=False)(x)
            if not first:
                x = tf.keras.layers.MaxPool2D(2, name=f"pool{i}")(x)
            i += 1
    outputs = classifier(x, num_classes, hidden=tuple(int(u) for u in dense_units),
                         momentum=momentum, epsilon=epsilon)
    return tf.keras.Model(inputs, outputs, name="binarynet")
