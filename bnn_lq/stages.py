"""Stages that skip themselves when their inputs have not changed.

A stage records, in ``<run_dir>/stages/<name>.json``, a fingerprint of what it
consumed (file hashes and options) and the files it produced. Run again with
the same fingerprint and existing outputs, it is skipped; anything else reruns
it. A stage that fails leaves no record, so a re-run resumes at that stage while
every earlier stage's output stays in place.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> calls = []
    >>> def work(): calls.append(1); (d / "out.txt").write_text("x"); return {"n": 1}
    >>> runner = StageRunner(d)
    >>> runner.run("demo", work, inputs={"opt": 1}, outputs=["out.txt"])
    {'n': 1}
    >>> runner.run("demo", work, inputs={"opt": 1}, outputs=["out.txt"])
    {'n': 1}
    >>> len(calls)
    1
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

from bnn_lq.errors import BnnLqError

__all__ = ["StageError", "StageRunner", "file_digest"]

_log = logging.getLogger("bnn_lq.pipeline")


class StageError(BnnLqError):
    """A pipeline stage failed; the message names the stage and what to do."""


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file, or of every file under a directory (sorted by path)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _fingerprint(inputs: dict[str, Any]) -> str:
    def normal(value):
        if isinstance(value, Path):
            return {"file": str(value), "sha256": file_digest(value) if value.exists() else None}
        if isinstance(value, dict):
            return {k: normal(v) for k, v in sorted(value.items())}
        if isinstance(value, (list, tuple)):
            return [normal(v) for v in value]
        return value

    return hashlib.sha256(json.dumps(normal(inputs), sort_keys=True, default=str).encode()).hexdigest()


class StageRunner:
    """Runs named stages inside one run directory, skipping those already done."""

    def __init__(self, run_dir: str | os.PathLike, *, force: tuple[str, ...] = ()):
        self.run_dir = Path(run_dir)
        self.force = set(force)
        self.timings: dict[str, float] = {}
        self.skipped: list[str] = []

    def _record_path(self, name: str) -> Path:
        return self.run_dir / "stages" / f"{name}.json"

    def run(self, name: str, work: Callable[[], dict], *, inputs: dict[str, Any],
            outputs: list[str], hint: str = "") -> dict:
        """Runs ``work()`` unless stage ``name`` already ran with the same inputs and
        its ``outputs`` (paths relative to the run directory) still exist. ``work``
        returns a JSON-serialisable dict, stored and returned on later skips."""
        record_path = self._record_path(name)
        fingerprint = _fingerprint(inputs)
        if name not in self.force and record_path.exists():
            record = json.loads(record_path.read_text())
            if record.get("fingerprint") == fingerprint and all(
                    (self.run_dir / o).exists() for o in outputs):
                _log.info("stage %s: up to date, skipped", name)
                self.skipped.append(name)
                return record["result"]
        _log.info("stage %s: running", name)
        start = time.monotonic()
        try:
            result = work()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            what = hint or "fix the cause above and run the same command again; finished stages are kept"
            raise StageError(f"stage '{name}' failed: {type(exc).__name__}: {exc}\n  -> {what}") from exc
        missing = [o for o in outputs if not (self.run_dir / o).exists()]
        if missing:
            raise StageError(f"stage '{name}' finished but did not produce {missing}")
        self.timings[name] = time.monotonic() - start
        record_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = record_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fingerprint": fingerprint, "result": result,
                                   "seconds": self.timings[name]}, indent=1, default=str))
        os.replace(tmp, record_path)
        _log.info("stage %s: done in %.1f s", name, self.timings[name])
        return result
