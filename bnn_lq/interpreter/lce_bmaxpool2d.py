"""``LceBMaxPool2d``: max pooling on bit-packed tensors.

Each output word is the bitwise AND of the input words in its window clipped to the input
(padding is ignored), so an output bit is 1 (-1) iff every bit in the window is 1: that is
``sign(max(x))`` with -1 < +1 (spec lce-ops.md §7). Windows follow TFLite's SAME/VALID rules.

Example:
    >>> import numpy as np
    >>> x = np.array([1, 3, 7, 5], dtype=np.int32).reshape(1, 2, 2, 1)
    >>> lce_bmaxpool2d(x, filter_size=(2, 2), stride=(2, 2), padding="VALID").ravel()
    array([1], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.geometry import conv_geometry, pad_spatial

__all__ = ["lce_bmaxpool2d"]


def lce_bmaxpool2d(x_packed: np.ndarray, *, filter_size: tuple[int, int],
                   stride: tuple[int, int], padding: str) -> np.ndarray:
    """``[N, H, W, P]`` int32 words -> ``[N, OH, OW, P]`` int32 words."""
    x_packed = np.asarray(x_packed, dtype=np.int32)
    _, h, w, _ = x_packed.shape
    fh, fw = filter_size
    sh, sw = stride
    oh, top, bottom = conv_geometry(h, fh, stride=sh, padding=padding)
    ow, left, right = conv_geometry(w, fw, stride=sw, padding=padding)
    # Padding with all-ones words makes padded positions neutral for AND.
    xp = pad_spatial(x_packed, (top, bottom, left, right), np.int32(-1))
    out = np.full((x_packed.shape[0], oh, ow, x_packed.shape[3]), -1, dtype=np.int32)
    for fy in range(fh):
        for fx in range(fw):
            out &= xp[:, fy:fy + (oh - 1) * sh + 1:sh, fx:fx + (ow - 1) * sw + 1:sw, :]
    return out
