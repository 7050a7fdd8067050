"""Building blocks shared by the zoo's architecture files (private to ``bnn_lq.zoo``).

Every block is laid out the way Larq Compute Engine fuses it
(``../shared/spec/lce-ops.md`` §8): a binary convolution is *directly* followed
by its ``BatchNormalization`` (folded into the convolution's output transform),
"same" binary convolutions pad with +1 (``pad_values=1.0``, the only non-zero
pad LCE fuses), and a ``MaxPool2D`` comes directly after that batch
normalization (LCE then pools the bit-packed signs, ``LceBMaxPool2d``). No ReLU
sits between a max-pool and the next binary layer (LCE drops it, §8).

Example:
    >>> import bnn_lq, tensorflow as tf
    >>> from bnn_lq.zoo._blocks import binary_conv, bn
    >>> x = inp = tf.keras.Input((8, 8, 32))
    >>> x = bn("c1_bn")(binary_conv(16, 3, name="c1")(x))
    >>> tf.keras.Model(inp, x).output_shape
    (None, 8, 8, 16)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import tensorflow as tf

__all__ = ["BINARY", "binary_conv", "binary_dense", "bn", "check_input_shape", "classifier",
           "load_weights", "real_conv"]

#: Quantizers of a fully binary layer: ±1 input, ±1 kernel (latent weights clipped to [-1, 1]).
BINARY: dict[str, Any] = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                              kernel_constraint="weight_clip")


def binary_conv(filters: int, kernel_size, *, name: str, strides=1, padding: str = "same",
                kernel_quantizer="ste_sign", input_quantizer="ste_sign",
                kernel_constraint="weight_clip", **kwargs) -> lq.layers.QuantConv2D:
    """A bias-free binary ``QuantConv2D``; "same" padding pads with +1 (LCE fuses it)."""
    extra = {"pad_values": 1.0} if padding == "same" else {}
    return lq.layers.QuantConv2D(int(filters), kernel_size, strides=strides, padding=padding,
                                 input_quantizer=input_quantizer, kernel_quantizer=kernel_quantizer,
                                 kernel_constraint=kernel_constraint if kernel_quantizer else None,
                                 use_bias=False, name=name, **extra, **kwargs)


def binary_dense(units: int, *, name: str, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                 kernel_constraint="weight_clip", **kwargs) -> lq.layers.QuantDense:
    """A bias-free binary ``QuantDense`` (bnn_lq.convert bit-packs it as a 1x1 ``LceBconv2d``)."""
    return lq.layers.QuantDense(int(units), input_quantizer=input_quantizer,
                                kernel_quantizer=kernel_quantizer,
                                kernel_constraint=kernel_constraint if kernel_quantizer else None,
                                use_bias=False, name=name, **kwargs)


def real_conv(filters: int, kernel_size, *, name: str, strides=1, padding: str = "same",
              **kwargs) -> tf.keras.layers.Conv2D:
    """A bias-free real-valued ``Conv2D`` (the stem: LCE keeps it as a float ``CONV_2D``)."""
    return tf.keras.layers.Conv2D(int(filters), kernel_size, strides=strides, padding=padding,
                                  use_bias=False, name=name, **kwargs)


def bn(name: str, *, momentum: float = 0.99, epsilon: float = 1e-4, scale: bool = True,
       center: bool = True) -> tf.keras.layers.BatchNormalization:
    """``BatchNormalization`` with the zoo's defaults (folded by LCE into the conv before it)."""
    return tf.keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, scale=scale,
                                              center=center, name=name)


def classifier(x, num_classes: int, *, hidden: Sequence[int] = (), momentum: float = 0.99,
               epsilon: float = 1e-4, kernel_quantizer="ste_sign", prefix: str = "fc"):
    """Binary dense layers (each with its batch norm) + softmax, LCE-friendly.

    On a 4-D input (a feature map of ``H x W``) the first layer is a binary
    convolution with an ``H x W`` kernel and "valid" padding: the same arithmetic as
    ``Flatten`` + ``Dense``, but a max-pool in front of it stays bit-packed
    (``LceBMaxPool2d`` needs a binary layer as its only consumer, and a ``Flatten``
    in between makes LCE pool in float). The ``Flatten`` (named ``flatten``) comes
    after that layer's batch norm.

    Layer names: ``fc1``/``fc1_bn``, ..., ``fc_out``/``fc_out_bn``, ``softmax``.
    """
    layers = [(f"{prefix}{i}", int(u), False) for i, u in enumerate(hidden, start=1)]
    layers.append((f"{prefix}_out", int(num_classes), True))
    for name, units, last in layers:
        if len(x.shape) == 4:
            x = lq.layers.QuantConv2D(units, (int(x.shape[1]), int(x.shape[2])), padding="valid",
                                      input_quantizer="ste_sign", kernel_quantizer=kernel_quantizer,
                                      kernel_constraint="weight_clip" if kernel_quantizer else None,
                                      use_bias=False, name=name)(x)
            x = bn(f"{name}_bn", momentum=momentum, epsilon=epsilon, scale=last)(x)
            x = tf.keras.layers.Flatten(name="flatten")(x)
        else:
            x = binary_dense(units, name=name, kernel_quantizer=kernel_quantizer)(x)
            x = bn(f"{name}_bn", momentum=momentum, epsilon=epsilon, scale=last)(x)
    return tf.keras.layers.Activation("softmax", name="softmax")(x)


def check_input_shape(name: str, input_shape, *, min_size: int = 1) -> tuple[int, int, int]:
    """``(H, W, C)`` as ints, or a ValueError naming the builder and what it needs."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: input_shape must be (H, W, C) integers, got {input_shape!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"{name}: input_shape must be (H, W, C) with positive sizes, got {shape}")
    if min(shape[:2]) < min_size:
        raise ValueError(f"{name}: input {shape} is too small; this architecture needs H and W "
                         f">= {min_size}")
    return shape


def load_weights(model: tf.keras.Model, weights, *, name: str) -> tf.keras.Model:
    """Loads ``weights`` (None, or a local ``.h5``/``.weights.h5``/checkpoint path) into ``model``.

    Pretrained weights cannot be downloaded on these machines, so anything that is not
    an existing local file (``"imagenet"`` included) is refused with the way out.
    """
    if weights is None:
        return model
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"{name}: weights must be None or a path to a local weights file, "
                        f"got {type(weights).__name__}")
    path = Path(weights)
    exists = path.is_file() or Path(f"{path}.index").is_file()
    if not exists:
        hint = (" Pretrained ImageNet weights cannot be downloaded here (no network)."
                if str(weights) == "imagenet" else "")
        raise ValueError(f"{name}: weights={str(weights)!r} is not a local file.{hint} Pass "
                         "weights=None (random initialization) or the path of a weights file "
                         "saved from this architecture (model.save_weights(...)), e.g. larq-zoo's "
                         "downloaded .h5 copied onto this machine.")
    model.load_weights(str(path))
    return model
