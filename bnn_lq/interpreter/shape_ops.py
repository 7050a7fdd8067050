"""Ops that move or copy values: ``RESHAPE``, ``SQUEEZE``, ``EXPAND_DIMS``, ``PAD``,
``PADV2``, ``CONCATENATION``.

Int8 PAD pads with the output zero point (PAD) or the given constant (PADV2).
Int8 CONCATENATION requantizes an input whose scale or zero point differs from the output's:
``round(q * s_in / s_out + (z_out - z_in * s_in / s_out))`` in float (TFLite's
``ConcatenationWithScaling``); inputs with the output's parameters are copied.

Example:
    >>> import numpy as np
    >>> pad(np.ones((1, 1, 1, 1), np.float32), [[0, 0], [1, 0], [0, 0], [0, 0]])[0, :, 0, 0]
    array([0., 1.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.conv2d import _float_activation
from bnn_lq.interpreter.fixedpoint import round_half_away

__all__ = ["concatenation", "pad"]


def pad(x: np.ndarray, paddings, *, value=0) -> np.ndarray:
    """Constant padding; ``paddings`` is ``[[before, after], ...]`` per axis."""
    return np.pad(x, [tuple(int(v) for v in p) for p in np.asarray(paddings)],
                  mode="constant", constant_values=np.asarray(value).astype(x.dtype))


def concatenation(xs: list[np.ndarray], *, axis: int, activation: str = "NONE",
                  quant: dict | None = None) -> np.ndarray:
    """Concatenates along ``axis``. ``quant``: ``input_scales``, ``input_zero_points``,
    ``output_scale``, ``output_zero_point`` for int8."""
    if quant is None:
        return _float_activation(np.concatenate([x.astype(np.float32) for x in xs], axis=axis),
                                 activation)
    s_out = np.float32(quant["output_scale"])
    z_out = int(quant["output_zero_point"])
    parts = []
    for x, s, z in zip(xs, quant["input_scales"], quant["input_zero_points"]):
        s = np.float32(s)
        if s == s_out and int(z) == z_out:
            parts.append(x.astype(np.int8))
            continue
        inv = np.float32(1.0) / s_out
        scale = np.float32(s * inv)
        bias = np.float32(-np.float32(int(z)) * scale)
        v = round_half_away((x.astype(np.float32) * scale + bias).astype(np.float32)) + z_out
        parts.append(np.clip(v, -128, 127).astype(np.int8))
    return np.concatenate(parts, axis=axis)
