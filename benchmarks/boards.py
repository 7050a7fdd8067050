"""The per-board table of the README: one .tflite built and run with the
accuracy-check firmware on every board, beside LCE's accuracy on the same images.

    python benchmarks/boards.py MODEL.tflite [--testset fashion_mnist:256]
        [--boards host,microbit,...] [-o build/boards] [--json]

Prints a Markdown table: board, core, images, device accuracy, LCE accuracy,
agreement, flash used / available, RAM used / available, stack, cost per inference.
A board the model does not fit is listed with the reason (needed vs available).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import bnn_lq  # noqa: F401  (Keras 2 switch)
from bnn_lq import deploy
from bnn_lq.errors import DeployError

ALL_BOARDS = ("host", "aarch64-linux", "armv7-linux", "microbit", "stm32vldiscovery",
              "netduinoplus2", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547")


def _kb(n):
    return f"{n / 1024:.1f} KB" if n else "n/a"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--testset", default="fashion_mnist:256")
    parser.add_argument("--boards", default=",".join(ALL_BOARDS))
    parser.add_argument("-o", "--out", default="build/boards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    rows, results = [], {}
    for name in args.boards.split(","):
        board = deploy.BOARDS[name]
        print(f"[{name}] building and running ...", file=sys.stderr, flush=True)
        dataset, count = args.testset.split(":")
        count = int(count)
        try:
            while True:
                try:
                    deploy.build(args.model, board=name, out_dir=Path(args.out) / name,
                                 testset=f"{dataset}:{count}")
                    break
                except DeployError as exc:
                    # Small boards hold the model but not hundreds of test images in flash:
                    # halve the embedded test set (down to 8) before giving up.
                    too_big = "flash: needs" in str(exc) or "region FLASH overflowed" in str(exc)
                    if not too_big or count <= 8:
                        raise
                    count //= 2
                    print(f"[{name}] test set too big for flash, trying {count} images",
                          file=sys.stderr, flush=True)
            r = deploy.run(Path(args.out) / name, timeout=1800)
        except DeployError as exc:
            first = str(exc).splitlines()[0]
            rows.append(f"| {name} | {board.cpu} | does not fit / failed: {first[:140]} |"
                        + " |" * 7)
            results[name] = {"error": str(exc)}
            continue
        results[name] = r.to_dict()
        oracle_acc = r.oracle_correct / max(r.images, 1)
        rows.append(
            f"| {name} | {board.cpu} | {r.images} | {100 * r.accuracy:.2f}% | "
            f"{100 * oracle_acc:.2f}% | {100 * r.agreement:.2f}% | "
            f"{_kb(r.flash_bytes)} / {_kb(board.flash_bytes)} | "
            f"{_kb(r.ram_bytes)} / {_kb(board.ram_bytes)} | "
            f"{'n/a' if r.stack_bytes is None else f'{r.stack_bytes:,} B'} | "
            f"{r.per_inference:,} {r.unit} |")
    if args.json:
        json.dump(results, sys.stdout, indent=1)
        print()
        return 0
    print(f"Model: `{Path(args.model).name}`, test set `{args.testset}`\n")
    print("| board | core | images | device accuracy | LCE accuracy | agreement | "
          "flash used / available | RAM used / available | stack | per inference |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
