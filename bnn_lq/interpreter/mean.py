"""``MEAN``: average over the given axes (float32 and int8), as TFLite computes it.

int8 has three TFLite paths, chosen the way TFLite's optimized ``reduce.cc`` chooses:

1. 4-D input, axes {1, 2}, ``keep_dims``: ``optimized_integer_ops::Mean``:
   ``bias = z_out - (int)(z_in * s_in / s_out)`` (float), multiplier from
   ``(double)(s_in / (count * s_out))`` (float), ``out = MBQM(sum q, m, shift) + bias``.
2. Same scale and zero point in and out: the mean of the raw values with C truncating
   division.
3. Otherwise: ``round(float(sum) / count * (s_in/s_out) + (-z_in * s_in/s_out)) + z_out``
   in float32 (``QuantizedMeanOrSum``).

Example:
    >>> import numpy as np
    >>> mean(np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2), axes=(1, 2))
    array([[3., 4.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.fixedpoint import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    round_half_away,
)

__all__ = ["mean"]


def mean(x: np.ndarray, *, axes: tuple[int, ...], keep_dims: bool = False,
         quant: dict | None = None) -> np.ndarray:
    """Mean of ``x`` over ``axes`` (negative axes count from the end)."""
    axes = tuple(sorted({a % x.ndim for a in axes}))
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if quant is None:
        total = x.astype(np.float32).sum(axis=axes, keepdims=keep_dims, dtype=np.float32)
        return (total / np.float32(count)).astype(np.float32)
    s_in, s_out = np.float32(quant["input_scale"]), np.float32(quant["output_scale"])
    z_in, z_out = int(quant["input_zero_point"]), int(quant["output_zero_point"])
    total = x.astype(np.int64).sum(axis=axes, keepdims=keep_dims)
    if keep_dims and x.ndim == 4 and axes == (1, 2):
        bias = z_out - int(np.float32(np.float32(z_in) * s_in) / s_out)
        real = float(np.float32(s_in / np.float32(np.float32(count) * s_out)))
        m, shift = quantize_multiplier(real)
        out = multiply_by_quantized_multiplier(total, m, shift) + bias
    elif s_in == s_out and z_in == z_out:
        out = np.where(total >= 0, total // count, -((-total) // count))
    else:
        scale = np.float32(s_in / s_out)
        bias = np.float32(np.float32(-z_in) * scale)
        fmean = total.astype(np.float32) / np.float32(count)
        out = round_half_away((fmean * scale + bias).astype(np.float32)) + z_out
    return np.clip(out, -128, 127).astype(np.int8)
