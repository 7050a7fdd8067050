"""The static memory plan of a model: operator schedule, tensor lifetimes and one
arena in which every activation has an offset fixed before the device runs.

Choices (the generated ``model.c`` relies on them):

* **Schedule**: the graph's operator order (the order TFLite and LCE run it in).
* **Where tensors live**: constants are ``static const`` arrays (flash) and are not
  in the plan. The model **input is read straight from the caller's pointer** (it
  saves a copy and, on a 16 KB board, the RAM of the input image); it must be
  4-byte aligned and is never written. Every other activation, the model output
  included, lives in the arena; ``bnn_model_invoke`` copies the output out at the
  end. Kernel scratch buffers are arena allocations that live during their op.
* **Views**: RESHAPE, SQUEEZE and EXPAND_DIMS of a non-constant tensor move no
  data; their output *aliases* the input (same offset, or the caller's input
  pointer), and the input's lifetime is extended to cover the view's readers.
* **Lifetimes** are inclusive ranges of schedule positions: a tensor is live from
  the op that writes it to the last op that reads it. The model output lives to
  position ``len(schedule)`` (the copy-out). An op's inputs and outputs are live at
  the same position, so kernels do not run in place, with one exception:
* **In place**: an elementwise step (``Step.inplace``: output element i depends on
  element i of a same-shaped, same-type input only) whose input dies at that step
  writes over the input: the output becomes an alias of it, like a view. The model
  input is never written. Fused chains (``codegen.lower``) need no memory for their
  inner tensors at all.
* **Placement**: greedy by size, best fit. Allocations are taken from the largest
  down (ties: earliest first, then tensor index); each goes into the smallest gap
  between already placed allocations whose lifetimes overlap its own, or above
  them all when no gap fits. ``arena_bytes`` is the highest end; ``naive_bytes``
  is the sum of all allocations (what one buffer per tensor would take).
* **Alignment**: every allocation starts at a multiple of ``ALIGNMENT`` = 8 bytes,
  and sizes are rounded up to it. Float and packed words need 4; 8 also keeps
  doubleword loads (LDRD/VLDR on Cortex-M, 64-bit NEON lanes) legal and costs at
  most 7 bytes per tensor. The arena array itself is aligned to 16.

Example:
    >>> from bnn_lq.convert.graph import Graph, Operator, Tensor
    >>> g = Graph(tensors=[Tensor(0, "x", (1, 4), "float32"), Tensor(1, "y", (1, 4), "float32"),
    ...                    Tensor(2, "z", (1, 4), "float32")],
    ...           operators=[Operator(0, "RELU", (0,), (1,)), Operator(1, "RELU", (1,), (2,))],
    ...           inputs=(0,), outputs=(2,))
    >>> p = plan(g, lower=False)
    >>> (p.arena_bytes, p.naive_bytes, p.offset(1), p.offset(2))
    (32, 32, 0, 16)
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Sequence

from bnn_lq.convert.flatbuffer import describe_op
from bnn_lq.convert.graph import Graph
from bnn_lq.errors import UnsupportedOpError

__all__ = ["ALIGNMENT", "Allocation", "Plan", "VIEW_OPS", "place", "plan"]

ALIGNMENT = 8
VIEW_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")  # outputs alias their (non-constant) input


@dataclasses.dataclass(frozen=True)
class Allocation:
    """One block of the arena: a tensor (``tensor >= 0``) or an op's scratch
    (``tensor == -1``, ``op`` the op using it)."""

    tensor: int
    op: int  # writer of the tensor, or the op owning the scratch
    name: str
    nbytes: int  # bytes actually used
    size: int  # nbytes rounded up to the alignment
    first: int  # first schedule position where it is live
    last: int  # last schedule position where it is live (inclusive)
    offset: int = -1  # byte offset in the arena, set by place()

    def overlaps_in_time(self, other: "Allocation") -> bool:
        return self.first <= other.last and other.first <= self.last

    def overlaps_in_space(self, other: "Allocation") -> bool:
        return self.offset < other.offset + other.size and other.offset < self.offset + self.size


@dataclasses.dataclass(frozen=True)
class Plan:
    """Where every tensor of ``graph`` lives during an inference.

    Attributes:
        graph: The planned graph.
        schedule: Operator indices in execution order.
        alignment: Alignment of every allocation, in bytes.
        allocations: Arena blocks (tensors, then scratch), each with its offset.
        aliases: View tensor -> the tensor whose memory it shares (transitively resolved).
        arena_bytes: Peak of the plan: the arena size.
        naive_bytes: Sum of all allocations (one buffer per tensor).
        weight_bytes: Constant data as ``model.c`` stores it (bit-packed where binary,
            derived per-channel constants included), or the raw constant bytes when the
            plan was made without a lowering.
        input_tensor: The model input, read from the caller's pointer.
        output_tensor: The model output, copied out of the arena.
        fused: Scheduled op -> every op its fused step computes (``codegen.lower``);
            the tensors inside such a chain never exist and have no allocation.
    """

    graph: Graph
    schedule: tuple[int, ...]
    alignment: int
    allocations: tuple[Allocation, ...]
    aliases: Mapping[int, int]
    arena_bytes: int
    naive_bytes: int
    weight_bytes: int
    input_tensor: int
    output_tensor: int
    fused: Mapping[int, tuple[int, ...]] = dataclasses.field(default_factory=dict)

    def _by_tensor(self) -> dict[int, Allocation]:
        return {a.tensor: a for a in self.allocations if a.tensor >= 0}

    def root(self, tensor: int) -> int:
        """The tensor whose memory ``tensor`` uses (itself unless it is a view)."""
        return self.aliases.get(tensor, tensor)

    def is_input(self, tensor: int) -> bool:
        """True when ``tensor`` is (a view of) the model input, read from the caller."""
        return self.root(tensor) == self.input_tensor

    def offset(self, tensor: int) -> int:
        """Arena offset of an activation (views share their root's offset).

        Raises:
            KeyError: ``tensor`` is a constant or the model input (not in the arena).
        """
        return self._by_tensor()[self.root(tensor)].offset

    def scratch(self, op: int) -> Allocation | None:
        """The scratch block of operator ``op``, or None when it needs none."""
        for a in self.allocations:
            if a.tensor < 0 and a.op == op:
                return a
        return None

    @property
    def biggest_tensors(self) -> list[tuple[str, int]]:
        """The five largest arena blocks as (name, bytes), largest first: what to
        shrink when a model does not fit in RAM."""
        blocks = sorted(self.allocations, key=lambda a: (-a.nbytes, a.name))
        return [(a.name, a.nbytes) for a in blocks[:5]]

    def check(self) -> None:
        """Asserts the plan's invariants: alignment, inside the arena, and no two
        allocations live at the same time share a byte.

        Raises:
            AssertionError: naming the two conflicting blocks.
        """
        _check(self.allocations, self.alignment, self.arena_bytes)

    def summary(self) -> str:
        """A few lines for logs and error messages."""
        lines = [f"arena {self.arena_bytes} B (naive sum {self.naive_bytes} B), "
                 f"weights {self.weight_bytes} B, alignment {self.alignment}"]
        lines += [f"  {name}: {n} B" for name, n in self.biggest_tensors]
        return "\n".join(lines)


def _round_up(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def _check(allocations: Sequence[Allocation], alignment: int, arena_bytes: int) -> None:
    for a in allocations:
        assert a.offset >= 0 and a.offset % alignment == 0, f"{a.name}: offset {a.offset}"
        assert a.offset + a.size <= arena_bytes, f"{a.name}: ends past the arena"
        assert a.size >= a.nbytes, f"{a.name}: size {a.size} < {a.nbytes}"
    ordered = sorted(allocations, key=lambda a: a.offset)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.offset >= a.offset + a.size:
                break
            assert not a.overlaps_in_time(b), (
                f"{a.name} [{a.offset}, {a.offset + a.size}) live {a.first}..{a.last} overlaps "
                f"{b.name} [{b.offset}, {b.offset + b.size}) live {b.first}..{b.last}")


def place(allocations: Iterable[Allocation]) -> tuple[list[Allocation], int]:
    """Greedy-by-size best-fit placement of ``allocations`` (offsets ignored).

    Returns:
        The allocations with offsets (in the input order) and the peak (arena size).
        Sizes must already be multiples of the alignment; offsets then are too.
    """
    items = list(allocations)
    order = sorted(range(len(items)), key=lambda i: (-items[i].size, items[i].first,
                                                     items[i].tensor, items[i].op))
    placed: list[Allocation] = []
    result: dict[int, Allocation] = {}
    for i in order:
        a = items[i]
        conflicts = sorted((p for p in placed if p.overlaps_in_time(a)),
                           key=lambda p: (p.offset, p.size))
        best: tuple[int, int] | None = None  # (gap size, offset)
        cursor = 0
        for p in conflicts:
            gap = p.offset - cursor
            if gap >= a.size and (best is None or gap < best[0]):
                best = (gap, cursor)
            cursor = max(cursor, p.offset + p.size)
        offset = best[1] if best is not None else cursor
        a = dataclasses.replace(a, offset=offset)
        placed.append(a)
        result[i] = a
    peak = max((a.offset + a.size for a in placed), default=0)
    return [result[i] for i in range(len(items))], peak


def _raw_weight_bytes(graph: Graph) -> int:
    return sum(t.data.nbytes for t in graph.tensors if t.is_constant)


def plan(graph: Graph, *, alignment: int = ALIGNMENT, lower: bool = True,
         steps: Sequence | None = None, fuse: bool = True, inplace: bool = True) -> Plan:
    """Plans the arena of ``graph``.

    Args:
        graph: The model (``bnn_lq.convert.read``).
        alignment: Alignment of every block in bytes (a power of two >= 4).
        lower: Plan what the generated code runs (``codegen.lower``): ops the code
            generator fuses away (an LceDequantize read only by a binary
            FULLY_CONNECTED) get no buffer, kernels get their scratch, and
            ``weight_bytes`` is what ``model.c`` stores. False plans the raw graph
            (every op's inputs and outputs; RESHAPE/SQUEEZE/EXPAND_DIMS as views; raw
            constant bytes), for graphs the code generator cannot lower.
        steps: The result of ``codegen.lower(graph)`` when the caller already has it.
        fuse: When lowering here, fuse real-valued chains that end in LceQuantize into
            one step (``codegen.lower(graph, fuse=...)``), so their float maps need no
            memory.
        inplace: Let elementwise steps write over an input that dies at that step.

    Returns:
        The plan; ``Plan.check()`` holds for it.

    Raises:
        UnsupportedOpError: the graph has not exactly one input and one output, reads
            a tensor nobody writes, or (when lowering) has an op the C runtime cannot run.
    """
    if alignment < 4 or alignment & (alignment - 1):
        raise ValueError(f"alignment={alignment}: expected a power of two >= 4")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedOpError(
            f"{graph.source}: the model has {len(graph.inputs)} inputs and "
            f"{len(graph.outputs)} outputs; the generated bnn_model_invoke takes exactly one "
            f"input and one output. Export a single-input, single-output Keras model.")
    if lower and steps is None:
        from bnn_lq.convert import codegen  # lazy: codegen imports this module

        steps = codegen.lower(graph, fuse=fuse)
    fused: dict[int, tuple[int, ...]] = {}
    if lower:
        uses = [(s.op, s.reads, s.writes, s.scratch_bytes, s.alias,
                 tuple(getattr(s, "inplace", ())) if inplace else ()) for s in steps]
        weight_bytes = sum(s.weight_bytes for s in steps)
        fused = {s.op: tuple(s.fused_ops) for s in steps if getattr(s, "fused_ops", ())}
    else:
        uses = []
        for op in graph.operators:
            alias = None
            src = graph.tensor(op.inputs[0]) if op.inputs else None
            if op.op in VIEW_OPS and src is not None and not src.is_constant:
                alias = (op.outputs[0], src.index)
            uses.append((op.index, op.inputs, op.outputs, 0, alias, ()))
        weight_bytes = _raw_weight_bytes(graph)
    return _plan(graph, uses, alignment, weight_bytes, fused)


def _plan(graph: Graph, uses: list, alignment: int, weight_bytes: int,
          fused: Mapping[int, tuple[int, ...]] | None = None) -> Plan:
    """uses: per scheduled op, (op index, tensors read, tensors written, scratch bytes,
    (view, source) alias or None, tensors the output may overwrite in place)."""
    input_tensor, output_tensor = graph.inputs[0], graph.outputs[0]
    schedule = tuple(u[0] for u in uses)
    end = len(schedule)
    aliases: dict[int, int] = {}
    first: dict[int, int] = {input_tensor: -1}
    last: dict[int, int] = {input_tensor: -1}
    writer: dict[int, int] = {input_tensor: -1}
    scratch: dict[int, tuple[int, int]] = {}
    for pos, (op_index, reads, writes, scratch_bytes, alias, _) in enumerate(uses):
        for t in reads:
            if t < 0 or graph.tensors[t].is_constant:
                continue
            root = aliases.get(t, t)
            if root not in first:
                raise UnsupportedOpError(
                    f"{describe_op(graph, op_index)}: reads tensor {graph.tensors[t].name!r} "
                    f"before any op writes it (and it is neither a constant nor the model input)")
            last[root] = max(last[root], pos)
        if alias is not None:
            view, source = alias
            aliases[view] = aliases.get(source, source)
            continue
        for t in writes:
            if t in first or t in aliases:
                raise UnsupportedOpError(
                    f"{describe_op(graph, op_index)}: tensor {graph.tensors[t].name!r} is "
                    f"written twice; expected each tensor to have one writer")
            first[t], last[t], writer[t] = pos, pos, op_index
        if scratch_bytes:
            scratch[op_index] = (pos, int(scratch_bytes))
    # In place: the output takes over the memory of an input that dies at this step.
    for pos, (_, _, writes, _, alias, candidates) in enumerate(uses):
        if alias is not None or len(writes) != 1 or writes[0] not in first:
            continue
        out = writes[0]
        for src in candidates:
            root = aliases.get(src, src)
            if (root == input_tensor or root not in first or last[root] != pos
                    or graph.tensors[root].nbytes != graph.tensors[out].nbytes):
                continue
            last[root] = max(last[root], last[out])
            for v, r in list(aliases.items()):
                if r == out:
                    aliases[v] = root
            aliases[out] = root
            del first[out], last[out], writer[out]
            break
    out_root = aliases.get(output_tensor, output_tensor)
    if out_root not in first:
        raise UnsupportedOpError(f"{graph.source}: no op writes the model output "
                                 f"{graph.tensors[output_tensor].name!r}")
    last[out_root] = end

    blocks = []
    for t in sorted(first):
        if t == input_tensor:
            continue
        tensor = graph.tensors[t]
        blocks.append(Allocation(tensor=t, op=writer[t], name=tensor.name, nbytes=tensor.nbytes,
                                 size=_round_up(max(tensor.nbytes, 1), alignment),
                                 first=first[t], last=last[t]))
    for op_index, (pos, n) in sorted(scratch.items()):
        blocks.append(Allocation(tensor=-1, op=op_index, name=f"op{op_index}_scratch",
                                 nbytes=n, size=_round_up(n, alignment), first=pos, last=pos))
    placed, peak = place(blocks)
    result = Plan(graph=graph, schedule=schedule, alignment=alignment,
                  allocations=tuple(placed), aliases=dict(sorted(aliases.items())),
                  arena_bytes=peak, naive_bytes=sum(a.size for a in placed),
                  weight_bytes=int(weight_bytes), input_tensor=input_tensor,
                  output_tensor=output_tensor, fused=dict(fused or {}))
    result.check()
    return result
