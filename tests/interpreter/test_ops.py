"""Fast tests of the per-op NumPy functions (no TensorFlow, no conversion): the spec's own
worked examples, and each vectorised kernel against a plain loop written from the spec."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from bnn_lq.errors import UnsupportedOpError
from bnn_lq.interpreter import fixedpoint, kernels
from bnn_lq.interpreter.bitpack import n_words, pack_bits, unpack_bits
from bnn_lq.interpreter.lce_bconv2d import lce_bconv2d
from bnn_lq.interpreter.lce_bmaxpool2d import lce_bmaxpool2d
from bnn_lq.interpreter.lce_dequantize import lce_dequantize
from bnn_lq.interpreter.lce_quantize import lce_quantize

MODULES = ["bitpack", "lce_quantize", "lce_dequantize", "lce_bconv2d", "lce_bmaxpool2d",
           "fixedpoint", "geometry", "conv2d", "fully_connected", "pooling", "mean",
           "arithmetic", "activations", "softmax", "shape_ops", "quantize"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    import doctest
    import importlib

    mod = importlib.import_module(f"bnn_lq.interpreter.{name}")
    result = doctest.testmod(mod)
    assert result.failed == 0 and mod.__all__


@pytest.mark.parametrize("channels", [1, 5, 31, 32, 33, 64, 100])
def test_pack_round_trip_and_padding_bits(rng, channels):
    bits = rng.random((3, 2, channels)) < 0.5
    words = pack_bits(bits)
    assert words.dtype == np.int32 and words.shape == (3, 2, n_words(channels))
    np.testing.assert_array_equal(unpack_bits(words, channels), bits)
    # unused high bits of the last word are 0
    tail = channels % 32
    if tail:
        assert not (words[..., -1].view(np.uint32) >> tail).any()
    # bit c of word c // 32, LSB first
    c = channels - 1
    expect = bits[..., c].astype(np.uint32) << (c % 32)
    np.testing.assert_array_equal(words[..., c // 32].view(np.uint32) & (1 << (c % 32)), expect)


def test_quantize_special_values():
    tiny = np.finfo(np.float32).tiny
    sub = np.float32(-1e-40)  # negative subnormal: packs as +1 like LCE's x86 kernel (§9.4)
    x = np.array([[0.0, -0.0, np.nan, -np.nan, -np.inf, np.inf, sub, -tiny, 3.4e38, -3.4e38]],
                 dtype=np.float32)
    bits = unpack_bits(lce_quantize(x), x.shape[1])[0]
    np.testing.assert_array_equal(bits, [0, 0, 0, 0, 1, 0, 0, 1, 0, 1])
    q = np.array([[-43, -44, 0, 127, -128]], dtype=np.int8)
    np.testing.assert_array_equal(unpack_bits(lce_quantize(q, zero_point=-43), 5)[0],
                                  [0, 1, 0, 0, 1])
    b = np.array([[True, False]])
    np.testing.assert_array_equal(unpack_bits(lce_quantize(b), 2)[0], [0, 1])


def test_dequantize_int8_saturates():
    words = pack_bits(np.array([[False, True]]))
    # the converter's scale for [-1, 1] is one ulp below float32(2/255): 1.0f / s =
    # 127.50001 rounds to 128 -> saturates to 127 and -128 (spec §5)
    scale = np.nextafter(np.float32(2 / 255), np.float32(0))
    out = lce_dequantize(words, channels=2, dtype="int8", scale=scale, zero_point=0)
    np.testing.assert_array_equal(out, [[127, -128]])
    out = lce_dequantize(words, channels=2, dtype="int8", scale=np.float32(0.01765),
                         zero_point=-43)
    np.testing.assert_array_equal(out, [[-43 + 57, -43 - 57]])
    np.testing.assert_array_equal(lce_dequantize(words, channels=2, dtype="bool"),
                                  [[True, False]])


# --- spec Appendix C: the worked example checked on the oracle -----------------------------

_X_APPC = np.array([
    [[0.5, -1, 2, -4], [-0.5, -0.0, 1, 1], [3, 1, -2, 0]],
    [[-1, 1, 1, 1], [0, -3, -1, -1], [1, -1, 1, 2]],
    [[2, 2, -1, -0.5], [-1, 0.5, 0.5, 0.5], [-2, -2, -2, -2]]], dtype=np.float32)[None]
_F_APPC = np.array([[[1, 0, 0], [0, 4, 0], [0, 0, 2]], [[10] * 3] * 3],
                   dtype=np.int32)[..., None]
_PAM = np.array([float.fromhex("0x1.ffefa0p-3"), -float.fromhex("0x1.ffbe84p+0")], np.float32)
_PAB = np.array([float.fromhex("0x1.001890p-2"), -float.fromhex("0x1.bfbe84p+0")], np.float32)


def test_appendix_c_packing():
    np.testing.assert_array_equal(lce_quantize(_X_APPC)[0, :, :, 0],
                                  [[10, 1, 4], [1, 14, 2], [12, 1, 15]])


@pytest.mark.parametrize("padding,pad_values,kernel,expect", [
    ("VALID", 0, "default", [1.749906063079834, -1.7490005493164062]),
    ("SAME", 1, "default", [5.249468803405762, -5.747001647949219]),
    ("SAME", 0, "default", [0.7500309944152832, None]),
    ("SAME", 0, "reference", [0.7500314712524414, None]),
])
def test_appendix_c_bconv(padding, pad_values, kernel, expect):
    out = lce_bconv2d(lce_quantize(_X_APPC), _F_APPC, channels_in=4, padding=padding,
                      pad_values=pad_values, post_activation_multiplier=_PAM,
                      post_activation_bias=_PAB, kernel=kernel)[0, 0, 0]
    for got, want in zip(out, expect):
        if want is not None:
            assert float(got) == want  # bit-exact


# --- LceBconv2d against the loop nest of spec §6.4-§6.8 ----------------------------------

def _bconv_loops(x_bits, f_bits, groups, stride, dilation, padding, pad_values):
    """``x2`` per output (int), the literal loops of the spec, integer (reference) path."""
    n, h, w, _ = x_bits.shape
    c_out, kh, kw, cg = f_bits.shape
    sh, sw = stride
    dh, dw = dilation
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        top = max(0, (oh - 1) * sh + ekh - h) // 2
        left = max(0, (ow - 1) * sw + ekw - w) // 2
    else:
        oh, ow = (h - ekh) // sh + 1, (w - ekw) // sw + 1
        top = left = 0
    cout_g = c_out // groups
    x2 = np.zeros((n, oh, ow, c_out), dtype=np.int64)
    for b, oy, ox, co in itertools.product(range(n), range(oh), range(ow), range(c_out)):
        g = co // cout_g
        acc2 = 0
        for fy, fx in itertools.product(range(kh), range(kw)):
            iy, ix = oy * sh - top + fy * dh, ox * sw - left + fx * dw
            wv = f_bits[co, fy, fx]
            if 0 <= iy < h and 0 <= ix < w:
                acc2 += 2 * int(np.sum(x_bits[b, iy, ix, g * cg:(g + 1) * cg] ^ wv))
            elif pad_values == 1:
                acc2 += 2 * int(np.sum(wv))
            else:
                acc2 += cg  # contributes 0 to d = K - x2
        x2[b, oy, ox, co] = acc2
    return x2


BCONV_CASES = [
    # in (N, H, W, C), Cout, kernel, stride, dilation, padding, pad_values, groups
    pytest.param((2, 5, 5, 3), 4, (3, 3), (1, 1), (1, 1), "VALID", 0, 1, id="c3-valid-batch2"),
    pytest.param((1, 5, 6, 33), 5, (3, 2), (2, 1), (1, 1), "SAME", 1, 1, id="c33-same-one-s21"),
    pytest.param((1, 6, 6, 32), 3, (3, 3), (2, 2), (1, 1), "SAME", 0, 1, id="c32-same-zero-s2"),
    pytest.param((1, 7, 5, 31), 2, (3, 3), (1, 1), (2, 1), "SAME", 0, 1, id="c31-zero-dil21"),
    pytest.param((1, 4, 4, 64), 4, (3, 3), (1, 1), (2, 2), "SAME", 0, 1, id="c64-degenerate"),
    pytest.param((1, 4, 4, 64), 6, (3, 3), (1, 1), (1, 1), "SAME", 1, 2, id="c64-groups2"),
    pytest.param((1, 1, 1, 100), 1, (1, 1), (1, 1), (1, 1), "VALID", 0, 1, id="c100-1x1"),
]


@pytest.mark.parametrize("shape,c_out,kernel,stride,dilation,padding,pad_values,groups",
                         BCONV_CASES)
def test_bconv2d_matches_loops(rng, shape, c_out, kernel, stride, dilation, padding,
                               pad_values, groups):
    cin = shape[3]
    cg = cin // groups
    x_bits = rng.random(shape) < 0.5
    f_bits = rng.random((c_out,) + kernel + (cg,)) < 0.5
    x2 = _bconv_loops(x_bits.astype(np.int64), f_bits.astype(np.int64), groups, stride,
                      dilation, padding, pad_values)
    k = kernel[0] * kernel[1] * cg
    pam = rng.normal(size=c_out).astype(np.float32)
    pab = rng.normal(size=c_out).astype(np.float32)
    args = dict(channels_in=cin, stride=stride, dilation=dilation, padding=padding,
                pad_values=pad_values)
    x_p, f_p = pack_bits(x_bits), pack_bits(f_bits)
    # float output on the integer path: x2 * mul + bias with float32 roundings
    got = lce_bconv2d(x_p, f_p, post_activation_multiplier=pam, post_activation_bias=pab,
                      kernel="reference", **args)
    mul = (-pam.astype(np.float64)).astype(np.float32)
    bias = (pab.astype(np.float64) + k * pam.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(got, x2.astype(np.float32) * mul + bias)
    # fused RELU6 clamp on d = K - x2
    got = lce_bconv2d(x_p, f_p, post_activation_multiplier=pam, post_activation_bias=pab,
                      kernel="reference", activation="RELU6", **args)
    d = np.clip(k - x2, 0, 6)
    np.testing.assert_array_equal(got, (k - d).astype(np.float32) * mul + bias)
    # int8: half away from zero, saturating
    got = lce_bconv2d(x_p, f_p, post_activation_multiplier=pam, post_activation_bias=pab,
                      kernel="reference", out_dtype="int8", out_scale=np.float32(0.05),
                      out_zero_point=3, **args)
    mul8 = (-pam.astype(np.float64) / np.float64(np.float32(0.05))).astype(np.float32)
    bias8 = ((pab.astype(np.float64) + k * pam.astype(np.float64))
             / np.float64(np.float32(0.05)) + 3).astype(np.float32)
    y = (x2.astype(np.float32) * mul8 + bias8).astype(np.float64)
    np.testing.assert_array_equal(got, np.clip(np.sign(y) * np.floor(np.abs(y) + 0.5),
                                               -128, 127))
    # default kernel: equal in the normal regime up to float rounding of the correction
    got = lce_bconv2d(x_p, f_p, post_activation_multiplier=pam, post_activation_bias=pab,
                      **args)
    ref = x2.astype(np.float32) * mul + bias
    if not (padding == "SAME" and pad_values == 0) or "degenerate" not in str(kernel):
        ekh = (kernel[0] - 1) * dilation[0] + 1
        ekw = (kernel[1] - 1) * dilation[1] + 1
        if ekh <= shape[1] and ekw <= shape[2]:
            np.testing.assert_allclose(got, ref, atol=1e-4 * max(1.0, float(np.abs(ref).max())))
    # bit-packed output: acc > threshold (thresholds include the extremes)
    if not (padding == "SAME" and pad_values == 0):
        thr = rng.integers(-2, k + 2, size=c_out).astype(np.int32)
        thr[0] = np.iinfo(np.int32).min
        got = lce_bconv2d(x_p, f_p, output_threshold=thr, out_dtype="int32", **args)
        np.testing.assert_array_equal(unpack_bits(got, c_out), x2 // 2 > thr)


@pytest.mark.parametrize("pool,stride,padding", [((2, 2), (2, 2), "VALID"),
                                                 ((3, 3), (1, 1), "SAME"),
                                                 ((2, 3), (1, 2), "SAME")])
def test_bmaxpool_is_sign_of_max(rng, pool, stride, padding):
    from bnn_lq.interpreter.pooling import max_pool2d

    x = rng.normal(size=(2, 5, 6, 40)).astype(np.float32)
    want = lce_quantize(max_pool2d(x, filter_size=pool, stride=stride, padding=padding))
    got = lce_bmaxpool2d(lce_quantize(x), filter_size=pool, stride=stride, padding=padding)
    np.testing.assert_array_equal(got, want)


# --- fixed point ---------------------------------------------------------------------------

def _srdhm_py(a, b):
    if a == b == -2**31:
        return 2**31 - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    return int(v / 2**31) if abs(v) < 2**52 else (abs(v) >> 31) * (1 if v >= 0 else -1)


def _rdbpot_py(x, e):
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def test_fixed_point_against_python(rng):
    a = rng.integers(-2**31, 2**31, size=300)
    b = rng.integers(0, 2**31, size=300)
    a[:3] = [-2**31, 2**31 - 1, 0]
    b[0] = -2**31
    got = fixedpoint.saturating_rounding_doubling_high_mul(a, b)
    assert [int(v) for v in got] == [_srdhm_py(int(x), int(y)) for x, y in zip(a, b)]
    e = rng.integers(0, 31, size=300)
    got = fixedpoint.rounding_divide_by_pot(a, e)
    assert [int(v) for v in got] == [_rdbpot_py(int(x), int(y)) for x, y in zip(a, e)]
    assert fixedpoint.quantize_multiplier(0.5) == (1 << 30, 0)
    assert fixedpoint.quantize_multiplier(1.0) == (1 << 30, 1)
    # ties: gemmlowp rounds -0.5 away from zero, ruy's x86 kernels toward +inf
    m, s = fixedpoint.quantize_multiplier(1 / 8)
    assert int(fixedpoint.multiply_by_quantized_multiplier(-4, m, s)) == -1
    assert int(fixedpoint.multiply_by_quantized_multiplier_ruy(-4, m, s)) == 0
    assert int(fixedpoint.multiply_by_quantized_multiplier_ruy(4, m, s)) == 1


def test_round_half_away():
    np.testing.assert_array_equal(fixedpoint.round_half_away([0.5, -0.5, 1.5, 2.5, -2.5,
                                                              0.49999997]),
                                  [1, -1, 2, 3, -3, 0])


# --- errors --------------------------------------------------------------------------------

class _Ctx:
    def __init__(self, graph):
        self.graph = graph
        self.use_reference_bconv = False


def test_unsupported_op_names_index_type_and_option():
    from bnn_lq.convert.graph import Graph, Operator, Tensor

    tensors = [Tensor(0, "x", (1, 4), "float32"), Tensor(1, "y", (1, 4), "float32")]
    g = Graph(tensors=tensors, operators=[Operator(3, "GELU", (0,), (1,))], inputs=(0,),
              outputs=(1,), source="m.tflite")
    with pytest.raises(UnsupportedOpError, match=r"op 3 'GELU'.*not implemented"):
        kernels.check(_Ctx(g), g.operators[0])
    g.operators = [Operator(5, "ADD", (0, 0), (1,), {"fused_activation_function": "TANH"})]
    with pytest.raises(UnsupportedOpError, match=r"op 5 'ADD'.*fused_activation_function=TANH"):
        kernels.check(_Ctx(g), g.operators[0])


def test_import_needs_no_tensorflow():
    """Importing the interpreter (and the flatbuffer reader it uses) must not import
    TensorFlow or LCE; a meta path hook makes any such import fail."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tensorflow', 'larq_compute_engine', 'larq',"
        " 'tf_keras', 'keras'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import bnn_lq.interpreter, bnn_lq.interpreter.kernels, bnn_lq.convert.flatbuffer\n"
        "from bnn_lq import Interpreter\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
