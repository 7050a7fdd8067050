"""Path set-up for the interpreter tests; helpers live in interp_helpers.py (a module
name of its own, so it cannot collide with another folder's conftest)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from interp_helpers import *  # noqa: E402,F401,F403  (fixtures, if any)
