"""The docstring examples of the zoo modules and of bnn_lq.recipes run (STYLE §10)."""

from __future__ import annotations

import doctest
import importlib

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import pytest

MODULES = ["bnn_lq.zoo._blocks", "bnn_lq.zoo.binarynet", "bnn_lq.zoo.alexnet", "bnn_lq.zoo.vgg",
           "bnn_lq.zoo.resnet", "bnn_lq.zoo.xnornet", "bnn_lq.zoo.birealnet", "bnn_lq.zoo.mcu",
           "bnn_lq.recipes",
           pytest.param("bnn_lq.zoo.larq_zoo_models", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
