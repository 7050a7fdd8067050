"""The table from operator name to kernel: adapters from a graph ``Operator`` to the pure
NumPy functions of the op modules.

Every adapter has the signature ``kernel(ctx, op, inputs) -> list[np.ndarray]`` where
``inputs`` holds one array (or None for an absent optional input) per operator input, with
the batch as dimension 0. ``ctx`` gives access to the graph's tensors and the interpreter's
settings. ``check(ctx, op)`` raises ``UnsupportedOpError`` for anything a kernel cannot run,
before the first inference.
"""

from __future__ import annotations

import numpy as np

from bnn_lq.errors import UnsupportedOpError
from bnn_lq.interpreter import (
    activations,
    arithmetic,
    conv2d,
    fully_connected,
    lce_bconv2d,
    lce_bmaxpool2d,
    lce_dequantize,
    lce_quantize,
    mean,
    pooling,
    quantize,
    shape_ops,
    softmax,
)

__all__ = ["KERNELS", "check", "describe"]

_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def describe(ctx, op) -> str:
    names = [ctx.graph.tensors[t].name for t in op.outputs if t >= 0]
    return f"op {op.index} {op.op!r}" + (f" (output tensor {names[0]!r})" if names else "")


def _unsupported(ctx, op, what: str) -> UnsupportedOpError:
    return UnsupportedOpError(f"{describe(ctx, op)}: {what} is not supported by the NumPy "
                              f"interpreter (model {ctx.graph.source}).")


def _t(ctx, index):
    return ctx.graph.tensors[index]


def _qparams(tensor) -> tuple[float, int] | None:
    q = tensor.quantization
    if q is None or tensor.dtype not in ("int8", "uint8", "int16"):
        return None
    return float(q.scale.ravel()[0]), int(q.zero_point.ravel()[0])


def _act(ctx, op) -> str:
    act = op.options.get("fused_activation_function", "NONE") or "NONE"
    if act not in _ACTIVATIONS:
        raise _unsupported(ctx, op, f"fused_activation_function={act}")
    return act


def _io_quant(ctx, op, *, inputs=(0,)) -> dict | None:
    out = _t(ctx, op.outputs[0])
    if out.dtype == "float32":
        return None
    if out.dtype != "int8":
        raise _unsupported(ctx, op, f"output dtype {out.dtype}")
    s_out, z_out = _qparams(out)
    quant = {"output_scale": s_out, "output_zero_point": z_out}
    qs = [_qparams(_t(ctx, op.inputs[i])) for i in inputs]
    if any(q is None for q in qs):
        raise _unsupported(ctx, op, "an int8 output with a non-int8 input")
    quant["input_scale"], quant["input_zero_point"] = qs[0]
    quant["input_scales"] = [q[0] for q in qs]
    quant["input_zero_points"] = [q[1] for q in qs]
    return quant


# --- LCE ops -------------------------------------------------------------------------------

def _lce_quantize(ctx, op, inputs):
    x = inputs[0]
    zp = 0
    if x.dtype == np.int8:
        zp = _qparams(_t(ctx, op.inputs[0]))[1]
    return [lce_quantize.lce_quantize(x, zero_point=zp)]


def _lce_dequantize(ctx, op, inputs):
    out = _t(ctx, op.outputs[0])
    scale = zp = None
    if out.dtype == "int8":
        scale, zp = _qparams(out)
    return [lce_dequantize.lce_dequantize(inputs[0], channels=out.shape[-1], dtype=out.dtype,
                                          scale=scale, zero_point=zp)]


def _lce_bconv2d(ctx, op, inputs):
    o = op.options
    out = _t(ctx, op.outputs[0])
    scale = zp = None
    if out.dtype == "int8":
        scale, zp = _qparams(out)
    x, f, pam, pab, thr = (list(inputs) + [None] * 5)[:5]
    return [lce_bconv2d.lce_bconv2d(
        x, f, channels_in=o["channels_in"], stride=(o["stride_height"], o["stride_width"]),
        dilation=(o["dilation_height_factor"], o["dilation_width_factor"]),
        padding=o["padding"], pad_values=o["pad_values"],
        activation=o.get("fused_activation_function") or "NONE",
        post_activation_multiplier=pam, post_activation_bias=pab, output_threshold=thr,
        out_dtype=out.dtype, out_scale=scale, out_zero_point=zp,
        kernel="reference" if ctx.use_reference_bconv else "default")]


def _check_lce_bconv2d(ctx, op):
    out = _t(ctx, op.outputs[0])
    if out.dtype not in ("float32", "int8", "int32"):
        raise _unsupported(ctx, op, f"output dtype {out.dtype}")
    f = _t(ctx, op.inputs[1])
    if not f.is_constant:
        raise _unsupported(ctx, op, "a non-constant filter")
    try:
        lce_bconv2d.bconv2d_groups(op.options["channels_in"], f.shape[3])
    except ValueError as exc:
        raise _unsupported(ctx, op, f"the filter shape {f.shape} ({exc})") from None


