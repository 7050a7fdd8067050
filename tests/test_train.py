"""bnn_lq.train: run directories, Bop/Adam, resume after SIGKILL, NaN, tf.distribute, CLI.

Every model here is a tiny bnn_mlp on small seeded subsets of the 8x8 digits."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from bnn_lq import data, train, zoo
from bnn_lq.train import TrainingError

pytestmark = pytest.mark.slow

TINY = {"hidden": (16,), "momentum": 0.9}  # fast-moving BN statistics for 8-step runs
REPO = Path(__file__).resolve().parents[1]


def _env():
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "run"
    run = train.fit("bnn_mlp", "digits", optimizer="adam", epochs=2, batch_size=32, learning_rate=1e-2,
                    out_dir=out, limit=256, model_options=TINY, seed=1)
    return run


# --------------------------------------------------------------------------- run directory


def test_run_directory_is_complete(tiny_run):
    out = tiny_run.out_dir
    for name in ("model.keras", "config.json", "history.csv", "plots/training_curves.png",
                 "plots/confusion_matrix.png", "plots/sample_predictions.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "plots/confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ckpts = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert ckpts == ["epoch-00001", "epoch-00002"]
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "bnn_mlp" and config["model_options"] == {"hidden": [16], "momentum": 0.9}
    assert config["data"] == "digits" and config["limit"] == 256 and config["seed"] == 1
    assert config["optimizer"] == "adam" and config["learning_rate"] == 1e-2
    assert config["epochs"] == 2 and config["batch_size"] == 32 and config["schedule"] == "cosine"
    for dist in ("bnn-lq", "tensorflow", "larq", "larq-compute-engine"):
        assert config["versions"][dist]
    rows = train.read_history(out / "history.csv")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert [r["step"] for r in rows] == [8, 16]  # 256 examples / 32 per batch
    assert rows == tiny_run.history
    assert tiny_run.test_accuracy == rows[-1]["val_accuracy"]
    assert tiny_run.test_accuracy > 0.3  # learned something (chance is 0.1)


def test_model_keras_round_trip_and_evaluate(tiny_run):
    loaded = train.load_model(tiny_run.out_dir)
    x, y = data.load("digits", "test", limit=256, seed=1)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), tiny_run.model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    assert isinstance(loaded.get_layer("fc2"), lq.layers.QuantDense)
    result = train.evaluate(tiny_run.out_dir, "digits", limit=256, seed=1)
    assert result["examples"] == 256
    assert result["accuracy"] == pytest.approx(tiny_run.test_accuracy, abs=1e-6)
    assert np.trace(result["confusion"]) == result["correct"]


def test_existing_run_is_not_overwritten_without_asking(tiny_run, tmp_path):
    with pytest.raises(TrainingError, match="already holds a run.*overwrite"):
        train.fit("bnn_mlp", "digits", epochs=1, out_dir=tiny_run.out_dir, resume=False, limit=64,
                  model_options=TINY)


# --------------------------------------------------------------------------- optimizers


def test_bop_flips_binary_kernels_and_adam_trains_the_rest(tmp_path):
    model = zoo.get("bnn_mlp", input_shape=(8, 8, 1), hidden=(32,))
    kernels0 = {n: model.get_layer(n).kernel.numpy().copy() for n in ("fc1", "fc2")}
    beta0 = model.get_layer("fc2_bn").beta.numpy().copy()
    run = train.fit(model, "digits", optimizer="bop", epochs=1, batch_size=32, out_dir=tmp_path,
                    limit=512, bop_threshold=1e-6, bop_gamma=1e-2, plots=False)
    flipped = 0
    for name, k0 in kernels0.items():
        k1 = run.model.get_layer(name).kernel.numpy()
        # Bop keeps binary kernels binary (its update is sign(w) or -sign(w)); Adam would
        # leave real-valued latent weights inside (-1, 1).
        assert set(np.unique(k1).tolist()) <= {-1.0, 1.0}
        flipped += int(np.sum(np.sign(k1) != np.sign(k0)))
    assert flipped > 0
    assert not np.array_equal(run.model.get_layer("fc2_bn").beta.numpy(), beta0)  # Adam


def test_adam_keeps_binary_kernels_clipped(tmp_path):
    run = train.fit("bnn_mlp", "digits", optimizer="adam", learning_rate=0.5, schedule=None, epochs=1,
                    batch_size=32, out_dir=tmp_path, limit=256, model_options=TINY, plots=False)
    k = run.model.get_layer("fc1").kernel.numpy()
    assert np.abs(k).max() <= 1.0 and np.isclose(np.abs(k).max(), 1.0)  # clipped, and it mattered


def test_squared_hinge_learns(tmp_path):
    run = train.fit("bnn_mlp", "digits", optimizer="adam", loss="squared_hinge", learning_rate=1e-2,
                    epochs=2, batch_size=32, out_dir=tmp_path, limit=512, model_options=TINY,
                    plots=False, schedule="step")
    assert run.test_accuracy > 0.3


def test_bad_arguments_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="optimizer"):
        train.fit("bnn_mlp", "digits", optimizer="sgd", epochs=1, out_dir=tmp_path)
    with pytest.raises(ValueError, match="loss"):
        train.fit("bnn_mlp", "digits", loss="mse", epochs=1, out_dir=tmp_path)


def test_recalibrate_bn_sets_plain_average_of_batch_statistics(rng):
    inputs = tf.keras.Input((3,))
    bn = tf.keras.layers.BatchNormalization(momentum=0.9)
    model = tf.keras.Model(inputs, bn(tf.keras.layers.Dense(4, use_bias=False)(inputs)))
    x = rng.normal(2.0, 3.0, (40, 3)).astype(np.float32)
    train._recalibrate_bn(model, x, batch_size=8, batches=3, seed=5)
    order = np.random.default_rng(5).permutation(40)
    h = x @ model.layers[1].kernel.numpy()
    batches = [h[np.sort(order[k * 8:(k + 1) * 8])] for k in range(3)]
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5, atol=1e-5)
    # Keras's non-fused (2-D) path averages the biased batch variance.
    np.testing.assert_allclose(bn.moving_variance.numpy(),
                               np.mean([b.var(0) for b in batches], 0), rtol=1e-4)
    assert bn.momentum == 0.9  # restored


# --------------------------------------------------------------------------- NaN


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    (x, y), (xt, yt) = data.load("digits", "train", limit=128), data.load("digits", "test", limit=64)
    good = ((x, y), (xt, yt))
    train.fit("bnn_mlp", good, optimizer="adam", epochs=1, batch_size=32, out_dir=tmp_path,
              model_options=TINY, plots=False)
    bad_x = x.copy()
    bad_x[5, 3, 3, 0] = np.nan
    with pytest.raises(TrainingError, match=r"NaN.*epoch 2.*epoch-00001") as err:
        train.fit("bnn_mlp", ((bad_x, y), (xt, yt)), optimizer="adam", epochs=3, batch_size=32,
                  out_dir=tmp_path, model_options=TINY, plots=False)
    assert "learning rate" in str(err.value)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-00001"]
    assert [r["epoch"] for r in train.read_history(tmp_path / "history.csv")] == [1]
    # The good checkpoint still resumes.
    run = train.fit("bnn_mlp", good, optimizer="adam", epochs=2, batch_size=32, out_dir=tmp_path,
                    model_options=TINY, plots=False)
    assert run.resumed_from == 1 and [r["epoch"] for r in run.history] == [1, 2]


# --------------------------------------------------------------------------- SIGKILL + resume

_KILL_SCRIPT = textwrap.dedent("""
    import sys
    import bnn_lq
    from bnn_lq import train
    train.fit("bnn_mlp", "digits", optimizer="bop", epochs=int(sys.argv[2]), batch_size=4, limit=400,
              out_dir=sys.argv[1], model_options={"hidden": (32,)}, plots=False, verbose=0)
