"""The memory plan (convert/plan.py): placement invariants on random allocations and
random graphs, views, and the plans of real LCE models."""

from __future__ import annotations

import numpy as np
import pytest

from bnn_lq.convert import plan as plan_mod
from bnn_lq.convert.flatbuffer import read
from bnn_lq.convert.graph import Graph, Operator, Tensor
from bnn_lq.errors import UnsupportedOpError


def _independent_overlap_check(p: plan_mod.Plan) -> None:
    """Recomputes every live range from the graph (not from the plan's allocations) and
    checks that two tensors live at the same time never share an arena byte."""
    g = p.graph
    views = {}
    for op in g.operators:
        if op.op in plan_mod.VIEW_OPS and op.outputs[0] in p.aliases:
            views[op.outputs[0]] = op.inputs[0]
    pos = {op_index: i for i, op_index in enumerate(p.schedule)}
    writer = {t: op.index for op in g.operators for t in op.outputs}
    # In-place outputs (aliases that are not views): legal only when every reader of the
    # memory's earlier contents runs at or before the in-place op; then they are one
    # block, like a view.
    for out, src in p.aliases.items():
        if out in views:
            continue
        at = pos[writer[out]]
        for op in g.operators:
            for t in op.inputs:
                if t < 0 or t == out or g.tensors[t].is_constant or p.root(t) != src:
                    continue
                if pos.get(writer.get(t, -1), -1) < at:
                    assert pos[op.index] <= at, (
                        f"{g.tensors[out].name} overwrites {g.tensors[t].name} in place, but "
                        f"op {op.index} reads it later")
        views[out] = src

    def root(t):
        while t in views:
            t = views[t]
        return t

    # A fused step runs all its ops at its own position; the tensors written and read
    # only inside the chain never exist.
    inner = set()
    for step_op, chain in p.fused.items():
        for o in chain:
            pos[o] = pos[step_op]
        written = {t for o in chain for t in g.operators[o].outputs}
        read_outside = {t for op in g.operators if op.index not in chain for t in op.inputs}
        inner |= {t for t in written if t not in read_outside and t not in g.outputs}
    live = {}
    for op in g.operators:
        i = pos[op.index]
        for t in list(op.inputs) + list(op.outputs):
            if t < 0 or g.tensors[t].is_constant or root(t) == p.input_tensor or t in inner:
                continue
            lo, hi = live.get(root(t), (i, i))
            live[root(t)] = (min(lo, i), max(hi, i))
    out = root(p.output_tensor)
    live[out] = (live[out][0], len(p.schedule))
    items = sorted(live.items())
    for a, (a_lo, a_hi) in items:
        a_off, a_n = p.offset(a), g.tensors[a].nbytes
        assert a_off % p.alignment == 0 and a_off + a_n <= p.arena_bytes
        for b, (b_lo, b_hi) in items:
            if b <= a or a_hi < b_lo or b_hi < a_lo:
                continue
            b_off, b_n = p.offset(b), g.tensors[b].nbytes
            assert a_off + a_n <= b_off or b_off + b_n <= a_off, (
                f"{g.tensors[a].name} and {g.tensors[b].name} overlap while both live")


def _random_graph(rng: np.random.Generator, n_ops: int) -> Graph:
    """A random DAG of float RELU / ADD / CONCATENATION / FULLY_CONNECTED / RESHAPE ops
    (every one lowerable), with dead branches, reused tensors and view chains."""
    tensors = [Tensor(0, "x", (1, int(rng.integers(1, 40))), "float32")]
    ops = []
    acts = [0]

    def new(shape, data=None):
        t = Tensor(len(tensors), f"t{len(tensors)}", tuple(shape),
                   "float32" if data is None or data.dtype == np.float32 else str(data.dtype),
                   data=data)
        tensors.append(t)
        return t.index

    for i in range(n_ops):
        kind = rng.choice(["RELU", "ADD", "CONCATENATION", "FULLY_CONNECTED", "RESHAPE"])
        a = int(rng.choice(acts[-6:]))
        sa = tensors[a].shape
        if kind == "ADD":
            b = int(rng.choice(acts))
            if tensors[b].shape != sa:
                kind, b = "RELU", None
        if kind == "RELU":
            out = new(sa)
            ops.append(Operator(i, "RELU", (a,), (out,)))
        elif kind == "ADD":
            out = new(sa)
            ops.append(Operator(i, "ADD", (a, b), (out,), {"fused_activation_function": "NONE"}))
        elif kind == "CONCATENATION":
            b = int(rng.choice(acts))
            out = new((1, sa[-1] + tensors[b].shape[-1]))
            ops.append(Operator(i, "CONCATENATION", (a, b), (out,),
                                {"axis": -1, "fused_activation_function": "NONE"}))
        elif kind == "FULLY_CONNECTED":
            n_out = int(rng.integers(1, 64))
            w = new((n_out, sa[-1]), rng.normal(size=(n_out, sa[-1])).astype(np.float32))
            out = new((1, n_out))
            ops.append(Operator(i, "FULLY_CONNECTED", (a, w, -1), (out,),
                                {"fused_activation_function": "NONE"}))
        else:
            shape = tensors[a].shape
            out = new((shape[-1], 1) if shape[0] == 1 else (1, shape[0]))
            ops.append(Operator(i, "RESHAPE", (a,), (out,)))
        acts.append(out)
    return Graph(tensors=tensors, operators=ops, inputs=(0,), outputs=(acts[-1],),
                 source="random")


