"""A larq_zoo model saved to .keras loads again with bnn_lq.train.load_model in a fresh
process, where nothing imported larq_zoo (QuickNet's depthwise blur-pool initializer is not
registered with Keras by larq_zoo; a model card run failed on exactly that)."""

from __future__ import annotations

import subprocess
import sys

import pytest

_LOAD = """
import sys
import bnn_lq
from bnn_lq.train import load_model
m = load_model(sys.argv[1])
assert "larq_zoo" in sys.modules  # the loader brought what the model needs
print("params", m.count_params())
"""


@pytest.mark.slow
def test_quicknet_small_loads_in_a_fresh_process(tmp_path):
    import bnn_lq  # noqa: F401
    from bnn_lq import zoo

    model = zoo.get("quicknet_small", input_shape=(28, 28, 1), num_classes=10)
    model.save(tmp_path / "model.keras")
    done = subprocess.run([sys.executable, "-c", _LOAD, str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"params {model.count_params()}" in done.stdout
