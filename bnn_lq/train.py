"""Training binary networks: Bop or Adam, resumable run directories, tf.distribute.

``fit`` trains a zoo architecture (or your own Keras model) on a data set and
keeps everything in one run directory::

    out_dir/
      config.json        everything needed to repeat the run (model, data, recipe, versions)
      history.csv        one row per completed epoch, never a gap or a duplicate
      checkpoints/       epoch-00001/ ...: model + optimizer state, written atomically
      model.keras        the trained model (loads with larq imported)
      plots/             training_curves.png, confusion_matrix.png, sample_predictions.png

A run killed at any moment (even SIGKILL mid-epoch) and started again with
``resume=True`` continues from its last completed epoch: the checkpoint holds
the weights, the optimizer state (slots and iteration count, so the learning-rate
schedule continues too) and the history up to that epoch; ``history.csv`` is
rewritten from it. A NaN loss stops the run with ``TrainingError`` and leaves
the last good checkpoint in place.

``optimizer="bop"`` is Larq's recipe (Helwegen et al. 2019): ``Bop`` flips the
binary kernels (``Bop.is_binary_variable``) and Adam trains every other
variable, combined by ``larq.optimizers.CaseOptimizer``. ``"adam"`` trains the
latent real weights of binary kernels with Adam; the layers' ``weight_clip``
kernel constraint keeps them in [-1, 1], as Larq does.

Example:
    >>> from bnn_lq import train
    >>> run = train.fit("bnn_mlp", "digits", optimizer="adam", epochs=1, batch_size=64,
    ...                 learning_rate=1e-2, out_dir=tmp_path, limit=256,
    ...                 model_options={"hidden": (16,)}, plots=False)  # doctest: +SKIP
    >>> run.history[-1]["epoch"]  # doctest: +SKIP
    1
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

import bnn_lq
from bnn_lq import data as _data
from bnn_lq.errors import BnnLqError, DataError

__all__ = ["Run", "TrainingError", "evaluate", "fit", "load_model", "make_optimizer",
           "read_history", "HISTORY_FIELDS", "OPTIMIZERS", "LOSSES", "SCHEDULES", "STRATEGIES"]

log = logging.getLogger("bnn_lq.train")

OPTIMIZERS = ("bop", "adam")
LOSSES = ("crossentropy", "squared_hinge")
SCHEDULES = ("cosine", "step", None)
STRATEGIES = (None, "mirrored", "multi_worker")

#: Columns of history.csv, in order. ``step`` is the optimizer's iteration count at the
#: end of the epoch (it proves the optimizer state survived a resume).
HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                  "step", "seconds")

_DEFAULT_LR = {"bop": 1e-3, "adam": 1e-3}
_CHECKPOINTS_KEPT = 2


class TrainingError(BnnLqError):
    """Training cannot go on: a NaN loss, an incompatible run directory to resume, ..."""


@dataclasses.dataclass
class Run:
    """What ``fit`` returns.

    Attributes:
        out_dir: The run directory.
        history: One dict per completed epoch (the rows of history.csv).
        test_accuracy: Accuracy on the validation split after the last epoch (None
            when there is no validation data).
        resumed_from: Epoch the run continued from (0 for a fresh run).
        model: The trained Keras model.
    """

    out_dir: Path
    history: list[dict]
    test_accuracy: float | None
    resumed_from: int = 0
    model: Any = dataclasses.field(default=None, repr=False)


# --------------------------------------------------------------------------- helpers


def _tf():
    import tensorflow as tf

    return tf


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"bnn-lq": bnn_lq.__version__, "python": sys.version.split()[0]}
    for dist in ("tensorflow", "tf-keras", "larq", "larq-compute-engine", "numpy"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    return out


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _history_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in HISTORY_FIELDS})
    return buf.getvalue()


def read_history(path: str | os.PathLike) -> list[dict]:
    """Reads a history.csv back into dicts (numbers as int/float, empty as None)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            row = {}
            for k, v in r.items():
                row[k] = None if v == "" else (int(v) if k in ("epoch", "step") else float(v))
            rows.append(row)
    return rows


