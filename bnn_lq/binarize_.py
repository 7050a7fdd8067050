"""binarize(): turn a float Keras model into a binary Larq model by configuration.

The Keras counterpart of ``BConfig`` + ``prepare_binary_model`` of the PyTorch
``bnn`` library: a :class:`BinarizeConfig` says which quantizers the converted
layers get, and :func:`binarize` returns a *new* model (the input model is not
touched) in which

* ``Dense`` becomes ``larq.layers.QuantDense``,
* ``Conv2D`` becomes ``larq.layers.QuantConv2D``,
* ``DepthwiseConv2D`` becomes ``larq.layers.QuantDepthwiseConv2D`` (its kernel
  quantizer is Larq's ``depthwise_quantizer``; ``magnitude_aware_sign`` is
  replaced by ``bnn_lq.quantizers.DepthwiseMagnitudeAwareSign`` so that the
  XNOR scale stays per output channel),

with the first and last layers that have a kernel left real by default,
per-layer ``overrides`` and an ``ignore`` list, both matched against layer names
exactly or as regular expressions (``re.fullmatch``; an exact name wins over a
pattern, and among patterns the first listed wins). Every other layer is cloned
unchanged. All weights are copied: converted layers start from the float
weights (their kernel shapes are the same) and keep them as latent weights.
Layers that already are Larq/bnn_lq quantized layers are reconfigured when the
configuration selects them and left exactly as they are otherwise.

Example:
    >>> import bnn_lq, tensorflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((16,)),
    ...     tf.keras.layers.Dense(8, name="fc1"), tf.keras.layers.Dense(8, name="fc2"),
    ...     tf.keras.layers.Dense(4, name="fc3")])
    >>> binary = bnn_lq.binarize(model)
    >>> [type(layer).__name__ for layer in binary.layers]
    ['Dense', 'QuantDense', 'Dense']
"""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import larq as lq
import tensorflow as tf

from bnn_lq import layers as bnn_layers
from bnn_lq.quantizers import DepthwiseMagnitudeAwareSign

__all__ = ["BinarizeConfig", "binarize"]

log = logging.getLogger(__name__)

_QUANTIZER_FIELDS = ("input_quantizer", "kernel_quantizer", "kernel_constraint")


