"""Evaluate one model on a data set with several runtimes, side by side.

Runtimes (each a function ``(model_path, x, *, batch_size, **opts) -> outputs``):

* ``keras`` - the Keras model (a ``.keras`` file, or the ``.keras`` beside a ``.tflite``, or
  ``keras_model=``); float inputs.
* ``lce`` - Larq Compute Engine's interpreter (x86-64 only): the oracle.
* ``numpy`` - :class:`bnn_lq.interpreter.Interpreter`, NumPy only.
* ``tflite-runtime`` - ``tflite_runtime.interpreter`` for float/int8 TFLite baselines without
  LCE ops (it cannot run LCE's custom ops; that case raises a clear error).

Other runtimes (the C host build, a board) plug in with :func:`register_runtime`.
A model with an int8 input gets its images quantized with the input's scale and zero point;
int8 outputs are dequantized before the comparison, so every runtime is compared in real
values.

Example:
    >>> from bnn_lq.evaluate import evaluate
    >>> r = evaluate("model.tflite", "fashion_mnist", runtimes=("lce", "numpy"),
    ...              limit=1000)                                        # doctest: +SKIP
    >>> r.accuracy["numpy"], r.agreement[("lce", "numpy")]               # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib
import time
from typing import Any, Callable

import numpy as np

from bnn_lq.errors import BnnLqError, UnsupportedOpError

__all__ = ["EvalResult", "RUNTIMES", "evaluate", "register_runtime", "runtime_names"]

log = logging.getLogger(__name__)

RuntimeFn = Callable[..., np.ndarray]
RUNTIMES: dict[str, RuntimeFn] = {}


def register_runtime(name: str, fn: RuntimeFn) -> None:
    """Adds a runtime: ``fn(model_path, x, *, batch_size, **opts) -> np.ndarray`` gets images
    ``x`` already in the model's input dtype (int8-quantized for int8 models) and returns
    the raw model output (as the model's output dtype), stacked over images."""
    if not callable(fn):
        raise TypeError(f"register_runtime({name!r}, ...): fn must be callable")
    RUNTIMES[name] = fn


def runtime_names() -> list[str]:
    """The registered runtime names."""
    return sorted(RUNTIMES)


@dataclasses.dataclass
class EvalResult:
    """What :func:`evaluate` measured.

    Attributes:
        model: the model path.
        dataset: the data set name; n: number of images.
        accuracy: runtime -> top-1 accuracy.
        latency_ms: runtime -> wall time per image, in milliseconds (batched).
        agreement: (runtime a, runtime b) -> fraction of images with the same argmax.
        max_abs_diff: (runtime a, runtime b) -> largest absolute output difference (real
            values: int8 outputs dequantized).
        errors: runtime -> error message, for runtimes that could not run.
    """

    model: str
    dataset: str
    n: int
    accuracy: dict[str, float] = dataclasses.field(default_factory=dict)
    latency_ms: dict[str, float] = dataclasses.field(default_factory=dict)
    agreement: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    max_abs_diff: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (pairs as ``"a|b"`` keys)."""
        return {
            "model": self.model, "dataset": self.dataset, "n": self.n,
            "accuracy": self.accuracy, "latency_ms": self.latency_ms,
            "agreement": {f"{a}|{b}": v for (a, b), v in self.agreement.items()},
            "max_abs_diff": {f"{a}|{b}": v for (a, b), v in self.max_abs_diff.items()},
            "errors": self.errors,
        }

    def table(self) -> str:
        """A plain-text table: one row per runtime, then the pairwise comparisons."""
        lines = [f"{self.model} on {self.dataset} ({self.n} images)",
                 f"{'runtime':<16}{'accuracy':>10}{'ms/image':>12}"]
        for name in list(self.accuracy) + [k for k in self.errors if k not in self.accuracy]:
            if name in self.accuracy:
                lines.append(f"{name:<16}{self.accuracy[name]:>10.4f}"
                             f"{self.latency_ms[name]:>12.3f}")
            else:
                lines.append(f"{name:<16}  error: {self.errors[name]}")
        if self.agreement:
            lines.append(f"{'pair':<28}{'argmax agree':>14}{'max |diff|':>14}")
            for pair, value in self.agreement.items():
                lines.append(f"{pair[0] + ' vs ' + pair[1]:<28}{value:>14.4f}"
                             f"{self.max_abs_diff[pair]:>14.3g}")
        return "\n".join(lines)


# --- runtimes --------------------------------------------------------------------------------

def _numpy_runtime(model_path, x, *, batch_size: int = 256, **_):
    from bnn_lq.interpreter import Interpreter

    return Interpreter(model_path).predict(x, batch_size=batch_size)


def _lce_runtime(model_path, x, *, batch_size: int = 256, **_):
    try:
        from larq_compute_engine.tflite.python.interpreter import Interpreter as LceInterpreter
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise BnnLqError(
            f"the 'lce' runtime needs larq-compute-engine, which ships x86-64 wheels only "
            f"({exc}); use --runtime numpy instead") from None
    data = pathlib.Path(model_path).read_bytes()
    return LceInterpreter(data, num_threads=1).predict(x)


def _tflite_runtime(model_path, x, *, batch_size: int = 256, **_):
    from bnn_lq.convert.flatbuffer import read

    graph = read(model_path)
    custom = sorted({op.op for op in graph.operators if op.op.startswith("Lce")})
    if custom:
        raise UnsupportedOpError(
            f"{model_path}: tflite_runtime cannot run LCE's custom ops ({', '.join(custom)}): "
            f"it would fail with 'Encountered unresolved custom op: {custom[0]}'. The "
            f"'tflite-runtime' runtime is for float/int8 TFLite baselines without binary "
            f"layers; run this model with --runtime numpy (or lce on x86-64).")
    try:
        from tflite_runtime.interpreter import Interpreter as TfliteInterpreter
    except ImportError as exc:  # pragma: no cover
        raise BnnLqError(f"tflite_runtime is not installed ({exc})") from None
    interp = TfliteInterpreter(model_path=str(model_path), num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    results = []
    for image in x:
        interp.set_tensor(inp["index"], image[None].astype(inp["dtype"]))
        interp.invoke()
        results.append(interp.get_tensor(out["index"])[0].copy())
    return np.stack(results)


def _keras_runtime(model_path, x, *, batch_size: int = 256, keras_model=None, **_):
    import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
    import larq  # noqa: F401  (registers larq's custom objects)
    import tensorflow as tf

    if keras_model is None:
        path = pathlib.Path(model_path)
        if path.suffix != ".keras":
            path = path.with_suffix(".keras")
        if not path.exists():
            raise BnnLqError(
                f"the 'keras' runtime needs the Keras model: no {path} beside {model_path}; "
                f"pass keras_model= (or evaluate the .keras file itself)")
        try:
            import bnn_lq.layers  # noqa: F401  (our custom layers, if present)
        except ImportError:
            pass
        keras_model = tf.keras.models.load_model(path, compile=False)
    elif isinstance(keras_model, (str, os.PathLike)):
        keras_model = tf.keras.models.load_model(keras_model, compile=False)
    return np.asarray(keras_model.predict(x.astype(np.float32), batch_size=batch_size,
                                          verbose=0))


register_runtime("numpy", _numpy_runtime)
register_runtime("lce", _lce_runtime)
register_runtime("tflite-runtime", _tflite_runtime)
register_runtime("keras", _keras_runtime)


# --- evaluation ------------------------------------------------------------------------------

def _io_details(model_path):
    """``(input dtype, (scale, zp)), (output dtype, (scale, zp))`` of a .tflite, or floats
    for a .keras model."""
    if pathlib.Path(model_path).suffix == ".keras":
        return (np.float32, (0.0, 0)), (np.float32, (0.0, 0))
    from bnn_lq.convert.flatbuffer import read

    graph = read(model_path)

    def detail(i):
        t = graph.tensors[i]
        q = t.quantization
        if t.dtype == "int8" and q is not None:
            return np.dtype("int8"), (float(q.scale.ravel()[0]), int(q.zero_point.ravel()[0]))
        return np.dtype(t.dtype), (0.0, 0)
    return detail(graph.inputs[0]), detail(graph.outputs[0])


def _quantize_input(x, dtype, quant):
    if dtype != np.int8:
        return x.astype(dtype)
    scale, zp = quant
    q = np.floor(np.abs(x.astype(np.float64) / scale) + 0.5) * np.sign(x) + zp
    return np.clip(q, -128, 127).astype(np.int8)


def evaluate(model_path: str | os.PathLike, data: str | tuple[np.ndarray, np.ndarray], *,
             runtimes: tuple[str, ...] | list[str] = ("lce", "numpy"), limit: int | None = None,
             batch_size: int = 256, seed: int = 0, keras_model=None,
             runtime_options: dict[str, dict] | None = None) -> EvalResult:
    """Runs ``model_path`` with each runtime on the test split of ``data``.

    Args:
        model_path: a ``.tflite`` (or ``.keras`` for the keras runtime only).
        data: a data set name for :func:`bnn_lq.data.load` (test split), or ``(x, y)``.
        runtimes: names from :func:`runtime_names`.
        limit: evaluate a deterministic subset of this many images.
        batch_size: images per batch for runtimes that batch.
        seed: the subset's seed.
        keras_model: a Keras model or path for the keras runtime.
        runtime_options: extra keyword options per runtime name.

    Returns:
        An :class:`EvalResult`. A runtime that fails is recorded in ``errors`` (and logged);
        the others still run.

    Raises:
        ValueError: an unknown runtime name.
    """
    if any(r.startswith("c-") for r in runtimes):
        import bnn_lq.c_runtime  # noqa: F401  (registers c-host, c-aarch64, c-armv7)
    unknown = [r for r in runtimes if r not in RUNTIMES]
    if unknown:
        raise ValueError(f"unknown runtime(s) {unknown}; known: {runtime_names()}")
    if isinstance(data, str):
        from bnn_lq import data as data_mod

        x, y = data_mod.load(data, "test", limit=limit, seed=seed)
        name = data
    else:
        x, y = data
        if limit is not None:
            x, y = x[:limit], y[:limit]
        name = "<arrays>"
    (in_dtype, in_q), (out_dtype, out_q) = _io_details(model_path)
    result = EvalResult(model=str(model_path), dataset=name, n=int(len(x)))
    outputs: dict[str, np.ndarray] = {}
    for rt in runtimes:
        opts = dict((runtime_options or {}).get(rt, {}))
        if rt == "keras":
            opts.setdefault("keras_model", keras_model)
            xin = x.astype(np.float32)
        else:
            xin = _quantize_input(x, in_dtype, in_q)
        start = time.perf_counter()
        try:
            out = np.asarray(RUNTIMES[rt](model_path, xin, batch_size=batch_size, **opts))
        except Exception as exc:  # noqa: BLE001 - reported per runtime, the others go on
            log.warning("runtime %s failed: %s", rt, exc)
            result.errors[rt] = str(exc)
            continue
        elapsed = time.perf_counter() - start
        if out.dtype == np.int8 and rt != "keras":
            out = (out.astype(np.float64) - out_q[1]) * out_q[0]
        out = out.reshape(len(x), -1).astype(np.float64)
        outputs[rt] = out
        result.accuracy[rt] = float(np.mean(out.argmax(1) == y))
        result.latency_ms[rt] = 1000.0 * elapsed / max(1, len(x))
        log.info("%s: accuracy %.4f, %.3f ms/image", rt, result.accuracy[rt],
                 result.latency_ms[rt])
    names = list(outputs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            result.agreement[(a, b)] = float(np.mean(outputs[a].argmax(1)
                                                     == outputs[b].argmax(1)))
            result.max_abs_diff[(a, b)] = float(np.max(np.abs(outputs[a] - outputs[b]))) \
                if len(x) else 0.0
    return result
