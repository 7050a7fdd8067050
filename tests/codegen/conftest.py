"""Fixtures of tests/codegen; the helpers themselves live in codegen_helpers.py (a
module name of its own, so it cannot collide with another folder's conftest)."""

from codegen_helpers import runtime_lib, tflite_models  # noqa: F401  (fixtures)
