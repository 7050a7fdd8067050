"""``MAX_POOL_2D`` and ``AVERAGE_POOL_2D`` (float32 and int8), windows clipped to the input.

Padded positions are ignored: a window at the border averages only its inside values
(TFLite's ``filter_count``). int8 input and output share scale and zero point; the average
is ``acc > 0 ? (acc + count/2) / count : (acc - count/2) / count`` on the raw int8 values
with C truncating division (TFLite's rounding), then the activation clamp.

Example:
    >>> import numpy as np
    >>> x = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)
    >>> average_pool2d(x, filter_size=(2, 2), stride=(1, 1), padding="SAME")[0, :, :, 0]
    array([[1.5, 2. ],
           [2.5, 3. ]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.conv2d import _float_activation
from bnn_lq.interpreter.fixedpoint import activation_range_int8
from bnn_lq.interpreter.geometry import conv_geometry

__all__ = ["average_pool2d", "max_pool2d"]


def _windows(x, filter_size, stride, padding):
    _, h, w, _ = x.shape
    fh, fw = filter_size
    sh, sw = stride
    oh, top, _ = conv_geometry(h, fh, stride=sh, padding=padding)
    ow, left, _ = conv_geometry(w, fw, stride=sw, padding=padding)
    for oy in range(oh):
        y0 = oy * sh - top
        ys = slice(max(y0, 0), min(y0 + fh, h))
        for ox in range(ow):
            x0 = ox * sw - left
            yield oy, ox, ys, slice(max(x0, 0), min(x0 + fw, w))


def _shape(x, filter_size, stride, padding):
    oh = conv_geometry(x.shape[1], filter_size[0], stride=stride[0], padding=padding)[0]
    ow = conv_geometry(x.shape[2], filter_size[1], stride=stride[1], padding=padding)[0]
    return (x.shape[0], oh, ow, x.shape[3])


def max_pool2d(x: np.ndarray, *, filter_size: tuple[int, int], stride: tuple[int, int],
               padding: str, activation: str = "NONE", quant: dict | None = None) -> np.ndarray:
    """Maximum over each clipped window; then the fused activation clamp."""
    out = np.empty(_shape(x, filter_size, stride, padding), dtype=x.dtype)
    for oy, ox, ys, xs in _windows(x, filter_size, stride, padding):
        out[:, oy, ox, :] = x[:, ys, xs, :].max(axis=(1, 2))
    if quant is not None:
        lo, hi = activation_range_int8(activation, quant["output_scale"],
                                       quant["output_zero_point"])
        return np.clip(out, lo, hi).astype(np.int8)
    return _float_activation(out, activation)


def average_pool2d(x: np.ndarray, *, filter_size: tuple[int, int], stride: tuple[int, int],
                   padding: str, activation: str = "NONE",
                   quant: dict | None = None) -> np.ndarray:
    """Mean over each clipped window; int8 with TFLite's integer rounding."""
    shape = _shape(x, filter_size, stride, padding)
    if quant is None:
        out = np.empty(shape, dtype=np.float32)
        for oy, ox, ys, xs in _windows(x, filter_size, stride, padding):
            win = x[:, ys, xs, :].astype(np.float32)
            count = win.shape[1] * win.shape[2]
            out[:, oy, ox, :] = win.sum(axis=(1, 2), dtype=np.float32) / np.float32(count)
        return _float_activation(out, activation)
    out = np.empty(shape, dtype=np.int64)
    for oy, ox, ys, xs in _windows(x, filter_size, stride, padding):
        win = x[:, ys, xs, :].astype(np.int64)
        count = win.shape[1] * win.shape[2]
        acc = win.sum(axis=(1, 2))
        num = np.where(acc > 0, acc + count // 2, acc - count // 2)
        out[:, oy, ox, :] = np.where(num >= 0, num // count, -((-num) // count))
    lo, hi = activation_range_int8(activation, quant["output_scale"], quant["output_zero_point"])
    return np.clip(out, lo, hi).astype(np.int8)