""")


def _wait_for(path: Path, proc, timeout: float) -> float:
    t0 = time.time()
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training exited early ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        if time.time() - t0 > timeout:
            proc.kill()
            raise AssertionError(f"{path} did not appear within {timeout} s")
        time.sleep(0.02)
    return time.time()


def test_sigkill_mid_epoch_then_resume(tmp_path):
    epochs = 6
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(out), str(epochs)], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t1 = _wait_for(out / "checkpoints/epoch-00001", proc, 120)  # generous: a loaded CI machine
    t2 = _wait_for(out / "checkpoints/epoch-00002", proc, 30)
    time.sleep((t2 - t1) / 2)  # about half-way through epoch 3
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    done = sorted(p.name for p in (out / "checkpoints").iterdir() if p.name.startswith("epoch-"))
    assert done and f"epoch-{epochs:05d}" not in done and not (out / "model.keras").exists()
    last_done = int(done[-1][6:])
    before = train.read_history(out / "history.csv")
    assert [r["epoch"] for r in before] == list(range(1, len(before) + 1))

    run = train.fit("bnn_mlp", "digits", optimizer="bop", epochs=epochs, batch_size=4, limit=400,
                    out_dir=out, model_options={"hidden": (32,)}, plots=False, verbose=0)
    assert run.resumed_from == last_done
    rows = train.read_history(out / "history.csv")
    assert [r["epoch"] for r in rows] == list(range(1, epochs + 1))  # no gap, no duplicate
    assert rows[: len(before)] == before[:last_done] == before  # completed epochs untouched
    steps = 400 // 4
    # The optimizer's state came back: its iteration count continues where it stopped.
    assert [r["step"] for r in rows] == [steps * e for e in range(1, epochs + 1)]
    assert (out / "model.keras").is_file()
    assert not list((out / "checkpoints").glob(".tmp-*"))


# --------------------------------------------------------------------------- tf.distribute


def test_mirrored_strategy(tmp_path):
    run = train.fit("bnn_mlp", "digits", optimizer="bop", strategy="mirrored", epochs=1, batch_size=32,
                    out_dir=tmp_path, limit=128, model_options=TINY, plots=False)
    assert [r["epoch"] for r in run.history] == [1] and (tmp_path / "model.keras").is_file()


_WORKER_SCRIPT = textwrap.dedent("""
    import sys
    import bnn_lq
    from bnn_lq import train
    run = train.fit("bnn_mlp", "digits", optimizer="bop", strategy="multi_worker", epochs=1,
                    batch_size=32, limit=128, out_dir=sys.argv[1], model_options={"hidden": (16,)},
                    plots=False, verbose=0, seed=int(sys.argv[2]), validation=None)
    print("DONE", run.out_dir)
