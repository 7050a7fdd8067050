"""``bnn-lq zoo list``: the architectures of the zoo with paper, board, parameters, and
(when ``bnn_lq.budget`` is available) binary/real MACs and bit-packed weight bytes.

Example:
    bnn-lq zoo list --input-shape 32,32,3 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

__all__ = ["add_arguments", "run", "zoo_table"]

log = logging.getLogger("bnn_lq.commands.zoo")


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--input-shape: expected H,W,C like 28,28,1, got {text!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"--input-shape: expected three positive sizes H,W,C, got {text!r}")
    return shape


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="zoo_action", metavar="ACTION")
    p = sub.add_parser("list", help="list the architectures")
    p.add_argument("--input-shape", type=_shape, default=None, help="H,W,C (default: each builder's)")
    p.add_argument("--num-classes", type=int, default=None)
    p.add_argument("--json", action="store_true", help="machine-readable list on stdout")
    p.add_argument("names", nargs="*", help="only these architectures")


def _budget_fn():
    try:
        from bnn_lq.budget import budget
    except ImportError:
        return None
    return budget


def _number(budget_result, *keys):
    for key in keys:
        value = budget_result.get(key) if isinstance(budget_result, dict) else getattr(budget_result, key, None)
        if value is not None:
            return value
    return None


def zoo_table(names=None, *, input_shape=None, num_classes=None) -> list[dict]:
    """One row per architecture: name, paper, board, parameters (+ budget columns)."""
    from bnn_lq import zoo

    known = zoo.names()
    unknown = [n for n in (names or []) if n not in known]
    if unknown:
        raise ValueError(f"zoo: unknown architecture(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    budget = _budget_fn()
    rows = []
    for entry in zoo.entries():
        if names and entry.name not in names:
            continue
        row = {"name": entry.name, "paper": entry.paper, "board": entry.board, "doc": entry.doc}
        try:
            model = zoo.get(entry.name, input_shape=input_shape, num_classes=num_classes)
        except (ValueError, TypeError) as exc:
            row["error"] = str(exc)
            rows.append(row)
            continue
        row["input_shape"] = list(model.input_shape[1:])
        row["parameters"] = int(model.count_params())
        if budget is not None:
            try:
                b = budget(model)
                row["binary_macs"] = _number(b, "binary_macs")
                row["real_macs"] = _number(b, "real_macs")
                row["packed_weight_bytes"] = _number(b, "packed_weight_bytes", "binary_weight_bytes",
                                                     "bitpacked_bytes")
            except Exception as exc:  # the budget is informative; never break the listing
                log.warning("budget of %s failed: %s", entry.name, exc)
        rows.append(row)
    return rows


def run(args: argparse.Namespace) -> int:
    if getattr(args, "zoo_action", None) != "list":
        print("usage: bnn-lq zoo list [--input-shape H,W,C] [--json]", file=sys.stderr)
        return 2
    try:
        rows = zoo_table(args.names, input_shape=args.input_shape, num_classes=args.num_classes)
    except ValueError as exc:
        print(f"bnn-lq zoo: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cols = ["name", "input_shape", "parameters", "binary_macs", "real_macs", "packed_weight_bytes",
            "board", "paper"]
    cols = [c for c in cols if any(c in r for r in rows)]
    cells = [[_fmt(r.get(c, r.get("error", "") if c == "parameters" else "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    return 0


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
