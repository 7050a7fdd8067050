"""``LceQuantize``: binarize a float, int8 or bool tensor and bit-pack it.

Semantics (spec lce-ops.md §3, §4, §9.4), each row of the last axis on its own:

* float32: bit = ``x <= -FLT_MIN``. This is ``x < 0`` except that negative subnormals
  pack as +1 (bit 0), as LCE's x86 kernel does; -0.0 and NaN pack as +1, -inf as -1.
* int8 with zero point ``z``: bit = ``q < z`` (the real value is negative).
* bool: bit = ``not b`` (False means -1).

Example:
    >>> import numpy as np
    >>> lce_quantize(np.array([[1.0, -2.0, 0.0, -0.0, -0.5]], dtype=np.float32))
    array([[18]], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.bitpack import pack_bits

__all__ = ["lce_quantize"]

_NEG_FLT_MIN = -np.finfo(np.float32).tiny  # -1.17549435e-38, the largest negative normal


def lce_quantize(x: np.ndarray, *, zero_point: int = 0) -> np.ndarray:
    """Packs ``x`` ``[..., C]`` into int32 words ``[..., ceil(C/32)]``.

    Args:
        x: float32, int8 or bool values.
        zero_point: the int8 input's zero point (ignored for other dtypes).

    Returns:
        The packed words, int32.
    """
    x = np.asarray(x)
    if x.dtype == np.bool_:
        bits = ~x
    elif x.dtype == np.int8:
        bits = x.astype(np.int32) < int(zero_point)
    elif x.dtype == np.float32:
        bits = x <= np.float32(_NEG_FLT_MIN)
    else:
        raise TypeError(f"LceQuantize: input dtype {x.dtype} is not float32, int8 or bool")
    return pack_bits(bits)
