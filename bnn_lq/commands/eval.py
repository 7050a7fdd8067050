"""``bnn-lq eval MODEL --dataset NAME [--limit N] --runtime R [--runtime R2 | R,R2] [--json]``:
accuracy per runtime, pairwise argmax agreement and latency (bnn_lq.evaluate.evaluate)."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a .tflite file (or .keras for --runtime keras)")
    parser.add_argument("--dataset", "--data", dest="dataset", required=True,
                        help="data set name (bnn_lq.data), e.g. fashion_mnist")
    parser.add_argument("--limit", type=int, default=None, help="evaluate N images only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit subset")
    parser.add_argument("--runtime", action="append", default=None,
                        help="keras, lce, numpy, tflite-runtime (or a registered runtime); "
                             "repeat or give a comma list (default: lce,numpy)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--keras-model", default=None,
                        help="the Keras model for --runtime keras (default: MODEL.keras)")
    parser.add_argument("--json", action="store_true", help="machine-readable stdout")


def run(args: argparse.Namespace) -> int:
    from bnn_lq.evaluate import evaluate, runtime_names

    runtimes = [r.strip() for item in (args.runtime or ["lce,numpy"])
                for r in item.split(",") if r.strip()]
    unknown = [r for r in runtimes if r not in runtime_names()]
    if unknown:
        raise SystemExit(f"bnn-lq eval: unknown runtime(s) {unknown}; "
                         f"choose from {runtime_names()}")
    result = evaluate(args.model, args.dataset, runtimes=tuple(runtimes), limit=args.limit,
                      batch_size=args.batch_size, seed=args.seed,
                      keras_model=args.keras_model)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.table())
    return 1 if len(result.errors) == len(runtimes) else 0
