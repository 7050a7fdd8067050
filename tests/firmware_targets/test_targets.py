"""Firmware targets under emulation: the SysTick calibration of every QEMU board,
and the whole build -> run -> parse chain of bnn_lq.deploy with the stand-in model
on QEMU boards and qemu-user (marked ``target``; each test well under 30 s)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from bnn_lq import deploy
from bnn_lq.errors import DeployError

from firmware_targets_helpers import HERE, need

pytestmark = pytest.mark.target

QEMU_BOARDS = [n for n, b in deploy.BOARDS.items() if b.runner == "qemu-system"]
_CALIB = re.compile(r"BNN CALIB n=(\d+) insns=(\d+) ticks=(\d+) count=(\d+) unit=(\S+)")


def _qemu(board: deploy.Board, elf, timeout=60) -> str:
    proc = subprocess.run(deploy.qemu_command(board, elf), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", QEMU_BOARDS)
def test_systick_calibration(name, tmp_path):
    """Re-measures instructions per SysTick tick with two delay loops of known length
    (2 instructions per iteration; the difference cancels the fixed overhead) and
    checks the board table, board.h and the port's converted count against it."""
    need("arm-none-eabi-gcc", "qemu-system-arm")
    board = deploy.BOARDS[name]
    subprocess.run(["make", "-s", "-j2", "-C", str(deploy.FIRMWARE_DIR), f"TARGET={name}",
                    f"APP_DIR={HERE / 'calib'}", f"BUILD_DIR={tmp_path}", "WITH_RUNTIME=0"],
                   check=True, capture_output=True)
    runs = [tuple(int(v) if v.isdigit() else v for v in m.groups())
            for m in _CALIB.finditer(_qemu(board, tmp_path / "app.elf"))]
    assert len(runs) == 2, runs
    (_, insns1, ticks1, count1, unit), (_, insns2, ticks2, count2, _) = runs
    assert unit == "instructions"
    measured = (insns2 - insns1) / (ticks2 - ticks1)
    # One tick of quantization over >= 960,000 ticks: 1e-5 relative admits it, and
    # rejects any clock other than the calibrated one (the nearest differ by >1%).
    assert measured == pytest.approx(board.insns_per_tick, rel=1e-5)
    # The port's count (ticks converted) matches the loop's instructions up to the fixed
    # cost of the call and the counter reads (tens of instructions) plus one tick.
    for insns, count in ((insns1, count1), (insns2, count2)):
        assert 0 <= count - insns <= 100 + board.insns_per_tick, (insns, count)


BOARD_RUNS = ["netduinoplus2", "microbit", "mps2-an386", "mps3-an547", "aarch64-linux",
              "stm32vldiscovery", "mps2-an500", "mps2-an505", "armv7-linux"]


def _tools(board: deploy.Board) -> list[str]:
    if board.runner == "qemu-system":
        return ["arm-none-eabi-gcc", "qemu-system-arm"]
    if board.name == "aarch64-linux":
        return ["aarch64-linux-gnu-gcc", board.qemu]
    return ["arm-linux-gnueabihf-gcc", board.qemu]


@pytest.mark.parametrize("name", BOARD_RUNS)
def test_standin_runs_on_board(name, standin_dirs, tmp_path):
    board = deploy.BOARDS[name]
    need(*_tools(board))
    model_dir, expected = standin_dirs["float32"]
    built = deploy.build(model_dir, board=name, out_dir=tmp_path, runtime=False)
    assert built.executable.is_file() and built.images == expected["images"]
    res = deploy.run(tmp_path, timeout=60)
    assert (res.board, res.model) == (name, "standin_linear_float32")
    assert (res.images, res.correct, res.agree) == (
        expected["images"], expected["correct"], expected["agree"])
    assert res.oracle_correct == expected["correct"] and res.matches_oracle
    assert res.mismatches == ()
    assert res.unit == board.unit
    assert res.per_inference > 0
    if board.runner == "qemu-system":
        # flash = text (with rodata) + data load image; RAM = data + bss + stack reserve
        assert res.flash_bytes == built.text_bytes + built.data_bytes
        assert res.ram_bytes == built.data_bytes + built.bss_bytes + board.stack_bytes
        assert res.flash_bytes <= board.flash_bytes and res.ram_bytes <= board.ram_bytes
        assert 0 < res.stack_bytes < board.stack_bytes
        # 48 multiply-adds at least cost 48 instructions; the stand-in is far below 20k
        assert 48 < res.per_inference < 20_000
    else:
        assert res.stack_bytes is None


