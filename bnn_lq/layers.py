"""Binary layers with the interface of the TF2 BNN repository, built on Larq.

``BinaryDense`` and ``BinaryConv2D`` are Larq's ``QuantDense`` / ``QuantConv2D``
(binary kernel, and binary input unless ``is_binarized_activation=False``) with a
``BatchNormalization`` sublayer applied to their output, and
``get_binarized_weights()`` returning the ±1 kernel as an ``int8`` NumPy array.
Because they *are* Larq layers (subclasses), Larq's tooling (``lq.models.summary``,
``Bop``, ``QuantizedVariable``) treats them as such, and the traced graph is the
same as ``QuantConv2D`` followed by a ``BatchNormalization`` layer, so LCE 0.16
converts a ``BinaryConv2D`` into ``LceBconv2d`` with the batch norm folded into
its output multiplier and bias, and a ``BinaryDense`` into ``LceQuantize ->
LceDequantize -> FULLY_CONNECTED`` with ±1 weights (which ``bnn_lq.convert``
bit-packs). ``tests/test_layers.py`` checks both with a real conversion.

Order inside a layer: input quantizer -> binary matmul/conv (+ bias) ->
``activation`` (default none) -> batch normalization. An ``activation`` directly
after the convolution is what LCE can fuse; one after the batch norm is not.

Example (the MNIST MLP of the TF2 BNN repository, 784-128-64-10):
    >>> import bnn_lq.layers, tensorflow as tf
    >>> from bnn_lq.layers import BinaryDense
    >>> model = tf.keras.Sequential([
    ...     tf.keras.layers.Flatten(input_shape=(28, 28)),
    ...     BinaryDense(128, use_bias=False, is_binarized_activation=False),
    ...     BinaryDense(64, use_bias=False),
    ...     BinaryDense(10, use_bias=False)])
    >>> model.layers[1].get_binarized_weights().shape
    (784, 128)

Note: ``lq.models.summary`` counts the batch-norm statistics of these layers as
32-bit weights and adds ``4 * units`` spurious 32-bit MACs per output pixel (it
treats every non-bias weight of a Dense/Conv layer as a kernel);
``bnn_lq.budget`` counts them correctly.
"""

from __future__ import annotations

import logging

import larq as lq
import numpy as np
import tensorflow as tf

from bnn_lq.quantizers import is_sign_like

__all__ = ["BinaryConv2D", "BinaryDense"]

log = logging.getLogger(__name__)

_DEFAULT_INPUT_QUANTIZER = "ste_sign"


def _resolve_input_quantizer(layer_class: str, input_quantizer, is_binarized_activation: bool):
    """The input quantizer that ``is_binarized_activation`` asks for, or a ValueError
    when the two arguments contradict each other."""
    if is_binarized_activation:
        if input_quantizer is None:
            raise ValueError(
                f"{layer_class}: is_binarized_activation=True but input_quantizer=None; "
                "pass is_binarized_activation=False for a real-valued input, or give an "
                "input quantizer such as 'ste_sign'.")
        return input_quantizer
    if input_quantizer is not None and input_quantizer != _DEFAULT_INPUT_QUANTIZER:
        raise ValueError(
            f"{layer_class}: is_binarized_activation=False contradicts "
            f"input_quantizer={input_quantizer!r}; drop one of the two arguments.")
    return None


def _binarized_weights(layer) -> np.ndarray:
    if not layer.built:
        raise ValueError(f"layer '{layer.name}' ({type(layer).__name__}) is not built yet; "
                         "call it on an input (or build the model) first.")
    if not is_sign_like(layer.kernel_quantizer):
        raise ValueError(
            f"layer '{layer.name}' ({type(layer).__name__}): kernel_quantizer "
            f"{layer.kernel_quantizer!r} is not a sign quantizer, so the kernel has no ±1 "
            "form; use kernel_quantizer='ste_sign' or 'xnor_weight_sign'.")
    latent = getattr(layer.kernel, "latent_variable", layer.kernel)
    # Larq's forward sign: -1 for x < 0, +1 otherwise (also for -0.0); a positive
    # per-channel scale (xnor_weight_sign) does not change the sign.
    return np.where(tf.keras.backend.get_value(latent) < 0, -1, 1).astype(np.int8)


def _make_batch_norm(*, epsilon, momentum, center, scale, channels_first: bool):
    return tf.keras.layers.BatchNormalization(
        axis=1 if channels_first else -1, epsilon=epsilon, momentum=momentum,
        center=center, scale=scale, name="batch_norm")


class _BatchNormAfter:
    """What BinaryDense and BinaryConv2D add to their Larq parent: a batch norm applied
    to the parent's output, its config, and the seed interface's binarized weights.
    Listed before the Larq class in the bases, so ``super()`` is the Larq layer."""

    def _init_batch_norm(self, *, epsilon, momentum, center, scale, channels_first: bool):
        self.epsilon = epsilon
        self.momentum = momentum
        self.center = center
        self.scale = scale
        self.batch_norm = _make_batch_norm(
            epsilon=epsilon, momentum=momentum, center=center, scale=scale,
            channels_first=channels_first)

    @property
    def is_binarized_activation(self) -> bool:
        return self.input_quantizer is not None

    def build(self, input_shape):
        super().build(input_shape)
        self.batch_norm.build(super().compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        return self.batch_norm(super().call(inputs), training=training)

    def get_binarized_weights(self) -> np.ndarray:
        """The ±1 kernel in the layer's kernel layout (Dense ``(input_dim, units)``, Conv2D
        ``(kh, kw, channels_in / groups, filters)``), dtype ``int8``."""
        return _binarized_weights(self)

    # The TF2 BNN repository spells it this way; same method.
    get_binarize_weights = get_binarized_weights

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "momentum": self.momentum,
            "center": self.center,
            "scale": self.scale,
            "is_binarized_activation": self.is_binarized_activation,
        }


