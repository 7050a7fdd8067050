"""Shared fixtures. Area-specific fixtures live in the area's own conftest."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A seeded generator: every random test case is reproducible."""
    return np.random.default_rng(7)
