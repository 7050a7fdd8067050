"""Fuzz bnn_lq.convert.read: mutated and truncated real LCE models either parse into a
consistent Graph or raise ModelFormatError -- never another exception, a hang or a
huge allocation."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bnn_lq.convert import read
from bnn_lq.convert.flatbuffer import LCE_OPS
from bnn_lq.errors import ModelFormatError

N_CASES_PER_MODEL = 1600  # x 2 models = 3200 cases; about 10 s on one core
# A valid read of these ~50 KB models takes a few ms; 2 s per case only rejects
# real hangs (e.g. a loop over a corrupt length), even on a loaded CI machine.
PER_CASE_SECONDS = 2.0


def mutate(buf: bytes, rng: np.random.Generator, kind: int) -> bytes:
    b = bytearray(buf)
    if kind == 0:  # random byte flips anywhere
        for _ in range(int(rng.integers(1, 20))):
            b[int(rng.integers(len(b)))] = int(rng.integers(256))
    elif kind == 1:  # truncation
        b = b[: int(rng.integers(len(b)))]
    elif kind == 2:  # random bytes inserted
        at = int(rng.integers(len(b)))
        b[at:at] = rng.bytes(int(rng.integers(1, 16)))
    elif kind == 3:  # a zeroed region
        at, n = int(rng.integers(len(b))), int(rng.integers(1, 256))
        b[at: at + n] = bytes(len(b[at: at + n]))
    elif kind == 4:  # single-bit flips in the tables (the last part holds them for LCE)
        tables = min(len(b), 4096)
        for _ in range(int(rng.integers(1, 6))):
            at = len(b) - 1 - int(rng.integers(tables)) if rng.random() < 0.5 else int(
                rng.integers(tables))
            b[at] ^= 1 << int(rng.integers(8))
    else:  # random 32-bit values written at aligned positions (offsets, lengths)
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(len(b) // 4)) * 4
            b[at: at + 4] = int(rng.integers(-2**31, 2**31)).to_bytes(4, "little", signed=True)
    return bytes(b)


def check_consistent(g) -> None:
    """What every consumer relies on in a Graph that read() returned."""
    n = len(g.tensors)
    for i, t in enumerate(g.tensors):
        assert t.index == i
        assert all(d >= 0 or (d == -1 and axis == 0) for axis, d in enumerate(t.shape))
        np.dtype(t.dtype)
        if t.data is not None:
            assert t.data.shape == t.shape and t.data.dtype == np.dtype(t.dtype)
        if t.quantization is not None:
            assert t.quantization.scale.shape == t.quantization.zero_point.shape
    for i, op in enumerate(g.operators):
        assert op.index == i and isinstance(op.op, str) and op.op
        assert all(-1 <= k < n for k in op.inputs) and all(0 <= k < n for k in op.outputs)
        assert isinstance(op.options, dict)
        if op.op in LCE_OPS or op.op.isupper():  # unknown custom ops keep raw values
            if "padding" in op.options and not isinstance(op.options["padding"], tuple):
                assert op.options["padding"] in ("SAME", "VALID")
    assert all(0 <= k < n for k in g.inputs + g.outputs)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["small_cnn_tflite", "small_int8_tflite"])
def test_mutated_models_parse_or_raise_model_format_error(model, request):
    buf = request.getfixturevalue(model)
    check_consistent(read(buf))
    rng = np.random.default_rng(20240607)
    outcomes = {"parsed": 0, "rejected": 0}
    start = time.perf_counter()
    for case in range(N_CASES_PER_MODEL):
        data = mutate(buf, rng, case % 6)
        t0 = time.perf_counter()
        try:
            g = read(data, name=f"case{case}.tflite")
        except ModelFormatError as exc:
            assert str(exc).startswith(f"case{case}.tflite: "), str(exc)
            outcomes["rejected"] += 1
        else:
            check_consistent(g)
            outcomes["parsed"] += 1
        elapsed = time.perf_counter() - t0
        assert elapsed < PER_CASE_SECONDS, f"case {case} (kind {case % 6}) took {elapsed:.2f} s"
    assert time.perf_counter() - start < 50
    # Both outcomes must occur, or the mutations test nothing.
    assert outcomes["parsed"] > 50 and outcomes["rejected"] > 500, outcomes