@tf.keras.utils.register_keras_serializable(package="bnn_lq")
class BinaryDense(_BatchNormAfter, lq.layers.QuantDense):
    """Binary fully connected layer followed by batch normalization.

    The interface of ``BinaryDense`` in the TF2 BNN repository, as a Larq
    ``QuantDense``: arguments, names and defaults are ``QuantDense``'s except the
    three that make it binary (``input_quantizer="ste_sign"``,
    ``kernel_quantizer="ste_sign"``, ``kernel_constraint="weight_clip"``).

    Args:
        units: Number of output units.
        activation: Applied after the matmul (+ bias) and before the batch norm.
        use_bias: Whether the matmul adds a bias (redundant before a batch norm
            with ``center=True``, but kept for the seed interface).
        input_quantizer: Quantizer of the input when ``is_binarized_activation``.
        kernel_quantizer: Kernel quantizer; ``"ste_sign"`` or ``"xnor_weight_sign"``.
        kernel_constraint: ``"weight_clip"`` keeps latent weights in [-1, 1].
        epsilon: Batch-norm epsilon.
        momentum: Batch-norm moving-average momentum.
        center: Batch norm learns an offset (beta).
        scale: Batch norm learns a scale (gamma).
        is_binarized_activation: ``False`` for a real-valued input (first layer).
        **kwargs: The other ``QuantDense``/``Dense`` arguments.

    Input shape:
        ``(batch, ..., input_dim)``.
    Output shape:
        ``(batch, ..., units)``.
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        input_quantizer=_DEFAULT_INPUT_QUANTIZER,
        kernel_quantizer="ste_sign",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint="weight_clip",
        bias_constraint=None,
        *,
        epsilon: float = 1e-3,
        momentum: float = 0.99,
        center: bool = True,
        scale: bool = True,
        is_binarized_activation: bool = True,
        **kwargs,
    ):
        input_quantizer = _resolve_input_quantizer(
            type(self).__name__, input_quantizer, is_binarized_activation)
        super().__init__(
            units, activation=activation, use_bias=use_bias, input_quantizer=input_quantizer,
            kernel_quantizer=kernel_quantizer, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
        self._init_batch_norm(epsilon=epsilon, momentum=momentum, center=center, scale=scale,
                              channels_first=False)


@tf.keras.utils.register_keras_serializable(package="bnn_lq")
class BinaryConv2D(_BatchNormAfter, lq.layers.QuantConv2D):
    """Binary 2-D convolution followed by batch normalization.

    A Larq ``QuantConv2D`` with ``QuantConv2D``'s arguments and defaults except
    ``input_quantizer="ste_sign"``, ``kernel_quantizer="ste_sign"`` and
    ``kernel_constraint="weight_clip"``, plus the batch-norm arguments of
    :class:`BinaryDense`. LCE turns it into one ``LceBconv2d`` with the batch norm
    folded in. ``padding="same"`` with ``pad_values=1.0`` lets LCE write bit-packed
    output into a following binary layer; ``pad_values=0.0`` (Larq's default) is
    supported but never bit-packs the output; other values are not fused (warning).

    Args:
        filters: Number of output channels.
        kernel_size: Integer or pair.
        strides: Integer or pair.
        padding: ``"valid"`` or ``"same"``.
        pad_values: Value padded in with ``padding="same"`` (0.0 or 1.0 for LCE).
        is_binarized_activation: ``False`` for a real-valued input (first layer).
        epsilon, momentum, center, scale: Batch-norm arguments.
        **kwargs: The other ``QuantConv2D``/``Conv2D`` arguments.

    Input shape:
        ``(batch, rows, cols, channels)`` (``channels_last``).
    Output shape:
        ``(batch, new_rows, new_cols, filters)``.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        pad_values=0.0,
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        input_quantizer=_DEFAULT_INPUT_QUANTIZER,
        kernel_quantizer="ste_sign",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint="weight_clip",
        bias_constraint=None,
        *,
        epsilon: float = 1e-3,
        momentum: float = 0.99,
        center: bool = True,
        scale: bool = True,
        is_binarized_activation: bool = True,
        **kwargs,
    ):
        input_quantizer = _resolve_input_quantizer(
            type(self).__name__, input_quantizer, is_binarized_activation)
        super().__init__(
            filters, kernel_size, strides=strides, padding=padding, pad_values=pad_values,
            data_format=data_format, dilation_rate=dilation_rate, groups=groups,
            activation=activation, use_bias=use_bias, input_quantizer=input_quantizer,
            kernel_quantizer=kernel_quantizer, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
        if (self.padding == "same" and not tf.is_tensor(pad_values)
                and float(pad_values) not in (0.0, 1.0)):
            log.warning(
                "layer '%s' (%s): pad_values=%r with padding='same' is not fused by LCE "
                "(it pads with 0.0 or 1.0 only) and converts to a float PADV2 + CONV_2D; "
                "use pad_values=1.0 (binary-friendly) or padding='valid'.",
                self.name, type(self).__name__, pad_values)
        self._init_batch_norm(epsilon=epsilon, momentum=momentum, center=center, scale=scale,
                              channels_first=self.data_format == "channels_first")
