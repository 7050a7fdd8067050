"""``bnn-lq convert MODEL.keras -o model.tflite``: convert a Keras/Larq model with LCE,
every binary layer bit-packed (binary dense layers included).

    bnn-lq convert run/model.keras -o build/model.tflite [--int8 [--representative X.npy]]
                   [--no-bitpack-dense] [--force] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="Keras model (.keras, .h5 or SavedModel directory)")
    parser.add_argument("-o", "--output", required=True, help=".tflite file to write")
    parser.add_argument("--int8", action="store_true",
                        help="int8 input/output and non-binary layers (needs QAT fake-quant ops "
                             "in the model, or --representative)")
    parser.add_argument("--representative", default=None, metavar="FILE",
                        help=".npy/.npz of model inputs [n, ...] to calibrate --int8 when the "
                             "model has no fake-quant ops")
    parser.add_argument("--no-bitpack-dense", action="store_true",
                        help="leave binary dense layers as LCE 0.16 does (float, 32x larger)")
    parser.add_argument("--target", choices=("arm", "xcore"), default="arm")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _load_array(path: str):
    import numpy as np

    data = np.load(path)
    if hasattr(data, "files"):
        data = data[data.files[0]]
    return data


def run(args: argparse.Namespace) -> int:
    if os.path.exists(args.output) and not args.force:
        print(f"bnn-lq convert: {args.output} exists; pass --force to overwrite it",
              file=__import__("sys").stderr)
        return 2
    from bnn_lq.convert import lce

    model = lce.load_keras_model(args.model)
    representative = _load_array(args.representative) if args.representative else None
    fb = lce.to_tflite(model, int8=args.int8, representative_data=representative,
                       bitpack_dense=not args.no_bitpack_dense, target=args.target)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "wb") as f:
        f.write(fb)
    log.info("wrote %s (%d bytes)", args.output, len(fb))
    if args.json:
        print(json.dumps({"output": args.output, "bytes": len(fb),
                          "ideal_bytes": lce.ideal_bytes(model, int8=args.int8)}))
    else:
        print(f"{args.output}: {len(fb):,d} bytes (ideal {lce.ideal_bytes(model, int8=args.int8):,d})")
    return 0
