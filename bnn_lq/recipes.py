"""Multi-stage training recipes: a YAML file of stages, each one ``bnn_lq.train.fit`` run.

A recipe is the Keras counterpart of the PyTorch ``bnn`` library's "recipes"
(seed 002): the model is re-configured between stages (which layers have binary
kernels or activations), and the weights are carried over from one stage to the
next. Each stage trains in its own, complete and resumable run directory::

    out_dir/
      recipe.json               the resolved recipe and each stage's result
      01_<stage name>/          a bnn_lq.train run directory (config.json, history.csv,
      02_<stage name>/          checkpoints/, model.keras, plots/) + stage.json when done

A recipe file::

    name: real_to_binary
    model: {name: bnn_cnn_small, options: {filters: [32, 64, 128]}}
    data: fashion_mnist
    defaults: {batch_size: 128, schedule: cosine}
    stages:
      - name: binary_activations          # stage 1: real weights, binary activations
        reconfigure: {kernel_quantizer: null, kernel_constraint: null}
        optimizer: adam
        epochs: 10
        learning_rate: 1.0e-3
      - name: fully_binary                # stage 2: weights carried over, all binary
        optimizer: adam
        epochs: 10
        learning_rate: 2.0e-4

Stage keys:

* ``reconfigure``: how the freshly built model differs from the zoo entry: a dict of
  ``input_quantizer`` / ``kernel_quantizer`` / ``kernel_constraint`` (a Larq name, or
  null for real valued) applied to every quantized layer (or those whose name matches
  the regular expression ``layers``), or ``"float"`` (all three null: the float model
  of the same architecture). Absent: the zoo entry as registered.
* ``options``: builder options merged over the recipe's ``model.options``.
* ``init``: where the starting weights come from: ``previous`` (default from the
  second stage on), the name of an earlier stage, or ``none``. Weights are copied
  layer by layer (same name and shapes); quantizers do not change weight shapes.
* ``teacher`` (+ ``temperature``, default 4, ``kd_weight``, default 1): knowledge
  distillation from an earlier stage's model (or a ``model.keras`` path). The loss is
  ``CE(y, student) + kd_weight * T^2 * KL(softmax(teacher/T) || softmax(student/T))``
  (Hinton et al. 2015 with the cross-entropy weight fixed at 1); the teacher is frozen.
* ``fit`` arguments: ``optimizer``, ``epochs``, ``batch_size``, ``learning_rate``,
  ``loss``, ``schedule``, ``augment``, ``seed``, ``limit``, ``bop_threshold``,
  ``bop_gamma``, ``plots`` (defaults from the recipe's ``defaults``).

Distillation runs through ``fit`` unchanged: the student is wrapped in a functional
model whose ``DistillationLoss`` layer adds the KL term with ``add_loss`` and passes
the student's logits on to a softmax, so ``fit``'s cross-entropy on the logits plus
the layer loss is the distillation loss. The wrapper (student + frozen teacher) is
what the stage's checkpoints hold; the stage's ``model.keras`` is the student alone.

Example:
    >>> from bnn_lq.recipes import load_recipe
    >>> recipe = load_recipe("real_to_binary")  # zoo/recipes/real_to_binary.yaml
    >>> [stage["name"] for stage in recipe["stages"]]
    ['binary_activations', 'fully_binary']
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Mapping

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import tensorflow as tf

from bnn_lq.errors import BnnLqError

__all__ = ["DistillationLoss", "RecipeError", "RecipeResult", "StageResult", "carry_weights",
           "distillation_model", "load_recipe", "reconfigure", "recipe_dir", "run_recipe",
           "FIT_KEYS"]

log = logging.getLogger("bnn_lq.recipes")

#: Stage keys passed on to ``bnn_lq.train.fit``.
FIT_KEYS = ("optimizer", "epochs", "batch_size", "learning_rate", "loss", "schedule", "augment",
            "seed", "limit", "validation", "bop_threshold", "bop_gamma", "plots", "verbose")
_STAGE_KEYS = {"name", "reconfigure", "options", "init", "teacher", "temperature", "kd_weight",
               *FIT_KEYS}
_RECIPE_KEYS = {"name", "description", "model", "data", "defaults", "stages", "paper"}
_QUANT_FIELDS = ("input_quantizer", "kernel_quantizer", "kernel_constraint")
_QUANT_CLASSES = ("QuantConv2D", "QuantDense", "QuantDepthwiseConv2D", "QuantSeparableConv2D",
                  "QuantConv1D", "QuantConv3D", "QuantConv2DTranspose", "QuantConv3DTranspose",
                  "QuantLocallyConnected1D", "QuantLocallyConnected2D")
_STAGE_FILE = "stage.json"


class RecipeError(BnnLqError):
    """A recipe that cannot be read or run as written."""


@dataclasses.dataclass
class StageResult:
    """One stage of a recipe run.

    Attributes:
        name: The stage's name.
        out_dir: Its run directory.
        test_accuracy: Validation accuracy after its last epoch (None without validation).
        epochs: Epochs trained in total.
        skipped: True when a finished stage was found and reused (resume).
        carried: Layers whose weights were copied in from ``init``.
    """

    name: str
    out_dir: Path
    test_accuracy: float | None
    epochs: int
    skipped: bool = False
    carried: int = 0


@dataclasses.dataclass
class RecipeResult:
    """What ``run_recipe`` returns: the stages' results and the final model."""

    name: str
    out_dir: Path
    stages: list[StageResult]
    model: Any = dataclasses.field(default=None, repr=False)

    @property
    def test_accuracy(self) -> float | None:
        return self.stages[-1].test_accuracy if self.stages else None


