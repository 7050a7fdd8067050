"""Builds, converts (with LCE) and caches the larq_zoo models the interpreter must run.

QuickNetSmall, Bi-Real Net and BinaryDenseNet28 (weights=None, 32x32x3, 10 classes), each
converted twice: float32, and int8 builtins via ``experimental_default_int8_range`` with int8
input and output (spec §8, §11.3). Conversions take minutes on this machine, so the .tflite
files are cached under ``$BNN_LQ_CACHE`` (default /tmp/bnn_lq_interp) and reused.

Run as a script to fill the cache and list the operators of each model:
    .venv/bin/python tests/interpreter/zoo_models.py
"""

from __future__ import annotations

import os
import pathlib

import bnn_lq  # noqa: F401  (sets the Keras-2 switch before TensorFlow loads)

__all__ = ["ZOO_MODELS", "cache_dir", "zoo_tflite"]

ZOO_MODELS = {
    "quicknet_small": ("sota", "QuickNetSmall"),
    "birealnet": ("literature", "BiRealNet"),
    "binary_densenet28": ("literature", "BinaryDenseNet28"),
}
INT8_RANGE = (-3.0, 3.0)  # the dummy range LCE gives every builtin activation in int8 mode


def cache_dir() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("BNN_LQ_CACHE", "/tmp/bnn_lq_interp"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _build(name: str, seed: int = 0):
    import bnn_lq  # noqa: F401  (Keras 2 switch)
    import larq_zoo
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    family, cls = ZOO_MODELS[name]
    return getattr(getattr(larq_zoo, family), cls)(
        input_shape=(32, 32, 3), weights=None, num_classes=10)


def zoo_tflite(name: str, *, int8: bool = False) -> pathlib.Path:
    """Path of the cached LCE conversion of zoo model ``name`` (converted on first use)."""
    path = cache_dir() / f"{name}_{'int8' if int8 else 'float'}.tflite"
    if path.exists():
        return path
    import numpy as np

    import bnn_lq  # noqa: F401
    import larq_compute_engine as lce
    import tensorflow as tf

    model = _build(name)
    # Random BatchNorm statistics, so that the multipliers and biases are not trivial.
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            weights = layer.get_weights()
            n = weights[0].shape[0]
            new = []
            if layer.scale:
                new.append(rng.uniform(0.5, 1.5, size=n))
            if layer.center:
                new.append(rng.normal(0, 0.5, size=n))
            new += [rng.normal(0, 0.5, size=n), rng.uniform(0.5, 2, size=n)]
            layer.set_weights([w.astype("float32") for w in new])
    kwargs = {}
    if int8:
        kwargs = dict(inference_input_type=tf.int8, inference_output_type=tf.int8,
                      experimental_default_int8_range=INT8_RANGE)
    fb = lce.convert_keras_model(model, **kwargs)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(fb)
    tmp.replace(path)
    return path


if __name__ == "__main__":
    import collections
    import sys

    from larq_compute_engine.mlir.python import tflite_schema

    names = sys.argv[1:] or list(ZOO_MODELS)
    for name in names:
        for int8 in (False, True):
            p = zoo_tflite(name, int8=int8)
            m = tflite_schema.Model.GetRootAsModel(p.read_bytes(), 0)
            codes = []
            for i in range(m.OperatorCodesLength()):
                oc = m.OperatorCodes(i)
                code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
                codes.append(oc.CustomCode().decode() if oc.CustomCode() else code)
            sg = m.Subgraphs(0)
            count = collections.Counter(codes[sg.Operators(j).OpcodeIndex()]
                                        for j in range(sg.OperatorsLength()))
            print(p.name, p.stat().st_size, dict(count), flush=True)
