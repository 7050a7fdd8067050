"""Read a ``.tflite`` flatbuffer into the typed graph of :mod:`bnn_lq.convert.graph`.

This is the one flatbuffer reader of bnn-lq: inspection, the NumPy interpreter
and code generation all call :func:`read`. It decodes the model with the
generated schema bindings of the ``tflite`` package (pure Python, depends only on
``flatbuffers``) and LCE's FlexBuffer custom options with ``flatbuffers.flexbuffers``.
It imports neither TensorFlow nor larq_compute_engine, so ``bnn_lq.interpreter``
can use it on any machine.

The generated bindings trust every offset they read, so this module validates
before it trusts: the file identifier ``TFL3`` and schema version 3, every vector
length against the file size, every tensor, buffer and opcode index against its
table, every constant's byte count against its shape and dtype, rank and
dimensions, quantization parameter counts, enum values, and the option ranges a
runtime divides by (strides, dilations, filter sizes). A global work budget
(proportional to the file size) stops corrupt offsets that make many tables share
one vector. Anything wrong raises :class:`bnn_lq.errors.ModelFormatError` naming
the file and the problem; low-level decoding errors are caught in one place and
rewrapped.

Only the first subgraph is read (LCE writes one). Constant data are read-only
NumPy views of the model bytes (copied only when the buffer is unaligned).

Example:
    >>> from bnn_lq.convert.flatbuffer import read
    >>> read(b"")
    Traceback (most recent call last):
    ...
    bnn_lq.errors.ModelFormatError: <bytes>: the file is empty; expected a TFLite flatbuffer (.tflite)
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import types
from typing import Any

import flatbuffers
import numpy as np
from flatbuffers import flexbuffers

import tflite
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.BuiltinOptions2 import BuiltinOptions2
from tflite.FullyConnectedOptionsWeightsFormat import FullyConnectedOptionsWeightsFormat
from tflite.Model import Model
from tflite.Padding import Padding
from tflite.TensorType import TensorType

from bnn_lq.convert.graph import Graph, Operator, Quantization, Tensor
from bnn_lq.errors import ModelFormatError

__all__ = ["FILE_IDENTIFIER", "LCE_OPS", "MAX_RANK", "describe_op", "read"]

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3
MAX_RANK = 8  # TFLite kernels support rank <= 6; anything above 8 is corruption.
_MAX_BYTES = 2**31 - 1  # flatbuffers use 32-bit offsets

# LCE custom ops and the FlexBuffer keys each must carry (spec §2).
LCE_OPS: dict[str, tuple[str, ...]] = {
    "LceQuantize": (),
    "LceDequantize": (),
    "LceBconv2d": (
        "channels_in", "dilation_height_factor", "dilation_width_factor",
        "fused_activation_function", "pad_values", "padding", "stride_height", "stride_width",
    ),
    "LceBMaxPool2d": ("filter_height", "filter_width", "padding", "stride_height", "stride_width"),
}


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


_OPCODE_NAMES = _enum_names(BuiltinOperator)
_OPTIONS_NAMES = _enum_names(BuiltinOptions)
_OPTIONS2_NAMES = _enum_names(BuiltinOptions2)
_TENSOR_TYPES = _enum_names(TensorType)
_PADDING = _enum_names(Padding)
_ACTIVATION = _enum_names(ActivationFunctionType)

# TFLite tensor type -> NumPy dtype name (graph.py's convention). Other types
# (STRING, RESOURCE, VARIANT, INT4, ...) have no fixed-size NumPy layout here.
_DTYPES = {
    "FLOAT32": "float32", "FLOAT16": "float16", "FLOAT64": "float64", "INT8": "int8",
    "UINT8": "uint8", "INT16": "int16", "UINT16": "uint16", "INT32": "int32",
    "UINT32": "uint32", "INT64": "int64", "UINT64": "uint64", "BOOL": "bool",
    "COMPLEX64": "complex64", "COMPLEX128": "complex128",
}

# Option fields whose integers are enum values, decoded to names.
_ENUM_FIELDS: dict[str, dict[int, str]] = {
    "padding": _PADDING,
    "fused_activation_function": _ACTIVATION,
    "weights_format": _enum_names(FullyConnectedOptionsWeightsFormat),
    "quantized_bias_type": _TENSOR_TYPES,
    "in_data_type": _TENSOR_TYPES,
    "out_data_type": _TENSOR_TYPES,
    "output_type": _TENSOR_TYPES,
    "idx_out_type": _TENSOR_TYPES,
    "out_type": _TENSOR_TYPES,
}
# Option fields a runtime divides by or loops over: must be >= 1.
_POSITIVE_FIELDS = (
    "stride_w", "stride_h", "dilation_w_factor", "dilation_h_factor", "filter_width",
    "filter_height", "stride_width", "stride_height", "dilation_width_factor",
    "dilation_height_factor", "channels_in",
)

# Ops whose options table is not named after the op ("CONV_2D" -> Conv2DOptions
# is found by name; these are the exceptions).
_OPTIONS_OVERRIDES = {
    "MAX_POOL_2D": "Pool2DOptions", "AVERAGE_POOL_2D": "Pool2DOptions",
    "L2_POOL_2D": "Pool2DOptions", "MEAN": "ReducerOptions", "SUM": "ReducerOptions",
    "REDUCE_MAX": "ReducerOptions", "REDUCE_MIN": "ReducerOptions",
    "REDUCE_PROD": "ReducerOptions", "REDUCE_ANY": "ReducerOptions",
    "REDUCE_ALL": "ReducerOptions", "MAXIMUM": "MaximumMinimumOptions",
    "MINIMUM": "MaximumMinimumOptions", "L2_NORMALIZATION": "L2NormOptions",
    "UNIDIRECTIONAL_SEQUENCE_RNN": "SequenceRNNOptions", "CONV_3D_TRANSPOSE": "Conv3DOptions",
}
_NORM_OPTIONS = {n.replace("_", "").lower(): n for n in _OPTIONS_NAMES.values()}


def _expected_options(op_name: str) -> str | None:
    """Name of the builtin options table ``op_name`` carries, or None."""
    if op_name in _OPTIONS_OVERRIDES:
        return _OPTIONS_OVERRIDES[op_name]
    return _NORM_OPTIONS.get(op_name.replace("_", "").lower() + "options")


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


_FIELDS_CACHE: dict[type, list[tuple[str, str, str]]] = {}


def _fields(cls: type) -> list[tuple[str, str, str]]:
    """(snake_name, kind, accessor) for every scalar or scalar-vector field of a
    generated options class, in schema order; kind is "scalar" or "vector"."""
    if cls not in _FIELDS_CACHE:
        members = vars(cls)
        found = []
        for name, fn in members.items():
            if not isinstance(fn, types.FunctionType) or not name[:1].isupper():
                continue
            if name == "Init" or name.endswith(("AsNumpy", "Length", "IsNone")):
                continue
            if f"{name}Length" in members:
                if f"{name}AsNumpy" in members:  # vectors of tables are skipped
                    found.append((_snake(name), "vector", name))
            elif fn.__code__.co_argcount == 1:
                found.append((_snake(name), "scalar", name))
        _FIELDS_CACHE[cls] = found
    return _FIELDS_CACHE[cls]


_DEFAULTS_CACHE: dict[type, Any] = {}


def _empty_table(cls: type):
    """An instance of ``cls`` over an empty table: every accessor returns its default."""
    if cls not in _DEFAULTS_CACHE:
        builder = flatbuffers.Builder(16)
        builder.StartObject(0)
        builder.Finish(builder.EndObject())
        data = bytes(builder.Output())
        obj = cls()
        obj.Init(data, flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0))
        _DEFAULTS_CACHE[cls] = obj
    return _DEFAULTS_CACHE[cls]


def describe_op(graph: Graph, op: Operator | int) -> str:
    """How error messages name an operator.

    Example:
        >>> g = Graph(tensors=[Tensor(0, "block3/bconv", (1, 4), "float32")],
        ...           operators=[Operator(0, "LceBconv2d", (), (0,))], inputs=(), outputs=(0,))
        >>> describe_op(g, 0)
        "op 0 'LceBconv2d' (output tensor 'block3/bconv')"
    """
    if isinstance(op, int):
        op = graph.operators[op]
    names = [graph.tensors[t].name for t in op.outputs if 0 <= t < len(graph.tensors)]
    where = f" (output tensor {names[0]!r})" if names else ""
    return f"op {op.index} {op.op!r}{where}"


def read(model: bytes | bytearray | memoryview | str | os.PathLike, *,
         name: str | None = None) -> Graph:
    """Read a .tflite model (bytes or a path) into a :class:`Graph`.

    Args:
        model: The flatbuffer bytes, or the path of a .tflite file.
        name: What error messages and ``Graph.source`` call the model; defaults to
            the path, or "<bytes>".

    Returns:
        The first subgraph, with decoded options, quantization and constants.

    Raises:
        ModelFormatError: the file cannot be read, is empty, truncated, corrupt or
            not a TFLite model (the message names the file and the problem).
    """
    if isinstance(model, (bytes, bytearray, memoryview)):
        buf = bytes(model)
        source = name or "<bytes>"
    elif isinstance(model, (str, os.PathLike)):
        source = name or os.fspath(model)
        try:
            size = os.path.getsize(model)
            if size > _MAX_BYTES:
                raise ModelFormatError(f"{source}: {size} bytes is larger than any TFLite "
                                       f"flatbuffer can be (2 GiB)")
            with open(model, "rb") as f:
                buf = f.read()
        except OSError as exc:
            raise ModelFormatError(f"{source}: cannot read the model file: {exc}") from exc
    else:
        raise TypeError(f"read() takes bytes or a path, not {type(model).__name__}")
    reader = _Reader(buf, source)
    try:
        return reader.graph()
    except ModelFormatError:
        raise
    except (struct.error, IndexError, UnicodeDecodeError, ValueError, RecursionError,
            TypeError, OverflowError, KeyError, MemoryError) as exc:
        raise ModelFormatError(
            f"{source}: truncated or corrupt TFLite flatbuffer ({len(buf)} bytes): reading "
            f"{reader.where or 'the model'} failed with {type(exc).__name__}: {exc}. "
            "Convert or copy the model again.") from exc


class _Reader:
    """One pass over a flatbuffer with bounds checks; ``where`` tracks the table
    being read, for error messages."""

    def __init__(self, buf: bytes, source: str):
        self.buf = buf
        self.source = source
        self.where = ""
        # Every vector element and table read is charged; a valid file never needs
        # more than its own size (each element takes >= 1 byte).
        self.budget = len(buf) + 4096

    # -- helpers -------------------------------------------------------------
    def fail(self, what: str):
        where = f"{self.where}: " if self.where else ""
        raise ModelFormatError(f"{self.source}: {where}{what}")

    def charge(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            self.fail("corrupt offsets: the structure is larger than the file "
                      f"({len(self.buf)} bytes)")

    def count(self, n: int, elem_size: int, what: str) -> int:
        """Validate a vector length read from the file before looping over it."""
        if n < 0 or n * elem_size > len(self.buf):
            self.fail(f"{what} has {n} entries of {elem_size} bytes, more than the "
                      f"{len(self.buf)}-byte file can hold (truncated or corrupt)")
        self.charge(n)
        return n

    def ints(self, obj, field: str, what: str, elem_size: int = 4) -> tuple[int, ...]:
        if getattr(obj, f"{field}IsNone")():
            return ()
        self.count(getattr(obj, f"{field}Length")(), elem_size, what)
        return tuple(getattr(obj, f"{field}AsNumpy")().tolist())

    def text(self, raw: bytes | None, what: str) -> str:
        if raw is None:
            return ""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.fail(f"{what} is not valid UTF-8 ({bytes(raw[:20])!r}...)")

    # -- the model -------------------------------------------------------------
    def graph(self) -> Graph:
        buf = self.buf
        if not buf:
            self.fail("the file is empty; expected a TFLite flatbuffer (.tflite)")
        if len(buf) < 8:
            self.fail(f"only {len(buf)} bytes: too short for a TFLite flatbuffer (truncated?)")
        if buf[4:8] != FILE_IDENTIFIER:
            self.fail(f"not a TFLite model: file identifier is {buf[4:8]!r}, expected "
                      f"{FILE_IDENTIFIER!r} (is this a .tflite file?)")
        if len(buf) > _MAX_BYTES:
            self.fail(f"{len(buf)} bytes is larger than any TFLite flatbuffer can be (2 GiB)")
        root = struct.unpack_from("<I", buf, 0)[0]
        if root < 8 or root + 4 > len(buf):
            self.fail(f"root table offset {root} is outside the {len(buf)}-byte file "
                      "(truncated or corrupt)")
        model = Model.GetRootAs(buf, 0)
        version = model.Version()
        if version != SCHEMA_VERSION:
            self.fail(f"schema version {version}, expected {SCHEMA_VERSION} (corrupt, or "
                      "not written by a TFLite/LCE converter)")
        self.where = "operator codes"
        opcodes = self.opcodes(model)
        self.where = "subgraphs"
        if self.count(model.SubgraphsLength(), 4, "the subgraph list") < 1:
            self.fail("the model has no subgraph")
        sub = model.Subgraphs(0)
        if sub is None:
            self.fail("subgraph 0 is missing")
        n_buffers = self.count(model.BuffersLength(), 4, "the buffer list")
        n_tensors = self.count(sub.TensorsLength(), 4, "the tensor list")
        tensors = [self.tensor(model, sub, i, n_buffers) for i in range(n_tensors)]
        self.where = "operators"
        n_ops = self.count(sub.OperatorsLength(), 4, "the operator list")
        operators = [self.operator(sub, i, opcodes, n_tensors) for i in range(n_ops)]
        self.where = "subgraph 0"
        inputs = self.ints(sub, "Inputs", "the subgraph input list")
        outputs = self.ints(sub, "Outputs", "the subgraph output list")
        for kind, idx in (("input", inputs), ("output", outputs)):
            bad = [i for i in idx if not 0 <= i < n_tensors]
            if bad:
                self.fail(f"{kind} tensor index {bad[0]} is out of range "
                          f"(the subgraph has {n_tensors} tensors)")
        self.where = "description"
        description = (model.Description() or b"").decode("utf-8", errors="replace")
        return Graph(tensors=tensors, operators=operators, inputs=inputs, outputs=outputs,
                     source=self.source, sha256=hashlib.sha256(buf).hexdigest(),
                     description=description)

    def opcodes(self, model) -> list[tuple[str, int]]:
        n = self.count(model.OperatorCodesLength(), 4, "the operator code list")
        found = []
        for i in range(n):
            self.where = f"operator code {i}"
            self.charge(1)
            oc = model.OperatorCodes(i)
            # TFLite's GetBuiltinCode: the larger of the int8 and the int32 field.
            code = max(oc.DeprecatedBuiltinCode(), oc.BuiltinCode())
            if code not in _OPCODE_NAMES:
                self.fail(f"unknown builtin operator code {code} (corrupt, or written by a "
                          "newer TFLite than the 'tflite' schema package knows)")
            op_name = _OPCODE_NAMES[code]
            if op_name == "CUSTOM":
                op_name = self.text(oc.CustomCode(), "custom code")
                if not op_name:
                    self.fail("a CUSTOM operator code has no custom_code name")
            found.append((op_name, oc.Version()))
        return found

    def tensor(self, model, sub, i: int, n_buffers: int) -> Tensor:
        self.where = f"tensor {i}"
        self.charge(1)
        t = sub.Tensors(i)
        name = self.text(t.Name(), "the tensor name")
        self.where = f"tensor {i} {name!r}"
        if t.ShapeLength() > MAX_RANK:
            self.fail(f"rank {t.ShapeLength()} is larger than {MAX_RANK}")
        shape = self.ints(t, "Shape", "the shape")
        for axis, d in enumerate(shape):
            if d < 0 and not (d == -1 and axis == 0):
                self.fail(f"shape {shape} has dimension {d} at axis {axis} (only a batch "
                          "dimension of -1 may be negative)")
        type_name = _TENSOR_TYPES.get(t.Type())
        if type_name is None:
            self.fail(f"unknown tensor type {t.Type()}")
        if type_name not in _DTYPES:
            self.fail(f"tensor type {type_name} is not supported by bnn-lq (numeric tensors only)")
        dtype = _DTYPES[type_name]
        quant = self.quantization(t, shape)
        data = None
        b = t.Buffer()
        if not (0 <= b < max(n_buffers, 1)):
            self.fail(f"buffer index {b} is out of range (the model has {n_buffers} buffers)")
        if n_buffers:
            data = self.constant(model, b, shape, dtype)
        return Tensor(index=i, name=name, shape=shape, dtype=dtype, quantization=quant, data=data)

    def quantization(self, t, shape: tuple[int, ...]) -> Quantization | None:
        q = t.Quantization()
        if q is None:
            return None
        n_scale = 0 if q.ScaleIsNone() else self.count(q.ScaleLength(), 4, "the quantization scale")
        if n_scale == 0:
            return None
        scale = np.array(q.ScaleAsNumpy(), dtype=np.float32)
        n_zp = 0 if q.ZeroPointIsNone() else self.count(q.ZeroPointLength(), 8,
                                                        "the quantization zero point")
        zero_point = (np.array(q.ZeroPointAsNumpy(), dtype=np.int64) if n_zp
                      else np.zeros(n_scale, dtype=np.int64))
        if zero_point.size != n_scale:
            self.fail(f"quantization has {n_scale} scales but {zero_point.size} zero points")
        axis = q.QuantizedDimension()
        if n_scale > 1:
            if not 0 <= axis < len(shape) or shape[axis] != n_scale:
                self.fail(f"per-channel quantization with {n_scale} scales along axis {axis} "
                          f"does not fit shape {shape}")
        scale.flags.writeable = False
        zero_point.flags.writeable = False
        return Quantization(scale=scale, zero_point=zero_point, axis=int(axis))

    def constant(self, model, b: int, shape: tuple[int, ...], dtype: str) -> np.ndarray | None:
        buffer = model.Buffers(b)
        if buffer is None:
            return None
        offset, size = buffer.Offset(), buffer.Size()
        if offset > 1:  # data stored after the flatbuffer (models > 2 GB)
            if offset + size > len(self.buf):
                self.fail(f"buffer {b} points to bytes {offset}..{offset + size}, outside the "
                          f"{len(self.buf)}-byte file")
            raw = np.frombuffer(self.buf, dtype=np.uint8, count=size, offset=offset)
        elif buffer.DataIsNone() or buffer.DataLength() == 0:
            return None
        else:
            if buffer.DataLength() > len(self.buf):
                self.fail(f"buffer {b} claims {buffer.DataLength()} bytes, more than the "
                          f"{len(self.buf)}-byte file")
            raw = buffer.DataAsNumpy()  # bounds-checked by numpy
        if raw.size == 0:
            return None
        if any(d < 0 for d in shape):
            self.fail(f"a constant cannot have the dynamic shape {shape}")
        itemsize = np.dtype(dtype).itemsize
        expected = int(np.prod(shape, dtype=np.int64)) * itemsize
        if raw.size != expected:
            self.fail(f"constant data (buffer {b}) has {raw.size} bytes, but shape {shape} "
                      f"{dtype} needs {expected}")
        data = raw.view(np.dtype(dtype).newbyteorder("<")).reshape(shape)
        if not data.flags.aligned:
            self.charge(raw.size // 4)
            data = data.copy()
        data = data.astype(dtype, copy=False)  # native byte order (a no-op on little-endian)
        data.flags.writeable = False
        return data

    def operator(self, sub, i: int, opcodes, n_tensors: int) -> Operator:
        self.where = f"operator {i}"
        self.charge(1)
        o = sub.Operators(i)
        idx = o.OpcodeIndex()
        if not 0 <= idx < len(opcodes):
            self.fail(f"opcode index {idx} is out of range (the model has {len(opcodes)} "
                      "operator codes)")
        op_name, version = opcodes[idx]
        self.where = f"operator {i} {op_name!r}"
        inputs = self.ints(o, "Inputs", "the input list")
        outputs = self.ints(o, "Outputs", "the output list")
        for t in inputs:
            if not -1 <= t < n_tensors:
                self.fail(f"input tensor index {t} is out of range ({n_tensors} tensors)")
        for t in outputs:
            if not 0 <= t < n_tensors:
                self.fail(f"output tensor index {t} is out of range ({n_tensors} tensors)")
        if op_name in _OPCODE_NAMES.values() and op_name != "CUSTOM":
            options = self.builtin_options(o, op_name)
        else:
            options = self.custom_options(o, op_name)
        return Operator(index=i, op=op_name, inputs=inputs, outputs=outputs, options=options,
                        version=version)

    # -- options ---------------------------------------------------------------
    def builtin_options(self, o, op_name: str) -> dict[str, Any]:
        kind = o.BuiltinOptionsType()
        if kind not in _OPTIONS_NAMES:
            self.fail(f"unknown builtin options type {kind}")
        expected = _expected_options(op_name)
        table_name = _OPTIONS_NAMES[kind]
        options: dict[str, Any] = {}
        if kind == BuiltinOptions.NONE:
            if expected is not None:
                options = self.fields(_empty_table(getattr(tflite, expected)))
        else:
            if expected is not None and table_name != expected:
                self.fail(f"carries {table_name}; {op_name} takes {expected}")
            table = o.BuiltinOptions()
            if table is None:
                self.fail(f"{table_name} is declared but missing")
            cls = getattr(tflite, table_name)
            obj = cls()
            obj.Init(table.Bytes, table.Pos)
            options = self.fields(obj)
        kind2 = o.BuiltinOptions2Type()
        if kind2 != BuiltinOptions2.NONE:
            if kind2 not in _OPTIONS2_NAMES:
                self.fail(f"unknown builtin options type {kind2} (builtin_options_2)")
            table = o.BuiltinOptions2()
            if table is None:
                self.fail(f"{_OPTIONS2_NAMES[kind2]} is declared but missing")
            obj = getattr(tflite, _OPTIONS2_NAMES[kind2])()
            obj.Init(table.Bytes, table.Pos)
            options.update(self.fields(obj))
        self.check_positive(options)
        return options

    def fields(self, obj) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, kind, accessor in _fields(type(obj)):
            self.charge(1)
            if kind == "vector":
                value: Any = self.ints(obj, accessor, f"option {key!r}", elem_size=1)
            else:
                value = getattr(obj, accessor)()
                if isinstance(value, bytes):
                    value = self.text(value, f"option {key!r}")
                elif not isinstance(value, (bool, int, float)):
                    continue  # nested tables: not used by any op bnn-lq runs
            if key in _ENUM_FIELDS and isinstance(value, int):
                names = _ENUM_FIELDS[key]
                if value not in names:
                    self.fail(f"option {key!r} has the unknown value {value}")
                value = names[value]
            out[key] = value
        return out

    def check_positive(self, options: dict[str, Any]) -> None:
        for key in _POSITIVE_FIELDS:
            if key in options and (not isinstance(options[key], int) or options[key] < 1):
                self.fail(f"option {key!r} is {options[key]!r}; it must be a positive integer")

    def custom_options(self, o, op_name: str) -> dict[str, Any]:
        if o.CustomOptionsIsNone() or o.CustomOptionsLength() == 0:
            blob = b""
        else:
            n = self.count(o.CustomOptionsLength(), 1, "the custom options")
            blob = o.CustomOptionsAsNumpy().tobytes()
            assert len(blob) == n
        if blob and o.CustomOptionsFormat() != 0:
            self.fail(f"custom options format {o.CustomOptionsFormat()} is not FLEXBUFFERS (0)")
        options = _FlexDecoder(blob, self).root() if blob else {}
        if not isinstance(options, dict):
            self.fail(f"custom options are a {type(options).__name__}, expected a FlexBuffer map")
        if op_name in LCE_OPS:
            missing = [k for k in LCE_OPS[op_name] if k not in options]
            if missing:
                self.fail(f"custom options lack {', '.join(missing)} (LCE requires "
                          f"{', '.join(LCE_OPS[op_name])})")
            for key in LCE_OPS[op_name]:
                if not isinstance(options[key], int) or isinstance(options[key], bool):
                    self.fail(f"option {key!r} is {options[key]!r}; expected an integer")
            if "padding" in options:
                if options["padding"] not in _PADDING:
                    self.fail(f"option 'padding' is {options['padding']}; expected 0 (SAME) "
                              "or 1 (VALID)")
                options["padding"] = _PADDING[options["padding"]]
            if "fused_activation_function" in options:
                # LCE's kernel maps any value other than 1..3 to NONE (spec §2).
                act = options["fused_activation_function"]
                options["fused_activation_function"] = (
                    _ACTIVATION[act] if act in (1, 2, 3) else "NONE")
            if "pad_values" in options and options["pad_values"] not in (0, 1):
                self.fail(f"option 'pad_values' is {options['pad_values']}; LCE accepts 0 or 1")
            self.check_positive(options)
        return options


class _FlexDecoder:
    """``flexbuffers.Loads`` with bounds: lengths are checked against the blob and
    nesting depth is limited, so a corrupt blob cannot loop or recurse for long."""

    MAX_DEPTH = 8

    def __init__(self, blob: bytes, reader: _Reader):
        self.blob = blob
        self.reader = reader

    def root(self) -> Any:
        if len(self.blob) < 3:
            self.reader.fail(f"custom options: {len(self.blob)} bytes is too short for a FlexBuffer")
        if self.blob[-1] not in (1, 2, 4, 8):
            self.reader.fail(f"custom options: root byte width {self.blob[-1]} is not 1, 2, 4 or 8")
        return self.value(flexbuffers.GetRoot(self.blob), 0)

    def sized(self, obj, width: int) -> int:
        n = len(obj)
        if n < 0 or n * max(width, 1) > len(self.blob):
            self.reader.fail(f"custom options: a FlexBuffer vector of {n} entries does not "
                             f"fit in {len(self.blob)} bytes")
        self.reader.charge(n)
        return n

    def value(self, ref, depth: int) -> Any:
        if depth > self.MAX_DEPTH:
            self.reader.fail("custom options: FlexBuffer nesting is too deep (corrupt)")
        self.reader.charge(1)
        if ref.IsNull:
            return None
        if ref.IsBool:
            return ref.AsBool
        if ref.IsInt:
            return ref.AsInt
        if ref.IsFloat:
            return ref.AsFloat
        if ref.IsKey:
            return self.key(ref)
        if ref.IsString:  # the byte slices below are bounded by the blob
            raw = bytes(ref.AsStringBytes)
            self.reader.charge(len(raw))
            return self.reader.text(raw, "a custom option string")
        if ref.IsBlob:
            raw = bytes(ref.AsBlob)
            self.reader.charge(len(raw))
            return raw
        if ref.IsMap:
            m = ref.AsMap
            n = self.sized(m, m.ByteWidth)
            keys = m.Keys
            if len(keys) != n:
                self.reader.fail("custom options: FlexBuffer map has different numbers of keys "
                                 "and values")
            self.sized(keys, keys.ByteWidth)
            values = m.Values
            return {self.key(keys[i]): self.value(values[i], depth + 1) for i in range(n)}
        if ref.IsVector:
            v = ref.AsVector
            return [self.value(v[i], depth + 1) for i in range(self.sized(v, v.ByteWidth))]
        if ref.IsTypedVector or ref.IsFixedTypedVector:
            v = ref.AsTypedVector if ref.IsTypedVector else ref.AsFixedTypedVector
            return [self.value(v[i], depth + 1) for i in range(self.sized(v, v.ByteWidth))]
        self.reader.fail("custom options: unknown FlexBuffer value type")

    def key(self, ref) -> str:
        if not ref.IsKey:
            self.reader.fail("custom options: a FlexBuffer map key is not a key")
        raw = ref.AsKeyBytes  # bounded by the blob (ends at the first NUL)
        self.reader.charge(len(raw))
        try:
            return bytes(raw).decode("ascii")
        except UnicodeDecodeError:
            self.reader.fail(f"custom options: key {bytes(raw[:20])!r} is not ASCII")