def test_instruction_count_is_reproducible(standin_dirs, tmp_path):
    """-icount makes the count deterministic: two runs of one image give one number."""
    need("arm-none-eabi-gcc", "qemu-system-arm")
    model_dir, _ = standin_dirs["float32"]
    deploy.build(model_dir, board="mps2-an386", out_dir=tmp_path, runtime=False)
    first, second = deploy.run(tmp_path), deploy.run(tmp_path)
    assert first.per_inference == second.per_inference


def test_int8_standin_on_m0(standin_dirs, tmp_path):
    need("arm-none-eabi-gcc", "qemu-system-arm")
    model_dir, expected = standin_dirs["int8"]
    deploy.build(model_dir, board="microbit", out_dir=tmp_path, runtime=False)
    res = deploy.run(tmp_path)
    assert (res.images, res.correct, res.agree) == (
        expected["images"], expected["correct"], expected["agree"])
    assert res.model == "standin_linear_int8"


def test_disagreement_is_reported(standin_dirs, tmp_path):
    """Oracle entries flipped on purpose: the device lists exactly those images."""
    need("arm-none-eabi-gcc", "qemu-system-arm")
    model_dir, expected = standin_dirs["corrupt"]
    deploy.build(model_dir, board="mps3-an547", out_dir=tmp_path, runtime=False)
    res = deploy.run(tmp_path)
    assert res.agree == expected["agree"] == expected["images"] - 2
    assert [m[0] for m in res.mismatches] == [1, 5]
    assert all(device != oracle for _, _, oracle, device in res.mismatches)
    assert not res.matches_oracle


@pytest.mark.parametrize("name", ["netduinoplus2", "microbit", "stm32vldiscovery"])
def test_uart_build_prints_result_on_serial(name, standin_dirs, tmp_path):
    """The real-board output path (io="uart") under QEMU's UART models; the count is in
    cycles, which QEMU's DWT (not emulated) reports as 0 on the DWT boards."""
    need("arm-none-eabi-gcc", "qemu-system-arm")
    model_dir, expected = standin_dirs["float32"]
    deploy.build(model_dir, board=name, out_dir=tmp_path, io="uart", runtime=False)
    res = deploy.run(tmp_path, timeout=30)
    assert res.unit == "cycles"
    assert (res.images, res.agree) == (expected["images"], expected["agree"])


def test_linker_rejects_what_the_header_understates(standin_dirs, tmp_path):
    """A model whose real RAM use exceeds the board's: the linker's verdict comes back
    as a DeployError with the numbers."""
    need("arm-none-eabi-gcc")
    src, _ = standin_dirs["float32"]
    model_dir = tmp_path / "big"
    shutil.copytree(src, model_dir)
    (model_dir / "model.c").write_text(
        '#include "model.h"\nstatic float big[5000];\n'
        "int bnn_model_invoke(const void *input, void *output)\n{\n"
        "    const float *x = (const float *)input;\n    float *y = (float *)output;\n"
        "    big[4999] = x[0];\n    for (int c = 0; c < 3; ++c) {\n"
        "        y[c] = big[4999 - c];\n    }\n    return 0;\n}\n")
    with pytest.raises(DeployError, match=r"microbit's 16,384 B of RAM|overflowed"):
        deploy.build(model_dir, board="microbit", out_dir=tmp_path / "out", runtime=False)


@pytest.mark.parametrize("name", ["netduinoplus2", "microbit", "mps3-an547"])
def test_runtime_compiles_for_target(name, standin_dirs, tmp_path):
    """firmware/runtime (whatever is in the tree) compiles warning-free for the core."""
    need("arm-none-eabi-gcc")
    model_dir, _ = standin_dirs["float32"]
    built = deploy.build(model_dir, board=name, out_dir=tmp_path, runtime=True)
    assert built.executable.is_file()
