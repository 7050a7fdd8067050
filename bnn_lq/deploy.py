"""Deploy driver: build the accuracy-check firmware for a board, run it (QEMU, the
host, or qemu-user) and read back what the device computed, or flash it to a real
board with pyocd.

The firmware (``firmware/``: the C runtime, one target per board, and the
accuracy-check app) is built with ``make``; the model comes in as C from
:mod:`bnn_lq.convert.codegen` (``model.c``/``model.h``, and ``testset.c``/
``testset.h`` with N test images, their labels and the class LCE's interpreter
predicted for each). On the device, the app runs every image, and its last line
is machine readable::

    BNN RESULT {"model":"m","board":"netduinoplus2","images":256,"correct":231,...}

:func:`run` parses it into a :class:`DeviceResult`.

Instruction counts come from SysTick under ``qemu-system-arm -icount shift=0``
(1 instruction = 1 ns of virtual time), converted with the per-board calibration
in :data:`BOARDS` (``insns_per_tick``, measured by
``tests/firmware_targets/test_targets.py::test_systick_calibration``). On the
host and ARM Linux targets the unit is ns of wall time; on real boards (``io="uart"``
builds) core cycles.

Example:
    >>> from bnn_lq import deploy
    >>> deploy.BOARDS["netduinoplus2"].cpu, deploy.BOARDS["netduinoplus2"].ram_bytes
    ('cortex-m4', 131072)
    >>> sorted(deploy.BOARDS)[:3]
    ['aarch64-linux', 'armv7-linux', 'host']
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from bnn_lq.errors import DeployError, FlashOverflowError

__all__ = [
    "BOARDS", "Board", "BuildResult", "DeviceResult", "FIRMWARE_DIR", "build", "check_stack",
    "flash", "model_header", "parse_result", "qemu_command", "run", "write_testset",
]

_log = logging.getLogger(__name__)

#: The firmware tree (runtime, targets, app, Makefile). Override with BNN_LQ_FIRMWARE_DIR
#: (a normal, non-editable install does not ship it).
FIRMWARE_DIR = Path(os.environ.get("BNN_LQ_FIRMWARE_DIR",
                                   Path(__file__).resolve().parent.parent / "firmware"))

#: What a firmware build is made of (not build outputs that may sit under firmware/).
_FIRMWARE_SOURCES = ("Makefile", "runtime", "app", "app_batch", "targets")


def firmware_sources_digest() -> str:
    """sha256 over the firmware sources: changes exactly when a rebuild is needed."""
    from bnn_lq.stages import file_digest

    parts = [f"{name}:{file_digest(FIRMWARE_DIR / name)}" for name in _FIRMWARE_SOURCES
             if (FIRMWARE_DIR / name).exists()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


_RESULT_PREFIX = "BNN RESULT "
_MISMATCH = re.compile(r"^image (\d+): label (\d+), oracle (\d+), device (\d+)$")

# What the app, the port and the C library add on top of the model, measured with the
# stand-in model (tests/firmware_targets/standin): the whole image is 6.0-7.5 KB on the
# Cortex-M targets, of which ~0.3 KB is the stand-in's weights and test set. The pre-build
# check uses these as a floor; the linker has the last word.
_APP_FLASH_BYTES = 8 * 1024
_APP_RAM_BYTES = 256  # the app's and the port's static variables, without the stack


@dataclasses.dataclass(frozen=True)
class Board:
    """A board the firmware builds for.

    Attributes:
        name: Board name (``--board``), also the firmware target (firmware/targets/<name>).
        cpu: The core (-mcpu), or the host/Linux architecture.
        runner: "qemu-system" (qemu-system-arm), "host" (run directly) or "qemu-user".
        qemu: QEMU machine (-M) for qemu-system, the qemu-user binary for qemu-user.
        flash_bytes: Flash the linker script gives the image (0: not checked).
        ram_bytes: RAM the linker script gives .data + .bss + stack (0: not checked).
        stack_bytes: The stack reserve inside ram_bytes (link.ld BNN_STACK_SIZE).
        insns_per_tick: Instructions per SysTick tick under -icount shift=0 (1e9 /
            SysTick Hz), None where the unit is ns.
        calibration: How insns_per_tick was measured.
        memory: The memory layout the linker script uses, and why.
        pyocd_target: pyocd part number for `deploy flash`, None when pyocd cannot flash it.
        pyocd_note: What to know before flashing (packs, probes).
    """

    name: str
    cpu: str
    runner: str
    qemu: str | None
    flash_bytes: int
    ram_bytes: int
    stack_bytes: int
    insns_per_tick: float | None
    calibration: str
    memory: str
    pyocd_target: str | None = None
    pyocd_note: str = ""

    @property
    def unit(self) -> str:
        """Unit of per-inference counts under emulation: instructions or ns."""
        return "ns" if self.runner in ("host", "qemu-user") else "instructions"


_CALIB = ("measured with tests/firmware_targets/calib under QEMU 7.2 -icount shift=0: "
          "a loop of 60,000,000 instructions (subs/bne) took {ticks:,} SysTick ticks")
_KB = 1024

#: Every board, by name. Memory sizes are the real chips' (and match QEMU's memory map,
#: checked with `qemu-system-arm -M <machine> ... info mtree`).
BOARDS: dict[str, Board] = {b.name: b for b in [
    Board("host", "x86-64", "host", None, 0, 0, 0, None,
          "n/a: wall-clock ns of CLOCK_MONOTONIC", "the host process"),
    Board("aarch64-linux", "aarch64", "qemu-user", "qemu-aarch64-static", 0, 0, 0, None,
          "n/a: wall-clock ns of CLOCK_MONOTONIC under qemu-user (emulator speed)",
          "static Linux executable (aarch64-linux-gnu-gcc -static)"),
    Board("armv7-linux", "armv7-a", "qemu-user", "qemu-arm-static", 0, 0, 0, None,
          "n/a: wall-clock ns of CLOCK_MONOTONIC under qemu-user (emulator speed)",
          "static Linux executable (arm-linux-gnueabihf-gcc -static, hard float)"),
    Board("microbit", "cortex-m0", "qemu-system", "microbit", 256 * _KB, 16 * _KB, 2 * _KB,
          62.5, _CALIB.format(ticks=960_000) + " -> 62.5 (SysTick at 16 MHz)",
          "nRF51822: 256 KB flash at 0x0, 16 KB RAM at 0x20000000; stack 2 KB at the top",
          "nrf51822", "built into pyocd; the micro:bit's DAPLink interface is the probe"),
    Board("stm32vldiscovery", "cortex-m3", "qemu-system", "stm32vldiscovery", 128 * _KB,
          8 * _KB, 2048, 125 / 3,
          _CALIB.format(ticks=1_440_000) + " -> 41.667 (SysTick at 24 MHz)",
          "STM32F100RB: 128 KB flash at 0x08000000, 8 KB SRAM at 0x20000000; stack 2 KB",
          "stm32f100rb",
          "needs its CMSIS pack (`pyocd pack install stm32f100rb`, network); the board's "
          "on-board ST-LINK/V1 is not supported by pyocd: use an external ST-LINK/V2 or "
          "CMSIS-DAP probe on the SWD header"),
    Board("netduinoplus2", "cortex-m4", "qemu-system", "netduinoplus2", 1024 * _KB,
          128 * _KB, 8 * _KB, 125 / 21,
          _CALIB.format(ticks=10_080_000) + " -> 5.952 (SysTick at 168 MHz)",
          "STM32F405RG: 1 MB flash at 0x08000000; SRAM1+SRAM2 = 128 KB contiguous at "
          "0x20000000 for data, bss (arena) and an 8 KB stack. The chip's 64 KB CCM at "
          "0x10000000 is not used: QEMU 7.2 does not model it (it maps one 192 KB SRAM "
          "instead), so only memory that exists on both is used",
          "stm32f405rg",
          "needs its CMSIS pack (`pyocd pack install stm32f405rg`, network); connect an "
          "ST-LINK/V2 or CMSIS-DAP probe to the Netduino's SWD pads"),
    Board("mps2-an386", "cortex-m4", "qemu-system", "mps2-an386", 4096 * _KB, 4096 * _KB,
          16 * _KB, 40.0, _CALIB.format(ticks=1_500_000) + " -> 40 (SysTick at 25 MHz)",
          "MPS2 AN386: code in ZBT SSRAM1 (4 MB at 0x0), data in SSRAM2/3 (4 MB at "
          "0x20000000); stack 16 KB"),
    Board("mps2-an500", "cortex-m7", "qemu-system", "mps2-an500", 4096 * _KB, 4096 * _KB,
          16 * _KB, 40.0, _CALIB.format(ticks=1_500_000) + " -> 40 (SysTick at 25 MHz)",
          "MPS2 AN500: code in SSRAM1 (4 MB at 0x0), data in SSRAM2/3 (4 MB at "
          "0x20000000); stack 16 KB"),
    Board("mps2-an505", "cortex-m33", "qemu-system", "mps2-an505", 4096 * _KB, 4096 * _KB,
          16 * _KB, 50.0, _CALIB.format(ticks=1_200_000) + " -> 50 (SysTick at 20 MHz)",
          "MPS2 AN505 (IoTKit): runs Secure, no TrustZone setup: code in the Secure alias "
          "of SSRAM1 (4 MB at 0x10000000, the boot vector table address), data in the "
          "Secure alias of SSRAM2/3 (4 MB at 0x38000000); stack 16 KB"),
    Board("mps3-an547", "cortex-m55", "qemu-system", "mps3-an547", 512 * _KB, 512 * _KB,
          16 * _KB, 31.25, _CALIB.format(ticks=1_920_000) + " -> 31.25 (SysTick at 32 MHz)",
          "MPS3 AN547 (SSE-300): runs Secure: code in ITCM (512 KB at 0x10000000), data "
          "in DTCM (512 KB at 0x30000000); stack 16 KB; FPU and MVE enabled at reset"),
]}


@dataclasses.dataclass(frozen=True)
class BuildResult:
    """What :func:`build` produced.

    Attributes:
        out_dir: The build directory (pass it to :func:`run` / :func:`flash`).
        board: Board name.
        executable: app.elf (Cortex-M) or app (host, Linux).
        model_dir: The model.c/model.h (+ testset) that were compiled.
        text_bytes, data_bytes, bss_bytes: From `size` on the executable.
        images: Test images embedded (0 without a test set).
    """

    out_dir: Path
    board: str
    executable: Path
    model_dir: Path
    text_bytes: int
    data_bytes: int
    bss_bytes: int
    images: int


@dataclasses.dataclass(frozen=True)
class DeviceResult:
    """What the device reported (the BNN RESULT line), plus the images where it
    disagreed with the oracle and the full output.

    Attributes:
        model, board: Names reported by the firmware.
        images: Test images run.
        correct: Images the device classified as labelled.
        agree: Images where the device's class equals the oracle's (LCE).
        oracle_correct: Images the oracle classified as labelled.
        accuracy, agreement: correct / images and agree / images.
        per_inference: Average cost of one bnn_model_invoke, in ``unit``.
        unit: "instructions" (QEMU), "cycles" (real board) or "ns" (host, Linux).
        flash_bytes: text + rodata + .data load image.
        ram_bytes: .data + .bss + stack reserve.
        stack_bytes: Deepest stack use (painted at reset), None where not measured.
        arena_bytes, weight_bytes: From model.h.
        mismatches: (image, label, oracle, device) for every disagreement.
        output: Everything the device printed.
    """

    model: str
    board: str
    images: int
    correct: int
    agree: int
    oracle_correct: int
    accuracy: float
    agreement: float
    per_inference: int
    unit: str
    flash_bytes: int
    ram_bytes: int
    stack_bytes: int | None
    arena_bytes: int
    weight_bytes: int
    mismatches: tuple[tuple[int, int, int, int], ...] = ()
    output: str = dataclasses.field(default="", repr=False)

    @property
    def matches_oracle(self) -> bool:
        """True when every image agrees with the oracle and the accuracies are equal."""
        return self.agree == self.images and self.correct == self.oracle_correct

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("output")
        d["mismatches"] = [list(m) for m in self.mismatches]
        d["matches_oracle"] = self.matches_oracle
        return d


# ---------------------------------------------------------------- helpers


def _board(name: str) -> Board:
    try:
        return BOARDS[name]
    except KeyError:
        raise DeployError(f"unknown board {name!r}; known boards: "
                          f"{', '.join(sorted(BOARDS))}") from None


def model_header(model_dir: str | os.PathLike) -> dict[str, int | str]:
    """The ``#define BNN_MODEL_*`` (and ``BNN_TESTSET_COUNT``) values of a generated
    model directory, e.g. ``{"ARENA_BYTES": 5120, "NAME": "mlp", "TESTSET_COUNT": 256}``.

    Raises:
        DeployError: model.h is missing or lacks a required define.
    """
    model_dir = Path(model_dir)
    header = model_dir / "model.h"
    if not header.is_file():
        raise DeployError(f"{model_dir}: no model.h; expected a directory written by "
                          "bnn_lq.convert.codegen (model.c, model.h[, testset.c, testset.h]) "
                          "or a .tflite file")
    values: dict[str, int | str] = {}
    files = [header] + ([model_dir / "testset.h"] if (model_dir / "testset.h").is_file() else [])
    for path in files:
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+BNN_(MODEL_\w+|TESTSET_COUNT)[ \t]+(.+?)[ \t]*(?:/[*/].*)?$",
                             path.read_text(), flags=re.M):
            key, raw = m.group(1).removeprefix("MODEL_"), m.group(2).strip()
            if raw.startswith('"'):
                values[key] = raw.strip('"')
                continue
            values[key] = _c_integer(raw)
    required = ("NAME", "INPUT_BYTES", "OUTPUT_BYTES", "NUM_CLASSES", "ARENA_BYTES",
                "WEIGHT_BYTES")
    missing = [k for k in required if k not in values]
    if missing:
        raise DeployError(f"{header}: missing #define BNN_MODEL_{', BNN_MODEL_'.join(missing)}; "
                          "regenerate it with bnn_lq.convert.codegen")
    return values


def _c_integer(text: str) -> int | str:
    """The value of a C integer constant expression such as ``1234u`` or ``(16u * 4u)``;
    the text itself when it is something else."""
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", text)
    if not re.fullmatch(r"[0-9a-fA-FxX+\-*/() ]+", expr):
        return text
    try:
        value = eval(expr.replace("/", "//"), {"__builtins__": {}}, {})  # noqa: S307 - checked above
    except (SyntaxError, ZeroDivisionError, NameError, TypeError):
        return text
    return int(value) if isinstance(value, int) else text


def _check_fit(board: Board, header: dict, biggest: Sequence[tuple[str, int]] = ()) -> None:
    """Flash and RAM needed by the model (from model.h) vs what the board has."""
    if board.flash_bytes == 0:
        return
    images = int(header.get("TESTSET_COUNT", 0))
    testset = images * (int(header["INPUT_BYTES"]) + 2)
    flash_needed = int(header["WEIGHT_BYTES"]) + testset + _APP_FLASH_BYTES
    ram_needed = (int(header["ARENA_BYTES"]) + int(header["OUTPUT_BYTES"]) + _APP_RAM_BYTES
                  + board.stack_bytes)
    problems = []
    flash_only = flash_needed > board.flash_bytes and ram_needed <= board.ram_bytes
    if flash_needed > board.flash_bytes:
        problems.append(
            f"flash: needs at least {flash_needed:,} B (weights {int(header['WEIGHT_BYTES']):,} B"
            f" + test set {testset:,} B ({images} images) + app ~{_APP_FLASH_BYTES:,} B), "
            f"{board.name} has {board.flash_bytes:,} B")
    if ram_needed > board.ram_bytes:
        problems.append(
            f"RAM: needs at least {ram_needed:,} B (arena {int(header['ARENA_BYTES']):,} B + "
            f"output {int(header['OUTPUT_BYTES'])} B + stack {board.stack_bytes:,} B + app "
            f"~{_APP_RAM_BYTES} B), {board.name} has {board.ram_bytes:,} B")
    if problems:
        tensors = ""
        if biggest:
            tensors = "; biggest tensors: " + ", ".join(f"{n} {b:,} B" for n, b in biggest)
        raise (FlashOverflowError if flash_only else DeployError)(
            f"model {header.get('NAME')!r} does not fit on {board.name}: "
            + "; ".join(problems) + tensors
            + ". Use a smaller model (fewer filters, binary layers bit-packed), fewer test "
            "images (--testset NAME:N), or a bigger board.")


def write_testset(out_dir: str | os.PathLike, images: np.ndarray, labels: np.ndarray,
                  oracle: np.ndarray) -> dict[str, str]:
    """testset.c / testset.h text for images already in the model's input dtype
    (float32 or int8), in the interface of the accuracy-check app. Returns
    ``{"testset.h": ..., "testset.c": ...}`` and writes them into ``out_dir``.

    Used when a model directory comes without a test set; models generated from a
    .tflite get theirs from bnn_lq.convert.codegen.
    """
    images = np.ascontiguousarray(images)
    if images.dtype not in (np.float32, np.int8):
        raise TypeError(f"images must be float32 or int8 (the model's input dtype), got "
                        f"{images.dtype}")
    n = len(images)
    labels = np.asarray(labels).reshape(-1)
    oracle = np.asarray(oracle).reshape(-1)
    if len(labels) != n or len(oracle) != n:
        raise ValueError(f"{n} images but {len(labels)} labels and {len(oracle)} oracle "
                         "predictions; expected one of each per image")
    raw = images.astype(images.dtype.newbyteorder("<")).reshape(n, -1).view(np.uint8)
    rows = ",\n".join("    {" + ", ".join(f"0x{v:02x}" for v in row) + "}" for row in raw)
    header = ("/* Test set written by bnn_lq.deploy.write_testset: "
              f"{n} images, {raw.shape[1]} bytes each. */\n")
    files = {
        "testset.h": header + f"""#ifndef BNN_TESTSET_H
