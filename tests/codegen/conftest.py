"""Fixtures of the code-generation tests: a few tiny Larq models converted by LCE once
per session (cached on disk, conversions are slow on this machine), and helpers to
compile the generated C with the runtime on the host.

The models are chosen so that, together, they walk every code path of codegen.py:
bit-packed chains, SAME with pad_values 0 and 1, stride 2, LceBMaxPool2d, a float first
layer, real-input binary-kernel layers (the binw path), binary dense layers
(LceDequantize -> FULLY_CONNECTED), global average pooling and softmax.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bnn_lq  # noqa: E402,F401  (Keras 2 switch, before TensorFlow loads)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# name -> (input_shape, [(kind, options)], convert kwargs); kinds are oracle.LAYER_KINDS
# plus the extra ones in _EXTRA_KINDS below. Keep them tiny: every one costs a conversion.
MODEL_SPECS = {
    # float first layer, bit-packed output chain, SAME pv=1 stride 2, BMaxPool,
    # SAME pv=0 (float correction), GAP, float dense, softmax
    "bchain": ((16, 16, 3), [
        ("conv", dict(filters=8, kernel_size=3, padding="same")),
        ("bn", {}),
        ("bconv", dict(filters=32, kernel_size=3)),
        ("bn", {}),
        ("bconv", dict(filters=33, kernel_size=3, padding="same", pad_values=1.0, strides=2)),
        ("bn", {}),
        ("maxpool", dict(pool_size=2)),
        ("bconv", dict(filters=20, kernel_size=3, padding="same")),
        ("bn", {}),
        ("gap", {}),
        ("dense", dict(units=10)),
        ("softmax", {}),
    ], {}),
    # real-input binary-kernel first layers (ste_sign: +-1, magnitude_aware_sign: +-c),
    # binary conv, flatten, binary dense layers (+-c after BN, +-1 without), softmax
    "binw": ((8, 8, 2), [
        ("rconv_bink", dict(filters=8, kernel_size=3)),
        ("bn", {}),
        ("rconv_bink", dict(filters=6, kernel_size=3, padding="same",
                            kernel_quantizer="magnitude_aware_sign")),
        ("bn", {}),
        ("bconv", dict(filters=16, kernel_size=3)),
        ("bn", {}),
        ("flatten", {}),
        ("bdense", dict(units=12)),
        ("bn", {}),
        ("bdense", dict(units=10)),
        ("softmax", {}),
    ], {}),
}

CACHE = pathlib.Path(os.environ.get("BNN_LQ_CACHE", "/tmp/bnn_lq_interp")) / "codegen"


def _rconv_bink(**kw):
    import larq as lq

    kw.setdefault("kernel_quantizer", "ste_sign")
    return lq.layers.QuantConv2D(input_quantizer=None, use_bias=kw.pop("use_bias", False),
                                 kernel_constraint="weight_clip", **kw)


_EXTRA_KINDS = {"rconv_bink": _rconv_bink}


def _key(name: str) -> str:
    import larq_compute_engine
    import tensorflow as tf

    text = repr((MODEL_SPECS[name], tf.__version__, larq_compute_engine.__version__))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_model(name: str, seed: int = 0):
    """The Keras model ``name`` of MODEL_SPECS with seeded random weights and BN stats."""
    import oracle
    import tensorflow as tf

    input_shape, layers, _ = MODEL_SPECS[name]
    kinds = {**oracle.LAYER_KINDS, **_EXTRA_KINDS}
    tf.keras.utils.set_random_seed(seed)
    x_in = tf.keras.Input(shape=input_shape, batch_size=1)
    x = x_in
    for kind, options in layers:
        x = kinds[kind](**dict(options))(x)
    model = tf.keras.Model(x_in, x)
    oracle.randomize_model(model, np.random.default_rng(seed))
    return model


def model_tflite(name: str) -> bytes:
    """LCE's conversion of ``name``, cached on disk under $BNN_LQ_CACHE/codegen."""
    path = CACHE / f"{name}-{_key(name)}.tflite"
    if not path.exists():
        import oracle

        CACHE.mkdir(parents=True, exist_ok=True)
        fb = oracle.convert(build_model(name), **MODEL_SPECS[name][2])
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(fb)
        tmp.replace(path)
    return path.read_bytes()


@pytest.fixture(scope="session")
def tflite_models():
    """name -> flatbuffer bytes, converted lazily (each conversion once per cache)."""

    class _Lazy(dict):
        def __missing__(self, name):
            self[name] = model_tflite(name)
            return self[name]

    return _Lazy()


if __name__ == "__main__":  # fill the cache: .venv/bin/python tests/codegen/conftest.py
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    for model_name in sys.argv[1:] or MODEL_SPECS:
        print(model_name, len(model_tflite(model_name)))
