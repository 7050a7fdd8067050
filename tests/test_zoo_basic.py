"""The first two zoo architectures (bnn_mlp, bnn_cnn_small) and ``bnn-lq zoo list``."""

import json

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from bnn_lq import zoo

# STM32F405, the reference board of bnn_cnn_small (DESIGN.md): 1 MB flash, 192 KB RAM.
F405_FLASH, F405_RAM = 1024 * 1024, 192 * 1024


def _quantizer_name(q):
    return None if q is None else getattr(q, "__name__", None) or type(q).__name__


def test_registry_lists_both_and_rejects_unknown_names():
    assert {"bnn_mlp", "bnn_cnn_small"} <= set(zoo.names())
    with pytest.raises(ValueError, match=r"unknown architecture 'vgg99'.*bnn_cnn_small.*bnn_mlp"):
        zoo.get("vgg99")
    entries = {e.name: e for e in zoo.entries()}
    assert "Courbariaux" in entries["bnn_mlp"].paper
    assert "STM32F405" in entries["bnn_cnn_small"].board


# --------------------------------------------------------------------------- bnn_mlp


def test_bnn_mlp_structure_matches_the_paper():
    model = zoo.get("bnn_mlp")  # seed 000's 784-128-64-10
    assert model.name == "bnn_mlp"
    assert [layer.name for layer in model.layers] == [
        "input", "flatten", "fc1", "fc1_bn", "fc2", "fc2_bn", "fc3", "fc3_bn", "softmax"]
    dense = [model.get_layer(n) for n in ("fc1", "fc2", "fc3")]
    assert [d.units for d in dense] == [128, 64, 10]
    assert all(isinstance(d, lq.layers.QuantDense) and not d.use_bias for d in dense)
    assert dense[0].input_quantizer is None  # the first layer sees the real image
    for d in dense:
        assert isinstance(d.kernel_quantizer, lq.quantizers.SteSign)
        assert isinstance(d.kernel_constraint, lq.constraints.WeightClip)
    for d in dense[1:]:
        assert isinstance(d.input_quantizer, lq.quantizers.SteSign)
    for n in ("fc1_bn", "fc2_bn", "fc3_bn"):
        assert isinstance(model.get_layer(n), tf.keras.layers.BatchNormalization)
    assert model.get_layer("softmax").activation is tf.keras.activations.softmax
    assert model.optimizer is None  # builders are pure: no compile


def test_bnn_mlp_options():
    model = zoo.get("bnn_mlp", input_shape=(8, 8, 1), num_classes=4, hidden=(32, 16, 8))
    assert model.output_shape == (None, 4)
    assert [model.get_layer(f"fc{i}").units for i in range(1, 5)] == [32, 16, 8, 4]
    with pytest.raises(ValueError, match="hidden"):
        zoo.get("bnn_mlp", hidden=(0,))


# --------------------------------------------------------------------------- bnn_cnn_small


def _bytes_budget(model):
    """(bit-packed binary weight bytes, peak activation bytes) as LCE lays the model out.

    Binary kernels take 1 bit per weight. Batch normalization is folded into the
    convolution before it and Flatten is a reshape, so neither needs a buffer. Tensors
    are float32 up to the first binarized input, then bit-packed (32 channels per
    32-bit word) until the classifier's float output. Peak RAM is the largest
    input + output pair of one op (a planner reuses everything else). An upper bound: LCE
    actually quantizes conv1's output before the first pool (CONV_2D, LceQuantize,
    LceBMaxPool2d), so its peak is conv1's input + output only."""
    packed_weights = 0
    tensors = [4 * int(np.prod(model.input_shape[1:]))]
    is_packed = False
    for layer in model.layers:
        if isinstance(layer, (tf.keras.layers.InputLayer, tf.keras.layers.BatchNormalization,
                              tf.keras.layers.Flatten, tf.keras.layers.Activation)):
            continue
        if getattr(layer, "input_quantizer", None) is not None:
            packed_weights += int(np.prod(layer.kernel.shape)) // 8
            if not is_packed:  # LceQuantize: float -> packed
                shape = layer.input_shape
                tensors.append(4 * int(np.ceil(shape[-1] / 32)) * int(np.prod(shape[1:-1])))
                is_packed = True
        shape = layer.output_shape
        if is_packed and layer is not model.get_layer("fc_out"):
            tensors.append(4 * int(np.ceil(shape[-1] / 32)) * int(np.prod(shape[1:-1])))
        else:
            tensors.append(4 * int(np.prod(shape[1:])))
    return packed_weights, max(a + b for a, b in zip(tensors, tensors[1:]))


