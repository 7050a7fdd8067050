"""Fixtures of the firmware target tests: the stand-in model (a tiny linear
classifier in the codegen interface, tests/firmware_targets/standin) written to
temporary directories."""

from __future__ import annotations

import pytest
from firmware_targets_helpers import standin


@pytest.fixture(scope="session")
def standin_dirs(tmp_path_factory):
    """{"float32" | "int8" | "corrupt": (dir, what the device must report)}."""
    root = tmp_path_factory.mktemp("standin")
    out = {}
    for key, kwargs in {"float32": {}, "int8": {"dtype": "int8"},
                        "corrupt": {"corrupt_oracle": (1, 5)}}.items():
        d = root / key
        out[key] = (d, standin.write(d, **kwargs))
    return out
