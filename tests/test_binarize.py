"""bnn_lq.binarize: config round trips, layer selection, weights, big functional models."""

import collections

import bnn_lq  # noqa: F401  (Keras 2 before TensorFlow)
import larq as lq
import numpy as np
import pytest
import tensorflow as tf
import yaml

from bnn_lq import BinarizeConfig, binarize
from bnn_lq.layers import BinaryDense
from bnn_lq.quantizers import DepthwiseMagnitudeAwareSign

L = tf.keras.layers


def _kinds(model):
    return {layer.name: type(layer).__name__ for layer in model.layers}


def _mlp():
    return tf.keras.Sequential([tf.keras.Input((20,)), L.Dense(16, name="fc1"),
                                L.BatchNormalization(name="bn1"), L.Dense(12, name="fc2"),
                                L.Dense(8, name="fc3"), L.Dense(4, name="out")], name="mlp")


def _branchy():
    """input -> (conv_a | conv_b) -> add -> conv_c -> dw -> flatten -> head."""
    inp = tf.keras.Input((8, 8, 3), name="img")
    a = L.Conv2D(4, 3, padding="same", name="conv_a")(inp)
    b = L.Conv2D(4, 1, name="conv_b")(inp)
    x = L.Add(name="add")([a, b])
    x = L.Conv2D(6, 3, name="conv_c")(x)
    x = L.DepthwiseConv2D(3, name="dw")(x)
    x = L.Flatten(name="flat")(x)
    return tf.keras.Model(inp, L.Dense(3, name="head")(x), name="branchy")


# --- BinarizeConfig ----------------------------------------------------------------------

