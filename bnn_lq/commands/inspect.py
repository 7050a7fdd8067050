"""``bnn-lq inspect model.tflite [--json]``: operators, bytes by kind, peak activation
memory, binary/real MACs and warnings (bnn_lq.convert.inspect). Needs no TensorFlow."""

from __future__ import annotations

import argparse
import json
import os

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help=".tflite file")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from bnn_lq.convert import format_inspection, inspect, read

    graph = read(args.model)  # ModelFormatError (exit 1) names the file and the problem
    result = inspect(graph, file_bytes=os.path.getsize(args.model))
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_inspection(result))
    return 0
