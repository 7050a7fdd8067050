"""bnn_lq.convert: Keras/Larq -> .tflite with every binary layer bit-packed, one
flatbuffer reader, inspection, and (plan.py, codegen.py) C code generation.

Stages, each a pure function (STYLE §5)::

    to_tflite(model) -> bytes      (lce.py, the only module that imports LCE / TensorFlow)
    read(bytes_or_path) -> Graph   (flatbuffer.py, NumPy + flatbuffers + tflite schema only)
    inspect(graph) -> Inspection   (inspect.py)

Importing this package does not import TensorFlow: the conversion functions load
``lce.py`` on first use.

Example:
    >>> from bnn_lq import convert
    >>> callable(convert.read)
    True
"""

from __future__ import annotations

import importlib

from bnn_lq.convert.flatbuffer import describe_op, read
from bnn_lq.convert.graph import Graph, Operator, Quantization, Tensor
from bnn_lq.convert.inspect import Inspection, format_inspection, inspect

_LCE_NAMES = (
    "to_tflite", "stock_tflite", "float_tflite", "int8_tflite", "to_float_model",
    "ideal_bytes", "bitpack_dense_layers", "fusion_warnings", "load_keras_model",
    "is_binary_layer", "DenseAsConv1x1",
)

__all__ = [
    "Graph", "Inspection", "Operator", "Quantization", "Tensor", "describe_op",
    "format_inspection", "inspect", "read", *_LCE_NAMES,
]


def __getattr__(name):
    if name in _LCE_NAMES:
        return getattr(importlib.import_module("bnn_lq.convert.lce"), name)
    raise AttributeError(f"module 'bnn_lq.convert' has no attribute {name!r}")