# --------------------------------------------------------------------------- reading


def recipe_dir() -> Path:
    """The folder of the recipes shipped with bnn-lq (``zoo/recipes``)."""
    from bnn_lq import zoo

    return Path(zoo.__file__).resolve().parent / "recipes"


def _find(path_or_name: str | os.PathLike) -> Path:
    path = Path(path_or_name)
    if path.is_file():
        return path
    shipped = recipe_dir()
    candidates = [shipped / path.name, shipped / f"{path.name}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in shipped.glob("*.yaml"))
    raise RecipeError(f"recipe {str(path_or_name)!r}: no such file, and no shipped recipe of that "
                      f"name in {shipped}; shipped recipes: {', '.join(known) or '(none)'}")


def load_recipe(path_or_dict: str | os.PathLike | Mapping[str, Any]) -> dict:
    """Reads and validates a recipe: a YAML path, a shipped recipe name, or a dict.

    Returns:
        A new dict with ``name``, ``model`` (``{"name", "options"}``), ``data``,
        ``defaults`` and ``stages`` (each stage with a ``name``).

    Raises:
        RecipeError: unknown keys, missing model or stages, duplicate stage names, or an
            ``init``/``teacher`` that names no earlier stage.
    """
    if isinstance(path_or_dict, Mapping):
        recipe, where = copy.deepcopy(dict(path_or_dict)), "recipe"
    else:
        import yaml

        path = _find(path_or_dict)
        where = str(path)
        try:
            recipe = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RecipeError(f"{where}: not valid YAML: {exc}") from None
        if not isinstance(recipe, dict):
            raise RecipeError(f"{where}: expected a mapping with 'model' and 'stages', got "
                              f"{type(recipe).__name__}")
        recipe.setdefault("name", path.stem)
    unknown = set(recipe) - _RECIPE_KEYS
    if unknown:
        raise RecipeError(f"{where}: unknown key(s) {sorted(unknown)}; a recipe has {sorted(_RECIPE_KEYS)}")
    model = recipe.get("model")
    if isinstance(model, str):
        model = {"name": model}
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        raise RecipeError(f"{where}: 'model' must name a zoo architecture, e.g. "
                          "model: {name: bnn_cnn_small, options: {...}}")
    recipe["model"] = {"name": model["name"], "options": dict(model.get("options") or {})}
    recipe.setdefault("name", "recipe")
    recipe["defaults"] = dict(recipe.get("defaults") or {})
    bad = set(recipe["defaults"]) - set(FIT_KEYS)
    if bad:
        raise RecipeError(f"{where}: defaults has unknown key(s) {sorted(bad)}; allowed: {list(FIT_KEYS)}")
    stages = recipe.get("stages")
    if not isinstance(stages, list) or not stages:
        raise RecipeError(f"{where}: 'stages' must be a non-empty list of stages")
    seen: list[str] = []
    out = []
    for i, stage in enumerate(stages, start=1):
        if not isinstance(stage, dict):
            raise RecipeError(f"{where}: stage {i} must be a mapping, got {type(stage).__name__}")
        stage = dict(stage)
        stage.setdefault("name", f"stage{i}")
        name = str(stage["name"])
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise RecipeError(f"{where}: stage name {name!r} must be letters, digits, '_', '-', '.'")
        if name in seen:
            raise RecipeError(f"{where}: stage name {name!r} is used twice")
        unknown = set(stage) - _STAGE_KEYS
        if unknown:
            raise RecipeError(f"{where}: stage {name!r} has unknown key(s) {sorted(unknown)}; "
                              f"allowed: {sorted(_STAGE_KEYS)}")
        init = stage.setdefault("init", "previous" if seen else "none")
        if init not in ("previous", "none", None) and init not in seen:
            raise RecipeError(f"{where}: stage {name!r}: init={init!r} is not an earlier stage "
                              f"({', '.join(seen) or 'none yet'}), 'previous' or 'none'")
        if init == "previous" and not seen:
            raise RecipeError(f"{where}: stage {name!r} is the first stage; it cannot init from 'previous'")
        teacher = stage.get("teacher")
        if teacher is not None and teacher not in seen and not str(teacher).endswith(".keras"):
            raise RecipeError(f"{where}: stage {name!r}: teacher={teacher!r} is neither an earlier "
                              f"stage ({', '.join(seen) or 'none yet'}) nor a .keras file")
        rc = stage.get("reconfigure")
        if rc is not None and rc != "float":
            if not isinstance(rc, dict) or set(rc) - {*_QUANT_FIELDS, "layers"}:
                raise RecipeError(f"{where}: stage {name!r}: reconfigure must be 'float' or a mapping "
                                  f"of {list(_QUANT_FIELDS)} and 'layers', got {rc!r}")
        seen.append(name)
        out.append(stage)
    recipe["stages"] = out
    return recipe


# --------------------------------------------------------------------------- model surgery


def reconfigure(model, *, layers: str | None = None, **quantizers):
    """A copy of ``model`` whose quantized layers get other quantizers (weights kept).

    Args:
        model: A functional or Sequential Keras model with Larq layers.
        layers: A regular expression (``re.fullmatch``) selecting layers by name; default:
            every Larq quantized layer.
        **quantizers: Any of ``input_quantizer``, ``kernel_quantizer``,
            ``kernel_constraint``: a Larq name, a serialized object, or None (real valued).

    Returns:
        A new model; the input model is untouched.

    Raises:
        ValueError: an unknown quantizer field, or ``layers`` matches no quantized layer.

    Example:
        >>> from bnn_lq import zoo
        >>> m = reconfigure(zoo.get("bnn_mlp", input_shape=(8, 8, 1), hidden=(8,)),
        ...                 kernel_quantizer=None, kernel_constraint=None)
        >>> m.get_layer("fc2").kernel_quantizer is None
        True
    """
    bad = set(quantizers) - set(_QUANT_FIELDS)
    if bad:
        raise ValueError(f"reconfigure: unknown field(s) {sorted(bad)}; expected {list(_QUANT_FIELDS)}")
    pattern = re.compile(layers) if layers else None
    config = model.get_config()
    changed = 0
    for layer in config["layers"]:
        if layer["class_name"] not in _QUANT_CLASSES:
            continue
        if pattern is not None and not pattern.fullmatch(layer["config"]["name"]):
            continue
        for field, value in quantizers.items():
            if field == "input_quantizer" or field in layer["config"]:
                layer["config"][field] = value
        changed += 1
    if changed == 0:
        raise ValueError(f"reconfigure: no quantized layer of model {model.name!r} matches "
                         f"{layers!r}" if layers else f"reconfigure: model {model.name!r} has no "
                         "Larq quantized layer to re-configure")
    cls = tf.keras.Sequential if isinstance(model, tf.keras.Sequential) else tf.keras.Model
    clone = cls.from_config(config)
    clone.set_weights(model.get_weights())
    return clone


def carry_weights(source, target) -> int:
    """Copies weights layer by layer (same name, same shapes) from ``source`` to ``target``.

    Returns:
        The number of layers whose weights were copied.

    Raises:
        RecipeError: no layer could be copied (different architectures).
    """
    by_name = {layer.name: layer for layer in source.layers}
    copied, skipped = 0, []
    for layer in target.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        src = by_name.get(layer.name)
        src_weights = src.get_weights() if src is not None else None
        if src_weights is None or [w.shape for w in src_weights] != [w.shape for w in weights]:
            skipped.append(layer.name)
            continue
        layer.set_weights(src_weights)
        copied += 1
    if copied == 0:
        raise RecipeError(f"no weights could be carried from {source.name!r} to {target.name!r}: "
                          "no layer has the same name and weight shapes")
    if skipped:
        log.warning("weights not carried (absent or different shape): %s", ", ".join(skipped))
    return copied


def _logits(model):
    last = model.layers[-1]
    if isinstance(last, tf.keras.layers.Softmax) or (
            isinstance(last, tf.keras.layers.Activation)
            and getattr(last.activation, "__name__", "") == "softmax"):
        return last.input
    raise RecipeError(f"model {model.name!r}: distillation needs a model that ends in a softmax "
                      f"layer (its input are the logits); the last layer is {last.name!r} "
                      f"({type(last).__name__})")


@tf.keras.utils.register_keras_serializable(package="bnn_lq")
class DistillationLoss(tf.keras.layers.Layer):
    """Adds ``weight * T^2 * KL(softmax(teacher / T) || softmax(student / T))`` to the
    model's losses and returns the student's logits unchanged.

    No gradient flows into the teacher's logits.

    Args:
        temperature: Softening temperature ``T`` (> 0).
        weight: Weight of the KL term (the cross-entropy of ``fit`` has weight 1).

    Input shape:
        ``[student_logits, teacher_logits]``, each ``(batch, classes)``.

    Output shape:
        ``(batch, classes)``: the student's logits.

    References:
        G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network",
        https://arxiv.org/abs/1503.02531
    """

    def __init__(self, *, temperature: float = 4.0, weight: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError(f"DistillationLoss: temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)
        self.weight = float(weight)

    def call(self, inputs):
        student, teacher = inputs
        t = self.temperature
        teacher = tf.stop_gradient(teacher)
        p_teacher = tf.nn.softmax(teacher / t, axis=-1)
        kl = tf.reduce_sum(p_teacher * (tf.nn.log_softmax(teacher / t, axis=-1)
                                        - tf.nn.log_softmax(student / t, axis=-1)), axis=-1)
        self.add_loss(self.weight * t * t * tf.reduce_mean(kl))
        return student

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "weight": self.weight}


def distillation_model(student, teacher, *, temperature: float = 4.0, kd_weight: float = 1.0):
    """The student wrapped for distillation by ``fit``: input -> student logits ->
    ``DistillationLoss`` (with a frozen copy of the teacher's logits) -> softmax.

    The wrapper shares the student's layers (training it trains ``student``) and is
    named like the student. ``teacher`` is frozen (``trainable = False``: its batch norms
    run in inference mode) and must take the same input shape.
    """
    if tuple(student.input_shape[1:]) != tuple(teacher.input_shape[1:]):
        raise RecipeError(f"teacher {teacher.name!r} takes inputs {teacher.input_shape[1:]}, the "
                          f"student {student.name!r} {student.input_shape[1:]}")
    teacher_logits = tf.keras.Model(teacher.inputs, _logits(teacher), name="teacher")
    teacher_logits.trainable = False
    t = teacher_logits(student.inputs[0])
    s = DistillationLoss(temperature=temperature, weight=kd_weight, name="distillation")(
        [_logits(student), t])
    out = tf.keras.layers.Activation("softmax", name="distillation_softmax")(s)
    return tf.keras.Model(student.inputs, out, name=student.name)


# --------------------------------------------------------------------------- running


def _stage_key(recipe: dict, stage: dict, fit_args: dict, data_name: str) -> str:
    """What makes a finished stage reusable: model, data, the stage and its fit arguments."""
    blob = json.dumps({"model": recipe["model"], "data": data_name, "stage": stage, "fit": fit_args},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _save_atomic(model, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _build_stage_model(recipe: dict, stage: dict, input_shape, num_classes):
    from bnn_lq import zoo

    options = {**recipe["model"]["options"], **dict(stage.get("options") or {})}
    model = zoo.get(recipe["model"]["name"], input_shape=input_shape, num_classes=num_classes,
                    **options)
    rc = stage.get("reconfigure")
    if rc == "float":
        model = reconfigure(model, input_quantizer=None, kernel_quantizer=None, kernel_constraint=None)
    elif rc:
        rc = dict(rc)
        model = reconfigure(model, layers=rc.pop("layers", None), **rc)
    return model


def _data_shape(data, *, limit, seed):
    """Input shape and class count of ``data`` (what ``fit`` will build the model for)."""
    import numpy as np

    from bnn_lq import data as _data

    if isinstance(data, str):
        x, _ = _data.load(data, "train", limit=min(limit or 16, 16), seed=seed)
        return tuple(int(d) for d in x.shape[1:]), _data.num_classes(data)
    (x_tr, y_tr), (x_te, y_te) = data
    ncls = int(max(np.max(y_tr), -1 if y_te is None else np.max(y_te)) + 1)
    return tuple(int(d) for d in np.asarray(x_tr).shape[1:]), ncls


def run_recipe(path_or_dict: str | os.PathLike | Mapping[str, Any], *, out_dir: str | os.PathLike,
               resume: bool = True, data=None, overrides: Mapping[str, Any] | None = None,
               overwrite: bool = False) -> RecipeResult:
    """Runs every stage of a recipe with ``bnn_lq.train.fit``, carrying weights over.

    Args:
        path_or_dict: A recipe YAML path, a shipped recipe name (``zoo/recipes/NAME.yaml``;
            ``recipes/NAME.yaml`` also finds it), or a recipe dict.
        out_dir: The recipe's directory; stage ``i`` runs in ``out_dir/<ii>_<name>``.
        resume: Reuse finished stages (their ``stage.json`` matches the stage as written)
            and continue an interrupted stage from its last checkpoint.
        data: Overrides the recipe's ``data`` (a data set name or
            ``((x_train, y_train), (x_test, y_test))``).
        overrides: ``fit`` arguments applied to every stage over the recipe (e.g.
            ``{"epochs": 1, "limit": 512}`` for a smoke run).
        overwrite: With ``resume=False``, replace existing stage directories.

    Returns:
        A ``RecipeResult``; ``.model`` is the last stage's trained model.

    Raises:
        RecipeError: the recipe is invalid, or a finished stage's directory belongs to a
            different recipe (and ``resume`` is on).
    """
    from bnn_lq import train

    recipe = load_recipe(path_or_dict)
    overrides = dict(overrides or {})
    bad = set(overrides) - set(FIT_KEYS)
    if bad:
        raise RecipeError(f"overrides has unknown key(s) {sorted(bad)}; allowed: {list(FIT_KEYS)}")
    data = recipe.get("data", "fashion_mnist") if data is None else data
    data_name = data if isinstance(data, str) else "arrays"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    first = {**recipe["defaults"], **recipe["stages"][0], **overrides}
    input_shape, num_classes = _data_shape(data, limit=first.get("limit"), seed=first.get("seed", 0))

    results: list[StageResult] = []
    models: dict[str, Any] = {}
    summary = {"recipe": recipe, "data": data_name, "overrides": overrides, "stages": []}
    for i, stage in enumerate(recipe["stages"], start=1):
        name = stage["name"]
        stage_dir = out_dir / f"{i:02d}_{name}"
        fit_args = {k: v for k, v in {**recipe["defaults"], **stage, **overrides}.items() if k in FIT_KEYS}
        key = _stage_key(recipe, stage, fit_args, data_name)
        marker = stage_dir / _STAGE_FILE
        if resume and marker.is_file():
            done = json.loads(marker.read_text(encoding="utf-8"))
            if done.get("key") != key:
                raise RecipeError(f"{stage_dir} holds stage {done.get('stage', {}).get('name')!r} of "
                                  "a different recipe or settings; use another out_dir, or "
                                  "resume=False with overwrite=True")
            model = train.load_model(stage_dir)
            models[name] = model
            res = StageResult(name, stage_dir, done.get("test_accuracy"), done.get("epochs", 0),
                              skipped=True, carried=done.get("carried", 0))
            log.info("stage %d/%d %s: finished earlier (%s), reused", i, len(recipe["stages"]), name,
                     stage_dir)
        else:
            if not resume:
                marker.unlink(missing_ok=True)
            model = _build_stage_model(recipe, stage, input_shape, num_classes)
            carried = 0
            init = stage.get("init")
            if init not in (None, "none"):
                source = models[recipe["stages"][i - 2]["name"]] if init == "previous" else models[init]
                carried = carry_weights(source, model)
            student = model
            teacher = stage.get("teacher")
            if teacher is not None:
                teacher_model = models[teacher] if teacher in models else train.load_model(teacher)
                model = distillation_model(student, teacher_model,
                                           temperature=float(stage.get("temperature", 4.0)),
                                           kd_weight=float(stage.get("kd_weight", 1.0)))
            log.info("stage %d/%d %s: %s", i, len(recipe["stages"]), name,
                     json.dumps(fit_args, default=str))
            run = train.fit(model, data, out_dir=stage_dir, resume=resume,
                            overwrite=overwrite, **fit_args)
            if teacher is not None:  # the run directory's model is the student alone
                _save_atomic(student, stage_dir / "model.keras")
            models[name] = student
            res = StageResult(name, stage_dir, run.test_accuracy, len(run.history), carried=carried)
            _write_json(marker, {"key": key, "stage": stage, "fit": fit_args, "data": data_name,
                                 "test_accuracy": run.test_accuracy, "epochs": len(run.history),
                                 "carried": carried, "resumed_from": run.resumed_from})
        results.append(res)
        summary["stages"].append({"name": name, "out_dir": str(stage_dir),
                                  "test_accuracy": res.test_accuracy, "epochs": res.epochs,
                                  "skipped": res.skipped, "carried": res.carried})
        _write_json(out_dir / "recipe.json", summary)
    last = recipe["stages"][-1]["name"]
    return RecipeResult(recipe["name"], out_dir, results, model=models[last])