def _is_chief(strategy) -> bool:
    if strategy is None:
        return True
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    tt, tid = resolver.task_type, resolver.task_id
    return tt == "chief" or (tt == "worker" and tid == 0 and "chief" not in resolver.cluster_spec().as_dict())


def _make_strategy(strategy):
    tf = _tf()
    if strategy is None or not isinstance(strategy, str):
        return strategy
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise TrainingError("strategy='multi_worker' needs TF_CONFIG in the environment, e.g. "
                                '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                                '"task": {"type": "worker", "index": 0}}')
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy must be one of {STRATEGIES} or a tf.distribute.Strategy, got {strategy!r}")


def _schedule(name, learning_rate: float, total_steps: int):
    tf = _tf()
    if name is None:
        return learning_rate
    if name == "cosine":
        return tf.keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, total_steps))
    if name == "step":  # x0.1 at 50% and 75% of training
        b = [max(1, int(total_steps * 0.5)), max(2, int(total_steps * 0.75))]
        return tf.keras.optimizers.schedules.PiecewiseConstantDecay(
            b, [learning_rate, learning_rate * 0.1, learning_rate * 0.01])
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {name!r}")


def make_optimizer(name: str = "bop", *, learning_rate: float | None = None, schedule=None,
                   total_steps: int = 1, bop_threshold: float = 1e-8, bop_gamma: float = 1e-4):
    """The optimizer ``fit`` uses: ``"bop"`` (CaseOptimizer: Bop + Adam) or ``"adam"``.

    ``learning_rate`` (default 1e-3) and ``schedule`` apply to Adam; Bop's adaptivity
    ``gamma`` and ``threshold`` are its own (Larq's defaults).
    """
    import larq as lq

    tf = _tf()
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    lr = _schedule(schedule, _DEFAULT_LR[name] if learning_rate is None else float(learning_rate),
                   total_steps)
    adam = tf.keras.optimizers.legacy.Adam(learning_rate=lr)
    if name == "adam":
        return adam
    return lq.optimizers.CaseOptimizer(
        (lq.optimizers.Bop.is_binary_variable,
         lq.optimizers.Bop(threshold=bop_threshold, gamma=bop_gamma)),
        default_optimizer=adam)


def _adam_of(optimizer):
    return optimizer.default if hasattr(optimizer, "default") and optimizer.default is not None \
        else optimizer


def _current_lr(optimizer) -> float:
    opt = _adam_of(optimizer)
    lr = opt._get_hyper("learning_rate") if hasattr(opt, "_get_hyper") else opt.learning_rate
    if callable(lr) and not hasattr(lr, "numpy"):
        lr = lr(opt.iterations)
    return float(np.asarray(lr))


def _squared_hinge(num_classes: int):
    tf = _tf()

    def squared_hinge(y_true, y_pred):
        y = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), num_classes) * 2.0 - 1.0
        return tf.reduce_mean(tf.square(tf.nn.relu(1.0 - y * y_pred)), axis=-1)

    return squared_hinge


def _logits_model(model):
    """The model up to its final softmax (sharing weights), or the model itself."""
    tf = _tf()
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    if isinstance(last, tf.keras.layers.Activation) and getattr(act, "__name__", "") == "softmax":
        return tf.keras.Model(model.inputs, last.input, name=f"{model.name}_logits"), True
    if isinstance(last, tf.keras.layers.Softmax):
        return tf.keras.Model(model.inputs, last.input, name=f"{model.name}_logits"), True
    # A wrapper sharing the weights, so that the returned model stays uncompiled.
    return tf.keras.Model(model.inputs, model.outputs, name=f"{model.name}_train"), False


