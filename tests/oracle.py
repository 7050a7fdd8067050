"""The oracle harness: random Larq models, converted by LCE, run by LCE's own
interpreter with every intermediate tensor exposed (spec lce-ops.md §11).

Tests of the NumPy interpreter and of the C runtime compare their per-op results
against ``run_all`` on the same flatbuffer. This module is a test helper: it
imports TensorFlow, Larq and LCE freely (the product code does not).

Example (slow: one LCE conversion):
    model = make_model((8, 8, 33), [("bconv", dict(filters=5, kernel_size=3))], seed=1)
    randomize_model(model, np.random.default_rng(1))
    fb = convert(model)
    values = run_all(fb, np.random.default_rng(2).normal(size=(1, 8, 8, 33)).astype("float32"))
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bnn_lq  # noqa: E402,F401  (sets the Keras-2 switch)
import flatbuffers  # noqa: E402
import larq as lq  # noqa: E402
import larq_compute_engine as lce  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from larq_compute_engine.mlir.python import tflite_schema  # noqa: E402
from larq_compute_engine.tflite.python.interpreter import Interpreter as LceInterpreter  # noqa: E402

__all__ = [
    "LAYER_KINDS",
    "convert",
    "expose_all_tensors",
    "make_model",
    "randomize_model",
    "run_all",
    "run_model",
]


def _binary_conv(**kw):
    kw.setdefault("kernel_size", 3)
    kw.setdefault("padding", "valid")
    return lq.layers.QuantConv2D(
        input_quantizer="ste_sign", kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip", use_bias=kw.pop("use_bias", False), **kw)


def _binary_dense(**kw):
    return lq.layers.QuantDense(
        input_quantizer="ste_sign", kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip", use_bias=kw.pop("use_bias", False), **kw)


# name -> builder of one Keras layer from keyword options
LAYER_KINDS = {
    "bconv": _binary_conv,                                   # QuantConv2D, binary in + kernel
    "bdense": _binary_dense,                                 # QuantDense, binary in + kernel
    "conv": lambda **kw: tf.keras.layers.Conv2D(**kw),       # real conv
    "dwconv": lambda **kw: tf.keras.layers.DepthwiseConv2D(**kw),
    "dense": lambda **kw: tf.keras.layers.Dense(**kw),
    "bn": lambda **kw: tf.keras.layers.BatchNormalization(**kw),
    "relu": lambda **kw: tf.keras.layers.ReLU(**kw),
    "maxpool": lambda **kw: tf.keras.layers.MaxPool2D(**kw),
    "avgpool": lambda **kw: tf.keras.layers.AveragePooling2D(**kw),
    "gap": lambda **kw: tf.keras.layers.GlobalAveragePooling2D(**kw),
    "flatten": lambda **kw: tf.keras.layers.Flatten(**kw),
    "softmax": lambda **kw: tf.keras.layers.Softmax(**kw),
    "prelu": lambda **kw: tf.keras.layers.PReLU(shared_axes=kw.pop("shared_axes", None), **kw),
    "leaky_relu": lambda **kw: tf.keras.layers.LeakyReLU(**kw),
}


def make_model(input_shape: tuple[int, ...], layers: list[tuple[str, dict]], *,
               seed: int = 0) -> tf.keras.Model:
    """A Sequential-like functional model of ``layers`` on an input of ``input_shape``
    (batch fixed to 1, as LCE converts). Kinds are the keys of ``LAYER_KINDS``."""
    tf.keras.utils.set_random_seed(seed)
    x_in = tf.keras.Input(shape=input_shape, batch_size=1)
    x = x_in
    for kind, options in layers:
        x = LAYER_KINDS[kind](**dict(options))(x)
    return tf.keras.Model(x_in, x)


def randomize_model(model: tf.keras.Model, rng: np.random.Generator, *,
                    zero_gamma_frac: float = 0.0) -> None:
    """Draws latent weights N(0,1) and BatchNorm statistics as in spec §10: multipliers
    often negative, sometimes exactly 0, non-trivial biases."""
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            n = layer.gamma.shape[0] if layer.gamma is not None else layer.moving_mean.shape[0]
            gamma = rng.normal(size=n)
            gamma[rng.random(n) < zero_gamma_frac] = 0.0
            weights = []
            if layer.scale:
                weights.append(gamma)
            if layer.center:
                weights.append(rng.normal(0, 2, size=n))
            weights += [rng.normal(0, 4, size=n), rng.uniform(0.3, 6, size=n)]
            layer.set_weights([w.astype("float32") for w in weights])
        elif layer.weights:
            layer.set_weights([rng.normal(size=w.shape).astype("float32")
                               for w in layer.get_weights()])


def convert(model: tf.keras.Model, **lce_kwargs) -> bytes:
    """``lce.convert_keras_model`` with the arm target (the default)."""
    return lce.convert_keras_model(model, **lce_kwargs)


def expose_all_tensors(fb: bytes) -> tuple[bytes, list[int]]:
    """A copy of ``fb`` whose subgraph outputs are every operator output (spec §11.4);
    returns the new flatbuffer and the tensor index of each output, in order."""
    model = tflite_schema.ModelT.InitFromObj(tflite_schema.Model.GetRootAsModel(fb, 0))
    sub = model.subgraphs[0]
    outputs = list(sub.outputs)
    for op in sub.operators:
        for t in op.outputs:
            if t not in outputs:
                outputs.append(int(t))
    sub.outputs = outputs
    model.signatureDefs = None
    builder = flatbuffers.Builder(len(fb) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), outputs


def run_all(fb: bytes, x: np.ndarray, *, use_reference_bconv: bool = False,
            use_indirect_bgemm: bool = False, num_threads: int = 1) -> dict[int, np.ndarray]:
    """Runs ``fb`` on one input ``x`` (with its batch dim of 1) and returns the value
    of every operator output and of the model input: tensor index -> array."""
    exposed, indices = expose_all_tensors(fb)
    interp = LceInterpreter(exposed, num_threads=num_threads,
                            use_reference_bconv=use_reference_bconv,
                            use_indirect_bgemm=use_indirect_bgemm)
    values = interp.interpreter.predict([x])
    found = dict(zip(indices, values))
    model = tflite_schema.Model.GetRootAsModel(fb, 0)
    found[int(model.Subgraphs(0).Inputs(0))] = x
    return found


def run_model(fb: bytes, x: np.ndarray, **kwargs) -> np.ndarray:
    """LCE's predictions for a batch ``x`` (no batch dim limit; one image at a time)."""
    interp = LceInterpreter(fb, num_threads=1, **kwargs)
    return interp.predict(x)