""")


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_multi_worker_two_processes_end_identical(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = _env()
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        # Different seeds on purpose: the strategy must broadcast the chief's initial weights.
        procs.append(subprocess.Popen([sys.executable, "-c", _WORKER_SCRIPT, str(tmp_path), str(index)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=90))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
        assert "DONE" in out
    chief = train.load_model(tmp_path)
    worker = train.load_model(tmp_path / "worker1")
    assert len(chief.weights) == len(worker.weights)
    for a, b in zip(chief.weights, worker.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.name)
    # And training happened: not the initial weights of either seed.
    fresh = zoo.get("bnn_mlp", input_shape=(8, 8, 1), hidden=(16,))
    assert not np.array_equal(chief.get_layer("fc2_bn").beta.numpy(), fresh.get_layer("fc2_bn").beta.numpy())
    assert [r["epoch"] for r in train.read_history(tmp_path / "history.csv")] == [1]


# --------------------------------------------------------------------------- CLI


def test_cli_train_and_evaluate(tmp_path, capsys):
    from bnn_lq.cli import main

    out = tmp_path / "cli"
    assert main(["train", "--model", "bnn_mlp", "--model-options", "hidden=[16]", "--dataset", "digits",
                 "--optimizer", "adam", "--epochs", "1", "--batch-size", "32", "--lr", "0.01",
                 "--limit", "128", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["epochs"] == 1 and result["resumed_from"] == 0
    assert main(["train", "--evaluate", str(out), "--dataset", "digits", "--limit", "128", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["accuracy"] == pytest.approx(result["test_accuracy"], abs=1e-6)
    # --no-resume on an existing run is refused (exit 1, message on stderr) ...
    assert main(["train", "--model", "bnn_mlp", "--dataset", "digits", "--epochs", "1", "--limit", "64",
                 "--out", str(out), "--no-resume"]) == 1
    assert "already holds a run" in capsys.readouterr().err
    # ... unknown architectures and data sets list the valid ones.
    assert main(["train", "--model", "nope", "--dataset", "digits", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "bnn_cnn_small" in err and "bnn_mlp" in err
    assert main(["train", "--model", "bnn_mlp", "--dataset", "nope", "--out", str(tmp_path / "y")]) == 1
    err = capsys.readouterr().err
    assert "'nope'" in err and "fashion_mnist" in err and "npz:" in err
