"""``bnn-lq summary MODEL [--board NAME] [--input-shape H,W,C] [--json]``.

Prints ``lq.models.summary`` and the microcontroller budget of ``bnn_lq.budget``.
MODEL is a ``.keras`` / ``.h5`` file or a zoo architecture name (built untrained
with ``--input-shape`` and ``--num-classes`` when given).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

__all__ = ["add_arguments", "load_model", "run"]

log = logging.getLogger(__name__)


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape):
        raise argparse.ArgumentTypeError(
            f"--input-shape expects positive integers like 28,28,1; got {text!r}")
    return shape


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from bnn_lq.budget import BOARD_LIMITS  # no TensorFlow needed for the choices

    parser.add_argument("model", metavar="MODEL",
                        help="a .keras/.h5 model file or a zoo architecture name")
    parser.add_argument("--board", choices=sorted(BOARD_LIMITS), default=None,
                        help="check weights and activations against this board's flash/RAM")
    parser.add_argument("--input-shape", type=_shape, default=None, metavar="H,W,C",
                        help="input shape without the batch axis (zoo models, or models "
                             "saved without a fixed input)")
    parser.add_argument("--num-classes", type=int, default=None,
                        help="number of classes when MODEL is a zoo name")
    parser.add_argument("--json", action="store_true",
                        help="print the budget as JSON on stdout instead of the tables")


def load_model(model: str | os.PathLike, *, input_shape=None, num_classes=None):
    """A Keras model from a ``.keras``/``.h5`` path or a zoo name.

    Raises:
        ValueError: ``model`` is neither an existing file nor a zoo name.
        bnn_lq.errors.ModelFormatError: The file exists but cannot be loaded.
    """
    import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
    import bnn_lq.layers  # noqa: F401  (registers the bnn_lq layers and quantizers)
    import bnn_lq.quantizers  # noqa: F401
    import larq  # noqa: F401  (registers Larq's custom objects)
    import tensorflow as tf

    from bnn_lq.errors import ModelFormatError

    path = os.fspath(model)
    if os.path.exists(path):
        try:
            return tf.keras.models.load_model(path, compile=False)
        except Exception as exc:  # Keras raises many types for a bad file
            raise ModelFormatError(
                f"{path}: cannot load as a Keras model ({type(exc).__name__}: {exc}). "
                "Expected a .keras or .h5 file saved by tf.keras/Larq.") from exc
    if path.endswith((".keras", ".h5", ".hdf5")) or os.sep in path:
        raise ValueError(f"{path}: no such model file")
    from bnn_lq import zoo

    return zoo.get(path, input_shape=input_shape, num_classes=num_classes)


def run(args: argparse.Namespace) -> int:
    from bnn_lq import budget as budget_mod

    try:
        model = load_model(args.model, input_shape=args.input_shape,
                           num_classes=args.num_classes)
    except ValueError as exc:
        print(f"bnn-lq summary: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        b = budget_mod.budget(model, input_shape=args.input_shape)
        data = b.to_dict()
        if args.board:
            data["board"] = b.fits(args.board)
        print(json.dumps(data, indent=2))
    else:
        print(budget_mod.summary(model, board=args.board, input_shape=args.input_shape))
    return 0
