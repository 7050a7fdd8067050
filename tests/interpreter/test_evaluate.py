"""bnn_lq.evaluate: runtime registry, metrics and the tflite-runtime error (fast; the
LCE-vs-numpy agreement itself is tested in test_against_lce.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bnn_lq import evaluate as ev
from bnn_lq.errors import UnsupportedOpError


@pytest.fixture
def fake_runtimes(monkeypatch):
    monkeypatch.setattr(ev, "RUNTIMES", dict(ev.RUNTIMES))
    monkeypatch.setattr(ev, "_io_details", lambda path: ((np.dtype("float32"), (0.0, 0)),
                                                          (np.dtype("float32"), (0.0, 0))))
    # "good" returns one-hot of the label-coded first pixel; "bad" flips every 4th image.
    ev.register_runtime("good", lambda p, x, batch_size, **_: np.eye(3)[x[:, 0].astype(int)])

    def bad(p, x, batch_size, **_):
        out = np.eye(3)[x[:, 0].astype(int)]
        out[::4] = np.roll(out[::4], 1, axis=1)
        return out
    ev.register_runtime("bad", bad)
    ev.register_runtime("broken", lambda p, x, batch_size, **_: 1 / 0)


def test_metrics_and_errors(fake_runtimes):
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    x = y[:, None].astype(np.float32)
    r = ev.evaluate("m.tflite", (x, y), runtimes=("good", "bad", "broken"))
    assert r.n == 8 and r.accuracy["good"] == 1.0 and r.accuracy["bad"] == 0.75
    assert r.agreement[("good", "bad")] == 0.75 and r.max_abs_diff[("good", "bad")] == 1.0
    assert "broken" in r.errors and "division" in r.errors["broken"]
    assert "good vs bad" in r.table() and r.to_json()["agreement"]["good|bad"] == 0.75


def test_unknown_runtime(fake_runtimes):
    with pytest.raises(ValueError, match="unknown runtime"):
        ev.evaluate("m.tflite", (np.zeros((1, 1)), np.zeros(1)), runtimes=("nope",))


def test_int8_input_quantized():
    q = ev._quantize_input(np.array([0.5, -0.5, 10.0, -0.25]), np.dtype("int8"), (0.25, -1))
    np.testing.assert_array_equal(q, [1, -3, 39, -2])


@pytest.mark.slow
def test_tflite_runtime_refuses_lce_ops(tmp_path):
    from interp_helpers import cached_conversion  # noqa: F401  (path setup)
    from zoo_models import cache_dir

    models = sorted(cache_dir().glob("float_chain-*.tflite"))
    if not models:
        pytest.skip("run test_against_lce.py first (it converts float_chain)")
    with pytest.raises(UnsupportedOpError, match="unresolved custom op: Lce"):
        ev._tflite_runtime(models[0], np.zeros((1, 11, 11, 3), np.float32))
