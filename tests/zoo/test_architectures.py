"""The zoo's literature and MCU architectures: they build for 28x28x1 and 32x32x3 (and
224x224x3 for the ImageNet ones), are named deterministically, are laid out the way
LCE fuses (binary conv -> BN, pad_values=1, max-pool right after a BN and feeding
binary layers only), and ``weights=`` refuses what it cannot load.

Conversion with LCE and the board fits are in test_convert.py (slow).
"""

from __future__ import annotations

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from bnn_lq import zoo
from bnn_lq.quantizers import is_sign_like

OWN = ["binarynet", "binary_alexnet", "binary_vgg", "binary_resnet", "xnornet", "birealnet",
       "mcu_tiny", "mcu_micro", "mcu_f4"]
LARQ_ZOO = ["quicknet", "quicknet_small", "quicknet_large", "binary_densenet28",
            "binary_densenet37", "binary_densenet45", "meliusnet22"]
IMAGENET = ["binary_alexnet", "binary_vgg", "binary_resnet", "xnornet", "birealnet", *LARQ_ZOO]
SMALL_SHAPES = [pytest.param((28, 28, 1), id="28x28x1"), pytest.param((32, 32, 3), id="32x32x3")]


def _inbound(model):
    """layer name -> names of the layers it reads from."""
    out = {}
    for layer in model.layers:
        names = []
        for node in layer._inbound_nodes:
            for inbound in tf.nest.flatten(node.inbound_layers):
                names.append(inbound.name)
        out[layer.name] = names
    return out


def _is_binary_input(layer) -> bool:
    return is_sign_like(getattr(layer, "input_quantizer", None))


def _is_binary_kernel(layer) -> bool:
    return is_sign_like(getattr(layer, "kernel_quantizer", None))


def lce_layout_problems(model) -> list[str]:
    """What in ``model`` LCE 0.16 would not fuse (spec lce-ops.md §8), one line each."""
    inbound = _inbound(model)
    consumers: dict[str, list[str]] = {layer.name: [] for layer in model.layers}
    for name, sources in inbound.items():
        for src in sources:
            consumers[src].append(name)
    by_name = {layer.name: layer for layer in model.layers}
    problems = []
    for layer in model.layers:
        if isinstance(layer, (lq.layers.QuantConv2D, lq.layers.QuantDense)) and \
                _is_binary_input(layer) and _is_binary_kernel(layer):
            after = consumers[layer.name]
            if [type(by_name[c]).__name__ for c in after] != ["BatchNormalization"]:
                problems.append(f"{layer.name}: binary layer not followed by exactly one BN: {after}")
            if isinstance(layer, lq.layers.QuantConv2D) and layer.padding == "same" and \
                    layer.kernel_size != (1, 1) and layer.pad_values != 1.0:
                problems.append(f"{layer.name}: 'same' binary conv with pad_values={layer.pad_values}")
        if isinstance(layer, tf.keras.layers.MaxPool2D):
            src = [type(by_name[s]).__name__ for s in inbound[layer.name]]
            if src != ["BatchNormalization"]:
                problems.append(f"{layer.name}: max-pool after {src}, not directly after a BN")
            for c in consumers[layer.name]:
                # A residual stream (Add) is float by design (ResNet/Bi-Real stems): LCE
                # keeps that pool in float, and nothing binary is lost.
                if not _is_binary_input(by_name[c]) and not isinstance(by_name[c], tf.keras.layers.Add):
                    problems.append(f"{layer.name}: max-pool feeds {c!r} "
                                    f"({type(by_name[c]).__name__}), not a binary layer")
        if isinstance(layer, tf.keras.layers.ReLU) or (
                isinstance(layer, tf.keras.layers.Activation)
                and getattr(layer.activation, "__name__", "") == "relu"):
            problems.append(f"{layer.name}: ReLU in a binary network")
    return problems


# --------------------------------------------------------------------------- registry


def test_every_architecture_is_registered_with_a_paper():
    names = set(zoo.names())
    assert set(OWN + LARQ_ZOO) <= names
    entries = {e.name: e for e in zoo.entries()}
    for name in OWN + LARQ_ZOO:
        assert entries[name].paper, name
        assert entries[name].doc, name
    assert "arXiv:1603.05279" in entries["xnornet"].paper
    assert "arXiv:1808.00278" in entries["birealnet"].paper


