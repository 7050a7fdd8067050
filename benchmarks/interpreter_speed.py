"""Images per second of bnn-lq's NumPy interpreter beside LCE's interpreter on the same model.

The model is a small binary CNN for Fashion-MNIST-shaped inputs (28x28x1: a real first
conv, three binary convs with bit-packed chaining and LceBMaxPool2d, a binary dense layer,
softmax), with random weights and BatchNorm statistics (speed does not depend on training).
Both runtimes get the same batch of 256 images; LCE runs one image at a time (its API),
ours runs the batch vectorised. Outputs are checked to agree before timing is reported.

    .venv/bin/python benchmarks/interpreter_speed.py [--images 256] [--repeat 3] [--zoo]

``--zoo`` also times (and checks) the larq_zoo QuickNetSmall, Bi-Real Net and
BinaryDenseNet28 conversions at 32x32x3 (cached under $BNN_LQ_CACHE, default
/tmp/bnn_lq_interp; the first run converts them, which takes minutes).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numpy as np

import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interpreter"))


def binary_cnn():
    import larq as lq
    import tensorflow as tf

    def bconv(filters, **kw):
        return lq.layers.QuantConv2D(filters, 3, input_quantizer="ste_sign",
                                     kernel_quantizer="ste_sign",
                                     kernel_constraint="weight_clip", use_bias=False, **kw)

    x_in = tf.keras.Input((28, 28, 1), batch_size=1)
    x = tf.keras.layers.Conv2D(32, 3, use_bias=False)(x_in)
    x = tf.keras.layers.BatchNormalization()(x)
    x = bconv(64)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.MaxPool2D(2)(x)
    x = bconv(64, padding="same", pad_values=1.0)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    x = bconv(128)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.MaxPool2D(2)(x)
    x = tf.keras.layers.Flatten()(x)
    x = lq.layers.QuantDense(128, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                             kernel_constraint="weight_clip", use_bias=False)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.Dense(10, activation="softmax")(x)
    return tf.keras.Model(x_in, x, name="binary_cnn")


def binary_cnn_tflite() -> pathlib.Path:
    """The benchmark model, converted once and cached (with its .keras beside it)."""
    from zoo_models import cache_dir

    path = cache_dir() / "bench_binary_cnn.tflite"
    if path.exists():
        return path
    import larq_compute_engine as lce
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = binary_cnn()
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.5, n),
                               rng.normal(0, 0.5, n), rng.uniform(0.5, 2, n)])
    model.save(path.with_suffix(".keras"))
    path.write_bytes(lce.convert_keras_model(model))
    return path


def _time(fn, repeat):
    best = float("inf")
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def bench(path: pathlib.Path, x: np.ndarray, *, repeat: int, batch_size: int) -> None:
    from larq_compute_engine.tflite.python.interpreter import Interpreter as LceInterpreter

    from bnn_lq.interpreter import Interpreter

    fb = path.read_bytes()
    ours = Interpreter(fb)
    if ours.input_details[0]["dtype"] == np.int8:
        x = np.clip(np.round(x / ours.input_details[0]["quantization"][0])
                    + ours.input_details[0]["quantization"][1], -128, 127).astype(np.int8)
    lce = LceInterpreter(fb, num_threads=1)
    t_lce, y_lce = _time(lambda: lce.predict(x), repeat)
    t_np, y_np = _time(lambda: ours.predict(x, batch_size=batch_size), repeat)
    diff = float(np.max(np.abs(y_lce.astype(np.float64) - y_np)))
    agree = float(np.mean(y_lce.reshape(len(x), -1).argmax(1)
                          == y_np.reshape(len(x), -1).argmax(1)))
    n = len(x)
    print(f"{path.name:<34} {n:>5} images | LCE {n / t_lce:9.1f} img/s | numpy "
          f"{n / t_np:9.1f} img/s | numpy/LCE {t_lce / t_np:6.3f} | max|diff| {diff:.3g} "
          f"| argmax agree {agree:.4f}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--zoo", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(args.images, 28, 28, 1)).astype(np.float32)
    print(f"threads: LCE num_threads=1; numpy BLAS as configured; machine: {os.cpu_count()} "
          f"cores (shared)")
    bench(binary_cnn_tflite(), x, repeat=args.repeat, batch_size=args.batch_size)
    if args.zoo:
        from zoo_models import ZOO_MODELS, zoo_tflite

        xz = rng.uniform(-1, 1, size=(min(args.images, 64), 32, 32, 3)).astype(np.float32)
        for name in ZOO_MODELS:
            for int8 in (False, True):
                bench(zoo_tflite(name, int8=int8), xz, repeat=1, batch_size=args.batch_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