def _lce_bmaxpool2d(ctx, op, inputs):
    o = op.options
    return [lce_bmaxpool2d.lce_bmaxpool2d(
        inputs[0], filter_size=(o["filter_height"], o["filter_width"]),
        stride=(o["stride_height"], o["stride_width"]), padding=o["padding"])]


# --- builtins ------------------------------------------------------------------------------

def _weight_quant(ctx, op, quant, weight_index=1):
    if quant is None:
        return None
    w = _t(ctx, op.inputs[weight_index])
    quant = dict(quant)
    quant["weight_scales"] = np.asarray(w.quantization.scale, dtype=np.float32)
    return quant


def _conv_2d(ctx, op, inputs):
    o = op.options
    quant = _weight_quant(ctx, op, _io_quant(ctx, op))
    x, w = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    groups = x.shape[3] // w.shape[3]
    return [conv2d.conv2d(x, w, bias, stride=(o["stride_h"], o["stride_w"]),
                          dilation=(o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)),
                          padding=o["padding"], activation=_act(ctx, op), quant=quant,
                          groups=groups)]


def _depthwise_conv_2d(ctx, op, inputs):
    o = op.options
    quant = _weight_quant(ctx, op, _io_quant(ctx, op))
    bias = inputs[2] if len(inputs) > 2 else None
    return [conv2d.depthwise_conv2d(
        inputs[0], inputs[1], bias, stride=(o["stride_h"], o["stride_w"]),
        dilation=(o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)),
        padding=o["padding"], activation=_act(ctx, op), quant=quant)]


def _fully_connected(ctx, op, inputs):
    o = op.options
    quant = _weight_quant(ctx, op, _io_quant(ctx, op))
    bias = inputs[2] if len(inputs) > 2 else None
    y = fully_connected.fully_connected(inputs[0], inputs[1], bias, activation=_act(ctx, op),
                                        keep_num_dims=bool(o.get("keep_num_dims", False)),
                                        quant=quant)
    return [y]


def _check_fully_connected(ctx, op):
    fmt = op.options.get("weights_format", "DEFAULT")
    if fmt not in ("DEFAULT", 0):
        raise _unsupported(ctx, op, f"weights_format={fmt}")
    if _t(ctx, op.inputs[1]).dtype not in ("float32", "int8"):
        raise _unsupported(ctx, op, f"weights dtype {_t(ctx, op.inputs[1]).dtype}")


def _pool(fn):
    def kernel(ctx, op, inputs):
        o = op.options
        return [fn(inputs[0], filter_size=(o["filter_height"], o["filter_width"]),
                   stride=(o["stride_h"], o["stride_w"]), padding=o["padding"],
                   activation=_act(ctx, op), quant=_io_quant(ctx, op))]
    return kernel


def _mean(ctx, op, inputs):
    axes = tuple(int(a) for a in np.asarray(inputs[1]).ravel())
    if 0 in {a % inputs[0].ndim for a in axes}:
        raise _unsupported(ctx, op, "a mean over the batch axis")
    return [mean.mean(inputs[0], axes=axes, keep_dims=bool(op.options.get("keep_dims", False)),
                      quant=_io_quant(ctx, op))]


def _binary(fn):
    def kernel(ctx, op, inputs):
        a, b = inputs[0], inputs[1]
        return [fn(a, b, activation=_act(ctx, op), quant=_io_quant(ctx, op, inputs=(0, 1)))]
    return kernel


def _relu(lo, hi):
    def kernel(ctx, op, inputs):
        return [activations.relu(inputs[0], min_value=lo, max_value=hi,
                                 quant=_io_quant(ctx, op))]
    return kernel


def _leaky_relu(ctx, op, inputs):
    return [activations.leaky_relu(inputs[0], alpha=float(op.options.get("alpha", 0.2)),
                                   quant=_io_quant(ctx, op))]


def _prelu(ctx, op, inputs):
    quant = _io_quant(ctx, op)
    if quant is not None:
        quant["alpha_scale"], quant["alpha_zero_point"] = _qparams(_t(ctx, op.inputs[1]))
    return [activations.prelu(inputs[0], inputs[1], quant=quant)]


def _unary(fn):
    def kernel(ctx, op, inputs):
        return [fn(inputs[0], quant=_io_quant(ctx, op))]
    return kernel


def _softmax(ctx, op, inputs):
    return [softmax.softmax(inputs[0], beta=float(op.options.get("beta", 1.0)),
                            quant=_io_quant(ctx, op))]


def _reshape(ctx, op, inputs):
    out = _t(ctx, op.outputs[0])
    x = inputs[0]
    shape = tuple(out.shape)
    if shape and shape[0] == 1:
        shape = (x.shape[0],) + shape[1:]
    elif shape and x.shape[0] != 1:
        raise _unsupported(ctx, op, f"a reshape to {out.shape} that mixes the batch axis")
    return [x.reshape(shape)]