@pytest.mark.parametrize("name,ram,flash", [("mcu_tiny", "8 KB RAM", "128 KB flash"),
                                            ("mcu_micro", "16 KB RAM", "256 KB flash"),
                                            ("mcu_f4", "192 KB RAM", "1 MB flash")])
def test_mcu_entries_state_their_board(name, ram, flash):
    board = {e.name: e for e in zoo.entries()}[name].board
    assert ram in board and flash in board


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize("shape", SMALL_SHAPES)
@pytest.mark.parametrize("name", OWN)
def test_own_builders_build_for_small_inputs(name, shape):
    model = zoo.get(name, input_shape=shape, num_classes=10)
    assert model.input_shape == (None, *shape)
    assert model.output_shape == (None, 10)
    assert [layer.name for layer in model.layers][:2] == ["input", "conv1"]
    assert model.layers[-1].name == "softmax"
    assert lce_layout_problems(model) == []
    again = zoo.get(name, input_shape=shape, num_classes=10)
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]


@pytest.mark.slow
@pytest.mark.parametrize("shape", SMALL_SHAPES)
@pytest.mark.parametrize("name", LARQ_ZOO)
def test_larq_zoo_builders_build_for_small_inputs_with_fixed_names(name, shape):
    model = zoo.get(name, input_shape=shape, num_classes=10)
    assert model.input_shape == (None, *shape) and model.output_shape == (None, 10)
    assert model.name == name and model.layers[0].name == "input"
    if name.startswith("quicknet") and shape[0] < 32:
        assert model.layers[1].name == "input_pad"
        assert model.layers[1].output_shape == (None, 32, 32, shape[2])
    again = zoo.get(name, input_shape=shape, num_classes=10)
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert any(_is_binary_input(layer) and _is_binary_kernel(layer) for layer in model.layers)


@pytest.mark.slow
@pytest.mark.parametrize("name", IMAGENET)
def test_imagenet_builders_build_for_224(name):
    model = zoo.get(name, input_shape=(224, 224, 3), num_classes=1000)
    assert model.output_shape == (None, 1000)
    if name in OWN:
        assert lce_layout_problems(model) == []
    del model
    tf.keras.backend.clear_session()


def test_imagenet_layouts_differ_from_small_ones():
    # 224 inputs get the ImageNet stem (strided first layer), small ones a stride-1 stem.
    small = zoo.get("binary_resnet", input_shape=(32, 32, 3), depth=8, inflate=1)
    big = zoo.get("binary_resnet", input_shape=(224, 224, 3), depth=18)
    assert small.get_layer("conv1").strides == (1, 1) and big.get_layer("conv1").strides == (2, 2)
    assert "pool1" in [layer.name for layer in big.layers]
    assert len([lyr for lyr in big.layers if lyr.name.endswith("_add")]) == 8  # ResNet-18: 8 blocks


# --------------------------------------------------------------------------- architecture facts


def test_binarynet_has_the_papers_layers():
    model = zoo.get("binarynet", input_shape=(32, 32, 3))
    convs = [lyr for lyr in model.layers if isinstance(lyr, lq.layers.QuantConv2D)]
    # 2x128C3 - MP2 - 2x256C3 - MP2 - 2x512C3 - MP2 - 1024FC - 1024FC - 10 (fc1 is a conv).
    assert [c.filters for c in convs] == [128, 128, 256, 256, 512, 512, 1024]
    assert convs[0].input_quantizer is None and _is_binary_kernel(convs[0])
    assert all(_is_binary_input(c) and _is_binary_kernel(c) for c in convs[1:])
    assert [lyr.name for lyr in model.layers if isinstance(lyr, tf.keras.layers.MaxPool2D)] == \
        ["pool2", "pool4", "pool6"]
    assert model.get_layer("fc1").kernel_size == (4, 4)
    assert [model.get_layer(n).units for n in ("fc2", "fc_out")] == [1024, 10]


