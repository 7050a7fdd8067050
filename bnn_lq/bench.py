"""Microcontroller benchmark: one architecture, four builds, every board, one run.

For each board, :func:`bench_mcu` builds and runs under QEMU (``-icount shift=0``: one
instruction = 1 ns of virtual time, so counts are exact and reproducible):

- ``binary-ref``: the LCE model (:func:`bnn_lq.convert.lce.to_tflite`) with every kernel
  dispatched to its reference (``-DBNN_KERNELS=BNN_KERNELS_REF``);
- ``binary-opt``: the same model with the optimized kernels (the default build);
- ``int8``: the same architecture, full-integer TFLite (``int8_tflite``), our runtime;
- ``float``: the same architecture in float32 TFLite (``float_tflite``), our runtime.

and reports instructions per inference, flash, RAM (static + stack reserve), arena and
weight bytes, and the ratios opt/ref, int8/binary and float/binary side by side. With
``per_op`` (the default) every build is compiled with ``-DBNN_PROFILE``
(``bnn/bnn_profile.h``): the generated code's per-operator hooks time each kernel call of
the real model, the app prints one ``BNN OP`` line per operator, and the report gets a
per-operator table (reference vs optimized, binary MACs per instruction; the timed pass
itself runs with the hooks idle, a few instructions per operator, and the profile code adds
well under 1 KB of flash). The kernel bench of ``tests/firmware_opt/app`` (the bnn_cnn_small
layer shapes run alone, reference and optimized, on the same board) is reported too.

The weights are the committed trained model of the architecture when there is one
(``bnn_lq/pretrained/<model>_fashion_mnist``; ``weights="none"`` for an untrained model):
the optimized binary kernels' counts depend on the activations (the bit-sliced convolutions
sum over the set or the clear input bits, whichever are fewer, see
``firmware/runtime/kernels/opt/bnn_bslice_opt.h``), so trained weights on real test images
give the representative numbers.

Example:
    >>> from bnn_lq import bench
    >>> bench.VARIANTS
    ('binary-ref', 'binary-opt', 'int8', 'float')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bnn_lq.errors import BnnLqError, DeployError

__all__ = ["DEFAULT_BOARDS", "VARIANTS", "McuBench", "bench_mcu", "convert_variants",
           "kernel_bench", "op_macs", "parse_ops", "write_report"]

_log = logging.getLogger(__name__)

#: The builds compared on every board.
VARIANTS = ("binary-ref", "binary-opt", "int8", "float")
#: Boards benchmarked by default: the M0, the reference M4 and the M55.
DEFAULT_BOARDS = ("microbit", "netduinoplus2", "mps2-an386", "mps3-an547")

_CFLAGS = {"binary-ref": "-DBNN_KERNELS=BNN_KERNELS_REF", "binary-opt": "", "int8": "",
           "float": ""}
_KERNEL_APP = Path(__file__).resolve().parent.parent / "tests" / "firmware_opt" / "app"
_BENCH_LINE = re.compile(r"^BNN BENCH (\{.*\})$", re.M)
_OP_LINE = re.compile(r"^BNN OP (\{.*\})$", re.M)


@dataclasses.dataclass
class McuBench:
    """Everything one :func:`bench_mcu` run measured.

    Attributes:
        model: Zoo model name.
        boards: Boards run.
        runs: ``runs[board][variant]`` = the device's result as a dict (per_inference,
            flash_bytes, ram_bytes, arena_bytes, weight_bytes, agreement, ...) or
            ``{"error": "..."}`` when the build did not fit or failed.
        layers: ``layers[board]`` = kernel-bench rows: name, ref, opt (instructions), macs.
        tflite_bytes: Size of each variant's .tflite (``binary`` for both binary builds).
        weights: Where the weights came from (a path, or "untrained").
        ops: ``ops[board][variant]`` = per-operator rows of the real model (``per_op``):
            op (graph index), name, per_inference (instructions), macs (binary MACs of
            the step, 0 for other ops).
    """

    model: str
    boards: list[str]
    runs: dict[str, dict[str, dict[str, Any]]]
    layers: dict[str, list[dict[str, Any]]]
    tflite_bytes: dict[str, int]
    ops: dict[str, dict[str, list[dict[str, Any]]]] = dataclasses.field(default_factory=dict)
    weights: str = "untrained"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_PRETRAINED = Path(__file__).resolve().parent / "pretrained"


def resolve_weights(model_name: str, weights: str | os.PathLike | None) -> Path | None:
    """The trained ``model.keras`` to benchmark, or None for an untrained model.

    ``"pretrained"``: the committed model of ``model_name`` on Fashion-MNIST if there is one
    (else None); ``None`` or ``"none"``: untrained; anything else: a ``model.keras`` file or
    a run directory holding one.
    """
    if weights is None or str(weights) == "none":
        return None
    if str(weights) == "pretrained":
        path = _PRETRAINED / f"{model_name}_fashion_mnist" / "model.keras"
        return path if path.is_file() else None
    path = Path(weights)
    path = path / "model.keras" if path.is_dir() else path
    if not path.is_file():
        raise BnnLqError(f"--weights: no model.keras at {path}; give a trained model.keras, "
                         "a run directory holding one, 'pretrained' or 'none'")
    return path


def _model_and_data(model_name: str, images: int, weights: Path | None = None):
    """The model (the trained one at ``weights``, else the zoo model untrained, built for
    28x28x1) and a few Fashion-MNIST test images."""
    import bnn_lq  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    from bnn_lq import data, zoo

    if weights is not None:
        from bnn_lq.train import load_model

        model = load_model(weights)
    else:
        model = zoo.get(model_name, input_shape=(28, 28, 1), num_classes=10)
    x, y = data.load("fashion_mnist", "test", limit=max(images, 64))
    return model, np.asarray(x, dtype=np.float32), np.asarray(y)


def convert_variants(model_name: str, cache_dir: str | os.PathLike, *,
                     images: int = 2, weights: Path | None = None) -> dict[str, Path]:
    """Converts ``model_name`` (trained at ``weights``, else untrained) to the binary (LCE),
    int8 and float .tflite files, cached in ``cache_dir`` (a conversion runs only when its
    file is missing).

    Returns:
        ``{"binary": path, "int8": path, "float": path}``.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    source = (hashlib.sha1(Path(weights).read_bytes()).hexdigest() if weights is not None
              else "seed0")
    key = hashlib.sha1(f"{model_name}:28x28x1:10:{source}".encode()).hexdigest()[:8]
    paths = {v: cache / f"{model_name}-{key}-{v}.tflite" for v in ("binary", "int8", "float")}
    if all(p.is_file() for p in paths.values()):
        return paths
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model, x, _ = _model_and_data(model_name, images, weights)
    from bnn_lq.convert import lce

    if not paths["binary"].is_file():
        _log.info("converting %s with LCE (binary)", model_name)
        paths["binary"].write_bytes(lce.to_tflite(model, warn=False))
    if not paths["float"].is_file():
        _log.info("converting %s to float32 TFLite", model_name)
        paths["float"].write_bytes(lce.float_tflite(model))
    if not paths["int8"].is_file():
        _log.info("converting %s to int8 TFLite (64 calibration images)", model_name)
        paths["int8"].write_bytes(lce.int8_tflite(model, x[:64]))
    return paths