def _resolve_data(data, *, limit, seed):
    if isinstance(data, str):
        x_tr, y_tr = _data.load(data, "train", limit=limit, seed=seed)
        try:
            x_te, y_te = _data.load(data, "test", limit=limit, seed=seed)
        except DataError:
            if data.startswith(("npz:", "idx:", "folder:")):
                x_te = y_te = None
            else:
                raise
        ncls = _data.num_classes(data)
        return data, (x_tr, y_tr), (x_te, y_te), ncls
    try:
        (x_tr, y_tr), (x_te, y_te) = data
    except (TypeError, ValueError):
        raise TypeError("data must be a data set name or ((x_train, y_train), (x_test, y_test))") from None
    x_tr, y_tr = np.asarray(x_tr, np.float32), np.asarray(y_tr, np.int64).reshape(-1)
    if x_te is not None:
        x_te, y_te = np.asarray(x_te, np.float32), np.asarray(y_te, np.int64).reshape(-1)
    if limit is not None:
        rng = np.random.default_rng(seed)
        if limit < len(x_tr):
            k = np.sort(rng.choice(len(x_tr), limit, replace=False))
            x_tr, y_tr = x_tr[k], y_tr[k]
        if x_te is not None and limit < len(x_te):
            k = np.sort(rng.choice(len(x_te), limit, replace=False))
            x_te, y_te = x_te[k], y_te[k]
    ncls = int(max(y_tr.max(initial=-1), -1 if y_te is None else y_te.max(initial=-1)) + 1)
    return "arrays", (x_tr, y_tr), (x_te, y_te), ncls


def _build_model(model, model_options, input_shape, num_classes):
    tf = _tf()
    if isinstance(model, str):
        from bnn_lq import zoo

        return zoo.get(model, input_shape=input_shape, num_classes=num_classes, **(model_options or {}))
    if isinstance(model, tf.keras.Model):
        return model
    if callable(model):
        return model(input_shape=input_shape, num_classes=num_classes, **(model_options or {}))
    raise TypeError(f"model must be a zoo name, a builder or a tf.keras.Model, got {type(model).__name__}")


def _clone_into_scope(model):
    tf = _tf()
    clone = tf.keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def _checkpoint_dirs(ckpt_root: Path) -> list[tuple[int, Path]]:
    out = []
    if ckpt_root.is_dir():
        for p in ckpt_root.iterdir():
            if p.is_dir() and p.name.startswith("epoch-") and (p / "state.json").is_file():
                try:
                    out.append((int(p.name[6:]), p))
                except ValueError:
                    continue
    return sorted(out)


