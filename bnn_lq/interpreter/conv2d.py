"""``CONV_2D`` and ``DEPTHWISE_CONV_2D``: TFLite's real-valued convolutions, float32 and int8.

Float: im2col and a float32 matrix product, then bias and the fused activation clamp. TFLite
sums in a different order, so results agree within float rounding (not bit-exact).

int8 (per-channel weights, zero point 0; per-tensor input and output), exactly as TFLite:
``acc = sum((q_in - z_in) * q_w) + bias`` in int32, then
``out = clamp(MultiplyByQuantizedMultiplier(acc, m[c], shift[c]) + z_out, act_min, act_max)``
with ``m, shift = QuantizeMultiplier((double)s_in * (double)s_w[c] / (double)s_out)``.
On LCE's x86 build both ops apply the multiplier with ties rounded toward +infinity
(``fixedpoint.multiply_by_quantized_multiplier_ruy``: ruy's x86 kernels for CONV_2D; the
same rounding was measured for DEPTHWISE_CONV_2D), not gemmlowp's ties-away-from-zero.

Example:
    >>> import numpy as np
    >>> x = np.ones((1, 3, 3, 1), np.float32); w = np.ones((1, 3, 3, 1), np.float32)
    >>> conv2d(x, w, None, padding="VALID")[0, 0, 0]
    array([9.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.fixedpoint import (
    activation_range_float,
    activation_range_int8,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_ruy,
    quantize_multiplier,
)
from bnn_lq.interpreter.geometry import conv_geometry, extract_patches, pad_spatial

__all__ = ["conv2d", "depthwise_conv2d", "per_channel_multipliers"]

_CHUNK_BYTES = 64 << 20


def per_channel_multipliers(input_scale: float, weight_scales: np.ndarray,
                            output_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's per-channel (multiplier, shift) arrays for int8 conv/FC."""
    pairs = [quantize_multiplier(float(np.float32(input_scale)) * float(ws)
                                 / float(np.float32(output_scale)))
             for ws in np.asarray(weight_scales, dtype=np.float32)]
    return (np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64))


def _requantize(acc: np.ndarray, weight_scales, quant: dict, activation: str, *,
                use_ruy: bool) -> np.ndarray:
    mult, shift = per_channel_multipliers(quant["input_scale"], weight_scales,
                                          quant["output_scale"])
    apply = multiply_by_quantized_multiplier_ruy if use_ruy \
        else multiply_by_quantized_multiplier
    out = apply(acc, mult, shift) + int(quant["output_zero_point"])
    lo, hi = activation_range_int8(activation, quant["output_scale"], quant["output_zero_point"])
    return np.clip(out, lo, hi).astype(np.int8)


def _float_activation(y: np.ndarray, activation: str) -> np.ndarray:
    lo, hi = activation_range_float(activation)
    if activation in (None, "NONE"):
        return y
    return np.clip(y, np.float32(lo), np.float32(hi)).astype(np.float32)


def _float_conv_sequential(xs: np.ndarray, ws: np.ndarray, out_hw: tuple[int, int],
                           stride: tuple[int, int], dilation: tuple[int, int],
                           groups: int) -> np.ndarray:
    """Float convolution summed in one fixed order: taps row by row, then input channels,
    each product rounded to float32 and added to a float32 accumulator (no FMA).

    Why not a matrix product: BLAS sums in blocks, and a first layer whose output is
    binarized right away turns a last-bit difference near 0 into a flipped sign. This
    order is the C reference kernel's (bnn_conv2d_f32_ref), which agrees with LCE's
    interpreter on every image we have run, so all three runtimes flip the same way.
    """
    n = xs.shape[0]
    c_out, kh, kw, cg = ws.shape
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    cout_g = c_out // groups
    acc = np.zeros((n, oh, ow, c_out), dtype=np.float32)
    for g in range(groups):
        outs = slice(g * cout_g, (g + 1) * cout_g)
        for fy in range(kh):
            for fx in range(kw):
                tap = xs[:, fy * dh:fy * dh + (oh - 1) * sh + 1:sh,
                         fx * dw:fx * dw + (ow - 1) * sw + 1:sw, g * cg:(g + 1) * cg]
                for ci in range(cg):
                    prod = tap[..., ci:ci + 1] * ws[outs, fy, fx, ci]
                    acc[..., outs] = acc[..., outs] + prod
    return acc


