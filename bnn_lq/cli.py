"""The ``bnn-lq`` command line: argument parsing only; each verb lives in
``bnn_lq/commands/<verb>.py`` with ``add_arguments(parser)`` and ``run(args) -> int``
and calls one library function.

Exit codes: 0 success, 1 the work failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from bnn_lq.errors import BnnLqError

__all__ = ["main", "VERBS"]

# verb -> (module under bnn_lq.commands, one-line help)
VERBS = {
    "train": ("train", "train a model from the zoo on a data set"),
    "summary": ("summary", "print lq.models.summary and a microcontroller memory budget"),
    "zoo": ("zoo", "list the architectures of the zoo"),
    "convert": ("convert", "convert a Keras model to a bit-packed .tflite with LCE"),
    "inspect": ("inspect", "show what is inside a .tflite file"),
    "eval": ("eval", "evaluate a model on a data set with one or more runtimes"),
    "deploy": ("deploy", "build, run or flash firmware for a board"),
    "pipeline": ("pipeline", "walk the whole path: train, convert, evaluate, deploy, report"),
    "bench": ("bench", "benchmarks: sizes, speed, microcontroller instruction counts"),
}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bnn-lq", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        try:
            mod = importlib.import_module(f"bnn_lq.commands.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bnn_lq.commands.{module}":
                raise
            p.set_defaults(_missing=verb)
            continue
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.verb is None:
        parser.print_help(sys.stderr)
        return 2
    if getattr(args, "_missing", None):
        print(f"bnn-lq {args.verb}: not implemented yet", file=sys.stderr)
        return 1
    try:
        return int(args._run(args) or 0)
    except BnnLqError as exc:
        print(f"bnn-lq {args.verb}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"bnn-lq {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