CONFIGS = [
    pytest.param(BinarizeConfig(), id="default"),
    pytest.param(BinarizeConfig(input_quantizer="approx_sign", kernel_quantizer="xnor_weight_sign",
                                kernel_constraint=None, keep_first=False,
                                overrides={"conv_a": None, "conv_.*": {"input_quantizer": None},
                                           "head": BinarizeConfig(kernel_quantizer="ste_sign")},
                                ignore=["dw", "block_[0-9]+_.*"]), id="full"),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_config_dict_and_yaml_round_trip(config):
    assert BinarizeConfig.from_dict(config.to_dict()) == config
    text = yaml.safe_dump(config.to_dict())
    assert BinarizeConfig.from_dict(yaml.safe_load(text)) == config


def test_config_serializes_quantizer_objects():
    config = BinarizeConfig(input_quantizer=lq.quantizers.SteSign(clip_value=2.0))
    data = config.to_dict()
    assert data["input_quantizer"]["config"]["clip_value"] == 2.0
    assert lq.quantizers.get(data["input_quantizer"]).clip_value == 2.0


@pytest.mark.parametrize("data,error,match", [
    ({"kernel_quantiser": "ste_sign"}, ValueError, "unknown keys \\['kernel_quantiser'\\]"),
    ({"ignore": ["conv(["]}, ValueError, "neither a layer name nor a valid regular expression"),
    ({"ignore": "conv"}, TypeError, "list of names"),
    ({"overrides": {"x": {"keep_first": False, "bogus": 1}}}, ValueError, "unknown keys"),
    ({"overrides": {"x": 3}}, TypeError, "BinarizeConfig, a dict or None"),
])
def test_config_errors(data, error, match):
    with pytest.raises(error, match=match):
        BinarizeConfig.from_dict(data)


# --- Sequential ---------------------------------------------------------------------------


def test_sequential_default_keeps_first_and_last_and_all_weights():
    model = _mlp()
    binary = binarize(model)
    assert _kinds(binary) == {"fc1": "Dense", "bn1": "BatchNormalization", "fc2": "QuantDense",
                              "fc3": "QuantDense", "out": "Dense"}
    assert _kinds(model)["fc2"] == "Dense"  # the input model is untouched
    assert binary is not model and binary.name == "mlp"
    fc2 = binary.get_layer("fc2")
    assert isinstance(fc2.input_quantizer, lq.quantizers.SteSign)
    assert isinstance(fc2.kernel_quantizer, lq.quantizers.SteSign)
    assert isinstance(fc2.kernel_constraint, lq.constraints.WeightClip)
    for old in model.layers:  # every weight copied, converted ones as latent weights
        for a, b in zip(old.get_weights(), binary.get_layer(old.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    # New objects: training the copy does not touch the original.
    binary.get_layer("fc1").kernel.assign_add(tf.ones_like(binary.get_layer("fc1").kernel))
    assert not np.array_equal(model.get_layer("fc1").kernel.numpy(),
                              binary.get_layer("fc1").kernel.numpy())


def test_binarized_layers_really_quantize(rng):
    model = _mlp()
    binary = binarize(model, BinarizeConfig(keep_first=False, keep_last=False))
    x = rng.normal(size=(2, 20)).astype(np.float32)
    sign = lambda v: np.where(v < 0, -1.0, 1.0)  # noqa: E731
    w = [binary.get_layer(n).get_weights() for n in ("fc1", "bn1", "fc2", "fc3", "out")]
    h = sign(x) @ sign(w[0][0]) + w[0][1]
    g, beta, mean, var = w[1]
    h = g * (h - mean) / np.sqrt(var + 1e-3) + beta
    for kernel, bias in w[2:]:
        h = sign(h) @ sign(kernel) + bias
    np.testing.assert_allclose(binary(x).numpy(), h, rtol=1e-5, atol=1e-4)


def test_keep_first_last_off_and_override_none():
    binary = binarize(_mlp(), {"keep_first": False, "keep_last": False,
                               "overrides": {"fc3": None}})
    assert _kinds(binary) == {"fc1": "QuantDense", "bn1": "BatchNormalization",
                              "fc2": "QuantDense", "fc3": "Dense", "out": "QuantDense"}


def test_ignore_by_regex_and_override_beats_keep_first():
    binary = binarize(_mlp(), BinarizeConfig(
        ignore=["fc[23]"], overrides={"fc1": {"input_quantizer": None}}))
    kinds = _kinds(binary)
    assert kinds["fc1"] == "QuantDense" and kinds["fc2"] == kinds["fc3"] == "Dense"
    assert binary.get_layer("fc1").input_quantizer is None  # binary kernel, real input
    assert isinstance(binary.get_layer("fc1").kernel_quantizer, lq.quantizers.SteSign)


def test_exact_name_wins_over_earlier_regex():
    binary = binarize(_mlp(), BinarizeConfig(
        overrides={"fc.*": {"kernel_quantizer": "xnor_weight_sign"}, "fc2": None}))
    kinds = _kinds(binary)
    assert kinds["fc2"] == "Dense" and kinds["fc3"] == "QuantDense"
    assert isinstance(binary.get_layer("fc3").kernel_quantizer, lq.quantizers.MagnitudeAwareSign)


def test_regex_is_fullmatch_and_unmatched_pattern_warns():
    with pytest.warns(UserWarning, match="'fc' .*matches no layer"):
        binary = binarize(_mlp(), BinarizeConfig(ignore=["fc"]))  # not a prefix match
    assert _kinds(binary)["fc2"] == "QuantDense"


def test_both_quantizers_none_keeps_layer_real():
    binary = binarize(_mlp(), BinarizeConfig(input_quantizer=None, kernel_quantizer=None))
    assert "QuantDense" not in _kinds(binary).values()


def test_already_binary_layers_are_reconfigured_or_kept():
    model = tf.keras.Sequential([tf.keras.Input((10,)), L.Dense(8, name="a"),
                                 BinaryDense(8, name="b"), BinaryDense(8, name="c"),
                                 L.Dense(2, name="d")])
    binary = binarize(model, {"overrides": {"c": {"input_quantizer": None}}})
    assert type(binary.get_layer("b")) is BinaryDense
    assert binary.get_layer("c").input_quantizer is None
    assert binary.get_layer("c").get_config()["is_binarized_activation"] is False


# --- functional -------------------------------------------------------------------------


def test_functional_first_layers_are_all_roots():
    model = _branchy()
    binary = binarize(model, BinarizeConfig(kernel_quantizer="magnitude_aware_sign"))
    kinds = _kinds(binary)
    # conv_a and conv_b both read the input: both are "first"; head is last.
    assert kinds["conv_a"] == kinds["conv_b"] == "Conv2D" and kinds["head"] == "Dense"
    assert kinds["conv_c"] == "QuantConv2D" and kinds["dw"] == "QuantDepthwiseConv2D"
    # Larq's magnitude_aware_sign would share one scale over the channels of a depthwise
    # kernel; binarize() substitutes the per-channel version.
    assert type(binary.get_layer("dw").depthwise_quantizer) is DepthwiseMagnitudeAwareSign
    assert isinstance(binary.get_layer("dw").depthwise_constraint, lq.constraints.WeightClip)
    for old in model.layers:
        for a, b in zip(old.get_weights(), binary.get_layer(old.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    assert binary(np.zeros((1, 8, 8, 3), np.float32)).shape == (1, 3)


@pytest.mark.parametrize("layer,kind", [
    pytest.param(lambda: L.SeparableConv2D(4, 3, name="sep"), "SeparableConv2D", id="separable"),
    pytest.param(lambda: L.Conv2DTranspose(4, 3, name="sep"), "Conv2DTranspose", id="transpose"),
])
def test_unknown_layer_type_error_names_layer(layer, kind):
    inp = tf.keras.Input((8, 8, 3))
    x = L.Conv2D(4, 3, name="first")(inp)
    x = layer()(x)
    x = L.Flatten()(x)
    model = tf.keras.Model(inp, L.Dense(2, name="last")(x))
    with pytest.raises(TypeError, match=f"layer 'sep' \\({kind}\\): binarize\\(\\) cannot "
                                        "convert this layer type; add it to ignore="):
        binarize(model)
    binary = binarize(model, {"ignore": ["sep"]})
    assert type(binary.get_layer("sep")).__name__ == kind


def test_conv1d_error_and_override_on_layer_without_kernel():
    model = tf.keras.Sequential([tf.keras.Input((16, 2)), L.Conv1D(4, 3, name="c0"),
                                 L.Conv1D(4, 3, name="c1"), L.Flatten(name="f"),
                                 L.Dense(2, name="d")])
    with pytest.raises(TypeError, match="layer 'c1' \\(Conv1D\\)"):
        binarize(model)
    with pytest.raises(TypeError, match="layer 'f' \\(Flatten\\).*has no kernel"):
        binarize(model, {"ignore": ["c1"], "overrides": {"f": {}}})


# --- keras.applications (a few seconds each: larq layers are traced by autograph) --------


@pytest.mark.slow
def test_resnet50():
    model = tf.keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    binary = binarize(model)
    counts = collections.Counter(type(layer).__name__ for layer in binary.layers)
    n_conv = sum(type(layer) is L.Conv2D for layer in model.layers)
    assert n_conv == 53
    assert counts["QuantConv2D"] == n_conv - 1 and counts["Conv2D"] == 1
    assert type(binary.get_layer("conv1_conv")) is L.Conv2D
    assert type(binary.get_layer("predictions")) is L.Dense
    for name in ("conv1_conv", "conv3_block2_2_conv", "conv5_block3_3_bn", "predictions"):
        for a, b in zip(model.get_layer(name).get_weights(),
                        binary.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    assert binary(np.zeros((1, 32, 32, 3), np.float32)).shape == (1, 10)


@pytest.mark.slow
def test_mobilenet_v2_with_ignore_and_override():
    model = tf.keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3),
                                              alpha=0.35, classes=10)
    binary = binarize(model, BinarizeConfig(
        ignore=[r"block_1[0-6]_.*"], overrides={"Conv_1": None,
                                                 r".*_depthwise": {"input_quantizer": None}}))
    kinds = _kinds(binary)
    converted = {n for n, k in kinds.items() if k.startswith("Quant")}
    # Converted: expanded_conv (depthwise + project) and blocks 1-9 (expand, depthwise,
    # project): 2 + 27 = 29. Kept: Conv1 (first), blocks 10-16 (ignored), Conv_1 (None),
    # predictions (a Dense, last).
    expected = {layer.name for layer in model.layers
                if type(layer) in (L.Conv2D, L.DepthwiseConv2D)
                and not layer.name.startswith(tuple(f"block_{i}_" for i in range(10, 17)))
                and layer.name not in ("Conv1", "Conv_1")}
    assert converted == expected and len(expected) == 29
    assert kinds["block_3_depthwise"] == "QuantDepthwiseConv2D"
    assert binary.get_layer("block_3_depthwise").input_quantizer is None
    assert binary.get_layer("block_3_expand").input_quantizer is not None
    for name in ("Conv1", "block_3_depthwise", "block_12_expand", "predictions"):
        for a, b in zip(model.get_layer(name).get_weights(),
                        binary.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