def test_bnn_cnn_small_is_lce_friendly():
    model = zoo.get("bnn_cnn_small")
    assert model.name == "bnn_cnn_small" and model.output_shape == (None, 10)
    layers = model.layers
    convs = [layer for layer in layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [c.name for c in convs] == ["conv1", "conv2", "conv3"]
    assert [c.filters for c in convs] == [32, 64, 128]
    assert type(convs[0]) is tf.keras.layers.Conv2D  # real input, real kernel (the default)
    for c in convs:
        assert not c.use_bias
        if c is not convs[0]:
            assert isinstance(c, lq.layers.QuantConv2D)
            assert isinstance(c.kernel_quantizer, lq.quantizers.SteSign)
            assert isinstance(c.kernel_constraint, lq.constraints.WeightClip)
        i = layers.index(c)
        # conv -> BN -> MaxPool directly, so LCE fuses BN into the output threshold and bit-packs.
        assert isinstance(layers[i + 1], tf.keras.layers.BatchNormalization)
        assert isinstance(layers[i + 2], tf.keras.layers.MaxPool2D)
    for c in convs[1:]:
        assert isinstance(c.input_quantizer, lq.quantizers.SteSign)
        assert c.padding in ("same", "valid")
        assert c.padding == "valid" or c.pad_values == 1.0
    fc = [layer for layer in layers if isinstance(layer, lq.layers.QuantDense)]
    assert fc[-1].name == "fc_out" and isinstance(fc[-1].input_quantizer, lq.quantizers.SteSign)
    assert isinstance(layers[-2], tf.keras.layers.BatchNormalization)
    assert layers[-1].activation is tf.keras.activations.softmax


def test_bnn_cnn_small_fits_the_f405_and_matches_the_yardstick():
    model = zoo.get("bnn_cnn_small")
    binary_macs = 0
    for layer in model.layers:
        if isinstance(layer, lq.layers.QuantConv2D) and layer.input_quantizer is not None:
            _, oh, ow, oc = layer.output_shape
            kh, kw, ic, _ = layer.kernel.shape
            binary_macs += oh * ow * oc * kh * kw * ic
        elif isinstance(layer, lq.layers.QuantDense) and layer.input_quantizer is not None:
            binary_macs += int(np.prod(layer.kernel.shape))
    # The firmware issue's yardstick: "a three-stage binary CNN ... (about 7.5 million binary MACs)".
    assert 6.5e6 < binary_macs < 8.5e6
    packed, peak = _bytes_budget(model)
    assert packed < F405_FLASH // 8  # comfortably: well under an eighth of the flash
    # conv1's float output (28x28x32) and its pooled copy: 100352 + 25088 bytes.
    assert peak == 28 * 28 * 32 * 4 + 14 * 14 * 32 * 4
    assert peak < F405_RAM * 3 // 4  # under three quarters of the RAM
    # The same count larq's own summary prints (lq.models.summary: "1-bit MACs 7374080").
    assert binary_macs == 7_374_080


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)], ids=["28x28x1", "32x32x3"])
def test_bnn_cnn_small_input_shapes_and_options(shape):
    model = zoo.get("bnn_cnn_small", input_shape=shape, num_classes=7, filters=(8, 16, 16),
                    dense_units=0)
    assert model.input_shape == (None, *shape) and model.output_shape == (None, 7)
    assert [layer.name for layer in model.layers if isinstance(layer, lq.layers.QuantDense)] == ["fc_out"]
    x = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype(np.float32)
    probs = model(x, training=False).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_bnn_cnn_small_binary_first_layer():
    model = zoo.get("bnn_cnn_small", first_layer="binary", filters=(8, 8, 8))
    conv1 = model.get_layer("conv1")
    assert isinstance(conv1, lq.layers.QuantConv2D) and conv1.input_quantizer is None
    assert isinstance(conv1.kernel_quantizer, lq.quantizers.SteSign) and not conv1.use_bias
    names = [layer.name for layer in model.layers]
    assert names[names.index("conv1") + 1:names.index("conv1") + 3] == ["conv1_bn", "pool1"]
    assert isinstance(model.get_layer("conv2").input_quantizer, lq.quantizers.SteSign)


