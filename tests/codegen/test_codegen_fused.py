"""Fused chains (codegen.lower's fusion + bnn_conv2d_pool_quantize_ref): on random small
graphs built directly in the IR, the generated C with fusion and without it must give
bit-identical packed results (read through a final LceDequantize), and the fused code
must really contain the fused call. The grid walks every source kind (float conv with
float and +-c weights, int8 conv, LceBconv2d with float and int8 output in every padding
mode, a plain float or int8 tensor), elementwise stages, float and int8 max pools
(VALID 2/2 and SAME 3/2 windows clipped at the border), RESHAPE to a flat row and
LceBMaxPool2d after the quantize, with odd channel counts. Inputs hold exact zeros and
biases make exact zeros likely, so sign(0) ties are exercised.

Also: chains that must not fuse (a second reader, a model output inside the chain), and
the plan's invariants on fused graphs.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from codegen_helpers import build_model_exe, run_exe

from bnn_lq.convert import codegen
from bnn_lq.convert import plan as plan_mod
from bnn_lq.convert.graph import Graph, Operator, Quantization, Tensor


def _q(scale: float, zp: int) -> Quantization:
    return Quantization(np.array([scale], np.float32), np.array([zp], np.int64))


def _out_hw(h: int, k: int, s: int, padding: str) -> int:
    return -(-h // s) if padding == "SAME" else (h - k) // s + 1


class _Builder:
    def __init__(self):
        self.tensors: list[Tensor] = []
        self.ops: list[Operator] = []

    def t(self, shape, dtype="float32", data=None, q=None) -> int:
        i = len(self.tensors)
        self.tensors.append(Tensor(i, f"t{i}", tuple(int(d) for d in shape), dtype,
                                   quantization=q, data=data))
        return i

    def op(self, kind, inputs, outputs, **options) -> None:
        self.ops.append(Operator(len(self.ops), kind, tuple(inputs), tuple(outputs), options))


def chain_graph(rng: np.random.Generator, *, src: str, h: int, w: int, cin: int, cout: int,
                k: int = 3, stride: int = 1, padding: str = "SAME", pad_values: int = 1,
                stages=(), pool=None, reshape: bool = False, bpool=None) -> Graph:
    """input -> source -> stages -> [max pool] -> [reshape] -> LceQuantize -> [bmaxpool]
    -> LceDequantize (float output, so both builds can be compared)."""
    b = _Builder()
    s8 = src in ("conv_s8", "src_s8", "bconv_s8")
    in_dtype = "int8" if src in ("conv_s8", "src_s8") else "float32"
    x = b.t((1, h, w, cin), in_dtype, q=_q(0.05, -3) if in_dtype == "int8" else None)
    if src in ("src_f32", "src_s8"):
        cur, (oh, ow, c) = x, (h, w, cin)
    else:
        oh, ow = _out_hw(h, k, stride, padding), _out_hw(w, k, stride, padding)
        c = cout
        if src in ("conv_f32", "conv_binw"):
            if src == "conv_f32":
                wt = rng.normal(size=(cout, k, k, cin)).astype(np.float32)
            else:  # +-c per output channel, c not a power of two
                mag = rng.uniform(0.3, 1.7, size=(cout, 1, 1, 1)).astype(np.float32)
                wt = np.where(rng.random((cout, k, k, cin)) < 0.5, -1.0, 1.0).astype(np.float32) * mag
            bias = rng.normal(size=cout).astype(np.float32)
            bias[::3] = 0.0
            wi, bi = b.t(wt.shape, data=wt), b.t((cout,), data=bias)
            cur = b.t((1, oh, ow, cout))
            b.op("CONV_2D", (x, wi, bi), (cur,), padding=padding, stride_h=stride,
                 stride_w=stride, dilation_h_factor=1, dilation_w_factor=1,
                 fused_activation_function="NONE")
        elif src == "conv_s8":
            wt = rng.integers(-127, 128, size=(cout, k, k, cin)).astype(np.int8)
            ws = rng.uniform(0.002, 0.02, size=cout).astype(np.float32)
            wq = Quantization(ws, np.zeros(cout, np.int64), axis=0)
            bias = rng.integers(-2000, 2000, size=cout).astype(np.int32)
            wi = b.t(wt.shape, "int8", data=wt, q=wq)
            bi = b.t((cout,), "int32", data=bias)
            cur = b.t((1, oh, ow, cout), "int8", q=_q(0.07, 5))
            b.op("CONV_2D", (x, wi, bi), (cur,), padding=padding, stride_h=stride,
                 stride_w=stride, dilation_h_factor=1, dilation_w_factor=1,
                 fused_activation_function="NONE")
        else:  # bconv_f32 / bconv_s8: quantize the float input first (not fused)
            words = (cin + 31) // 32
            xp = b.t((1, h, w, words), "int32")
            b.op("LceQuantize", (x,), (xp,))
            bits = rng.integers(0, 2, size=(cout, k, k, words * 32)).astype(bool)
            bits[..., cin:] = False
            packed = codegen._pack_bits(bits).view(np.int32).reshape(cout, k, k, words)
            fi = b.t(packed.shape, "int32", data=packed)
            pam = rng.normal(size=cout).astype(np.float32)
            pab = rng.normal(scale=3.0, size=cout).astype(np.float32)
            mi, bi = b.t((cout,), data=pam), b.t((cout,), data=pab)
            cur = b.t((1, oh, ow, cout), "int8" if s8 else "float32",
                      q=_q(0.25, -7) if s8 else None)
            b.op("LceBconv2d", (xp, fi, mi, bi, -1), (cur,), channels_in=cin,
                 dilation_height_factor=1, dilation_width_factor=1,
                 fused_activation_function="NONE", pad_values=pad_values, padding=padding,
                 stride_height=stride, stride_width=stride)
    for kind in stages:
        nxt = b.t((1, oh, ow, c))
        if kind == "relu":
            b.op("RELU", (cur,), (nxt,))
        else:
            op, where = kind.split("_")  # e.g. "MUL_c" (per channel) or "SUB_s" (scalar)
            n = c if where in ("c", "cr") else 1
            vals = rng.normal(scale=0.3, size=n).astype(np.float32)
            ci = b.t((n,) if n > 1 else (), data=vals.reshape((n,) if n > 1 else ()))
            ins = (ci, cur) if where == "cr" else (cur, ci)
            b.op(op, ins, (nxt,), fused_activation_function="NONE")
        cur = nxt
    q = _q(0.07, 5) if src == "conv_s8" else _q(0.25, -7) if src == "bconv_s8" else \
        _q(0.05, -3) if src == "src_s8" else None
    dtype = "int8" if s8 else "float32"
    if pool is not None:
        pk, ps, pp = pool
        ph, pw = _out_hw(oh, pk, ps, pp), _out_hw(ow, pk, ps, pp)
        nxt = b.t((1, ph, pw, c), dtype, q=q)
        b.op("MAX_POOL_2D", (cur,), (nxt,), padding=pp, stride_h=ps, stride_w=ps,
             filter_height=pk, filter_width=pk, fused_activation_function="NONE")
        cur, oh, ow = nxt, ph, pw
    if reshape:
        nxt = b.t((1, oh * ow * c), dtype, q=q)
        b.op("RESHAPE", (cur,), (nxt,))
        cur = nxt
    last = b.tensors[cur].shape[-1]
    packed_t = b.t(b.tensors[cur].shape[:-1] + ((last + 31) // 32,), "int32")
    b.op("LceQuantize", (cur,), (packed_t,))
    cur = packed_t
    if bpool is not None:
        bk, bs, bp = bpool
        bh, bw = _out_hw(oh, bk, bs, bp), _out_hw(ow, bk, bs, bp)
        nxt = b.t((1, bh, bw, (c + 31) // 32), "int32")
        b.op("LceBMaxPool2d", (cur,), (nxt,), filter_height=bk, filter_width=bk, padding=bp,
             stride_height=bs, stride_width=bs)
        cur, oh, ow = nxt, bh, bw
    shape = b.tensors[cur].shape[:-1] + (last,)
    y = b.t(shape)
    b.op("LceDequantize", (cur,), (y,))
    return Graph(tensors=b.tensors, operators=b.ops, inputs=(x,), outputs=(y,),
                 source="fused_case")


P2 = (2, 2, "VALID")
P3 = (3, 2, "SAME")  # windows clipped at the bottom/right border on even maps
FUSED_CASES = [
    pytest.param(dict(src="conv_f32", h=9, w=7, cin=3, cout=5, pool=P2), id="conv-f32-pool2"),
    pytest.param(dict(src="conv_f32", h=8, w=8, cin=2, cout=33, padding="VALID", pool=P3),
                 id="conv-f32-valid-c33-pool3-same"),
    pytest.param(dict(src="conv_binw", h=10, w=10, cin=1, cout=32, bpool=P2),
                 id="binw-quantize-bpool2"),
    pytest.param(dict(src="conv_binw", h=7, w=9, cin=3, cout=7, stride=2, bpool=P3),
                 id="binw-s2-bpool3-same"),
    pytest.param(dict(src="conv_f32", h=6, w=6, cin=3, cout=9,
                      stages=("MUL_c", "ADD_c", "relu", "SUB_cr"), pool=P2),
                 id="conv-bn-relu-sub-pool"),
    pytest.param(dict(src="conv_f32", h=6, w=5, cin=2, cout=3, stages=("SUB_s",),
                      pool=P2, reshape=True), id="conv-sub-scalar-pool-flat"),
    pytest.param(dict(src="conv_s8", h=8, w=7, cin=3, cout=11, pool=P2), id="conv-s8-pool2"),
    pytest.param(dict(src="conv_s8", h=7, w=7, cin=2, cout=5, padding="VALID", bpool=P3),
                 id="conv-s8-bpool3"),
    pytest.param(dict(src="bconv_f32", h=7, w=7, cin=64, cout=40, pool=P2, reshape=True),
                 id="bconv-pv1-pool2-flat"),
    pytest.param(dict(src="bconv_f32", h=6, w=6, cin=35, cout=17, pad_values=0, pool=P3),
                 id="bconv-pv0-float-corr-pool3"),
    pytest.param(dict(src="bconv_f32", h=5, w=6, cin=33, cout=31, padding="VALID",
                      stages=("MUL_c",), bpool=P2), id="bconv-valid-mul-bpool"),
    pytest.param(dict(src="bconv_s8", h=6, w=6, cin=34, cout=12, pad_values=0, pool=P2),
                 id="bconv-s8-pv0-int-pool2"),
    pytest.param(dict(src="src_f32", h=9, w=9, cin=5, cout=5, pool=P3), id="maxpool-quantize"),
    pytest.param(dict(src="src_f32", h=8, w=6, cin=37, cout=37, bpool=P2),
                 id="quantize-bmaxpool"),
    pytest.param(dict(src="src_s8", h=6, w=6, cin=3, cout=3, pool=P2, bpool=P2),
                 id="s8-maxpool-quantize-bmaxpool"),
]


def _inputs(graph: Graph, n: int, rng: np.random.Generator) -> np.ndarray:
    x = graph.tensors[graph.inputs[0]]
    shape = (n,) + tuple(x.shape[1:])
    # a max-pool straight on the input makes negative results rare; shift the input down
    pooled = graph.operators[0].op == "MAX_POOL_2D"
    if x.dtype == "int8":
        return rng.integers(-128, 20 if pooled else 128, size=shape).astype(np.int8)
    v = (rng.normal(size=shape) - (1.5 if pooled else 0.0)).astype(np.float32)
    v[rng.random(shape) < 0.1] = 0.0
    v[rng.random(shape) < 0.02] = -0.0
    return v


@pytest.mark.parametrize("spec", FUSED_CASES)
def test_fused_chain_bit_exact(spec, runtime_lib, tmp_path):
    rng = np.random.default_rng(zlib.crc32(repr(sorted(spec.items())).encode()))
    g = chain_graph(rng, **spec)
    fused = codegen.emit(g, name="fused", fuse=True)
    plain = codegen.emit(g, name="plain", fuse=False)
    assert "bnn_conv2d_pool_quantize(" in fused["model.c"]
    assert "bnn_conv2d_pool_quantize(" not in plain["model.c"]
    n_fused = len(codegen.lower(g)[-2].fused_ops)
    assert n_fused == len(g.operators) - 1 - (spec["src"].startswith("bconv"))
    xs = _inputs(g, 6, rng)
    y = g.tensors[g.outputs[0]]
    count = int(np.prod(y.shape))
    got = run_exe(build_model_exe(fused, tmp_path / "fused", runtime_lib), xs, np.float32, count)
    want = run_exe(build_model_exe(plain, tmp_path / "plain", runtime_lib), xs, np.float32, count)
    assert set(np.unique(want)) <= {-1.0, 1.0}
    assert 0.01 < (want < 0).mean() < 0.99, "degenerate case: almost every bit equal"
    diff = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
    assert diff.size == 0, f"{diff.size} of {got.size} bits differ, first at {diff[0]}"
    p_fused, p_plain = plan_mod.plan(g), plan_mod.plan(g, fuse=False)
    p_fused.check()
    assert p_fused.arena_bytes <= p_plain.arena_bytes


def _two_readers_graph(rng):
    g = chain_graph(rng, src="conv_f32", h=6, w=6, cin=2, cout=4, pool=P2)
    # a second reader of the conv output: the chain must not be fused
    conv_out = g.operators[0].outputs[0]
    extra = Tensor(len(g.tensors), "extra", g.tensors[conv_out].shape, "float32")
    g.tensors.append(extra)
    g.operators.insert(1, Operator(1, "RELU", (conv_out,), (extra.index,)))
    for i, op in enumerate(g.operators):
        op.index = i
    return g


def test_no_fusion_with_a_second_reader(rng):
    g = _two_readers_graph(rng)
    steps = codegen.lower(g)
    conv_index = 0
    assert not any(conv_index in s.fused_ops for s in steps)
    # the pool -> quantize part is still fused (its tensors have one reader each)
    assert any(s.fused_ops and g.operators[s.fused_ops[0]].op == "MAX_POOL_2D" for s in steps)


def test_no_fusion_through_a_model_output(rng):
    g = chain_graph(rng, src="conv_f32", h=6, w=6, cin=2, cout=4, pool=P2)
    conv_out = g.operators[0].outputs[0]
    import dataclasses

    g2 = dataclasses.replace(g, operators=g.operators[:1], outputs=(conv_out,))
    assert all(not s.fused_ops for s in codegen.lower(g2))
    # cut after the pool: the pool output is the model output, nothing ends in a quantize
    g3 = dataclasses.replace(g, operators=g.operators[:2], outputs=(g.operators[1].outputs[0],))
    assert all(not s.fused_ops for s in codegen.lower(g3))


def test_plan_of_fused_graph_has_no_chain_tensors(rng):
    g = chain_graph(rng, src="conv_binw", h=28, w=28, cin=1, cout=32, bpool=P2)
    p = plan_mod.plan(g)
    p.check()
    conv_out = g.operators[0].outputs[0]
    with pytest.raises(KeyError):
        p.offset(conv_out)
    assert p.fused == {2: (0, 1, 2)}
    # what is left: the 14x14 packed map and the float output
    assert p.arena_bytes == 14 * 14 * 4 + 14 * 14 * 32 * 4
    assert plan_mod.plan(g, fuse=False).arena_bytes >= 28 * 28 * 32 * 4


def test_emit_rejects_a_plan_from_another_lowering(rng):
    g = chain_graph(rng, src="conv_f32", h=6, w=6, cin=2, cout=4, pool=P2)
    with pytest.raises(ValueError, match="another lowering"):
        codegen.emit(g, plan=plan_mod.plan(g, fuse=False))
