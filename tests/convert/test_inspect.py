"""bnn_lq.convert.inspect on a hand-built graph (numbers checked by hand) and on a real
LCE conversion; the inspect and convert CLI verbs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bnn_lq.convert import format_inspection, inspect, read
from bnn_lq.convert.graph import Graph, Operator, Tensor


def hand_graph() -> Graph:
    """x[1,6,6,64] f32 -> LceQuantize -> q[1,6,6,2] i32 -> LceBconv2d(3x3 VALID, 40 out,
    filter [40,3,3,2]) -> y[1,4,4,40] f32 -> RESHAPE -> f[1,640] -> LceQuantize -> LceDequantize
    -> FULLY_CONNECTED(w [10,640] ±1) -> out[1,10]."""
    rng = np.random.default_rng(0)
    t = [
        Tensor(0, "x", (1, 6, 6, 64), "float32"),
        Tensor(1, "q", (1, 6, 6, 2), "int32"),
        Tensor(2, "filter", (40, 3, 3, 2), "int32", data=np.zeros((40, 3, 3, 2), np.int32)),
        Tensor(3, "pam", (40,), "float32", data=np.ones(40, np.float32)),
        Tensor(4, "pab", (40,), "float32", data=np.zeros(40, np.float32)),
        Tensor(5, "y", (1, 4, 4, 40), "float32"),
        Tensor(6, "shape", (2,), "int32", data=np.array([1, 640], np.int32)),
        Tensor(7, "f", (1, 640), "float32"),
        Tensor(8, "fq", (1, 20), "int32"),
        Tensor(9, "fd", (1, 640), "float32"),
        Tensor(10, "w", (10, 640), "float32",
               data=np.where(rng.random((10, 640)) < 0.5, -1.0, 1.0).astype(np.float32)),
        Tensor(11, "out", (1, 10), "float32"),
    ]
    ops = [
        Operator(0, "LceQuantize", (0,), (1,)),
        Operator(1, "LceBconv2d", (1, 2, 3, 4, -1), (5,),
                 dict(channels_in=64, padding="VALID", stride_height=1, stride_width=1,
                      dilation_height_factor=1, dilation_width_factor=1, pad_values=0,
                      fused_activation_function="NONE")),
        Operator(2, "RESHAPE", (5, 6), (7,)),
        Operator(3, "LceQuantize", (7,), (8,)),
        Operator(4, "LceDequantize", (8,), (9,)),
        Operator(5, "FULLY_CONNECTED", (9, 10, -1), (11,)),
    ]
    return Graph(tensors=t, operators=ops, inputs=(0,), outputs=(11,), source="hand")


def test_hand_checked_numbers():
    r = inspect(hand_graph(), file_bytes=40000)
    assert r.binary_macs == 4 * 4 * 40 * 3 * 3 * 64  # OH*OW*Cout*KH*KW*Cin = 368,640
    assert r.real_macs == 10 * 640
    assert r.bytes["bitpacked_weights"] == 40 * 9 * 2 * 4  # 2,880
    assert r.bytes["float_weights"] == 40 * 4 * 2 + 10 * 640 * 4  # pam, pab, FC weights
    assert r.bytes["int8_weights"] == 0 and r.bytes["other_constants"] == 8
    assert r.bytes["flatbuffer_overhead"] == 40000 - (2880 + 25920 + 8)
    # Live bytes per step: before op 0 x=9216; op 0: x + q(288) = 9504; op 1: q + y(2560)
    # = 2848; op 2: y + f(2560) = 5120; op 3: f + fq(80); op 4: fq + fd; op 5: fd + out.
    assert r.peak_activation_bytes == 9216 + 288 and r.peak_at_op == 0
    assert [row.bitpacked for row in r.rows] == [False, True, False, False, False, False]
    assert len(r.warnings) == 1 and "op 5 'FULLY_CONNECTED'" in r.warnings[0]
    assert "25600 bytes instead of 800" in r.warnings[0]
    text = format_inspection(r)
    assert "LceBconv2d" in text and "368,640" in text and "9,504" in text
    json.dumps(r.to_dict())  # serializable


@pytest.mark.slow
def test_real_conversion_inspection(small_cnn_tflite):
    r = inspect(read(small_cnn_tflite), file_bytes=len(small_cnn_tflite))
    assert sum(r.bytes.values()) == len(small_cnn_tflite)
    # bconv1 (10x10 out, 40 ch, 3x3, Cin 16) + bconv2 (8x8, 33, 3x3, 40) + bconv3 (4x4, 20, 3x3, 33)
    assert r.binary_macs == 100 * 40 * 9 * 16 + 64 * 33 * 9 * 40 + 16 * 20 * 9 * 33
    # float: conv0 (10x10x16 outputs x 27) + fc1 (32 x 320) + fc2 (10 x 32)
    assert r.real_macs == 1600 * 27 + 32 * 320 + 10 * 32
    assert sum("binary dense layer stored unpacked" in w for w in r.warnings) == 2


@pytest.mark.slow
def test_cli_convert_and_inspect(small_cnn, tmp_path, capsys):
    from bnn_lq.cli import main

    keras_path = tmp_path / "m.keras"
    small_cnn.save(keras_path)
    out = tmp_path / "m.tflite"
    assert main(["convert", str(keras_path), "-o", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bytes"] == out.stat().st_size > 0
    assert main(["convert", str(keras_path), "-o", str(out)]) == 2  # exists, no --force
    assert main(["inspect", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["op"] for row in report["rows"]].count("LceBconv2d") == 5
    assert report["warnings"] == []
    (tmp_path / "bad.tflite").write_bytes(b"not a model at all")
    assert main(["inspect", str(tmp_path / "bad.tflite")]) == 1
    assert "bad.tflite" in capsys.readouterr().err
