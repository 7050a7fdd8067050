"""bnn-lq bench mcu's report: ratios, the measured stack and the per-operator table come
out of the measured runs (a synthetic McuBench, no QEMU)."""

from __future__ import annotations

import json

from bnn_lq import bench


def _run(instr, stack, agree=2):
    return {"per_inference": instr, "flash_bytes": 70_000, "ram_bytes": 13_824,
            "arena_bytes": 2_352, "weight_bytes": 33_264, "stack_bytes": stack,
            "agree": agree, "images": 2}


def test_report_ratios_stack_and_ops(tmp_path):
    result = bench.McuBench(
        model="m", boards=["netduinoplus2"],
        runs={"netduinoplus2": {"binary-ref": _run(18_000_000, 516),
                                "binary-opt": _run(3_000_000, 2_484),
                                "int8": _run(15_000_000, 3_356),
                                "float": {"error": "does not fit"}}},
        layers={}, tflite_bytes={"binary": 38_000},
        ops={"netduinoplus2": {
            "binary-ref": [{"op": 3, "name": "LceBconv2d", "per_inference": 7_200_000,
                            "macs": 3_600_000}],
            "binary-opt": [{"op": 3, "name": "LceBconv2d", "per_inference": 1_200_000,
                            "macs": 3_600_000}]}})
    files = bench.write_report(result, tmp_path, command="bnn-lq bench mcu --boards netduinoplus2")
    table = files["table"].read_text()
    assert "| netduinoplus2 | binary-opt | 3,000,000 |" in table
    assert "| 2,484 | 2/2 | 1.00x |" in table                 # measured stack column
    assert "| netduinoplus2 | 6.00x | 5.00x | - |" in table   # ref/opt, int8/opt, float missing
    assert "| 3 | LceBconv2d | 7,200,000 | 1,200,000 | 6.00x | 3,600,000 | 3.00 | 100.0% |" in table
    assert "does not fit" in table
    assert json.loads(files["json"].read_text())["runs"]["netduinoplus2"]["int8"]["stack_bytes"] == 3_356
    assert files["plot"].stat().st_size > 0


def test_resolve_weights(tmp_path):
    """--weights: the committed trained model by default, untrained on request, a run
    directory or file as given, and a clear error for a path without a model."""
    import pytest

    from bnn_lq.errors import BnnLqError

    committed = bench.resolve_weights("bnn_cnn_small", "pretrained")
    assert committed is not None and committed.name == "model.keras" and committed.is_file()
    assert bench.resolve_weights("no_such_model", "pretrained") is None
    assert bench.resolve_weights("bnn_cnn_small", "none") is None
    assert bench.resolve_weights("bnn_cnn_small", None) is None
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"x")
    assert bench.resolve_weights("m", run) == run / "model.keras"
    with pytest.raises(BnnLqError, match="no model.keras at"):
        bench.resolve_weights("m", tmp_path / "missing")


def test_report_names_the_weights(tmp_path):
    result = bench.McuBench(model="m", boards=[], runs={}, layers={}, tflite_bytes={},
                            weights="bnn_lq/pretrained/m_fashion_mnist/model.keras")
    table = bench.write_report(result, tmp_path)["table"].read_text()
    assert "Weights: bnn_lq/pretrained/m_fashion_mnist/model.keras." in table
