"""Fixtures of the code-generation tests: a few tiny Larq models converted by LCE once
per session (cached on disk, conversions are slow on this machine), and helpers to
compile the generated C with the runtime on the host.

The models are chosen so that, together, they walk every code path of codegen.py:
bit-packed chains, SAME with pad_values 0 and 1, stride 2, LceBMaxPool2d, a float first
layer, real-input binary-kernel layers (the binw path), binary dense layers
(LceDequantize -> FULLY_CONNECTED), global average pooling, softmax, and the chains the
code generator fuses into one bnn_conv2d_pool_quantize step.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bnn_lq  # noqa: E402,F401  (Keras 2 switch, before TensorFlow loads)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# name -> (input_shape, [(kind, options)], convert kwargs); kinds are oracle.LAYER_KINDS
# plus the extra ones in _EXTRA_KINDS below. Keep them tiny: every one costs a conversion.
MODEL_SPECS = {
    # float first layer, bit-packed output chain, SAME pv=1 stride 2, BMaxPool,
    # SAME pv=0 (float correction), GAP, float dense, softmax
    "bchain": ((16, 16, 3), [
        ("conv", dict(filters=8, kernel_size=3, padding="same")),
        ("bn", {}),
        ("bconv", dict(filters=32, kernel_size=3)),
        ("bn", {}),
        ("bconv", dict(filters=33, kernel_size=3, padding="same", pad_values=1.0, strides=2)),
        ("bn", {}),
        ("maxpool", dict(pool_size=2)),
        ("bconv", dict(filters=20, kernel_size=3, padding="same")),
        ("bn", {}),
        ("gap", {}),
        ("dense", dict(units=10)),
        ("softmax", {}),
    ], {}),
    # real-input binary-kernel first layers (ste_sign: +-1, magnitude_aware_sign: +-c),
    # binary conv, flatten, binary dense layers (+-c after BN, +-1 without), softmax
    "binw": ((8, 8, 2), [
        ("rconv_bink", dict(filters=8, kernel_size=3)),
        ("bn", {}),
        ("rconv_bink", dict(filters=6, kernel_size=3, padding="same",
                            kernel_quantizer="magnitude_aware_sign")),
        ("bn", {}),
        ("bconv", dict(filters=16, kernel_size=3)),
        ("bn", {}),
        ("flatten", {}),
        ("bdense", dict(units=12)),
        ("bn", {}),
        ("bdense", dict(units=10)),
        ("softmax", {}),
    ], {}),
    # float builtins around a binary core: fused RELU, depthwise, leaky ReLU, average pool,
    # PReLU, SAME max pool, flatten, dense
    "float_ops": ((10, 10, 3), [
        ("conv", dict(filters=6, kernel_size=3, padding="same", activation="relu")),
        ("dwconv", dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same")),
        ("leaky_relu", dict(alpha=0.3)),
        ("avgpool", dict(pool_size=2, padding="same")),
        ("prelu", dict(shared_axes=[1, 2])),
        ("bconv", dict(filters=12, kernel_size=2)),
        ("bn", {}),
        ("maxpool", dict(pool_size=2, strides=1, padding="same")),
        ("flatten", {}),
        ("dense", dict(units=10)),
    ], {}),
    # fusable chains (codegen.lower): a real-input binary-kernel stem -> BN -> max-pool
    # (LCE: CONV_2D -> LceQuantize -> LceBMaxPool2d), and a SAME pv=0 binary conv -> ReLU
    # -> BN -> SAME 3/2 max-pool -> flatten (LceBconv2d -> RELU -> MUL -> ADD ->
    # MAX_POOL_2D -> RESHAPE -> LceQuantize) before a binary dense layer
    "fused": ((12, 12, 2), [
        ("rconv_bink", dict(filters=8, kernel_size=3, padding="same")),
        ("bn", {}),
        ("maxpool", dict(pool_size=2)),
        ("bconv", dict(filters=33, kernel_size=3, padding="same")),
        ("relu", {}),
        ("bn", {}),
        ("maxpool", dict(pool_size=3, strides=2, padding="same")),
        ("flatten", {}),
        ("bdense", dict(units=10)),
        ("softmax", {}),
    ], {}),
    # int8 builtins (LCE's dummy int8 ranges) with int8 input and output
    "int8": ((12, 12, 3), [
        ("conv", dict(filters=8, kernel_size=3, padding="same")),
        ("bn", {}),
        ("bconv", dict(filters=32, kernel_size=3)),
        ("bn", {}),
        ("bconv", dict(filters=16, kernel_size=3, padding="same", pad_values=1.0)),
        ("bn", {}),
        ("gap", {}),
        ("dense", dict(units=10)),
        ("softmax", {}),
    ], {"experimental_default_int8_range": (-3.0, 3.0), "inference_input_type": "int8",
        "inference_output_type": "int8"}),
}

CACHE = pathlib.Path(os.environ.get("BNN_LQ_CACHE", "/tmp/bnn_lq_interp")) / "codegen"


def _rconv_bink(**kw):
    import larq as lq

    kw.setdefault("kernel_quantizer", "ste_sign")
    return lq.layers.QuantConv2D(input_quantizer=None, use_bias=kw.pop("use_bias", False),
                                 kernel_constraint="weight_clip", **kw)


_EXTRA_KINDS = {"rconv_bink": _rconv_bink}


def _key(name: str) -> str:
    import larq_compute_engine
    import tensorflow as tf

    text = repr((MODEL_SPECS[name], tf.__version__, larq_compute_engine.__version__))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_model(name: str, seed: int = 0):
    """The Keras model ``name`` of MODEL_SPECS with seeded random weights and BN stats."""
    import oracle
    import tensorflow as tf

    input_shape, layers, _ = MODEL_SPECS[name]
    kinds = {**oracle.LAYER_KINDS, **_EXTRA_KINDS}
    tf.keras.utils.set_random_seed(seed)
    x_in = tf.keras.Input(shape=input_shape, batch_size=1)
    x = x_in
    for kind, options in layers:
        x = kinds[kind](**dict(options))(x)
    model = tf.keras.Model(x_in, x)
    oracle.randomize_model(model, np.random.default_rng(seed))
    return model


def model_tflite(name: str) -> bytes:
    """LCE's conversion of ``name``, cached on disk under $BNN_LQ_CACHE/codegen."""
    path = CACHE / f"{name}-{_key(name)}.tflite"
    if not path.exists():
        import oracle

        CACHE.mkdir(parents=True, exist_ok=True)
        import tensorflow as tf

        kwargs = {k: (getattr(tf, v) if k.startswith("inference_") else v)
                  for k, v in MODEL_SPECS[name][2].items()}
        fb = oracle.convert(build_model(name), **kwargs)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(fb)
        tmp.replace(path)
    return path.read_bytes()


