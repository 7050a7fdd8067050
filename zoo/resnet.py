"""Binarized ResNet (He et al. 2016, binarized as Hubara et al. 2016): the CIFAR-sized
ResNet and ResNet-18/34 of BinaryNet.pytorch's ``resnet_binary`` (seed 003).

Basic blocks of two binary 3x3 convolutions, each directly followed by its batch
normalization, with the block input added back (the residual stream stays real
valued; the next block binarizes it). A block that changes resolution or width
takes its shortcut through a binary 1x1 convolution with stride and a batch
normalization, as BinaryNet.pytorch does. The first convolution sees the real
image through a binary kernel. BinaryNet.pytorch clamps the residual stream with
a hard tanh after each addition; that clamp is left out here (the sign the next
layer takes is the same, and LCE has nothing to fuse it with).

* Small inputs (below 64 pixels): the CIFAR ResNet, ``depth = 6n + 2``, three
  stages of ``n`` blocks with ``16 * inflate`` / ``32 * inflate`` / ``64 * inflate``
  filters (seed 003's CIFAR model: depth 18 -> n = 2, inflate 5).
* ImageNet inputs: ResNet-18 (``depth=18``) or ResNet-34 (``depth=34``), 7x7/2 stem
  and 3x3/2 max-pool, stages of 64-128-256-512 filters.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("binary_resnet", input_shape=(32, 32, 3), depth=8, inflate=1)
    >>> model.output_shape
    (None, 10)
"""

from __future__ import annotations

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import tensorflow as tf

from bnn_lq.zoo._blocks import binary_conv, binary_dense, bn, check_input_shape
from bnn_lq.zoo.registry import register

__all__ = ["binary_resnet", "basic_block"]

_IMAGENET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


def basic_block(x, filters: int, strides: int, *, name: str, momentum: float, epsilon: float):
    """Two binary 3x3 convolutions (each + batch norm) and a residual addition."""
    shortcut = x
    if strides != 1 or int(x.shape[-1]) != filters:
        shortcut = binary_conv(filters, 1, strides=strides, padding="valid", name=f"{name}_down")(x)
        shortcut = bn(f"{name}_down_bn", momentum=momentum, epsilon=epsilon)(shortcut)
    y = binary_conv(filters, 3, strides=strides, name=f"{name}_conv1")(x)
    y = bn(f"{name}_conv1_bn", momentum=momentum, epsilon=epsilon)(y)
    y = binary_conv(filters, 3, name=f"{name}_conv2")(y)
    y = bn(f"{name}_conv2_bn", momentum=momentum, epsilon=epsilon)(y)
    return tf.keras.layers.Add(name=f"{name}_add")([y, shortcut])


@register("binary_resnet", paper="He et al. 2016 (arXiv:1512.03385) binarized as in Hubara et al. "
          "2016 (arXiv:1602.02830); BinaryNet.pytorch resnet_binary (seed 003)")
def binary_resnet(input_shape=(32, 32, 3), num_classes: int = 10, *, depth: int = 18,
                  inflate: int = 5, momentum: float = 0.9, epsilon: float = 1e-5) -> tf.keras.Model:
    """Binarized ResNet: CIFAR ResNet (6n+2) for small inputs, ResNet-18/34 for ImageNet.

    Layer names: ``conv1``, ``conv1_bn`` (ImageNet: ``pool1``), then per block
    ``stage<s>_block<b>_conv1``/``_conv1_bn``/``_conv2``/``_conv2_bn``/``_add`` (and
    ``_down``/``_down_bn`` where the shortcut is a convolution), ``gap``, ``fc_out``,
    ``fc_out_bn``, ``softmax``.

    Args:
        input_shape: ``(H, W, C)``; below 64 pixels the CIFAR ResNet is built.
        num_classes: Number of output classes.
        depth: CIFAR: ``6n + 2`` with ``n = (depth - 2) // 6 >= 1`` blocks per stage (as
            BinaryNet.pytorch computes it; 18 gives n = 2). ImageNet: 18 or 34.
        inflate: CIFAR width multiplier (16/32/64 filters times ``inflate``); ignored for
            ImageNet inputs.
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"binary_resnet<depth>"``.

    References:
        K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition",
        CVPR 2016, https://arxiv.org/abs/1512.03385
    """
    h, w, c = check_input_shape("binary_resnet", input_shape, min_size=8)
    imagenet = min(h, w) >= 64
    if imagenet:
        if depth not in _IMAGENET_BLOCKS:
            raise ValueError(f"binary_resnet: ImageNet-sized inputs take depth 18 or 34, got {depth!r}")
        blocks, widths = _IMAGENET_BLOCKS[depth], (64, 128, 256, 512)
    else:
        n = (int(depth) - 2) // 6
        if n < 1:
            raise ValueError(f"binary_resnet: CIFAR depth must be 6n+2 with n >= 1 (8, 14, 20, ...), "
                             f"got {depth!r}")
        blocks, widths = (n, n, n), tuple(16 * int(inflate) * m for m in (1, 2, 4))
    kw = dict(momentum=momentum, epsilon=epsilon)
    inputs = tf.keras.Input(shape=(h, w, c), name="input")
    stem = dict(kernel_size=7, strides=2) if imagenet else dict(kernel_size=3, strides=1)
    x = lq.layers.QuantConv2D(widths[0], padding="same", input_quantizer=None,
                              kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                              use_bias=False, name="conv1", **stem)(inputs)
    x = bn("conv1_bn", **kw)(x)
    if imagenet:
        x = tf.keras.layers.MaxPool2D(3, strides=2, padding="same", name="pool1")(x)
    for s, (n_blocks, filters) in enumerate(zip(blocks, widths), start=1):
        for b in range(1, n_blocks + 1):
            strides = 2 if (b == 1 and s > 1) else 1
            x = basic_block(x, filters, strides, name=f"stage{s}_block{b}", **kw)
    x = tf.keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = binary_dense(num_classes, name="fc_out")(x)
    x = bn("fc_out_bn", **kw)(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name=f"binary_resnet{depth}")
