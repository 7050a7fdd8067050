"""Keras/Larq -> .tflite through Larq Compute Engine, with every binary layer bit-packed.

This is the only module of ``bnn_lq.convert`` that imports ``larq_compute_engine``
(and TensorFlow). :func:`to_tflite` wraps ``larq_compute_engine.convert_keras_model``
and adds what LCE 0.16 lacks:

* **Bit-packed binary dense layers.** LCE turns a ``QuantDense`` with a binary
  input and a binary kernel into ``LceQuantize -> LceDequantize ->
  FULLY_CONNECTED`` with float ±1 weights (32 bits per weight). Before
  conversion, :func:`bitpack_dense_layers` clones the model with each such layer
  computed as ``Reshape [1, 1, C] -> 1x1 QuantConv2D -> Reshape [units]`` (same
  quantizers, same weights), which LCE converts to ``LceBconv2d``: 1 bit per
  weight, batch normalization folded, and bit-packed outputs between chained
  binary dense layers. The arithmetic is the same, so predictions do not change.
* **Warnings** (:func:`fusion_warnings`) naming each layer whose pattern stops
  LCE from fusing batch normalization or from bit-packing, with the fix.
* Baselines of the *same architecture*: :func:`to_float_model` (quantizers
  removed, weights kept), :func:`float_tflite`, :func:`int8_tflite` (plain
  TensorFlow Lite), :func:`stock_tflite` (LCE without the rewrite), and
  :func:`ideal_bytes`, the size a model would have if each weight took exactly
  its bits.

int8 paths (LCE 0.16 has no post-training calibration of its own):

* **QAT**: a model with fake-quant ops (``tf.quantization.fake_quant_*``) converts
  with int8 non-binary layers, int8 input/output, int8-output ``LceBconv2d``
  where a fake-quant follows the binary convolution. ``to_tflite(model,
  int8=True)`` uses the fake-quant ranges.
* **Representative data without QAT**: ``to_tflite(model, int8=True,
  representative_data=x)`` runs the Keras model on ``x``, takes the 0.01 % / 99.99 %
  quantiles of every non-binary layer's output, and passes that one range as
  LCE's ``experimental_default_int8_range`` ("dummy quantization"). Builtin ops
  become int8 with one shared activation range, ``LceBconv2d`` outputs stay
  float32, and the model input/output become int8 where LCE inserts
  QUANTIZE/DEQUANTIZE adaptors (an output written directly by a float
  ``LceBconv2d`` stays float32). Accuracy can drop; measure it with ``bnn-lq eval``.
* ``int8=True`` with neither raises :class:`ConversionError`.

Example:
    >>> import bnn_lq, larq as lq, tensorflow as tf
    >>> from bnn_lq.convert import to_tflite, read
    >>> x = inp = tf.keras.Input((16,))
    >>> x = lq.layers.QuantDense(32, input_quantizer="ste_sign", kernel_quantizer="ste_sign")(x)
    >>> fb = to_tflite(tf.keras.Model(inp, x))  # doctest: +SKIP
    >>> [op.op for op in read(fb).operators]  # doctest: +SKIP
    ['RESHAPE', 'LceQuantize', 'LceBconv2d', 'RESHAPE']
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Iterable

import bnn_lq  # noqa: F401  (Keras-2 switch before TensorFlow)
import larq as lq
import numpy as np
import tensorflow as tf

from bnn_lq.errors import ConversionError
from bnn_lq.quantizers import is_sign_like

__all__ = [
    "DenseAsConv1x1",
    "bitpack_dense_layers",
    "float_tflite",
    "fusion_warnings",
    "ideal_bytes",
    "int8_tflite",
    "is_binary_layer",
    "load_keras_model",
    "stock_tflite",
    "to_float_model",
    "to_tflite",
]

log = logging.getLogger(__name__)

_FAKE_QUANT_OPS = {
    "FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxVarsPerChannel", "FakeQuantWithMinMaxArgs",
    "FakeQuantWithMinMaxArgsPerChannel", "QuantizeAndDequantizeV2", "QuantizeAndDequantizeV3",
}


# -- what is binary ---------------------------------------------------------------------
def _kernel_quantizer(layer):
    return getattr(layer, "kernel_quantizer", None) or getattr(layer, "depthwise_quantizer", None)


def is_binary_layer(layer) -> bool:
    """A larq Quant layer whose input and kernel are both binarized (±1)."""
    return (is_sign_like(getattr(layer, "input_quantizer", None))
            and is_sign_like(_kernel_quantizer(layer)))


def _is_binary_dense(layer) -> bool:
    return isinstance(layer, lq.layers.QuantDense) and is_binary_layer(layer)


# -- the dense rewrite --------------------------------------------------------------------
@tf.keras.utils.register_keras_serializable(package="bnn_lq")
class DenseAsConv1x1(tf.keras.layers.Layer):
    """A binary dense layer computed as ``Reshape [1, 1, C] -> 1x1 QuantConv2D ->
    Reshape [units]`` (then the layer's own batch normalization, for
    ``bnn_lq.layers.BinaryDense``), so that LCE converts it to ``LceBconv2d``.

    Args:
        conv: Config of the inner ``QuantConv2D`` (1x1, VALID).
        batch_norm: Config of a ``BatchNormalization`` applied after, or None.

    Input shape:
        ``(batch, C)``.
    Output shape:
        ``(batch, units)``.
    """

    def __init__(self, conv: dict, batch_norm: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.conv = lq.layers.QuantConv2D.from_config(conv)
        self.batch_norm = (tf.keras.layers.BatchNormalization.from_config(batch_norm)
                           if batch_norm else None)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.to_image = tf.keras.layers.Reshape((1, 1, channels))
        self.to_vector = tf.keras.layers.Reshape((self.conv.filters,))
        self.conv.build((input_shape[0], 1, 1, channels))
        if self.batch_norm is not None:
            self.batch_norm.build((input_shape[0], self.conv.filters))
        super().build(input_shape)

    def call(self, inputs, training=None):
        x = self.to_vector(self.conv(self.to_image(inputs)))
        if self.batch_norm is not None:
            x = self.batch_norm(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape[:-1]).concatenate([self.conv.filters])

    def get_config(self):
        return {**super().get_config(), "conv": self.conv.get_config(),
                "batch_norm": self.batch_norm.get_config() if self.batch_norm else None}


def _dense_input_rank(layer) -> int | None:
    """Rank of the (single) input of ``layer``, or None when it is shared or unknown."""
    if len(getattr(layer, "_inbound_nodes", [])) != 1:
        return None
    try:
        return len(layer.input_shape)
    except (AttributeError, RuntimeError, ValueError):
        return None


def _dense_as_conv(layer) -> DenseAsConv1x1:
    cfg = layer.get_config()
    conv = dict(
        filters=cfg["units"], kernel_size=1, padding="valid", activation=cfg["activation"],
        use_bias=cfg["use_bias"], input_quantizer=cfg["input_quantizer"],
        kernel_quantizer=cfg["kernel_quantizer"], kernel_constraint=cfg["kernel_constraint"],
        name=layer.name + "_conv1x1",
    )
    bn = getattr(layer, "batch_norm", None)
    new = DenseAsConv1x1(conv, bn.get_config() if bn is not None else None,
                         name=layer.name + "_bitpacked")
    channels = int(layer.kernel.shape[0])
    new.build((None, channels))
    weights = [layer.kernel.numpy().reshape(1, 1, channels, cfg["units"])]
    if cfg["use_bias"]:
        weights.append(layer.bias.numpy())
    new.conv.set_weights(weights)
    if bn is not None:
        new.batch_norm.set_weights(bn.get_weights())
    return new


def bitpack_dense_layers(model: tf.keras.Model) -> tf.keras.Model:
    """Clone ``model`` with every binary ``QuantDense`` (binary input and kernel, 2-D
    input ``[batch, C]``) replaced by :class:`DenseAsConv1x1`; weights are kept.

    Sequential and functional models are handled, nested models recursively. A
    model with no such layer is returned as is (not cloned). A binary dense layer
    that cannot be rewritten (input of rank > 2, or shared by several calls) is
    left alone with a warning.
    """
    candidates = [layer for layer in model.layers
                  if _is_binary_dense(layer) or isinstance(layer, tf.keras.Model)]
    if not candidates:
        return model
    replaced: dict[str, Any] = {}  # new layer name -> original layer, for weights

    def clone(layer):
        if isinstance(layer, tf.keras.Model):
            new = bitpack_dense_layers(layer)
            if new is layer:  # no rewrite inside: plain clone, weights copied below
                new = layer.__class__.from_config(layer.get_config())
                replaced[new.name] = layer
            return new
        if _is_binary_dense(layer):
            rank = _dense_input_rank(layer)
            if rank == 2:
                return _dense_as_conv(layer)
            _warn(f"layer {layer.name!r} (QuantDense) has a binary input and kernel but its "
                  f"input is {'shared' if rank is None else f'of rank {rank}'}; it stays an "
                  "unpacked float FULLY_CONNECTED (32 bits per weight). Flatten its input "
                  "to [batch, C] and call the layer once.")
        new = layer.__class__.from_config(layer.get_config())
        replaced[new.name] = layer
        return new

    cloned = tf.keras.models.clone_model(model, clone_function=clone)
    for new in cloned.layers:
        old = replaced.get(new.name)
        if old is not None and old.weights:
            new.set_weights(old.get_weights())
    return cloned


# -- warnings -----------------------------------------------------------------------------
class _Graph:
    """Producer/consumer relations between the top-level layers of a Keras model."""

    def __init__(self, model: tf.keras.Model):
        self.layers = list(model.layers)
        self.consumers: dict[str, list] = {layer.name: [] for layer in self.layers}
        self.producers: dict[str, list] = {layer.name: [] for layer in self.layers}
        names = set(self.consumers)
        for layer in self.layers:
            for node in getattr(layer, "_inbound_nodes", []):
                inbound = node.inbound_layers
                inbound = inbound if isinstance(inbound, (list, tuple)) else [inbound]
                for prev in inbound:
                    if prev.name in names and layer not in self.consumers[prev.name]:
                        self.consumers[prev.name].append(layer)
                        self.producers[layer.name].append(prev)
        outputs = {id(t._keras_history.layer) for t in model.outputs}
        self.is_output = {layer.name: id(layer) in outputs for layer in self.layers}

    def only_consumer(self, layer):
        found = self.consumers.get(layer.name, [])
        return found[0] if len(found) == 1 and not self.is_output.get(layer.name) else None


def _is_relu(layer) -> bool:
    if isinstance(layer, tf.keras.layers.ReLU):
        return True
    if isinstance(layer, tf.keras.layers.Activation):
        return getattr(layer.activation, "__name__", "") in ("relu", "relu6")
    return False


def _is_pool(layer) -> bool:
    return isinstance(layer, (tf.keras.layers.MaxPool2D, tf.keras.layers.AveragePooling2D))


def fusion_warnings(model: tf.keras.Model, *, bitpack_dense: bool = True) -> list[str]:
    """Messages for each layer whose pattern stops LCE 0.16 from fusing batch
    normalization into a binary convolution or from bit-packing (spec lce-ops.md §8),
    each naming the layer and the fix. Pure: it only reads the model."""
    g = _Graph(model)
    found: list[str] = []
    for layer in g.layers:
        name = f"layer {layer.name!r} ({type(layer).__name__})"
        if isinstance(layer, tf.keras.Model):
            found += fusion_warnings(layer, bitpack_dense=bitpack_dense)
            continue
        binary = is_binary_layer(layer)
        if isinstance(layer, lq.layers.QuantDepthwiseConv2D) and (
                is_sign_like(getattr(layer, "input_quantizer", None))
                or is_sign_like(_kernel_quantizer(layer))):
            found.append(f"{name}: LCE has no binary depthwise convolution; it stays a float "
                         "DEPTHWISE_CONV_2D with unpacked weights. Use a QuantConv2D (groups=C "
                         "with C a multiple of 32) if it must be bit-packed.")
            continue
        if isinstance(layer, lq.layers.QuantDense) and binary and not bitpack_dense:
            found.append(f"{name}: with bitpack_dense=False LCE 0.16 stores this binary dense "
                         "layer as a float FULLY_CONNECTED with ±1 weights (32x larger). Leave "
                         "bitpack_dense=True.")
        if isinstance(layer, lq.layers.QuantConv2D) and is_sign_like(layer.input_quantizer) \
                and _kernel_quantizer(layer) is None:
            found.append(f"{name}: real-valued kernel (kernel_quantizer=None) after a binary "
                         "input: LCE emits LceQuantize -> LceDequantize -> float CONV_2D. Give "
                         "it kernel_quantizer='ste_sign' to bit-pack it.")
        if not (binary and isinstance(layer, lq.layers.QuantConv2D)):
            if isinstance(layer, tf.keras.layers.MaxPool2D):
                relu = g.only_consumer(layer)
                nxt = g.only_consumer(relu) if relu is not None and _is_relu(relu) else None
                if nxt is not None and is_sign_like(getattr(nxt, "input_quantizer", None)):
                    found.append(
                        f"layer {layer.name!r} (MaxPool2D) -> {relu.name!r} (ReLU) -> "
                        f"{nxt.name!r}: LCE 0.16 CONVERTER BUG: the ReLU is silently dropped, "
                        "so the .tflite computes a different function than Keras. Put the ReLU "
                        "before the pooling, or remove it (a ReLU before a sign quantizer only "
                        "maps negatives to +1).")
            continue
        pad_values = float(getattr(layer, "pad_values", 0.0))
        if layer.padding == "same" and pad_values not in (0.0, 1.0):
            found.append(f"{name}: pad_values={pad_values:g} cannot be fused; LCE pads with "
                         "0.0 or 1.0 only and falls back to float PADV2 -> CONV_2D. Use "
                         "pad_values=1.0 (binary-friendly) or padding='valid'.")
        cin = int(layer.input_shape[-1]) if len(getattr(layer, "_inbound_nodes", [])) == 1 \
            else None
        groups = int(getattr(layer, "groups", 1) or 1)
        if groups > 1 and cin is not None and (cin // groups) % 32:
            found.append(f"{name}: groups={groups} gives {cin // groups} input channels per "
                         "group, not a multiple of 32; LCE falls back to a float grouped "
                         "CONV_2D. Use channel counts with Cin/groups a multiple of 32.")
        nxt = g.only_consumer(layer)
        if nxt is not None and _is_pool(nxt):
            after = g.only_consumer(nxt)
            if isinstance(after, tf.keras.layers.BatchNormalization):
                found.append(f"{name}: the pooling layer {nxt.name!r} sits between the binary "
                             f"convolution and its batch normalization {after.name!r}, so LCE "
                             "cannot fold the BN into LceBconv2d. Apply the BN before pooling "
                             "(conv -> BN -> pool).")
        if isinstance(nxt, tf.keras.layers.BatchNormalization):
            act = g.only_consumer(nxt)
            if act is not None and _is_relu(act):
                found.append(f"{name}: conv -> BN {nxt.name!r} -> ReLU {act.name!r}: LCE fuses "
                             "an activation only directly after the binary convolution, so it "
                             "stays a separate float RELU. Use conv -> ReLU -> BN if the model "
                             "allows it.")
        # Does the (BN/activation-processed) output feed another binary layer?
        tail = layer
        while True:
            step = g.only_consumer(tail)
            if step is None or not (isinstance(step, tf.keras.layers.BatchNormalization)
                                    or _is_relu(step)):
                break
            tail = step
        step = g.only_consumer(tail)
        feeds_binary = step is not None and is_sign_like(getattr(step, "input_quantizer", None))
        if feeds_binary and layer.padding == "same" and pad_values == 0.0:
            found.append(f"{name}: padding='same' with pad_values=0.0 stops LCE from writing "
                         f"bit-packed output to {step.name!r} (float output + LceQuantize "
                         "instead, 32x more activation memory). Use pad_values=1.0.")
    return found


def _warn(message: str) -> None:
    log.warning(message)
    warnings.warn(message, UserWarning, stacklevel=3)


# -- conversion ---------------------------------------------------------------------------
def _has_fake_quant(model: tf.keras.Model) -> bool:
    spec = [tf.TensorSpec((1,) + tuple(t.shape[1:]), t.dtype) for t in model.inputs]
    graph = tf.function(model).get_concrete_function(*spec).graph
    return any(op.type in _FAKE_QUANT_OPS for op in graph.get_operations())


def _calibrated_range(model: tf.keras.Model, data: np.ndarray) -> tuple[float, float]:
    """(lo, hi) covering 99.98 % of the values of every non-binary layer output and of
    the input, over ``data`` (the dummy-quantization range of LCE)."""
    taps = [layer.output for layer in model.layers
            if not isinstance(layer, tf.keras.layers.InputLayer) and not is_binary_layer(layer)]
    probe = tf.keras.Model(model.inputs, taps)
    values = [np.asarray(data, dtype=np.float32).ravel()]
    for out in probe.predict(np.asarray(data, dtype=np.float32), batch_size=64, verbose=0):
        values.append(np.asarray(out, dtype=np.float32).ravel())
    flat = np.concatenate(values)
    lo, hi = np.quantile(flat, [1e-4, 1 - 1e-4])
    lo, hi = float(min(lo, 0.0)), float(max(hi, 0.0))
    if hi - lo < 1e-6:
        hi = lo + 1e-6
    return lo, hi


def to_tflite(model: tf.keras.Model, *, int8: bool = False,
              representative_data: np.ndarray | Iterable | None = None,
              bitpack_dense: bool = True, target: str = "arm", warn: bool = True) -> bytes:
    """Convert a Keras/Larq model with LCE, bit-packing binary dense layers too.

    Args:
        model: A built ``tf.keras.Model`` (Sequential or functional).
        int8: Convert non-binary layers and the model input/output to int8 (see the
            module docstring for which paths work).
        representative_data: Inputs used to calibrate the int8 range when the model
            has no fake-quant (QAT) ops; an array ``[n, ...]`` or an iterable of arrays.
        bitpack_dense: Rewrite binary ``QuantDense`` layers as 1x1 binary
            convolutions so that LCE bit-packs them.
        target: LCE target, "arm" or "xcore".
        warn: Emit :func:`fusion_warnings` (``warnings.warn`` and logging).

    Returns:
        The .tflite flatbuffer.

    Raises:
        ConversionError: LCE failed, or int8 was asked without QAT ops or data.
    """
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"to_tflite() takes a tf.keras.Model, not {type(model).__name__}")
    if warn:
        for message in fusion_warnings(model, bitpack_dense=bitpack_dense):
            _warn(message)
    source = bitpack_dense_layers(model) if bitpack_dense else model
    kwargs: dict[str, Any] = dict(target=target)
    if int8:
        kwargs.update(inference_input_type=tf.int8, inference_output_type=tf.int8)
        if not _has_fake_quant(model):
            if representative_data is None:
                raise ConversionError(
                    f"model {model.name!r}: int8=True needs quantization ranges, and the model "
                    "has no fake-quant (QAT) ops. Pass representative_data=<a few hundred "
                    "inputs> (dummy quantization with one calibrated range) or train with "
                    "fake-quant layers.")
            data = (representative_data if isinstance(representative_data, np.ndarray)
                    else np.concatenate([np.asarray(x) for x in representative_data]))
            kwargs["experimental_default_int8_range"] = _calibrated_range(model, data)
            log.info("int8: calibrated default range %s", kwargs["experimental_default_int8_range"])
    return _lce_convert(source, **kwargs)


def _lce_convert(model: tf.keras.Model, **kwargs) -> bytes:
    import larq_compute_engine as lce

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Using `experimental_default_int8_range`")
            return bytes(lce.convert_keras_model(model, **kwargs))
    except Exception as exc:  # LCE raises bare Exceptions from its MLIR pipeline
        raise ConversionError(f"model {model.name!r}: LCE conversion failed: {exc}") from exc


def stock_tflite(model: tf.keras.Model, **lce_kwargs) -> bytes:
    """Plain ``larq_compute_engine.convert_keras_model`` (no rewrite): the baseline."""
    return _lce_convert(model, **lce_kwargs)


_QUANTIZER_KEYS = ("input_quantizer", "kernel_quantizer", "depthwise_quantizer",
                   "pointwise_quantizer")
_CONSTRAINT_KEYS = ("kernel_constraint", "depthwise_constraint", "pointwise_constraint")


def to_float_model(model: tf.keras.Model) -> tf.keras.Model:
    """The same architecture with every larq quantizer removed (weights kept): the
    float baseline that plain TensorFlow Lite converts."""

    def clone(layer):
        if isinstance(layer, tf.keras.Model):
            return to_float_model(layer)
        cfg = layer.get_config()
        if any(k in cfg for k in _QUANTIZER_KEYS):
            for key in _QUANTIZER_KEYS:
                if key in cfg:
                    cfg[key] = None
            for key in _CONSTRAINT_KEYS:
                if key in cfg:
                    cfg[key] = None
        return layer.__class__.from_config(cfg)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone_model = tf.keras.models.clone_model(model, clone_function=clone)
    clone_model.set_weights(model.get_weights())
    return clone_model


def float_tflite(model: tf.keras.Model) -> bytes:
    """Float32 TFLite of :func:`to_float_model` (builtin ops only)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(to_float_model(model))
    try:
        return bytes(converter.convert())
    except Exception as exc:
        raise ConversionError(f"model {model.name!r}: TFLite float conversion failed: {exc}") \
            from exc


