"""Binary CNNs sized for real microcontroller boards (bit-packed weights in flash,
the planned activation arena in RAM).

Three sizes, each registered with the board it targets (DESIGN.md "Targets"):

=============  ===========================================  ==========  ===========
name           board (QEMU machine)                         RAM         flash
=============  ===========================================  ==========  ===========
``mcu_tiny``   STM32F100 class (``stm32vldiscovery``)       8 KB        128 KB
``mcu_micro``  nRF51822, micro:bit class (``microbit``)     16 KB       256 KB
``mcu_f4``     STM32F405 (``netduinoplus2``)                192 KB [*]  1 MB
=============  ===========================================  ==========  ===========

[*] the deploy target links 128 KB (SRAM1+SRAM2, contiguous; QEMU has no CCM).

What decides the fit is the activation arena of ``bnn_lq.convert.plan`` (the C
code generator's plan; the model input is read from the caller's buffer, not the
arena), plus the firmware's stack (~1-2 KB) and code (~20-40 KB). Every network
has the same shape:

* a real-valued stem convolution (``conv1``, a float ``CONV_2D`` after LCE). The
  code generator fuses ``CONV_2D -> LceQuantize`` into one step that writes the
  bit-packed signs directly (``bnn_conv2d_pool_quantize``), so the stem's float
  output never exists in RAM: only its packed output does (``ceil(filters / 32)``
  words per pixel). A stride-2 stem quarters that;
* binary stages ``conv<i>`` (3x3, ``pad_values=1``) -> ``conv<i>_bn`` ->
  ``pool<i>`` (2x2 max-pool), which LCE runs on bit-packed activations
  (``LceBconv2d`` writing packed output, ``LceBMaxPool2d``): 1 bit per activation;
* a binary classifier (``fc1`` a binary convolution over the whole last feature map,
  so that the last max-pool stays bit-packed; ``fc1_bn``, ``flatten``, ``fc_out``,
  ``fc_out_bn``, ``softmax``).

Flash is the cheap resource here (binary weights cost 1 bit), so the binary layers
are wide; the packed feature maps set the RAM. The figures of each entry (measured
with ``bnn_lq.convert.lce.to_tflite`` + ``bnn_lq.convert.plan.plan`` at 28x28x1) are
in ``zoo/cards/README.md``; ``tests/zoo/test_convert.py`` checks the fits.

Example:
    >>> from bnn_lq import zoo
    >>> model = zoo.get("mcu_tiny")
    >>> [layer.name for layer in model.layers][:4]
    ['input', 'conv1', 'conv1_bn', 'conv2']
"""

from __future__ import annotations

from typing import Sequence

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import tensorflow as tf

from bnn_lq.zoo._blocks import binary_conv, bn, check_input_shape, classifier, real_conv
from bnn_lq.zoo.registry import register

__all__ = ["mcu_f4", "mcu_micro", "mcu_tiny", "mcu_net"]

_PAPER = ("binary stages after Hubara et al. 2016 (arXiv:1602.02830); LCE-friendly layout after "
          "Bannink et al. 2021 (arXiv:2011.09398)")


