"""Microcontroller benchmark script: the same as ``bnn-lq bench mcu``.

    .venv/bin/python benchmarks/mcu.py [--boards netduinoplus2] [--model bnn_cnn_small] [-o DIR]
"""

from __future__ import annotations

import argparse
import logging
import sys

import bnn_lq  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from bnn_lq.commands import bench as bench_cmd

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_cmd.add_arguments(parser)
    args = parser.parse_args(["mcu", *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    return bench_cmd.run(args)


if __name__ == "__main__":
    sys.exit(main())
