"""A trained larq_zoo model saved by bnn_lq.train.fit loads again with bnn_lq.train.load_model
(QuickNet's depthwise blur-pool initializer is not registered with Keras by larq_zoo)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_quicknet_small_round_trip(tmp_path):
    import bnn_lq  # noqa: F401
    from bnn_lq import zoo
    from bnn_lq.train import load_model

    model = zoo.get("quicknet_small", input_shape=(28, 28, 1), num_classes=10)
    model.save(tmp_path / "model.keras")
    again = load_model(tmp_path)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