def mcu_net(input_shape=(28, 28, 1), num_classes: int = 10, *, name: str = "mcu_net",
            stem_filters: int = 8, stem_kernel: int = 3, stem_strides: int = 2,
            stages: Sequence[Sequence[int]] = ((64, 1), (128, 1)), dense_units: Sequence[int] = (),
            momentum: float = 0.99, epsilon: float = 1e-4) -> tf.keras.Model:
    """The MCU family's common builder: a real stem, binary stages, a binary classifier.

    Args:
        input_shape: ``(H, W, C)``.
        num_classes: Number of output classes.
        name: Model name.
        stem_filters: Filters of the real-valued stem ``conv1``.
        stem_kernel: Kernel size of ``conv1``.
        stem_strides: Stride of ``conv1`` (2 quarters the RAM of its packed output and the
            binary MACs of the next stage).
        stages: ``(filters, pool)`` per binary stage ``conv2, conv3, ...``; ``pool`` 1 puts a
            2x2 max-pool after the stage's batch norm, 0 none.
        dense_units: Units of the binary hidden dense layers before ``fc_out``.
        momentum: Batch-normalization momentum.
        epsilon: Batch-normalization epsilon.

    Returns:
        An uncompiled model with layer names ``conv1``, ``conv1_bn``, ``conv2``,
        ``conv2_bn``, ``pool2``, ..., ``fc1``, ``fc1_bn``, ``flatten``, ..., ``fc_out``, ``fc_out_bn``,
        ``softmax``.
    """
    h, w, c = check_input_shape(name, input_shape)
    stages = tuple((int(f), int(p)) for f, p in stages)
    if int(stem_filters) < 1 or any(f < 1 or p not in (0, 1) for f, p in stages):
        raise ValueError(f"{name}: stem_filters and stage filters must be >= 1 and pool 0 or 1, "
                         f"got stem_filters={stem_filters}, stages={stages}")
    size = -(-min(h, w) // int(stem_strides))
    for _, pool in stages:
        size //= 2 if pool else 1
    if size < 1:
        raise ValueError(f"{name}: input {(h, w, c)} is too small for stride {stem_strides} and "
                         f"{sum(p for _, p in stages)} poolings; use fewer pooling stages")
    inputs = tf.keras.Input(shape=(h, w, c), name="input")
    x = real_conv(stem_filters, stem_kernel, strides=stem_strides, name="conv1")(inputs)
    x = bn("conv1_bn", momentum=momentum, epsilon=epsilon)(x)
    for i, (filters, pool) in enumerate(stages, start=2):
        x = binary_conv(filters, 3, name=f"conv{i}")(x)
        x = bn(f"conv{i}_bn", momentum=momentum, epsilon=epsilon, scale=False)(x)
        if pool:
            x = tf.keras.layers.MaxPool2D(2, name=f"pool{i}")(x)
    outputs = classifier(x, num_classes, hidden=tuple(int(u) for u in dense_units),
                         momentum=momentum, epsilon=epsilon)
    return tf.keras.Model(inputs, outputs, name=name)


@register("mcu_tiny", paper=_PAPER, board="STM32F100 (stm32vldiscovery): 8 KB RAM, 128 KB flash")
def mcu_tiny(input_shape=(28, 28, 1), num_classes: int = 10, **options) -> tf.keras.Model:
    """Binary CNN for an 8 KB-RAM / 128 KB-flash part (STM32F100 class).

    ``conv1`` 16 filters 3x3 stride 2 (real) -> binary 64 -> pool -> binary 128 -> pool ->
    binary dense 128 -> 10. Options: those of :func:`mcu_net`. Figures at 28x28x1 are in
    ``zoo/cards/README.md`` (``bnn_lq.convert.plan`` of the LCE model); the board's
    linker script leaves 6 KB besides the 2 KB stack.
    """
    cfg = dict(stem_filters=16, stem_strides=2, stages=((64, 1), (128, 1)), dense_units=(128,))
    return mcu_net(input_shape, num_classes, **{"name": "mcu_tiny", **cfg, **options})


@register("mcu_micro", paper=_PAPER, board="nRF51822 (microbit): 16 KB RAM, 256 KB flash")
def mcu_micro(input_shape=(28, 28, 1), num_classes: int = 10, **options) -> tf.keras.Model:
    """Binary CNN for a 16 KB-RAM / 256 KB-flash part (micro:bit class, nRF51822).

    ``conv1`` 32 filters 3x3 stride 2 (real) -> binary 128 -> pool -> binary 256 -> pool ->
    binary dense 256 -> 10. Options: those of :func:`mcu_net`. Figures at 28x28x1 are in
    ``zoo/cards/README.md``.
    """
    cfg = dict(stem_filters=32, stem_strides=2, stages=((128, 1), (256, 1)), dense_units=(256,))
    return mcu_net(input_shape, num_classes, **{"name": "mcu_micro", **cfg, **options})


@register("mcu_f4", paper=_PAPER,
          board="STM32F405 (netduinoplus2): 192 KB RAM (128 KB contiguous SRAM used), 1 MB flash")
def mcu_f4(input_shape=(28, 28, 1), num_classes: int = 10, **options) -> tf.keras.Model:
    """Binary CNN for a 192 KB-RAM / 1 MB-flash part (STM32F405, the reference board).

    A BinaryNet-style VGG at reduced width: ``conv1`` 32 filters 3x3 stride 1 (real) ->
    binary 64 -> pool -> 128 -> 128 -> pool -> 256 -> 256 -> pool -> binary dense 256 -> 10.
    Options: those of :func:`mcu_net`. Figures at 28x28x1 are in ``zoo/cards/README.md``.
    """
    cfg = dict(stem_filters=32, stem_strides=1,
               stages=((64, 1), (128, 0), (128, 1), (256, 0), (256, 1)), dense_units=(256,))
    return mcu_net(input_shape, num_classes, **{"name": "mcu_f4", **cfg, **options})
