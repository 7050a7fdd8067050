"""End to end on the host: LCE-converted Larq models -> generated C + the runtime, built
with gcc -std=c99 -Wall -Wextra -Werror -O2 -ffp-contract=off, against LCE's interpreter.

Every model is checked twice: the whole model on several inputs, and every float/int8
activation on its own (the graph cut after the op that writes it, so an error is pinned
to one op). int8 tensors must be bit-exact; float tensors within 1e-5 of the tensor's
range (the project-wide tolerance: admits float reordering in dense sums and the
factored-out scale of binary-weight layers, rejects any wrong sign, bias or tap); and
the model's argmax identical.
"""

from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest
from codegen_helpers import TEST_MAIN, build_model_exe, run_exe

from bnn_lq.convert import codegen
from bnn_lq.convert.flatbuffer import read

pytestmark = pytest.mark.slow

N_INPUTS = 4
MODELS = ["bchain", "binw", "float_ops", "int8", "fused"]
# What each model must exercise in the generated code (guards against a model that
# silently stops covering a path after a converter or codegen change).
EXPECTED_CALLS = {
    "bchain": ["bnn_conv2d_f32(", "bnn_bmaxpool2d(", "BNN_OUT_PACKED", "BNN_BPAD_ZERO_FLOAT",
               "BNN_BPAD_ONE", ".stride_h = 2", "bnn_mean_f32(", "bnn_softmax_f32("],
    "binw": ["bnn_conv2d_binw_f32(", "bnn_fully_connected_binw_f32(", "bnn_dequantize_f32(",
             "bnn_softmax_f32("],
    "float_ops": ["bnn_depthwise_conv2d_f32(", "bnn_leaky_relu_f32(", "bnn_avg_pool2d_f32(",
                  "bnn_prelu_f32(", "bnn_max_pool2d_f32(", "view: aliases"],
    "int8": ["bnn_conv2d_s8(", "bnn_quantize_s8(", "bnn_affine_quantize_s8(",
             "bnn_fully_connected_s8(", "bnn_softmax_s8("],
}
# With fusion (the default), the real-valued chains that end in LceQuantize become one
# bnn_conv2d_pool_quantize call; the lists above hold for fuse=False.
EXPECTED_FUSED = {
    "bchain": ["BNN_FUSED_CONV_F32", "bnn_bmaxpool2d(", "BNN_OUT_PACKED", "BNN_BPAD_ZERO_FLOAT"],
    "binw": ["bnn_conv2d_binw_f32(", "BNN_FUSED_CONV_BINW_F32", "BNN_FUSED_BCONV",
             ".pack_channels = 256", "bnn_fully_connected_binw_f32("],
    "float_ops": ["bnn_depthwise_conv2d_f32(", "bnn_max_pool2d_f32("],
    "int8": ["BNN_FUSED_CONV_S8", ".quant_s8 = 1", "bnn_fully_connected_s8("],
    "fused": ["BNN_FUSED_CONV_BINW_F32", "BNN_FUSED_BCONV", ".has_pool = 1",
              ".has_bpool = 1"],
}


def _inputs(graph, n: int, seed: int) -> np.ndarray:
    x = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(seed)
    shape = (n,) + tuple(x.shape[1:])
    if x.dtype == "int8":
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    v = rng.normal(size=shape).astype(np.float32)
    v[rng.random(shape) < 0.05] = 0.0  # exact zeros: sign(0) = +1
    return v


# int8 ops whose requantization in LCE's interpreter (ruy on x86) rounds differently from
# TFLite's reference MultiplyByQuantizedMultiplier that the runtime implements: the oracle
# takes SaturatingRoundingDoublingHighMul, then a right shift rounding half *up*
# ((x + 2^(n-1)) >> n), not half away from zero. Measured on the "int8" model's CONV_2D:
# 2 of 1152 values per image differed by 1 before the runtime gained BNN_ROUND_UP, which
# codegen now selects. The per-activation test still admits +-1 on at most 1% of values
# for these ops; test_int8_requantization_bit_exact holds them to bit-exactness.
ROUNDING_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}


def _compare(got: np.ndarray, want: np.ndarray, what: str, *, off_by_one: bool = False) -> None:
    assert got.shape == want.shape, what
    if want.dtype == np.int8:
        if off_by_one:
            delta = np.abs(got.astype(np.int32) - want.astype(np.int32))
            assert delta.max() <= 1 and (delta > 0).mean() <= 0.01, (
                f"{what}: {(delta > 0).sum()} int8 values differ, max by {delta.max()}")
            return
        diff = np.flatnonzero(got != want)
        assert diff.size == 0, (f"{what}: {diff.size} int8 values differ, first at {diff[0]}: "
                                f"{got.flat[diff[0]]} vs {want.flat[diff[0]]}")
        return
    scale = max(float(np.ptp(want)), float(np.abs(want).max()), 1e-30)
    err = float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max())
    assert err <= 1e-5 * scale, f"{what}: max abs error {err:.3g} > 1e-5 * {scale:.3g}"