@dataclass
class BinarizeConfig:
    """What :func:`binarize` does to each layer with a kernel.

    Args:
        input_quantizer: Larq quantizer for the layer input (name, serialized dict,
            quantizer object, or ``None`` for a real-valued input).
        kernel_quantizer: Larq quantizer for the kernel (``None``: real kernel).
        kernel_constraint: Constraint on the latent kernel; applied only when the
            kernel is quantized (``"weight_clip"`` keeps it in [-1, 1]).
        keep_first: Leave the first layer(s) with a kernel real: those that no other
            layer with a kernel precedes.
        keep_last: Leave the last layer(s) with a kernel real: those that no other
            layer with a kernel follows.
        overrides: ``{name or regex: BinarizeConfig | dict | None}``. ``None`` keeps
            the layer real; a dict replaces some of the three quantizer fields of
            this config; a ``BinarizeConfig`` gives all three. Only the quantizer
            fields of an override are used. An override beats keep_first/keep_last.
        ignore: Names or regexes of layers left exactly as they are (this also
            silences the error for a layer type binarize() cannot convert).

    Example:
        >>> c = BinarizeConfig(overrides={"conv.*": {"input_quantizer": None}})
        >>> BinarizeConfig.from_dict(c.to_dict()) == c
        True
    """

    input_quantizer: Any = "ste_sign"
    kernel_quantizer: Any = "ste_sign"
    kernel_constraint: Any = "weight_clip"
    keep_first: bool = True
    keep_last: bool = True
    overrides: dict[str, Any] = field(default_factory=dict)
    ignore: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.overrides, dict):
            raise TypeError(f"BinarizeConfig.overrides must be a dict {{name or regex: "
                            f"BinarizeConfig | dict | None}}, got {type(self.overrides).__name__}")
        if isinstance(self.ignore, str) or not isinstance(self.ignore, (list, tuple)):
            raise TypeError(f"BinarizeConfig.ignore must be a list of names or regexes, "
                            f"got {self.ignore!r}")
        self.ignore = list(self.ignore)
        for key, value in self.overrides.items():
            _compile(key, "overrides")
            if isinstance(value, dict):
                unknown = sorted(set(value) - set(_QUANTIZER_FIELDS))
                if unknown:
                    raise ValueError(
                        f"BinarizeConfig.overrides[{key!r}]: unknown keys {unknown}; an "
                        f"override dict may set {list(_QUANTIZER_FIELDS)}.")
            elif value is not None and not isinstance(value, BinarizeConfig):
                raise TypeError(f"BinarizeConfig.overrides[{key!r}] must be a BinarizeConfig, "
                                f"a dict or None, got {type(value).__name__}")
        for pattern in self.ignore:
            _compile(pattern, "ignore")

    def to_dict(self) -> dict:
        """Plain data (str, bool, list, dict, None) for JSON or YAML."""

        def override(value):
            if isinstance(value, BinarizeConfig):
                return value.to_dict()
            if isinstance(value, dict):
                return {k: _plain(v) for k, v in value.items()}
            return None

        return {
            "input_quantizer": _plain(self.input_quantizer),
            "kernel_quantizer": _plain(self.kernel_quantizer),
            "kernel_constraint": _plain(self.kernel_constraint),
            "keep_first": bool(self.keep_first),
            "keep_last": bool(self.keep_last),
            "overrides": {k: override(v) for k, v in self.overrides.items()},
            "ignore": list(self.ignore),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "BinarizeConfig":
        """The inverse of :meth:`to_dict`. An override given as a dict with keys
        other than the three quantizer fields is read as a full BinarizeConfig."""
        if not isinstance(data, dict):
            raise TypeError(f"BinarizeConfig.from_dict expects a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"BinarizeConfig: unknown keys {unknown}; known keys: {sorted(known)}")
        data = dict(data)
        overrides = {}
        for key, value in (data.pop("overrides", None) or {}).items():
            if isinstance(value, dict) and not set(value) <= set(_QUANTIZER_FIELDS):
                value = cls.from_dict(value)
            overrides[key] = value
        ignore = data.pop("ignore", None)
        ignore = [] if ignore is None else ignore
        return cls(**data, overrides=overrides, ignore=ignore)


def _plain(value):
    if value is None or isinstance(value, (str, dict, bool, int, float)):
        return value
    return tf.keras.utils.serialize_keras_object(value)


def _compile(pattern: str, where: str) -> re.Pattern:
    if not isinstance(pattern, str):
        raise TypeError(f"BinarizeConfig.{where}: layer names/regexes must be strings, "
                        f"got {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"BinarizeConfig.{where}: {pattern!r} is neither a layer name nor "
                         f"a valid regular expression ({exc}).") from None


def _match(name: str, patterns, used: set) -> str | None:
    """The first of ``patterns`` matching ``name``: exact names before regexes."""
    patterns = list(patterns)
    if name in patterns:
        used.add(name)
        return name
    for pattern in patterns:
        if re.fullmatch(pattern, name):
            used.add(pattern)
            return pattern
    return None


# Float Keras type -> (Larq type, kernel quantizer argument, kernel constraint argument).
# Exact types: DepthwiseConv2D and Conv2DTranspose subclass Conv2D in Keras.
_CONVERTIBLE = {
    tf.keras.layers.Dense: (lq.layers.QuantDense, "kernel_quantizer", "kernel_constraint"),
    tf.keras.layers.Conv2D: (lq.layers.QuantConv2D, "kernel_quantizer", "kernel_constraint"),
    tf.keras.layers.DepthwiseConv2D: (
        lq.layers.QuantDepthwiseConv2D, "depthwise_quantizer", "depthwise_constraint"),
}
# Already-quantized layers that binarize() can reconfigure.
_RECONFIGURABLE = {
    lq.layers.QuantDense: ("kernel_quantizer", "kernel_constraint"),
    lq.layers.QuantConv2D: ("kernel_quantizer", "kernel_constraint"),
    lq.layers.QuantDepthwiseConv2D: ("depthwise_quantizer", "depthwise_constraint"),
    bnn_layers.BinaryDense: ("kernel_quantizer", "kernel_constraint"),
    bnn_layers.BinaryConv2D: ("kernel_quantizer", "kernel_constraint"),
}


def _has_kernel(layer) -> bool:
    return isinstance(layer, (tf.keras.layers.Dense, tf.keras.layers.Conv1D,
                              tf.keras.layers.Conv2D, tf.keras.layers.Conv3D,
                              tf.keras.layers.SeparableConv1D, tf.keras.layers.SeparableConv2D,
                              tf.keras.layers.DepthwiseConv2D, tf.keras.layers.Conv1DTranspose,
                              tf.keras.layers.Conv2DTranspose, tf.keras.layers.Conv3DTranspose,
                              tf.keras.layers.LocallyConnected1D,
                              tf.keras.layers.LocallyConnected2D))


def _predecessors(model: tf.keras.Model) -> dict[str, set[str]]:
    """Layer name -> names of the layers feeding it (from the model config)."""
    names = [layer.name for layer in model.layers]
    if isinstance(model, tf.keras.Sequential) or not hasattr(model, "get_config"):
        return {n: ({names[i - 1]} if i else set()) for i, n in enumerate(names)}
    known = set(names)
    preds: dict[str, set[str]] = {n: set() for n in names}

    def collect(obj, into):
        if isinstance(obj, (list, tuple)):
            if obj and isinstance(obj[0], str) and obj[0] in known:
                into.add(obj[0])
            for item in obj:
                collect(item, into)
        elif isinstance(obj, dict):
            for item in obj.values():
                collect(item, into)

    for entry in model.get_config()["layers"]:
        collect(entry.get("inbound_nodes", []), preds.setdefault(entry["name"], set()))
    return preds


def _ends(model: tf.keras.Model, with_kernel: list[str]) -> tuple[set[str], set[str]]:
    """(first, last): layers with a kernel that no other such layer precedes / follows."""
    preds = _predecessors(model)
    succs: dict[str, set[str]] = {n: set() for n in preds}
    for n, ps in preds.items():
        for p in ps:
            succs.setdefault(p, set()).add(n)
    kernel_set = set(with_kernel)

    def reaches_kernel(start, graph):
        seen, stack = set(), list(graph.get(start, ()))
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            if n in kernel_set:
                return True
            seen.add(n)
            stack.extend(graph.get(n, ()))
        return False

    first = {n for n in with_kernel if not reaches_kernel(n, preds)}
    last = {n for n in with_kernel if not reaches_kernel(n, succs)}
    return first, last


def _resolve(config: BinarizeConfig, override) -> dict | None:
    """The three quantizer fields a layer gets, or None for "keep real"."""
    if override is None:
        return None
    if isinstance(override, BinarizeConfig):
        fields = {k: getattr(override, k) for k in _QUANTIZER_FIELDS}
    else:
        fields = {**{k: getattr(config, k) for k in _QUANTIZER_FIELDS}, **override}
    if fields["input_quantizer"] is None and fields["kernel_quantizer"] is None:
        return None
    return fields


def _fresh(value):
    """A serialized form, so each layer gets its own quantizer/constraint object."""
    return _plain(value)


def _layer_config(layer, fields: dict, kernel_q: str, kernel_c: str) -> dict:
    cfg = dict(layer.get_config())
    cfg["input_quantizer"] = _fresh(fields["input_quantizer"])
    quantizer = fields["kernel_quantizer"]
    if kernel_q == "depthwise_quantizer" and quantizer is not None:
        q = lq.quantizers.get(quantizer) if isinstance(quantizer, (str, dict)) else quantizer
        if type(q) is lq.quantizers.MagnitudeAwareSign:
            # Larq's version averages over (kh, kw, cin) of a depthwise kernel: one scale
            # per multiplier, shared by every channel. XNOR-Net wants one per channel.
            quantizer = DepthwiseMagnitudeAwareSign(clip_value=q.clip_value)
    cfg[kernel_q] = _fresh(quantizer)
    if quantizer is not None:
        cfg[kernel_c] = _fresh(fields["kernel_constraint"])
    if isinstance(layer, (bnn_layers.BinaryDense, bnn_layers.BinaryConv2D)):
        cfg["is_binarized_activation"] = fields["input_quantizer"] is not None
    return cfg


def binarize(model: tf.keras.Model, config: BinarizeConfig | dict | None = None) -> tf.keras.Model:
    """A new model with ``Dense``/``Conv2D``/``DepthwiseConv2D`` layers replaced by
    Larq quantized layers as ``config`` says; every weight is copied.

    Args:
        model: A Sequential or functional Keras model (nested models are cloned
            unchanged, not descended into).
        config: A :class:`BinarizeConfig`, a dict for ``BinarizeConfig.from_dict``,
            or ``None`` for the defaults (ste_sign input and kernel, weight_clip,
            first and last layers real).

    Returns:
        A new, uncompiled ``tf.keras.Model`` with the same name, layer names,
        inputs and outputs.

    Raises:
        TypeError: A layer selected for binarization has a type binarize() cannot
            convert (Conv1D, SeparableConv2D, Conv2DTranspose, ...), or an override
            selects a layer without a kernel.
        ValueError: Invalid configuration (unknown keys, bad regular expression).
    """
    if config is None:
        config = BinarizeConfig()
    elif isinstance(config, dict):
        config = BinarizeConfig.from_dict(config)
    elif not isinstance(config, BinarizeConfig):
        raise TypeError(f"binarize(): config must be a BinarizeConfig, a dict or None, "
                        f"got {type(config).__name__}")
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"binarize(): expected a tf.keras.Model, got {type(model).__name__}")

    with_kernel = [layer.name for layer in model.layers if _has_kernel(layer)]
    first, last = _ends(model, with_kernel)
    used: set = set()
    plan: dict[str, dict] = {}  # layer name -> new (class, config)
    kept_real: list[str] = []
    for layer in model.layers:
        name, kind = layer.name, type(layer).__name__
        if isinstance(layer, tf.keras.Model):
            if any(_has_kernel(sub) for sub in layer.layers):
                warnings.warn(f"binarize(): nested model '{name}' is copied unchanged; "
                              "binarize it separately if it should be binary.", stacklevel=2)
            continue
        if _match(name, config.ignore, used) is not None:
            continue
        key = _match(name, config.overrides, used)
        if key is not None:
            fields = _resolve(config, config.overrides[key])
            if fields is not None and not _has_kernel(layer):
                raise TypeError(
                    f"layer '{name}' ({kind}): the override {key!r} asks to binarize it, but "
                    "it has no kernel; only Dense, Conv2D and DepthwiseConv2D layers can be "
                    "binarized. Narrow the override pattern.")
        elif not _has_kernel(layer):
            continue
        elif (config.keep_first and name in first) or (config.keep_last and name in last):
            kept_real.append(name)
            continue
        else:
            fields = _resolve(config, config)
        if fields is None:
            continue
        if type(layer) in _CONVERTIBLE:
            new_class, kernel_q, kernel_c = _CONVERTIBLE[type(layer)]
        elif type(layer) in _RECONFIGURABLE:
            new_class = type(layer)
            kernel_q, kernel_c = _RECONFIGURABLE[type(layer)]
        else:
            raise TypeError(
                f"layer '{name}' ({kind}): binarize() cannot convert this layer type; add it "
                f"to ignore=[{name!r}] or override it with None to keep it real (binarize() "
                "converts Dense, Conv2D and DepthwiseConv2D, the layers LCE can run).")
        plan[name] = (new_class, _layer_config(layer, fields, kernel_q, kernel_c))

    for pattern in [*config.ignore, *config.overrides]:
        if pattern not in used:
            warnings.warn(f"binarize(): {pattern!r} (in ignore/overrides) matches no layer of "
                          f"model '{model.name}'.", stacklevel=2)

    def clone(layer):
        if layer.name in plan:
            new_class, cfg = plan[layer.name]
            return new_class.from_config(cfg)
        return layer.__class__.from_config(layer.get_config())

    new_model = tf.keras.models.clone_model(model, clone_function=clone)
    for old in model.layers:
        if old.weights:
            new_model.get_layer(old.name).set_weights(old.get_weights())
    log.info("binarize(%s): %d of %d layers with a kernel quantized; kept real: %s",
             model.name, len(plan), len(with_kernel), ", ".join(kept_real) or "none")
    return new_model
