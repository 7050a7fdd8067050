"""``MEAN``: average over the given axes (float32 and int8), as TFLite computes it.

int8 (what LCE's x86 TFLite computes; established against its interpreter for reductions
over H and W): ``m, shift = QuantizeMultiplier(s_in / (count * s_out))`` (the product in
float), then ``out = clamp(MultiplyByQuantizedMultiplier(sum(q - z_in), m, shift) + z_out)``.
The double rounding of the gemmlowp multiplier is part of the result (148 / 9 = 16.44 gives
17).

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
    total = (x.astype(np.int64) - z_in).sum(axis=axes, keepdims=keep_dims)
    real = float(np.float32(s_in / np.float32(np.float32(count) * s_out)))
    m, shift = quantize_multiplier(real)
    out = multiply_by_quantized_multiplier(total, m, shift) + z_out
    return np.clip(out, -128, 127).astype(np.int8)
