"""bnn-lq: binarized neural networks from Keras/Larq to Cortex-M microcontrollers.

Importing ``bnn_lq`` is cheap and does not import TensorFlow: the submodules that
need TensorFlow (layers, quantizers, train, binarize, zoo, convert) load on first
attribute access. ``bnn_lq.interpreter`` needs NumPy only.
"""

import importlib

from bnn_lq._keras2 import ensure_keras2

ensure_keras2()

__version__ = "0.1.0"

_SUBMODULES = (
    "binarize_", "budget", "cli", "convert", "data", "deploy", "errors", "interpreter", "layers",
    "pipeline", "quantizers", "report", "train", "zoo",
)

__all__ = [
    "Interpreter", "binarize", "BinarizeConfig", "budget", "convert", "data", "deploy", "errors",
    "interpreter", "layers", "quantizers", "report", "train", "zoo",
]


def __getattr__(name):
    if name == "Interpreter":
        return importlib.import_module("bnn_lq.interpreter").Interpreter
    if name in ("binarize", "BinarizeConfig"):
        return getattr(importlib.import_module("bnn_lq.binarize_"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"bnn_lq.{name}")
    raise AttributeError(f"module 'bnn_lq' has no attribute {name!r}")
