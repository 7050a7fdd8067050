"""XNOR-Net (Rastegari et al. 2016): binary convolutions with *scaled* binary weights.

The weights are binarized as ``alpha * sign(w)`` with one ``alpha = mean |w|`` per
output channel (Larq's ``magnitude_aware_sign`` kernel quantizer). LCE packs the
signs and folds ``alpha`` (and the batch norm that follows) into the binary
convolution's per-channel output multiplier (``../shared/spec/lce-ops.md`` §8),
so the scaling is free at inference. Activations are binarized with ``ste_sign``
without XNOR-Net's activation scale ``K``, which later work showed to be
unnecessary and which LCE has no op for (larq-zoo's XNORNet does the same). The
first and the last layer are real valued, as in the paper.

The layout is the paper's AlexNet (that of larq-zoo's ``XNORNet``): conv 96
11x11/4, binary 256 5x5, 384, 384, 256 3x3, 3x3/2 max-pools, binary 4096-4096,
a real classifier. The paper's block order is BN -> sign -> conv -> pool; here it
is conv -> BN -> pool (the order LCE fuses), with the same layers. Inputs smaller
than 64 pixels use a 5x5/1 real first convolution, 2x2 "same" pools and a
1024-1024 classifier by default.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("xnornet", input_shape=(28, 28, 1), width=0.125, dense_units=(64,))
    >>> model.get_layer("conv2").kernel_quantizer.__class__.__name__
    'MagnitudeAwareSign'
"""

from __future__ import annotations

from typing import Sequence

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import tensorflow as tf

from bnn_lq.zoo._blocks import binary_conv, bn, check_input_shape, real_conv
from bnn_lq.zoo.registry import register

__all__ = ["xnornet"]

_XNOR = dict(kernel_quantizer="magnitude_aware_sign")


@register("xnornet", paper="Rastegari et al. 2016, XNOR-Net (arXiv:1603.05279)")
def xnornet(input_shape=(224, 224, 3), num_classes: int = 1000, *, width: float = 1.0,
            dense_units: Sequence[int] | None = None, momentum: float = 0.9,
            epsilon: float = 1e-4) -> tf.keras.Model:
    """XNOR-Net AlexNet: real first/last layers, scaled-binary (``magnitude_aware_sign``) middle.

    Layer names: ``conv1``, ``conv1_bn``, ``pool1``, ``conv2``, ``conv2_bn``, ``pool2``,
    ``conv3``..``conv5`` with ``_bn``, ``pool5``, ``fc1``, ``fc1_bn``, ``flatten``, ``fc2``,
    ``fc2_bn``, ``fc_out`` (real ``Dense``), ``softmax``.

    Args:
        input_shape: ``(H, W, C)``; 224x224x3 for ImageNet, small inputs get the small layout.
        num_classes: Number of output classes.
        width: Multiplies the convolutions' filters.
        dense_units: Scaled-binary hidden dense layers; default (4096, 4096) for ImageNet
            inputs, (1024, 1024) for small ones. The first is a convolution over the whole
            last feature map (Flatten + Dense arithmetic; keeps ``pool5`` bit-packed).
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"xnornet"``.

    References:
        M. Rastegari, V. Ordonez, J. Redmon, A. Farhadi, "XNOR-Net: ImageNet Classification
        Using Binary Convolutional Neural Networks", ECCV 2016, https://arxiv.org/abs/1603.05279
    """
    h, w, c = check_input_shape("xnornet", input_shape, min_size=8)
    imagenet = min(h, w) >= 64
    if dense_units is None:
        dense_units = (4096, 4096) if imagenet else (1024, 1024)
    f = [max(1, int(round(n * width))) for n in (96, 256, 384, 384, 256)]
    pool_kw = dict(pool_size=3, strides=2, padding="valid") if imagenet else \
        dict(pool_size=2, strides=2, padding="same")
    kw = dict(momentum=momentum, epsilon=epsilon)

    inputs = tf.keras.Input(shape=(h, w, c), name="input")
    stem = dict(kernel_size=11, strides=4) if imagenet else dict(kernel_size=5, strides=1)
    x = real_conv(f[0], name="conv1", **stem)(inputs)
    x = bn("conv1_bn", **kw)(x)
    x = tf.keras.layers.MaxPool2D(name="pool1", **pool_kw)(x)
    x = binary_conv(f[1], 5, name="conv2", **_XNOR)(x)
    x = bn("conv2_bn", **kw)(x)
    x = tf.keras.layers.MaxPool2D(name="pool2", **pool_kw)(x)
    for i, n in ((3, f[2]), (4, f[3]), (5, f[4])):
        x = binary_conv(n, 3, name=f"conv{i}", **_XNOR)(x)
        x = bn(f"conv{i}_bn", **kw)(x)
    x = tf.keras.layers.MaxPool2D(name="pool5", **pool_kw)(x)
    for j, units in enumerate(dense_units, start=1):
        if len(x.shape) == 4:
            x = binary_conv(int(units), (int(x.shape[1]), int(x.shape[2])), padding="valid",
                            name=f"fc{j}", **_XNOR)(x)
            x = bn(f"fc{j}_bn", **kw)(x)
            x = tf.keras.layers.Flatten(name="flatten")(x)
        else:
            x = lq.layers.QuantDense(int(units), input_quantizer="ste_sign", use_bias=False,
                                     kernel_constraint="weight_clip", name=f"fc{j}", **_XNOR)(x)
            x = bn(f"fc{j}_bn", **kw)(x)
    if len(x.shape) == 4:
        x = tf.keras.layers.Flatten(name="flatten")(x)
    x = tf.keras.layers.Dense(int(num_classes), name="fc_out")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="xnornet")
