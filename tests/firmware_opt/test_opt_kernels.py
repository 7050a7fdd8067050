"""Optimized kernels (firmware/runtime/kernels/opt/) bit-exact with their references.

One C program (tests/firmware_opt/app/main.c) draws random parameter sets per op (the
awkward channel counts, 1x1 inputs, strides, dilations, groups, SAME / VALID, one and zero
padding, float / int8 / packed outputs, int8 rounding ties, special floats; for the fused
conv2d_pool_quantize: LceBconv2d / float / +-scale sources, stages, max-pool, binary pool,
per-pixel or flattened packing; int8 CONV_2D / FULLY_CONNECTED with offsets, groups,
per-channel requantization, clamps and both rounding modes), runs _opt and
_ref on the same inputs and compares whole output buffers byte for byte. The same source
builds for the host (fast) and, marked ``target``, for the Cortex-M0 (microbit), M4
(netduinoplus2) and M55 (mps3-an547) under QEMU.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bnn_lq import deploy

APP = Path(__file__).resolve().parent / "app"
_RESULT = re.compile(r"BNN TESTS: (\d+)/(\d+) (PASS|FAIL)")


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def _build(target: str, out: Path, cflags: str = "") -> Path:
    cmd = ["make", "-s", "-j2", "-C", str(deploy.FIRMWARE_DIR), f"TARGET={target}",
           f"APP_DIR={APP}", f"BUILD_DIR={out}"]
    if cflags:
        cmd.append(f"EXTRA_CFLAGS={cflags}")
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return out / ("app.elf" if deploy.BOARDS[target].runner == "qemu-system" else "app")


def _check(output: str) -> int:
    m = _RESULT.search(output)
    assert m, output[-2000:]
    passed, run, verdict = int(m.group(1)), int(m.group(2)), m.group(3)
    assert verdict == "PASS" and passed == run and run > 0, output[-3000:]
    return run


@pytest.mark.parametrize("seed", [1, 2])
def test_host_opt_equals_ref(tmp_path, seed):
    """1500 random cases per op (6 ops) and seed on the host build (about a second)."""
    _need("gcc", "make")
    exe = _build("host", tmp_path, f"-DBNN_OPT_TEST_SEED={seed} -DBNN_OPT_TEST_CASES=1500 "
                                   "-DBNN_OPT_BENCH=0")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert _check(out.stdout) == 9000


def test_host_no_fpu_paths(tmp_path):
    """The fused kernel's paths for cores without an FPU (sign-mask accumulators, no
    accumulator pooling for LceBconv2d), forced on the host build: 1500 cases per op."""
    _need("gcc", "make")
    exe = _build("host", tmp_path, "-DBNN_OPT_TEST_SEED=3 -DBNN_OPT_TEST_CASES=1500 "
                                   "-DBNN_OPT_BENCH=0 -DBNN_FUSED_OPT_SMALL_STACK=1")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert _check(out.stdout) == 9000


def test_host_without_bit_slicing(tmp_path):
    """The host build takes the bit-sliced convolutions (as the Thumb-2 cores do); this one
    turns them off, so the dot-product paths the M0 and the M55 run are checked on the host
    too: 1500 cases per op."""
    _need("gcc", "make")
    exe = _build("host", tmp_path, "-DBNN_OPT_TEST_SEED=4 -DBNN_OPT_TEST_CASES=1500 "
                                   "-DBNN_OPT_BENCH=0 -DBNN_OPT_BSLICE=0")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert _check(out.stdout) == 9000


def test_host_reference_only_build(tmp_path):
    """-DBNN_KERNELS=BNN_KERNELS_REF builds warning-free and the dispatchers stay exact."""
    _need("gcc", "make")
    exe = _build("host", tmp_path, "-DBNN_KERNELS=BNN_KERNELS_REF -DBNN_OPT_TEST_CASES=200 "
                                   "-DBNN_OPT_BENCH=0")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    _check(out.stdout)


@pytest.mark.target
@pytest.mark.parametrize("board", ["microbit", "netduinoplus2", "mps3-an547"])
def test_target_opt_equals_ref(tmp_path, board):
    """120 random cases per op on each instruction set under QEMU (M0 buffers are smaller)."""
    _need("arm-none-eabi-gcc", "qemu-system-arm", "make")
    elf = _build(board, tmp_path, "-DBNN_OPT_BENCH=0")
    proc = subprocess.run(deploy.qemu_command(deploy.BOARDS[board], elf), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _check(proc.stdout) == 720


@pytest.mark.parametrize("small_stack", [0, 1])
def test_host_fused_edge_cases(tmp_path, small_stack):
    """Hand-built chains where a clamp hid an infinite bound (found in review): NaN
    accumulators, MUL by +inf or 0 after an overflow, a +-inf scale, an LceBconv2d clamp
    outside [0, 2K]. The optimized fused kernel must give the reference's bits, with the
    FPU paths and with the paths of cores without an FPU."""
    _need("gcc")
    rt = deploy.FIRMWARE_DIR / "runtime"
    edge = Path(__file__).resolve().parent / "edge"
    exe = tmp_path / "edge"
    srcs = [edge / "edge_cases.c", edge / "port_stderr.c",
            rt / "kernels" / "ref" / "bnn_conv2d_pool_quantize_ref.c",
            rt / "kernels" / "opt" / "bnn_conv2d_pool_quantize_opt.c",
            rt / "kernels" / "opt" / "bnn_bdot_opt.c", rt / "kernels" / "opt" / "bnn_bslice_opt.c",
            *sorted((rt / "src").glob("*.c"))]
    cmd = ["gcc", "-std=c99", "-O2", "-ffp-contract=off", f"-DBNN_FUSED_OPT_SMALL_STACK={small_stack}",
           f"-I{rt / 'include'}", f"-I{rt / 'src'}", "-o", str(exe), *map(str, srcs), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60).stdout
    assert "0 case(s) differ" in out and "DIFFERENT" not in out, out


def test_host_bslice_primitive(tmp_path):
    """bnn_bslice_ge against a plain popcount compare on 20,000 random blocks (kw 1..18, 1..32
    filters, bounds anywhere in int32, inputs random / sparse / dense / all 0 / all 1), with
    the portable sum loop of the host build."""
    _need("gcc")
    rt = deploy.FIRMWARE_DIR / "runtime"
    exe = tmp_path / "bslice"
    srcs = [Path(__file__).resolve().parent / "bslice" / "bslice_check.c",
            rt / "kernels" / "opt" / "bnn_bslice_opt.c", rt / "kernels" / "opt" / "bnn_bdot_opt.c"]
    cmd = ["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
           f"-I{rt / 'include'}", f"-I{rt / 'src'}", f"-I{rt / 'kernels' / 'opt'}",
           "-o", str(exe), *map(str, srcs)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "20000/20000 ok" in out.stdout, out.stdout


@pytest.mark.parametrize("board", ["host",
                                   pytest.param("netduinoplus2", marks=pytest.mark.target)])
def test_dot_products_against_popcount(tmp_path, board):
    """The binary dot products alone (tests/firmware_opt/dot): every row length 0..200 and
    1..64 filters against a plain popcount, including the kw 36 assembly kernel's rare carry
    path; on the host (portable C) and on the M4 (Thumb-2 assembly) under QEMU."""
    if board == "host":
        _need("gcc", "make")
    else:
        _need("arm-none-eabi-gcc", "qemu-system-arm", "make")
    app = Path(__file__).resolve().parent / "dot"
    cmd = ["make", "-s", "-j2", "-C", str(deploy.FIRMWARE_DIR), f"TARGET={board}",
           f"APP_DIR={app}", f"BUILD_DIR={tmp_path}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    if board == "host":
        run = [str(tmp_path / "app")]
    else:
        run = deploy.qemu_command(deploy.BOARDS[board], tmp_path / "app.elf")
    out = subprocess.run(run, capture_output=True, text=True, timeout=120,
                         stdin=subprocess.DEVNULL).stdout
    m = re.search(r"HS CHECK (\d+)/(\d+) (PASS|FAIL)", out)
    assert m and m.group(3) == "PASS" and m.group(1) == m.group(2), out[-2000:]
