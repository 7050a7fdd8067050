"""``QUANTIZE`` (float -> int8, int8 -> int8) and ``DEQUANTIZE`` (int8 -> float).

* float -> int8: ``clamp(round_half_away(x / s) + z)`` with the division in float32.
* int8 -> int8: ``clamp(MBQM(q - z_in, m, shift) + z_out)``, ``m ~ s_in / s_out``.
* int8 -> float: ``(float)(s * (q - z))``.

Example:
    >>> import numpy as np
    >>> quantize(np.float32([0.5, -1.0]), scale=0.5, zero_point=1)
    array([ 2, -1], dtype=int8)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.fixedpoint import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    round_half_away,
)

__all__ = ["dequantize", "quantize", "requantize"]


def quantize(x: np.ndarray, *, scale: float, zero_point: int) -> np.ndarray:
    """float32 -> int8."""
    q = round_half_away((x.astype(np.float32) / np.float32(scale)).astype(np.float32))
    return np.clip(q + int(zero_point), -128, 127).astype(np.int8)


def requantize(x: np.ndarray, *, input_scale: float, input_zero_point: int, scale: float,
               zero_point: int) -> np.ndarray:
    """int8 -> int8 with another scale and zero point."""
    m, shift = quantize_multiplier(float(np.float32(input_scale)) / float(np.float32(scale)))
    out = multiply_by_quantized_multiplier(x.astype(np.int64) - int(input_zero_point), m, shift)
    return np.clip(out + int(zero_point), -128, 127).astype(np.int8)


def dequantize(x: np.ndarray, *, scale: float, zero_point: int) -> np.ndarray:
    """int8 -> float32."""
    return (float(np.float32(scale)) * (x.astype(np.float64) - int(zero_point))).astype(np.float32)
