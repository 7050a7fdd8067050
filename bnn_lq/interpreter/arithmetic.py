"""``ADD``, ``SUB``, ``MUL`` with NumPy broadcasting, float32 and int8.

int8 follows TFLite (``add.cc``, ``sub.cc``, ``mul.cc``):

* ADD/SUB: ``left_shift = 20``; ``twice_max = 2 * max(s1, s2)``; each input is
  ``MBQM((q - z) << 20, m_i, shift_i)`` with ``m_i ~ s_i / twice_max``; the sum (difference)
  is scaled by ``twice_max / (2^20 * s_out)``, plus ``z_out``, clamped.
* MUL: ``MBQM((q1 - z1) * (q2 - z2), m, shift) + z_out`` with ``m ~ s1 * s2 / s_out``.

Example:
    >>> import numpy as np
    >>> add(np.float32([1, 2]), np.float32([3, 4]))
    array([4., 6.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.conv2d import _float_activation
from bnn_lq.interpreter.fixedpoint import (
    activation_range_int8,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
)

__all__ = ["add", "mul", "sub"]


def _add_sub_int8(a, b, quant, activation, sign):
    s1, s2 = float(np.float32(quant["input_scales"][0])), float(np.float32(quant["input_scales"][1]))
    s_out = float(np.float32(quant["output_scale"]))
    z1, z2 = (int(z) for z in quant["input_zero_points"])
    z_out = int(quant["output_zero_point"])
    left_shift = 20
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * s_out))
    v1 = multiply_by_quantized_multiplier((a.astype(np.int64) - z1) << left_shift, m1, sh1)
    v2 = multiply_by_quantized_multiplier((b.astype(np.int64) - z2) << left_shift, m2, sh2)
    raw = multiply_by_quantized_multiplier(v1 + sign * v2, mo, sho) + z_out
    lo, hi = activation_range_int8(activation, s_out, z_out)
    return np.clip(raw, lo, hi).astype(np.int8)


def add(a: np.ndarray, b: np.ndarray, *, activation: str = "NONE",
        quant: dict | None = None) -> np.ndarray:
    """Elementwise ``a + b``. ``quant``: ``input_scales``, ``input_zero_points`` (pairs),
    ``output_scale``, ``output_zero_point``."""
    if quant is not None:
        return _add_sub_int8(a, b, quant, activation, 1)
    return _float_activation((a.astype(np.float32) + b.astype(np.float32)), activation)


def sub(a: np.ndarray, b: np.ndarray, *, activation: str = "NONE",
        quant: dict | None = None) -> np.ndarray:
    """Elementwise ``a - b``."""
    if quant is not None:
        return _add_sub_int8(a, b, quant, activation, -1)
    return _float_activation((a.astype(np.float32) - b.astype(np.float32)), activation)


def mul(a: np.ndarray, b: np.ndarray, *, activation: str = "NONE",
        quant: dict | None = None) -> np.ndarray:
    """Elementwise ``a * b``."""
    if quant is None:
        return _float_activation((a.astype(np.float32) * b.astype(np.float32)), activation)
    s1, s2 = (float(np.float32(s)) for s in quant["input_scales"])
    s_out = float(np.float32(quant["output_scale"]))
    z1, z2 = (int(z) for z in quant["input_zero_points"])
    z_out = int(quant["output_zero_point"])
    m, shift = quantize_multiplier(s1 * s2 / s_out)
    prod = (a.astype(np.int64) - z1) * (b.astype(np.int64) - z2)
    raw = multiply_by_quantized_multiplier(prod, m, shift) + z_out
    lo, hi = activation_range_int8(activation, s_out, z_out)
    return np.clip(raw, lo, hi).astype(np.int8)
