"""Fixtures of the interpreter tests: random Larq models converted once per session by LCE
and cached on disk (``$BNN_LQ_CACHE``, default /tmp/bnn_lq_interp) keyed by their
definition, so that re-running the tests does not re-convert.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

CACHE_VERSION = "1"


def cached_conversion(name: str, source: str, build, convert) -> bytes:
    """``convert(build())`` cached under a key made of ``name``, ``source`` (the model's
    definition as text) and the library versions."""
    from zoo_models import cache_dir

    import larq_compute_engine
    import tensorflow as tf

    key = hashlib.sha256("|".join([CACHE_VERSION, name, source, tf.__version__,
                                   larq_compute_engine.__version__]).encode()).hexdigest()[:16]
    path = cache_dir() / f"{name}-{key}.tflite"
    if path.exists():
        return path.read_bytes()
    fb = convert(build())
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(fb)
    tmp.replace(path)
    return fb
