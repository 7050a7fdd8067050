"""bnn_lq.budget: exact byte and MAC counts on hand-computed models, board checks, CLI."""

import json

import bnn_lq  # noqa: F401  (Keras 2 before TensorFlow)
import larq as lq
import pytest
import tensorflow as tf

from bnn_lq.budget import BOARD_LIMITS, budget, format_budget, summary
from bnn_lq.layers import BinaryDense

L = tf.keras.layers
BIN = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip")


def _tiny():
    """6x6x3 -> conv1 (33, 3x3, real) -> bn1 -> qc (40, 3x3, binary) -> flat -> qd (10)."""
    inp = tf.keras.Input((6, 6, 3))
    x = L.Conv2D(33, 3, name="conv1")(inp)
    x = L.BatchNormalization(name="bn1")(x)
    x = lq.layers.QuantConv2D(40, 3, use_bias=False, name="qc", **BIN)(x)
    x = L.Flatten(name="flat")(x)
    return tf.keras.Model(inp, lq.layers.QuantDense(10, name="qd", **BIN)(x), name="tiny")


# Worked by hand (batch 1, float32 = 4 B, packed = ceil(C / 32) int32 words per pixel):
#  input 6x6x3 float                                  = 432 B
#  conv1 kernel 3*3*3*33 = 891 + bias 33 real; out 4x4x33 float = 2112 B (bn1 is real)
#        live 432 + 2112 = 2544; MACs 16 * 891 = 14256 real
#  bn1   2 * 33 = 66 real; out packed (qc binarizes it): 16 * 2 words * 4 = 128 B
#        live 2112 + 128 = 2240
#  qc    kernel 3*3*33*40 = 11880 binary, packed 40 * 9 * ceil(33/32)=2 words * 4 = 2880 B
#        out 2x2x40 float = 640 B; live 128 + 640 = 768; MACs 4 * 11880 = 47520 binary
#  flat  out 160, packed (qd binarizes): ceil(160/32) = 5 words = 20 B; live 640 + 20 = 660
#  qd    kernel 160*10 = 1600 binary, packed 10 * 5 * 4 = 200 B; bias 10 real
#        out 10 float = 40 B (model output); live 20 + 40 = 60; MACs 1600 binary
TINY = {
    "conv1": dict(binary_weights=0, binary_weight_bytes=0, real_params=924, output_bytes=2112,
                  live_bytes=2544, binary_macs=0, real_macs=14256, is_output_packed=False),
    "bn1": dict(binary_weights=0, binary_weight_bytes=0, real_params=66, output_bytes=128,
                live_bytes=2240, binary_macs=0, real_macs=0, is_output_packed=True),
    "qc": dict(binary_weights=11880, binary_weight_bytes=2880, real_params=0, output_bytes=640,
               live_bytes=768, binary_macs=47520, real_macs=0, is_output_packed=False),
    "flat": dict(binary_weights=0, binary_weight_bytes=0, real_params=0, output_bytes=20,
                 live_bytes=660, binary_macs=0, real_macs=0, is_output_packed=True),
    "qd": dict(binary_weights=1600, binary_weight_bytes=200, real_params=10, output_bytes=40,
               live_bytes=60, binary_macs=1600, real_macs=0, is_output_packed=False),
}


def test_tiny_model_exact_numbers():
    b = budget(_tiny())
    assert [lb.name for lb in b.layers] == list(TINY)
    for lb in b.layers:
        assert {k: getattr(lb, k) for k in TINY[lb.name]} == TINY[lb.name], lb.name
        assert lb.real_float32_bytes == 4 * lb.real_params and lb.real_int8_bytes == lb.real_params
    assert b.input_bytes == 432
    assert (b.binary_weight_bytes, b.real_params, b.real_float32_bytes, b.real_int8_bytes) == \
        (3080, 1000, 4000, 1000)
    assert (b.binary_macs, b.real_macs) == (49120, 14256)
    assert (b.peak_activation_bytes, b.peak_layer) == (2544, "conv1")
    assert (b.flash_float32_bytes, b.flash_int8_bytes) == (7080, 4080)
    assert b.layers[2].is_binary_input and b.layers[2].is_binary_kernel
    assert b.layers[2].output_shape == (2, 2, 40)


def test_macs_agree_with_larq_summary():
    from larq.models import ModelProfile

    model = _tiny()
    ours = {lb.name: lb for lb in budget(model).layers}
    for profile in ModelProfile(model).layer_profiles:
        if profile.name in ("conv1", "qc", "qd"):
            assert profile.op_count("mac", 1) == ours[profile.name].binary_macs, profile.name
            assert profile.op_count("mac", 32) == ours[profile.name].real_macs, profile.name


