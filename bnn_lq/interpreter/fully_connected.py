"""``FULLY_CONNECTED``: ``y = x @ W.T + b`` over the last axis, float32 or int8.

int8 follows TFLite: ``acc = sum((q_in - z_in) * q_w) + bias`` (weights symmetric), then
``clamp(MultiplyByQuantizedMultiplier(acc, m, shift) + z_out, act_min, act_max)``. The GEMM goes
through ruy on x86 (``fixedpoint.multiply_by_quantized_multiplier_ruy``).

Example:
    >>> import numpy as np
    >>> fully_connected(np.ones((1, 3), np.float32), np.ones((2, 3), np.float32), None)
    array([[3., 3.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.conv2d import _float_activation, _requantize

__all__ = ["fully_connected"]


def fully_connected(x: np.ndarray, w_oi: np.ndarray, bias: np.ndarray | None, *,
                    activation: str = "NONE", keep_num_dims: bool = False,
                    quant: dict | None = None) -> np.ndarray:
    """``x [..., I]`` (or any shape whose size is a multiple of I) -> ``[rows, O]``, or
    ``[..., O]`` with ``keep_num_dims``."""
    n_out, n_in = w_oi.shape
    lead = x.shape[:-1]
    rows = x.reshape(-1, n_in)
    if quant is not None:
        acc = (rows.astype(np.float64) - float(quant["input_zero_point"])) \
            @ w_oi.astype(np.float64).T
        acc = np.rint(acc).astype(np.int64)
        if bias is not None:
            acc = acc + np.asarray(bias, dtype=np.int64)
        scales = np.broadcast_to(np.asarray(quant["weight_scales"], np.float32), (n_out,))
        y = _requantize(acc, scales, quant, activation, use_ruy=True)
    else:
        y = rows.astype(np.float32) @ w_oi.astype(np.float32).T
        if bias is not None:
            y = y + np.asarray(bias, dtype=np.float32)
        y = _float_activation(y.astype(np.float32), activation)
    if keep_num_dims:
        return y.reshape(lead + (n_out,))
    return y
