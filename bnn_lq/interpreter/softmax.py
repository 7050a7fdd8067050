"""``SOFTMAX`` over the last axis, float32 and int8.

int8 (TFLite's x86 optimized kernel): a 256-entry float table
``T[v] = expf(-s_in * beta * v)``; per row, ``e_j = T[max - q_j]``, ``sum`` accumulated in float32
in index order, ``inv = 1 / (sum * s_out)``, ``out = clamp(round(e_j * inv) + z_out)``.

Example:
    >>> import numpy as np
    >>> softmax(np.float32([[0.0, 0.0]]))
    array([[0.5, 0.5]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from bnn_lq.interpreter.fixedpoint import round_half_away

__all__ = ["softmax"]


def softmax(x: np.ndarray, *, beta: float = 1.0, quant: dict | None = None) -> np.ndarray:
    """Softmax of ``x`` along its last axis."""
    if quant is None:
        xf = x.astype(np.float64) * float(np.float32(beta))
        e = np.exp(xf - xf.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    scale = np.float32(-np.float32(quant["input_scale"]) * np.float32(beta))
    table = np.array([math.exp(float(np.float32(scale * np.float32(v)))) for v in range(256)],
                     dtype=np.float32)
    q = x.astype(np.int64)
    e = table[q.max(axis=-1, keepdims=True) - q]  # float32
    total = np.zeros(q.shape[:-1], dtype=np.float32)
    for j in range(q.shape[-1]):
        total = (total + e[..., j]).astype(np.float32)
    inv = (np.float32(1.0) / (total * np.float32(quant["output_scale"]))).astype(np.float32)
    prob = (e * inv[..., None]).astype(np.float32)
    out = round_half_away(prob) + int(quant["output_zero_point"])
    return np.clip(out, -128, 127).astype(np.int8)
