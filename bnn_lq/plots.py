"""The three pictures of a training run: training curves, a confusion matrix and a
grid of sample predictions, written as PNG with matplotlib's Agg backend.

Each function takes plain NumPy data and a path, and writes one file; nothing
here imports TensorFlow.

Example:
    >>> import tempfile, pathlib
    >>> from bnn_lq import plots
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "cm.png"
    >>> plots.confusion_matrix([0, 1, 1], [0, 1, 0], out, num_classes=2).is_file()
    True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

__all__ = ["confusion_counts", "confusion_matrix", "sample_predictions", "training_curves"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    os.replace(tmp, path)
    return path


def training_curves(history: Sequence[Mapping[str, float]], path: str | os.PathLike, *,
                    title: str = "") -> Path:
    """Loss and accuracy per epoch, training and validation side by side.

    Args:
        history: One mapping per epoch with keys ``epoch``, ``loss``, ``accuracy`` and
            optionally ``val_loss``, ``val_accuracy``.
        path: Output PNG.
        title: Figure title.
    """
    plt = _pyplot()
    epochs = [int(r["epoch"]) for r in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", "accuracy")):
        for prefix, label in (("", "train"), ("val_", "validation")):
            values = [r.get(prefix + key) for r in history]
            if any(v is not None and v == v for v in values):
                ax.plot(epochs, [np.nan if v is None else float(v) for v in values], marker="o",
                        label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def confusion_counts(y_true, y_pred, *, num_classes: int | None = None) -> np.ndarray:
    """``counts[t, p]``: how many examples of true class t were predicted as p."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    n = int(num_classes or max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def confusion_matrix(y_true, y_pred, path: str | os.PathLike, *, num_classes: int | None = None,
                     class_names: Sequence[str] | None = None, title: str = "") -> Path:
    """Confusion matrix with counts in each cell (rows: true class, columns: predicted)."""
    plt = _pyplot()
    counts = confusion_counts(y_true, y_pred, num_classes=num_classes)
    n = len(counts)
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    size = max(4.0, 0.5 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(counts, cmap="Blues")
    if n <= 20:
        for t in range(n):
            for p in range(n):
                ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=8,
                        color="white" if counts[t, p] > counts.max() / 2 else "black")
        ax.set_xticks(range(n), names, rotation=45, ha="right")
        ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(counts) / max(1, counts.sum())
    ax.set_title(f"{title + ': ' if title else ''}accuracy {acc:.2%} ({counts.sum()} examples)")
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def sample_predictions(x, y_true, y_pred, path: str | os.PathLike, *, count: int = 25,
                       class_names: Sequence[str] | None = None) -> Path:
    """A grid of images titled ``predicted (true)``, wrong ones in red.

    Args:
        x: NHWC images in [-1, 1]; the first ``count`` are shown.
    """
    plt = _pyplot()
    x = np.asarray(x)[:count]
    y_true = np.asarray(y_true)[:count]
    y_pred = np.asarray(y_pred)[:count]
    cols = int(np.ceil(np.sqrt(len(x)))) or 1
    rows = int(np.ceil(len(x) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
    name = (lambda i: class_names[i]) if class_names is not None else str
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, t, p in zip(axes.flat, x, y_true, y_pred):
        img = np.clip((img + 1.0) / 2.0, 0.0, 1.0)
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None)
        ax.set_title(f"{name(int(p))} ({name(int(t))})", fontsize=8,
                     color="black" if p == t else "red")
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)
