"""The typed graph every consumer of a .tflite file works on.

``bnn_lq.convert.read`` (flatbuffer.py) is the only code that turns flatbuffer
bytes into a :class:`Graph`; inspection, the NumPy interpreter and code
generation read this graph and nothing else.

Conventions (the same words in the interpreter and in ``bnn_types.h``):

* Shapes are tuples of ints, NHWC for images. Batch is whatever the file says
  (LCE writes 1).
* ``dtype`` is a NumPy dtype name: "float32", "int8", "int32", "uint8", "int64",
  "bool", "int16".
* Bit-packed tensors are "int32" with the last dimension ``ceil(C / 32)``;
  channel ``c`` is bit ``c % 32`` (LSB first) of word ``c // 32``; bit 1 means -1.
* ``Operator.op`` is the TFLite builtin name ("CONV_2D", "FULLY_CONNECTED") or the
  custom code ("LceBconv2d"). ``Operator.inputs`` keeps ``-1`` for an absent
  optional input.
* ``Operator.options`` holds builtin options under the schema's snake_case field
  names (``stride_w``, ``fused_activation_function``...) and LCE options under
  their FlexBuffer keys (``stride_width``, ``channels_in``...). Enum values are
  decoded to their names: ``padding`` is "SAME" or "VALID",
  ``fused_activation_function`` is "NONE", "RELU", "RELU_N1_TO_1", "RELU6",
  "TANH" or "SIGN_BIT".

Example:
    >>> from bnn_lq.convert.graph import Tensor
    >>> Tensor(index=0, name="x", shape=(1, 4), dtype="float32").is_constant
    False
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Graph", "Operator", "Quantization", "Tensor"]


@dataclasses.dataclass(frozen=True)
class Quantization:
    """Affine quantization: ``real = scale * (q - zero_point)``.

    ``scale`` and ``zero_point`` have one entry for per-tensor quantization and
    one per channel along ``axis`` for per-channel quantization.
    """

    scale: np.ndarray  # float32, shape (1,) or (channels,)
    zero_point: np.ndarray  # int64, same shape as scale
    axis: int = 0  # quantized dimension when per-channel

    @property
    def is_per_tensor(self) -> bool:
        return self.scale.size == 1


@dataclasses.dataclass
class Tensor:
    """One tensor of the graph; ``data`` is set for constants (weights)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quantization: Quantization | None = None
    data: np.ndarray | None = None  # constant value, already shaped and typed

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def nbytes(self) -> int:
        """Bytes of this tensor (int32 packed words count 4 each; a -1 batch counts as 1)."""
        count = int(np.prod([max(d, 1) for d in self.shape], dtype=np.int64))
        return count * np.dtype(self.dtype).itemsize


@dataclasses.dataclass
class Operator:
    """One node: ``op`` names it as TFLite or LCE does."""

    index: int
    op: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    version: int = 1


@dataclasses.dataclass
class Graph:
    """The first subgraph of a .tflite model (the only one LCE writes)."""

    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    source: str = "<bytes>"  # file name or "<bytes>", for error messages
    sha256: str = ""  # of the flatbuffer bytes, for provenance in generated code
    description: str = ""

    def tensor(self, index: int) -> Tensor | None:
        """The tensor at ``index``, or None for an absent optional input (-1)."""
        return None if index < 0 else self.tensors[index]

    def producers(self) -> dict[int, int]:
        """Tensor index -> index of the operator that writes it."""
        return {t: op.index for op in self.operators for t in op.outputs}

    def consumers(self) -> dict[int, list[int]]:
        """Tensor index -> indices of the operators that read it."""
        found: dict[int, list[int]] = {}
        for op in self.operators:
            for t in op.inputs:
                if t >= 0:
                    found.setdefault(t, []).append(op.index)
        return found
