"""Window geometry shared by the convolution and pooling ops (TFLite's rules).

SAME: ``out = ceil(in / stride)``; VALID: ``out = floor((in - eff_k) / stride) + 1`` with
``eff_k = (k - 1) * dilation + 1``. The leading padding is ``max(0, (out-1)*stride + eff_k - in)
// 2``; the odd extra row or column goes at the bottom or right (spec lce-ops.md §6.2).

Example:
    >>> conv_geometry(5, 3, stride=2, dilation=1, padding="SAME")
    (3, 1, 1)
"""

from __future__ import annotations

import numpy as np

__all__ = ["conv_geometry", "extract_patches", "pad_spatial"]


def conv_geometry(size: int, kernel: int, *, stride: int, dilation: int = 1,
                  padding: str) -> tuple[int, int, int]:
    """``(out_size, pad_before, pad_after)`` along one spatial axis."""
    eff = (kernel - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
    elif padding == "VALID":
        out = (size - eff) // stride + 1
    else:
        raise ValueError(f"padding {padding!r} is not SAME or VALID")
    if out <= 0:
        raise ValueError(f"window {eff} larger than input {size} with VALID padding")
    total = max(0, (out - 1) * stride + eff - size) if padding == "SAME" else 0
    return out, total // 2, total - total // 2


def pad_spatial(x_nhwc: np.ndarray, pads: tuple[int, int, int, int], value) -> np.ndarray:
    """Pads H and W by ``(top, bottom, left, right)`` with the constant ``value``."""
    top, bottom, left, right = pads
    if not any(pads):
        return x_nhwc
    return np.pad(x_nhwc, ((0, 0), (top, bottom), (left, right), (0, 0)),
                  mode="constant", constant_values=value)


def extract_patches(x_padded: np.ndarray, kernel: tuple[int, int], out: tuple[int, int],
                    stride: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """im2col on an already padded NHWC tensor: ``[N, OH, OW, KH, KW, C]`` (a copy)."""
    kh, kw = kernel
    oh, ow = out
    sh, sw = stride
    dh, dw = dilation
    taps = []
    for fy in range(kh):
        row = []
        for fx in range(kw):
            y0, x0 = fy * dh, fx * dw
            row.append(x_padded[:, y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw, :])
        taps.append(np.stack(row, axis=3))
    return np.stack(taps, axis=3)
