"""The work of each ``bnn-lq pipeline`` stage; bnn_lq.pipeline decides what runs.

Every function reads files from the run directory and writes files there; the
dict it returns is stored with the stage record and feeds the report.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

__all__ = [
    "convert", "copy_pretrained", "device", "evaluate", "firmware", "firmware_digest",
    "report", "summary", "train",
]

_log = logging.getLogger("bnn_lq.pipeline")


def _load_keras(path: Path):
    from bnn_lq.train import load_model

    return load_model(path)


def train(config, out_dir: Path) -> dict:
    from bnn_lq import train as training

    run = training.fit(config.model, config.dataset, optimizer=config.optimizer,
                       epochs=config.epochs, batch_size=config.batch_size,
                       learning_rate=config.learning_rate, out_dir=out_dir, resume=True,
                       seed=config.seed)
    return {"test_accuracy": run.test_accuracy, "epochs": len(run.history),
            "source": "trained", "history": run.history}


def copy_pretrained(source: Path, out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file():
            shutil.copy2(item, out_dir / item.name)
        elif item.is_dir():
            shutil.copytree(item, out_dir / item.name, dirs_exist_ok=True)
    history = []
    if (out_dir / "history.csv").exists():
        from bnn_lq.train import read_history

        history = read_history(out_dir / "history.csv")
    return {"source": f"pretrained ({source.name})", "epochs": len(history), "history": history}


def summary(keras_path: Path, run_dir: Path, boards) -> dict:
    from bnn_lq import budget as budget_mod

    model = _load_keras(keras_path)
    board = boards[0] if boards else None
    text = budget_mod.summary(model, board=board)
    (run_dir / "summary.txt").write_text(text)
    print(text, flush=True)
    return {"budget": budget_mod.budget(model).to_dict()}


def convert(keras_path: Path, run_dir: Path, dataset: str) -> dict:
    from bnn_lq import data
    from bnn_lq.convert import lce

    model = _load_keras(keras_path)
    ours = lce.to_tflite(model)
    (run_dir / "model.tflite").write_bytes(ours)
    sizes = {"ours": len(ours), "ideal": lce.ideal_bytes(model)}
    baselines = run_dir / "baselines"
    baselines.mkdir(exist_ok=True)
    stock = lce.stock_tflite(model)
    (baselines / "stock_lce.tflite").write_bytes(stock)
    sizes["stock_lce"] = len(stock)
    float_bytes = lce.float_tflite(model)
    (baselines / "float.tflite").write_bytes(float_bytes)
    sizes["float_tflite"] = len(float_bytes)
    x_rep, _ = data.load(dataset, "train", limit=200, seed=1)
    int8_bytes = lce.int8_tflite(model, x_rep)
    (baselines / "int8.tflite").write_bytes(int8_bytes)
    sizes["int8_tflite"] = len(int8_bytes)
    return {"bytes": sizes}


def evaluate(keras_path: Path, tflite_path: Path, run_dir: Path, config) -> dict:
    import bnn_lq.c_runtime  # noqa: F401  (registers the c-host runtime)
    from bnn_lq import evaluate as ev

    runtimes = ["keras", "lce", "numpy", "c-host"]
    # Build the C batch runner before timing starts, so its latency is inference only.
    bnn_lq.c_runtime.build_batch_runner(tflite_path)
    result = ev.evaluate(tflite_path, config.dataset, runtimes=runtimes,
                         limit=config.eval_limit, keras_model=keras_path)
    payload = result.to_json()
    (run_dir / "evaluate.json").write_text(json.dumps(payload, indent=1, default=str))
    return payload


def firmware_digest() -> str:
    from bnn_lq import deploy

    return deploy.firmware_sources_digest()


def firmware(tflite_path: Path, run_dir: Path, config) -> dict:
    from bnn_lq import deploy

    built = {}
    for board in config.boards:
        out = run_dir / "firmware" / board
        info = deploy.build(tflite_path, board=board, out_dir=out,
                            testset=f"{config.dataset}:{config.testset_size}")
        limits = deploy.BOARDS[board]
        built[board] = {
            "text_bytes": info.text_bytes, "data_bytes": info.data_bytes,
            "bss_bytes": info.bss_bytes, "images": info.images,
            "executable": str(info.executable),
            "flash_limit": limits.flash_bytes or None,
            "ram_limit": limits.ram_bytes or None,
        }
        (out / "build.json").write_text(json.dumps(built[board], indent=1))
    return built


def device(run_dir: Path, config) -> dict:
    from bnn_lq import deploy

    results = {}
    input_bytes = _input_bytes(run_dir / "model.tflite")
    for board in config.boards:
        res = deploy.run(run_dir / "firmware" / board)
        results[board] = res.to_dict()
        results[board]["oracle_accuracy"] = res.oracle_correct / max(res.images, 1)
        # The embedded test images live in flash too; the report shows the model alone.
        results[board]["testset_bytes"] = res.images * input_bytes
        _log.info("%s: device accuracy %.2f%%, agreement with LCE %.2f%%, %s %s per inference",
                  board, 100 * res.accuracy, 100 * res.agreement, f"{res.per_inference:,}", res.unit)
    (run_dir / "device.json").write_text(json.dumps(results, indent=1, default=str))
    return results


def _input_bytes(tflite_path: Path) -> int:
    from bnn_lq.convert import read

    graph = read(tflite_path)
    return graph.tensors[graph.inputs[0]].nbytes


def report(run_dir: Path, config, results: dict) -> dict:
    from bnn_lq import report as report_mod

    return report_mod.write_report(run_dir, config, results)
