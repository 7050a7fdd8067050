"""Multi-stage recipes (bnn_lq.recipes): reading and validating the YAML, model
re-configuration, weight carry-over, the distillation loss, and (slow) the shipped
two-stage and distillation recipes on digits with 1 epoch per stage, including
reuse and mid-recipe resume of their run directories."""

from __future__ import annotations

import json
import shutil

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import numpy as np
import pytest
import tensorflow as tf

from bnn_lq import zoo
from bnn_lq.recipes import (DistillationLoss, RecipeError, carry_weights, distillation_model,
                            load_recipe, recipe_dir, reconfigure, run_recipe)

TINY = {"filters": [8, 8, 8], "dense_units": 0}
SMOKE = {"epochs": 1, "limit": 384, "batch_size": 64, "plots": False}


def _tiny_cnn(**kw):
    return zoo.get("bnn_cnn_small", input_shape=(8, 8, 1), num_classes=10, **{**TINY, **kw})


@pytest.mark.parametrize("path", sorted(recipe_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_recipes_are_valid(path):
    recipe = load_recipe(path)
    assert recipe["model"]["name"] in zoo.names()
    assert len(recipe["stages"]) >= 2
    assert load_recipe(f"recipes/{path.name}")["stages"] == recipe["stages"]  # CLI spelling
    assert load_recipe(path.stem)["stages"] == recipe["stages"]


def test_two_stage_and_distillation_recipes_are_what_the_issue_asks():
    r2b = load_recipe("real_to_binary")
    assert r2b["stages"][0]["reconfigure"] == {"kernel_quantizer": None, "kernel_constraint": None}
    assert "reconfigure" not in r2b["stages"][1] and r2b["stages"][1]["init"] == "previous"
    kd = load_recipe("distill")
    assert kd["stages"][0]["reconfigure"] == "float"
    assert kd["stages"][1]["teacher"] == kd["stages"][0]["name"]


@pytest.mark.parametrize("recipe,match", [
    ({"model": "bnn_mlp", "stages": [{"epochs": 1}], "colour": 1}, "unknown key"),
    ({"stages": [{"epochs": 1}]}, "'model' must name"),
    ({"model": "bnn_mlp", "stages": []}, "non-empty list"),
    ({"model": "bnn_mlp", "stages": [{"name": "a"}, {"name": "a"}]}, "used twice"),
    ({"model": "bnn_mlp", "stages": [{"name": "a", "init": "b"}]}, "not an earlier stage"),
    ({"model": "bnn_mlp", "stages": [{"name": "a", "teacher": "a"}]}, "neither an earlier stage"),
    ({"model": "bnn_mlp", "stages": [{"name": "a", "epoch": 3}]}, "unknown key.*epoch"),
    ({"model": "bnn_mlp", "stages": [{"reconfigure": {"kernel": None}}]}, "reconfigure must be"),
])
def test_bad_recipes_are_refused_with_the_reason(recipe, match):
    with pytest.raises(RecipeError, match=match):
        load_recipe(recipe)


def test_unknown_recipe_name_lists_the_shipped_ones():
    with pytest.raises(RecipeError, match="shipped recipes: .*real_to_binary"):
        load_recipe("no_such_recipe")


def test_reconfigure_changes_quantizers_and_keeps_weights():
    model = _tiny_cnn()
    real_w = reconfigure(model, kernel_quantizer=None, kernel_constraint=None)
    for layer in real_w.layers:
        if hasattr(layer, "kernel_quantizer"):
            assert layer.kernel_quantizer is None and layer.kernel_constraint is None
    assert real_w.get_layer("conv2").input_quantizer is not None  # activations stay binary
    for a, b in zip(model.get_weights(), real_w.get_weights()):
        np.testing.assert_array_equal(a, b)
    only = reconfigure(model, layers="conv[23]", input_quantizer=None)
    assert only.get_layer("conv2").input_quantizer is None
    assert only.get_layer("fc_out").input_quantizer is not None
    with pytest.raises(ValueError, match="no quantized layer"):
        reconfigure(model, layers="nothing", input_quantizer=None)


def test_carry_weights_copies_by_name_and_refuses_strangers(rng):
    a, b = _tiny_cnn(), reconfigure(_tiny_cnn(), kernel_quantizer=None)
    for v in a.weights:
        v.assign(rng.normal(size=v.shape).astype("float32"))
    n = carry_weights(a, b)
    assert n == len([lyr for lyr in a.layers if lyr.weights])
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(RecipeError, match="no weights could be carried"):
        carry_weights(zoo.get("bnn_mlp", input_shape=(8, 8, 1), hidden=(7,)), b)


def test_distillation_loss_is_ce_plus_scaled_kl(rng):
    student = _tiny_cnn()
    teacher = reconfigure(_tiny_cnn(), input_quantizer=None, kernel_quantizer=None,
                          kernel_constraint=None)
    for v in teacher.weights:
        if "moving_variance" not in v.name:
            v.assign(rng.normal(size=v.shape).astype("float32"))
    x = rng.uniform(-1, 1, size=(16, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 10, size=16)
    t, kd = 3.0, 0.5
    wrapper = distillation_model(student, teacher, temperature=t, kd_weight=kd)
    assert wrapper.name == student.name
    assert not teacher.trainable or not wrapper.get_layer("teacher").trainable
    logits = lambda m: tf.keras.Model(m.inputs, m.layers[-1].input)(x, training=False).numpy()  # noqa: E731
    s, te = logits(student), logits(teacher)

    def log_softmax(z):
        z = z - z.max(-1, keepdims=True)
        return z - np.log(np.exp(z).sum(-1, keepdims=True))

    ce = -np.mean(log_softmax(s)[np.arange(16), y])
    p_t = np.exp(log_softmax(te / t))
    kl = np.mean(np.sum(p_t * (log_softmax(te / t) - log_softmax(s / t)), -1))
    train = tf.keras.Model(wrapper.inputs, wrapper.layers[-1].input)
    train.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    got = train.evaluate(x, y, batch_size=16, verbose=0)
    # float32 log-softmax of ~10-magnitude logits: 1e-4 relative; leaving out the KL term
    # or its T^2 factor changes the loss by far more.
    assert got == pytest.approx(ce + kd * t * t * kl, rel=1e-4)
    assert kl > 1e-3
    assert DistillationLoss.from_config(wrapper.get_layer("distillation").get_config()).temperature == t


@pytest.mark.slow
def test_real_to_binary_recipe_runs_resumes_and_reuses(tmp_path):
    recipe = load_recipe("real_to_binary")
    recipe["model"]["options"] = TINY
    out = tmp_path / "r2b"
    result = run_recipe(recipe, out_dir=out, data="digits", overrides=SMOKE)
    first, second = result.stages
    assert (first.name, second.name) == ("binary_activations", "fully_binary")
    assert first.carried == 0 and second.carried == 8  # conv1-3, BNs, fc_out + its BN
    for stage in result.stages:
        for f in ("config.json", "history.csv", "model.keras", "stage.json"):
            assert (stage.out_dir / f).is_file(), (stage.out_dir, f)
        assert json.loads((stage.out_dir / "stage.json").read_text())["epochs"] == 1
    m1 = tf.keras.models.load_model(first.out_dir / "model.keras", compile=False)
    assert m1.get_layer("conv2").kernel_quantizer is None
    assert m1.get_layer("conv2").input_quantizer is not None
    m2 = result.model
    assert m2.get_layer("conv2").kernel_quantizer is not None
    summary = json.loads((out / "recipe.json").read_text())
    assert [s["name"] for s in summary["stages"]] == ["binary_activations", "fully_binary"]

    # Everything finished: a second call reuses both stages and trains nothing.
    again = run_recipe(recipe, out_dir=out, data="digits", overrides=SMOKE)
    assert [s.skipped for s in again.stages] == [True, True]
    assert again.test_accuracy == result.test_accuracy
    for a, b in zip(m2.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(a, b)

    # Stage 2 interrupted after its checkpoint (no stage.json, no model.keras): it resumes
    # from the checkpoint instead of starting over.
    (second.out_dir / "stage.json").unlink()
    (second.out_dir / "model.keras").unlink()
    resumed = run_recipe(recipe, out_dir=out, data="digits", overrides=SMOKE)
    assert resumed.stages[0].skipped and not resumed.stages[1].skipped
    marker = json.loads((second.out_dir / "stage.json").read_text())
    assert marker["resumed_from"] == 1
    for a, b in zip(m2.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)

    # Another recipe's settings in the same directory are refused, not mixed.
    with pytest.raises(RecipeError, match="different recipe or settings"):
        run_recipe(recipe, out_dir=out, data="digits", overrides={**SMOKE, "batch_size": 32})


@pytest.mark.slow
def test_distillation_recipe_trains_a_binary_student_from_a_float_teacher(tmp_path):
    recipe = load_recipe("distill")
    recipe["model"]["options"] = TINY
    result = run_recipe(recipe, out_dir=tmp_path / "kd", data="digits", overrides=SMOKE)
    teacher_dir, student_dir = (s.out_dir for s in result.stages)
    teacher = tf.keras.models.load_model(teacher_dir / "model.keras", compile=False)
    assert all(getattr(lyr, "kernel_quantizer", None) is None for lyr in teacher.layers)
    student = tf.keras.models.load_model(student_dir / "model.keras", compile=False)
    names = [lyr.name for lyr in student.layers]
    assert "distillation" not in names and "teacher" not in names  # the student alone
    assert student.get_layer("conv2").kernel_quantizer is not None
    assert result.stages[1].carried == 8  # initialized from the float teacher
    history = (student_dir / "history.csv").read_text().splitlines()
    assert len(history) == 2
    shutil.rmtree(tmp_path / "kd")
