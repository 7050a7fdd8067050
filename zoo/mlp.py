"""Fully connected binarized networks (Courbariaux et al. 2016 / Hubara et al. 2016).

``bnn_mlp`` is the BNN multilayer perceptron: ±1 weights everywhere, ±1
activations after the first layer, batch normalization after every layer. The
first layer sees the real-valued image (binary kernel, real input), as in the
papers.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("bnn_mlp", input_shape=(8, 8, 1), hidden=(16,))
    >>> [layer.name for layer in model.layers]
    ['input', 'flatten', 'fc1', 'fc1_bn', 'fc2', 'fc2_bn', 'softmax']
"""

from __future__ import annotations

from typing import Sequence

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import tensorflow as tf

from bnn_lq.zoo.registry import register

__all__ = ["bnn_mlp"]


@register("bnn_mlp", paper="Courbariaux et al. 2016 / Hubara et al. 2016 (arXiv:1602.02830)")
def bnn_mlp(input_shape=(28, 28, 1), num_classes: int = 10, *, hidden: Sequence[int] = (128, 64),
            momentum: float = 0.99, epsilon: float = 1e-4) -> tf.keras.Model:
    """Binary MLP (Courbariaux/Hubara 2016): ±1 weights, ±1 activations after layer 1.

    Layers: Flatten, then per hidden size a ``QuantDense`` (``fc<i>``, no bias, binary
    kernel ``ste_sign`` clipped to [-1, 1] by ``weight_clip``) and a
    ``BatchNormalization`` (``fc<i>_bn``); ``fc1`` takes the real input, every later
    layer binarizes its input with ``ste_sign``. The classifier ``fc<n>`` is binary
    too and is followed by batch normalization and a softmax.

    Args:
        input_shape: Shape of one input, e.g. ``(28, 28, 1)``.
        num_classes: Number of output classes.
        hidden: Units of the hidden layers (seed 000's MLP is 784-128-64-10).
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model named ``"bnn_mlp"`` with fixed layer names ("fc1",
        "fc1_bn", ..., "softmax"), so converted graphs and golden files diff cleanly.
    """
    hidden = tuple(int(h) for h in hidden)
    if any(h < 1 for h in hidden):
        raise ValueError(f"bnn_mlp: hidden sizes must be >= 1, got {hidden}")
    binary = dict(kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)
    inputs = tf.keras.Input(shape=tuple(input_shape), name="input")
    x = tf.keras.layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(hidden + (int(num_classes),), start=1):
        x = lq.layers.QuantDense(units, input_quantizer=None if i == 1 else "ste_sign",
                                 name=f"fc{i}", **binary)(x)
        x = tf.keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon,
                                               scale=i == len(hidden) + 1, name=f"fc{i}_bn")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="bnn_mlp")