def conv2d(x: np.ndarray, w_ohwi: np.ndarray, bias: np.ndarray | None, *,
           stride: tuple[int, int] = (1, 1), dilation: tuple[int, int] = (1, 1),
           padding: str = "VALID", activation: str = "NONE", quant: dict | None = None,
           groups: int = 1) -> np.ndarray:
    """``CONV_2D``: ``x [N,H,W,Cin]``, ``w_ohwi [Cout,KH,KW,Cin/groups]`` -> ``[N,OH,OW,Cout]``.

    ``quant`` is None for float, or a dict with ``input_scale``, ``input_zero_point``,
    ``weight_scales`` (per output channel), ``output_scale``, ``output_zero_point`` for int8.
    """
    n, h, w, c_in = x.shape
    c_out, kh, kw, cg = w_ohwi.shape
    sh, sw = stride
    dh, dw = dilation
    oh, top, bottom = conv_geometry(h, kh, stride=sh, dilation=dh, padding=padding)
    ow, left, right = conv_geometry(w, kw, stride=sw, dilation=dw, padding=padding)
    is_int8 = quant is not None
    if is_int8:
        # Padding holds the input zero point (real 0); subtracting it makes it 0.
        xs = x.astype(np.float64) - float(quant["input_zero_point"])
        ws = w_ohwi.astype(np.float64)
        work = np.float64  # products and sums stay exact integers below 2^53
    else:
        xs, ws, work = x.astype(np.float32), w_ohwi.astype(np.float32), np.float32
    xs = pad_spatial(xs, (top, bottom, left, right), 0)
    cout_g = c_out // groups
    k = kh * kw * cg
    if not is_int8:
        acc = _float_conv_sequential(xs, ws, (oh, ow), (sh, sw), (dh, dw), groups)
        if bias is not None:
            acc = acc + np.asarray(bias, dtype=np.float32)
        return _float_activation(acc, activation)
    acc = np.empty((n, oh, ow, c_out), dtype=work)
    step = max(1, _CHUNK_BYTES // max(1, oh * ow * k * np.dtype(work).itemsize))
    for start in range(0, n, step):
        stop = min(n, start + step)
        for g in range(groups):
            patches = extract_patches(xs[start:stop, :, :, g * cg:(g + 1) * cg], (kh, kw),
                                      (oh, ow), (sh, sw), (dh, dw))
            wg = ws[g * cout_g:(g + 1) * cout_g].reshape(cout_g, k)
            acc[start:stop, :, :, g * cout_g:(g + 1) * cout_g] = \
                (patches.reshape(-1, k) @ wg.T).reshape(stop - start, oh, ow, cout_g)
    if is_int8:
        acc = np.rint(acc).astype(np.int64)
        if bias is not None:
            acc = acc + np.asarray(bias, dtype=np.int64)
        return _requantize(acc, quant["weight_scales"], quant, activation, use_ruy=True)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.float32)
    return _float_activation(acc.astype(np.float32), activation)


def depthwise_conv2d(x: np.ndarray, w_1hwc: np.ndarray, bias: np.ndarray | None, *,
                     depth_multiplier: int = 1, stride: tuple[int, int] = (1, 1),
                     dilation: tuple[int, int] = (1, 1), padding: str = "VALID",
                     activation: str = "NONE", quant: dict | None = None) -> np.ndarray:
    """``DEPTHWISE_CONV_2D``: ``x [N,H,W,C]``, ``w [1,KH,KW,C*M]`` -> ``[N,OH,OW,C*M]``;
    output channel ``c*M + m`` reads input channel ``c``."""
    n, h, w, c_in = x.shape
    _, kh, kw, c_out = w_1hwc.shape
    mult = c_out // c_in
    sh, sw = stride
    dh, dw = dilation
    oh, top, bottom = conv_geometry(h, kh, stride=sh, dilation=dh, padding=padding)
    ow, left, right = conv_geometry(w, kw, stride=sw, dilation=dw, padding=padding)
    is_int8 = quant is not None
    if is_int8:
        xs = x.astype(np.int64) - int(quant["input_zero_point"])
        ws = w_1hwc.astype(np.int64)[0]
    else:
        xs, ws = x.astype(np.float32), w_1hwc.astype(np.float32)[0]
    xs = pad_spatial(xs, (top, bottom, left, right), 0)
    if mult != 1:
        xs = np.repeat(xs, mult, axis=3)
    acc = np.zeros((n, oh, ow, c_out), dtype=xs.dtype)
    for fy in range(kh):
        for fx in range(kw):
            y0, x0 = fy * dh, fx * dw
            acc += xs[:, y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw, :] \
                * ws[fy, fx]
    if is_int8:
        if bias is not None:
            acc = acc + np.asarray(bias, dtype=np.int64)
        return _requantize(acc, quant["weight_scales"], quant, activation, use_ruy=True)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.float32)
    return _float_activation(acc.astype(np.float32), activation)
