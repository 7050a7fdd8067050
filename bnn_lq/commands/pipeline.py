"""``bnn-lq pipeline``: the whole walk on the embedded defaults (see bnn_lq.pipeline)."""

from __future__ import annotations

import json
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser):
    from bnn_lq.pipeline import STAGES, PipelineConfig

    d = PipelineConfig()
    parser.add_argument("--model", default=d.model, help=f"zoo architecture (default {d.model})")
    parser.add_argument("--dataset", default=None,
                        help="data set (default: fashion_mnist if installed, else digits)")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--optimizer", choices=("bop", "adam"), default=d.optimizer)
    parser.add_argument("--lr", type=float, default=d.learning_rate, help="learning rate")
    parser.add_argument("--boards", default=",".join(d.boards),
                        help="comma-separated boards, or 'none' to skip firmware")
    parser.add_argument("--testset-size", type=int, default=d.testset_size,
                        help="test images embedded in the firmware")
    parser.add_argument("--eval-limit", type=int, default=None,
                        help="host-side evaluation on the first N test images (default: all)")
    parser.add_argument("--pretrained", action="store_true",
                        help="use the small trained model committed in the repository")
    parser.add_argument("--from", dest="from_stage", choices=STAGES, default=None,
                        help="rerun this stage and every later one in an existing run directory")
    parser.add_argument("--stop-after", choices=STAGES, default=None)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("-o", "--out", default=d.out_dir, help=f"run directory (default {d.out_dir})")
    parser.add_argument("--json", action="store_true", help="print report.json to stdout")


def run(args) -> int:
    from bnn_lq.pipeline import PipelineConfig, run_pipeline

    boards = () if args.boards in ("", "none") else tuple(b for b in args.boards.split(",") if b)
    config = PipelineConfig(
        model=args.model, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, learning_rate=args.lr, boards=boards,
        testset_size=args.testset_size, eval_limit=args.eval_limit, pretrained=args.pretrained,
        from_stage=args.from_stage, stop_after=args.stop_after, seed=args.seed, out_dir=args.out)
    report = run_pipeline(config)
    if args.json:
        json.dump(report, sys.stdout, indent=1, default=str)
        print()
    else:
        print(report.get("markdown", ""))
    return 0 if report.get("all_agree", False) else 1