def int8_tflite(model: tf.keras.Model, representative_data: np.ndarray) -> bytes:
    """Full-integer int8 TFLite of :func:`to_float_model`, calibrated on
    ``representative_data`` (TFLite post-training quantization, int8 input/output)."""
    data = np.asarray(representative_data, dtype=np.float32)

    def dataset():
        for i in range(len(data)):
            yield [data[i: i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(to_float_model(model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    try:
        return bytes(converter.convert())
    except Exception as exc:
        raise ConversionError(f"model {model.name!r}: TFLite int8 conversion failed: {exc}") \
            from exc


# -- size yardstick -------------------------------------------------------------------------
def ideal_bytes(model: tf.keras.Model, *, int8: bool = False) -> int:
    """Bytes the weights would take at exactly their precision: 1 bit per kernel weight
    of a layer whose input and kernel are both binary, 4 bytes (1 with ``int8``) per
    other parameter. A batch normalization counts 2 parameters per channel (the
    scale and offset inference needs; the moving statistics fold into them).
    A binary kernel applied to a real input (a first layer) counts as float."""
    total_bits = 0
    real_bytes = 1 if int8 else 4
    for layer in model.layers:
        if isinstance(layer, tf.keras.Model):
            total_bits += 8 * ideal_bytes(layer, int8=int8)
            continue
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            total_bits += 8 * real_bytes * 2 * int(layer.weights[0].shape[-1])
            continue
        bn = getattr(layer, "batch_norm", None)  # bnn_lq.layers.Binary* carry their BN
        bn_weights = {id(w) for w in bn.weights} if bn is not None else set()
        if bn is not None and bn.weights:
            total_bits += 8 * real_bytes * 2 * int(bn.weights[0].shape[-1])
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            kernel = getattr(layer, "depthwise_kernel", None)
        binary = is_binary_layer(layer) and not isinstance(layer, lq.layers.QuantDepthwiseConv2D)
        for w in layer.weights:
            if id(w) in bn_weights:
                continue
            n = int(np.prod(w.shape))
            if binary and kernel is not None and w.name == kernel.name:
                total_bits += n
            else:
                total_bits += 8 * real_bytes * n
    return (total_bits + 7) // 8


def load_keras_model(path) -> tf.keras.Model:
    """Load a saved Keras model (.keras, .h5 or a SavedModel directory) with the
    larq and bnn-lq layers known, without compiling it.

    Raises:
        ConversionError: the file is missing or not a loadable Keras model.
    """
    import os

    import bnn_lq.layers  # noqa: F401  (registers bnn-lq layers and quantizers)

    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConversionError(f"{path}: no such Keras model file")
    try:
        return tf.keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ConversionError(f"{path}: cannot load the Keras model ({type(exc).__name__}: "
                              f"{exc}). Save it with model.save('model.keras').") from exc
