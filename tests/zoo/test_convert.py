"""Zoo architectures through LCE: every binary layer becomes a bit-packed ``LceBconv2d``,
LCE's interpreter agrees with Keras, and the MCU family fits its boards by the code
generator's own numbers (``bnn_lq.convert.plan``).

One LCE conversion per architecture per session (10-80 s each on a loaded 2-core
machine), cached in a session temp dir: the three MCU entries plus two
representative literature architectures (residual: ``binary_resnet``; scaled
binary weights: ``xnornet``), at reduced width so that conversion stays short.
"""

from __future__ import annotations

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from bnn_lq import zoo
from bnn_lq.convert import read
from bnn_lq.convert.plan import plan
from bnn_lq.quantizers import is_sign_like

pytestmark = pytest.mark.slow

KiB = 1024
# What the firmware needs besides the model: code 40 KB of flash (runtime + app measured
# at 20-40 KB) and 1 KB of RAM for the app's own .data/.bss. The stack is the deploy
# board's own reserve (bnn_lq.deploy.BOARDS[...].stack_bytes).
CODE, APP_RAM = 40 * KiB, 1 * KiB
BOARDS = {"mcu_tiny": "stm32vldiscovery", "mcu_micro": "microbit", "mcu_f4": "netduinoplus2"}

CASES = {
    "mcu_tiny": {},
    "mcu_micro": {},
    "mcu_f4": {},
    "binary_resnet": {"depth": 8, "inflate": 2},
    "xnornet": {"width": 0.25, "dense_units": (64,)},
}


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """name -> (model, tflite bytes), converting each at most once per session."""
    from bnn_lq.convert.lce import to_tflite

    cache_dir = tmp_path_factory.mktemp("zoo_tflite")
    cache: dict[str, tuple] = {}

    def get(name):
        if name not in cache:
            tf.keras.utils.set_random_seed(7)
            model = zoo.get(name, input_shape=(28, 28, 1), num_classes=10, **CASES[name])
            _randomize_batch_norms(model, np.random.default_rng(7))
            fb = to_tflite(model)
            (cache_dir / f"{name}.tflite").write_bytes(fb)
            cache[name] = (model, fb)
        return cache[name]

    return get


def _randomize_batch_norms(model, rng):
    """Non-trivial BN statistics, so that a wrong fold changes predictions."""
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            for v in layer.weights:
                n = v.shape[0]
                if "moving_variance" in v.name:
                    v.assign(rng.uniform(0.5, 2.0, n).astype("float32"))
                elif "gamma" in v.name:
                    v.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
                else:
                    v.assign(rng.normal(0, 0.5, n).astype("float32"))


def _binary_layers(model):
    return [lyr for lyr in model.layers
            if isinstance(lyr, (lq.layers.QuantConv2D, lq.layers.QuantDense))
            and is_sign_like(lyr.input_quantizer) and is_sign_like(lyr.kernel_quantizer)]


@pytest.mark.parametrize("name", list(CASES))
def test_every_binary_layer_becomes_a_bitpacked_bconv(converted, name):
    model, fb = converted(name)
    ops = [op.op for op in read(fb).operators]
    assert ops.count("LceBconv2d") == len(_binary_layers(model)), ops
    pools = [lyr for lyr in model.layers if isinstance(lyr, tf.keras.layers.MaxPool2D)]
    assert ops.count("LceBMaxPool2d") == len(pools), ops  # every max-pool runs on packed bits
    assert "MAX_POOL_2D" not in ops
    if name != "xnornet":  # XNOR-Net's last layer is real valued (a float FULLY_CONNECTED)
        assert "FULLY_CONNECTED" not in ops


@pytest.mark.parametrize("name", list(CASES))
def test_lce_agrees_with_keras(converted, name, rng):
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    model, fb = converted(name)
    x = rng.uniform(-1, 1, size=(8, 28, 28, 1)).astype("float32")
    want = model.predict(x, verbose=0)
    got = Interpreter(fb, num_threads=1).predict(x)
    # The same arithmetic in a different order: float sums of BN-folded outputs differ by
    # rounding only (1e-4 on probabilities); a dropped or mis-folded BN changes them by >1e-2.
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert np.array_equal(np.argmax(got, -1), np.argmax(want, -1))


@pytest.mark.parametrize("name", list(BOARDS))
def test_mcu_models_fit_their_boards(converted, name):
    from bnn_lq.deploy import BOARDS as DEPLOY_BOARDS

    board = DEPLOY_BOARDS[BOARDS[name]]
    assert board.name in {e.name: e for e in zoo.entries()}[name].board
    _, fb = converted(name)
    p = plan(read(fb))
    assert p.arena_bytes + APP_RAM + board.stack_bytes <= board.ram_bytes, p.summary()
    assert p.weight_bytes + CODE <= board.flash_bytes, p.summary()
