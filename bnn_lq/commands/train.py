"""``bnn-lq train``: train a zoo architecture on a data set (``bnn_lq.train.fit``), or
evaluate a finished run (``--evaluate RUN_DIR``, ``bnn_lq.train.evaluate``).

Example:
    bnn-lq train --model bnn_cnn_small --dataset fashion_mnist --optimizer adam --epochs 10 \\
        --batch-size 64 --lr 2e-3 --out runs/cnn
    bnn-lq train --evaluate runs/cnn --dataset fashion_mnist --json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

__all__ = ["add_arguments", "run"]

log = logging.getLogger("bnn_lq.commands.train")


def _options(text: str) -> dict:
    """``key=value,key=value`` with values parsed as JSON (``filters=[16,32]``) or kept as text."""
    out = {}
    if not text:
        return out
    for part in _split_top_level(text):
        key, sep, value = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"--model-options: expected key=value, got {part!r}")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _split_top_level(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "[{("
        depth -= ch in "]})"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur] if cur else parts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from bnn_lq.train import LOSSES, OPTIMIZERS

    parser.add_argument("--model", "-a", default="bnn_cnn_small", help="zoo architecture (bnn-lq zoo list)")
    parser.add_argument("--model-options", type=_options, default={},
                        help="builder options, e.g. 'filters=[32,64,128],dense_units=128'")
    parser.add_argument("--dataset", default=None,
                        help="data set name, npz:PATH, idx:DIR or folder:DIR (default "
                             "fashion_mnist; with --recipe, the recipe's own)")
    parser.add_argument("--recipe", default=None, metavar="YAML",
                        help="train the stages of a recipe (path, recipes/NAME.yaml or NAME); "
                             "--out is the recipe directory")
    parser.add_argument("--optimizer", default="bop", choices=OPTIMIZERS)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", "-b", type=int, default=128)
    parser.add_argument("--lr", "--learning-rate", dest="lr", type=float, default=None,
                        help="Adam learning rate (default 1e-3)")
    parser.add_argument("--loss", default="crossentropy", choices=LOSSES)
    parser.add_argument("--schedule", default="cosine", choices=["cosine", "step", "none"])
    parser.add_argument("--out", "-o", default=None, help="run directory (default runs/<model>_<dataset>)")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                        help="continue from the last checkpoint in --out (default on)")
    parser.add_argument("--force", action="store_true", help="with --no-resume: replace an existing run")
    parser.add_argument("--evaluate", "-e", metavar="RUN_DIR", default=None,
                        help="evaluate a trained run (or model.keras) on --dataset instead of training")
    parser.add_argument("--limit", type=int, default=None, help="use at most N examples per split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", action="store_true", help="random crop + horizontal flip")
    parser.add_argument("--recalibrate-bn", type=int, default=50, metavar="BATCHES",
                        help="re-estimate batch-norm statistics over this many batches after "
                             "each epoch (0: off)")
    parser.add_argument("--strategy", default=None, choices=["mirrored", "multi_worker"],
                        help="tf.distribute strategy (multi_worker reads TF_CONFIG)")
    parser.add_argument("--json", action="store_true", help="machine-readable result on stdout")


def _run_recipe(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bnn_lq.recipes import run_recipe

    result = run_recipe(args.recipe, out_dir=args.out or f"runs/{Path(args.recipe).stem}",
                        resume=args.resume, overwrite=args.force, data=args.dataset,
                        overrides={"limit": args.limit} if args.limit is not None else {})
    if args.json:
        print(json.dumps([{"out_dir": str(s.out_dir), "epochs": s.epochs,
                           "test_accuracy": s.test_accuracy, "reused": s.skipped}
                          for s in result.stages]))
        return 0
    for s in result.stages:
        acc = "n/a" if s.test_accuracy is None else f"{s.test_accuracy:.4f}"
        print(f"{s.out_dir}: {s.epochs} epochs, test accuracy {acc}"
              f"{' (reused)' if s.skipped else ''}")
    return 0


def run(args: argparse.Namespace) -> int:
    from bnn_lq import train

    if args.recipe:
        return _run_recipe(args)
    args.dataset = args.dataset or "fashion_mnist"
    if args.evaluate:
        result = train.evaluate(args.evaluate, args.dataset, limit=args.limit, seed=args.seed)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{args.evaluate}: accuracy {result['accuracy']:.4f} "
                  f"({result['correct']}/{result['examples']}) on {args.dataset} test")
        return 0
    from bnn_lq import zoo

    if args.model not in zoo.names():
        print(f"bnn-lq train: error: unknown model {args.model!r}; known: {', '.join(zoo.names())}",
              file=sys.stderr)
        return 2
    out = args.out or f"runs/{args.model}_{args.dataset.replace(':', '_').replace('/', '_')}"
    result = train.fit(args.model, args.dataset, optimizer=args.optimizer, epochs=args.epochs,
                       batch_size=args.batch_size, learning_rate=args.lr, loss=args.loss,
                       schedule=None if args.schedule == "none" else args.schedule, out_dir=out,
                       resume=args.resume, overwrite=args.force, strategy=args.strategy,
                       augment=args.augment, seed=args.seed, limit=args.limit,
                       model_options=args.model_options, recalibrate_bn=args.recalibrate_bn)
    if args.json:
        print(json.dumps({"out_dir": str(result.out_dir), "test_accuracy": result.test_accuracy,
                          "epochs": len(result.history), "resumed_from": result.resumed_from,
                          "history": result.history}))
    else:
        acc = "n/a" if result.test_accuracy is None else f"{result.test_accuracy:.4f}"
        print(f"{result.out_dir}: {len(result.history)} epochs, test accuracy {acc}")
    return 0