def _save_model_atomic(model, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def load_model(path: str | os.PathLike):
    """Loads a ``model.keras`` written by ``fit`` (or a run directory holding one)."""
    import larq  # noqa: F401  (registers larq's layers and quantizers)

    tf = _tf()
    path = Path(path)
    if path.is_dir():
        path = path / "model.keras"
    if not path.is_file():
        raise DataError(f"no trained model at {path}; a finished run directory holds model.keras")
    try:
        import bnn_lq.layers  # noqa: F401  (bnn_lq's own layers, when a model uses them)
    except ImportError:
        pass
    return tf.keras.models.load_model(path, compile=False, custom_objects=_zoo_custom_objects())


def _zoo_custom_objects() -> dict:
    """Objects larq_zoo models use without registering them with Keras (QuickNet's blur-pool
    initializer), so that their saved models load."""
    try:
        from larq_zoo.sota.quicknet import blurpool_initializer
    except ImportError:
        return {}
    return {"blurpool_initializer": blurpool_initializer}


# --------------------------------------------------------------------------- fit


def fit(model, data, *, optimizer: str = "bop", epochs: int = 10, batch_size: int = 128,
        learning_rate: float | None = None, loss: str = "crossentropy", schedule: str | None = "cosine",
        out_dir: str | os.PathLike, resume: bool = True, overwrite: bool = False, strategy=None,
        augment: bool = False, seed: int = 0, validation: str | None = "test",
        limit: int | None = None, model_options: Mapping[str, Any] | None = None,
        bop_threshold: float = 1e-8, bop_gamma: float = 1e-4, recalibrate_bn: int = 50,
        plots: bool = True, verbose: int | None = None) -> Run:
    """Trains ``model`` on ``data`` and writes a resumable run directory.

    Args:
        model: A zoo name (``"bnn_cnn_small"``), a builder ``(input_shape, num_classes,
            **options)``, or a ``tf.keras.Model``. Names and builders are built to fit the
            data (and inside the distribution strategy's scope).
        data: A data set name for ``bnn_lq.data.load`` or ``((x_train, y_train), (x_test, y_test))``.
        optimizer: ``"bop"`` (Bop for binary kernels + Adam) or ``"adam"``.
        epochs: Total number of epochs (a resumed run counts those already done).
        batch_size: Global batch size.
        learning_rate: Adam's learning rate (default 1e-3).
        loss: ``"crossentropy"`` or ``"squared_hinge"`` (Hubara et al.), both on the logits
            before the final softmax.
        schedule: ``"cosine"``, ``"step"`` (x0.1 at 50% and 75%) or None.
        out_dir: The run directory.
        resume: Continue from the last checkpoint in ``out_dir`` when there is one. The
            learning-rate schedule spans ``epochs``: resuming with more epochs stretches it.
        overwrite: With ``resume=False``, replace an existing run in ``out_dir``.
        strategy: None, ``"mirrored"``, ``"multi_worker"`` (driven by ``TF_CONFIG``), or a
            ``tf.distribute.Strategy``. Non-chief workers write to ``out_dir/worker<i>``.
        augment: Random crop (4-pixel padding) and horizontal flip of training images.
        seed: Seeds weights, shuffling, augmentation and ``limit`` subsets.
        validation: ``"test"`` to evaluate on the test split after each epoch, or None.
        limit: Use at most this many training (and test) examples (a seeded subset).
        model_options: Options for a zoo builder; recorded in config.json.
        bop_threshold: Bop's flip threshold.
        bop_gamma: Bop's adaptivity rate.
        recalibrate_bn: After every epoch, re-estimate the batch-normalization moving
            statistics as the plain average over this many training batches (weights
            fixed), before validating and checkpointing; 0 keeps Keras's running averages.
            Binarized activations make inference very sensitive to stale statistics
            (a threshold off by 0.1 standard deviations in early layers cost up to 17
            points of Fashion-MNIST test accuracy); training itself is unaffected.
            Skipped under a distribution strategy.
        plots: Write the plots/ pictures at the end.
        verbose: Keras verbosity; default 1 (progress bar) when stderr is a terminal,
            else 0 with one log line per epoch.

    Returns:
        A ``Run``.

    Raises:
        TrainingError: NaN loss (the last good checkpoint is kept), or a run directory
            that cannot be resumed/overwritten as asked.
        DataError: the data set cannot be loaded.
    """
    tf = _tf()
    import larq as lq  # noqa: F401

    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    if validation not in ("test", None):
        raise ValueError(f"validation must be 'test' or None, got {validation!r}")

    # A multi-worker strategy must exist before TensorFlow runs anything else.
    dist = _make_strategy(strategy)
    is_chief = _is_chief(dist)
    out_dir = Path(out_dir)
    if not is_chief:
        out_dir = out_dir / f"worker{dist.cluster_resolver.task_id}"
    ckpt_root = out_dir / "checkpoints"

    existing = _checkpoint_dirs(ckpt_root)
    if existing and not resume:
        if not overwrite:
            raise TrainingError(f"{out_dir} already holds a run ({len(existing)} checkpoints, last epoch "
                                f"{existing[-1][0]}); resume it (resume=True / --resume), choose "
                                "another output directory, or replace it (overwrite=True / --force)")
        for name in ("checkpoints", "plots"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
        for name in ("history.csv", "model.keras", "config.json"):
            (out_dir / name).unlink(missing_ok=True)
        existing = []
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_root.mkdir(exist_ok=True)

    data_name, (x_tr, y_tr), (x_te, y_te), ncls = _resolve_data(data, limit=limit, seed=seed)
    if validation is None:
        x_te = y_te = None
    input_shape = tuple(int(d) for d in x_tr.shape[1:])

    tf.keras.utils.set_random_seed(seed)
    steps_per_epoch = max(1, len(x_tr) // batch_size)
    scope = dist.scope() if dist is not None else _nullcontext()
    with scope:
        net = _build_model(model, model_options, input_shape, ncls)
        if dist is not None and not isinstance(model, str) and isinstance(model, tf.keras.Model):
            net = _clone_into_scope(net)
        train_net, on_logits = _logits_model(net)
        opt = make_optimizer(optimizer, learning_rate=learning_rate, schedule=schedule,
                             total_steps=epochs * steps_per_epoch, bop_threshold=bop_threshold,
                             bop_gamma=bop_gamma)
        if loss == "crossentropy":
            loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=on_logits)
        else:
            loss_fn = _squared_hinge(ncls)
        train_net.compile(optimizer=opt, loss=loss_fn, metrics=["accuracy"])
    model_name = model if isinstance(model, str) else getattr(net, "name", "model")

    config = {
        "model": model_name,
        "model_options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in (model_options or {}).items()},
        "input_shape": list(input_shape), "num_classes": ncls,
        "data": data_name, "limit": limit, "train_examples": int(len(x_tr)),
        "test_examples": None if x_te is None else int(len(x_te)),
        "optimizer": optimizer, "learning_rate": learning_rate if learning_rate is not None
        else _DEFAULT_LR[optimizer], "bop_threshold": bop_threshold, "bop_gamma": bop_gamma,
        "schedule": schedule, "loss": loss, "epochs": epochs, "batch_size": batch_size,
        "augment": augment, "seed": seed, "validation": validation, "recalibrate_bn": recalibrate_bn,
        "strategy": strategy if isinstance(strategy, (str, type(None))) else type(strategy).__name__,
        "versions": _versions(),
    }
    checkpoint = tf.train.Checkpoint(model=train_net, optimizer=opt)

    history: list[dict] = []
    start = 0
    if existing and resume:
        start, last = existing[-1]
        state = json.loads((last / "state.json").read_text())
        old = json.loads((out_dir / "config.json").read_text()) if (out_dir / "config.json").is_file() else {}
        for key in ("model", "data", "optimizer", "loss", "batch_size", "input_shape", "num_classes"):
            if key in old and old[key] != config[key]:
                raise TrainingError(f"cannot resume {out_dir}: it was trained with {key}={old[key]!r}, "
                                    f"this call asks for {key}={config[key]!r}; use another output "
                                    "directory or resume=False with overwrite=True")
        checkpoint.read(str(last / "ckpt")).expect_partial()
        history = state["history"][:start]
        log.info("resuming %s from epoch %d of %d", out_dir, start, epochs)
    _write_atomic(out_dir / "config.json", json.dumps(config, indent=2) + "\n")
    _write_atomic(out_dir / "history.csv", _history_csv(history))

    if verbose is None:
        verbose = 1 if sys.stderr.isatty() else 0
    x_te_ds = None
    if x_te is not None:
        x_te_ds = _dataset(x_te, y_te, batch_size=batch_size, shuffle=False, augment=False, seed=seed,
                           dist=dist)

    nan_guard = _NanGuard()
    for epoch in range(start, epochs):
        t0 = time.time()
        lr_now = _current_lr(opt)
        # Full batches only: a tiny last batch (3 examples for digits at 32) would give
        # batch normalization a poor estimate of its statistics.
        ds = _dataset(x_tr, y_tr, batch_size=batch_size, shuffle=True, augment=augment,
                      seed=seed * 100003 + epoch, dist=dist, drop_remainder=len(x_tr) >= batch_size)
        h = train_net.fit(ds, initial_epoch=epoch, epochs=epoch + 1, verbose=verbose,
                          validation_data=None if recalibrate_bn and dist is None else x_te_ds,
                          callbacks=[nan_guard])
        logs = {k: float(v[-1]) for k, v in h.history.items() if v}
        if recalibrate_bn and dist is None and nan_guard.bad_batch is None:
            _recalibrate_bn(net, x_tr, batch_size=batch_size, batches=recalibrate_bn,
                            seed=seed * 100003 + epoch)
            if x_te_ds is not None:
                val = train_net.evaluate(x_te_ds, verbose=0, return_dict=True)
                logs.update({f"val_{k}": float(v) for k, v in val.items()})
        if nan_guard.bad_batch is not None or not all(math.isfinite(v) for v in logs.values()):
            good = _checkpoint_dirs(ckpt_root)
            raise TrainingError(
                f"loss became NaN/inf in epoch {epoch + 1} (batch {nan_guard.bad_batch}); training stopped. "
                f"The last good checkpoint is {good[-1][1] if good else '(none: it failed in the first epoch)'}. "
                "Lower the learning rate, check the data for NaN/inf values, or use schedule='cosine'.")
        row = {"epoch": epoch + 1, "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
               "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_accuracy"),
               "learning_rate": lr_now, "step": int(_adam_of(opt).iterations.numpy()),
               "seconds": round(time.time() - t0, 3)}
        history.append(row)
        _write_checkpoint(checkpoint, ckpt_root, epoch + 1, history)
        _write_atomic(out_dir / "history.csv", _history_csv(history))
        log.info("epoch %d/%d: loss %.4f accuracy %.4f%s (%.1f s)", epoch + 1, epochs, row["loss"],
                 row["accuracy"], "" if row["val_accuracy"] is None else
                 f" val_loss {row['val_loss']:.4f} val_accuracy {row['val_accuracy']:.4f}", row["seconds"])

    _save_model_atomic(net, out_dir / "model.keras")
    test_accuracy = history[-1]["val_accuracy"] if history else None
    if plots and is_chief and x_te is not None:
        # Under a strategy, predict() would need every worker; the saved copy needs none.
        plain = net if dist is None else load_model(out_dir / "model.keras")
        _write_plots(plain, x_te, y_te, history, out_dir / "plots", ncls, title=f"{model_name} on {data_name}",
                     class_names=_data.CLASS_NAMES.get(data_name))
    return Run(out_dir=out_dir, history=history, test_accuracy=test_accuracy, resumed_from=start, model=net)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _dataset(x, y, *, batch_size, shuffle, augment, seed, dist, drop_remainder=False):
    tf = _tf()
    ds = _data.as_dataset(x, y, batch_size=batch_size, shuffle=shuffle, augment=augment, seed=seed,
                          drop_remainder=drop_remainder)
    if dist is not None:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        ds = ds.with_options(options)
    return ds


def _nan_guard_class():
    tf = _tf()

    class NanGuard(tf.keras.callbacks.Callback):
        """Stops at the first batch whose loss is NaN or infinite."""

        def __init__(self):
            super().__init__()
            self.bad_batch = None

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.bad_batch = batch
                self.model.stop_training = True

    return NanGuard


def _NanGuard():
    return _nan_guard_class()()


def _recalibrate_bn(model, x, *, batch_size: int, batches: int, seed: int) -> None:
    """Sets every BatchNormalization's moving mean/variance to the average of its batch
    statistics over ``batches`` training batches (a seeded sample), weights unchanged.

    Batch k is blended in with momentum k/(k+1), which makes the result the plain mean
    of the k+1 batch statistics seen so far."""
    tf = _tf()
    bns = [layer for layer in _all_layers(model) if isinstance(layer, tf.keras.layers.BatchNormalization)]
    if not bns or len(x) == 0:
        return
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n = min(batches, max(1, len(x) // batch_size))
    saved = [bn.momentum for bn in bns]
    try:
        for k in range(n):
            for bn in bns:
                bn.momentum = k / (k + 1)
            idx = np.sort(order[k * batch_size:(k + 1) * batch_size])
            model(tf.constant(x[idx]), training=True)
    finally:
        for bn, m in zip(bns, saved):
            bn.momentum = m


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _write_checkpoint(checkpoint, ckpt_root: Path, epoch: int, history: list[dict]) -> Path:
    """Writes ``checkpoints/epoch-NNNNN`` atomically: into a temp dir, then one rename."""
    final = ckpt_root / f"epoch-{epoch:05d}"
    tmp = ckpt_root / f".tmp-epoch-{epoch:05d}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    checkpoint.write(str(tmp / "ckpt"))
    _write_atomic(tmp / "state.json", json.dumps({"epoch": epoch, "history": history}, indent=1))
    if final.exists():  # left by a run that died after its rename: same epoch, replace it
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old_epoch, old in _checkpoint_dirs(ckpt_root)[:-_CHECKPOINTS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in ckpt_root.glob(".tmp-epoch-*"):
        if stale != tmp:
            shutil.rmtree(stale, ignore_errors=True)
    return final


def _write_plots(model, x, y, history, plot_dir: Path, ncls: int, *, title: str,
                 class_names=None) -> None:
    from bnn_lq import plots as _plots

    probs = model.predict(x, batch_size=512, verbose=0)
    pred = np.argmax(probs, axis=-1)
    _plots.training_curves(history, plot_dir / "training_curves.png", title=title)
    if class_names is not None and len(class_names) != ncls:
        class_names = None
    _plots.confusion_matrix(y, pred, plot_dir / "confusion_matrix.png", num_classes=ncls, title=title,
                            class_names=class_names)
    _plots.sample_predictions(x, y, pred, plot_dir / "sample_predictions.png", class_names=class_names)


# --------------------------------------------------------------------------- evaluate


def evaluate(model, data, *, split: str = "test", limit: int | None = None, seed: int = 0,
             batch_size: int = 256) -> dict:
    """Accuracy of a trained model on a data set.

    Args:
        model: A run directory, a ``model.keras`` path, or a Keras model.
        data: A data set name or ``(x, y)`` arrays.
        split: Which split of a named data set.
        limit: At most this many examples (seeded subset, as in ``bnn_lq.data.load``).

    Returns:
        ``{"accuracy": float, "examples": int, "correct": int, "confusion": [[...]]}``.
    """
    tf = _tf()
    if not isinstance(model, tf.keras.Model):
        model = load_model(model)
    if isinstance(data, str):
        x, y = _data.load(data, split, limit=limit, seed=seed)
    else:
        x, y = np.asarray(data[0], np.float32), np.asarray(data[1], np.int64).reshape(-1)
        if limit is not None and limit < len(x):
            k = np.sort(np.random.default_rng(seed).choice(len(x), limit, replace=False))
            x, y = x[k], y[k]
    if tuple(x.shape[1:]) != tuple(model.input_shape[1:]):
        raise DataError(f"data {data if isinstance(data, str) else 'arrays'} has images of shape "
                        f"{tuple(x.shape[1:])}, the model expects {tuple(model.input_shape[1:])}")
    pred = np.argmax(model.predict(x, batch_size=batch_size, verbose=0), axis=-1)
    from bnn_lq.plots import confusion_counts

    ncls = int(model.output_shape[-1])
    correct = int(np.sum(pred == y))
    return {"accuracy": correct / max(1, len(y)), "examples": int(len(y)), "correct": correct,
            "confusion": confusion_counts(y, pred, num_classes=ncls).tolist()}
