"""Larq Zoo's state-of-the-art and literature BNNs, built for a given input shape.

``quicknet``, ``quicknet_small``, ``quicknet_large`` (``larq_zoo.sota``),
``binary_densenet28/37/45`` and ``meliusnet22`` (``larq_zoo.literature``) are
built by larq-zoo with ``weights=None`` for the requested ``input_shape`` and
``num_classes``, then given fixed layer names (``<layer type>_<k>``, numbered in
model order: ``quant_conv2d_3``, ``batch_normalization_7``, ``add_2``, ...) so that
two builds of the same entry have the same names whatever Keras' global name
counters say. The architectures themselves are larq-zoo's: they are designed by
their authors for LCE (QuickNet in particular).

QuickNet reduces the resolution 32 times and its transition blocks need at least
a 2x2 map, so inputs smaller than 32x32 (e.g. 28x28 Fashion-MNIST) are
zero-padded to 32x32 by a first ``ZeroPadding2D`` layer (``input_pad``), as
LeNet-5 pads MNIST. BinaryDenseNet and MeliusNet build for 28x28 as they are.

Pretrained weights: larq-zoo downloads its ImageNet weights from GitHub, which
these machines cannot reach. ``weights=`` takes the path of a local weights file
(e.g. larq-zoo's ``quicknet_weights.h5`` copied here) and anything else fails with
a message saying so.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("quicknet_small", input_shape=(28, 28, 1), num_classes=10)
    >>> model.layers[1].name, model.output_shape
    ('input_pad', (None, 10))
"""

from __future__ import annotations

import re


import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import tensorflow as tf

from bnn_lq.zoo._blocks import check_input_shape, load_weights
from bnn_lq.zoo.registry import register

__all__ = ["binary_densenet28", "binary_densenet37", "binary_densenet45", "meliusnet22",
           "quicknet", "quicknet_large", "quicknet_small", "fixed_layer_names"]

_QUICKNET_MIN = 32


def _snake(class_name: str) -> str:
    s = re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()
    return s.replace("2_d", "2d").replace("1_d", "1d")


def fixed_layer_names(model: tf.keras.Model, *, name: str) -> tf.keras.Model:
    """A copy of functional ``model`` named ``name`` whose layers are named by type and
    position (``input``, ``quant_conv2d_1``, ..., ``add_3``, ``softmax_1``...), weights kept.

    The copy is rebuilt from the renamed config, so the names do not depend on how
    many layers Keras created before in this process.
    """
    config = model.get_config()
    counts: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for layer in config["layers"]:
        cls = layer["class_name"]
        if cls == "InputLayer":
            renamed[layer["name"]] = "input"
            continue
        if cls == "TFOpLambda":  # x + y, tf.nn.relu(x), ...: named after the op
            kind = _snake(str(layer["config"].get("function", "op")).split(".")[-1])
        elif cls == "Activation" and isinstance(layer["config"].get("activation"), str):
            kind = layer["config"]["activation"]
        else:
            kind = _snake(cls)
        if layer["name"] == "input_pad":
            renamed[layer["name"]] = "input_pad"
            continue
        counts[kind] = counts.get(kind, 0) + 1
        renamed[layer["name"]] = f"{kind}_{counts[kind]}"

    def nodes(value):
        if isinstance(value, str):
            return renamed.get(value, value)
        if isinstance(value, list):
            return [nodes(v) for v in value]
        if isinstance(value, dict):
            return {k: nodes(v) for k, v in value.items()}
        return value

    for layer in config["layers"]:
        layer["name"] = renamed[layer["name"]]
        layer["config"]["name"] = layer["name"]
        layer["inbound_nodes"] = nodes(layer["inbound_nodes"])
    config["input_layers"] = nodes(config["input_layers"])
    config["output_layers"] = nodes(config["output_layers"])
    config["name"] = name
    copy = tf.keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _build(entry: str, factory_name: str, input_shape, num_classes: int, weights, *,
           min_size: int = 1, rename: bool = True) -> tf.keras.Model:
    h, w, c = check_input_shape(entry, input_shape)
    pad_h, pad_w = max(0, min_size - h), max(0, min_size - w)
    padding = ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2))
    make = _factory(factory_name, padding if pad_h or pad_w else None)
    model = make(input_shape=(h, w, c), weights=None, num_classes=int(num_classes)).build()
    model = fixed_layer_names(model, name=entry) if rename else _renamed(model, entry)
    return load_weights(model, weights, name=entry)


def _renamed(model: tf.keras.Model, name: str) -> tf.keras.Model:
    model._name = name
    return model


def _factory(factory_name: str, padding):
    """larq-zoo's factory ``module:Class`` with its input layer named ``input`` and, when
    ``padding`` is given, a ``ZeroPadding2D`` (``input_pad``) in front of its stem."""
    import importlib

    from larq_zoo.core import utils
    from zookeeper import factory

    module, cls = factory_name.split(":")
    base = getattr(importlib.import_module(module), cls)

    @factory
    class Factory(base):
        @property
        def image_input(self):
            if not hasattr(self, "_image_input"):
                shape = utils.validate_input(self.input_shape, self.weights, self.include_top,
                                             self.num_classes)
                self._image_input = tf.keras.Input(shape=shape, name="input")
            return self._image_input

        def stem_module(self, filters, x):
            if padding is not None:
                x = tf.keras.layers.ZeroPadding2D(padding, name="input_pad")(x)
            return super().stem_module(filters, x)

    return Factory


