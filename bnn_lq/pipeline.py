"""``bnn-lq pipeline``: one model walked through the whole path, one report.

data -> train (or the committed pretrained model) -> memory report -> convert
(ours, stock LCE, float and int8 TFLite baselines) -> evaluate (Keras, LCE,
NumPy interpreter, host C build) -> firmware per board -> on-device accuracy
check under QEMU -> ``report.md`` + ``report.json``.

Each stage consumes the files the previous one wrote in the run directory and
nothing else; a stage whose inputs did not change is skipped (bnn_lq.stages), so
an interrupted or failed run resumes where it stopped.

Example:
    bnn-lq pipeline                         # the defaults: the README's main job
    bnn-lq pipeline --pretrained --boards netduinoplus2,microbit
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from pathlib import Path

from bnn_lq.errors import BnnLqError
from bnn_lq.stages import StageRunner

__all__ = ["PipelineConfig", "STAGES", "default_dataset", "run_pipeline"]

_log = logging.getLogger("bnn_lq.pipeline")

STAGES = ("train", "summary", "convert", "evaluate", "firmware", "device", "report")

_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
_PRETRAINED = Path(__file__).parent / "pretrained"


@dataclasses.dataclass
class PipelineConfig:
    """Everything a pipeline run depends on (stored in the run directory)."""

    model: str = "bnn_cnn_small"
    dataset: str | None = None  # None: fashion_mnist if installed, else digits
    # The recipe of bnn_lq/pretrained/bnn_cnn_small_fashion_mnist (91.18% on Fashion-MNIST).
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float | None = 3e-3
    boards: tuple[str, ...] = ("netduinoplus2",)
    testset_size: int = 256  # images embedded in the firmware
    eval_limit: int | None = None  # host-side evaluation: None = whole test set
    pretrained: bool = False
    from_stage: str | None = None  # rerun this stage and every later one
    stop_after: str | None = None
    seed: int = 0
    out_dir: str = "runs/pipeline"


def default_dataset() -> tuple[str, str]:
    """The embedded default data set and why it was chosen."""
    if (_FASHION_DIR / "t10k-images-idx3-ubyte.gz").exists():
        return "fashion_mnist", f"Fashion-MNIST from {_FASHION_DIR} (Debian dataset-fashion-mnist)"
    return "digits", (f"scikit-learn's 8x8 digits: Fashion-MNIST is not installed at {_FASHION_DIR} "
                      "(apt-get install dataset-fashion-mnist)")


def _pretrained_dir(model: str, dataset: str) -> Path:
    path = _PRETRAINED / f"{model}_{dataset}"
    if not (path / "model.keras").exists():
        known = sorted(p.name for p in _PRETRAINED.glob("*") if (p / "model.keras").exists())
        raise BnnLqError(
            f"--pretrained: no committed model for model={model!r} dataset={dataset!r} "
            f"(looked in {path}); available: {', '.join(known) or 'none'}. "
            "Drop --pretrained to train one.")
    return path


def run_pipeline(config: PipelineConfig) -> dict:
    """Runs (or resumes) the pipeline; returns the report as a dict."""
    from bnn_lq import pipeline_steps as steps

    from bnn_lq.deploy import BOARDS

    unknown = [b for b in config.boards if b not in BOARDS]
    if unknown:
        raise BnnLqError(f"unknown board(s) {unknown}; known: {', '.join(sorted(BOARDS))}")
    if config.dataset is None:
        config.dataset, why = default_dataset()
        _log.info("data set: %s", why)
    run_dir = Path(config.out_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "pipeline_config.json").write_text(
        json.dumps(dataclasses.asdict(config), indent=1, default=list))
    force = STAGES[STAGES.index(config.from_stage):] if config.from_stage else ()
    runner = StageRunner(run_dir, force=force)
    last = STAGES.index(config.stop_after) if config.stop_after else len(STAGES) - 1
    results: dict[str, dict] = {}

    def want(stage: str) -> bool:
        return STAGES.index(stage) <= last

    total = sum(want(s) for s in STAGES)
    step = iter(range(1, total + 1))

    def announce(stage: str) -> None:
        _log.info("[%d/%d] %s", next(step), total, stage)

    announce("train")
    if config.pretrained:
        source = _pretrained_dir(config.model, config.dataset)
        results["train"] = runner.run(
            "train", lambda: steps.copy_pretrained(source, run_dir / "train"),
            inputs={"source": source, "mode": "pretrained"}, outputs=["train/model.keras"])
    else:
        results["train"] = runner.run(
            "train", lambda: steps.train(config, run_dir / "train"),
            inputs={"model": config.model, "dataset": config.dataset, "epochs": config.epochs,
                    "batch_size": config.batch_size, "optimizer": config.optimizer,
                    "lr": config.learning_rate, "seed": config.seed, "mode": "train"},
            outputs=["train/model.keras"],
            hint="training stopped; run the same command again to resume from the last epoch")
    keras_path = run_dir / "train" / "model.keras"
    if want("summary"):
        announce("summary")
        results["summary"] = runner.run(
            "summary", lambda: steps.summary(keras_path, run_dir, config.boards),
            inputs={"model": keras_path, "boards": list(config.boards)}, outputs=["summary.txt"])
    if want("convert"):
        announce("convert")
        results["convert"] = runner.run(
            "convert", lambda: steps.convert(keras_path, run_dir, config.dataset),
            inputs={"model": keras_path}, outputs=["model.tflite"],
            hint="see the conversion error above; `bnn-lq convert` reproduces it alone")
    tflite_path = run_dir / "model.tflite"
    if want("evaluate"):
        announce("evaluate")
        results["evaluate"] = runner.run(
            "evaluate", lambda: steps.evaluate(keras_path, tflite_path, run_dir, config),
            inputs={"model": tflite_path, "keras": keras_path, "dataset": config.dataset,
                    "limit": config.eval_limit}, outputs=["evaluate.json"])
    if want("firmware"):
        announce("firmware")
        results["firmware"] = runner.run(
            "firmware", lambda: steps.firmware(tflite_path, run_dir, config),
            inputs={"model": tflite_path, "boards": list(config.boards), "dataset": config.dataset,
                    "testset": config.testset_size, "firmware": steps.firmware_digest()},
            outputs=[f"firmware/{b}" for b in config.boards],
            hint="a board the model does not fit can be left out with --boards")
    if want("device"):
        announce("device")
        results["device"] = runner.run(
            "device", lambda: steps.device(run_dir, config),
            inputs={"firmware": [run_dir / "firmware" / b / "build.json" for b in config.boards]},
            outputs=["device.json"])
    announce("report")
    report = steps.report(run_dir, config, results)
    _log.info("report: %s", run_dir / "report.md")
    return report


def clean(run_dir: str | os.PathLike) -> None:
    """Removes a run directory (used by tests)."""
    shutil.rmtree(run_dir, ignore_errors=True)