def parse_ops(output: str) -> list[dict[str, Any]]:
    """The ``BNN OP {...}`` lines of a ``-DBNN_PROFILE`` run, in invoke order."""
    return [json.loads(m) for m in _OP_LINE.findall(output)]


def op_macs(tflite: str | os.PathLike) -> dict[int, int]:
    """Binary multiply-accumulates per code-generation step of a .tflite, keyed by the
    step's operator index (the index the BNN_OP hooks report): LceBconv2d counts
    OH * OW * C_out * KH * KW * C_in (per group), summed over a fused chain's operators."""
    from bnn_lq.convert import codegen, flatbuffer

    graph = flatbuffer.read(tflite)
    macs: dict[int, int] = {}
    for op in graph.operators:
        if op.op != "LceBconv2d":
            continue
        out = graph.tensors[op.outputs[0]].shape  # [N, OH, OW, C_out or its words]
        filt = graph.tensors[op.inputs[1]].shape  # [C_out, KH, KW, words per group]
        cin = int(op.options.get("channels_in", 0))
        words_g = int(filt[3])
        groups = cin // (32 * words_g) if cin > 32 * words_g else 1
        macs[op.index] = (int(np.prod(out[:3])) * int(filt[0]) * int(filt[1]) * int(filt[2])
                          * (cin // max(1, groups)))
    steps: dict[int, int] = {}
    for step in codegen.lower(graph):
        members = step.fused_ops or (step.op,)
        total = sum(macs.get(i, 0) for i in members)
        if total:
            steps[step.op] = total
    return steps


def kernel_bench(board: str, out_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Runs the kernel bench of tests/firmware_opt/app on ``board``: the binary layers of
    bnn_cnn_small alone, reference and optimized. Returns its BNN BENCH rows."""
    from bnn_lq import deploy

    b = deploy.BOARDS[board]
    out = Path(out_dir).resolve()
    cmd = ["make", "-s", "-j2", "-C", str(deploy.FIRMWARE_DIR), f"TARGET={board}",
           f"APP_DIR={_KERNEL_APP}", f"BUILD_DIR={out}", "EXTRA_CFLAGS=-DBNN_OPT_TEST_CASES=1"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise DeployError(f"kernel bench for {board} did not build:\n{done.stderr[-2000:]}")
    exe = out / ("app.elf" if b.runner == "qemu-system" else "app")
    run_cmd = deploy.qemu_command(b, exe) if b.runner == "qemu-system" else [str(exe)]
    proc = subprocess.run(run_cmd, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    return [json.loads(m) for m in _BENCH_LINE.findall(proc.stdout)]


def bench_mcu(*, boards: Sequence[str] = DEFAULT_BOARDS, model: str = "bnn_cnn_small",
              out_dir: str | os.PathLike = "bench-mcu", images: int = 8,
              variants: Sequence[str] = VARIANTS, kernels: bool = True,
              per_op: bool = True, weights: str | os.PathLike | None = "pretrained") -> McuBench:
    """Builds and runs every variant on every board (see the module docstring).

    Args:
        boards: QEMU board names (bnn_lq.deploy.BOARDS).
        model: Zoo model name (28x28x1, 10 classes).
        weights: See :func:`resolve_weights` (default: the committed trained model).
        out_dir: Gets ``cache/`` (the .tflite files), one build directory per board and
            variant, ``results.json``, ``table.md`` and ``plot.png``.
        images: Test images per run (instruction counts are averaged over them).
        variants: A subset of :data:`VARIANTS`.
        kernels: Also run the per-layer kernel bench.
        per_op: Build with -DBNN_PROFILE and collect the per-operator counts.

    Returns:
        An :class:`McuBench`; the files are written by :func:`write_report`.
    """
    from bnn_lq import deploy

    out = Path(out_dir).resolve()
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise BnnLqError(f"unknown variants {unknown}; expected a subset of {VARIANTS}")
    for board in boards:
        if board not in deploy.BOARDS or deploy.BOARDS[board].runner != "qemu-system":
            raise DeployError(f"--boards: {board!r} is not a QEMU board; choose from "
                              + ", ".join(n for n, b in deploy.BOARDS.items()
                                          if b.runner == "qemu-system"))
    weights_path = resolve_weights(model, weights)
    _log.info("weights: %s", weights_path or "untrained (initializer seed 0)")
    paths = convert_variants(model, out / "cache", images=images, weights=weights_path)
    tfl = {"binary-ref": paths["binary"], "binary-opt": paths["binary"],
           "int8": paths["int8"], "float": paths["float"]}
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    layers: dict[str, list[dict[str, Any]]] = {}
    ops: dict[str, dict[str, list[dict[str, Any]]]] = {}
    macs = op_macs(paths["binary"]) if per_op else {}
    for board in boards:
        runs[board] = {}
        ops[board] = {}
        for variant in variants:
            build_dir = out / board / variant
            try:
                deploy.build(tfl[variant], board=board, out_dir=build_dir,
                             testset=f"fashion_mnist:{images}", name=f"{model}_{variant}",
                             extra_cflags=(_CFLAGS[variant]
                                           + (" -DBNN_PROFILE" if per_op else "")).strip())
                res = deploy.run(build_dir, timeout=600)
                runs[board][variant] = res.to_dict()
                if per_op:
                    rows = parse_ops(res.output)
                    for row in rows:
                        row["macs"] = macs.get(row["op"], 0) if variant.startswith("binary") \
                            else 0
                    ops[board][variant] = rows
            except BnnLqError as exc:
                _log.warning("%s %s: %s", board, variant, str(exc).splitlines()[0])
                runs[board][variant] = {"error": str(exc).splitlines()[0]}
        if kernels:
            try:
                layers[board] = kernel_bench(board, out / board / "kernels")
            except (BnnLqError, subprocess.SubprocessError) as exc:
                layers[board] = []
                _log.warning("%s kernel bench: %s", board, exc)
    return McuBench(model=model, boards=list(boards), runs=runs, layers=layers,
                    tflite_bytes={k: p.stat().st_size for k, p in paths.items()}, ops=ops,
                    weights=str(weights_path.relative_to(_PRETRAINED.parent.parent))
                    if weights_path is not None and _PRETRAINED in weights_path.parents
                    else (str(weights_path) if weights_path is not None else "untrained"))


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _ratio(a: Any, b: Any) -> str:
    return f"{a / b:.2f}x" if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
        and b else "-"


def write_report(result: McuBench, out_dir: str | os.PathLike, *,
                 command: str = "bnn-lq bench mcu") -> dict[str, Path]:
    """Writes ``results.json``, ``table.md`` and ``plot.png`` (matplotlib, Agg) into
    ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "results.json", "table": out / "table.md", "plot": out / "plot.png"}
    files["json"].write_text(json.dumps(result.to_dict(), indent=2) + "\n")

    lines = [f"# `{result.model}` on Cortex-M (QEMU instruction counts)", "",
             f"Produced by `{command}`. Instructions per inference under "
             "`qemu-system-arm -icount shift=0`, averaged over the embedded test images.", "",
             "| board | variant | instructions | flash B | RAM B | arena B | weights B | "
             "stack B (measured) | agreement | vs binary-opt |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for board in result.boards:
        opt = result.runs[board].get("binary-opt", {}).get("per_inference")
        for variant, r in result.runs[board].items():
            if "error" in r:
                lines.append(f"| {board} | {variant} | {r['error']} | | | | | | | |")
                continue
            lines.append(
                f"| {board} | {variant} | {_fmt(r['per_inference'])} | {_fmt(r['flash_bytes'])} "
                f"| {_fmt(r['ram_bytes'])} | {_fmt(r['arena_bytes'])} | "
                f"{_fmt(r['weight_bytes'])} | {_fmt(r.get('stack_bytes'))} | "
                f"{r['agree']}/{r['images']} | "
                f"{_ratio(r['per_inference'], opt)} |")
    lines += ["", "Ratios per board (instructions):", "",
              "| board | ref / opt | int8 / binary-opt | float / binary-opt |",
              "|---|---:|---:|---:|"]
    for board in result.boards:
        g = {v: result.runs[board].get(v, {}).get("per_inference") for v in VARIANTS}
        lines.append(f"| {board} | {_ratio(g['binary-ref'], g['binary-opt'])} | "
                     f"{_ratio(g['int8'], g['binary-opt'])} | "
                     f"{_ratio(g['float'], g['binary-opt'])} |")
    for board, per_variant in result.ops.items():
        ref = {r["op"]: r for r in per_variant.get("binary-ref", [])}
        opt = per_variant.get("binary-opt", [])
        if not opt:
            continue
        lines += ["", f"Per operator on {board} (the real model, `-DBNN_PROFILE` hooks; "
                  "instructions per inference):", "",
                  "| op | kernel call | ref instr. | opt instr. | ref/opt | binary MACs | "
                  "MACs/instr. (opt) | share of opt |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
        total = sum(r["per_inference"] for r in opt) or 1
        for r in opt:
            rr = ref.get(r["op"], {}).get("per_inference")
            mpi = f"{r['macs'] / r['per_inference']:.2f}" if r["macs"] and r["per_inference"] \
                else "-"
            lines.append(f"| {r['op']} | {r['name']} | {_fmt(rr)} | {_fmt(r['per_inference'])} "
                         f"| {_ratio(rr, r['per_inference'])} | "
                         f"{_fmt(r['macs']) if r['macs'] else '-'} | {mpi} | "
                         f"{100.0 * r['per_inference'] / total:.1f}% |")
        lines += ["", "Operators without an optimized variant (SOFTMAX here) run the same "
                  "reference code in both builds."]
        for variant in ("int8", "float"):
            rows = per_variant.get(variant, [])
            if rows:
                top = sorted(rows, key=lambda r: -r["per_inference"])[:4]
                lines.append("")
                lines.append(f"{variant} on {board}, largest operators: " + ", ".join(
                    f"op {r['op']} {r['name']} {_fmt(r['per_inference'])}" for r in top))
    if any(result.layers.values()):
        lines += ["", "Binary layers alone (kernel bench, tests/firmware_opt/app; the "
                  "bnn_cnn_small shapes, random data):", "",
                  "| board | layer | ref instr. | opt instr. | ref/opt | binary MACs | "
                  "MACs/instr. (opt) |", "|---|---|---:|---:|---:|---:|---:|"]
        for board, rows in result.layers.items():
            for row in rows:
                macs = row.get("macs") or 0
                mpi = f"{macs / row['opt']:.2f}" if macs and row["opt"] else "-"
                lines.append(f"| {board} | {row['name']} | {_fmt(row['ref'])} | "
                             f"{_fmt(row['opt'])} | {_ratio(row['ref'], row['opt'])} | "
                             f"{_fmt(macs) if macs else '-'} | {mpi} |")
    lines += ["", f"Weights: {result.weights}. The optimized binary convolutions' counts depend "
              "on the activations (the bit-sliced kernels sum over the set or the clear input "
              "bits, whichever are fewer), the others only through data-dependent branches "
              "(output clamps, int8 rounding).", ""]
    files["table"].write_text("\n".join(lines))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2.2 + 2.2 * len(result.boards), 4.2))
    width = 0.8 / len(VARIANTS)
    for i, variant in enumerate(VARIANTS):
        values = [result.runs[b].get(variant, {}).get("per_inference") or 0
                  for b in result.boards]
        xs = [j + (i - (len(VARIANTS) - 1) / 2) * width for j in range(len(result.boards))]
        bars = ax.bar(xs, [v / 1e6 for v in values], width, label=variant)
        for bar, v in zip(bars, values):
            if v:
                ax.annotate(f"{v / 1e6:.1f}", (bar.get_x() + bar.get_width() / 2,
                                               bar.get_height()),
                            ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(result.boards)))
    ax.set_xticklabels(result.boards)
    ax.set_ylabel("million instructions per inference")
    ax.set_title(f"{result.model}: QEMU instruction counts (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(files["plot"], dpi=120)
    plt.close(fig)
    return files
