"""Trained reference models of the zoo: how each is trained, and its model card.

Every reference model is one :class:`Reference` below. Two commands reproduce
everything a card shows::

    python -m bnn_lq.zoo.reference train mcu_tiny_fashion     # resumable run dir
    python -m bnn_lq.zoo.reference card mcu_tiny_fashion      # measure + write the card

``train`` writes ``runs/reference/<name>/`` (a ``bnn_lq.train.fit`` run directory:
kill it and run the same command again to continue). ``card`` consumes only that
run's ``model.keras``: it converts it with LCE, measures test accuracy in Keras, in
LCE's interpreter and in our NumPy interpreter, builds the firmware for the
reference board and runs it under QEMU, and writes ``zoo/cards/<name>.md`` and
``<name>.json`` (+ the ``.tflite``, and ``.keras`` when it is under 2 MB).
``table`` prints the README's zoo table from the card JSON files.

A float baseline (``float_of``) is the same architecture with every quantizer
removed (``bnn_lq.convert.lce.to_float_model``), trained with the same budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bnn_lq.errors import FlashOverflowError

__all__ = ["REFERENCES", "Reference", "card", "table", "train"]

_ROOT = Path(__file__).resolve().parent.parent
CARDS_DIR = _ROOT / "zoo" / "cards"
RUNS_DIR = Path("runs") / "reference"
_BUILD = Path("build") / "reference"
_MAX_ARTEFACT = 2_000_000
#: Every card also runs on the reference board (Cortex-M4F), whatever board it targets.
REFERENCE_BOARD = "netduinoplus2"
REFERENCE_BOARD_IMAGES = 256
#: Host runtimes every binary card measures on the whole test split.
_RUNTIMES = ("keras", "lce", "numpy", "c-host")


@dataclasses.dataclass(frozen=True)
class Reference:
    """One trained reference model: architecture, data, training budget, board."""

    name: str
    arch: str
    dataset: str
    board: str
    epochs: int
    optimizer: str = "adam"
    learning_rate: float = 2e-3
    batch_size: int = 64
    options: tuple[tuple[str, Any], ...] = ()
    float_of: str | None = None       #: name of the binary reference this is the float twin of
    testset: int = 256                #: test images embedded in the firmware
    note: str = ""

    @property
    def run_dir(self) -> Path:
        return RUNS_DIR / self.name

    @property
    def model_options(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.options}

    def train_command(self) -> str:
        return f"python -m bnn_lq.zoo.reference train {self.name}"


_REFS = [
    Reference("bnn_mlp_digits", "bnn_mlp", "digits", "netduinoplus2", epochs=60,
              learning_rate=3e-3, batch_size=32, testset=450,
              note="scikit-learn's 8x8 digits with bnn_lq.data's fixed stratified split"),
    Reference("bnn_mlp_fashion", "bnn_mlp", "fashion_mnist", "netduinoplus2", epochs=15),
    Reference("mcu_tiny_fashion", "mcu_tiny", "fashion_mnist", "stm32vldiscovery", epochs=15,
              testset=16),
    Reference("mcu_micro_fashion", "mcu_micro", "fashion_mnist", "microbit", epochs=10,
              testset=32),
    Reference("mcu_f4_fashion", "mcu_f4", "fashion_mnist", "netduinoplus2", epochs=5),
    Reference("mcu_f4_fashion_float", "mcu_f4", "fashion_mnist", "netduinoplus2", epochs=5,
              float_of="mcu_f4_fashion"),
    Reference("binarynet_fashion", "binarynet", "fashion_mnist", "netduinoplus2", epochs=6,
              options=(("width", 0.25), ("dense_units", (256,))),
              note="BinaryNet's VGG-like CNN at a quarter of its filters, dense 256"),
    Reference("quicknet_small_fashion", "quicknet_small", "fashion_mnist", "mps2-an386",
              epochs=6, note="larq_zoo QuickNetSmall built for 28x28x1 (weights=None); its "
              "1.5 MB of packed weights need a board with more than 1 MB of flash (mps2-an386, "
              "a Cortex-M4 with 4 MB)"),
]
REFERENCES: dict[str, Reference] = {r.name: r for r in _REFS}


def _get(name: str) -> Reference:
    try:
        return REFERENCES[name]
    except KeyError:
        raise SystemExit(f"unknown reference model {name!r}; known: {', '.join(REFERENCES)}") from None


def _builder(ref: Reference):
    """A ``(input_shape, num_classes, **options)`` builder; float twins drop the quantizers."""
    from bnn_lq import zoo

    def build(input_shape, num_classes, **options):
        model = zoo.get(ref.arch, input_shape=input_shape, num_classes=num_classes, **options)
        if ref.float_of:
            from bnn_lq.convert.lce import to_float_model

            model = to_float_model(model)
        return model

    build.__name__ = ref.arch + ("_float" if ref.float_of else "")
    return build


def train(name: str):
    """Trains (or resumes) one reference model; returns the ``bnn_lq.train.Run``."""
    from bnn_lq import train as training

    ref = _get(name)
    model = _builder(ref) if ref.float_of else ref.arch
    return training.fit(model, ref.dataset, optimizer=ref.optimizer, epochs=ref.epochs,
                        batch_size=ref.batch_size, learning_rate=ref.learning_rate,
                        out_dir=ref.run_dir, resume=True, model_options=ref.model_options,
                        plots=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _figures_of_architecture(ref: Reference, keras_model) -> dict:
    from bnn_lq.budget import budget

    total = budget(keras_model).to_dict()["total"]
    return {"parameters": int(keras_model.count_params()),
            "binary_macs": total["binary_macs"], "real_macs": total["real_macs"],
            "packed_weight_bytes": total["binary_weight_bytes"] + total["real_float32_bytes"],
            "budget": total}


def card(name: str, *, eval_limit: int | None = None) -> dict:
    """Measures one trained reference model and writes its card (md + json + artefacts)."""
    import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
    from bnn_lq import deploy
    from bnn_lq import evaluate as ev
    from bnn_lq.convert import read
    from bnn_lq.convert.lce import to_tflite
    from bnn_lq.convert.plan import plan
    from bnn_lq.train import load_model, read_history

    ref = _get(name)
    keras_path = ref.run_dir / "model.keras"
    if not keras_path.is_file():
        raise SystemExit(f"{keras_path} does not exist: train it first with `{ref.train_command()}`")
    CARDS_DIR.mkdir(parents=True, exist_ok=True)
    model = load_model(keras_path)
    history = read_history(ref.run_dir / "history.csv")
    out: dict[str, Any] = {
        "name": ref.name, "architecture": ref.arch, "options": ref.model_options,
        "dataset": ref.dataset, "board": ref.board, "float_of": ref.float_of,
        "training": {"command": ref.train_command(), "epochs": ref.epochs,
                     "optimizer": ref.optimizer, "learning_rate": ref.learning_rate,
                     "batch_size": ref.batch_size, "schedule": "cosine",
                     "seconds": round(sum(float(h["seconds"]) for h in history), 1),
                     "val_accuracy_per_epoch": [float(h["val_accuracy"]) for h in history]},
        "card_command": f"python -m bnn_lq.zoo.reference card {ref.name}",
    }
    out.update(_figures_of_architecture(ref, model))
    t0 = time.time()

    if ref.float_of:
        result = ev.evaluate(keras_path, ref.dataset, runtimes=["keras"], limit=eval_limit,
                             keras_model=keras_path)
        out["accuracy"] = {"keras": result.accuracy["keras"]}
        out["test_images"] = result.n
    else:
        flat = to_tflite(model)
        committed = len(flat) <= _MAX_ARTEFACT
        tflite = (CARDS_DIR if committed else _BUILD.resolve()) / f"{ref.name}.tflite"
        tflite.parent.mkdir(parents=True, exist_ok=True)
        (CARDS_DIR / f"{ref.name}.tflite").unlink(missing_ok=True)
        tflite.write_bytes(flat)
        out["tflite"] = {"path": os.path.relpath(tflite, _ROOT), "bytes": tflite.stat().st_size,
                         "sha256": _sha256(tflite), "committed": committed}
        p = plan(read(tflite))
        out["plan"] = {"arena_bytes": p.arena_bytes, "weight_bytes": p.weight_bytes}
        print(f"[{ref.name}] evaluating {', '.join(_RUNTIMES)}", flush=True)
        result = ev.evaluate(tflite, ref.dataset, runtimes=list(_RUNTIMES), limit=eval_limit,
                             keras_model=keras_path,
                             runtime_options={"c-host": {"cache_dir": _BUILD / "c-host"}})
        if result.errors:
            raise SystemExit(f"{ref.name}: runtimes failed: {result.errors}")
        payload = result.to_json()
        out["accuracy"] = payload["accuracy"]
        out["agreement"] = payload["agreement"]
        out["max_abs_diff"] = payload["max_abs_diff"]
        out["test_images"] = result.n
        boards = [ref.board] + [b for b in (REFERENCE_BOARD,) if b != ref.board]
        out["devices"] = [_device(ref, tflite, deploy, board) for board in boards]
    if keras_path.stat().st_size <= _MAX_ARTEFACT:
        shutil.copy2(keras_path, CARDS_DIR / f"{ref.name}.keras")
        out["keras"] = {"path": f"zoo/cards/{ref.name}.keras", "bytes": keras_path.stat().st_size}
    else:
        out["keras"] = {"path": None, "bytes": keras_path.stat().st_size,
                        "why": "over 2 MB (float latent weights); rerun the train command"}
    shutil.copy2(ref.run_dir / "history.csv", CARDS_DIR / f"{ref.name}.history.csv")
    out["card_seconds"] = round(time.time() - t0, 1)
    (CARDS_DIR / f"{ref.name}.json").write_text(json.dumps(out, indent=1, default=str) + "\n")
    (CARDS_DIR / f"{ref.name}.md").write_text(_markdown(ref, out))
    print(f"[{ref.name}] wrote {CARDS_DIR / (ref.name + '.md')}", flush=True)
    return out


def _device(ref: Reference, tflite: Path, deploy, board: str) -> dict:
    build_dir = _BUILD / f"{ref.name}-{board}"
    images = ref.testset if board == ref.board else REFERENCE_BOARD_IMAGES
    while True:
        try:
            deploy.build(tflite, board=board, out_dir=build_dir,
                         testset=f"{ref.dataset}:{images}")
            break
        except Exception as exc:  # a model that does not fit its board says so on the card
            if isinstance(exc, FlashOverflowError) and images > 8:
                images //= 2  # the embedded test images did not fit: fewer of them
                print(f"[{ref.name}] {board}: flash overflow, retrying with {images} images",
                      flush=True)
                continue
            return {"board": board, "error": str(exc)}
    print(f"[{ref.name}] running on {board} (QEMU)", flush=True)
    res = deploy.run(build_dir, timeout=3600)
    d = res.to_dict()
    d["oracle_accuracy"] = res.oracle_correct / max(res.images, 1)
    return d


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def _markdown(ref: Reference, c: dict) -> str:
    acc = c["accuracy"]
    lines = [f"# {ref.name}: `{ref.arch}` on {ref.dataset}", "",
             f"Generated by `{c['card_command']}` from `{ref.run_dir}/model.keras`; do not edit by hand.",
             ""]
    if ref.float_of:
        lines += [f"Float twin of [`{ref.float_of}`]({ref.float_of}.md): the same architecture with every "
                  "quantizer removed, trained with the same budget.", ""]
    if ref.note:
        lines += [f"Note: {ref.note}.", ""]
    t = c["training"]
    lines += [
        f"- **Architecture**: `{ref.arch}` options `{json.dumps(ref.model_options)}`; board `{ref.board}`.",
        f"- **Training**: `{t['command']}` — {t['epochs']} epochs, {t['optimizer']}, lr {t['learning_rate']}, "
        f"batch {t['batch_size']}, {t['schedule']} schedule; {t['seconds']:.0f} s of training on this "
        "machine (2 cores, shared).",
        "- **Test accuracy after each of the last epochs**: "
        + ", ".join(f"{100 * v:.2f}" for v in t["val_accuracy_per_epoch"][-5:])
        + f" % (all epochs: `{ref.name}.history.csv`).",
    ]
    if "tflite" in c:
        lines.append(f"- **Artefacts**: `{c['tflite']['path']}` ({c['tflite']['bytes']:,} B, sha256 "
                     f"{c['tflite']['sha256'][:12]}…"
                     + ("" if c["tflite"].get("committed", True) else
                        "; not committed: over 2 MB, the card command rebuilds it")
                     + "); Keras model: "
                     + (f"`{c['keras']['path']}`" if c["keras"]["path"] else
                        f"not committed ({c['keras']['bytes']:,} B, {c['keras']['why']})") + ".")
    lines += ["", "| figure | value |", "|---|---|",
              f"| test images | {c['test_images']:,} |",
              f"| test accuracy, Keras | {_pct(acc.get('keras'))} |"]
    if not ref.float_of:
        lines += [f"| test accuracy, LCE interpreter | {_pct(acc.get('lce'))} |",
                  f"| test accuracy, NumPy interpreter | {_pct(acc.get('numpy'))} |",
                  f"| test accuracy, our C runtime on the host (c-host) | {_pct(acc.get('c-host'))} |"]
        for pair, value in c.get("agreement", {}).items():
            a, b = pair.split("|")
            lines.append(f"| argmax agreement {a} vs {b} (max abs output diff) | {_pct(value)} "
                         f"({c['max_abs_diff'][pair]:.2g}) |")
        for dev in c["devices"]:
            board = dev["board"]
            if "error" in dev:
                lines.append(f"| device ({board}, QEMU) | does not run: "
                             f"{dev['error'].splitlines()[0]} |")
                continue
            lines += [
                f"| device accuracy ({board}, QEMU, first {dev['images']} test images) | "
                f"{_pct(dev['accuracy'])} (LCE on the same images: {_pct(dev['oracle_accuracy'])}; "
                f"agreement {_pct(dev['agreement'])}) |",
                f"| instructions per inference ({board}) | {dev['per_inference']:,} |",
                f"| flash / RAM / measured stack ({board}) | {dev['flash_bytes']:,} B / "
                f"{dev['ram_bytes']:,} B / "
                f"{dev['stack_bytes'] if dev['stack_bytes'] is not None else '-'} B |"]
        lines += [f"| plan arena (RAM) / weights (flash) | {c['plan']['arena_bytes']:,} B / "
                  f"{c['plan']['weight_bytes']:,} B |"]
    for key, label in (("parameters", "parameters"), ("binary_macs", "binary MACs"),
                       ("real_macs", "real MACs"), ("packed_weight_bytes", "bit-packed weights (budget)")):
        if c.get(key) is not None:
            lines.append(f"| {label} | {c[key]:,} |")
    return "\n".join(lines) + "\n"


def table(cards_dir: Path = CARDS_DIR, *, link_prefix: str = "zoo/cards/") -> str:
    """The README's zoo table, one row per card JSON (links relative to the repository root;
    ``link_prefix=""`` for a table inside zoo/cards/)."""
    rows = ["| model | data | board | Keras | LCE | NumPy | C (host) | on its board (agreement "
            "with LCE, images) | M4 instr./inference | weights (plan) | arena | epochs |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for path in sorted(cards_dir.glob("*.json")):
        c = json.loads(path.read_text())
        if "accuracy" not in c:
            continue
        acc, devs = c["accuracy"], c.get("devices") or []
        dev = devs[0] if devs else {}
        ref_dev = next((d for d in devs if d["board"] == REFERENCE_BOARD), {})
        device = ("-" if not dev else "does not fit" if "error" in dev else
                  f"{_pct(dev['accuracy'])} ({_pct(dev['agreement'])}, {dev['images']} img.)")
        instr = (f"{ref_dev['per_inference']:,}" if ref_dev and "error" not in ref_dev else "-")
        plan_ = c.get("plan") or {}
        rows.append(f"| [{c['name']}]({link_prefix}{c['name']}.md) | {c['dataset']} | {c['board']} | "
                    f"{_pct(acc.get('keras'))} | {_pct(acc.get('lce'))} | {_pct(acc.get('numpy'))} | "
                    f"{_pct(acc.get('c-host'))} | {device} | {instr} | {plan_.get('weight_bytes', '-'):,} | "
                    f"{plan_.get('arena_bytes', '-'):,} | {c['training']['epochs']} |"
                    if plan_ else
                    f"| [{c['name']}]({link_prefix}{c['name']}.md) | {c['dataset']} | - | "
                    f"{_pct(acc.get('keras'))} | - | - | - | float twin of {c['float_of']} | - | - | - | "
                    f"{c['training']['epochs']} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnn_lq.zoo.reference", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in ("train", "card"):
        p = sub.add_parser(cmd)
        p.add_argument("names", nargs="+", help=f"reference models or 'all': {', '.join(REFERENCES)}")
        if cmd == "card":
            p.add_argument("--eval-limit", type=int, default=None, help="test images (default: all)")
    sub.add_parser("list")
    t = sub.add_parser("table")
    t.add_argument("--link-prefix", default="zoo/cards/",
                   help="prefix of the card links (default zoo/cards/, for the README)")
    args = parser.parse_args(argv)
    if args.command == "list":
        for r in _REFS:
            print(f"{r.name:26s} {r.arch:16s} {r.dataset:14s} {r.board:18s} {r.epochs:3d} epochs")
        return 0
    if args.command == "table":
        print(table(link_prefix=args.link_prefix))
        return 0
    names = list(REFERENCES) if args.names == ["all"] else args.names
    for n in names:
        _get(n)
    for n in names:
        if args.command == "train":
            run = train(n)
            print(f"[{n}] test accuracy {run.test_accuracy}", flush=True)
        else:
            card(n, eval_limit=args.eval_limit)
    return 0


if __name__ == "__main__":
    import bnn_lq  # noqa: F401

    sys.exit(main())
