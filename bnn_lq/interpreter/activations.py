"""Activation ops: ``RELU``, ``RELU6``, ``RELU_N1_TO_1``, ``LEAKY_RELU``, ``PRELU``,
``LOGISTIC``, ``TANH``, ``HARD_SWISH``; float32 and int8.

int8, as TFLite:

* RELU family: ``clamp(z_out + MBQM(q - z_in, m, shift), act_min, act_max)`` with
  ``m ~ s_in / s_out`` and the clamp bounds ``z_out + round(bound / s_out)``.
* LEAKY_RELU / PRELU: two multipliers, ``s_in / s_out`` for ``q >= z_in`` and
  ``s_in * alpha / s_out`` (PRELU: ``s_in * s_alpha / s_out`` times ``q_alpha - z_alpha``) below.
* LOGISTIC / TANH / HARD_SWISH: a 256-entry table built in float from the dequantized input.

Example:
    >>> import numpy as np
    >>> relu(np.float32([-1, 0.5, 7]), max_value=6.0)
    array([0. , 0.5, 6. ], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.fixedpoint import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    round_half_away,
)

__all__ = ["hard_swish", "leaky_relu", "logistic", "prelu", "relu", "tanh"]


def _q(quant, key):
    return float(np.float32(quant[key]))


def relu(x: np.ndarray, *, min_value: float = 0.0, max_value: float = np.inf,
         quant: dict | None = None) -> np.ndarray:
    """``clip(x, min_value, max_value)`` (RELU: 0..inf, RELU6: 0..6, RELU_N1_TO_1: -1..1)."""
    if quant is None:
        return np.clip(x, np.float32(min_value), np.float32(max_value)).astype(np.float32)
    s_in, s_out = _q(quant, "input_scale"), _q(quant, "output_scale")
    z_in, z_out = int(quant["input_zero_point"]), int(quant["output_zero_point"])
    m, shift = quantize_multiplier(float(np.float32(s_in) / np.float32(s_out)))
    lo = max(-128, z_out + int(round_half_away(np.float32(min_value) / np.float32(s_out))))
    hi = 127 if np.isinf(max_value) else \
        min(127, z_out + int(round_half_away(np.float32(max_value) / np.float32(s_out))))
    out = z_out + multiply_by_quantized_multiplier(x.astype(np.int64) - z_in, m, shift)
    return np.clip(out, lo, hi).astype(np.int8)


def leaky_relu(x: np.ndarray, *, alpha: float, quant: dict | None = None) -> np.ndarray:
    """``x if x >= 0 else alpha * x``."""
    if quant is None:
        xf = x.astype(np.float32)
        return np.where(xf >= 0, xf, xf * np.float32(alpha)).astype(np.float32)
    s_in, s_out = _q(quant, "input_scale"), _q(quant, "output_scale")
    z_in, z_out = int(quant["input_zero_point"]), int(quant["output_zero_point"])
    m_id, sh_id = quantize_multiplier(float(np.float32(s_in) / np.float32(s_out)))
    m_al, sh_al = quantize_multiplier(
        float(np.float32(np.float32(s_in) * np.float32(alpha)) / np.float32(s_out)))
    v = x.astype(np.int64) - z_in
    out = z_out + np.where(v >= 0, multiply_by_quantized_multiplier(v, m_id, sh_id),
                           multiply_by_quantized_multiplier(v, m_al, sh_al))
    return np.clip(out, -128, 127).astype(np.int8)


def prelu(x: np.ndarray, alpha: np.ndarray, *, quant: dict | None = None) -> np.ndarray:
    """``x if x >= 0 else alpha * x`` with ``alpha`` broadcast against ``x``."""
    if quant is None:
        xf = x.astype(np.float32)
        return np.where(xf >= 0, xf, xf * alpha.astype(np.float32)).astype(np.float32)
    s_in, s_out, s_a = _q(quant, "input_scale"), _q(quant, "output_scale"), _q(quant, "alpha_scale")
    z_in, z_out = int(quant["input_zero_point"]), int(quant["output_zero_point"])
    z_a = int(quant["alpha_zero_point"])
    m1, sh1 = quantize_multiplier(s_in / s_out)
    m2, sh2 = quantize_multiplier(s_in * s_a / s_out)
    v = x.astype(np.int64) - z_in
    a = alpha.astype(np.int64) - z_a
    out = z_out + np.where(v >= 0, multiply_by_quantized_multiplier(v, m1, sh1),
                           multiply_by_quantized_multiplier(v * a, m2, sh2))
    return np.clip(out, -128, 127).astype(np.int8)


def _lut_int8(x, quant, fn):
    s_in, s_out = np.float32(quant["input_scale"]), np.float32(quant["output_scale"])
    z_in, z_out = int(quant["input_zero_point"]), int(quant["output_zero_point"])
    q = np.arange(-128, 128)
    deq = (s_in * (q - z_in).astype(np.float32)).astype(np.float32)
    val = fn(deq.astype(np.float64)).astype(np.float32)
    table = np.clip(round_half_away(val / s_out) + z_out, -128, 127).astype(np.int8)
    return table[x.astype(np.int64) + 128]


def logistic(x: np.ndarray, *, quant: dict | None = None) -> np.ndarray:
    """``1 / (1 + exp(-x))``."""
    def f(v):
        return 1.0 / (1.0 + np.exp(-v))
    if quant is not None:
        return _lut_int8(x, quant, f)
    return f(x.astype(np.float64)).astype(np.float32)


def tanh(x: np.ndarray, *, quant: dict | None = None) -> np.ndarray:
    """``tanh(x)``."""
    if quant is not None:
        return _lut_int8(x, quant, np.tanh)
    return np.tanh(x.astype(np.float64)).astype(np.float32)


def hard_swish(x: np.ndarray, *, quant: dict | None = None) -> np.ndarray:
    """``x * relu6(x + 3) / 6``."""
    def f(v):
        return v * np.clip(v + 3.0, 0.0, 6.0) / 6.0
    if quant is not None:
        return _lut_int8(x, quant, f)
    return f(x.astype(np.float64)).astype(np.float32)
