"""Ahead-of-time code generation: a ``.tflite`` model -> ``model.c`` / ``model.h`` (and
optionally ``testset.c`` / ``testset.h``) that run on the C runtime of
``firmware/runtime`` with no interpreter, no allocation and no flatbuffer on the device.

Stages (each pure; only :func:`write` touches the disk):

1. :func:`lower` turns every operator into a :class:`Step`: the runtime kernel to call,
   its params struct as field values, and the constant arrays it needs. All numbers are
   computed here, in Python: LceBconv2d output transforms in double (spec §6.5), clamp
   bounds, padding offsets, TFLite's quantized multipliers (QuantizeMultiplier: frexp,
   round half away, Q31), int8 activation ranges and lookup tables. Float CONV_2D /
   FULLY_CONNECTED layers whose weights are ``±c`` per output channel (a binary kernel on a
   real input, or a stock LCE binary dense layer after LceDequantize) are stored
   bit-packed with a per-channel scale and run on the ``*_binw_f32`` kernels.
2. ``plan.plan`` places the activations in one arena (see plan.py for the choices).
3. :func:`emit` fills the templates in ``convert/templates/`` (they own the C layout).

Anything the runtime cannot run raises :class:`~bnn_lq.errors.UnsupportedOpError`
naming the operator index, type, output tensor and option.

Example:
    >>> from bnn_lq.convert.codegen import format_float
    >>> [format_float(x) for x in (1.0, -0.0, 0.1, float("inf"))]
    ['1.0f', '-0.0f', '0.100000001f', 'HUGE_VALF']
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import re
import string
from typing import Any, Sequence

import numpy as np

from bnn_lq.convert import plan as plan_mod
from bnn_lq.convert.flatbuffer import describe_op
from bnn_lq.convert.graph import Graph, Operator, Tensor
from bnn_lq.errors import DeployError, UnsupportedOpError


# int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED requantization: LCE's x86 interpreter
# (the oracle) runs TFLite's optimized kernels, whose final shift rounds ties up; the
# TFLite reference kernels and tflite-micro round them away from zero (BNN_ROUND_AWAY).
_ORACLE_ROUNDING = "BNN_ROUND_UP"

__all__ = ["CArray", "Step", "emit", "format_float", "lower", "quantize_multiplier", "write"]

_TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_FLT_MAX = float(np.finfo(np.float32).max)


# --------------------------------------------------------------------------------------
# C values
# --------------------------------------------------------------------------------------

def format_float(x: float) -> str:
    """An exact C float literal: ``%.9g`` (round-trips every binary32) plus ``f``;
    infinities and NaN as the C99 <math.h> macros."""
    x = np.float32(x)
    if np.isnan(x):
        return "NAN"
    if np.isinf(x):
        return "HUGE_VALF" if x > 0 else "-HUGE_VALF"
    text = "%.9g" % float(x)
    if not any(c in text for c in ".en"):
        text += ".0"
    return text + "f"


def _format_int(v: int) -> str:
    v = int(v)
    if v == _INT32_MIN:
        return "(-2147483647 - 1)"  # INT32_MIN without a negated out-of-range literal
    return str(v)


class _Raw(str):
    """A C expression written as is (enum names, array names, NULL)."""


_NULL = _Raw("NULL")


def _c_value(v: Any, indent: str) -> str:
    if isinstance(v, _Raw):
        return str(v)
    if isinstance(v, dict):
        inner = ", ".join(f".{k} = {_c_value(x, indent)}" for k, x in v.items())
        return "{" + inner + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(_c_value(x, indent) for x in v) + "}"
    if isinstance(v, (float, np.floating)):
        return format_float(v)
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return _format_int(v)
    raise TypeError(f"cannot write {v!r} as a C value")


@dataclasses.dataclass
class CArray:
    """One ``static const`` array of model.c."""

    name: str
    ctype: str  # "float", "uint32_t", "int32_t", "int8_t"
    values: np.ndarray  # flat, already of the C type's NumPy dtype
    comment: str = ""

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)

    def render(self) -> str:
        v = self.values
        if self.ctype == "float":
            items, per_line = [format_float(x) for x in v], 6
        elif self.ctype == "uint32_t":
            items, per_line = ["0x%08x" % int(x) for x in v], 8
        else:
            items, per_line = [_format_int(x) for x in v], 12
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        body = ",\n    ".join(lines)
        comment = f"/* {self.comment} */\n" if self.comment else ""
        return (f"{comment}static const {self.ctype} {self.name}[{max(len(items), 1)}] "
                f"BNN_MODEL_ALIGNED(8) = {{\n    {body if items else '0'}\n}};\n")


@dataclasses.dataclass
class _Arg:
    """A kernel argument after the params pointer."""

    kind: str  # "tensor" (read), "out" (written), "const" (array name), "null", "raw"
    value: Any = None  # tensor index, array name or raw expression
    ctype: str = ""  # element type of a tensor pointer ("float", "uint32_t", "void")


@dataclasses.dataclass
class Step:
    """What the generated code does for one operator.

    Attributes:
        op: Operator index in the graph.
        function: Runtime function called, or None for a view (RESHAPE aliasing).
        params_type: C struct type of the params, or None when the call takes none.
        params: Field name -> value (ints, floats, nested dicts, array names).
        args: Arguments after ``&params`` (tensors, constant arrays, NULL).
        arrays: The constant arrays this step owns.
        reads / writes: Activation tensors it reads / writes (for the memory plan).
        scratch_bytes: Scratch planned for the kernel; ``scratch_check`` names the
            runtime function whose answer must not exceed it.
        alias: (view tensor, source tensor) when the op is a no-op view.
        note: One line for the comment above the call.
        inplace: Tensors read by the step whose memory the output may take over when
            the step is their last reader (element i of the output depends on element i
            of that input only, same shape and type); the plan decides.
        fused_ops: Every operator this step computes, in graph order, when it fuses a
            chain (see :func:`lower`); empty for a one-operator step.
        aux_params: Extra ``static const`` params structs the call refers to, as
            (C type, name, fields), emitted before ``op<op>_params``.
    """

    op: int
    function: str | None
    params_type: str | None = None
    params: dict = dataclasses.field(default_factory=dict)
    args: list = dataclasses.field(default_factory=list)
    arrays: list = dataclasses.field(default_factory=list)
    reads: tuple = ()
    writes: tuple = ()
    scratch_bytes: int = 0
    scratch_check: str | None = None
    alias: tuple | None = None
    note: str = ""
    fused_ops: tuple = ()
    aux_params: list = dataclasses.field(default_factory=list)
    inplace: tuple = ()

    @property
    def weight_bytes(self) -> int:
        return sum(a.nbytes for a in self.arrays)


# --------------------------------------------------------------------------------------
# Numbers the runtime expects precomputed
# --------------------------------------------------------------------------------------

def _round_half_away(x: float) -> int:
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's ``QuantizeMultiplier``: ``real = m * 2^(shift - 31)`` with ``m`` a Q31 int32
    in [2^30, 2^31) (or 0) and shift in [-31, 30].

    Example:
        >>> quantize_multiplier(0.5)
        (1073741824, 0)
        >>> quantize_multiplier(3.0)
        (1610612736, 2)
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return (1 << 31) - 1, 30
    return int(q_fixed), int(shift)


def _words(c: int) -> int:
    return (c + 31) // 32


def _pack_bits(neg: np.ndarray) -> np.ndarray:
    """Packs a boolean [..., C] array (True = -1) along the last axis into uint32 words."""
    c = neg.shape[-1]
    n = _words(c)
    padded = np.zeros(neg.shape[:-1] + (n * 32,), dtype=np.uint64)
    padded[..., :c] = neg
    weights = (np.uint64(1) << np.arange(32, dtype=np.uint64))
    words = (padded.reshape(neg.shape[:-1] + (n, 32)) * weights).sum(axis=-1)
    return words.astype(np.uint32)


def _binary_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """If every output channel (axis 0) of float weights ``w`` is ±c_o (|w| exactly
    constant per channel), returns (packed sign words [O, ..., words(last)], scales [O]),
    and only when that storage is smaller than the floats; else None."""
    if w.dtype != np.float32 or w.ndim < 2 or not np.all(np.isfinite(w)):
        return None
    flat = np.abs(w.reshape(w.shape[0], -1))
    scale = flat[:, 0]
    if not np.all(flat == scale[:, None]):
        return None
    packed = _pack_bits(w < 0)
    if packed.nbytes + scale.nbytes >= w.nbytes:
        return None
    return packed, scale.astype(np.float32)


def _act_f32(act: str) -> tuple[float, float]:
    bounds = {"NONE": (-_FLT_MAX, _FLT_MAX), "RELU": (0.0, _FLT_MAX), "RELU6": (0.0, 6.0),
              "RELU_N1_TO_1": (-1.0, 1.0)}
    return bounds[act]


def _act_s8(act: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized for int8 outputs."""
    def q(f: float) -> int:
        return int(zero_point) + _round_half_away(float(np.float32(f) / np.float32(scale)))

    lo, hi = -128, 127
    if act == "RELU":
        return max(lo, q(0.0)), hi
    if act == "RELU6":
        return max(lo, q(0.0)), min(hi, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


# --------------------------------------------------------------------------------------
# Lowering
# --------------------------------------------------------------------------------------

class _Ctx:
    def __init__(self, graph: Graph):
        self.graph = graph

    def t(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def fail(self, op: Operator, what: str, fix: str = "") -> UnsupportedOpError:
        msg = f"{describe_op(self.graph, op)}: {what}"
        if fix:
            msg += f". {fix}"
        return UnsupportedOpError(msg)

    def quant(self, op: Operator, index: int, role: str) -> tuple[float, int]:
        t = self.t(index)
        q = t.quantization
        if q is None or q.scale.size == 0:
            raise self.fail(op, f"{role} tensor {t.name!r} ({t.dtype}) has no quantization "
                                f"parameters; expected per-tensor scale and zero point")
        if not q.is_per_tensor:
            raise self.fail(op, f"{role} tensor {t.name!r} is quantized per channel; the "
                                f"runtime supports per-tensor quantization here")
        return float(q.scale[0]), int(q.zero_point[0])

    def const(self, op: Operator, index: int, role: str) -> np.ndarray:
        t = self.graph.tensor(index)
        if t is None or not t.is_constant:
            raise self.fail(op, f"the {role} must be a constant tensor; a computed {role} is "
                                f"not supported by the C runtime")
        return np.asarray(t.data)


def _window(ctx: _Ctx, op: Operator, in_t: Tensor, out_t: Tensor, kh: int, kw: int,
            sh: int, sw: int, dh: int, dw: int, padding: str) -> dict:
    if len(in_t.shape) != 4 or len(out_t.shape) != 4:
        raise ctx.fail(op, f"expected 4-D NHWC input and output, got {in_t.shape} -> "
                           f"{out_t.shape}")
    n, h, w = in_t.shape[:3]
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        pad_top = max(0, (oh - 1) * sh + ekh - h) // 2
        pad_left = max(0, (ow - 1) * sw + ekw - w) // 2
    elif padding == "VALID":
        oh, ow = (h - ekh) // sh + 1, (w - ekw) // sw + 1
        pad_top = pad_left = 0
    else:
        raise ctx.fail(op, f"padding={padding!r} is not supported (SAME or VALID)")
    if (oh, ow) != tuple(out_t.shape[1:3]) or out_t.shape[0] != n:
        raise ctx.fail(op, f"output shape {out_t.shape} does not match the TFLite geometry "
                           f"rules for input {in_t.shape} (expected {(n, oh, ow)} + channels)")
    return {"batch": n, "in_h": h, "in_w": w, "out_h": oh, "out_w": ow, "kernel_h": kh,
            "kernel_w": kw, "stride_h": sh, "stride_w": sw, "dilation_h": dh, "dilation_w": dw,
            "pad_top": pad_top, "pad_left": pad_left}


def _rows(shape: Sequence[int]) -> int:
    return int(np.prod(shape[:-1], dtype=np.int64)) if len(shape) > 1 else 1


def _count(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _name(op: Operator, role: str) -> str:
    return f"op{op.index}_{role}"


def _ctype(dtype: str) -> str:
    return {"float32": "float", "int8": "int8_t", "int32": "uint32_t", "uint8": "uint8_t",
            "bool": "uint8_t"}.get(dtype, "void")


def _io_step(ctx: _Ctx, op: Operator, function: str, params_type: str | None, params: dict,
             in_args: list, arrays: list, note: str = "", out_ctype: str | None = None) -> Step:
    out = op.outputs[0]
    args = in_args + [_Arg("out", out, out_ctype or _ctype(ctx.t(out).dtype))]
    reads = tuple(a.value for a in in_args if a.kind == "tensor")
    return Step(op=op.index, function=function, params_type=params_type, params=params,
                args=args, arrays=arrays, reads=reads, writes=(out,), note=note)


def _tin(ctx: _Ctx, index: int) -> _Arg:
    return _Arg("tensor", index, _ctype(ctx.t(index).dtype))


def _input_operand(ctx: _Ctx, op: Operator, index: int, role: str, ctype: str) -> tuple[_Arg, list]:
    """A tensor argument that may be an activation or a constant (emitted as an array)."""
    t = ctx.graph.tensor(index)
    if t is None:
        raise ctx.fail(op, f"the {role} input is missing")
    if t.is_constant:
        arr = CArray(_name(op, role), ctype,
                     np.ascontiguousarray(t.data).reshape(-1).astype(_np_of(ctype)), t.name)
        return _Arg("const", arr.name), [arr]
    return _tin(ctx, index), []


def _np_of(ctype: str):
    return {"float": np.float32, "int8_t": np.int8, "int32_t": np.int32,
            "uint32_t": np.uint32, "uint8_t": np.uint8}[ctype]


def _lower_lce_quantize(ctx: _Ctx, op: Operator) -> Step:
    x = ctx.t(op.inputs[0])
    fn = {"float32": "bnn_quantize_f32", "int8": "bnn_quantize_s8",
          "bool": "bnn_quantize_bool"}.get(x.dtype)
    if fn is None:
        raise ctx.fail(op, f"input dtype {x.dtype} is not supported (float32, int8, bool)")
    zp = ctx.quant(op, x.index, "input")[1] if x.dtype == "int8" else 0
    params = {"rows": _rows(x.shape), "channels": x.shape[-1], "zero_point": zp}
    return _io_step(ctx, op, fn, "bnn_quantize_params_t", params, [_tin(ctx, x.index)], [])


def _lower_lce_dequantize(ctx: _Ctx, op: Operator) -> Step:
    y = ctx.t(op.outputs[0])
    if y.dtype == "float32":
        fn, scale, zp = "bnn_dequantize_f32", 0.0, 0
    elif y.dtype == "int8":
        fn = "bnn_dequantize_s8"
        scale, zp = ctx.quant(op, y.index, "output")
    else:
        raise ctx.fail(op, f"output dtype {y.dtype} is not supported (float32, int8)")
    params = {"rows": _rows(y.shape), "channels": y.shape[-1], "scale": scale, "zero_point": zp}
    return _io_step(ctx, op, fn, "bnn_dequantize_params_t", params, [_tin(ctx, op.inputs[0])], [])


def _lower_lce_bconv2d(ctx: _Ctx, op: Operator) -> Step:
    o = op.options
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    f = ctx.const(op, op.inputs[1], "filter")
    if f.ndim != 4 or f.dtype != np.int32:
        raise ctx.fail(op, f"filter must be packed int32 [Cout, KH, KW, words], got "
                           f"{f.dtype} {f.shape}")
    cin = int(o["channels_in"])
    cout, kh, kw, pg = f.shape
    if pg == _words(cin):
        groups = 1
    else:
        if pg == 0 or _words(cin) % pg:
            raise ctx.fail(op, f"filter has {pg} words per tap, which does not divide "
                               f"ceil(channels_in/32)={_words(cin)}")
        groups = _words(cin) // pg
        if cin % groups or (cin // groups) % 32 or cout % groups:
            raise ctx.fail(op, f"groups={groups} needs channels_in/groups a multiple of 32 "
                               f"and C_out divisible by groups (channels_in={cin}, C_out={cout})")
    cg = cin // groups
    k = kh * kw * cg
    act = o.get("fused_activation_function", "NONE")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        act = "NONE"  # LCE's kernel maps any other value to NONE (spec §2)
    pad_values = int(o.get("pad_values", 0))
    if pad_values not in (0, 1):
        raise ctx.fail(op, f"pad_values={pad_values} is not supported (0 or 1)")
    padding = o["padding"]
    win = _window(ctx, op, x, y, kh, kw, int(o["stride_height"]), int(o["stride_width"]),
                  int(o["dilation_height_factor"]), int(o["dilation_width_factor"]), padding)
    out_type = {"float32": "BNN_OUT_F32", "int8": "BNN_OUT_S8", "int32": "BNN_OUT_PACKED"}.get(
        y.dtype)
    if out_type is None:
        raise ctx.fail(op, f"output dtype {y.dtype} is not supported (float32, int8, int32)")
    if padding == "VALID" or pad_values == 1:
        pad_mode = "BNN_BPAD_ONE"
    elif out_type == "BNN_OUT_PACKED":
        raise ctx.fail(op, "SAME padding with pad_values=0 and bit-packed output is not "
                           "supported (LCE never emits it)")
    elif out_type == "BNN_OUT_F32" and act == "NONE":
        pad_mode = "BNN_BPAD_ZERO_FLOAT"  # LCE's default kernel: the oracle's numbers
    else:
        pad_mode = "BNN_BPAD_ZERO_INT"  # LCE's reference kernel, the only one that runs it
    # Clamp bounds of x2 = 2 * acc (spec §6.5).
    nmin, nmax = {"NONE": (_INT32_MIN, _INT32_MAX), "RELU": (0, _INT32_MAX), "RELU6": (0, 6),
                  "RELU_N1_TO_1": (-1, 1)}[act]
    nmin, nmax = max(nmin, -k), min(nmax, k)
    params = {"win": win, "channels_in": cin, "channels_out": cout, "groups": groups,
              "pad_mode": _Raw(pad_mode), "out_type": _Raw(out_type),
              "clamp_min": k - nmax, "clamp_max": k - nmin,
              "mul": _NULL, "bias": _NULL, "threshold": _NULL}
    arrays = [CArray(_name(op, "filter"), "uint32_t", f.reshape(-1).view(np.uint32),
                     f"packed filter [{cout}][{kh}][{kw}][{pg}]")]
    if out_type == "BNN_OUT_PACKED":
        th = ctx.const(op, op.inputs[4] if len(op.inputs) > 4 else -1, "output_threshold")
        arrays.append(CArray(_name(op, "threshold"), "int32_t",
                             th.reshape(-1).astype(np.int32), "thresholds on acc"))
        params["threshold"] = _Raw(arrays[-1].name)
        note = f"binary conv, K={k}, bit-packed output"
    else:
        pam = ctx.const(op, op.inputs[2] if len(op.inputs) > 2 else -1,
                        "post_activation_multiplier").astype(np.float64).reshape(-1)
        pab = ctx.const(op, op.inputs[3] if len(op.inputs) > 3 else -1,
                        "post_activation_bias").astype(np.float64).reshape(-1)
        if out_type == "BNN_OUT_S8":
            s, z = ctx.quant(op, y.index, "output")
        else:
            s, z = 1.0, 0
        s, z = float(np.float64(np.float32(s))), float(z)
        mul = (-pam / s).astype(np.float32)  # spec §6.5: in double, then rounded to float
        bias = ((pab + float(k) * pam) / s + z).astype(np.float32)
        arrays.append(CArray(_name(op, "mul"), "float", mul, "(float)(-pam / s), in double"))
        arrays.append(CArray(_name(op, "bias"), "float", bias,
                             "(float)((pab + K * pam) / s + z), in double"))
        params["mul"], params["bias"] = _Raw(arrays[-2].name), _Raw(arrays[-1].name)
        note = f"binary conv, K={k}, {y.dtype} output, {pad_mode}"
    step = _io_step(ctx, op, "bnn_bconv2d", "bnn_bconv2d_params_t", params,
                    [_tin(ctx, x.index), _Arg("const", arrays[0].name)], arrays, note,
                    out_ctype="void")
    step.args.append(_Arg("raw", "scratch"))
    step.scratch_check = "bnn_bconv2d_scratch_size"
    return step


def _lower_lce_bmaxpool2d(ctx: _Ctx, op: Operator) -> Step:
    o = op.options
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    win = _window(ctx, op, x, y, int(o["filter_height"]), int(o["filter_width"]),
                  int(o["stride_height"]), int(o["stride_width"]), 1, 1, o["padding"])
    # The unpacked count is not recorded (spec §3); every word is ANDed, padding bits stay 0.
    params = {"win": win, "channels": 32 * x.shape[-1]}
    return _io_step(ctx, op, "bnn_bmaxpool2d", "bnn_bmaxpool2d_params_t", params,
                    [_tin(ctx, x.index)], [])


def _conv_window(ctx: _Ctx, op: Operator, kh: int, kw: int) -> dict:
    o = op.options
    return _window(ctx, op, ctx.t(op.inputs[0]), ctx.t(op.outputs[0]), kh, kw,
                   int(o.get("stride_h", 1)), int(o.get("stride_w", 1)),
                   int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1)),
                   o.get("padding", "VALID"))


def _check_act(ctx: _Ctx, op: Operator) -> str:
    act = op.options.get("fused_activation_function", "NONE")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise ctx.fail(op, f"fused_activation_function={act} is not supported "
                           f"(NONE, RELU, RELU6, RELU_N1_TO_1)")
    return act


def _bias_array(ctx: _Ctx, op: Operator, index: int, ctype: str) -> tuple[Any, list]:
    t = ctx.graph.tensor(index)
    if t is None:
        return _Raw("NULL"), []
    data = ctx.const(op, t.index, "bias")
    arr = CArray(_name(op, "bias"), ctype, data.reshape(-1).astype(_np_of(ctype)), t.name)
    return _Raw(arr.name), [arr]


def _opt_input(op: Operator, i: int) -> int:
    return op.inputs[i] if len(op.inputs) > i else -1


def _per_channel_multipliers(ctx: _Ctx, op: Operator, w_index: int, n: int) -> list:
    in_scale, _ = ctx.quant(op, op.inputs[0], "input")
    out_scale, _ = ctx.quant(op, op.outputs[0], "output")
    wq = ctx.t(w_index).quantization
    if wq is None:
        raise ctx.fail(op, "int8 filter has no quantization parameters")
    scales = np.broadcast_to(wq.scale.astype(np.float32), (n,)) if wq.scale.size == 1 \
        else wq.scale.astype(np.float32)
    if scales.size != n:
        raise ctx.fail(op, f"filter has {scales.size} scales for {n} output channels")
    pairs = [quantize_multiplier(float(in_scale) * float(s) / float(out_scale))
             for s in scales]
    mult = np.array([m for m, _ in pairs], dtype=np.int32)
    shift = np.array([s for _, s in pairs], dtype=np.int32)
    return [CArray(_name(op, "out_multiplier"), "int32_t", mult, "Q31 multipliers"),
            CArray(_name(op, "out_shift"), "int32_t", shift, "exponents")]



def _binw_step(ctx, op, x, binw, bias_arrays, bias, kernel: str, ptype: str, params: dict,
               layout: str, scale_comment: str, what: str):
    """The step of a float CONV_2D / FULLY_CONNECTED whose weights are +-c per output
    channel: packed sign bits plus one scale per channel, run by ``kernel``."""
    bits, scale = binw
    arrays = [CArray(_name(op, "filter"), "uint32_t", bits.reshape(-1),
                     f"+-scale weights packed {layout}"),
              CArray(_name(op, "scale"), "float", scale, scale_comment)] + bias_arrays
    args = [_tin(ctx, x.index), _Arg("const", arrays[0].name), _Arg("const", arrays[1].name),
            _Arg("raw", bias)]
    return _io_step(ctx, op, kernel, ptype, params, args, arrays, what)


def _lower_conv_2d(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    w = ctx.const(op, op.inputs[1], "filter")
    if w.ndim != 4:
        raise ctx.fail(op, f"filter must be 4-D OHWI, got {w.shape}")
    out_c, kh, kw, cg = w.shape
    in_c = x.shape[-1]
    if cg == 0 or in_c % cg or out_c % (in_c // cg):
        raise ctx.fail(op, f"input channels {in_c} are not a multiple of the filter's {cg} "
                           f"with output channels divisible by the groups")
    groups = in_c // cg
    act = _check_act(ctx, op)
    win = _conv_window(ctx, op, kh, kw)
    if x.dtype == "float32" and w.dtype == np.float32:
        lo, hi = _act_f32(act)
        params = {"win": win, "in_c": in_c, "out_c": out_c, "groups": groups,
                  "act_min": lo, "act_max": hi}
        bias, arrays = _bias_array(ctx, op, _opt_input(op, 2), "float")
        binw = _binary_weights(w)
        if binw is not None:
            return _binw_step(ctx, op, x, binw, arrays, bias, "bnn_conv2d_binw_f32",
                              "bnn_conv2d_f32_params_t", params,
                              f"[{out_c}][{kh}][{kw}][{_words(cg)}]", "per-channel |w|",
                              "binary-weight conv on a real input (packed +-c)")
        arrays = [CArray(_name(op, "filter"), "float", w.reshape(-1).astype(np.float32),
                         f"OHWI [{out_c}][{kh}][{kw}][{cg}]")] + arrays
        args = [_tin(ctx, x.index), _Arg("const", arrays[0].name), _Arg("raw", bias)]
        return _io_step(ctx, op, "bnn_conv2d_f32", "bnn_conv2d_f32_params_t", params, args,
                        arrays)
    if x.dtype == "int8" and w.dtype == np.int8:
        in_zp = ctx.quant(op, x.index, "input")[1]
        out_s, out_zp = ctx.quant(op, y.index, "output")
        lo, hi = _act_s8(act, out_s, out_zp)
        mults = _per_channel_multipliers(ctx, op, op.inputs[1], out_c)
        bias, barr = _bias_array(ctx, op, _opt_input(op, 2), "int32_t")
        arrays = [CArray(_name(op, "filter"), "int8_t", w.reshape(-1), "OHWI int8")] + barr + mults
        params = {"win": win, "in_c": in_c, "out_c": out_c, "groups": groups,
                  "input_offset": -in_zp, "output_offset": out_zp,
                  "out_multiplier": _Raw(mults[0].name), "out_shift": _Raw(mults[1].name),
                  "act_min": lo, "act_max": hi, "rounding": _Raw(_ORACLE_ROUNDING)}
        args = [_tin(ctx, x.index), _Arg("const", arrays[0].name), _Arg("raw", bias)]
        return _io_step(ctx, op, "bnn_conv2d_s8", "bnn_conv2d_s8_params_t", params, args, arrays)
    raise ctx.fail(op, f"input {x.dtype} with filter {w.dtype} is not supported "
                       f"(float32/float32 or int8/int8)")


def _lower_depthwise_conv_2d(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    w = ctx.const(op, op.inputs[1], "filter")
    if w.ndim != 4 or w.shape[0] != 1:
        raise ctx.fail(op, f"filter must be [1, KH, KW, C_out], got {w.shape}")
    _, kh, kw, out_c = w.shape
    in_c = x.shape[-1]
    if out_c % in_c:
        raise ctx.fail(op, f"output channels {out_c} are not a multiple of input channels {in_c}")
    act = _check_act(ctx, op)
    win = _conv_window(ctx, op, kh, kw)
    if x.dtype == "float32":
        lo, hi = _act_f32(act)
        bias, barr = _bias_array(ctx, op, _opt_input(op, 2), "float")
        arrays = [CArray(_name(op, "filter"), "float", w.reshape(-1).astype(np.float32))] + barr
        params = {"win": win, "in_c": in_c, "depth_multiplier": out_c // in_c,
                  "act_min": lo, "act_max": hi}
        args = [_tin(ctx, x.index), _Arg("const", arrays[0].name), _Arg("raw", bias)]
        return _io_step(ctx, op, "bnn_depthwise_conv2d_f32", "bnn_depthwise_conv2d_f32_params_t",
                        params, args, arrays)
    if x.dtype == "int8" and w.dtype == np.int8:
        in_zp = ctx.quant(op, x.index, "input")[1]
        out_s, out_zp = ctx.quant(op, y.index, "output")
        lo, hi = _act_s8(act, out_s, out_zp)
        mults = _per_channel_multipliers(ctx, op, op.inputs[1], out_c)
        bias, barr = _bias_array(ctx, op, _opt_input(op, 2), "int32_t")
        arrays = [CArray(_name(op, "filter"), "int8_t", w.reshape(-1))] + barr + mults
        params = {"win": win, "in_c": in_c, "depth_multiplier": out_c // in_c,
                  "input_offset": -in_zp, "output_offset": out_zp,
                  "out_multiplier": _Raw(mults[0].name), "out_shift": _Raw(mults[1].name),
                  "act_min": lo, "act_max": hi, "rounding": _Raw(_ORACLE_ROUNDING)}
        args = [_tin(ctx, x.index), _Arg("const", arrays[0].name), _Arg("raw", bias)]
        return _io_step(ctx, op, "bnn_depthwise_conv2d_s8", "bnn_depthwise_conv2d_s8_params_t",
                        params, args, arrays)
    raise ctx.fail(op, f"input dtype {x.dtype} with filter {w.dtype} is not supported")


def _lower_fully_connected(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    w = ctx.const(op, op.inputs[1], "weights")
    if w.ndim != 2:
        raise ctx.fail(op, f"weights must be 2-D [out, in], got {w.shape}")
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        raise ctx.fail(op, f"weights_format={op.options['weights_format']} is not supported "
                           f"(DEFAULT only)")
    out_f, in_f = w.shape
    n = _count(x.shape)
    if n % in_f:
        raise ctx.fail(op, f"input of {n} values is not a multiple of in_features={in_f}")
    act = _check_act(ctx, op)
    if x.dtype == "float32" and w.dtype == np.float32:
        lo, hi = _act_f32(act)
        params = {"rows": n // in_f, "in_features": in_f, "out_features": out_f,
                  "act_min": lo, "act_max": hi}
        bias, barr = _bias_array(ctx, op, _opt_input(op, 2), "float")
        binw = _binary_weights(w)
        if binw is not None:
            return _binw_step(ctx, op, x, binw, barr, bias, "bnn_fully_connected_binw_f32",
                              "bnn_fully_connected_f32_params_t", params,
                              f"[{out_f}][{_words(in_f)}]", "per-row |w|",
                              "binary-weight dense (packed +-c)")
        arrays = [CArray(_name(op, "filter"), "float", w.reshape(-1).astype(np.float32),
                         f"[{out_f}][{in_f}]")] + barr
        args = [_tin(ctx, x.index), _Arg("const", arrays[0].name), _Arg("raw", bias)]
        return _io_step(ctx, op, "bnn_fully_connected_f32", "bnn_fully_connected_f32_params_t",
                        params, args, arrays)
    if x.dtype == "int8" and w.dtype == np.int8:
        in_s, in_zp = ctx.quant(op, x.index, "input")
        out_s, out_zp = ctx.quant(op, y.index, "output")
        wq = ctx.t(op.inputs[1]).quantization
        if wq is None:
            raise ctx.fail(op, "int8 weights have no quantization parameters")
        per_channel = 0 if wq.scale.size == 1 else 1
        w_zp = int(wq.zero_point.reshape(-1)[0]) if wq.zero_point.size else 0
        if per_channel:
            mults = _per_channel_multipliers(ctx, op, op.inputs[1], out_f)
        else:
            m, s = quantize_multiplier(float(in_s) * float(np.float32(wq.scale[0]))
                                       / float(out_s))
            mults = [CArray(_name(op, "out_multiplier"), "int32_t", np.array([m], np.int32)),
                     CArray(_name(op, "out_shift"), "int32_t", np.array([s], np.int32))]
        lo, hi = _act_s8(act, out_s, out_zp)
        bias, barr = _bias_array(ctx, op, _opt_input(op, 2), "int32_t")
        arrays = [CArray(_name(op, "filter"), "int8_t", w.reshape(-1))] + barr + mults
        params = {"rows": n // in_f, "in_features": in_f, "out_features": out_f,
                  "input_offset": -in_zp, "filter_offset": -w_zp, "output_offset": out_zp,
                  "per_channel": per_channel, "out_multiplier": _Raw(mults[0].name),
                  "out_shift": _Raw(mults[1].name), "act_min": lo, "act_max": hi,
                  "rounding": _Raw(_ORACLE_ROUNDING)}
        args = [_tin(ctx, x.index), _Arg("const", arrays[0].name), _Arg("raw", bias)]
        return _io_step(ctx, op, "bnn_fully_connected_s8", "bnn_fully_connected_s8_params_t",
                        params, args, arrays)
    raise ctx.fail(op, f"input {x.dtype} with weights {w.dtype} is not supported "
                       f"(float32/float32 or int8/int8; hybrid models are not)")


def _lower_pool(ctx: _Ctx, op: Operator, kind: str) -> Step:
    o = op.options
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    win = _window(ctx, op, x, y, int(o["filter_height"]), int(o["filter_width"]),
                  int(o["stride_h"]), int(o["stride_w"]), 1, 1, o["padding"])
    act = _check_act(ctx, op)
    if x.dtype == "float32":
        lo, hi = _act_f32(act)
        params = {"win": win, "channels": x.shape[-1], "act_min": lo, "act_max": hi}
        return _io_step(ctx, op, f"bnn_{kind}_pool2d_f32", "bnn_pool2d_f32_params_t", params,
                        [_tin(ctx, x.index)], [])
    if x.dtype == "int8":
        if ctx.quant(op, x.index, "input") != ctx.quant(op, y.index, "output"):
            raise ctx.fail(op, "int8 pooling with different input and output quantization is "
                               "not supported")
        lo, hi = _act_s8(act, *ctx.quant(op, y.index, "output"))
        params = {"win": win, "channels": x.shape[-1], "act_min": lo, "act_max": hi}
        return _io_step(ctx, op, f"bnn_{kind}_pool2d_s8", "bnn_pool2d_s8_params_t", params,
                        [_tin(ctx, x.index)], [])
    raise ctx.fail(op, f"dtype {x.dtype} is not supported (float32, int8)")


def _lower_mean(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    axes = sorted(int(a) % max(len(x.shape), 1)
                  for a in ctx.const(op, op.inputs[1], "axis").reshape(-1))
    if len(x.shape) != 4 or axes != [1, 2]:
        raise ctx.fail(op, f"axis={axes} on a {len(x.shape)}-D input is not supported "
                           f"(MEAN over H and W of NHWC only, as GlobalAveragePooling2D)")
    n, h, w, c = x.shape
    keep_dims = bool(op.options.get("keep_dims", False))
    if x.dtype == "float32":
        params = {"batch": n, "in_h": h, "in_w": w, "channels": c}
        return _io_step(ctx, op, "bnn_mean_f32", "bnn_mean_f32_params_t", params,
                        [_tin(ctx, x.index)], [])
    if x.dtype == "int8":
        if keep_dims:
            raise ctx.fail(op, "keep_dims=True with int8 is not supported by the C runtime")
        in_s, in_zp = ctx.quant(op, x.index, "input")
        out_s, out_zp = ctx.quant(op, y.index, "output")
        same = (np.float32(in_s) == np.float32(out_s)) and in_zp == out_zp
        params = {"batch": n, "in_h": h, "in_w": w, "channels": c,
                  "mode": _Raw("BNN_MEAN_S8_SAME_QUANT" if same else "BNN_MEAN_S8_RESCALE"),
                  "input_zero_point": in_zp, "output_zero_point": out_zp,
                  "scale": float(np.float32(in_s) / np.float32(out_s))}
        return _io_step(ctx, op, "bnn_mean_s8", "bnn_mean_s8_params_t", params,
                        [_tin(ctx, x.index)], [])
    raise ctx.fail(op, f"dtype {x.dtype} is not supported (float32, int8)")


def _broadcast(ctx: _Ctx, op: Operator, a: Tensor, b: Tensor, out: Tensor) -> dict:
    def four(shape):
        shape = tuple(shape)
        if len(shape) > 4:
            raise ctx.fail(op, f"rank {len(shape)} > 4 is not supported")
        return (1,) * (4 - len(shape)) + shape

    oshape, ashape, bshape = four(out.shape), four(a.shape), four(b.shape)

    def strides(shape):
        st, acc = [0] * 4, 1
        for k in range(3, -1, -1):
            if shape[k] == oshape[k]:
                st[k] = acc if shape[k] > 1 else 0
            elif shape[k] == 1:
                st[k] = 0
            else:
                raise ctx.fail(op, f"shapes {a.shape} and {b.shape} do not broadcast to "
                                   f"{out.shape}")
            acc *= shape[k]
        return st

    return {"out_shape": list(oshape), "in1_stride": strides(ashape),
            "in2_stride": strides(bshape)}


def _lower_binary(ctx: _Ctx, op: Operator, kind: str) -> Step:
    a_t, b_t, y = ctx.t(op.inputs[0]), ctx.t(op.inputs[1]), ctx.t(op.outputs[0])
    act = _check_act(ctx, op)
    bc = _broadcast(ctx, op, a_t, b_t, y)
    ctype = _ctype(y.dtype)
    if y.dtype not in ("float32", "int8") or a_t.dtype != y.dtype or b_t.dtype != y.dtype:
        raise ctx.fail(op, f"dtypes {a_t.dtype}, {b_t.dtype} -> {y.dtype} are not supported")
    a, arr_a = _input_operand(ctx, op, a_t.index, "a", ctype)
    b, arr_b = _input_operand(ctx, op, b_t.index, "b", ctype)
    if y.dtype == "float32":
        lo, hi = _act_f32(act)
        params = {"bc": bc, "act_min": lo, "act_max": hi}
        return _io_step(ctx, op, f"bnn_{kind}_f32", "bnn_binary_f32_params_t", params, [a, b],
                        arr_a + arr_b)
    s1, z1 = ctx.quant(op, a_t.index, "input 1")
    s2, z2 = ctx.quant(op, b_t.index, "input 2")
    so, zo = ctx.quant(op, y.index, "output")
    lo, hi = _act_s8(act, so, zo)
    if kind in ("add", "sub"):
        left_shift = 20
        twice_max = 2.0 * max(s1, s2)
        m1, sh1 = quantize_multiplier(s1 / twice_max)
        m2, sh2 = quantize_multiplier(s2 / twice_max)
        mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
        params = {"bc": bc, "left_shift": left_shift, "in1_offset": -z1, "in1_multiplier": m1,
                  "in1_shift": sh1, "in2_offset": -z2, "in2_multiplier": m2, "in2_shift": sh2,
                  "out_multiplier": mo, "out_shift": sho, "output_offset": zo,
                  "act_min": lo, "act_max": hi}
        ptype = "bnn_add_s8_params_t"
    else:
        m, sh = quantize_multiplier(s1 * s2 / so)
        params = {"bc": bc, "in1_offset": -z1, "in2_offset": -z2, "out_multiplier": m,
                  "out_shift": sh, "output_offset": zo, "act_min": lo, "act_max": hi}
        ptype = "bnn_mul_s8_params_t"
    return _io_step(ctx, op, f"bnn_{kind}_s8", ptype, params, [a, b], arr_a + arr_b)


def _lower_view(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    if x.nbytes != y.nbytes:
        raise ctx.fail(op, f"input of {x.nbytes} bytes and output of {y.nbytes} bytes differ")
    if x.is_constant:
        raise ctx.fail(op, "reshaping a constant is not supported (LCE folds it)")
    if x.index == ctx.graph.inputs[0] and y.index in ctx.graph.outputs:
        step = Step(op=op.index, function="bnn_copy", reads=(x.index,), writes=(y.index,),
                    note="copy of the model input to the output")
        step.args = [_Arg("out", y.index, "void"), _Arg("tensor", x.index, "void"),
                     _Arg("raw", f"{x.nbytes}u")]
        return step
    return Step(op=op.index, function=None, reads=(x.index,), writes=(y.index,),
                alias=(y.index, x.index), note="view: aliases its input, no code")


def _lower_softmax(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    beta = float(op.options.get("beta", 1.0))
    if x.dtype == "float32":
        params = {"rows": _rows(x.shape), "depth": x.shape[-1], "beta": beta}
        return _io_step(ctx, op, "bnn_softmax_f32", "bnn_softmax_f32_params_t", params,
                        [_tin(ctx, x.index)], [])
    if x.dtype == "int8":
        in_s, _ = ctx.quant(op, x.index, "input")
        out_s, out_zp = ctx.quant(op, y.index, "output")
        # table[255 - v] = expf(-in_scale * beta * v) (TFLite PopulateSoftmaxLookupTable):
        # the float product, then exp correctly rounded to float.
        scale = np.float32(np.float32(in_s) * np.float32(beta))
        table = np.zeros(256, dtype=np.float32)
        for v in range(256):
            table[255 - v] = np.float32(math.exp(float(np.float32(-scale) * np.float32(v))))
        arr = CArray(_name(op, "table"), "float", table, "expf(-in_scale * beta * v)")
        params = {"rows": _rows(x.shape), "depth": x.shape[-1], "out_scale": out_s,
                  "output_zero_point": out_zp, "table": _Raw(arr.name)}
        return _io_step(ctx, op, "bnn_softmax_s8", "bnn_softmax_s8_params_t", params,
                        [_tin(ctx, x.index)], [arr])
    raise ctx.fail(op, f"dtype {x.dtype} is not supported (float32, int8)")


def _lower_pad(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    pads = ctx.const(op, op.inputs[1], "paddings").reshape(-1, 2).astype(np.int64)
    rank = len(x.shape)
    if rank > 4 or pads.shape[0] != rank:
        raise ctx.fail(op, f"paddings {pads.tolist()} for rank {rank} are not supported "
                           f"(rank <= 4)")
    lead = 4 - rank
    params = {"in_shape": [1] * lead + list(x.shape),
              "pad_before": [0] * lead + [int(p) for p in pads[:, 0]],
              "pad_after": [0] * lead + [int(p) for p in pads[:, 1]]}
    if x.dtype == "float32":
        value = 0.0
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            value = float(ctx.const(op, op.inputs[2], "constant_values").reshape(-1)[0])
        step = _io_step(ctx, op, "bnn_pad_f32", "bnn_pad_params_t", params, [], [])
        step.args.insert(0, _Arg("raw", format_float(value)))
    elif x.dtype == "int8":
        zp = ctx.quant(op, y.index, "output")[1]
        value = zp
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            value = int(ctx.const(op, op.inputs[2], "constant_values").reshape(-1)[0])
        step = _io_step(ctx, op, "bnn_pad_s8", "bnn_pad_params_t", params, [], [])
        step.args.insert(0, _Arg("raw", f"(int8_t){value}"))
    else:
        raise ctx.fail(op, f"dtype {x.dtype} is not supported (float32, int8)")
    step.args.insert(1, _tin(ctx, x.index))
    step.reads = (x.index,)
    return step


def _lower_concatenation(ctx: _Ctx, op: Operator) -> Step:
    y = ctx.t(op.outputs[0])
    if _check_act(ctx, op) != "NONE":
        raise ctx.fail(op, "a fused activation on CONCATENATION is not supported")
    axis = int(op.options.get("axis", -1)) % len(y.shape)
    item = np.dtype(y.dtype).itemsize
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    inner, operands, arrays = [], [], []
    for i, t_index in enumerate(op.inputs):
        t = ctx.t(t_index)
        if t.dtype != y.dtype:
            raise ctx.fail(op, f"input {i} is {t.dtype}, output {y.dtype}")
        if y.dtype == "int8" and ctx.quant(op, t_index, f"input {i}") != ctx.quant(op, y.index,
                                                                                   "output"):
            raise ctx.fail(op, f"int8 input {i} has a quantization different from the output")
        inner.append(int(np.prod(t.shape[axis:], dtype=np.int64)) * item)
        arg, arr = _input_operand(ctx, op, t_index, f"in{i}", _ctype(y.dtype))
        operands.append(arg)
        arrays += arr
    arrays.insert(0, CArray(_name(op, "inner_bytes"), "int32_t", np.array(inner, np.int32)))
    params = {"n_inputs": len(inner), "outer": outer, "inner_bytes": _Raw(arrays[0].name)}
    step = _io_step(ctx, op, "bnn_concatenation", "bnn_concatenation_params_t", params, [],
                    arrays, out_ctype="void")
    step.args.insert(0, _Arg("list", operands))
    step.reads = tuple(a.value for a in operands if a.kind == "tensor")
    return step


def _lower_quantize(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    out_s, out_zp = ctx.quant(op, y.index, "output")
    if y.dtype != "int8":
        raise ctx.fail(op, f"output dtype {y.dtype} is not supported (int8)")
    if x.dtype == "float32":
        params = {"count": _count(x.shape), "scale": out_s, "zero_point": out_zp}
        return _io_step(ctx, op, "bnn_affine_quantize_s8", "bnn_affine_params_t", params,
                        [_tin(ctx, x.index)], [])
    if x.dtype == "int8":
        in_s, in_zp = ctx.quant(op, x.index, "input")
        m, s = quantize_multiplier(float(in_s) / float(out_s))
        params = {"count": _count(x.shape), "input_zero_point": in_zp,
                  "output_zero_point": out_zp, "multiplier": m, "shift": s,
                  "act_min": -128, "act_max": 127}
        return _io_step(ctx, op, "bnn_requantize_s8", "bnn_requantize_s8_params_t", params,
                        [_tin(ctx, x.index)], [])
    raise ctx.fail(op, f"input dtype {x.dtype} is not supported (float32, int8)")


def _lower_dequantize(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    if x.dtype != "int8" or y.dtype != "float32":
        raise ctx.fail(op, f"{x.dtype} -> {y.dtype} is not supported (int8 -> float32)")
    s, zp = ctx.quant(op, x.index, "input")
    params = {"count": _count(x.shape), "scale": s, "zero_point": zp}
    return _io_step(ctx, op, "bnn_affine_dequantize_s8", "bnn_affine_params_t", params,
                    [_tin(ctx, x.index)], [])


def _lower_activation(ctx: _Ctx, op: Operator) -> Step:
    x, y = ctx.t(op.inputs[0]), ctx.t(op.outputs[0])
    act = {"RELU": "RELU", "RELU6": "RELU6", "RELU_N1_TO_1": "RELU_N1_TO_1"}[op.op]
    if x.dtype == "float32":
        lo, hi = _act_f32(act)
        params = {"count": _count(x.shape), "act_min": lo, "act_max": hi}
        return _io_step(ctx, op, "bnn_clamp_f32", "bnn_clamp_f32_params_t", params,
                        [_tin(ctx, x.index)], [])
    if x.dtype == "int8":
        in_s, in_zp = ctx.quant(op, x.index, "input")
        out_s, out_zp = ctx.quant(op, y.index, "output")
        m, s = quantize_multiplier(float(in_s) / float(out_s))
        lo, hi = _act_s8(act, out_s, out_zp)
        params = {"count": _count(x.shape), "input_zero_point": in_zp,
                  "output_zero_point": out_zp, "multiplier": m, "shift": s,
                  "act_min": lo, "act_max": hi}
        return _io_step(ctx, op, "bnn_requantize_s8", "bnn_requantize_s8_params_t", params,
                        [_tin(ctx, x.index)], [])
    raise ctx.fail(op, f"dtype {x.dtype} is not supported (float32, int8)")


def _lower_elementwise_f32(ctx: _Ctx, op: Operator) -> Step:
    x = ctx.t(op.inputs[0])
    if x.dtype != "float32":
        raise ctx.fail(op, f"dtype {x.dtype} is not supported by the C runtime (float32 only)")
    if op.op == "LEAKY_RELU":
        params = {"count": _count(x.shape), "alpha": float(op.options.get("alpha", 0.2))}
        return _io_step(ctx, op, "bnn_leaky_relu_f32", "bnn_leaky_relu_f32_params_t", params,
                        [_tin(ctx, x.index)], [])
    fn = {"LOGISTIC": "bnn_logistic_f32", "TANH": "bnn_tanh_f32"}[op.op]
    params = {"count": _count(x.shape), "act_min": -_FLT_MAX, "act_max": _FLT_MAX}
    return _io_step(ctx, op, fn, "bnn_clamp_f32_params_t", params, [_tin(ctx, x.index)], [])


def _lower_prelu(ctx: _Ctx, op: Operator) -> Step:
    x, alpha, y = ctx.t(op.inputs[0]), ctx.t(op.inputs[1]), ctx.t(op.outputs[0])
    bc = _broadcast(ctx, op, x, alpha, y)
    if x.dtype == "float32":
        a, arr = _input_operand(ctx, op, alpha.index, "alpha", "float")
        params = {"bc": bc, "act_min": -_FLT_MAX, "act_max": _FLT_MAX}
        return _io_step(ctx, op, "bnn_prelu_f32", "bnn_binary_f32_params_t", params,
                        [_tin(ctx, x.index), a], arr)
    if x.dtype == "int8":
        in_s, in_zp = ctx.quant(op, x.index, "input")
        a_s, a_zp = ctx.quant(op, alpha.index, "alpha")
        out_s, out_zp = ctx.quant(op, y.index, "output")
        m1, s1 = quantize_multiplier(float(in_s) / float(out_s))
        m2, s2 = quantize_multiplier(float(in_s) * float(a_s) / float(out_s))
        a, arr = _input_operand(ctx, op, alpha.index, "alpha", "int8_t")
        params = {"bc": bc, "input_offset": -in_zp, "alpha_offset": -a_zp,
                  "output_offset": out_zp, "multiplier_1": m1, "shift_1": s1,
                  "multiplier_2": m2, "shift_2": s2}
        return _io_step(ctx, op, "bnn_prelu_s8", "bnn_prelu_s8_params_t", params,
                        [_tin(ctx, x.index), a], arr)
    raise ctx.fail(op, f"dtype {x.dtype} is not supported (float32, int8)")


_LOWER = {
    "LceQuantize": _lower_lce_quantize,
    "LceDequantize": _lower_lce_dequantize,
    "LceBconv2d": _lower_lce_bconv2d,
    "LceBMaxPool2d": _lower_lce_bmaxpool2d,
    "CONV_2D": _lower_conv_2d,
    "DEPTHWISE_CONV_2D": _lower_depthwise_conv_2d,
    "FULLY_CONNECTED": _lower_fully_connected,
    "MAX_POOL_2D": lambda c, o: _lower_pool(c, o, "max"),
    "AVERAGE_POOL_2D": lambda c, o: _lower_pool(c, o, "avg"),
    "MEAN": _lower_mean,
    "ADD": lambda c, o: _lower_binary(c, o, "add"),
    "SUB": lambda c, o: _lower_binary(c, o, "sub"),
    "MUL": lambda c, o: _lower_binary(c, o, "mul"),
    "RESHAPE": _lower_view,
    "SQUEEZE": _lower_view,
    "EXPAND_DIMS": _lower_view,
    "SOFTMAX": _lower_softmax,
    "PAD": _lower_pad,
    "PADV2": _lower_pad,
    "CONCATENATION": _lower_concatenation,
    "QUANTIZE": _lower_quantize,
    "DEQUANTIZE": _lower_dequantize,
    "RELU": _lower_activation,
    "RELU6": _lower_activation,
    "RELU_N1_TO_1": _lower_activation,
    "LEAKY_RELU": _lower_elementwise_f32,
    "LOGISTIC": _lower_elementwise_f32,
    "TANH": _lower_elementwise_f32,
    "PRELU": _lower_prelu,
}


def lower(graph: Graph, *, fuse: bool = True) -> list[Step]:
    """One :class:`Step` per operator, in graph order, except for fused chains.

    With ``fuse`` (the default), every chain that ends in an ``LceQuantize`` and whose
    intermediate tensors have one reader each and are not the model output becomes ONE
    step, ``bnn_conv2d_pool_quantize`` (``bnn/bnn_fused.h``), placed where the chain's
    last operator was::

        [CONV_2D | LceBconv2d (float/int8 out)] -> [MUL/ADD/SUB by a per-channel or scalar
        constant, RELU, RELU6, RELU_N1_TO_1]* -> [MAX_POOL_2D] -> [RESHAPE] -> LceQuantize
        -> [LceBMaxPool2d]

    The real-valued maps inside never exist in memory: the kernel evaluates, for every
    output bit, the source elements its windows need with the reference kernels' own
    operations, so the packed result is bit-identical to the unfused chain's. A chain
    that does not match exactly (another reader, a broadcast that is not per channel,
    int8 elementwise ops, a RESHAPE before a binary pool, ...) is lowered op by op.

    Raises:
        UnsupportedOpError: an operator or option the C runtime cannot run, naming the
            operator index, type, output tensor and the option.
    """
    ctx = _Ctx(graph)
    chains = _find_chains(ctx) if fuse else {}
    absorbed = {i for chain in chains.values() for i in chain[:-1]}
    steps = []
    for op in graph.operators:
        if op.index in absorbed:
            continue
        try:
            if op.index in chains:
                steps.append(_lower_fused(ctx, [graph.operators[i] for i in chains[op.index]]))
                continue
            fn = _LOWER.get(op.op)
            if fn is None:
                raise ctx.fail(op, "this operator is not supported by the C runtime",
                               "Supported: " + ", ".join(sorted(_LOWER)))
            steps.append(_mark_inplace(ctx, fn(ctx, op)))
        except (KeyError, IndexError) as exc:
            raise ctx.fail(op, f"missing or malformed option/input ({exc!r})") from exc
    return steps


# Kernels whose output element i depends on element i of a same-shaped tensor operand
# only (and on constants or broadcast operands): running them in place is exact whatever
# order a variant visits the elements in, as long as the output IS that operand.
_ELEMENTWISE = ("bnn_clamp_f32", "bnn_leaky_relu_f32", "bnn_logistic_f32", "bnn_tanh_f32",
                "bnn_requantize_s8", "bnn_lut_s8", "bnn_leaky_relu_s8", "bnn_add_f32",
                "bnn_sub_f32", "bnn_mul_f32", "bnn_add_s8", "bnn_sub_s8", "bnn_mul_s8",
                "bnn_prelu_f32", "bnn_prelu_s8")


def _mark_inplace(ctx: _Ctx, step: Step) -> Step:
    if step.function in _ELEMENTWISE and len(step.writes) == 1:
        y = ctx.t(step.writes[0])
        step.inplace = tuple(
            a.value for a in step.args
            if a.kind == "tensor" and tuple(ctx.t(a.value).shape) == tuple(y.shape)
            and ctx.t(a.value).dtype == y.dtype)
    return step


# --------------------------------------------------------------------------------------
# Fusion of real-valued chains that end in LceQuantize (bnn_fused.h)
# --------------------------------------------------------------------------------------

_FUSED_STAGE_OPS = ("MUL", "ADD", "SUB", "RELU", "RELU6", "RELU_N1_TO_1")
_MAX_STAGES = 4  # BNN_FUSED_MAX_STAGES


def _stage_operand(ctx: _Ctx, op: Operator, x: int) -> tuple[int, np.ndarray] | None:
    """For a binary elementwise op reading the map ``x``: (position of the constant
    operand, its values as float32 [1] or [C]) when it is a float constant that
    broadcasts per channel or as a scalar onto an output of the map's own shape."""
    if len(op.inputs) != 2 or list(op.inputs).count(x) != 1:
        return None
    k = 1 - list(op.inputs).index(x)
    c = ctx.graph.tensor(op.inputs[k])
    xt, y = ctx.t(x), ctx.t(op.outputs[0])
    if c is None or not c.is_constant or c.dtype != "float32" or xt.dtype != "float32":
        return None
    if tuple(y.shape) != tuple(xt.shape) or y.dtype != "float32":
        return None
    shape = tuple(c.shape)
    if any(d != 1 for d in shape[:-1]) or len(shape) > len(xt.shape):
        return None
    values = np.asarray(c.data, dtype=np.float32).reshape(-1)
    if values.size not in (1, xt.shape[-1]):
        return None
    return k, values


def _find_chains(ctx: _Ctx) -> dict[int, list[int]]:
    """Last op index -> op indices of a fusable chain (see :func:`lower`)."""
    g = ctx.graph
    consumers = g.consumers()
    producers = g.producers()
    outputs = set(g.outputs)

    def private(t: int, reader: int) -> bool:
        """``t`` is read by ``reader`` only and is not a model output/input."""
        return (consumers.get(t, []) == [reader] and t not in outputs
                and t not in g.inputs and not ctx.t(t).is_constant)

    def producer(t: int) -> Operator | None:
        i = producers.get(t)
        return None if i is None else g.operators[i]

    chains: dict[int, list[int]] = {}
    taken: set[int] = set()
    for q in g.operators:
        if q.op != "LceQuantize" or q.index in taken:
            continue
        x = ctx.t(q.inputs[0])
        if x.dtype not in ("float32", "int8") or len(q.outputs) != 1:
            continue
        chain = [q.index]
        tail = consumers.get(q.outputs[0], [])
        has_bpool = False
        if len(tail) == 1 and private(q.outputs[0], tail[0]) \
                and g.operators[tail[0]].op == "LceBMaxPool2d":
            chain.append(tail[0])
            has_bpool = True
        # Walk back from the quantize's input.
        t, reader = x.index, q.index
        op = producer(t)
        if op is not None and op.op == "RESHAPE" and not has_bpool and private(t, reader) \
                and not ctx.t(op.inputs[0]).is_constant \
                and ctx.t(op.inputs[0]).dtype == x.dtype:
            chain.insert(0, op.index)
            t, reader = op.inputs[0], op.index
            op = producer(t)
        if op is not None and op.op == "MAX_POOL_2D" and private(t, reader) \
                and op.options.get("fused_activation_function", "NONE") in (
                    "NONE", "RELU", "RELU6", "RELU_N1_TO_1") \
                and len(ctx.t(op.inputs[0]).shape) == 4:
            chain.insert(0, op.index)
            t, reader = op.inputs[0], op.index
            op = producer(t)
        n_stages = 0
        while (op is not None and op.op in _FUSED_STAGE_OPS and private(t, reader)
               and n_stages < _MAX_STAGES and ctx.t(t).dtype == "float32"
               and op.options.get("fused_activation_function", "NONE") in (
                   "NONE", "RELU", "RELU6", "RELU_N1_TO_1")):
            if op.op in ("MUL", "ADD", "SUB"):
                operand = next((i for i in op.inputs if not ctx.t(i).is_constant), None)
                if operand is None or _stage_operand(ctx, op, operand) is None:
                    break
            else:
                operand = op.inputs[0]
                if ctx.t(operand).shape != ctx.t(t).shape:
                    break
            chain.insert(0, op.index)
            t, reader = operand, op.index
            op = producer(t)
            n_stages += 1
        if op is not None and private(t, reader) and (
                (op.op == "CONV_2D" and ctx.t(op.inputs[0]).dtype in ("float32", "int8"))
                or (op.op == "LceBconv2d" and ctx.t(t).dtype in ("float32", "int8"))) \
                and len(op.outputs) == 1:
            chain.insert(0, op.index)
        if all(g.operators[i].op in ("RESHAPE", "LceQuantize") for i in chain):
            continue  # nothing to fuse: a view and a quantize
        if len(ctx.t(t).shape) != 4 and any(
                g.operators[i].op != "LceQuantize" for i in chain):
            continue  # only a bare quantize works on other ranks, and it is not fused
        chains[chain[-1]] = chain
        taken.update(chain)
    return chains


def _lower_fused(ctx: _Ctx, chain: list[Operator]) -> Step:
    """One bnn_conv2d_pool_quantize step for ``chain`` (see :func:`_find_chains`)."""
    ops = list(chain)
    last = ops[-1]
    params: dict[str, Any] = {}
    arrays: list[CArray] = []
    aux: list = []
    notes = []
    src_op = ops[0] if ops[0].op in ("CONV_2D", "LceBconv2d") else None
    if src_op is not None:
        ops.pop(0)
        sub = _LOWER[src_op.op](ctx, src_op)
        arrays += sub.arrays
        aux_name = f"op{src_op.index}_params"
        aux.append((sub.params_type, aux_name, sub.params))
        map_t = ctx.t(src_op.outputs[0])
        in_arg = sub.args[0]
        if sub.function == "bnn_conv2d_binw_f32":
            params.update(src=_Raw("BNN_FUSED_CONV_BINW_F32"), conv_f32=_Raw("&" + aux_name),
                          filter=_Raw(sub.args[1].value), scale=_Raw(sub.args[2].value),
                          bias=sub.args[3].value)
        elif sub.function == "bnn_conv2d_f32":
            params.update(src=_Raw("BNN_FUSED_CONV_F32"), conv_f32=_Raw("&" + aux_name),
                          filter=_Raw(sub.args[1].value), bias=sub.args[2].value)
        elif sub.function == "bnn_conv2d_s8":
            params.update(src=_Raw("BNN_FUSED_CONV_S8"), conv_s8=_Raw("&" + aux_name),
                          filter=_Raw(sub.args[1].value), bias=sub.args[2].value)
        elif sub.function == "bnn_bconv2d":
            if sub.params["out_type"] not in ("BNN_OUT_F32", "BNN_OUT_S8"):
                raise ctx.fail(src_op, "a bit-packed LceBconv2d output cannot be fused")
            params.update(src=_Raw("BNN_FUSED_BCONV"), bconv=_Raw("&" + aux_name),
                          filter=_Raw(sub.args[1].value))
        else:
            raise AssertionError(sub.function)
        notes.append(f"{src_op.index} {src_op.op} ({sub.function})")
    else:
        map_t = ctx.t(ops[0].inputs[0])
        in_arg = _tin(ctx, map_t.index)
        params["src"] = _Raw("BNN_FUSED_SRC_S8" if map_t.dtype == "int8" else "BNN_FUSED_SRC_F32")
    if len(map_t.shape) == 4:
        n, h, w, c = map_t.shape
    else:  # a bare LceQuantize + LceBMaxPool2d on a 4-D map is the only other chain
        raise ctx.fail(ops[0], f"fused chains need a 4-D map, got {map_t.shape}")
    params.update(batch=n, map_h=h, map_w=w, channels=c)
    stages = []
    cur = map_t.index
    quant_s8 = map_t.dtype == "int8"
    for op in list(ops):
        if op.op not in _FUSED_STAGE_OPS:
            break
        ops.pop(0)
        act = _check_act(ctx, op) if op.op in ("MUL", "ADD", "SUB") else op.op
        lo, hi = _act_f32(act)
        if op.op in ("MUL", "ADD", "SUB"):
            k, values = _stage_operand(ctx, op, cur)
            kind = {"MUL": "BNN_FUSED_MUL", "ADD": "BNN_FUSED_ADD"}.get(
                op.op, "BNN_FUSED_SUB_XC" if k == 1 else "BNN_FUSED_SUB_CX")
            arr = CArray(_name(op, "const"), "float", values, ctx.t(op.inputs[k]).name)
            arrays.append(arr)
            stages.append({"op": _Raw(kind), "c": _Raw(arr.name),
                           "per_channel": int(values.size > 1), "act_min": lo, "act_max": hi})
        else:
            stages.append({"op": _Raw("BNN_FUSED_CLAMP"), "c": _NULL, "per_channel": 0,
                           "act_min": lo, "act_max": hi})
        notes.append(f"{op.index} {op.op}")
        cur = op.outputs[0]
    params["n_stages"] = len(stages)
    if stages:
        params["stages"] = stages
    if ops and ops[0].op == "MAX_POOL_2D":
        op = ops.pop(0)
        sub = _lower_pool(ctx, op, "max")
        params.update(has_pool=1, pool=sub.params["win"],
                      pool_act_min=float(sub.params["act_min"]),
                      pool_act_max=float(sub.params["act_max"]))
        notes.append(f"{op.index} MAX_POOL_2D")
        cur = op.outputs[0]
    pack = ctx.t(cur).shape[-1]
    if ops and ops[0].op == "RESHAPE":
        op = ops.pop(0)
        cur = op.outputs[0]
        pack = ctx.t(cur).shape[-1]
        notes.append(f"{op.index} RESHAPE")
    q = ops.pop(0)
    assert q.op == "LceQuantize", q.op
    zp = ctx.quant(q, q.inputs[0], "input")[1] if quant_s8 else 0
    params.update(quant_s8=int(quant_s8), zero_point=zp)
    notes.append(f"{q.index} LceQuantize")
    out = q.outputs[0]
    if ops:
        op = ops.pop(0)
        assert op.op == "LceBMaxPool2d", op.op
        sub = _lower_lce_bmaxpool2d(ctx, op)
        params.update(has_bpool=1, bpool=sub.params["win"])
        notes.append(f"{op.index} LceBMaxPool2d")
        out = op.outputs[0]
    assert not ops, ops
    params["pack_channels"] = int(pack)
    y = ctx.t(out)
    if not y.shape or _words(pack) != y.shape[-1]:
        raise ctx.fail(q, f"packed output {y.shape} does not hold rows of {pack} bits")
    step = Step(op=last.index, function="bnn_conv2d_pool_quantize",
                params_type="bnn_fused_params_t", params=params,
                args=[in_arg, _Arg("out", out, "uint32_t")], arrays=arrays,
                reads=(in_arg.value,), writes=(out,), aux_params=aux,
                fused_ops=tuple(o.index for o in chain),
                note="fused " + " + ".join(notes) + ": no real-valued map in memory")
    return step


# --------------------------------------------------------------------------------------
# Emission
# --------------------------------------------------------------------------------------

def _template(name: str) -> string.Template:
    return string.Template((_TEMPLATES / name).read_text(encoding="utf-8"))


def _header(graph: Graph) -> str:
    import bnn_lq

    source = os.path.basename(graph.source) if graph.source else "<bytes>"
    sha = graph.sha256[:12] if graph.sha256 else "unknown"
    return f"/* Generated by bnn-lq {bnn_lq.__version__} from {source} (sha256 {sha}) */"


def _c_comment(text: str) -> str:
    return text.replace("*/", "* /").replace("/*", "/ *")


class _Emitter:
    def __init__(self, graph: Graph, plan: plan_mod.Plan):
        self.graph, self.plan = graph, plan

    def ptr(self, tensor: int, ctype: str, const: bool) -> str:
        q = "const " if const else ""
        if self.plan.is_input(tensor):
            base = "in"
        else:
            base = f"bnn_arena + {self.plan.offset(tensor)}"
        return f"({q}{ctype} *)({base})"

    def arg(self, a: _Arg) -> str:
        if a.kind == "tensor":
            return self.ptr(a.value, a.ctype, True)
        if a.kind == "out":
            return self.ptr(a.value, a.ctype, False)
        if a.kind in ("const", "raw"):
            return str(a.value)
        if a.kind == "null":
            return "NULL"
        raise AssertionError(a.kind)

    def step_code(self, step: Step) -> str:
        op = self.graph.operators[step.op]
        names = ", ".join(self.graph.tensors[t].name for t in op.outputs)
        lines = [f"    /* op {op.index} {op.op} -> {_c_comment(names)}"
                 + (f": {_c_comment(step.note)}" if step.note else "") + " */"]
        if step.function is None:
            return lines[0] + "\n"
        args = []
        for a in step.args:
            if a.kind == "list":
                items = ", ".join(self.arg(x) if x.kind != "tensor"
                                  else self.ptr(x.value, "void", True) for x in a.value)
                lines.append(f"    {{\n        const void *const op{op.index}_inputs"
                             f"[{len(a.value)}] = {{{items}}};")
                args.append(f"op{op.index}_inputs")
            elif a.kind == "raw" and a.value == "scratch":
                alloc = self.plan.scratch(op.index)
                args.append(f"(void *)(bnn_arena + {alloc.offset})" if alloc else "NULL")
            else:
                args.append(self.arg(a))
        indent = "        " if any(a.kind == "list" for a in step.args) else "    "
        if step.scratch_check:
            alloc = self.plan.scratch(op.index)
            lines.append(f"{indent}if ({step.scratch_check}(&op{op.index}_params) > "
                         f"{alloc.nbytes if alloc else 0}u) {{\n{indent}    return "
                         f"bnn_model_fail({op.index}u, BNN_ERR_ARENA);\n{indent}}}")
        params = [f"&op{op.index}_params"] if step.params_type else []
        call = f"{step.function}({', '.join(params + args)})"
        if step.fused_ops:
            label = "+".join(self.graph.operators[i].op for i in step.fused_ops)
        else:
            label = op.op
        label = re.sub(r"[^A-Za-z0-9_+.-]", "_", label)  # a safe C string literal
        lines.append(f"{indent}BNN_OP_BEGIN({op.index}u, \"{label}\");")
        lines.append(f"{indent}st = {call};")
        lines.append(f"{indent}BNN_OP_END({op.index}u);")
        lines.append(f"{indent}if (st != BNN_OK) {{\n{indent}    return "
                     f"bnn_model_fail({op.index}u, st);\n{indent}}}")
        if indent != "    ":
            lines.append("    }")
        return "\n".join(lines) + "\n"

    def params_code(self, step: Step) -> str:
        if not step.params_type:
            return ""
        text = ""
        for ctype, name, values in step.aux_params:
            fields = ",\n".join(f"    .{k} = {_c_value(v, '    ')}" for k, v in values.items())
            text += f"static const {ctype} {name} = {{\n{fields}\n}};\n\n"
        fields = ",\n".join(f"    .{k} = {_c_value(v, '    ')}" for k, v in step.params.items())
        return text + f"static const {step.params_type} op{step.op}_params = {{\n{fields}\n}};\n"


def _quant_macros(prefix: str, t: Tensor) -> str:
    if t.dtype != "int8":
        return ""
    q = t.quantization
    scale, zp = float(q.scale.reshape(-1)[0]), int(q.zero_point.reshape(-1)[0])
    return (f"#define BNN_MODEL_{prefix}_SCALE {format_float(scale)}\n"
            f"#define BNN_MODEL_{prefix}_ZERO_POINT {zp}\n")


def _render_bytes(data: bytes, per_line: int = 24, indent: str = "    ") -> str:
    items = [str(b) for b in data]
    return ",\n".join(indent + ",".join(items[i:i + per_line])
                      for i in range(0, len(items), per_line))


def _testset_files(graph: Graph, header: str, testset) -> dict[str, str]:
    images, labels, oracle = testset
    images = np.asarray(images)
    labels = np.asarray(labels).reshape(-1)
    oracle = np.asarray(oracle).reshape(-1)
    x = graph.tensors[graph.inputs[0]]
    per_image = tuple(x.shape[1:]) if len(x.shape) > 1 and x.shape[0] == 1 else tuple(x.shape)
    if images.ndim < 1 or tuple(images.shape[1:]) != per_image:
        raise ValueError(f"testset images have shape {images.shape}; the model input "
                         f"{x.name!r} is {x.shape}, so expected (N,) + {per_image}")
    if images.dtype != np.dtype(x.dtype):
        raise ValueError(f"testset images are {images.dtype}, the model input is {x.dtype}; "
                         f"quantize the images to the model's input type first")
    n = images.shape[0]
    if n == 0 or labels.shape != (n,) or oracle.shape != (n,):
        raise ValueError(f"testset: {n} images, {labels.shape[0]} labels and "
                         f"{oracle.shape[0]} oracle predictions; expected N >= 1 of each")
    for what, arr in (("labels", labels), ("oracle predictions", oracle)):
        if arr.size and (arr.min() < 0 or arr.max() > 255 or
                         not np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"testset {what} must be integers in [0, 255]")
    raw = np.ascontiguousarray(images.astype(images.dtype.newbyteorder("<")))
    rows = []
    for i in range(n):
        rows.append("    {\n" + _render_bytes(raw[i].tobytes(), indent="        ") + "\n    }")
    values = {"header": header, "count": n,
              "oracle_desc": "argmax of LCE's interpreter on the same bytes",
              "images": ",\n".join(rows), "labels": _render_bytes(labels.astype(np.uint8).tobytes()),
              "oracle": _render_bytes(oracle.astype(np.uint8).tobytes())}
    return {"testset.h": _template("testset.h.tmpl").substitute(values),
            "testset.c": _template("testset.c.tmpl").substitute(values)}


def emit(model: Graph | bytes | str | os.PathLike, *, name: str = "model", testset=None,
         plan: plan_mod.Plan | None = None, fuse: bool = True) -> dict[str, str]:
    """Generates the C sources of ``model``.

    Args:
        model: A :class:`Graph`, or the .tflite bytes or path (read with
            ``bnn_lq.convert.flatbuffer.read``).
        name: ``BNN_MODEL_NAME`` (a C string, no quotes or backslashes).
        testset: Optional ``(images, labels, oracle_predictions)``: images of shape
            ``(N,) + input shape without the batch dim`` already in the model's input dtype
            (float32 or int8), labels and predictions integers in [0, 255].
        plan: A plan of this graph (``plan.plan(graph)``); made here when None. It must
            have been made from the same lowering (``fuse``).
        fuse: Fuse real-valued chains that end in LceQuantize (see :func:`lower`).

    Returns:
        Relative path -> file text: ``model.h``, ``model.c`` and, with a test set,
        ``testset.h`` and ``testset.c``. Same input, byte-identical output.

    Raises:
        UnsupportedOpError: an op or option the C runtime does not support.
        ValueError: a malformed test set or name.
    """
    if isinstance(model, Graph):
        graph = model
    else:
        from bnn_lq.convert.flatbuffer import read

        graph = read(model)
        if plan is not None and plan.graph.sha256 == graph.sha256:
            graph = plan.graph
    if any(c in name for c in '"\\\n') or not name:
        raise ValueError(f"name={name!r}: expected a non-empty name without quotes, "
                         f"backslashes or newlines")
    steps = lower(graph, fuse=fuse)
    if plan is None:
        plan = plan_mod.plan(graph, steps=steps)
    elif plan.graph is not graph:
        raise ValueError("plan was made for another graph; pass plan=plan.plan(graph)")
    elif plan.schedule != tuple(s.op for s in steps):
        raise ValueError(f"plan was made from another lowering (schedule {plan.schedule}, "
                         f"steps {tuple(s.op for s in steps)}); pass "
                         f"plan=plan.plan(graph, steps=codegen.lower(graph, fuse={fuse}))")
    em = _Emitter(graph, plan)
    x, y = graph.tensors[plan.input_tensor], graph.tensors[plan.output_tensor]
    for t, role in ((x, "input"), (y, "output")):
        if t.dtype not in ("float32", "int8"):
            raise UnsupportedOpError(f"{graph.source}: the model {role} {t.name!r} is {t.dtype}; "
                                     f"bnn_model_invoke supports float32 and int8")
    header = _header(graph)
    arrays = "".join(a.render() + "\n" for s in steps for a in s.arrays)
    params = "".join(em.params_code(s) + "\n" for s in steps if s.params_type)
    body = "".join(em.step_code(s) for s in steps)
    output_ptr = "in" if plan.is_input(y.index) else f"bnn_arena + {plan.offset(y.index)}"
    item = np.dtype(x.dtype).itemsize
    summary_lines = [f" * Plan: {line}" if i == 0 else f" * {line}"
                     for i, line in enumerate(plan.summary().splitlines())]
    values = {
        "header": header, "name": name, "summary": _c_comment("\n".join(summary_lines)),
        "input_bytes": x.nbytes, "output_bytes": y.nbytes,
        "num_classes": int(y.shape[-1]) if y.shape else 1,
        "input_is_int8": int(x.dtype == "int8"), "output_is_int8": int(y.dtype == "int8"),
        "quant_macros": _quant_macros("INPUT", x) + _quant_macros("OUTPUT", y),
        "arena_bytes": plan.arena_bytes, "naive_bytes": plan.naive_bytes,
        "weight_bytes": sum(s.weight_bytes for s in steps), "num_ops": len(steps),
        "input_desc": f"{x.dtype} {list(x.shape)} ('{_c_comment(x.name)}')",
        "output_desc": f"{y.dtype} {list(y.shape)} ('{_c_comment(y.name)}')",
        "arena_array_bytes": max(plan.arena_bytes, 8), "arrays": arrays, "params": params,
        "body": body, "output_ptr": output_ptr, "input_align": item,
    }
    files = {"model.h": _template("model.h.tmpl").substitute(values),
             "model.c": _template("model.c.tmpl").substitute(values)}
    if testset is not None:
        files.update(_testset_files(graph, header, testset))
    return files


def write(files: dict[str, str], out_dir: str | os.PathLike, *, force: bool = False) -> list[str]:
    """Writes ``emit``'s files under ``out_dir`` (created if needed).

    Returns:
        The paths written.

    Raises:
        DeployError: a file exists and differs, and ``force`` is False.
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in sorted(files.items()):
        path = out / rel
        if path.exists() and not force and path.read_text(encoding="utf-8") != text:
            raise DeployError(f"{path} exists and differs from the generated file; pass "
                              f"force=True (--force) to overwrite it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(str(path))
    return written
