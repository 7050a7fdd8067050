"""Helpers shared by the firmware target tests (imported by conftest.py and the tests):
the stand-in model writer and a skip for missing tools."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

__all__ = ["HERE", "need", "standin"]

HERE = Path(__file__).resolve().parent


def _load_standin():
    spec = importlib.util.spec_from_file_location("make_standin", HERE / "standin" / "make_standin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


standin = _load_standin()


def need(*tools: str) -> None:
    """Skips the test when a tool is not installed (the test says which)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
