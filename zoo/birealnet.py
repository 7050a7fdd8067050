"""Bi-Real Net (Liu et al. 2018): a real-valued shortcut around every binary convolution.

Each binary 3x3 convolution (``ste_sign`` input and kernel, ``pad_values=1``) is
directly followed by its batch normalization, and its *input* is added to its
output, so the real-valued activations survive from layer to layer (the
"bi-real" path). Where a convolution halves the resolution and doubles the
width, the shortcut is 2x2 average pooling, a real 1x1 convolution and a batch
normalization (as in the paper and larq-zoo's ``BiRealNet``). Bi-Real-18 has four
stages of four binary convolutions with 64-128-256-512 filters.

Inputs of 64 pixels and more get the ImageNet stem (real 7x7/2 convolution,
3x3/2 max-pool); smaller inputs (28x28, 32x32) a real 3x3/1 convolution, and
the first stage runs at full resolution. The classifier is global average
pooling and a real dense layer (first and last layers real, as in the paper).

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("birealnet", input_shape=(32, 32, 3), filters=(16, 32), blocks=(2, 2))
    >>> model.output_shape
    (None, 10)
"""

from __future__ import annotations

from typing import Sequence

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import tensorflow as tf

from bnn_lq.zoo._blocks import binary_conv, bn, check_input_shape, real_conv
from bnn_lq.zoo.registry import register

__all__ = ["birealnet"]


@register("birealnet", paper="Liu et al. 2018, Bi-Real Net (arXiv:1808.00278)")
def birealnet(input_shape=(32, 32, 3), num_classes: int = 10, *,
              filters: Sequence[int] = (64, 128, 256, 512), blocks: Sequence[int] = (4, 4, 4, 4),
              momentum: float = 0.9, epsilon: float = 1e-5) -> tf.keras.Model:
    """Bi-Real Net (18 layers by default) with a small-input stem below 64 pixels.

    Layer names: ``conv1``, ``conv1_bn`` (ImageNet: ``pool1``), then per binary convolution
    ``stage<s>_conv<k>``, ``stage<s>_conv<k>_bn``, ``stage<s>_add<k>``, and for the first
    convolution of stages 2..: ``stage<s>_down_pool``, ``stage<s>_down``, ``stage<s>_down_bn``;
    ``gap``, ``fc_out`` (real), ``softmax``.

    Args:
        input_shape: ``(H, W, C)``.
        num_classes: Number of output classes.
        filters: Filters of each stage.
        blocks: Binary convolutions per stage (Bi-Real-18: four per stage).
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"birealnet"``.

    References:
        Z. Liu, B. Wu, W. Luo, X. Yang, W. Liu, K.-T. Cheng, "Bi-Real Net: Enhancing the
        Performance of 1-bit CNNs With Improved Representational Capability and Advanced
        Training Algorithm", ECCV 2018, https://arxiv.org/abs/1808.00278
    """
    filters, blocks = tuple(int(f) for f in filters), tuple(int(b) for b in blocks)
    if len(filters) != len(blocks) or not filters or min(filters + blocks) < 1:
        raise ValueError(f"birealnet: filters and blocks must be positive and of the same length, "
                         f"got filters={filters}, blocks={blocks}")
    h, w, c = check_input_shape("birealnet", input_shape, min_size=2 ** (len(filters) - 1))
    imagenet = min(h, w) >= 64
    kw = dict(momentum=momentum, epsilon=epsilon)
    inputs = tf.keras.Input(shape=(h, w, c), name="input")
    if imagenet:
        x = real_conv(filters[0], 7, strides=2, name="conv1")(inputs)
        x = bn("conv1_bn", **kw)(x)
        x = tf.keras.layers.MaxPool2D(3, strides=2, padding="same", name="pool1")(x)
    else:
        x = real_conv(filters[0], 3, strides=1, name="conv1")(inputs)
        x = bn("conv1_bn", **kw)(x)
    for s, (f, n) in enumerate(zip(filters, blocks), start=1):
        for k in range(1, n + 1):
            downsample = k == 1 and s > 1
            shortcut = x
            if downsample:
                shortcut = tf.keras.layers.AveragePooling2D(2, strides=2, padding="same",
                                                            name=f"stage{s}_down_pool")(x)
                shortcut = real_conv(f, 1, padding="valid", name=f"stage{s}_down")(shortcut)
                shortcut = bn(f"stage{s}_down_bn", **kw)(shortcut)
            y = binary_conv(f, 3, strides=2 if downsample else 1, name=f"stage{s}_conv{k}")(x)
            y = bn(f"stage{s}_conv{k}_bn", **kw)(y)
            x = tf.keras.layers.Add(name=f"stage{s}_add{k}")([y, shortcut])
    x = tf.keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = tf.keras.layers.Dense(int(num_classes), name="fc_out")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="birealnet")
