"""``bnn-lq bench mcu``: the same architecture as binary (reference and optimized kernels),
int8 and float, built and run under QEMU on each board; a Markdown table and a bar plot.

    bnn-lq bench mcu [--boards netduinoplus2,microbit] [--model bnn_cnn_small]
                     [--weights pretrained|none|MODEL.keras] [--images N] [--no-per-op]
                     [--json] [-o DIR]
"""

from __future__ import annotations

import argparse
import json

from bnn_lq.bench import DEFAULT_BOARDS

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    m = sub.add_parser("mcu", help="instructions, flash and RAM on the QEMU Cortex-M boards")
    m.add_argument("--boards", default=",".join(DEFAULT_BOARDS),
                   help="comma-separated QEMU boards (default: %(default)s; mps2-an386 is an M4 "
                        "with 4 MB of RAM, where the float build fits)")
    m.add_argument("--model", default="bnn_cnn_small", help="zoo model (default bnn_cnn_small)")
    m.add_argument("--images", type=int, default=8,
                   help="test images per run; counts are averaged (default 8)")
    m.add_argument("--weights", default="pretrained",
                   help="trained model.keras (or run directory) of the architecture; "
                        "'pretrained' (default): the committed one when there is one; "
                        "'none': untrained")
    m.add_argument("--no-kernels", action="store_true",
                   help="skip the per-layer kernel bench")
    m.add_argument("--no-per-op", action="store_true",
                   help="build without the per-operator profile (-DBNN_PROFILE)")
    m.add_argument("-o", "--output", default="bench-mcu",
                   help="output directory (default bench-mcu): results.json, table.md, plot.png")
    m.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> int:
    from bnn_lq import bench

    boards = [b.strip() for b in args.boards.split(",") if b.strip()]
    result = bench.bench_mcu(boards=boards, model=args.model, out_dir=args.output,
                             images=args.images, kernels=not args.no_kernels,
                             per_op=not args.no_per_op, weights=args.weights)
    files = bench.write_report(result, args.output,
                               command=f"bnn-lq bench mcu --boards {','.join(boards)} "
                                       f"--model {args.model} --weights {args.weights} "
                                       f"-o {args.output}")
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(files["table"].read_text())
        print(f"wrote {files['table']}, {files['plot']}, {files['json']}")
    return 0
