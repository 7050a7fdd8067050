"""``bnn-lq deploy build|run|flash``: build the accuracy-check firmware for a board,
run it on QEMU / the host / qemu-user, or flash it with pyocd.

    bnn-lq deploy build MODEL.tflite --board netduinoplus2 --testset fashion_mnist:256 -o DIR
    bnn-lq deploy run DIR [--json]       # exit 1 when the device disagrees with LCE
    bnn-lq deploy flash DIR --probe pyocd
    bnn-lq deploy boards                 # the board table
"""

from __future__ import annotations

import argparse
import json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    b = sub.add_parser("build", help="generate C (from a .tflite) and build the firmware")
    b.add_argument("model", help=".tflite file, or a directory with model.c/model.h")
    b.add_argument("--board", required=True, help="board name (see `bnn-lq deploy boards`)")
    b.add_argument("--testset", default=None,
                   help="embed test images: NAME[:COUNT] from bnn_lq.data (test split), "
                        "e.g. fashion_mnist:256; the oracle comes from LCE's interpreter")
    b.add_argument("-o", "--output", required=True, help="build directory")
    b.add_argument("--name", default=None, help="model name in the C code (default: file stem)")
    b.add_argument("--io", choices=("semihost", "uart"), default="semihost",
                   help="output channel: semihost (QEMU, default) or uart (real boards)")
    b.add_argument("--no-fit-check", action="store_true",
                   help="skip the flash/RAM check before building (the linker still checks)")
    b.add_argument("--json", action="store_true", help="print the build result as JSON")

    r = sub.add_parser("run", help="run a build on QEMU, the host or qemu-user")
    r.add_argument("build_dir")
    r.add_argument("--timeout", type=float, default=300.0, help="seconds (default 300)")
    r.add_argument("--json", action="store_true", help="print the device result as JSON")

    f = sub.add_parser("flash", help="flash a build to a real board with pyocd")
    f.add_argument("build_dir")
    f.add_argument("--probe", default="pyocd", choices=("pyocd",))
    f.add_argument("--uid", default=None, help="probe unique ID when several are attached")
    f.add_argument("--target", default=None, help="pyocd part number overriding the board's")

    k = sub.add_parser("boards", help="list the boards: memory, calibration, pyocd part")
    k.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from bnn_lq import deploy

    if args.action == "build":
        result = deploy.build(args.model, board=args.board, out_dir=args.output,
                              testset=args.testset, name=args.name, io=args.io,
                              check_fit=not args.no_fit_check)
        if args.json:
            print(json.dumps({k: str(v) if hasattr(v, "__fspath__") else v
                              for k, v in vars(result).items()}, indent=2))
        else:
            print(f"built {result.executable} for {result.board}: text {result.text_bytes} B, "
                  f"data {result.data_bytes} B, bss {result.bss_bytes} B, "
                  f"{result.images} test images")
        return 0
    if args.action == "run":
        res = deploy.run(args.build_dir, timeout=args.timeout)
        if args.json:
            print(json.dumps(res.to_dict(), indent=2))
        else:
            n = max(1, res.images)
            print(f"{res.model} on {res.board}: accuracy {res.accuracy:.4f} "
                  f"(LCE {res.oracle_correct / n:.4f}), agreement {res.agree}/{res.images}, "
                  f"{res.per_inference} {res.unit} per inference, flash {res.flash_bytes} B, "
                  f"RAM {res.ram_bytes} B, stack "
                  f"{'n/a' if res.stack_bytes is None else f'{res.stack_bytes} B'}")
            for image, label, oracle, device in res.mismatches:
                print(f"  image {image}: label {label}, LCE {oracle}, device {device}")
        return 0 if res.matches_oracle else 1
    if args.action == "flash":
        deploy.flash(args.build_dir, probe=args.probe, uid=args.uid, target=args.target)
        return 0
    if args.action == "boards":
        if args.json:
            print(json.dumps({n: vars(b) for n, b in deploy.BOARDS.items()}, indent=2))
        else:
            for b in deploy.BOARDS.values():
                ipt = "-" if b.insns_per_tick is None else f"{b.insns_per_tick:.4g}"
                print(f"{b.name:18} {b.cpu:11} flash {b.flash_bytes // 1024:5} KB  "
                      f"RAM {b.ram_bytes // 1024:5} KB  insns/tick {ipt:7} "
                      f"pyocd {b.pyocd_target or '-'}")
        return 0
    return 2
