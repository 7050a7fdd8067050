"""The trained reference models (zoo/reference.py) and their committed cards agree.

Each card's JSON names a committed ``.tflite`` with its sha256 and the device run's counts on
the first N test images (LCE's correct count there is the oracle the device was checked
against). Rerunning our NumPy interpreter on the committed file and the same N images must
give that count again: the artefact in the tree is the one the card measured.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bnn_lq.zoo import reference

CARDS = sorted(reference.CARDS_DIR.glob("*.json"))


def test_every_reference_names_a_zoo_architecture_and_a_board():
    from bnn_lq import deploy, zoo

    for ref in reference.REFERENCES.values():
        assert ref.arch in zoo.names(), ref.name
        assert ref.board in deploy.BOARDS, ref.name
        assert ref.float_of is None or ref.float_of in reference.REFERENCES, ref.name
    assert reference.REFERENCE_BOARD in deploy.BOARDS


def test_cards_exist_for_committed_jsons():
    assert CARDS, "no card JSON under zoo/cards"
    for path in CARDS:
        card = json.loads(path.read_text())
        assert card["name"] in reference.REFERENCES, path
        assert path.with_suffix(".md").is_file(), path


def test_table_has_one_row_per_card():
    rows = [r for r in reference.table().splitlines() if r.startswith("| [")]
    assert len(rows) == len(CARDS)


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in CARDS
                                  if json.loads(p.read_text()).get("tflite", {}).get("committed", True)
                                  and "tflite" in json.loads(p.read_text())],
                         ids=lambda p: p.stem)
def test_committed_tflite_reproduces_the_card(path: Path):
    from bnn_lq import data
    from bnn_lq import evaluate as ev

    card = json.loads(path.read_text())
    tflite = reference.CARDS_DIR.parent.parent / card["tflite"]["path"]
    assert hashlib.sha256(tflite.read_bytes()).hexdigest() == card["tflite"]["sha256"]
    runs = [d for d in card["devices"] if "error" not in d]
    assert runs, f"{path.name}: no device run"
    dev = min(runs, key=lambda d: d["images"])
    assert dev["agree"] == dev["images"] and dev["correct"] == dev["oracle_correct"]
    x, y = data.load(card["dataset"], "test", limit=dev["images"])
    result = ev.evaluate(tflite, (x, y), runtimes=["numpy"])
    assert not result.errors, result.errors
    assert round(result.accuracy["numpy"] * dev["images"]) == dev["oracle_correct"]