#define BNN_TESTSET_H

#include "model.h"

#define BNN_TESTSET_COUNT {n}u

extern const unsigned char bnn_testset_images[BNN_TESTSET_COUNT][BNN_MODEL_INPUT_BYTES];
extern const unsigned char bnn_testset_labels[BNN_TESTSET_COUNT];
extern const unsigned char bnn_testset_oracle[BNN_TESTSET_COUNT];

#endif
""",
        "testset.c": header + f"""#include "testset.h"

__attribute__((aligned(4))) const unsigned char bnn_testset_images[BNN_TESTSET_COUNT][BNN_MODEL_INPUT_BYTES] = {{
{rows}
}};
const unsigned char bnn_testset_labels[BNN_TESTSET_COUNT] = {{ {", ".join(str(int(v)) for v in labels)} }};
const unsigned char bnn_testset_oracle[BNN_TESTSET_COUNT] = {{ {", ".join(str(int(v)) for v in oracle)} }};
""",
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
    return files


# ------------------------------------------------------- test set and codegen adapters


def _quantize_like_tflite(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float -> int8 as TFLite's QUANTIZE does: round half away from zero, clamp."""
    v = x.astype(np.float32) / np.float32(scale)
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def _testset_from_spec(spec: str, tflite: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """"fashion_mnist:256" -> (images in the model's input dtype, labels, LCE's classes)."""
    from bnn_lq import data

    name, _, count = spec.partition(":")
    try:
        limit = int(count) if count else None
    except ValueError:
        raise DeployError(f"--testset {spec!r}: expected NAME or NAME:COUNT, e.g. "
                          "fashion_mnist:256") from None
    x, y = data.load(name, "test", limit=limit)
    _log.info("test set: %d images of %s; computing the oracle with LCE's interpreter",
              len(x), name)
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    lce = Interpreter(tflite)
    want = tuple(lce.input_shapes[0][1:])
    if tuple(x.shape[1:]) != want:
        raise DeployError(f"--testset {spec!r}: images are {tuple(x.shape[1:])}, the model "
                          f"expects {want}; pick the data set the model was trained on")
    if np.dtype(lce.input_types[0]) == np.int8:
        scale = lce.input_scales[0]
        zero = lce.input_zero_points[0]
        x = _quantize_like_tflite(x, float(np.asarray(scale).reshape(-1)[0]),
                                  int(np.asarray(zero).reshape(-1)[0]))
    else:
        x = x.astype(np.float32)
    scores = np.asarray(lce.predict(x))
    oracle = scores.reshape(len(x), -1).argmax(axis=1)
    return x, np.asarray(y).astype(np.uint8), oracle.astype(np.uint8)


def _emit_model(tflite_path: Path, *, name: str,
                testset: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                ) -> tuple[dict[str, str], list[tuple[str, int]]]:
    """bnn_lq.convert.codegen.emit through a small adapter: returns the generated
    files (path -> text) and the biggest arena tensors (for the fit check's message)."""
    try:
        from bnn_lq.convert import codegen
        from bnn_lq.convert import plan as plan_mod
        from bnn_lq.convert import read
    except ImportError as exc:
        raise DeployError(
            f"{tflite_path}: cannot generate C: bnn_lq.convert.codegen is not available "
            f"({exc}). Pass a directory with model.c/model.h instead.") from exc
    graph = read(tflite_path)
    the_plan = plan_mod.plan(graph, steps=codegen.lower(graph))
    kwargs: dict[str, Any] = {"name": name, "plan": the_plan}
    if testset is not None:
        kwargs["testset"] = testset
    files = codegen.emit(graph, **kwargs)
    _log.info("plan: %s", the_plan.summary().replace("\n", "; "))
    return {str(k): v for k, v in files.items()}, list(the_plan.biggest_tensors)


# ------------------------------------------------------------------------ build


def _stream(cmd: Sequence[str], *, cwd: Path | None = None, timeout: float | None = None,
            on_line: Callable[[str], bool] | None = None,
            log_level: int = logging.INFO) -> tuple[int | None, list[str], bool]:
    """Runs ``cmd``, logging each output line as it comes (progress), and returns
    (exit code or None if stopped, all lines, timed_out). ``on_line`` returning True
    stops the process (used for UART runs, which never exit)."""
    _log.debug("running: %s", " ".join(map(str, cmd)))
    try:
        proc = subprocess.Popen(list(map(str, cmd)), cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, errors="replace", bufsize=1)
    except FileNotFoundError as exc:
        raise DeployError(f"cannot run {cmd[0]!r}: {exc.strerror}. Install it (Debian: "
                          f"{_DEBIAN_PACKAGE.get(Path(str(cmd[0])).name, 'see the README')}) "
                          "or put it on PATH.") from exc
    lines: list[str] = []
    q: queue.Queue[str | None] = queue.Queue()

    def reader():
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put(line.rstrip("\n"))
        q.put(None)

    threading.Thread(target=reader, daemon=True).start()
    deadline = None if timeout is None else time.monotonic() + timeout
    stopped = timed_out = False
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            line = q.get(timeout=wait)
        except queue.Empty:
            timed_out = True
            break
        if line is None:
            break
        lines.append(line)
        _log.log(log_level, "%s", line)
        if on_line is not None and on_line(line):
            stopped = True
            break
    if timed_out or stopped:
        proc.kill()
        proc.wait()
        return None, lines, timed_out
    return proc.wait(), lines, False


_DEBIAN_PACKAGE = {
    "make": "make", "gcc": "gcc", "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu", "arm-linux-gnueabihf-gcc":
    "gcc-arm-linux-gnueabihf", "qemu-system-arm": "qemu-system-arm",
    "qemu-aarch64-static": "qemu-user-static", "qemu-arm-static": "qemu-user-static",
}


def _tail(lines: Sequence[str], n: int = 25) -> str:
    return "\n".join(f"  | {line}" for line in list(lines)[-n:])


def build(model: str | os.PathLike, *, board: str, out_dir: str | os.PathLike,
          testset: str | tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
          name: str | None = None, io: str = "semihost", extra_cflags: str = "",
          jobs: int = 2, check_fit: bool = True, runtime: bool = True) -> BuildResult:
    """Builds the accuracy-check firmware for ``board``.

    Args:
        model: A .tflite file (C is generated with bnn_lq.convert.codegen) or a
            directory with model.c/model.h (and optionally testset.c/testset.h).
        board: A name from :data:`BOARDS`.
        out_dir: Build directory; gets ``model/`` (the C model), ``app.elf`` or ``app``,
            ``app.map`` and ``deploy.json`` (what :func:`run` needs).
        testset: ``"fashion_mnist:256"`` (images and labels from bnn_lq.data, test
            split; the oracle from LCE's interpreter; needs a .tflite), or
            ``(images, labels, oracle)`` arrays with images in the model's input dtype.
        name: Model name for the generated C (default: the file stem).
        io: "semihost" (QEMU) or "uart" (real boards; untested on hardware).
        extra_cflags: Appended to the compiler flags (e.g. a kernel selection define).
        jobs: Parallel compile jobs.
        check_fit: Check flash and RAM against the board before building.
        runtime: Compile firmware/runtime (False only for self-contained models such
            as the test stand-in).

    Returns:
        A :class:`BuildResult`.

    Raises:
        DeployError: unknown board, the model does not fit (needed vs available), or the
            build failed (with the tail of the compiler output).
    """
    b = _board(board)
    if io not in ("semihost", "uart"):
        raise DeployError(f"io={io!r}: expected 'semihost' (QEMU) or 'uart' (real boards)")
    if io == "uart" and b.runner != "qemu-system":
        raise DeployError(f"io='uart' is for Cortex-M boards; {board} writes to stdout")
    model = Path(model)
    out = Path(out_dir).resolve()
    model_dir = out / "model"
    biggest: list[tuple[str, int]] = []
    if model.is_dir():
        if model.resolve() != model_dir:
            if model_dir.exists():
                shutil.rmtree(model_dir)
            shutil.copytree(model, model_dir)
        if testset is not None:
            if isinstance(testset, str):
                raise DeployError(f"--testset {testset!r} needs a .tflite model (the oracle "
                                  f"comes from LCE's interpreter); {model} is a C model "
                                  "directory: embed the test set when generating it")
            write_testset(model_dir, *testset)
    elif model.suffix == ".tflite" and model.is_file():
        data = None
        if isinstance(testset, str):
            data = _testset_from_spec(testset, model.read_bytes())
        elif testset is not None:
            data = testset
        _log.info("generating C for %s", model)
        files, biggest = _emit_model(model, name=name or model.stem, testset=data)
        if model_dir.exists():
            shutil.rmtree(model_dir)
        model_dir.mkdir(parents=True)
        for rel, text in files.items():
            path = model_dir / Path(rel).name
            path.write_text(text)
        if data is not None and not (model_dir / "testset.h").exists():
            write_testset(model_dir, *data)
    else:
        raise DeployError(f"{model}: expected a .tflite file or a directory with model.c/"
                          "model.h; it is neither (does it exist?)")

    header = model_header(model_dir)
    if check_fit:
        _check_fit(b, header, biggest)

    make = shutil.which("make")
    if make is None:
        raise DeployError("cannot build: `make` is not installed (Debian: apt-get install make)")
    cmd = [make, "-C", str(FIRMWARE_DIR), f"-j{max(1, jobs)}", f"TARGET={b.name}",
           f"MODEL_DIR={model_dir}", f"BUILD_DIR={out}", f"IO={io}",
           f"WITH_RUNTIME={int(runtime)}"]
    if extra_cflags:
        cmd.append(f"EXTRA_CFLAGS={extra_cflags}")
    _log.info("building %s for %s (%s) in %s", header["NAME"], b.name, b.cpu, out)
    code, lines, _ = _stream(cmd)
    if code != 0:
        text = "\n".join(lines)
        hint = ""
        m = re.search(r"region `(\w+)' overflowed by (\d+) bytes", text)
        if m:
            hint = (f" The linker says region {m.group(1)} overflowed by {int(m.group(2)):,} B "
                    f"({b.name}: flash {b.flash_bytes:,} B, RAM {b.ram_bytes:,} B).")
        elif "do not fit in RAM" in text:
            hint = f" .data + .bss + stack exceed {b.name}'s {b.ram_bytes:,} B of RAM."
        cls = FlashOverflowError if m and m.group(1) == "FLASH" else DeployError
        raise cls(f"building {header['NAME']} for {b.name} failed (make exit {code})."
                  f"{hint}\n{_tail(lines)}")
    executable = out / ("app.elf" if b.runner == "qemu-system" else "app")
    sizes = _parse_size(lines)
    result = BuildResult(out, b.name, executable, model_dir, *sizes,
                         images=int(header.get("TESTSET_COUNT", 0)))
    (out / "deploy.json").write_text(json.dumps({
        "board": b.name, "io": io, "executable": executable.name, "model": header["NAME"],
        "images": result.images, "text_bytes": result.text_bytes,
        "data_bytes": result.data_bytes, "bss_bytes": result.bss_bytes}, indent=2) + "\n")
    return result


def _parse_size(lines: Sequence[str]) -> tuple[int, int, int]:
    for i, line in enumerate(lines):
        if line.split()[:3] == ["text", "data", "bss"] and i + 1 < len(lines):
            parts = lines[i + 1].split()
            return int(parts[0]), int(parts[1]), int(parts[2])
    return 0, 0, 0


# -------------------------------------------------------------------------- run


def _build_info(build_dir: Path) -> dict:
    path = build_dir / "deploy.json"
    if not path.is_file():
        raise DeployError(f"{build_dir}: no deploy.json; build it first with "
                          "`bnn-lq deploy build MODEL --board BOARD -o DIR`")
    return json.loads(path.read_text())


def _run_command(board: Board, executable: Path, io: str) -> list[str]:
    if board.runner == "host":
        return [str(executable)]
    if board.runner == "qemu-user":
        return [str(board.qemu), str(executable)]
    return qemu_command(board, executable, io=io)


def qemu_command(board: Board, executable: str | os.PathLike, *, io: str = "semihost") -> list[str]:
    """The qemu-system-arm command line that runs ``executable`` on ``board``: every
    instruction 1 ns of virtual time (-icount shift=0), the firmware's output on stdout
    (semihosting through an explicit stdio chardev: without one QEMU 7.2 writes
    semihosting output to stderr; or the board's first UART for io="uart")."""
    if board.qemu is None or board.runner != "qemu-system":
        raise DeployError(f"{board.name} is not a QEMU board")
    cmd = ["qemu-system-arm", "-M", board.qemu, "-icount", "shift=0", "-display", "none",
           "-monitor", "none"]
    if io == "uart":
        cmd += ["-serial", "stdio"]
    else:
        cmd += ["-chardev", "stdio,id=bnnout,mux=off",
                "-semihosting-config", "enable=on,target=native,chardev=bnnout",
                "-serial", "null"]
    return cmd + ["-kernel", os.fspath(executable)]


def parse_result(output: str) -> DeviceResult:
    """The :class:`DeviceResult` in the firmware's output (its last BNN RESULT line).

    Raises:
        DeployError: no BNN RESULT line, or one that is not valid JSON.
    """
    lines = output.splitlines()
    result_lines = [line for line in lines if line.startswith(_RESULT_PREFIX)]
    if not result_lines:
        raise DeployError("the firmware printed no BNN RESULT line; its output ends with:\n"
                          + _tail(lines))
    try:
        d = json.loads(result_lines[-1][len(_RESULT_PREFIX):])
    except json.JSONDecodeError as exc:
        raise DeployError(f"malformed BNN RESULT line ({exc}): {result_lines[-1]!r}") from exc
    mismatches = tuple(tuple(int(g) for g in m.groups())
                       for m in map(_MISMATCH.match, lines) if m)
    fields = {f.name for f in dataclasses.fields(DeviceResult)}
    known = {k: v for k, v in d.items() if k in fields}
    try:
        return DeviceResult(**known, mismatches=mismatches, output=output)  # type: ignore[arg-type]
    except TypeError as exc:
        raise DeployError(f"BNN RESULT line lacks a field ({exc}): {result_lines[-1]!r}") from exc


def run(build_dir: str | os.PathLike, *, timeout: float = 300.0) -> DeviceResult:
    """Runs a build from :func:`build` on QEMU, the host or qemu-user, showing the
    device's output as it comes (logging, INFO), and returns what it reported.

    Args:
        build_dir: The ``out_dir`` of :func:`build`.
        timeout: Seconds before the run is stopped.

    Raises:
        DeployError: the run timed out, exited non-zero, or printed no result (the
            message has the tail of the output).
    """
    build_dir = Path(build_dir).resolve()
    info = _build_info(build_dir)
    b = _board(info["board"])
    io = info.get("io", "semihost")
    executable = build_dir / info["executable"]
    if not executable.is_file():
        raise DeployError(f"{executable} is missing; rebuild with `bnn-lq deploy build`")
    cmd = _run_command(b, executable, io)
    _log.info("running %s on %s: %s", info.get("model"), b.name, " ".join(cmd))
    start = time.monotonic()
    stop = (lambda line: line.startswith(_RESULT_PREFIX)) if io == "uart" else None
    code, lines, timed_out = _stream(cmd, timeout=timeout, on_line=stop)
    elapsed = time.monotonic() - start
    if timed_out:
        raise DeployError(f"{b.name}: no result after {timeout:.0f} s (stopped). Output so "
                          f"far:\n{_tail(lines)}\nRaise the timeout for big models or many "
                          "test images.")
    if code not in (0, None):
        raise DeployError(f"{b.name}: `{' '.join(cmd)}` exited with {code}.\n{_tail(lines)}")
    result = parse_result("\n".join(lines))
    check_stack(result, b)
    _log.info("%s on %s: accuracy %.4f (LCE %.4f), agreement %d/%d, %d %s per inference "
              "(%.1f s)", result.model, result.board, result.accuracy,
              result.oracle_correct / max(1, result.images), result.agree, result.images,
              result.per_inference, result.unit, elapsed)
    return result


def check_stack(result: DeviceResult, board: Board) -> None:
    """Raises DeployError when the painted stack was used up to its limit: the deepest use
    then equals the whole reserve, and the run wrote below it (into .bss, the arena), so its
    results cannot be trusted even when they look right."""
    reserve = board.stack_bytes
    if result.stack_bytes is not None and reserve and result.stack_bytes >= reserve:
        raise DeployError(
            f"{board.name}: stack overflow: the run used all {reserve:,} B of the stack reserve "
            "(link.ld BNN_STACK_SIZE) and wrote below it, so its output is not trustworthy. "
            "Use a board with more RAM, or turn off the kernels with big stack frames in the "
            "board's target.mk (BOARD_CFLAGS, e.g. -DBNN_OPT_BSLICE=0).")


# ------------------------------------------------------------------------ flash


def _pyocd() -> list[str]:
    exe = shutil.which("pyocd") or shutil.which("pyocd", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "pyocd"]


def flash(build_dir: str | os.PathLike, *, probe: str = "pyocd", uid: str | None = None,
          target: str | None = None, timeout: float = 300.0) -> None:
    """Flashes a :func:`build` output to a real board with pyocd.

    Runs ``pyocd flash --target <part> --no-wait [--uid UID] app.elf``. Build with
    ``io="uart"`` to see the result on the board's UART (semihosting needs a
    debugger attached).

    Args:
        build_dir: The ``out_dir`` of :func:`build`.
        probe: Only "pyocd" is supported.
        uid: Probe unique ID (``pyocd list``) when several are attached.
        target: pyocd part number overriding the board's.

    Raises:
        DeployError: the board has no pyocd part, or pyocd failed (its own message,
            e.g. "No connected debug probes", plus what to check).
    """
    if probe != "pyocd":
        raise DeployError(f"probe {probe!r} is not supported; use --probe pyocd")
    build_dir = Path(build_dir).resolve()
    info = _build_info(build_dir)
    b = _board(info["board"])
    part = target or b.pyocd_target
    if part is None:
        raise DeployError(f"{b.name} is {'emulated only' if b.runner == 'qemu-system' else 'not a microcontroller'}"
                          ": there is no pyocd part to flash. Run it with `bnn-lq deploy run "
                          f"{build_dir}`, or pass --target PART for your own board.")
    if info.get("io", "semihost") != "uart":
        _log.warning("this build writes through semihosting, which on a real board needs a "
                     "debugger attached; rebuild with --io uart to read the result on a UART")
    cmd = _pyocd() + ["flash", "--target", part, "--no-wait"]
    if uid:
        cmd += ["--uid", uid]
    cmd.append(str(build_dir / info["executable"]))
    _log.info("flashing %s: %s", b.name, " ".join(cmd))
    code, lines, timed_out = _stream(cmd, timeout=timeout)
    if timed_out or code != 0:
        text = "\n".join(lines)
        checks = [
            "the board is powered and connected by USB through its debug probe "
            "(DAPLink / ST-LINK/V2 / J-Link), and `pyocd list` shows it",
            "on Linux, the probe's udev rules are installed (pyocd docs: 'udev rules')",
        ]
        if b.pyocd_note:
            checks.append(b.pyocd_note)
        if "No connected debug probes" not in text and "pack" in text.lower():
            checks.append(f"the part's pack is installed: `pyocd pack install {part}`")
        raise DeployError(
            f"pyocd could not flash {b.name} (part {part}; exit {code}"
            f"{', timed out' if timed_out else ''}). pyocd said:\n{_tail(lines)}\nCheck that: "
            + "; ".join(checks) + ".")
    _log.info("flashed %s; the result appears on the board's UART (115200 8N1)", b.name)
