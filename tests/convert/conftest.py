"""Fixtures of tests/convert: a few tiny Larq models, each converted once per session.

Weights and BatchNorm statistics are random but seeded (spec lce-ops.md §10
distributions: negative and non-trivial multipliers), so every run converts the
same models.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bnn_lq  # noqa: E402,F401  (Keras-2 switch before TensorFlow)

from convert_models import build_small_cnn, build_small_int8  # noqa: E402


@pytest.fixture(scope="session")
def small_cnn():
    return build_small_cnn()


@pytest.fixture(scope="session")
def small_cnn_tflite(small_cnn) -> bytes:
    """Stock LCE conversion of ``small_cnn`` (no bnn-lq rewrite)."""
    import larq_compute_engine as lce

    return lce.convert_keras_model(small_cnn)


@pytest.fixture(scope="session")
def small_int8_tflite() -> bytes:
    import larq_compute_engine as lce
    import tensorflow as tf

    return lce.convert_keras_model(
        build_small_int8(), inference_input_type=tf.int8, inference_output_type=tf.int8,
        experimental_default_int8_range=(-3.0, 3.0))