def test_xnornet_scales_binary_kernels_and_keeps_first_and_last_real():
    model = zoo.get("xnornet", input_shape=(28, 28, 1), width=0.25, dense_units=(32,))
    assert type(model.get_layer("conv1")) is tf.keras.layers.Conv2D
    assert type(model.get_layer("fc_out")) is tf.keras.layers.Dense
    for name in ("conv2", "conv3", "conv4", "conv5", "fc1"):
        layer = model.get_layer(name)
        assert isinstance(layer.kernel_quantizer, lq.quantizers.MagnitudeAwareSign), name
        assert _is_binary_input(layer)
    # The scaled binarization: alpha * sign(w) with one alpha = mean|w| per output channel.
    layer = model.get_layer("conv3")
    w = layer.kernel.numpy()
    q = layer.kernel_quantizer(tf.convert_to_tensor(w)).numpy()
    alpha = np.mean(np.abs(w), axis=(0, 1, 2))
    # rtol 1e-5: float32 mean over 25*C taps summed in a different order (observed 1.03e-6);
    # a wrong alpha (e.g. per tensor, or max|w|) is off by percents.
    np.testing.assert_allclose(q, alpha * np.where(w >= 0, 1.0, -1.0), rtol=1e-5)


def test_birealnet_adds_a_real_shortcut_around_every_binary_conv():
    model = zoo.get("birealnet", input_shape=(32, 32, 3))
    binary = [lyr for lyr in model.layers if isinstance(lyr, lq.layers.QuantConv2D)]
    adds = [lyr for lyr in model.layers if isinstance(lyr, tf.keras.layers.Add)]
    assert len(binary) == 16 and len(adds) == 16  # Bi-Real-18: 16 binary 3x3 convolutions
    inbound = _inbound(model)
    for conv in binary:
        stage, k = conv.name.split("_")  # stage<s>, conv<k>
        add = f"{stage}_add{k[4:]}"
        assert f"{conv.name}_bn" in inbound[add]
    # Downsampling shortcuts: average pool + real 1x1 conv + BN.
    assert type(model.get_layer("stage2_down_pool")) is tf.keras.layers.AveragePooling2D
    assert type(model.get_layer("stage2_down")) is tf.keras.layers.Conv2D
    assert model.get_layer("stage1_conv1").strides == (1, 1)
    assert model.get_layer("stage2_conv1").strides == (2, 2)


def test_alexnet_and_vgg_follow_their_configurations():
    alex = zoo.get("binary_alexnet", input_shape=(224, 224, 3), ratio_infl=0.25, dense_units=(64,))
    assert alex.get_layer("conv1").kernel_size == (11, 11) and alex.get_layer("conv1").strides == (4, 4)
    assert [alex.get_layer(f"conv{i}").filters for i in range(1, 6)] == [16, 48, 96, 64, 256]
    vgg = zoo.get("binary_vgg", input_shape=(28, 28, 1), depth=11, width=0.125, dense_units=(16,))
    convs = [lyr for lyr in vgg.layers if isinstance(lyr, lq.layers.QuantConv2D) and lyr.name != "fc1"]
    assert [c.filters for c in convs] == [8, 16, 32, 32, 64, 64, 64, 64]
    assert vgg.get_layer("fc1").kernel_size == (1, 1)  # 28 -> 14 -> 7 -> 4 -> 2 -> 1
    with pytest.raises(ValueError, match="depth must be one of"):
        zoo.get("binary_vgg", depth=12)


def test_builders_reject_bad_options():
    with pytest.raises(ValueError, match="binary_resnet: CIFAR depth must be 6n\\+2"):
        zoo.get("binary_resnet", input_shape=(32, 32, 3), depth=4)
    with pytest.raises(ValueError, match="mcu_tiny: input .* is too small"):
        zoo.get("mcu_tiny", input_shape=(2, 2, 1))
    with pytest.raises(ValueError, match="birealnet: filters and blocks"):
        zoo.get("birealnet", filters=(8, 16), blocks=(1,))


# --------------------------------------------------------------------------- weights=


def test_weights_refuses_imagenet_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="cannot be downloaded here"):
        zoo.get("quicknet_small", input_shape=(32, 32, 3), num_classes=10, weights="imagenet")
    with pytest.raises(ValueError, match="is not a local file"):
        zoo.get("binary_densenet28", input_shape=(32, 32, 3), num_classes=10,
                weights=str(tmp_path / "nope.h5"))


@pytest.mark.slow
def test_weights_loads_a_local_file(tmp_path, rng):
    model = zoo.get("quicknet_small", input_shape=(28, 28, 1), num_classes=10)
    for v in model.trainable_variables[:3]:
        v.assign(rng.normal(size=v.shape).astype("float32"))
    path = tmp_path / "qn.weights.h5"
    model.save_weights(str(path))
    loaded = zoo.get("quicknet_small", input_shape=(28, 28, 1), num_classes=10, weights=path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