def test_place_random_allocations_never_overlap(rng):
    for trial in range(50):
        n = int(rng.integers(1, 40))
        blocks = []
        for i in range(n):
            first = int(rng.integers(0, 20))
            size = 8 * int(rng.integers(1, 100))
            blocks.append(plan_mod.Allocation(tensor=i, op=0, name=f"b{i}", nbytes=size,
                                              size=size, first=first,
                                              last=first + int(rng.integers(0, 6))))
        placed, peak = plan_mod.place(blocks)
        plan_mod._check(placed, 8, peak)
        # the peak can never beat the largest sum of simultaneously live blocks
        most_live = max(sum(b.size for b in blocks if b.first <= t <= b.last)
                        for t in range(0, 26))
        assert most_live <= peak <= sum(b.size for b in blocks)
        # input order preserved
        assert [b.tensor for b in placed] == list(range(n))


def test_place_reuses_memory_of_dead_tensors():
    a = plan_mod.Allocation(0, 0, "a", 64, 64, 0, 1)
    b = plan_mod.Allocation(1, 1, "b", 64, 64, 1, 2)
    c = plan_mod.Allocation(2, 2, "c", 64, 64, 2, 3)  # can reuse a's bytes
    placed, peak = plan_mod.place([a, b, c])
    assert peak == 128
    assert placed[0].offset == placed[2].offset


def test_place_best_fit_picks_smallest_gap():
    A = plan_mod.Allocation
    blocks = [A(0, 0, "a", 128, 128, 0, 5),   # -> 0
              A(1, 0, "b", 64, 64, 0, 0),     # -> 128 (dies after position 0)
              A(2, 0, "c", 64, 64, 0, 5),     # -> 192
              A(3, 0, "d", 40, 40, 0, 0),     # -> 256 (dies after position 0)
              A(4, 0, "e", 32, 32, 0, 5),     # -> 296
              A(5, 0, "f", 32, 32, 1, 5)]     # gaps at 1: [128,192) and [256,296)
    placed, peak = plan_mod.place(blocks)
    plan_mod._check(placed, 8, peak)
    assert [b.offset for b in placed] == [0, 128, 192, 256, 296, 256]  # best fit, not first
    assert peak == 328


@pytest.mark.parametrize("seed", range(12))
def test_plan_random_graphs(seed):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, int(rng.integers(1, 30)))
    for lower in (True, False):
        p = plan_mod.plan(g, lower=lower)
        p.check()
        _independent_overlap_check(p)
        assert p.arena_bytes <= p.naive_bytes
        assert p.schedule == tuple(op.index for op in g.operators)
        with pytest.raises(KeyError):
            p.offset(g.inputs[0])  # the input is read from the caller's pointer


def test_views_alias_their_input_and_extend_its_life():
    t = [Tensor(0, "x", (1, 8), "float32"), Tensor(1, "a", (1, 8), "float32"),
         Tensor(2, "v", (8, 1), "float32"), Tensor(3, "b", (1, 8), "float32"),
         Tensor(4, "y", (1, 8), "float32")]
    ops = [Operator(0, "RELU", (0,), (1,)), Operator(1, "RESHAPE", (1,), (2,)),
           Operator(2, "RELU", (0,), (3,)), Operator(3, "RELU", (2,), (4,))]
    g = Graph(tensors=t, operators=ops, inputs=(0,), outputs=(4,))
    p = plan_mod.plan(g, inplace=False)
    assert p.aliases == {2: 1}
    assert p.offset(2) == p.offset(1)
    assert p.offset(3) != p.offset(1)  # 'a' is live (through its view) while 'b' is written
    alloc = {a.tensor: a for a in p.allocations}
    assert (alloc[1].first, alloc[1].last) == (0, 3)
    assert alloc[4].last == 4  # the output lives until the copy-out