@pytest.fixture(scope="session")
def tflite_models():
    """name -> flatbuffer bytes, converted lazily (each conversion once per cache)."""

    class _Lazy(dict):
        def __missing__(self, name):
            self[name] = model_tflite(name)
            return self[name]

    return _Lazy()


if __name__ == "__main__":  # fill the cache: .venv/bin/python tests/codegen/codegen_helpers.py
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    for model_name in sys.argv[1:] or MODEL_SPECS:
        print(model_name, len(model_tflite(model_name)))


# ---------------------------------------------------------------------------------------
# Building the generated C on the host
# ---------------------------------------------------------------------------------------

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "firmware" / "runtime"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-ffp-contract=off"]

# The test main: reads whole inputs from argv[1], writes whole outputs to argv[2].
# bnn_port_write is the only port function the runtime needs on the host here.
TEST_MAIN = r"""
#include <stdint.h>
#include <stdio.h>
#include "model.h"

void bnn_port_write(const char *s) { if (s != NULL) { fputs(s, stderr); } }

static uint32_t in_buf[(BNN_MODEL_INPUT_BYTES + 3u) / 4u];
static uint32_t out_buf[(BNN_MODEL_OUTPUT_BYTES + 3u) / 4u];

int main(int argc, char **argv)
{
    FILE *fi;
    FILE *fo;
    if (argc != 3) { return 2; }
    fi = fopen(argv[1], "rb");
    fo = fopen(argv[2], "wb");
    if (fi == NULL || fo == NULL) { return 2; }
    while (fread(in_buf, 1, BNN_MODEL_INPUT_BYTES, fi) == BNN_MODEL_INPUT_BYTES) {
        int st = bnn_model_invoke(in_buf, out_buf);
        if (st != 0) { fprintf(stderr, "bnn_model_invoke: %d\n", st); return 1; }
        fwrite(out_buf, 1, BNN_MODEL_OUTPUT_BYTES, fo);
    }
    fclose(fi);
    fclose(fo);
    return 0;
}
"""


def runtime_sources() -> list[pathlib.Path]:
    """Every C file of the runtime: dispatchers, reference and optimized kernels, src."""
    found = []
    for sub in ("kernels", "kernels/ref", "kernels/opt", "src"):
        found += sorted((RUNTIME / sub).glob("*.c"))
    return found


@pytest.fixture(scope="session")
def runtime_lib(tmp_path_factory):
    """The runtime compiled once into a static library (skips when gcc or the runtime
    sources are missing)."""
    import shutil
    import subprocess

    if shutil.which("gcc") is None or shutil.which("ar") is None:
        pytest.skip("gcc/ar not installed")
    sources = runtime_sources()
    if not sources or not (RUNTIME / "include" / "bnn" / "bnn.h").exists():
        pytest.skip("firmware/runtime sources not present")
    build = tmp_path_factory.mktemp("bnn_runtime")
    objects = []
    for i, src in enumerate(sources):
        obj = build / f"{i:03d}_{src.stem}.o"
        subprocess.run(["gcc", *CFLAGS, "-I", str(RUNTIME / "include"), "-c", str(src),
                        "-o", str(obj)], check=True, capture_output=True, text=True)
        objects.append(str(obj))
    lib = build / "libbnn.a"
    subprocess.run(["ar", "rcs", str(lib), *objects], check=True)
    return lib


def build_model_exe(files: dict[str, str], out_dir: pathlib.Path, lib: pathlib.Path) -> pathlib.Path:
    """Writes the generated files and the test main to ``out_dir`` and links them with
    the runtime library; a compiler diagnostic fails the test with its text."""
    import subprocess

    from bnn_lq.convert import codegen

    codegen.write(files, out_dir, force=True)
    (out_dir / "main.c").write_text(TEST_MAIN)
    exe = out_dir / "model_test"
    sources = [str(out_dir / n) for n in sorted(files) if n.endswith(".c")]
    proc = subprocess.run(["gcc", *CFLAGS, "-I", str(RUNTIME / "include"), "-I", str(out_dir),
                           *sources, str(out_dir / "main.c"), str(lib), "-lm", "-o", str(exe)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"gcc failed on {out_dir}:\n{proc.stderr[-4000:]}"
    return exe


def run_exe(exe: pathlib.Path, inputs: np.ndarray, out_dtype, out_count: int) -> np.ndarray:
    """Runs ``exe`` on the batch ``inputs`` (one image per row) and returns its outputs."""
    import subprocess

    in_path, out_path = exe.parent / "in.bin", exe.parent / "out.bin"
    np.ascontiguousarray(inputs).tofile(in_path)
    proc = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, f"{exe} failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return np.fromfile(out_path, dtype=out_dtype).reshape(len(inputs), out_count)
