"""The host C runtime builds and predicts from a relative model path (its build cache then
lies next to the model; make runs in the firmware directory, so the path must be absolute)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

CARD_MODEL = Path(__file__).resolve().parents[2] / "zoo" / "cards" / "bnn_mlp_digits.tflite"


@pytest.mark.skipif(not CARD_MODEL.is_file(), reason="the digits reference card is not committed")
def test_relative_model_path(tmp_path, monkeypatch):
    if shutil.which("gcc") is None or shutil.which("make") is None:
        pytest.skip("needs gcc and make")
    from bnn_lq import c_runtime, data
    from bnn_lq.interpreter import Interpreter

    shutil.copy(CARD_MODEL, tmp_path / "m.tflite")
    monkeypatch.chdir(tmp_path)
    x, _ = data.load("digits", "test", limit=8)
    got = c_runtime.predict("m.tflite", x.astype(np.float32), target="host")
    want = Interpreter(str(tmp_path / "m.tflite")).predict(x.astype(np.float32))
    assert np.array_equal(np.asarray(got).argmax(axis=-1), np.asarray(want).argmax(axis=-1))
    assert (tmp_path / ".bnn-lq-c" / "host").is_dir()