def test_seed_mlp_numbers():
    model = tf.keras.Sequential([
        L.Flatten(input_shape=(28, 28), name="flatten"),
        BinaryDense(128, use_bias=False, is_binarized_activation=False, name="binary_dense"),
        BinaryDense(64, use_bias=False, name="binary_dense_1"),
        BinaryDense(10, use_bias=False, name="binary_dense_2")])
    b = budget(model)
    rows = {lb.name: lb for lb in b.layers}
    # 784 -> ceil(784/32) = 25 words per output; 128 -> 4; 64 -> 2
    assert [lb.binary_weight_bytes for lb in b.layers] == [0, 128 * 25 * 4, 64 * 4 * 4, 10 * 2 * 4]
    assert [lb.real_params for lb in b.layers] == [0, 256, 128, 20]  # folded batch norms
    assert rows["binary_dense"].real_macs == 784 * 128 and rows["binary_dense"].binary_macs == 0
    assert b.binary_macs == 128 * 64 + 64 * 10
    # Flatten's output feeds a real-input layer: float. Peak = 3136 in + 3136 out.
    assert (b.peak_activation_bytes, b.peak_layer) == (6272, "flatten")
    assert rows["binary_dense"].is_output_packed and not rows["binary_dense_2"].is_output_packed


def test_skip_connection_keeps_tensor_alive():
    inp = tf.keras.Input((8,))
    a = L.Dense(8, name="a")(inp)
    c = L.Dense(8, name="c")(L.Dense(16, name="b")(a))
    model = tf.keras.Model(inp, L.Add(name="add")([a, c]))
    live = {lb.name: lb.live_bytes for lb in budget(model).layers}
    # At c: a (32, still needed by add) + b (64) + c (32); a chain would say 96.
    assert live == {"a": 32 + 32, "b": 32 + 64, "c": 32 + 64 + 32, "add": 32 + 32 + 32}


def test_binary_depthwise_is_counted_real_with_a_note():
    model = tf.keras.Sequential([tf.keras.Input((5, 5, 4)), lq.layers.QuantDepthwiseConv2D(
        3, input_quantizer="ste_sign", depthwise_quantizer="ste_sign",
        depthwise_constraint="weight_clip", name="dw")])
    (lb,) = budget(model).layers
    assert (lb.binary_weight_bytes, lb.real_params) == (0, 36 + 4)
    assert lb.binary_macs == 9 * 36 and lb.is_binary_kernel
    assert "LCE" in lb.note
    assert "LCE" in format_budget(budget(model))


def test_input_shape_for_models_without_input():
    model = tf.keras.Sequential([L.Dense(4, name="d")])
    with pytest.raises(ValueError, match="pass input_shape"):
        budget(model)
    b = budget(model, input_shape=(8,))
    assert b.input_bytes == 32 and b.layers[0].real_params == 36


def test_board_limits_and_verdicts():
    assert BOARD_LIMITS["netduinoplus2"] == (1024 * 1024, 192 * 1024, "STM32F405")
    assert BOARD_LIMITS["microbit"][:2] == (256 * 1024, 16 * 1024)
    assert BOARD_LIMITS["stm32vldiscovery"][:2] == (128 * 1024, 8 * 1024)
    for name in ("mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547"):
        assert BOARD_LIMITS[name][:2] == (4 * 1024 * 1024,) * 2
    model = tf.keras.Sequential([tf.keras.Input((48, 48, 1)), L.Conv2D(4, 3, name="c")])
    b = budget(model)  # 48*48*4 + 46*46*4*4 = 43072 B of activations
    assert b.peak_activation_bytes == 43072
    assert b.fits("stm32vldiscovery")["fits_ram"] is False
    assert b.fits("netduinoplus2")["fits_ram"] is True
    text = format_budget(b, board="stm32vldiscovery")
    assert "fits in STM32F100 (stm32vldiscovery: 128.0 KiB flash / 8,192 B RAM)?" in text
    assert "42.1 KiB activations -> DOES NOT FIT" in text
    with pytest.raises(ValueError, match="unknown board 'uno'; known boards: microbit, "):
        b.fits("uno")


def test_summary_has_larq_table_and_budget():
    text = summary(_tiny(), board="microbit")
    assert "tiny stats" in text and "Ratio of MACs that are binarized" in text
    assert "Budget of 'tiny'" in text and "fits in nRF51822" in text
    assert "3,080" in text  # total bit-packed binary weight bytes


def test_cli_summary_json(tmp_path, capsys):
    from bnn_lq.cli import main

    path = tmp_path / "tiny.keras"
    model = _tiny()
    model.save(path)
    assert main(["summary", str(path), "--json", "--board", "microbit"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == budget(model).to_dict()["total"]
    assert data["board"]["fits_ram"] is True and data["board"]["part"] == "nRF51822"
    assert main(["summary", str(path)]) == 0
    assert "Budget of 'tiny'" in capsys.readouterr().out
    assert main(["summary", str(tmp_path / "missing.keras")]) == 2
    assert "no such model file" in capsys.readouterr().err
