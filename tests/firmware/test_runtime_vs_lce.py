"""Every C kernel against LCE's interpreter, op by op, on random converted models.

Three conversions (session fixtures; tests/firmware/runtime_models.py): a float model (bconv in
every padding / stride / dilation / group / output mode, including the degenerate zero
padding of spec Appendix B, plus the float builtins), a model converted with
experimental_default_int8_range (int8 builtins, int8-input LceQuantize), and a QAT
fake-quant model (int8-output LceBconv2d incl. SAME/pad_values=0, int8 LceDequantize).
Each operator gets the oracle's actual inputs, so errors do not compound.

Tolerances: LCE ops (all output kinds) and every int8 / packed tensor must be bit-exact;
float builtins within 1e-5 of the output's magnitude (they differ from TFLite's optimized
kernels only in summation order; a wrong tap or channel errs by O(1)).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

oracle = pytest.importorskip("oracle")
import runtime_models as models  # noqa: E402
import runtime_harness as h  # noqa: E402

pytestmark = pytest.mark.slow

# (builder, LCE convert kwargs, which LceBconv2d kernel runs the oracle)
MODELS = {
    # indirect: numbers identical to the default kernel (spec §1) and it runs groups.
    "float": (models.float_model, {}, "indirect"),
    "int8_default_range": (models.int8_default_range_model,
                           dict(experimental_default_int8_range=(-3.0, 3.0),
                                inference_input_type="int8", inference_output_type="int8"),
                           "default"),
    # reference: the only LCE kernel that runs int8 output with SAME/pad_values=0.
    "int8_qat": (models.int8_qat_model,
                 dict(inference_input_type="int8", inference_output_type="int8"), "reference"),
}

# Op kinds each model must contain, so a converter change cannot silently shrink coverage.
EXPECTED = {
    "float": {"LceQuantize/f32", "LceDequantize/float32", "LceBMaxPool2d",
              "LceBconv2d/f32/padone", "LceBconv2d/f32/padzero_float", "LceBconv2d/packed/padone",
              "CONV_2D/f32", "DEPTHWISE_CONV_2D/f32", "FULLY_CONNECTED/f32", "MAX_POOL_2D/f32",
              "AVERAGE_POOL_2D/f32", "MEAN/f32", "ADD/f32", "SUB/f32", "MUL/f32", "RESHAPE",
              "SOFTMAX/f32", "PAD/float32", "CONCATENATION/axis3/float32",
              "CONCATENATION/axis1/float32", "PRELU/f32", "LEAKY_RELU/f32"},
    "int8_default_range": {"LceQuantize/s8", "CONV_2D/s8", "DEPTHWISE_CONV_2D/s8",
                           "FULLY_CONNECTED/s8", "MAX_POOL_2D/s8", "AVERAGE_POOL_2D/s8",
                           "MEAN/s8/mode0", "ADD/s8", "MUL/s8", "SOFTMAX/s8", "PRELU/s8",
                           "LEAKY_RELU/s8", "CONCATENATION/axis3/int8"},
    "int8_qat": {"LceQuantize/s8", "LceDequantize/int8", "LceBconv2d/s8/padone",
                 "LceBconv2d/s8/padzero_int", "CONV_2D/s8"},
}


@pytest.fixture(scope="session", params=sorted(MODELS))
def converted(request):
    import tensorflow as tf
    build, kwargs, kernel = MODELS[request.param]
    kwargs = {k: (tf.int8 if v == "int8" else v) for k, v in kwargs.items()}
    model = build()
    oracle.randomize_model(model, np.random.default_rng(11))
    fb = oracle.convert(model, **kwargs)
    return request.param, fb, kernel


def _input(model: h.Model, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = model.sub.inputs[0]
    if model.dtype(t) == np.int8:
        return rng.integers(-128, 128, size=model.shape(t)).astype(np.int8)
    x = rng.normal(size=model.shape(t)).astype(np.float32)
    x.ravel()[::17] = 0.0                      # exact zeros: sign(0) = +1
    x.ravel()[5::23] = -0.0
    return x


def test_every_op_matches_lce(c_runtime, converted):
    name, fb, kernel = converted
    model = h.Model(fb)
    seen, failures = set(), []
    for seed in (1, 2):
        values = oracle.run_all(fb, _input(model, seed), use_indirect_bgemm=kernel == "indirect",
                                use_reference_bconv=kernel == "reference")
        for i in range(len(model.ops)):
            got, info = h.run_op(c_runtime, model, i, values, bconv_kernel=kernel)
            seen.add(info)
            exp = np.asarray(values[model.ops[i].outputs[0]]).reshape(got.shape)
            if got.dtype == np.float32 and not info.startswith("Lce"):
                scale = max(float(np.abs(exp).max()), 1e-30)
                err = float(np.abs(got.astype(np.float64) - exp).max())
                if err > 1e-5 * scale:
                    failures.append(f"seed {seed} op {i} {info}: max err {err:.3g} (scale {scale:.3g})")
            elif not np.array_equal(got, exp):
                n_bad = int(np.count_nonzero(got != exp))
                failures.append(f"seed {seed} op {i} {info}: {n_bad}/{got.size} differ")
    assert not failures, "\n".join(failures)
    kinds = {s for s in seen} | {s.split("/cin")[0] for s in seen}
    missing = EXPECTED[name] - kinds
    assert not missing, f"model {name} no longer contains {sorted(missing)}"


def test_float_model_covers_degenerate_zero_padding_and_groups(converted):
    """The float model must keep its Appendix-B layer (dilated kernel larger than the
    input) and its grouped bconv, the two cases most easily lost in a refactor."""
    name, fb, _ = converted
    if name != "float":
        pytest.skip("float model only")
    model = h.Model(fb)
    found = set()
    for i in range(len(model.ops)):
        if model.op_name(i) != "LceBconv2d":
            continue
        op = model.ops[i]
        opts = h._bconv_options(model, op)
        f_shape = model.shape(op.inputs[1])
        in_shape = model.shape(op.inputs[0])
        ekh = (f_shape[1] - 1) * opts["dilation_height_factor"] + 1
        if opts["padding"] == 0 and opts["pad_values"] == 0 and ekh > in_shape[1]:
            found.add("degenerate")
        if in_shape[3] != f_shape[3]:
            found.add("groups")
    assert found == {"degenerate", "groups"}