def test_plan_rejects_multiple_inputs():
    t = [Tensor(0, "x", (1, 8), "float32"), Tensor(1, "z", (1, 8), "float32"),
         Tensor(2, "y", (1, 8), "float32")]
    g = Graph(tensors=t, operators=[Operator(0, "ADD", (0, 1), (2,))], inputs=(0, 1),
              outputs=(2,), source="two_inputs.tflite")
    with pytest.raises(UnsupportedOpError, match="2 inputs"):
        plan_mod.plan(g)


@pytest.mark.slow
@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("name", ["bchain", "binw", "float_ops", "int8", "fused"])
def test_plan_real_models(tflite_models, name, fuse):
    g = read(tflite_models[name])
    p = plan_mod.plan(g, fuse=fuse)
    p.check()
    _independent_overlap_check(p)
    assert bool(p.fused) == (fuse and name != "float_ops")
    if fuse:
        assert p.arena_bytes <= plan_mod.plan(g, fuse=False).arena_bytes
    assert 0 < p.arena_bytes <= p.naive_bytes
    biggest = p.biggest_tensors
    assert biggest and biggest[0][1] == max(a.nbytes for a in p.allocations)
    raw = sum(t.data.nbytes for t in g.tensors if t.is_constant)
    assert 0 < p.weight_bytes
    if name == "binw":  # +-c float weights are stored bit-packed
        assert p.weight_bytes < raw / 4


def test_inplace_elementwise_reuses_a_dying_input():
    t = [Tensor(0, "x", (1, 8), "float32"), Tensor(1, "a", (1, 8), "float32"),
         Tensor(2, "b", (1, 8), "float32"), Tensor(3, "c", (1, 8), "float32"),
         Tensor(4, "y", (1, 8), "float32")]
    ops = [Operator(0, "RELU", (0,), (1,)),   # reads the model input: never in place
           Operator(1, "RELU", (1,), (2,)),   # a dies here: b takes its memory
           Operator(2, "RELU", (2,), (3,)),   # b is read again by op 3: c gets new memory
           Operator(3, "ADD", (2, 3), (4,), {"fused_activation_function": "NONE"})]
    g = Graph(tensors=t, operators=ops, inputs=(0,), outputs=(4,))
    p = plan_mod.plan(g)
    p.check()
    _independent_overlap_check(p)
    assert p.root(2) == 1 and p.root(3) == 3
    assert p.root(4) in (1, 3)  # the ADD overwrites one of its dying operands
    assert p.arena_bytes == 64 and plan_mod.plan(g, inplace=False).arena_bytes > 64


def test_inplace_keeps_every_value(rng, runtime_lib, tmp_path):
    """In place changes only where values live: the generated C gives bit-identical
    outputs with and without it, in a chain of elementwise ops (unary, with a per-channel
    constant, with both operands the same tensor, int8 requantization excluded)."""
    from codegen_helpers import build_model_exe, run_exe

    from bnn_lq.convert import codegen

    w = rng.normal(size=(16, 6)).astype(np.float32)
    c = rng.normal(size=(16,)).astype(np.float32)
    t = [Tensor(0, "x", (1, 6), "float32"), Tensor(1, "w", (16, 6), "float32", data=w),
         Tensor(2, "fc", (1, 16), "float32"), Tensor(3, "r", (1, 16), "float32"),
         Tensor(4, "c", (16,), "float32", data=c), Tensor(5, "a", (1, 16), "float32"),
         Tensor(6, "sq", (1, 16), "float32"), Tensor(7, "lr", (1, 16), "float32"),
         Tensor(8, "y", (1, 16), "float32")]
    none = {"fused_activation_function": "NONE"}
    ops = [Operator(0, "FULLY_CONNECTED", (0, 1, -1), (2,), none),
           Operator(1, "RELU6", (2,), (3,)),
           Operator(2, "ADD", (4, 3), (5,), none),
           Operator(3, "MUL", (5, 5), (6,), {"fused_activation_function": "RELU"}),
           Operator(4, "LEAKY_RELU", (6,), (7,), {"alpha": 0.5}),
           Operator(5, "SUB", (7, 4), (8,), none)]
    g = Graph(tensors=t, operators=ops, inputs=(0,), outputs=(8,))
    p = plan_mod.plan(g)
    p.check()
    _independent_overlap_check(p)
    assert {p.root(i) for i in (3, 5, 6, 7, 8)} == {2}
    assert p.arena_bytes == 64 < plan_mod.plan(g, inplace=False).arena_bytes
    xs = rng.normal(size=(5, 6)).astype(np.float32)
    outs = []
    for inplace in (True, False):
        q = plan_mod.plan(g, inplace=inplace)
        exe = build_model_exe(codegen.emit(g, plan=q), tmp_path / f"ip{int(inplace)}", runtime_lib)
        outs.append(run_exe(exe, xs, np.float32, 16))
    assert np.array_equal(outs[0].view(np.uint32), outs[1].view(np.uint32))
    assert (outs[0] != 0).any()
