"""The C runtime builds warning-free for every toolchain, and its kernels behave on
hand-made inputs (fast: no LCE). The per-op comparison with LCE is test_runtime_vs_lce.py."""

from __future__ import annotations

import ctypes as C
import shutil
import subprocess

import numpy as np
import pytest

import runtime_harness as h

TOOLCHAINS = [
    pytest.param("gcc", (), id="host-x86_64"),
    pytest.param("arm-none-eabi-gcc", ("-mcpu=cortex-m0", "-mthumb"), id="cortex-m0"),
    pytest.param("arm-none-eabi-gcc",
                 ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                 id="cortex-m4f"),
    pytest.param("arm-none-eabi-gcc", ("-mcpu=cortex-m0", "-mthumb",
                                       "-DBNN_STRIP_ERROR_STRINGS", "-DNDEBUG"),
                 id="cortex-m0-stripped"),
]


@pytest.mark.parametrize("cc,arch", TOOLCHAINS)
def test_runtime_compiles_warning_free(tmp_path, cc, arch):
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    # One compiler process per toolchain (fast); gcc names each object after its source.
    cmd = [cc, *h.CFLAGS, "-pedantic", *arch, "-I", str(h.RUNTIME_DIR / "include"), "-c",
           *map(str, h.runtime_sources())]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and not done.stderr, f"{' '.join(cmd)}\n{done.stderr}"


def test_quantize_f32_special_values(c_runtime):
    # spec §3 example and §9.4: -0.0, NaN and negative subnormals pack as +1; -FLT_MIN as -1.
    tiny = np.float32(1.0e-40)
    x = np.array([[1.0, -2.0, 0.0, -0.0, -0.5, np.nan, -np.nan, -np.inf, np.inf, -tiny,
                   -np.finfo(np.float32).tiny, tiny]], np.float32)
    out = np.zeros((1, 1), np.uint32)
    assert c_runtime.call("quantize_f32", h.QuantizeParams(1, x.shape[1], 0), x, out) == 0
    expected_bits = [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0]
    assert int(out[0, 0]) == sum(b << i for i, b in enumerate(expected_bits))


def test_quantize_padding_bits_are_zero(c_runtime, rng):
    x = -np.abs(rng.normal(size=(3, 33))).astype(np.float32) - 1.0   # all -1
    out = np.full((3, 2), 0xFFFFFFFF, np.uint32)
    assert c_runtime.call("quantize_f32", h.QuantizeParams(3, 33, 0), x, out) == 0
    assert (out[:, 0] == 0xFFFFFFFF).all() and (out[:, 1] == 1).all()


def test_error_message_names_op_and_field(c_runtime):
    c_runtime.clear_log()
    x = np.zeros((1, 1), np.float32)
    out = np.zeros((1, 1), np.uint32)
    assert c_runtime.call("quantize_f32", h.QuantizeParams(1, 0, 0), x, out) == 1  # BNN_ERR_ARG
    assert c_runtime.log().startswith("quantize: channels=0")
    assert c_runtime.lib.bnn_status_name(1) == b"bad argument"
    assert c_runtime.lib.bnn_status_name(99) == b"?"


def _srdhm(a, b):
    if a == b == -2**31:
        return 2**31 - 1
    ab = a * b
    nudge = 2**30 if ab >= 0 else 1 - 2**30
    q = abs(ab + nudge) // 2**31
    return q if ab + nudge >= 0 else -q


def _rdbpot(x, e):
    mask = (1 << e) - 1
    return (x >> e) + (1 if (x & mask) > (mask >> 1) + (1 if x < 0 else 0) else 0)


def test_fixed_point_helpers_match_gemmlowp_definition(c_runtime, rng):
    lib = c_runtime.lib
    xs = list(rng.integers(-2**31, 2**31, size=300)) + [-2**31, 2**31 - 1, 0, -1, 1]
    ms = list(rng.integers(2**30, 2**31, size=300)) + [-2**31, 2**31 - 1, 2**30, 2**30, 2**30]
    for x, m in zip(xs, ms):
        assert lib.bnn_srdhm(int(x), int(m)) == _srdhm(int(x), int(m))
    for x in rng.integers(-2**20, 2**20, size=500):
        e = int(rng.integers(0, 12))
        assert lib.bnn_rdbpot(int(x), e) == _rdbpot(int(x), e)
        m = int(rng.integers(2**30, 2**31))
        s = int(rng.integers(-12, 3))
        y = _srdhm(int(x) << max(s, 0), m)
        assert lib.bnn_mbqm(int(x), m, s) == _rdbpot(y, max(-s, 0))
        n = max(-s, 0)
        assert lib.bnn_mbqm_upward(int(x), m, s) == ((y + (1 << (n - 1))) >> n if n else y)


