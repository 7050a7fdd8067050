"""What is inside a converted model: operators, bytes by kind, activation memory, MACs.

:func:`inspect` works on the :class:`~bnn_lq.convert.graph.Graph` of
:func:`bnn_lq.convert.read` (NumPy only, no TensorFlow). It reports

* one row per operator: type, input/output shapes and dtypes, whether it computes
  on bit-packed data (``LceBconv2d``, ``LceBMaxPool2d``);
* constant bytes by kind: bit-packed weights (``LceBconv2d`` filters), float
  weights, int8 weights, other constants (thresholds, shapes, int32 biases), and,
  when the file size is given, the flatbuffer's own overhead;
* peak activation memory for the straightforward schedule: operators run in file
  order, a tensor is live from the operator that writes it (model inputs from the
  start) to its last reader (model outputs to the end), and the peak is the
  largest sum of live non-constant tensor bytes over the operators;
* MACs: binary (``LceBconv2d``: ``N*OH*OW*Cout*KH*KW*Cin/groups``) and real
  (``CONV_2D``, ``DEPTHWISE_CONV_2D``, ``FULLY_CONNECTED``);
* warnings about binary layers left unpacked.

Example:
    >>> from bnn_lq.convert.graph import Graph, Operator, Tensor
    >>> import numpy as np
    >>> g = Graph(tensors=[Tensor(0, "x", (1, 8), "float32"),
    ...                    Tensor(1, "w", (4, 8), "float32", data=np.ones((4, 8), np.float32)),
    ...                    Tensor(2, "y", (1, 4), "float32")],
    ...           operators=[Operator(0, "FULLY_CONNECTED", (0, 1, -1), (2,))],
    ...           inputs=(0,), outputs=(2,))
    >>> r = inspect(g)
    >>> r.real_macs, r.bytes["float_weights"], r.peak_activation_bytes
    (32, 128, 48)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bnn_lq.convert.flatbuffer import describe_op
from bnn_lq.convert.graph import Graph, Operator, Tensor

__all__ = ["Inspection", "OpRow", "format_inspection", "inspect"]

BITPACKED_OPS = ("LceBconv2d", "LceBMaxPool2d")
BYTE_KINDS = ("bitpacked_weights", "float_weights", "int8_weights", "other_constants")


@dataclasses.dataclass
class OpRow:
    """One operator as the table shows it."""

    index: int
    op: str
    inputs: list[tuple[tuple[int, ...], str, bool]]  # (shape, dtype, is_constant) per input
    outputs: list[tuple[tuple[int, ...], str]]
    bitpacked: bool
    binary_macs: int
    real_macs: int


@dataclasses.dataclass
class Inspection:
    """The result of :func:`inspect`; ``to_dict()`` is what ``--json`` prints."""

    source: str
    sha256: str
    rows: list[OpRow]
    bytes: dict[str, int]  # BYTE_KINDS, plus "flatbuffer_overhead" when file_bytes is known
    file_bytes: int | None
    peak_activation_bytes: int
    peak_at_op: int  # operator index where the peak occurs (-1: before the first)
    binary_macs: int
    real_macs: int
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["rows"] = [
            {"index": r.index, "op": r.op, "bitpacked": r.bitpacked,
             "inputs": [{"shape": list(s), "dtype": d, "constant": c} for s, d, c in r.inputs],
             "outputs": [{"shape": list(s), "dtype": d} for s, d in r.outputs],
             "binary_macs": r.binary_macs, "real_macs": r.real_macs}
            for r in self.rows]
        return out


def _elements(shape: tuple[int, ...]) -> int:
    return int(np.prod([max(d, 1) for d in shape], dtype=np.int64))  # -1 batch counts as 1


def _live_bytes(t: Tensor) -> int:
    return _elements(t.shape) * np.dtype(t.dtype).itemsize


def _macs(graph: Graph, op: Operator) -> tuple[int, int]:
    """(binary, real) multiply-accumulates of one operator."""
    def t(i):
        return graph.tensor(op.inputs[i]) if len(op.inputs) > i else None

    out = graph.tensors[op.outputs[0]] if op.outputs else None
    w = t(1)
    if out is None or w is None or len(w.shape) < 2:
        return 0, 0
    if op.op == "LceBconv2d" and len(out.shape) == 4 and len(w.shape) == 4:
        cin = int(op.options.get("channels_in", 0))
        groups = max(1, -(-cin // 32) // max(w.shape[3], 1))
        cout, kh, kw = w.shape[0], w.shape[1], w.shape[2]
        return _elements(out.shape[:3]) * cout * kh * kw * (cin // groups), 0
    if op.op == "CONV_2D" and len(w.shape) == 4:
        # filter [Cout, KH, KW, Cin / groups]: each output sums KH*KW*(Cin/groups) products
        return 0, _elements(out.shape) * w.shape[1] * w.shape[2] * w.shape[3]
    if op.op == "DEPTHWISE_CONV_2D" and len(w.shape) == 4:
        return 0, _elements(out.shape) * w.shape[1] * w.shape[2]
    if op.op == "FULLY_CONNECTED":
        return 0, _elements(out.shape) * w.shape[-1]
    return 0, 0


def _looks_binary(w: np.ndarray) -> bool:
    """All weights of each output channel (axis 0) are ±c for one c > 0."""
    if w.size == 0 or w.dtype.kind != "f":
        return False
    a = np.abs(w.reshape(w.shape[0], -1).astype(np.float64))
    c = a[:, :1]
    return bool(np.all(c > 0) and np.allclose(a, c, rtol=1e-5, atol=0))


def inspect(graph: Graph, *, file_bytes: int | None = None) -> Inspection:
    """Tabulate ``graph``; pass the .tflite size as ``file_bytes`` to report the
    flatbuffer overhead (everything that is not constant data)."""
    producers = graph.producers()
    consumers = graph.consumers()
    filters = {op.inputs[1] for op in graph.operators
               if op.op == "LceBconv2d" and len(op.inputs) > 1 and op.inputs[1] >= 0}
    sizes = dict.fromkeys(BYTE_KINDS, 0)
    seen: set[int] = set()
    for t in graph.tensors:
        if not t.is_constant or t.index in seen:
            continue
        seen.add(t.index)
        if t.index in filters:
            kind = "bitpacked_weights"
        elif t.dtype in ("float32", "float16", "float64"):
            kind = "float_weights"
        elif t.dtype in ("int8", "uint8"):
            kind = "int8_weights"
        else:
            kind = "other_constants"
        sizes[kind] += int(t.data.nbytes)
    if file_bytes is not None:
        sizes["flatbuffer_overhead"] = max(0, file_bytes - sum(sizes[k] for k in BYTE_KINDS))

    rows, warnings = [], []
    binary_total = real_total = 0
    for op in graph.operators:
        b, r = _macs(graph, op)
        binary_total += b
        real_total += r
        ins = [(graph.tensors[i].shape, graph.tensors[i].dtype, graph.tensors[i].is_constant)
               for i in op.inputs if i >= 0]
        outs = [(graph.tensors[i].shape, graph.tensors[i].dtype) for i in op.outputs]
        rows.append(OpRow(op.index, op.op, ins, outs, op.op in BITPACKED_OPS, b, r))
        if op.op in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D") and op.inputs:
            src = producers.get(op.inputs[0])
            fed_binary = src is not None and graph.operators[src].op == "LceDequantize"
            w = graph.tensor(op.inputs[1]) if len(op.inputs) > 1 else None
            binary_w = w is not None and w.is_constant and _looks_binary(w.data)
            if fed_binary and binary_w and op.op == "FULLY_CONNECTED":
                warnings.append(
                    f"{describe_op(graph, op)}: binary dense layer stored unpacked (LceDequantize "
                    f"-> float FULLY_CONNECTED with ±1 weights, {w.data.nbytes} bytes instead of "
                    f"{-(-w.data.size // 8)}). Convert with bnn_lq.convert.to_tflite "
                    "(bitpack_dense=True).")
            elif fed_binary and binary_w:
                warnings.append(
                    f"{describe_op(graph, op)}: binary input and ±1 weights, but computed in float "
                    "(LCE did not fuse it: depthwise, pad_values other than 0/1, or groups with "
                    "Cin/groups not a multiple of 32).")
            elif fed_binary:
                warnings.append(f"{describe_op(graph, op)}: binary input with real-valued weights: "
                                "computed in float.")
            elif binary_w and w.data.size >= 64 and op.op != "DEPTHWISE_CONV_2D":
                warnings.append(
                    f"{describe_op(graph, op)}: weights are all ±c per output channel "
                    f"({w.data.nbytes} bytes in float); with a binary input this layer could be "
                    "bit-packed (a first layer with a real input stays float in LCE).")
        if op.op == "LceBconv2d" and op.outputs:
            out = graph.tensors[op.outputs[0]]
            readers = consumers.get(out.index, [])
            if out.dtype == "float32" and readers and all(
                    graph.operators[c].op == "LceQuantize" for c in readers):
                warnings.append(f"{describe_op(graph, op)}: writes float output that is only "
                                "re-binarized (LceQuantize); with padding='valid' or pad_values=1.0 "
                                "LCE writes bit-packed output (32x less activation memory).")

    # Peak activation memory, straightforward schedule.
    n_ops = len(graph.operators)
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    for i in graph.inputs:
        start[i] = -1
    for op in graph.operators:
        for t in op.outputs:
            start.setdefault(t, op.index)
        for t in op.inputs:
            if t >= 0 and not graph.tensors[t].is_constant:
                end[t] = max(end.get(t, -1), op.index)
    for t in graph.outputs:
        end[t] = n_ops
    peak, peak_at = 0, -1
    for step in range(-1, max(n_ops, 0)):
        live = sum(_live_bytes(graph.tensors[t]) for t, s in start.items()
                   if not graph.tensors[t].is_constant and s <= step <= max(end.get(t, s), s))
        if live > peak:
            peak, peak_at = live, step
    return Inspection(source=graph.source, sha256=graph.sha256, rows=rows, bytes=sizes,
                      file_bytes=file_bytes, peak_activation_bytes=peak, peak_at_op=peak_at,
                      binary_macs=binary_total, real_macs=real_total, warnings=warnings)


def _fmt_tensors(items) -> str:
    return ", ".join(f"{'x'.join(str(d) for d in item[0]) or 'scalar'} {item[1]}"
                     for item in items)


def format_inspection(result: Inspection) -> str:
    """The human-readable report ``bnn-lq inspect`` prints."""
    lines = [f"model {result.source} (sha256 {result.sha256[:12]})", ""]
    header = f"{'#':>3}  {'op':<18} {'packed':<6} {'inputs (activations)':<34} outputs"
    lines += [header, "-" * len(header)]
    for r in result.rows:
        acts = [i for i in r.inputs if not i[2]]
        lines.append(f"{r.index:>3}  {r.op:<18} {'yes' if r.bitpacked else 'no':<6} "
                     f"{_fmt_tensors(acts):<34} {_fmt_tensors(r.outputs)}")
    lines.append("")
    total = sum(result.bytes.values())
    lines.append("bytes")
    for kind, n in result.bytes.items():
        share = f"{100 * n / total:5.1f} %" if total else ""
        lines.append(f"  {kind.replace('_', ' '):<22} {n:>10,d}  {share}")
    if result.file_bytes is not None:
        lines.append(f"  {'file':<22} {result.file_bytes:>10,d}")
    lines.append("")
    lines.append(f"peak activation memory  {result.peak_activation_bytes:,d} bytes "
                 f"(at op {result.peak_at_op}; ops in file order, no in-place reuse)")
    lines.append(f"MACs                    binary {result.binary_macs:,d}, real {result.real_macs:,d}")
    if result.warnings:
        lines.append("")
        lines.append("warnings")
        lines += [f"  - {w}" for w in result.warnings]
    return "\n".join(lines)
