"""A NumPy interpreter for LCE-converted ``.tflite`` models: runs LCE's binary ops and the
TFLite builtins that the converter emits, anywhere NumPy runs (no TensorFlow, no LCE).

Each op has one module holding its readable definition (``lce_bconv2d.py``, ``conv2d.py``,
...); ``kernels.py`` maps operator names to them. Semantics follow
../shared/spec/lce-ops.md for the LCE ops (bit-exact with LCE's x86 interpreter) and TFLite's
integer arithmetic for int8 builtins; float builtins agree with TFLite within float rounding.

Every op runs on a whole batch at once: the graph's batch dimension (1 in LCE files) is
treated as dimension 0 of every activation.

Example:
    >>> from bnn_lq.interpreter import Interpreter
    >>> interp = Interpreter("model.tflite")                      # doctest: +SKIP
    >>> probs = interp.predict(x_test[:100], batch_size=64)        # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from bnn_lq.errors import UnsupportedOpError

__all__ = ["Interpreter"]


class Interpreter:
    """Runs a ``.tflite`` model (with or without LCE custom ops) in NumPy.

    Args:
        model: the path of a ``.tflite`` file, or its bytes.
        use_reference_bconv: compute SAME/pad_values=0 float ``LceBconv2d`` outputs as LCE's
            reference kernel does (``Interpreter(..., use_reference_bconv=True)``) instead of
            its default kernel; the two differ only in float rounding (spec §6.8).

    Raises:
        ModelFormatError: the file is not a valid TFLite model.
        UnsupportedOpError: an operator or option this interpreter cannot run (the message
            names the operator index, type and option).
    """

    def __init__(self, model: str | os.PathLike | bytes, *, use_reference_bconv: bool = False):
        from bnn_lq.convert.flatbuffer import read
        from bnn_lq.interpreter import kernels

        self.graph = read(model)
        self.use_reference_bconv = bool(use_reference_bconv)
        self._kernels = kernels
        if len(self.graph.inputs) != 1:
            raise UnsupportedOpError(
                f"{self.graph.source}: the model has {len(self.graph.inputs)} inputs; the NumPy "
                f"interpreter runs single-input models only")
        for op in self.graph.operators:
            kernels.check(self, op)

    # --- details ------------------------------------------------------------------------

    def _details(self, indices) -> list[dict[str, Any]]:
        found = []
        for i in indices:
            t = self.graph.tensors[i]
            q = t.quantization
            scale, zp = (0.0, 0)
            if q is not None and q.is_per_tensor and t.dtype in ("int8", "uint8", "int16"):
                scale, zp = float(q.scale.ravel()[0]), int(q.zero_point.ravel()[0])
            found.append({"name": t.name, "index": i, "shape": tuple(t.shape),
                          "dtype": np.dtype(t.dtype), "quantization": (scale, zp)})
        return found

    @property
    def input_details(self) -> list[dict[str, Any]]:
        """One dict per model input: name, index, shape (with the batch dim of the file),
        dtype, quantization ``(scale, zero_point)`` (``(0.0, 0)`` for float)."""
        return self._details(self.graph.inputs)

    @property
    def output_details(self) -> list[dict[str, Any]]:
        """Like :attr:`input_details`, for the outputs."""
        return self._details(self.graph.outputs)

    # --- running ------------------------------------------------------------------------

    def _prepare_input(self, x: np.ndarray) -> np.ndarray:
        detail = self.input_details[0]
        x = np.asarray(x)
        want = detail["dtype"]
        if x.dtype != want:
            if want == np.int8 and x.dtype.kind == "f":
                raise TypeError(
                    f"{self.graph.source}: the model takes int8 input but received {x.dtype}; "
                    f"quantize first: q = clip(round(x / {detail['quantization'][0]!r}) + "
                    f"{detail['quantization'][1]}, -128, 127) (bnn_lq.evaluate does this)")
            x = x.astype(want)
        shape = tuple(detail["shape"][1:])
        if tuple(x.shape[1:]) != shape:
            raise ValueError(f"{self.graph.source}: input of shape {x.shape[1:]} per image, "
                             f"expected {shape}")
        return x

    def _run(self, x: np.ndarray, *, keep_all: bool = False) -> dict[int, np.ndarray]:
        """Runs the graph on a batch ``x`` (batch on dim 0); returns tensor values."""
        graph = self.graph
        n = x.shape[0]
        values: dict[int, np.ndarray] = {graph.inputs[0]: x}
        last_use = {}
        if not keep_all:
            for op in graph.operators:
                for t in op.inputs:
                    last_use[t] = op.index
        keep = set(graph.outputs)
        for op in graph.operators:
            inputs = []
            for t in op.inputs:
                if t < 0:
                    inputs.append(None)
                elif t in values:
                    inputs.append(values[t])
                else:
                    tensor = graph.tensors[t]
                    if tensor.data is None:
                        raise UnsupportedOpError(
                            f"{self._kernels.describe(self, op)}: input tensor {tensor.name!r} "
                            f"has no producer and no data")
                    inputs.append(tensor.data)
            outputs = self._kernels.KERNELS[op.op](self, op, inputs)
            for t, value in zip(op.outputs, outputs):
                static = graph.tensors[t].shape
                if static and static[0] == 1 and value.shape[:1] != (n,) or \
                        static and value.size == n * int(np.prod(static[1:], dtype=np.int64)) \
                        and value.shape != (n,) + tuple(static[1:]):
                    value = value.reshape((n,) + tuple(static[1:]))
                values[t] = value
            if not keep_all:
                for t in op.inputs:
                    if last_use.get(t) == op.index and t not in keep and t in values:
                        del values[t]
        return values

    def run_all(self, x1: np.ndarray) -> dict[int, np.ndarray]:
        """Every tensor value (model input and every operator output) for the input ``x1``
        (which includes its batch dimension): tensor index -> array. For tests."""
        return self._run(self._prepare_input(x1), keep_all=True)

    def predict(self, x: np.ndarray, *, batch_size: int = 128) -> np.ndarray | list[np.ndarray]:
        """Predictions for the images ``x`` (no converter batch dim, like LCE's
        ``Interpreter.predict``): one array stacked over images, or a list for several
        outputs. int8 models take int8 input (see ``input_details[0]['quantization']``)."""
        x = np.asarray(x)
        want = tuple(self.input_details[0]["shape"][1:])
        if x.shape == want:
            x = x[None]
        outs: list[list[np.ndarray]] = [[] for _ in self.graph.outputs]
        for start in range(0, x.shape[0], max(1, int(batch_size))):
            batch = self._prepare_input(x[start:start + batch_size])
            values = self._run(batch)
            for k, t in enumerate(self.graph.outputs):
                outs[k].append(values[t])
        stacked = [np.concatenate(o) if o else np.empty((0,)) for o in outs]
        return stacked[0] if len(stacked) == 1 else stacked