def test_bnn_cnn_small_rejects_bad_options():
    with pytest.raises(ValueError, match="too small"):
        zoo.get("bnn_cnn_small", input_shape=(4, 4, 1))
    with pytest.raises(ValueError, match="first_layer"):
        zoo.get("bnn_cnn_small", first_layer="int8")
    with pytest.raises(ValueError, match="first_padding"):
        zoo.get("bnn_cnn_small", first_padding="causal")


# --------------------------------------------------------------------------- save/load


@pytest.mark.parametrize("name,options,shape", [
    ("bnn_mlp", {"hidden": (16,)}, (8, 8, 1)),
    ("bnn_cnn_small", {"filters": (8, 8, 8), "dense_units": 16}, (28, 28, 1)),
], ids=["mlp", "cnn"])
def test_keras_round_trip(tmp_path, name, options, shape):
    model = zoo.get(name, input_shape=shape, **options)
    x = np.random.default_rng(1).uniform(-1, 1, (4, *shape)).astype(np.float32)
    path = tmp_path / "m.keras"
    model.save(path)
    clone = tf.keras.models.load_model(path)
    # Compare through JSON: a reloaded config holds lists where the original had tuples.
    def configs(m):
        return json.loads(json.dumps([layer.get_config() for layer in m.layers], default=str))

    assert configs(clone) == configs(model)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


# --------------------------------------------------------------------------- CLI


def test_zoo_list_json(capsys):
    from bnn_lq.cli import main

    assert main(["zoo", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["bnn_mlp"]["parameters"] == zoo.get("bnn_mlp").count_params()
    assert rows["bnn_cnn_small"]["board"].startswith("STM32F405")


def test_zoo_list_table_and_input_shape(capsys):
    from bnn_lq.cli import main

    assert main(["zoo", "list", "--input-shape", "32,32,3", "bnn_cnn_small"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["name", "input_shape", "parameters"]
    assert out[1].startswith("bnn_cnn_small") and "32x32x3" in out[1]
    expected = zoo.get("bnn_cnn_small", input_shape=(32, 32, 3)).count_params()
    assert f"{expected:,}" in out[1]


def test_zoo_list_unknown_name_lists_valid_ones(capsys):
    from bnn_lq.cli import main

    assert main(["zoo", "list", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "bnn_cnn_small" in err and "bnn_mlp" in err


def test_zoo_list_budget_columns_when_budget_is_available():
    budget = pytest.importorskip("bnn_lq.budget")
    from bnn_lq.commands.zoo import zoo_table

    row = zoo_table(["bnn_cnn_small"])[0]
    b = budget.budget(zoo.get("bnn_cnn_small"))
    assert row["binary_macs"] == b.binary_macs == 7_374_080
    assert row["real_macs"] == b.real_macs
    assert row["packed_weight_bytes"] == b.binary_weight_bytes
