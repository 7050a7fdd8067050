"""bnn_lq.deploy without emulators: the board table against the firmware files, the
model.h reader, the fit check, the result parser, the host build -> run chain with
the stand-in model, the CLI's exit codes, and pyocd's message when no probe is
attached. QEMU and qemu-user runs are in tests/firmware_targets (marker ``target``)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from bnn_lq import cli, deploy
from bnn_lq.errors import DeployError, FlashOverflowError

sys.path.insert(0, str(Path(__file__).resolve().parent / "firmware_targets"))
from firmware_targets_helpers import need, standin  # noqa: E402

FW = deploy.FIRMWARE_DIR


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("standin") / "float32"
    return d, standin.write(d)


@pytest.fixture(scope="module")
def host_build(float_model, tmp_path_factory):
    need("gcc", "make")
    out = tmp_path_factory.mktemp("host")
    deploy.build(float_model[0], board="host", out_dir=out, runtime=False)
    return out


def _link_ld(target: str) -> tuple[int, int, int]:
    """(flash, RAM, stack) bytes from firmware/targets/<target>/link.ld."""
    text = (FW / "targets" / target / "link.ld").read_text()
    size = {m.group(1): int(m.group(2)) * 1024
            for m in re.finditer(r"^\s*(FLASH|RAM)\b.*LENGTH = (\d+)K", text, flags=re.M)}
    stack = int(re.search(r"BNN_STACK_SIZE = (0x[0-9a-fA-F]+|\d+);", text).group(1), 0)
    return size["FLASH"], size["RAM"], stack


@pytest.mark.parametrize("name", sorted(deploy.BOARDS))
def test_board_table_matches_firmware(name):
    board = deploy.BOARDS[name]
    target_dir = FW / "targets" / name
    assert (target_dir / "target.mk").is_file()
    if board.runner != "qemu-system":
        assert board.insns_per_tick is None and board.flash_bytes == 0
        return
    assert _link_ld(name) == (board.flash_bytes, board.ram_bytes, board.stack_bytes)
    header = (target_dir / "board.h").read_text()
    num = int(re.search(r"INSNS_PER_TICK_NUM (\d+)u", header).group(1))
    den = int(re.search(r"INSNS_PER_TICK_DEN (\d+)u", header).group(1))
    assert num / den == pytest.approx(board.insns_per_tick, rel=1e-12)
    assert f"-M {board.qemu}" in " ".join(deploy.qemu_command(board, "x.elf"))


def test_model_header(float_model, tmp_path):
    values = deploy.model_header(float_model[0])
    assert values["NAME"] == "standin_linear_float32"
    assert (values["INPUT_BYTES"], values["NUM_CLASSES"], values["TESTSET_COUNT"]) == (64, 3, 12)
    (tmp_path / "model.h").write_text(
        '#define BNN_MODEL_NAME "m"\n#define BNN_MODEL_INPUT_BYTES (16u * 4u)\n'
        "#define BNN_MODEL_OUTPUT_BYTES 0x28u /* ten floats */\n")
    with pytest.raises(DeployError, match="missing #define BNN_MODEL_NUM_CLASSES"):
        deploy.model_header(tmp_path)
    assert deploy._c_integer("(16u * 4u)") == 64 and deploy._c_integer("0x28u") == 40


def test_fit_check_names_needed_and_available(float_model, tmp_path):
    model_dir = tmp_path / "big"
    shutil.copytree(float_model[0], model_dir)
    header = model_dir / "model.h"
    header.write_text(header.read_text().replace("BNN_MODEL_ARENA_BYTES 12u",
                                                 "BNN_MODEL_ARENA_BYTES 20000u"))
    with pytest.raises(DeployError) as info:
        deploy.build(model_dir, board="microbit", out_dir=tmp_path / "out", runtime=False)
    msg = str(info.value)
    assert "does not fit on microbit" in msg and "arena 20,000 B" in msg
    assert "microbit has 16,384 B" in msg and "flash" not in msg.split("RAM")[0][-30:]
    assert not (tmp_path / "out" / "app.elf").exists()  # failed before building
    assert not isinstance(info.value, FlashOverflowError)  # RAM: fewer images would not help


def test_fit_check_flash_only_is_a_flash_overflow(float_model, tmp_path):
    """Too big for flash but not for RAM: FlashOverflowError (the zoo cards retry with fewer
    embedded test images on exactly this error)."""
    model_dir = tmp_path / "heavy"
    shutil.copytree(float_model[0], model_dir)
    header = model_dir / "model.h"
    text = header.read_text()
    assert "BNN_MODEL_WEIGHT_BYTES" in text
    header.write_text(re.sub(r"BNN_MODEL_WEIGHT_BYTES \d+u", "BNN_MODEL_WEIGHT_BYTES 300000u", text))
    with pytest.raises(FlashOverflowError, match="flash: needs at least"):
        deploy.build(model_dir, board="microbit", out_dir=tmp_path / "out", runtime=False)


def test_unknown_board_and_bad_model(tmp_path):
    with pytest.raises(DeployError, match="unknown board 'nucleo'.*netduinoplus2"):
        deploy.build(tmp_path, board="nucleo", out_dir=tmp_path / "o")
    with pytest.raises(DeployError, match="neither"):
        deploy.build(tmp_path / "nope.tflite", board="host", out_dir=tmp_path / "o")


def test_tflite_without_codegen_says_what_to_do(tmp_path, monkeypatch):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"\0" * 16)
    import bnn_lq.convert

    monkeypatch.delattr(bnn_lq.convert, "codegen", raising=False)
    monkeypatch.setitem(sys.modules, "bnn_lq.convert.codegen", None)
    with pytest.raises(DeployError, match="codegen is not available.*model.c/model.h"):
        deploy.build(model, board="host", out_dir=tmp_path / "o")


def test_parse_result():
    out = ("boot\nimage 3: label 1, oracle 2, device 0\n"
           'BNN RESULT {"model":"m","board":"b","images":4,"correct":2,"agree":3,'
           '"oracle_correct":2,"accuracy":0.5,"agreement":0.75,"per_inference":99,'
           '"unit":"instructions","flash_bytes":10,"ram_bytes":20,"stack_bytes":null,'
           '"arena_bytes":1,"weight_bytes":2,"new_field":7}\n')
    res = deploy.parse_result(out)
    assert res.mismatches == ((3, 1, 2, 0),) and res.stack_bytes is None
    assert not res.matches_oracle and res.to_dict()["agreement"] == 0.75
    with pytest.raises(DeployError, match=r"(?s)no BNN RESULT line.*\| boot"):
        deploy.parse_result("boot\nBNN FAULT: HardFault\n")


def test_check_stack_flags_a_used_up_reserve():
    """A painted stack used up to its limit means the run wrote below it (seen with the
    bit-sliced kernels on the stm32vldiscovery stack before they were turned off
    there): an error, not a result."""
    line = ('BNN RESULT {"model":"m","board":"stm32vldiscovery","images":1,"correct":1,'
            '"agree":1,"oracle_correct":1,"accuracy":1.0,"agreement":1.0,"per_inference":9,'
            '"unit":"instructions","flash_bytes":1,"ram_bytes":1,"stack_bytes":%d,'
            '"arena_bytes":1,"weight_bytes":1}\n')
    board = deploy.BOARDS["stm32vldiscovery"]
    deploy.check_stack(deploy.parse_result(line % (board.stack_bytes - 4)), board)
    with pytest.raises(DeployError, match="stack overflow: the run used all 2,048 B"):
        deploy.check_stack(deploy.parse_result(line % board.stack_bytes), board)


def test_host_chain(float_model, host_build):
    expected = float_model[1]
    res = deploy.run(host_build, timeout=30)
    assert (res.images, res.correct, res.agree, res.oracle_correct) == (
        expected["images"], expected["correct"], expected["agree"], expected["correct"])
    assert res.accuracy == pytest.approx(expected["correct"] / expected["images"], abs=1e-6)
    assert res.unit == "ns" and res.board == "host" and res.matches_oracle


def test_testset_from_arrays(float_model, tmp_path):
    """A model directory without a test set plus arrays: write_testset embeds them."""
    need("gcc", "make")
    model_dir = tmp_path / "bare"
    model_dir.mkdir()
    for f in ("model.c", "model.h"):
        shutil.copy(float_model[0] / f, model_dir / f)
    x = standin._images("float32", 5)
    oracle = standin.predict(x, "float32").argmax(axis=1)
    labels = np.array([0, 1, 2, 0, 1])
    built = deploy.build(model_dir, board="host", out_dir=tmp_path / "o",
                         testset=(x, labels, oracle), runtime=False)
    assert built.images == 5
    res = deploy.run(built.out_dir)
    assert (res.images, res.agree, res.correct) == (5, 5, int((oracle == labels).sum()))
    with pytest.raises(TypeError, match="float32 or int8"):
        deploy.write_testset(tmp_path, x.astype(np.float64), labels, oracle)


def _cli(capsys, *argv) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_cli_run_exit_codes(host_build, tmp_path, capsys):
    need("gcc", "make")
    code, out = _cli(capsys, "deploy", "run", str(host_build), "--json")
    assert code == 0 and json.loads(out)["matches_oracle"] is True
    corrupt = tmp_path / "corrupt"
    standin.write(corrupt, corrupt_oracle=(4,))
    deploy.build(corrupt, board="host", out_dir=tmp_path / "o", runtime=False)
    code, out = _cli(capsys, "deploy", "run", str(tmp_path / "o"))
    assert code == 1 and "image 4:" in out and "agreement 11/12" in out


def _host_model(tmp_path, float_model, body: str) -> Path:
    d = tmp_path / "m"
    shutil.copytree(float_model[0], d)
    (d / "model.c").write_text('#include "model.h"\n'
                               "int bnn_model_invoke(const void *input, void *output)\n{\n"
                               "    (void)input;\n    (void)output;\n" + body + "}\n")
    return d


def test_run_reports_runtime_error_and_timeout(float_model, tmp_path):
    need("gcc", "make")
    failing = _host_model(tmp_path / "a", float_model, "    return 4;\n")
    deploy.build(failing, board="host", out_dir=tmp_path / "fail", runtime=False)
    with pytest.raises(DeployError, match=r"(?s)exited with 2.*BNN ERROR: bnn_model_invoke "
                                          r"returned status 4 on image 0"):
        deploy.run(tmp_path / "fail")
    hanging = _host_model(tmp_path / "b", float_model,
                          "    for (volatile int i = 0; i >= 0; i = 0) {\n    }\n    return 0;\n")
    deploy.build(hanging, board="host", out_dir=tmp_path / "hang", runtime=False)
    with pytest.raises(DeployError, match="no result after 2 s"):
        deploy.run(tmp_path / "hang", timeout=2)


def test_flash_without_a_probe(tmp_path, float_model):
    """A real pyocd invocation; with no probe attached the user sees pyocd's own message
    and what to check. (With a probe attached this would flash the board.)"""
    need("arm-none-eabi-gcc")
    deploy.build(float_model[0], board="microbit", out_dir=tmp_path, runtime=False)
    with pytest.raises(DeployError) as info:
        deploy.flash(tmp_path)
    msg = str(info.value)
    assert "No connected debug probes" in msg and "part nrf51822" in msg
    assert "pyocd list" in msg


def test_flash_emulated_board_has_no_part(tmp_path):
    (tmp_path / "deploy.json").write_text(json.dumps(
        {"board": "mps2-an386", "executable": "app.elf", "io": "semihost"}))
    with pytest.raises(DeployError, match="emulated only: there is no pyocd part"):
        deploy.flash(tmp_path)


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_checked_in_standin_is_the_generators_output(dtype, tmp_path):
    """tests/firmware_targets/standin/<dtype> (used in firmware/targets/README.md) is
    exactly what make_standin.py writes."""
    standin.write(tmp_path, dtype=dtype)
    checked_in = Path(standin.__file__).parent / dtype
    for f in ("model.c", "model.h", "testset.c", "testset.h"):
        assert (checked_in / f).read_text() == (tmp_path / f).read_text(), f
