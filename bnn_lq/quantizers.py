"""Quantizers that Larq 0.14 lacks, and a map of which ones LCE fuses.

Larq already has what a BNN needs for activations (``"ste_sign"``,
``"approx_sign"``, ``"swish_sign"``) and the XNOR-Net weight quantizer: Larq's
``"magnitude_aware_sign"`` computes exactly

    Q_w(w) = alpha * sign(w),   alpha[co] = mean(|w[..., co]|)

with one ``alpha`` per output channel (the mean runs over every kernel axis but
the last, so over ``(in,)`` for a Dense kernel ``(in, out)`` and over ``(kh, kw,
cin)`` for a Conv2D kernel ``(kh, kw, cin, cout)``), ``sign(0) = +1``, ``alpha``
held constant in the backward pass and a straight-through estimator clipped at
``|w| <= 1`` for the sign. That forward pass is XNOR-Net's (Rastegari et al.,
2016, eq. 4); the backward pass drops XNOR-Net's ``d alpha / d w`` term, as Larq
does. This module therefore only adds:

* ``"xnor_weight_sign"``: a new *alias* for Larq's ``MagnitudeAwareSign`` (same
  class, so a saved model still serializes as ``MagnitudeAwareSign`` and loads
  with plain Larq). ``XnorWeightSign`` is the same class under a Python name.
* :class:`DepthwiseMagnitudeAwareSign` (alias ``"depthwise_magnitude_aware_sign"``):
  the XNOR-Net scale for a *depthwise* kernel ``(kh, kw, cin, multiplier)``,
  where each ``(cin, multiplier)`` pair is an output channel. Larq's
  ``magnitude_aware_sign`` averages over ``(kh, kw, cin)`` there, which gives one
  scale per multiplier shared by all channels, not per output channel.

What LCE 0.16 fuses into ``LceBconv2d`` (``../shared/spec/lce-ops.md`` §8,
checked again by ``tests/test_layers.py`` with a real conversion):

==========================================  =====================================
input quantizer / kernel quantizer          TFLite result
==========================================  =====================================
ste_sign | approx_sign | swish_sign  /      ``LceQuantize`` -> ``LceBconv2d``
ste_sign (Conv2D)                           (a following BatchNormalization folds
                                            into the output multiplier and bias)
same input / magnitude_aware_sign           ``LceBconv2d``; the filter is packed
(= xnor_weight_sign, Conv2D)                from the signs and ``alpha`` goes into
                                            ``post_activation_multiplier``
same, Dense (QuantDense, BinaryDense)       ``LceQuantize -> LceDequantize ->
                                            FULLY_CONNECTED`` in float with ±1
                                            weights: LCE has no binary dense op;
                                            ``bnn_lq.convert`` bit-packs it
same, DepthwiseConv2D (any kernel q.)       ``LceQuantize -> LceDequantize ->
                                            DEPTHWISE_CONV_2D`` (float, not packed)
None / ste_sign (binary kernel only)        float ``CONV_2D`` with ±1 weights
sign-like / None (real kernel)              ``LceQuantize -> LceDequantize ->
                                            CONV_2D`` (float)
ste_heaviside, ste_tern, dorefa, ...        not binary; ordinary float ops
==========================================  =====================================

Not fused either: ``pad_values`` other than 0.0 or 1.0 with ``padding="same"``
(float ``PADV2 -> CONV_2D``), and ``groups`` with ``Cin / groups`` not a multiple
of 32. ``DepthwiseMagnitudeAwareSign`` is for training experiments only: LCE
never packs a depthwise convolution.

Example:
    >>> import bnn_lq.quantizers, larq as lq
    >>> q = lq.quantizers.get("xnor_weight_sign")
    >>> type(q).__name__
    'MagnitudeAwareSign'
"""

from __future__ import annotations

import larq as lq
import tensorflow as tf

__all__ = [
    "DepthwiseMagnitudeAwareSign",
    "XnorWeightSign",
    "is_sign_like",
]

# XNOR-Net weight binarization is Larq's MagnitudeAwareSign; the alias is a new name
# for the same class (never re-register a name Larq owns).
XnorWeightSign = lq.quantizers.MagnitudeAwareSign
lq.utils.register_alias("xnor_weight_sign")(lq.quantizers.MagnitudeAwareSign)


@lq.utils.register_alias("depthwise_magnitude_aware_sign")
@tf.keras.utils.register_keras_serializable(package="bnn_lq")
class DepthwiseMagnitudeAwareSign(lq.quantizers.MagnitudeAwareSign):
    r"""XNOR-Net scaled sign for depthwise kernels: one scale per output channel.

    \\[ q(w)[h, w, c, m] = \alpha[c, m] \cdot \mathrm{sign}(w[h, w, c, m]),
        \quad \alpha[c, m] = \mathrm{mean}_{h, w} |w[h, w, c, m]| \\]

    For a kernel of rank 4 ``(kh, kw, channels, depth_multiplier)`` the mean runs
    over the two spatial axes; for any other rank it runs over all axes but the
    last, which is Larq's ``magnitude_aware_sign``. ``alpha`` is constant in the
    backward pass and ``sign`` uses the clipped straight-through estimator.

    Args:
        clip_value: Threshold for clipping gradients; ``None`` does not clip.
        metrics: Larq training metrics (``["flip_ratio"]``), as for every Larq quantizer.

    References:
        - [XNOR-Net: ImageNet Classification Using Binary Convolutional Neural
          Networks](https://arxiv.org/abs/1603.05279)
    """

    precision = 1

    def call(self, inputs):
        rank = len(inputs.shape)
        axes = [0, 1] if rank == 4 else list(range(rank - 1))
        scale = tf.stop_gradient(tf.reduce_mean(tf.abs(inputs), axis=axes))
        outputs = scale * lq.quantizers.ste_sign(inputs, clip_value=self.clip_value)
        # Skip MagnitudeAwareSign.call (it would scale again): run the base-class call,
        # which only records the flip-ratio metric.
        return lq.quantizers._BaseQuantizer.call(self, outputs)


# Plain functions carry no ``precision`` attribute; these compute sign(x) forward.
_SIGN_FUNCTIONS = (lq.quantizers.ste_sign, lq.quantizers.approx_sign,
                   lq.quantizers.swish_sign, lq.math.sign)


def is_sign_like(quantizer) -> bool:
    """True when ``quantizer``'s forward pass is ``±1`` (possibly times a positive
    per-channel scale): Larq's ``ste_sign``, ``approx_sign``, ``swish_sign``,
    ``magnitude_aware_sign`` and anything else tagged ``precision == 1`` except
    ``ste_heaviside`` (which outputs {0, 1}) and ``NoOp``.

    Example:
        >>> import larq as lq
        >>> is_sign_like(lq.quantizers.get("ste_sign")), is_sign_like(None)
        (True, False)
    """
    if quantizer is None:
        return False
    if isinstance(quantizer, (str, dict)):
        quantizer = lq.quantizers.get(quantizer)
    if isinstance(quantizer, (lq.quantizers.NoOp, lq.quantizers.SteHeaviside)):
        return False
    if quantizer in _SIGN_FUNCTIONS:
        return True
    return getattr(quantizer, "precision", None) == 1
