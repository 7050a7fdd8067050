"""``LceBconv2d``: binary 2-D convolution on bit-packed NHWC tensors.

The readable definition, vectorised (spec lce-ops.md §6 and Appendix B):

1. Unpack the input ``[N, H, W, P(channels_in)]`` and the filter ``[Cout, KH, KW, Pg]`` to
   bits (1 = -1). ``groups = P(channels_in) / Pg``, ``Cg = channels_in / groups``.
2. Accumulate ``acc = sum popcount(x XOR w)`` over the taps of each output position. An
   outside (padding) tap reads an all-zero word, i.e. +1 ("one padding").
   As a matrix product on 0/1 values: ``acc = sum(x) + sum(w) - 2 * x . w`` (exact in float32:
   every sum is far below 2^24).
3. Output, by the output tensor's dtype:

   * int32 (bit-packed): bit ``co`` = ``acc > threshold[co]``.
   * float32 / int8: with ``K = KH * KW * Cg``, per output channel, in **double**, rounded to
     float: ``mul = -pam / s``, ``bias = (pab + K * pam) / s + z`` (s = 1, z = 0 for float).
     Then ``x2 = clamp(2 * acc, K - nmax, K - nmin)`` (the fused activation's bounds on the
     +-1 dot product ``d = K - x2``), ``y = float(x2) * mul + bias`` with two float32
     roundings and no FMA. int8: ``saturate(round_half_away(y))``.

SAME padding with ``pad_values = 0`` (outside taps count 0, as TensorFlow pads):

* ``kernel="reference"`` and every int8 or bit-packed output: the integer path,
  ``x2 = 2 * acc_inside + n_outside_taps * Cg`` (= LCE's reference kernel for even Cg).
* ``kernel="default"`` (LCE's default and indirect kernels), float output: one-padding ``y1``
  plus one float32 add of ``corr = float(-pam) * float(S)``, where ``S`` sums the +-1 weights
  of the outside taps; when the dilated kernel is larger than the input, ``S`` comes from the
  four-case lookup of Appendix B (which is not true zero padding, but is what LCE computes).

Example:
    >>> import numpy as np
    >>> from bnn_lq.interpreter.bitpack import pack_bits
    >>> x = pack_bits(np.zeros((1, 3, 3, 4), bool))            # all +1
    >>> w = pack_bits(np.ones((2, 3, 3, 4), bool))             # all -1
    >>> lce_bconv2d(x, w, channels_in=4, post_activation_multiplier=np.ones(2, np.float32),
    ...             post_activation_bias=np.zeros(2, np.float32))[0, 0, 0]
    array([-36., -36.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from bnn_lq.interpreter.bitpack import n_words, pack_bits, unpack_bits
from bnn_lq.interpreter.fixedpoint import INT32_MAX, INT32_MIN, round_half_away
from bnn_lq.interpreter.geometry import conv_geometry, extract_patches, pad_spatial

__all__ = ["lce_bconv2d", "bconv2d_groups"]

_CHUNK_BYTES = 64 << 20  # im2col working set per batch chunk

_ACTIVATION_BOUNDS = {
    "NONE": (INT32_MIN, INT32_MAX),
    "RELU": (0, INT32_MAX),
    "RELU6": (0, 6),
    "RELU_N1_TO_1": (-1, 1),
}


def bconv2d_groups(channels_in: int, filter_words: int) -> tuple[int, int]:
    """``(groups, Cg)`` inferred from the filter's packed depth (spec §6.3)."""
    total = n_words(channels_in)
    if filter_words == total:
        return 1, channels_in
    if filter_words <= 0 or total % filter_words:
        raise ValueError(f"filter depth {filter_words} words does not divide the input's "
                         f"{total} words (channels_in={channels_in})")
    groups = total // filter_words
    if channels_in % groups or (channels_in // groups) % 32:
        raise ValueError(f"grouped LceBconv2d needs channels_in / groups to be a multiple of "
                         f"32; channels_in={channels_in}, groups={groups}")
    return groups, channels_in // groups


def lce_bconv2d(x_packed: np.ndarray, filter_packed: np.ndarray, *, channels_in: int,
                stride: tuple[int, int] = (1, 1), dilation: tuple[int, int] = (1, 1),
                padding: str = "VALID", pad_values: int = 0, activation: str = "NONE",
                post_activation_multiplier: np.ndarray | None = None,
                post_activation_bias: np.ndarray | None = None,
                output_threshold: np.ndarray | None = None, out_dtype: str = "float32",
                out_scale: float | None = None, out_zero_point: int | None = None,
                kernel: str = "default") -> np.ndarray:
    """Runs one LceBconv2d on a batch.

    Args:
        x_packed: int32 ``[N, H, W, P(channels_in)]``.
        filter_packed: int32 ``[Cout, KH, KW, Pg]``.
        channels_in: unpacked input channels (all groups).
        stride, dilation: (height, width).
        padding: "SAME" or "VALID"; pad_values: 0 or 1 (SAME only).
        activation: fused activation name ("NONE", "RELU", "RELU6", "RELU_N1_TO_1").
        post_activation_multiplier, post_activation_bias: float32 ``[Cout]`` (float/int8 out).
        output_threshold: int32 ``[Cout]`` (bit-packed output).
        out_dtype: "float32", "int8" or "int32" (bit-packed).
        out_scale, out_zero_point: the int8 output's quantization.
        kernel: "default" (LCE's default/indirect kernels) or "reference".

    Returns:
        ``[N, OH, OW, Cout]`` float32/int8, or ``[N, OH, OW, P(Cout)]`` int32.
    """
    x_packed = np.asarray(x_packed, dtype=np.int32)
    filter_packed = np.asarray(filter_packed, dtype=np.int32)
    n, h, w, _ = x_packed.shape
    c_out, kh, kw, pg = filter_packed.shape
    groups, cg = bconv2d_groups(channels_in, pg)
    cout_g = c_out // groups
    sh, sw = stride
    dh, dw = dilation
    oh, pad_top, pad_bottom = conv_geometry(h, kh, stride=sh, dilation=dh, padding=padding)
    ow, pad_left, pad_right = conv_geometry(w, kw, stride=sw, dilation=dw, padding=padding)
    k = kh * kw * cg
    zero_padding = padding == "SAME" and int(pad_values) == 0
    if activation not in _ACTIVATION_BOUNDS:
        activation = "NONE"  # the kernel maps unknown values to NONE (spec §2)

    # Filter bits per group: [groups, KH*KW*Cg, Cout_g] as 0/1 float32.
    f_bits = unpack_bits(filter_packed, cg)  # [Cout, KH, KW, Cg]
    w_bits = f_bits.reshape(c_out, kh * kw * cg).astype(np.float32)  # [Cout, K]
    w_count = w_bits.sum(axis=1)  # popcount of each output channel's whole filter
    tap_pop = f_bits.sum(axis=3).reshape(c_out, kh * kw).astype(np.float64)  # [Cout, taps]

    # outside[oy, ox, tap]: the tap reads padding.
    iy = (np.arange(oh) * sh - pad_top)[:, None] + np.arange(kh)[None, :] * dh  # [OH, KH]
    ix = (np.arange(ow) * sw - pad_left)[:, None] + np.arange(kw)[None, :] * dw  # [OW, KW]
    in_y = (iy >= 0) & (iy < h)
    in_x = (ix >= 0) & (ix < w)
    outside = ~(in_y[:, None, :, None] & in_x[None, :, None, :])  # [OH, OW, KH, KW]
    outside = outside.reshape(oh, ow, kh * kw).astype(np.float64)

    x_bits_all = unpack_bits(x_packed, channels_in)  # [N, H, W, Cin] bool
    x_bits_all = pad_spatial(x_bits_all, (pad_top, pad_bottom, pad_left, pad_right), False)

    acc = np.empty((n, oh, ow, c_out), dtype=np.int64)
    per_image = oh * ow * k * 4 * 2
    step = max(1, _CHUNK_BYTES // max(per_image, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        for g in range(groups):
            xg = x_bits_all[start:stop, :, :, g * cg:(g + 1) * cg]
            patches = extract_patches(xg, (kh, kw), (oh, ow), (sh, sw), (dh, dw))
            cols = patches.reshape(-1, k).astype(np.float32)  # [M, K]
            wg = w_bits[g * cout_g:(g + 1) * cout_g]  # [Cout_g, K]
            both = cols @ wg.T  # popcount(x AND w)
            xor = cols.sum(axis=1, keepdims=True) + w_count[None, g * cout_g:(g + 1) * cout_g] \
                - 2.0 * both
            acc[start:stop, :, :, g * cout_g:(g + 1) * cout_g] = \
                np.rint(xor).astype(np.int64).reshape(stop - start, oh, ow, cout_g)

    if zero_padding:
        # acc without the outside taps, and the number of outside taps per position.
        out_pop = (outside @ tap_pop.T).astype(np.int64)  # [OH, OW, Cout]
        n_out = outside.sum(axis=2).astype(np.int64)[:, :, None]  # [OH, OW, 1]
        acc_inside = acc - out_pop[None]
        use_integer_path = kernel == "reference" or out_dtype != "float32"
    else:
        use_integer_path = True

    if out_dtype == "int32":
        if output_threshold is None:
            raise ValueError("bit-packed LceBconv2d output needs output_threshold")
        if zero_padding:  # never emitted by the converter; the reference kernel's count
            acc = acc_inside + n_out * (cg // 2)
        bits = acc > np.asarray(output_threshold, dtype=np.int64)
        return pack_bits(bits)

    if post_activation_multiplier is None or post_activation_bias is None:
        raise ValueError("float/int8 LceBconv2d output needs a multiplier and a bias")
    pam = np.asarray(post_activation_multiplier, dtype=np.float32).astype(np.float64)
    pab = np.asarray(post_activation_bias, dtype=np.float32).astype(np.float64)
    if out_dtype == "int8":
        s, z = float(np.float32(out_scale)), float(out_zero_point)
    elif out_dtype == "float32":
        s, z = 1.0, 0.0
    else:
        raise TypeError(f"LceBconv2d: output dtype {out_dtype} is not float32, int8 or int32")
    mul = (-pam / s).astype(np.float32)
    bias = ((pab + float(k) * pam) / s + z).astype(np.float32)
    nmin, nmax = _ACTIVATION_BOUNDS[activation]
    nmin, nmax = max(nmin, -k), min(nmax, k)
    cmin, cmax = k - nmax, k - nmin

    if zero_padding and use_integer_path:
        x2 = 2 * acc_inside + n_out * cg
    else:
        x2 = 2 * acc
    x2 = np.clip(x2, cmin, cmax)
    y = x2.astype(np.float32) * mul  # float32 multiply (rounded) ...
    y = y + bias  # ... then a separate float32 add: no FMA

    if zero_padding and not use_integer_path:
        y = y + _zero_padding_correction(filter_packed, cg, pam, h, w, (kh, kw), (oh, ow),
                                         (sh, sw), (dh, dw), outside)[None]
    if out_dtype == "float32":
        return y.astype(np.float32, copy=False)
    return np.clip(round_half_away(y), -128, 127).astype(np.int8)


def _zero_padding_correction(filter_packed, cg, pam, h, w, kernel, out, stride, dilation,
                             outside) -> np.ndarray:
    """``[OH, OW, Cout]`` float32 correction of LCE's default kernel (spec §6.8, App. B)."""
    kh, kw = kernel
    oh, ow = out
    sh, sw = stride
    dh, dw = dilation
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    f_bits = unpack_bits(filter_packed, cg)
    fsum = (cg - 2 * f_bits.sum(axis=3).astype(np.int64))  # [Cout, KH, KW]
    neg_pam = (-pam).astype(np.float32)  # pam is float32-exact, so this is -(float)pam
    if ekh <= h and ekw <= w:
        s = outside @ fsum.reshape(fsum.shape[0], -1).T.astype(np.float64)  # exact integers
        return neg_pam[None, None, :] * s.astype(np.float32)

    # Degenerate regime: LCE's four-case cache (Appendix B), evaluated per position.
    ey = (np.arange(kh) * dh)[:, None]  # [KH, 1]
    ex = (np.arange(kw) * dw)[None, :]  # [1, KW]

    def s_case(case: int, y: int, x: int) -> np.ndarray:
        if case == 0:
            mask = (ey < y) | (ex < x)
        elif case == 1:
            mask = (ey < y) | (ekw - ex <= x)
        elif case == 2:
            mask = (ekh - ey <= y) | (ex < x)
        else:
            mask = (ekh - ey <= y) | (ekw - ex <= x)
        return (fsum * mask[None]).sum(axis=(1, 2))

    def trunc_half(v: int) -> int:
        return int(v / 2) if v >= 0 else -int(-v / 2)

    left = trunc_half((ow - 1) * sw + ekw - w)
    top = trunc_half((oh - 1) * sh + ekh - h)
    corr = np.zeros((oh, ow, fsum.shape[0]), dtype=np.float32)
    for oy in range(oh):
        for ox in range(ow):
            ot = top - oy * sh
            ob = ekh - h - ot
            ol = left - ox * sw
            orr = ekw - w - ol
            if ol <= 0 and orr <= 0 and ot <= 0 and ob <= 0:
                continue
            if orr <= 0 and ot > 0 and ob < 0:
                case, cx, cy = 0, max(ol, 0), ot
            elif ol < 0 and orr > 0 and ob <= 0:
                case, cx, cy = 1, orr, max(ot, 0)
            elif ol > 0 and orr < 0 and ot <= 0:
                case, cx, cy = 2, ol, max(ob, 0)
            elif ol <= 0 and ot < 0 and ob > 0:
                case, cx, cy = 3, max(orr, 0), ob
            else:
                continue
            corr[oy, ox] = neg_pam * s_case(case, cy, cx).astype(np.float32)
    return corr
