"""The pipeline's report: ``report.md`` (reads well in a terminal and on GitHub)
and ``report.json`` (the same numbers for machines).

Every number in the report is copied from a stage result stored in the run
directory; nothing is computed here except ratios and formatting.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["render_markdown", "write_report"]


def _kb(n: int | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MB"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)] if rows else [
        len(h) for h in header]
    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
            *[line(r) for r in rows]]


def _accuracy_section(ev: dict) -> tuple[list[str], bool]:
    """From bnn_lq.evaluate.EvalResult.to_json(): accuracy, latency, pairwise agreement."""
    lines = ["## Accuracy on the test set, per runtime", ""]
    accuracy = ev.get("accuracy", {})
    errors = ev.get("errors", {})
    if not accuracy and not errors:
        return lines + ["(evaluation stage not run)", ""], False
    rows = [[name, _pct(acc), str(ev.get("n", "")),
             f"{ev.get('latency_ms', {}).get(name, float('nan')):.3f} ms"]
            for name, acc in accuracy.items()]
    rows += [[name, "error", "", msg.splitlines()[0][:70]] for name, msg in errors.items()]
    lines += _table(["runtime", "accuracy", "images", "latency / image"], rows)
    agreement = ev.get("agreement", {})
    diffs = ev.get("max_abs_diff", {})
    if agreement:
        lines += ["", *_table(["pair", "argmax agreement", "max abs output difference"],
                              [[pair.replace("|", " vs "), _pct(v), f"{diffs.get(pair, 0):.3g}"]
                               for pair, v in agreement.items()])]
    all_agree = bool(agreement) and not errors and all(v == 1.0 for v in agreement.values())
    return lines + [""], all_agree


def _size_section(conv: dict) -> list[str]:
    sizes = conv.get("bytes", {})
    if not sizes:
        return []
    ours = sizes.get("ours")
    rows = []
    for key, label in (("stock_lce", "stock LCE 0.16"), ("ours", "bnn-lq (dense bit-packed)"),
                       ("float_tflite", "float32 TFLite"), ("int8_tflite", "int8 TFLite"),
                       ("ideal", "ideal (1 bit / binary weight)")):
        if key in sizes:
            ratio = f"{sizes[key] / ours:.2f}x" if ours else ""
            rows.append([label, f"{sizes[key]:,}", _kb(sizes[key]), ratio])
    return ["## Model file size", "", *_table(["model", "bytes", "", "vs ours"], rows), ""]


def _device_section(device: dict, firmware: dict, oracle_acc: float | None) -> tuple[list[str], bool]:
    if not device:
        return [], True
    rows, ok = [], True
    for board, r in device.items():
        fw = firmware.get(board, {}) if isinstance(firmware, dict) else {}
        agree = r.get("agreement")
        ok = ok and r.get("images", 0) > 0 and r.get("agree") == r.get("images")
        flash = r.get("flash_bytes")
        ram = r.get("ram_bytes")
        flash_limit = fw.get("flash_limit") or fw.get("flash_available")
        ram_limit = fw.get("ram_limit") or fw.get("ram_available")
        if flash is not None and r.get("testset_bytes"):
            flash -= r["testset_bytes"]
        rows.append([
            board, str(r.get("images")), _pct(r.get("accuracy")),
            _pct(r.get("oracle_accuracy")) if r.get("oracle_accuracy") is not None else "",
            _pct(agree),
            f"{_kb(flash)} / {_kb(flash_limit)}" if flash_limit else _kb(flash),
            f"{_kb(ram)} / {_kb(ram_limit)}" if ram_limit else _kb(ram),
            _kb(r.get("arena_bytes")),
            "n/a" if r.get("stack_bytes") is None else f"{r['stack_bytes']:,} B",
            f"{r.get('per_inference', 0):,.0f} {r.get('unit', '')}"])
    lines = ["## On the device (QEMU)", "",
             *_table(["board", "images", "device accuracy", "LCE accuracy", "agreement with LCE",
                      "flash used / available", "RAM used / available", "arena", "stack",
                      "per inference"], rows),
             "", "Flash excludes the embedded test images; RAM is .data + .bss + the stack "
             "reserve; arena is the planned tensor memory, stack the measured high-water mark.",
             ""]
    return lines, ok


def render_markdown(data: dict) -> str:
    """The report as Markdown, from the dict ``write_report`` stores as report.json."""
    cfg = data.get("config", {})
    lines = [f"# bnn-lq pipeline report: {cfg.get('model')} on {cfg.get('dataset')}", ""]
    train = data.get("train", {})
    lines += [f"Model: `{cfg.get('model')}` ({train.get('source', 'trained')}, "
              f"{train.get('epochs', '?')} epochs). Data set: `{cfg.get('dataset')}`. "
              f"Boards: {', '.join(cfg.get('boards', [])) or 'none'}.", ""]
    acc_lines, _ = _accuracy_section(data.get("evaluate", {}))
    lines += acc_lines
    lines += _size_section(data.get("convert", {}))
    dev_lines, _ = _device_section(data.get("device", {}), data.get("firmware", {}), None)
    lines += dev_lines
    budget = data.get("summary", {}).get("budget", {}).get("total", {})
    if budget:
        lines += ["## Memory budget (from the Keras model, before conversion)", "",
                  "Peak activations count the Keras graph layer by layer (float feature "
                  "maps unfused); the device table above shows the planned arena after "
                  "fusion.", "",
                  *_table(["binary MACs", "real MACs", "binary weights (packed)",
                           "real params (float32)", "peak activations"],
                          [[f"{budget.get('binary_macs', 0):,}", f"{budget.get('real_macs', 0):,}",
                            _kb(budget.get("binary_weight_bytes")),
                            _kb(budget.get("real_float32_bytes")),
                            _kb(budget.get("peak_activation_bytes"))]]), ""]
    plots = data.get("plots", [])
    if plots:
        lines += ["## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots] + [""]
    verdict = "every runtime agrees" if data.get("all_agree") else "RUNTIMES DISAGREE: see above"
    lines += [f"**Verdict: {verdict}.**", ""]
    return "\n".join(lines)


def write_report(run_dir: str | os.PathLike, config, results: dict[str, Any]) -> dict:
    """Writes report.md and report.json into ``run_dir`` and returns the report dict
    (with the Markdown under ``"markdown"``)."""
    run_dir = Path(run_dir)
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    data: dict[str, Any] = {"config": cfg}
    for stage, value in results.items():
        data[stage] = value
    plot_dir = run_dir / "train" / "plots"
    data["plots"] = sorted(str(p.relative_to(run_dir)) for p in plot_dir.glob("*.png")) \
        if plot_dir.exists() else []
    _, host_agree = _accuracy_section(data.get("evaluate", {}))
    _, device_agree = _device_section(data.get("device", {}), data.get("firmware", {}), None)
    data["all_agree"] = bool(host_agree and device_agree)
    markdown = render_markdown(data)
    (run_dir / "report.md").write_text(markdown)
    (run_dir / "report.json").write_text(json.dumps(data, indent=1, default=str))
    data["markdown"] = markdown
    return data
