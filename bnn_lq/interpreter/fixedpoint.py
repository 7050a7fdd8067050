"""TFLite's integer arithmetic, vectorised: the building blocks of every int8 kernel.

These follow ``tensorflow/lite/kernels/internal/common.h`` (gemmlowp fixed point) and
``quantization_util.cc``; every function works elementwise on int64 NumPy arrays that hold
int32 values, so the C semantics (truncating division, arithmetic shifts, saturation) are
reproduced exactly.

Two multiplier applications exist in the TFLite that LCE 0.16 ships:

* ``multiply_by_quantized_multiplier`` - the reference, "double rounding" form
  ``RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << left, m), right)``,
  used by the element-wise, pooling, depthwise and reduction kernels.
* ``multiply_by_quantized_multiplier_ruy`` - what ruy's x86 kernels compute where TFLite
  hands a GEMM to ruy (CONV_2D, FULLY_CONNECTED): the same two steps, but each rounds ties
  toward +infinity. (Found by comparing against LCE's interpreter on this machine.)

Example:
    >>> import numpy as np
    >>> m, s = quantize_multiplier(0.5)
    >>> int(multiply_by_quantized_multiplier(np.int64(7), m, s))
    4
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "activation_range_float",
    "activation_range_int8",
    "multiply_by_quantized_multiplier",
    "multiply_by_quantized_multiplier_ruy",
    "quantize_multiplier",
    "round_half_away",
    "rounding_divide_by_pot",
    "saturating_rounding_doubling_high_mul",
    "wrap_int32",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def round_half_away(v) -> np.ndarray:
    """C ``round``: to the nearest integer, ties away from zero (exact for every float)."""
    v = np.asarray(v, dtype=np.float64)
    t = np.trunc(v)
    frac = v - t  # exact
    return t + np.where(np.abs(frac) >= 0.5, np.sign(v), 0.0)


def wrap_int32(x) -> np.ndarray:
    """Two's complement wrap of int64 values to the int32 range (as int64)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


def _trunc_div_pow2(v: np.ndarray, bits: int) -> np.ndarray:
    """C ``v / (1 << bits)`` on int64: division rounding toward zero."""
    return np.where(v >= 0, v >> bits, -((-v) >> bits))


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` (ARM ``SQRDMULH``) on int32 values."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    result = _trunc_div_pow2(ab + nudge, 31)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, np.int64(INT32_MAX), result)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: ``x / 2^exponent`` rounded half away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """TFLite ``MultiplyByQuantizedMultiplier`` (double rounding); ``shift`` > 0 shifts left.

    ``multiplier`` and ``shift`` may be arrays that broadcast against ``x`` (per channel)."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def multiply_by_quantized_multiplier_ruy(x, multiplier, shift) -> np.ndarray:
    """ruy's x86 (AVX2/AVX-512) multiplier: ``((x << left) * m + 2^30) >> 31``, then a
    rounding right shift ``(v + 2^(right-1)) >> right``; both roundings break ties toward
    +infinity (unlike gemmlowp's, which break them away from zero)."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) << left)
    v = (shifted * np.asarray(multiplier, dtype=np.int64) + (np.int64(1) << 30)) >> 31
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), np.int64(0))
    return (v + nudge) >> right


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite ``QuantizeMultiplier``: ``real ~= multiplier * 2^(shift - 31)``, multiplier in
    [2^30, 2^31) (or 0)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(float(real))
    q_fixed = int(round_half_away(q * float(1 << 31)))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if shift > 30:
        shift, q_fixed = 30, (1 << 31) - 1
    return q_fixed, shift


def activation_range_float(activation: str) -> tuple[float, float]:
    """The clamp of a fused activation on float outputs."""
    return {
        "NONE": (-np.inf, np.inf),
        "RELU": (0.0, np.inf),
        "RELU6": (0.0, 6.0),
        "RELU_N1_TO_1": (-1.0, 1.0),
    }[activation or "NONE"]


def activation_range_int8(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite ``CalculateActivationRangeQuantized`` for an int8 output."""
    def quantize(f: float) -> int:
        return int(zero_point) + int(round_half_away(np.float32(f) / np.float32(scale)))

    qmin, qmax = -128, 127
    activation = activation or "NONE"
    if activation == "RELU":
        return max(qmin, quantize(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    return qmin, qmax