@pytest.mark.parametrize("scale,exact", [(1.0, True), (0.25, True), (0.3, False)])
def test_binw_conv_equals_float_conv(c_runtime, rng, scale, exact):
    """bnn_conv2d_binw_f32 on packed signs == bnn_conv2d_f32 on +-scale weights: bit-exact
    for power-of-two scales; otherwise within the rounding of the factored-out scale."""
    n, hgt, wid, cin, cout, k = 1, 7, 6, 35, 5, 3
    x = rng.normal(size=(n, hgt, wid, cin)).astype(np.float32)
    signs = rng.random((cout, k, k, cin)) < 0.5
    w = np.where(signs, -scale, scale).astype(np.float32)
    bits = np.zeros((cout, k, k, 2), np.uint32)
    for c in range(cin):
        bits[..., c // 32] |= signs[..., c].astype(np.uint32) << np.uint32(c % 32)
    bias = rng.normal(size=cout).astype(np.float32)
    sc = np.full(cout, scale, np.float32)
    win = h.Window(n, hgt, wid, 4, 3, k, k, 2, 2, 1, 1, 1, 1)  # SAME, stride 2
    p = h.ConvF32Params(win, cin, cout, 1, -h.FLT_MAX, h.FLT_MAX)
    ref = np.zeros((n, 4, 3, cout), np.float32)
    got = np.zeros_like(ref)
    assert c_runtime.call("conv2d_f32", p, x, w, bias, ref) == 0
    assert c_runtime.call("conv2d_binw_f32", p, x, bits, sc, bias, got) == 0
    if exact:
        assert np.array_equal(got, ref)
    else:
        # |err| <= (K + 1) * 2^-24 * sum|x * scale| (header bound), K = 3*3*35.
        bound = (k * k * cin + 1) * 2.0**-24 * k * k * cin * np.abs(x).max() * scale
        assert np.abs(got - ref).max() <= bound
    # The FC variant: same contract on one row.
    pf = h.FcF32Params(2, cin, cout, -h.FLT_MAX, h.FLT_MAX)
    xf = np.ascontiguousarray(x[0, :2, 0, :])
    wf = np.ascontiguousarray(w[:, 0, 0, :])
    bf = np.ascontiguousarray(bits[:, 0, 0, :])
    ref_fc = np.zeros((2, cout), np.float32)
    got_fc = np.zeros_like(ref_fc)
    assert c_runtime.call("fully_connected_f32", pf, xf, wf, bias, ref_fc) == 0
    assert c_runtime.call("fully_connected_binw_f32", pf, xf, bf, sc, bias, got_fc) == 0
    if exact:
        assert np.array_equal(got_fc, ref_fc)
    else:
        assert np.abs(got_fc - ref_fc).max() <= (cin + 1) * 2.0**-24 * cin * np.abs(xf).max() * scale


def test_bconv2d_rejects_zero_float_with_int8_output(c_runtime):
    win = h.Window(1, 4, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1)
    mul = np.ones(2, np.float32)
    p = h.BconvParams(win, 32, 2, 1, h.BPAD_ZERO_FLOAT, h.OUT_S8, 0, 2 * 9 * 32,
                      mul.ctypes.data, mul.ctypes.data, None)
    x = np.zeros((1, 4, 4, 1), np.uint32)
    f = np.zeros((2, 3, 3, 1), np.uint32)
    out = np.zeros((1, 4, 4, 2), np.int8)
    c_runtime.clear_log()
    assert c_runtime.call("bconv2d", p, x, f, out, None) == 2  # BNN_ERR_UNSUPPORTED
    assert "bconv2d: out_type=1" in c_runtime.log()