_QUICKNET_PAPER = "Bannink et al. 2021, Larq Compute Engine (arXiv:2011.09398); larq_zoo.sota"


@register("quicknet", paper=_QUICKNET_PAPER)
def quicknet(input_shape=(224, 224, 3), num_classes: int = 1000, *, weights=None) -> tf.keras.Model:
    """QuickNet (larq_zoo.sota.QuickNet; 63.3% ImageNet top-1 with its pretrained weights).

    Args:
        input_shape: ``(H, W, C)``; below 32x32 the input is zero-padded to 32x32.
        num_classes: Number of output classes.
        weights: None, or the path of a local weights file for this shape and class count.
    """
    return _build("quicknet", "larq_zoo.sota.quicknet:QuickNetFactory", input_shape,
                  num_classes, weights, min_size=_QUICKNET_MIN)


@register("quicknet_small", paper=_QUICKNET_PAPER)
def quicknet_small(input_shape=(224, 224, 3), num_classes: int = 1000, *,
                   weights=None) -> tf.keras.Model:
    """QuickNetSmall (larq_zoo.sota.QuickNetSmall; 59.4% ImageNet top-1 pretrained).

    Args:
        input_shape: ``(H, W, C)``; below 32x32 the input is zero-padded to 32x32.
        num_classes: Number of output classes.
        weights: None, or the path of a local weights file for this shape and class count.
    """
    return _build("quicknet_small", "larq_zoo.sota.quicknet:QuickNetSmallFactory",
                  input_shape, num_classes, weights, min_size=_QUICKNET_MIN)


@register("quicknet_large", paper=_QUICKNET_PAPER)
def quicknet_large(input_shape=(224, 224, 3), num_classes: int = 1000, *,
                   weights=None) -> tf.keras.Model:
    """QuickNetLarge (larq_zoo.sota.QuickNetLarge; 66.9% ImageNet top-1 pretrained).

    Args:
        input_shape: ``(H, W, C)``; below 32x32 the input is zero-padded to 32x32.
        num_classes: Number of output classes.
        weights: None, or the path of a local weights file for this shape and class count.
    """
    return _build("quicknet_large", "larq_zoo.sota.quicknet:QuickNetLargeFactory",
                  input_shape, num_classes, weights, min_size=_QUICKNET_MIN)


_DENSENET_PAPER = "Bethge et al. 2019, BinaryDenseNet (arXiv:1906.08637); larq_zoo.literature"


@register("binary_densenet28", paper=_DENSENET_PAPER)
def binary_densenet28(input_shape=(224, 224, 3), num_classes: int = 1000, *,
                      weights=None) -> tf.keras.Model:
    """BinaryDenseNet28 (larq_zoo.literature.BinaryDenseNet28).

    Args:
        input_shape: ``(H, W, C)``.
        num_classes: Number of output classes.
        weights: None, or the path of a local weights file for this shape and class count.
    """
    return _build("binary_densenet28", "larq_zoo.literature.densenet:BinaryDenseNet28Factory",
                  input_shape, num_classes, weights)


@register("binary_densenet37", paper=_DENSENET_PAPER)
def binary_densenet37(input_shape=(224, 224, 3), num_classes: int = 1000, *,
                      weights=None) -> tf.keras.Model:
    """BinaryDenseNet37 (larq_zoo.literature.BinaryDenseNet37).

    Args:
        input_shape: ``(H, W, C)``.
        num_classes: Number of output classes.
        weights: None, or the path of a local weights file for this shape and class count.
    """
    return _build("binary_densenet37", "larq_zoo.literature.densenet:BinaryDenseNet37Factory",
                  input_shape, num_classes, weights)


@register("binary_densenet45", paper=_DENSENET_PAPER)
def binary_densenet45(input_shape=(224, 224, 3), num_classes: int = 1000, *,
                      weights=None) -> tf.keras.Model:
    """BinaryDenseNet45 (larq_zoo.literature.BinaryDenseNet45).

    Args:
        input_shape: ``(H, W, C)``.
        num_classes: Number of output classes.
        weights: None, or the path of a local weights file for this shape and class count.
    """
    return _build("binary_densenet45", "larq_zoo.literature.densenet:BinaryDenseNet45Factory",
                  input_shape, num_classes, weights)


@register("meliusnet22", paper="Bethge et al. 2020, MeliusNet (arXiv:2001.05936); larq_zoo.literature")
def meliusnet22(input_shape=(224, 224, 3), num_classes: int = 1000, *,
                weights=None) -> tf.keras.Model:
    """MeliusNet22 (larq_zoo.literature.MeliusNet22).

    Args:
        input_shape: ``(H, W, C)``.
        num_classes: Number of output classes.
        weights: None, or the path of a local weights file for this shape and class count.
    """
    # larq-zoo names every MeliusNet layer itself (deterministically); its merge layers are
    # Python-lambda ``Lambda`` layers, which cannot be rebuilt from a config, so the model
    # is kept as built. A saved .keras file loads only with ``safe_mode=False``.
    return _build("meliusnet22", "larq_zoo.literature.meliusnet:MeliusNet22Factory",
                  input_shape, num_classes, weights, rename=False)
