"""``LceDequantize``: unpack bit-packed words to +-1 as float32, int8 or bool.

Semantics (spec lce-ops.md §5): channel ``c`` comes from word ``c // 32``, bit ``c % 32``;
padding bits are ignored; the channel count comes from the output tensor's shape.

* float32: bit 0 -> +1.0, bit 1 -> -1.0.
* int8 with output scale ``s`` and zero point ``z``: ``off = round_half_away(1.0f / s)``
  with the division in float32; bit 0 -> ``min(127, z + off)``, bit 1 -> ``max(-128, z - off)``.
* bool: bit 0 -> True, bit 1 -> False.

Example:
    >>> import numpy as np
    >>> lce_dequantize(np.array([[18]], dtype=np.int32), channels=5, dtype="float32")
    array([[ 1., -1.,  1.,  1., -1.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.bitpack import unpack_bits
from bnn_lq.interpreter.fixedpoint import round_half_away

__all__ = ["lce_dequantize"]


def lce_dequantize(words: np.ndarray, *, channels: int, dtype: str = "float32",
                   scale: float | None = None, zero_point: int | None = None) -> np.ndarray:
    """Unpacks ``words`` ``[..., P]`` to ``[..., channels]`` values of ``dtype``.

    Args:
        words: int32 packed words.
        channels: the unpacked channel count (from the output tensor's shape).
        dtype: "float32", "int8" or "bool".
        scale, zero_point: the int8 output's quantization (int8 only).
    """
    bits = unpack_bits(words, channels)
    if dtype == "float32":
        return np.where(bits, np.float32(-1.0), np.float32(1.0))
    if dtype == "int8":
        if scale is None or zero_point is None:
            raise ValueError("LceDequantize: int8 output needs a scale and a zero point")
        off = int(round_half_away(np.float32(1.0) / np.float32(scale)))
        plus = min(127, int(zero_point) + off)
        minus = max(-128, int(zero_point) - off)
        return np.where(bits, np.int8(minus), np.int8(plus))
    if dtype == "bool":
        return ~bits
    raise TypeError(f"LceDequantize: output dtype {dtype} is not float32, int8 or bool")
