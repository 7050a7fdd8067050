"""Memory of generated models on a board: arena before/after fusion, code, constants, stack.

For every model (zoo builders, default options, 28x28x1 Fashion-MNIST input) this
converts with ``bnn_lq.convert.to_tflite`` (cached under ``--cache``), plans the arena
with and without the code generator's fusion (``codegen.lower(graph, fuse=...)``), then
builds the accuracy-check firmware for the board both ways with 16 test images and the
oracle from LCE's interpreter, runs it (QEMU) and prints one row per (model, variant):

* ``arena``: the planned arena (``plan.arena_bytes``), ``naive``: one buffer per tensor,
* ``weights``: constant data the model stores (``plan.weight_bytes``),
* ``code``/``const``: function bytes / read-only object bytes of the linked image
  (``readelf -s``: FUNC symbols; OBJECT symbols in allocated, non-writable sections; the
  const column includes the embedded test images and the printf tables of the C library),
* ``stack``: the stack high-water mark the device measured (painted at reset),
* ``RAM``: arena + stack (the input comes from the caller's pointer: the test images
  live in flash), ``insns``: instructions per inference (QEMU icount),
* ``agree``: images whose class equals LCE's.

    python benchmarks/memory.py [--models bnn_cnn_small] [--board netduinoplus2] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import bnn_lq  # noqa: E402,F401  (Keras-2 switch before TensorFlow)
import numpy as np  # noqa: E402


def tflite_of(name: str, cache: pathlib.Path) -> bytes:
    """The zoo model ``name`` (initial weights) converted by bnn_lq, cached on disk."""
    path = cache / f"{name}-28x28x1.tflite"
    if not path.exists():
        from bnn_lq import zoo
        from bnn_lq.convert import lce

        import tensorflow as tf

        tf.keras.utils.set_random_seed(0)
        model = zoo.get(name, input_shape=(28, 28, 1), num_classes=10)
        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(lce.to_tflite(model, warn=False))
    return path.read_bytes()


def symbol_bytes(elf: pathlib.Path, readelf: str) -> tuple[int, int]:
    """(code, constant data) bytes of ``elf``: the sizes of its FUNC symbols, and of its
    OBJECT symbols in sections that are allocated but not writable (flash)."""
    sections = subprocess.run([readelf, "-SW", str(elf)], capture_output=True, text=True,
                              check=True).stdout
    readonly = set()
    for line in sections.splitlines():
        line = line.replace("[ ", "[")
        if not line.strip().startswith("["):
            continue
        parts = line.split()
        idx = parts[0].strip("[]")
        flags = next((x for x in parts[7:] if x.isalpha() and x.isupper()), "")
        if idx.isdigit() and "A" in flags and "W" not in flags:
            readonly.add(idx)
    symbols = subprocess.run([readelf, "-sW", str(elf)], capture_output=True, text=True,
                             check=True).stdout
    code = const = 0
    for line in symbols.splitlines():
        parts = line.split()
        if len(parts) < 8 or not parts[0].rstrip(":").isdigit():
            continue
        size, kind, ndx = int(parts[2], 0), parts[3], parts[6]
        if kind == "FUNC":
            code += size
        elif kind == "OBJECT" and ndx in readonly:
            const += size
    return code, const


def measure(name: str, board: str, cache: pathlib.Path, n_images: int, work: pathlib.Path,
            run: bool = True) -> list[dict]:
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    from bnn_lq import data, deploy
    from bnn_lq.convert import codegen, plan as plan_mod
    from bnn_lq.convert.flatbuffer import read

    fb = tflite_of(name, cache)
    graph = read(fb, name=f"{name}.tflite")
    images, labels = data.load("fashion_mnist", "test", limit=n_images)
    images = images.astype(np.float32)
    oracle = np.asarray(Interpreter(fb).predict(images)).reshape(len(images), -1).argmax(-1)
    rows = []
    for fuse in (False, True):
        steps = codegen.lower(graph, fuse=fuse)
        p = plan_mod.plan(graph, steps=steps)
        row = {"model": name, "board": board, "fused": fuse, "arena": p.arena_bytes,
               "naive": p.naive_bytes, "weights": p.weight_bytes,
               "fused_steps": sum(1 for s in steps if s.fused_ops)}
        if run:
            model_dir = work / f"{name}-{'fused' if fuse else 'plain'}-src"
            codegen.write(codegen.emit(graph, name=name, plan=p, fuse=fuse,
                                       testset=(images, labels.astype(np.uint8),
                                                oracle.astype(np.uint8))),
                          model_dir, force=True)
            out = work / f"{name}-{'fused' if fuse else 'plain'}-{board}"
            built = deploy.build(model_dir, board=board, out_dir=out, jobs=2)
            res = deploy.run(built.out_dir)
            tool = "readelf" if board == "host" else "arm-none-eabi-readelf"
            code, const = symbol_bytes(built.executable, shutil.which(tool) or tool)
            row.update(code=code, const=const, stack=res.stack_bytes,
                       ram=p.arena_bytes + (res.stack_bytes or 0),
                       insns=res.per_inference, unit=res.unit,
                       agree=f"{res.agree}/{res.images}",
                       accuracy=round(res.accuracy, 4))
        rows.append(row)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="bnn_cnn_small")
    ap.add_argument("--board", default="netduinoplus2")
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--cache", default="/tmp/bnn_lq_bench")
    ap.add_argument("--no-run", action="store_true", help="plans only: no build, no QEMU")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bnn_mem_") as tmp:
        for name in args.models.split(","):
            rows += measure(name, args.board, pathlib.Path(args.cache), args.images,
                            pathlib.Path(tmp), run=not args.no_run)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    cols = ["model", "board", "fused", "arena", "naive", "weights", "code", "const", "stack",
            "ram", "insns", "agree"]
    print(" | ".join(cols))
    print(" | ".join("---" for _ in cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "-")) for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
