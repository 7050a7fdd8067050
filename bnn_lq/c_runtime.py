"""The C runtime as a Python-callable runtime: generate C for a .tflite, build the
batch runner (firmware/app_batch) for the host or ARM Linux, and run it on arrays.

``bnn-lq eval --runtime c-host`` (and ``c-aarch64``, ``c-armv7`` under qemu-user)
go through here, so the C runtime is measured on the same images as LCE and the
NumPy interpreter without embedding the test set in an executable.

Example:
    y = predict("model.tflite", x_test)              # host build, cached next to the model
    y = predict("model.tflite", x_test, target="aarch64-linux")
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from bnn_lq.errors import DeployError

__all__ = ["TARGETS", "build_batch_runner", "predict"]

_log = logging.getLogger(__name__)

#: runtime name -> firmware target; the executable runs directly or under qemu-user.
TARGETS = {"c-host": "host", "c-aarch64": "aarch64-linux", "c-armv7": "armv7-linux"}


def build_batch_runner(model_path: str | os.PathLike, *, target: str = "host",
                       cache_dir: str | os.PathLike | None = None) -> Path:
    """Builds (or reuses) the batch runner for ``model_path`` on ``target``; returns
    the executable. The build is cached by model bytes and firmware sources."""
    from bnn_lq import deploy

    model_path = Path(model_path)
    if target not in ("host", "aarch64-linux", "armv7-linux"):
        raise DeployError(f"c runtime target {target!r}: expected host, aarch64-linux or "
                          "armv7-linux (Cortex-M boards run through `bnn-lq deploy`)")
    key = hashlib.sha256(model_path.read_bytes()).hexdigest()[:16] + "-" + \
        deploy.firmware_sources_digest()[:16]
    # Absolute: make runs in the firmware directory (-C), so a relative path would miss.
    root = (Path(cache_dir) if cache_dir else model_path.parent / ".bnn-lq-c" / target).resolve()
    out = root / key
    exe = out / "app"
    if exe.exists():
        return exe
    files, _ = deploy._emit_model(model_path, name=model_path.stem, testset=None)
    model_dir = out / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (model_dir / Path(rel).name).write_text(text)
    make = shutil.which("make")
    if make is None:
        raise DeployError("cannot build the C runtime: `make` is not installed")
    cmd = [make, "-C", str(deploy.FIRMWARE_DIR), "-j2", f"TARGET={target}",
           f"MODEL_DIR={model_dir}", f"BUILD_DIR={out}",
           f"APP_DIR={deploy.FIRMWARE_DIR / 'app_batch'}"]
    _log.info("building the C runtime for %s (%s)", model_path.name, target)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not exe.exists():
        raise DeployError(f"building the C batch runner for {model_path} on {target} failed:\n"
                          + (proc.stdout + proc.stderr)[-3000:])
    return exe


def predict(model_path: str | os.PathLike, x: np.ndarray, *, target: str = "host",
            cache_dir: str | os.PathLike | None = None, timeout: float = 3600.0) -> np.ndarray:
    """Runs the C runtime on ``x`` (already in the model's input dtype, one image per
    row, without the converter's batch dimension); returns the raw outputs stacked."""
    from bnn_lq import deploy
    from bnn_lq.convert import read

    graph = read(model_path)
    out_t = graph.tensors[graph.outputs[0]]
    in_t = graph.tensors[graph.inputs[0]]
    per_image = int(np.prod(in_t.shape[1:]))
    x = np.ascontiguousarray(x, dtype=np.dtype(in_t.dtype))
    if x[0].size != per_image:
        raise ValueError(f"{model_path}: input images have {x[0].size} values, the model "
                         f"expects {per_image} ({in_t.shape[1:]})")
    exe = build_batch_runner(model_path, target=target, cache_dir=cache_dir)
    runner = [] if target == "host" else [deploy.BOARDS[target].qemu]
    with tempfile.TemporaryDirectory(prefix="bnn-lq-c-") as tmp:
        in_path, out_path = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        x.tofile(in_path)
        proc = subprocess.run([*runner, str(exe), str(in_path), str(out_path)],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise DeployError(f"C runtime ({target}) failed on {model_path} with exit "
                              f"{proc.returncode}: {proc.stderr[-2000:]}")
        y = np.fromfile(out_path, dtype=np.dtype(out_t.dtype))
    return y.reshape(len(x), *out_t.shape[1:])


def _register() -> None:
    from bnn_lq import evaluate

    for name, target in TARGETS.items():
        def run(model_path, x, *, target=target, cache_dir=None, **_):
            return predict(model_path, x, target=target, cache_dir=cache_dir)
        evaluate.register_runtime(name, run)


_register()