def _pad(ctx, op, inputs):
    x, paddings = inputs[0], np.asarray(inputs[1])
    if paddings[0].any():
        raise _unsupported(ctx, op, "padding the batch axis")
    value = 0
    out = _t(ctx, op.outputs[0])
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = np.asarray(inputs[2]).ravel()[0]
    elif out.dtype == "int8":
        value = _qparams(out)[1]
    return [shape_ops.pad(x, paddings, value=value)]


def _concatenation(ctx, op, inputs):
    axis = int(op.options.get("axis", -1))
    if axis % inputs[0].ndim == 0:
        raise _unsupported(ctx, op, "concatenation along the batch axis")
    return [shape_ops.concatenation(list(inputs), axis=axis, activation=_act(ctx, op),
                                    quant=_io_quant(ctx, op,
                                                    inputs=tuple(range(len(inputs)))))]


def _quantize(ctx, op, inputs):
    x = inputs[0]
    out = _t(ctx, op.outputs[0])
    if out.dtype != "int8":
        raise _unsupported(ctx, op, f"QUANTIZE to {out.dtype}")
    s, z = _qparams(out)
    if x.dtype == np.float32:
        return [quantize.quantize(x, scale=s, zero_point=z)]
    s_in, z_in = _qparams(_t(ctx, op.inputs[0]))
    return [quantize.requantize(x, input_scale=s_in, input_zero_point=z_in, scale=s,
                                zero_point=z)]


def _dequantize(ctx, op, inputs):
    x = inputs[0]
    src = _t(ctx, op.inputs[0])
    if src.dtype == "float16":
        return [x.astype(np.float32)]
    s, z = _qparams(src)
    return [quantize.dequantize(x, scale=s, zero_point=z)]


KERNELS = {
    "LceQuantize": _lce_quantize,
    "LceDequantize": _lce_dequantize,
    "LceBconv2d": _lce_bconv2d,
    "LceBMaxPool2d": _lce_bmaxpool2d,
    "CONV_2D": _conv_2d,
    "DEPTHWISE_CONV_2D": _depthwise_conv_2d,
    "FULLY_CONNECTED": _fully_connected,
    "MAX_POOL_2D": _pool(pooling.max_pool2d),
    "AVERAGE_POOL_2D": _pool(pooling.average_pool2d),
    "MEAN": _mean,
    "ADD": _binary(arithmetic.add),
    "SUB": _binary(arithmetic.sub),
    "MUL": _binary(arithmetic.mul),
    "RELU": _relu(0.0, np.inf),
    "RELU6": _relu(0.0, 6.0),
    "RELU_N1_TO_1": _relu(-1.0, 1.0),
    "LEAKY_RELU": _leaky_relu,
    "PRELU": _prelu,
    "LOGISTIC": _unary(activations.logistic),
    "TANH": _unary(activations.tanh),
    "HARD_SWISH": _unary(activations.hard_swish),
    "SOFTMAX": _softmax,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "PAD": _pad,
    "PADV2": _pad,
    "CONCATENATION": _concatenation,
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _dequantize,
}

_CHECKS = {
    "LceBconv2d": _check_lce_bconv2d,
    "FULLY_CONNECTED": _check_fully_connected,
}

_DTYPES = {"float32", "int8", "int32", "bool"}


def check(ctx, op) -> None:
    """Raises ``UnsupportedOpError`` if ``op`` cannot run here (before any inference)."""
    if op.op not in KERNELS:
        raise UnsupportedOpError(
            f"{describe(ctx, op)}: operator type {op.op!r} is not implemented by the NumPy "
            f"interpreter (model {ctx.graph.source}). Supported: {', '.join(sorted(KERNELS))}.")
    if "fused_activation_function" in op.options and not op.op.startswith("Lce"):
        _act(ctx, op)
    for t in list(op.inputs) + list(op.outputs):
        if t >= 0 and _t(ctx, t).dtype not in _DTYPES:
            raise _unsupported(ctx, op, f"tensor {_t(ctx, t).name!r} of dtype "
                                        f"{_t(ctx, t).dtype}")
        if t >= 0 and _t(ctx, t).dtype == "int8" and op.op not in ("LceQuantize",) \
                and _t(ctx, t).quantization is None:
            raise _unsupported(ctx, op, f"int8 tensor {_t(ctx, t).name!r} without quantization")
    for t in op.outputs:
        q = _t(ctx, t).quantization
        if q is not None and _t(ctx, t).dtype == "int8" and not q.is_per_tensor:
            raise _unsupported(ctx, op, f"per-channel quantized output {_t(ctx, t).name!r}")
    extra = _CHECKS.get(op.op)
    if extra is not None:
        extra(ctx, op)
