"""Fixtures of the C runtime tests: one host build of firmware/runtime per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import runtime_harness  # noqa: E402


@pytest.fixture(scope="session")
def c_runtime(tmp_path_factory) -> runtime_harness.Runtime:
    """The runtime compiled for the host with the project's flags, loaded with ctypes."""
    lib = runtime_harness.build_runtime(tmp_path_factory.mktemp("bnn_runtime"))
    return runtime_harness.Runtime(lib)
