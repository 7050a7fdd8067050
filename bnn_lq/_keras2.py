"""Makes sure TensorFlow uses Keras 2 (tf-keras), which Larq 0.14 needs.

TensorFlow 2.16 picks Keras 3 unless ``TF_USE_LEGACY_KERAS=1`` is set before
``tf.keras`` is first touched. ``import bnn_lq`` sets it; if TensorFlow was
already loaded with Keras 3 there is no way back inside this process.
"""

import os
import sys

__all__ = ["ensure_keras2"]

_FIX = (
    "bnn_lq needs Keras 2 (tf-keras) because Larq 0.14 does not support Keras 3, but "
    "TensorFlow was imported before bnn_lq with Keras 3 active. Either import bnn_lq "
    "before tensorflow, or set TF_USE_LEGACY_KERAS=1 in the environment before starting "
    "Python (export TF_USE_LEGACY_KERAS=1)."
)


def ensure_keras2() -> None:
    """Sets ``TF_USE_LEGACY_KERAS=1``; raises ImportError if Keras 3 is already in use."""
    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        # TensorFlow's C++ start-up chatter (CUDA, oneDNN) hides our progress lines;
        # users who want it set TF_CPP_MIN_LOG_LEVEL themselves.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return
    # TensorFlow resolves tf.keras lazily, on first attribute access: if nobody has
    # touched it yet, setting the switch now still selects Keras 2.
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    keras_module = sys.modules["tensorflow"].keras.__name__
    if not keras_module.startswith("tf_keras"):
        raise ImportError(_FIX + f" (tf.keras resolves to {keras_module})")
