"""Microcontroller memory and compute budget of a Keras/Larq model.

``budget(model)`` walks the layers of a Sequential or functional model and
counts, per layer and in total, for one input (batch 1):

* **binary weights, bit-packed**: the kernel of a ``Dense`` or ``Conv2D`` layer
  whose kernel quantizer is sign-like (``ste_sign``, ``magnitude_aware_sign``,
  ...), stored as LCE packs a ``LceBconv2d`` filter: ``[Cout, KH, KW,
  ceil(Cin_per_group / 32)]`` int32 words, so ``ceil(Cin / 32) * 32`` bits per
  output channel and kernel tap (a Dense kernel ``(in, out)`` packs like a 1x1
  convolution, which is how ``bnn_lq.convert`` bit-packs it). A binary
  *depthwise* or separable kernel is counted as real: LCE 0.16 keeps it in
  float (``../shared/spec/lce-ops.md`` §8).
* **real parameters**: every other weight (real kernels, biases, ...), with a
  batch normalization counted as 2 per channel (the multiplier and offset it
  folds into, as ``lq.models.summary`` does); bytes as float32 (4 B each) and as
  int8 (1 B each; TFLite's int32 biases and per-channel scales not included).
* **peak activation memory**: layers run in ``model.layers`` order; while a layer
  runs, every tensor produced before and still needed later is live, plus the
  layer's outputs. For a straight chain that is ``max(input + output)`` over the
  layers; skip connections keep their tensors alive. Activations are float32,
  except a tensor whose consumers all binarize it (sign-like input quantizer),
  which counts as bit-packed: ``prod(shape[:-1]) * ceil(C / 32) * 4`` bytes. The
  model input is float32. In-place reshapes and the ``LceQuantize`` step
  itself are not modelled, so this is an estimate.
* **MACs**: multiply-accumulates of Dense/Conv/Depthwise/Separable/Transposed
  convolution layers; a MAC is **binary** when both the input quantizer and the
  kernel quantizer are sign-like, **real** otherwise. Pooling, batch norm and
  element-wise ops are not counted.

``format_budget`` prints it as a terminal table, optionally against a board of
``BOARD_LIMITS``; ``summary`` puts ``lq.models.summary`` above it.

Example:
    >>> import bnn_lq, tensorflow as tf
    >>> from bnn_lq.layers import BinaryDense
    >>> model = tf.keras.Sequential([tf.keras.Input((64,)),
    ...     BinaryDense(32, use_bias=False, is_binarized_activation=False),
    ...     BinaryDense(10, use_bias=False)])
    >>> b = budget(model)
    >>> b.binary_weight_bytes, b.binary_macs, b.real_macs
    (296, 320, 2048)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

# TensorFlow and Larq are imported inside the functions, so that BOARD_LIMITS (used
# by the CLI parser) is importable without loading TensorFlow.

__all__ = [
    "BOARD_LIMITS",
    "BoardLimits",
    "Budget",
    "LayerBudget",
    "budget",
    "format_budget",
    "summary",
]

_KiB = 1024
_MiB = 1024 * 1024


class BoardLimits(NamedTuple):
    """Flash and RAM of a board (bytes), and the part it stands for."""

    flash_bytes: int
    ram_bytes: int
    part: str


# QEMU machine name -> limits (DESIGN.md "Targets"). The mps2/mps3 FPGA images give
# 4 MB of code memory and 4 MB of SRAM.
BOARD_LIMITS: dict[str, BoardLimits] = {
    "microbit": BoardLimits(256 * _KiB, 16 * _KiB, "nRF51822"),
    "stm32vldiscovery": BoardLimits(128 * _KiB, 8 * _KiB, "STM32F100"),
    "netduinoplus2": BoardLimits(1 * _MiB, 192 * _KiB, "STM32F405"),
    "mps2-an385": BoardLimits(4 * _MiB, 4 * _MiB, "Cortex-M3 (MPS2 AN385)"),
    "mps2-an386": BoardLimits(4 * _MiB, 4 * _MiB, "Cortex-M4 (MPS2 AN386)"),
    "mps2-an500": BoardLimits(4 * _MiB, 4 * _MiB, "Cortex-M7 (MPS2 AN500)"),
    "mps2-an505": BoardLimits(4 * _MiB, 4 * _MiB, "Cortex-M33 (MPS2 AN505)"),
    "mps3-an547": BoardLimits(4 * _MiB, 4 * _MiB, "Cortex-M55 (MPS3 AN547)"),
}


@dataclass(frozen=True)
class LayerBudget:
    """One layer's share of the budget (batch 1). Byte counts are exact for the
    stated storage rules (see the module docstring)."""

    name: str
    kind: str  # layer class name
    output_shape: tuple  # without the batch axis; a tuple of tuples for several outputs
    is_binary_input: bool  # sign-like input quantizer
    is_binary_kernel: bool  # sign-like kernel quantizer
    binary_weights: int  # number of bit-packed weights (0 unless Dense/Conv2D binary kernel)
    binary_weight_bytes: int  # their size as LCE-packed int32 words
    real_params: int  # every other parameter, batch norm as 2 per channel
    real_float32_bytes: int  # 4 * real_params
    real_int8_bytes: int  # 1 * real_params
    output_bytes: int  # this layer's outputs as stored
    is_output_packed: bool  # outputs counted bit-packed (every consumer binarizes them)
    live_bytes: int  # activations live while this layer runs (its inputs included)
    binary_macs: int
    real_macs: int
    note: str = ""


@dataclass(frozen=True)
class Budget:
    """The budget of a whole model: ``layers`` plus totals as properties."""

    model_name: str
    input_bytes: int
    layers: tuple[LayerBudget, ...]

    @property
    def binary_weights(self) -> int:
        return sum(lb.binary_weights for lb in self.layers)

    @property
    def binary_weight_bytes(self) -> int:
        return sum(lb.binary_weight_bytes for lb in self.layers)

    @property
    def real_params(self) -> int:
        return sum(lb.real_params for lb in self.layers)

    @property
    def real_float32_bytes(self) -> int:
        return sum(lb.real_float32_bytes for lb in self.layers)

    @property
    def real_int8_bytes(self) -> int:
        return sum(lb.real_int8_bytes for lb in self.layers)

    @property
    def binary_macs(self) -> int:
        return sum(lb.binary_macs for lb in self.layers)

    @property
    def real_macs(self) -> int:
        return sum(lb.real_macs for lb in self.layers)

    @property
    def peak_activation_bytes(self) -> int:
        return max([self.input_bytes, *(lb.live_bytes for lb in self.layers)])

    @property
    def peak_layer(self) -> str | None:
        """Name of the layer at which the activation peak occurs (None: the input)."""
        best = max(self.layers, key=lambda lb: lb.live_bytes, default=None)
        if best is None or best.live_bytes < self.input_bytes:
            return None
        return best.name

    @property
    def flash_float32_bytes(self) -> int:
        """Weights with real parameters in float32 (code and runtime not included)."""
        return self.binary_weight_bytes + self.real_float32_bytes

    @property
    def flash_int8_bytes(self) -> int:
        """Weights with real parameters in int8 (code and runtime not included)."""
        return self.binary_weight_bytes + self.real_int8_bytes

    def fits(self, board: str) -> dict:
        """Whether weights and activations fit ``board`` (a ``BOARD_LIMITS`` name)."""
        limits = _board(board)
        return {
            "board": board,
            "part": limits.part,
            "flash_bytes": limits.flash_bytes,
            "ram_bytes": limits.ram_bytes,
            "fits_flash_float32": self.flash_float32_bytes <= limits.flash_bytes,
            "fits_flash_int8": self.flash_int8_bytes <= limits.flash_bytes,
            "fits_ram": self.peak_activation_bytes <= limits.ram_bytes,
        }

    def to_dict(self) -> dict:
        """Plain data for ``--json``: per-layer rows and the totals."""
        return {
            "model": self.model_name,
            "input_bytes": self.input_bytes,
            "layers": [dataclasses.asdict(lb) for lb in self.layers],
            "total": {
                "binary_weights": self.binary_weights,
                "binary_weight_bytes": self.binary_weight_bytes,
                "real_params": self.real_params,
                "real_float32_bytes": self.real_float32_bytes,
                "real_int8_bytes": self.real_int8_bytes,
                "flash_float32_bytes": self.flash_float32_bytes,
                "flash_int8_bytes": self.flash_int8_bytes,
                "peak_activation_bytes": self.peak_activation_bytes,
                "peak_layer": self.peak_layer,
                "binary_macs": self.binary_macs,
                "real_macs": self.real_macs,
            },
        }


def _board(name: str) -> BoardLimits:
    try:
        return BOARD_LIMITS[name]
    except KeyError:
        raise ValueError(f"unknown board {name!r}; known boards: "
                         f"{', '.join(sorted(BOARD_LIMITS))}") from None


# --- graph --------------------------------------------------------------------------


def _model_nodes(model: tf.keras.Model):
    """(layer, node) pairs of ``model`` in layer order, InputLayers included."""
    keys = model._network_nodes  # tf-keras: "<layer name>_ib-<node index>"
    pairs = []
    for layer in model.layers:
        for index, node in enumerate(layer._inbound_nodes):
            if f"{layer.name}_ib-{index}" in keys:
                pairs.append((layer, node))
    return pairs


def _graph_model(model: tf.keras.Model, input_shape) -> tf.keras.Model:
    import tensorflow as tf
    if input_shape is not None:
        input_shape = tuple(int(d) for d in input_shape)
        current = None
        if getattr(model, "_is_graph_network", False) and len(model.inputs) == 1:
            current = tuple(model.inputs[0].shape[1:])
        if current != input_shape:
            return tf.keras.models.clone_model(
                model, input_tensors=tf.keras.Input(shape=input_shape))
        return model
    if not getattr(model, "_is_graph_network", False):
        raise ValueError(
            f"budget(): model '{model.name}' has no defined input, so activation sizes are "
            "unknown; pass input_shape=(H, W, C) (without the batch axis) or build the "
            "model with an Input layer.")
    return model


def _shape(tensor) -> tuple:
    return tuple(tensor.shape[1:])


def _float_bytes(tensor) -> int:
    shape = _shape(tensor)
    if any(d is None for d in shape):
        raise ValueError(f"budget(): tensor {tensor.name!r} has an unknown dimension "
                         f"{shape}; pass input_shape=... with every dimension set.")
    return int(np.prod(shape, dtype=np.int64)) * tensor.dtype.size


def _packed_bytes(tensor) -> int:
    shape = _shape(tensor)
    if not shape:
        return 4
    return int(np.prod(shape[:-1], dtype=np.int64)) * math.ceil(shape[-1] / 32) * 4


# --- per-layer counts --------------------------------------------------------------


def _quantizers(layer):
    """(input quantizer, kernel quantizer) of a layer; None where it has none."""
    kernel_q = getattr(layer, "kernel_quantizer", None)
    if kernel_q is None:
        kernel_q = getattr(layer, "depthwise_quantizer", None)
    return getattr(layer, "input_quantizer", None), kernel_q


def _packable_kernel(layer):
    """The kernel LCE (or bnn_lq.convert) bit-packs when binary, else None."""
    import tensorflow as tf
    if isinstance(layer, tf.keras.layers.Dense):
        return layer.kernel
    if (isinstance(layer, tf.keras.layers.Conv2D)
            and not isinstance(layer, (tf.keras.layers.DepthwiseConv2D,
                                       tf.keras.layers.Conv2DTranspose))):
        return layer.kernel
    return None


def _count(variable) -> int:
    return int(np.prod(variable.shape.as_list(), dtype=np.int64))


def _batch_norms(layer):
    import tensorflow as tf
    if isinstance(layer, tf.keras.layers.BatchNormalization):
        return [layer]
    return [m for m in layer._flatten_layers(include_self=False)
            if isinstance(m, tf.keras.layers.BatchNormalization)]


def _macs(layer, node) -> int | None:
    import tensorflow as tf
    out = node.outputs if isinstance(node.outputs, (list, tuple)) else [node.outputs]
    if len(out) != 1:
        return None
    out_shape = _shape(out[0])
    if any(d is None for d in out_shape):
        return None
    pixels = int(np.prod(out_shape[:-1], dtype=np.int64))
    if isinstance(layer, tf.keras.layers.Dense):
        return pixels * _count(layer.kernel)
    if isinstance(layer, (tf.keras.layers.SeparableConv1D, tf.keras.layers.SeparableConv2D)):
        return pixels * (_count(layer.depthwise_kernel) + _count(layer.pointwise_kernel))
    if isinstance(layer, tf.keras.layers.DepthwiseConv2D):
        return pixels * _count(layer.depthwise_kernel)
    if isinstance(layer, (tf.keras.layers.Conv1DTranspose, tf.keras.layers.Conv2DTranspose,
                          tf.keras.layers.Conv3DTranspose)):
        in_shape = _shape(node.keras_inputs[0])
        return int(np.prod(in_shape[:-1], dtype=np.int64)) * _count(layer.kernel)
    if isinstance(layer, (tf.keras.layers.Conv1D, tf.keras.layers.Conv2D,
                          tf.keras.layers.Conv3D)):
        return pixels * _count(layer.kernel)
    return 0


def _weights(layer) -> tuple[int, int, int, str]:
    """(binary weights, packed bytes, real params, note) of one layer."""
    import tensorflow as tf
    from bnn_lq.quantizers import is_sign_like
    total = sum(_count(w) for w in layer.weights)
    norms = _batch_norms(layer)
    bn_vars = sum(_count(w) for bn in norms for w in bn.weights)
    bn_params = sum(2 * _count(bn.moving_mean) for bn in norms if bn.built)
    binary = packed = 0
    note = ""
    _, kernel_q = _quantizers(layer)
    if is_sign_like(kernel_q):
        kernel = _packable_kernel(layer)
        if kernel is not None:
            shape = kernel.shape.as_list()
            taps = int(np.prod(shape[:-2], dtype=np.int64))
            cin, cout = shape[-2], shape[-1]
            binary = _count(kernel)
            packed = cout * taps * math.ceil(cin / 32) * 4
        else:
            note = "binary kernel, but LCE 0.16 runs this layer in float (weights counted real)"
    if isinstance(layer, tf.keras.Model):
        note = "nested model: all weights counted as real, MACs not counted"
    return binary, packed, total - binary - bn_vars + bn_params, note


def budget(model: tf.keras.Model, *, input_shape=None) -> Budget:
    """The microcontroller budget of ``model`` for one input.

    Args:
        model: A Sequential or functional Keras/Larq model.
        input_shape: Shape of one input without the batch axis, for models built
            without an ``Input`` (or with unknown dimensions); the model is cloned
            with that input.

    Returns:
        A :class:`Budget`.

    Raises:
        ValueError: Activation sizes are unknown and ``input_shape`` was not given.
    """
    import tensorflow as tf
    from bnn_lq.quantizers import is_sign_like
    graph = _graph_model(model, input_shape)
    pairs = _model_nodes(graph)
    consumers: dict[int, list] = {}
    for layer, node in pairs:
        for tensor in node.keras_inputs:
            consumers.setdefault(id(tensor), []).append(layer)
    model_inputs = {id(t) for t in graph.inputs}
    model_outputs = {id(t) for t in graph.outputs}

    def stored_bytes(tensor) -> tuple[int, bool]:
        users = consumers.get(id(tensor), [])
        is_packed = (id(tensor) not in model_inputs and id(tensor) not in model_outputs
                     and bool(users)
                     and all(is_sign_like(_quantizers(u)[0]) for u in users))
        return (_packed_bytes(tensor) if is_packed else _float_bytes(tensor)), is_packed

    # The model inputs are float and live from the start (a Sequential model does not
    # list its InputLayer in model.layers, so they are taken from graph.inputs).
    live: dict[int, int] = {id(t): _float_bytes(t) for t in graph.inputs}
    input_bytes = sum(live.values())
    remaining = {k: len(v) for k, v in consumers.items()}
    rows = []
    for layer, node in pairs:
        if isinstance(layer, tf.keras.layers.InputLayer):
            continue
        outputs = node.outputs if isinstance(node.outputs, (list, tuple)) else [node.outputs]
        out_sizes = [stored_bytes(t) for t in outputs]
        out_bytes = sum(size for size, _ in out_sizes)
        live_bytes = sum(live.values()) + out_bytes
        for tensor in node.keras_inputs:
            remaining[id(tensor)] -= 1
            if remaining[id(tensor)] == 0 and id(tensor) not in model_outputs:
                live.pop(id(tensor), None)
        for t, (size, _) in zip(outputs, out_sizes):
            if consumers.get(id(t)) or id(t) in model_outputs:
                live[id(t)] = size

        input_q, kernel_q = _quantizers(layer)
        is_binary_input, is_binary_kernel = is_sign_like(input_q), is_sign_like(kernel_q)
        macs = 0 if isinstance(layer, tf.keras.Model) else _macs(layer, node)
        binary, packed, real, note = _weights(layer)
        if macs is None:
            macs, note = 0, (note + "; " if note else "") + "MACs unknown (shape)"
        is_binary_mac = is_binary_input and is_binary_kernel
        shapes = tuple(_shape(t) for t in outputs)
        rows.append(LayerBudget(
            name=layer.name, kind=type(layer).__name__,
            output_shape=shapes[0] if len(shapes) == 1 else shapes,
            is_binary_input=is_binary_input, is_binary_kernel=is_binary_kernel,
            binary_weights=binary, binary_weight_bytes=packed, real_params=real,
            real_float32_bytes=4 * real, real_int8_bytes=real,
            output_bytes=out_bytes, is_output_packed=all(p for _, p in out_sizes),
            live_bytes=live_bytes,
            binary_macs=macs if is_binary_mac else 0,
            real_macs=0 if is_binary_mac else macs, note=note))
    return Budget(model_name=model.name, input_bytes=input_bytes, layers=tuple(rows))


# --- text ----------------------------------------------------------------------------


def _size(n: int) -> str:
    """Bytes as a short human-readable string (KiB = 1024 B)."""
    if n < 10 * _KiB:
        return f"{n:,} B"
    if n < _MiB:
        return f"{n / _KiB:,.1f} KiB"
    return f"{n / _MiB:,.2f} MiB"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(line(header))
    return [line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])]


def format_budget(b: Budget, *, board: str | None = None) -> str:
    """``b`` as a terminal table, with a verdict for ``board`` (a ``BOARD_LIMITS`` key).

    Columns: q = input/kernel binary (b) or real (-); packed W = bit-packed binary
    weights; real = real parameters; live = activation bytes live while the layer
    runs (``*`` marks a bit-packed output); MACs split into binary and real.
    """
    header = ["layer", "type", "output", "q", "packed W", "real", "live", "bin MACs",
              "real MACs"]
    rows = []
    for lb in b.layers:
        shape = "x".join("?" if d is None else str(d) for d in lb.output_shape) \
            if lb.output_shape and not isinstance(lb.output_shape[0], tuple) else "multiple"
        rows.append([
            lb.name, lb.kind, shape + ("*" if lb.is_output_packed else ""),
            ("b" if lb.is_binary_input else "-") + "/" + ("b" if lb.is_binary_kernel else "-"),
            f"{lb.binary_weight_bytes:,}", f"{lb.real_params:,}", f"{lb.live_bytes:,}",
            f"{lb.binary_macs:,}", f"{lb.real_macs:,}"])
    rows.append(["total", "", "", "", f"{b.binary_weight_bytes:,}", f"{b.real_params:,}",
                 f"{b.peak_activation_bytes:,}", f"{b.binary_macs:,}", f"{b.real_macs:,}"])
    lines = [f"Budget of '{b.model_name}' (batch 1)", ""]
    lines += _table(header, rows, right={4, 5, 6, 7, 8})
    total_macs = b.binary_macs + b.real_macs
    share = f" ({100 * b.binary_macs / total_macs:.1f} % binary)" if total_macs else ""
    peak_at = f"while '{b.peak_layer}' runs" if b.peak_layer else "at the input"
    lines += [
        "",
        f"binary weights, bit-packed : {_size(b.binary_weight_bytes)} "
        f"({b.binary_weights:,} weights)",
        f"real parameters            : {b.real_params:,} = {_size(b.real_float32_bytes)} "
        f"float32 | {_size(b.real_int8_bytes)} int8",
        f"weights in flash           : {_size(b.flash_float32_bytes)} (float32 real) | "
        f"{_size(b.flash_int8_bytes)} (int8 real)",
        f"peak activations           : {_size(b.peak_activation_bytes)} {peak_at}",
        f"MACs                       : {b.binary_macs:,} binary + {b.real_macs:,} real{share}",
    ]
    by_note: dict[str, list[str]] = {}
    for lb in b.layers:
        if lb.note:
            by_note.setdefault(lb.note, []).append(lb.name)
    for note, names in by_note.items():
        shown = ", ".join(names[:3]) + (f", ... ({len(names)} layers)" if len(names) > 3 else "")
        lines.append(f"note: {note}: {shown}")
    if board is not None:
        fit = b.fits(board)

        def verdict(ok):
            return "fits" if ok else "DOES NOT FIT"

        lines += [
            "",
            f"fits in {fit['part']} ({board}: {_size(fit['flash_bytes'])} flash / "
            f"{_size(fit['ram_bytes'])} RAM)?",
            f"  flash: {_size(b.flash_float32_bytes)} float32 -> "
            f"{verdict(fit['fits_flash_float32'])}; {_size(b.flash_int8_bytes)} int8 -> "
            f"{verdict(fit['fits_flash_int8'])}",
            f"  RAM  : {_size(b.peak_activation_bytes)} activations -> "
            f"{verdict(fit['fits_ram'])}",
            "  (weights and activations only: code, stack and the runtime are not counted)",
        ]
    return "\n".join(lines)


def summary(model: tf.keras.Model, *, board: str | None = None, input_shape=None) -> str:
    """``lq.models.summary`` of ``model`` followed by :func:`format_budget`."""
    import larq as lq
    shown = model if input_shape is None else _graph_model(model, input_shape)
    b = budget(shown)
    lines: list[str] = []
    lq.models.summary(shown, print_fn=lines.append)
    return "\n".join(lines) + "\n\n" + format_budget(b, board=board)