def _cut(graph, op_index: int, tensor: int):
    """The graph up to and including ``op_index``, with ``tensor`` as its output."""
    return dataclasses.replace(graph, operators=graph.operators[:op_index + 1], outputs=(tensor,))


@pytest.fixture(scope="module")
def oracle_mod():
    import oracle

    return oracle


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("name", MODELS)
def test_model_matches_lce(name, fuse, tflite_models, runtime_lib, tmp_path, oracle_mod):
    if name not in EXPECTED_CALLS and not fuse:
        pytest.skip(f"{name} exists for its fused chains")
    fb = tflite_models[name]
    graph = read(fb, name=f"{name}.tflite")
    files = codegen.emit(graph, name=name, fuse=fuse)
    for needle in (EXPECTED_FUSED if fuse else EXPECTED_CALLS)[name]:
        assert needle in files["model.c"], f"{name}: generated code lacks {needle!r}"
    exe = build_model_exe(files, tmp_path / "full", runtime_lib)
    xs = _inputs(graph, N_INPUTS, seed=11)
    y = graph.tensors[graph.outputs[0]]
    got = run_exe(exe, xs, np.dtype(y.dtype), int(np.prod(y.shape)))
    want = np.stack([np.asarray(oracle_mod.run_model(fb, xs[i:i + 1])).reshape(-1)
                     for i in range(N_INPUTS)]).astype(y.dtype)
    _compare(got, want, f"{name} output")
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()


@pytest.mark.parametrize("name", MODELS)
def test_every_activation_matches_lce(name, tflite_models, runtime_lib, tmp_path, oracle_mod,
                                      strict=False):
    fb = tflite_models[name]
    graph = read(fb, name=f"{name}.tflite")
    xs = _inputs(graph, 2, seed=5)
    values = [oracle_mod.run_all(fb, xs[i:i + 1]) for i in range(len(xs))]
    checked = 0
    for op in graph.operators:
        t = graph.tensors[op.outputs[0]]
        if t.dtype not in ("float32", "int8") or op.op in ("RESHAPE",):
            continue
        files = codegen.emit(_cut(graph, op.index, t.index), name=f"{name}_op{op.index}")
        exe = build_model_exe(files, tmp_path / f"op{op.index}", runtime_lib)
        got = run_exe(exe, xs, np.dtype(t.dtype), int(np.prod(t.shape)))
        want = np.stack([v[t.index].reshape(-1) for v in values]).astype(t.dtype)
        _compare(got, want, f"{name} op {op.index} {op.op} ({t.name})",
                 off_by_one=t.dtype == "int8" and op.op in ROUNDING_OPS and not strict)
        checked += 1
    assert checked >= 4


def test_int8_requantization_bit_exact(tflite_models, runtime_lib, tmp_path, oracle_mod):
    test_every_activation_matches_lce("int8", tflite_models, runtime_lib, tmp_path, oracle_mod,
                                      strict=True)


def test_testset_builds_and_agrees(tflite_models, runtime_lib, tmp_path, oracle_mod):
    """The embedded test set compiles with the model, its bytes are the images, and the
    generated model agrees with the embedded oracle predictions."""
    fb = tflite_models["bchain"]
    graph = read(fb, name="bchain.tflite")
    xs = _inputs(graph, 6, seed=2)
    oracle_pred = np.array([np.argmax(oracle_mod.run_model(fb, xs[i:i + 1])) for i in range(6)])
    labels = np.arange(6) % 10
    files = codegen.emit(graph, name="bchain", testset=(xs, labels, oracle_pred))
    main = TEST_MAIN.replace('#include "model.h"', '#include "model.h"\n#include "testset.h"')
    main = main.replace("int main(int argc, char **argv)\n{", r"""int main(int argc, char **argv)
{
    if (argc == 1) {
        unsigned agree = 0u;
        for (unsigned i = 0u; i < BNN_TESTSET_COUNT; ++i) {
            const float *o = (const float *)out_buf;
            unsigned best = 0u;
            if (bnn_model_invoke(bnn_testset_images[i], out_buf) != 0) { return 1; }
            for (unsigned c = 1u; c < BNN_MODEL_NUM_CLASSES; ++c) { if (o[c] > o[best]) best = c; }
            agree += (best == bnn_testset_oracle[i]) ? 1u : 0u;
            printf("%u %u\n", best, (unsigned)bnn_testset_labels[i]);
        }
        printf("agree %u/%u\n", agree, (unsigned)BNN_TESTSET_COUNT);
        return 0;
    }""")
    import codegen_helpers as conftest

    old = conftest.TEST_MAIN
    conftest.TEST_MAIN = main
    try:
        exe = build_model_exe(files, tmp_path, runtime_lib)
    finally:
        conftest.TEST_MAIN = old
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "agree 6/6"
    rows = [line.split() for line in out.strip().splitlines()[:-1]]
    assert [int(r[1]) for r in rows] == labels.tolist()
