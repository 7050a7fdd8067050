"""Data sets for training and evaluation: one registry, NumPy arrays out.

Every loader returns ``(x, y)`` with ``x`` float32 NHWC scaled to [-1, 1] and ``y``
int64 class indices. Names:

- ``fashion_mnist``: the real IDX files of Debian's ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``), parsed and validated here; falls back
  to ``tf.keras.datasets.fashion_mnist``.
- ``mnist``, ``cifar10``, ``cifar100``: the Keras loaders (network or Keras cache).
- ``digits``: scikit-learn's bundled 8x8 digits, with a fixed stratified split.
- ``npz:PATH``, ``idx:DIR``, ``folder:DIR``: your own data.

A ``limit`` takes a deterministic seeded subset: the same ``limit`` and ``seed``
always give the same images. ``as_dataset`` wraps arrays in a ``tf.data``
pipeline (TensorFlow is imported only there).

Example:
    >>> from bnn_lq import data
    >>> x, y = data.load("digits", "test", limit=16)
    >>> x.shape, x.dtype.name, y.dtype.name
    ((16, 8, 8, 1), 'float32', 'int64')
    >>> bool(x.min() >= -1.0 and x.max() <= 1.0)
    True
"""

from __future__ import annotations

import builtins
import gzip
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from bnn_lq.errors import DataError

__all__ = ["CLASS_NAMES", "as_dataset", "list", "load", "names", "num_classes", "parse_idx", "DEBIAN_FASHION_MNIST"]

#: Where Debian's ``dataset-fashion-mnist`` package puts the IDX files.
DEBIAN_FASHION_MNIST = Path(os.environ.get("BNN_LQ_FASHION_MNIST_DIR",
                                           "/usr/share/datasets/fashion-mnist"))

_SPLITS = ("train", "test")

# IDX element types: code -> (numpy dtype, big-endian), from the IDX format description
# (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

#: Human-readable class names of the built-in sets that have them (used by the plots).
CLASS_NAMES = {
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"),
}

_NUM_CLASSES = {"fashion_mnist": 10, "mnist": 10, "cifar10": 10, "cifar100": 100, "digits": 10}

_HOW_TO_PROVIDE = (
    "Provide it in one of these ways: install the Debian package (fashion_mnist: "
    "'apt-get install dataset-fashion-mnist'); point at your own copy with "
    "--dataset npz:PATH (keys x_train/y_train/x_test/y_test), idx:DIR (the four "
    "*-ubyte[.gz] files) or folder:DIR (one subfolder of images per class); or run once "
    "with network access so that Keras caches it in ~/.keras/datasets."
)


# --------------------------------------------------------------------------- IDX


def parse_idx(path: str | os.PathLike) -> np.ndarray:
    """Parses one IDX file (optionally gzip-compressed) into a NumPy array.

    Validates the magic number (two zero bytes, a known type code, 1..4 dims) and
    that the payload holds exactly ``prod(dims)`` elements.

    Raises:
        DataError: naming the file when it is missing, truncated, or malformed.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read IDX file {path}: {exc.strerror or exc}") from exc
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"IDX file {path} is not a complete gzip stream ({exc}); the file "
                            "is truncated or corrupt: download or reinstall it") from exc
    if len(raw) < 4:
        raise DataError(f"IDX file {path}: {len(raw)} bytes, too short for the 4-byte magic number")
    zero0, zero1, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0 or type_code not in _IDX_TYPES or not 1 <= ndim <= 4:
        raise DataError(
            f"IDX file {path}: bad magic number 0x{raw[:4].hex()}; expected 0x0000TTNN with type "
            f"TT in {{{', '.join(f'{t:02x}' for t in _IDX_TYPES)}}} and 1 <= NN <= 4 dims")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"IDX file {path}: truncated header ({len(raw)} bytes, need {header})")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        raise DataError(
            f"IDX file {path}: dims {dims} of {dtype.name} need {expected} payload bytes, the "
            f"file has {got}; it is {'truncated' if got < expected else 'followed by junk'}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _find_idx(directory: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem, stem.replace("-idx", ".idx"), f"{stem.replace('-idx', '.idx')}.gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def _load_idx_dir(directory: Path, split: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    img_stem, lbl_stem = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
    img_path, lbl_path = _find_idx(directory, img_stem), _find_idx(directory, lbl_stem)
    if img_path is None or lbl_path is None:
        missing = [s for s, p in ((img_stem, img_path), (lbl_stem, lbl_path)) if p is None]
        raise DataError(f"{what}: no {' or '.join(missing)}[.gz] in {directory}. {_HOW_TO_PROVIDE}")
    images, labels = parse_idx(img_path), parse_idx(lbl_path)
    if images.ndim not in (3, 4):
        raise DataError(f"IDX file {img_path}: images must have 3 dims (N, H, W) or 4 (N, H, W, C), "
                        f"got shape {images.shape}")
    if labels.ndim != 1:
        raise DataError(f"IDX file {lbl_path}: labels must have 1 dim, got shape {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{what}: {img_path} holds {len(images)} images but {lbl_path} "
                        f"holds {len(labels)} labels")
    return images, labels


# --------------------------------------------------------------------------- scaling


def _to_pm1(images: np.ndarray, *, max_value: float = 255.0) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    return x * np.float32(2.0 / max_value) - np.float32(1.0)


def _labels(y: np.ndarray, where: str) -> np.ndarray:
    y = np.asarray(y).reshape(-1)
    if y.size and (not np.issubdtype(y.dtype, np.integer)):
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise DataError(f"{where}: labels must be integer class indices, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise DataError(f"{where}: labels must be >= 0, found {y.min()}")
    return y


# --------------------------------------------------------------------------- built-in sets


def _keras_loader(name: str) -> Callable[[], tuple]:
    def load_keras():
        import bnn_lq  # noqa: F401  (Keras 2 switch before TensorFlow)
        import tensorflow as tf

        module = getattr(tf.keras.datasets, name)
        cache = Path(os.path.expanduser("~/.keras/datasets"))
        try:
            return module.load_data()
        except Exception as exc:  # network errors come as several types
            raise DataError(
                f"data set {name!r}: the Keras loader tf.keras.datasets.{name} failed ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}). It looked in the Keras cache {cache} "
                f"and then on the network. {_HOW_TO_PROVIDE}") from exc

    return load_keras


def _fashion_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    directory = DEBIAN_FASHION_MNIST
    if directory.is_dir():
        images, labels = _load_idx_dir(directory, split, "fashion_mnist")
        return _to_pm1(images), _labels(labels, str(directory))
    try:
        (xtr, ytr), (xte, yte) = _keras_loader("fashion_mnist")()
    except DataError as exc:
        raise DataError(f"data set 'fashion_mnist': not found in {directory} (Debian package "
                        f"dataset-fashion-mnist) and {exc}") from exc
    x, y = (xtr, ytr) if split == "train" else (xte, yte)
    return _to_pm1(x), _labels(y, "tf.keras.datasets.fashion_mnist")


def _keras_set(name: str) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    def load_split(split: str):
        (xtr, ytr), (xte, yte) = _keras_loader(name)()
        x, y = (xtr, ytr) if split == "train" else (xte, yte)
        return _to_pm1(x), _labels(y, f"tf.keras.datasets.{name}")

    return load_split


#: Seed of the fixed train/test split of ``digits`` (never changes, so results compare).
_DIGITS_SPLIT_SEED = 0
_DIGITS_TEST_FRACTION = 0.25


def _digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images, target = bunch.images, bunch.target  # images in 0..16
    rng = np.random.default_rng(_DIGITS_SPLIT_SEED)
    test_idx = []
    for c in np.unique(target):  # stratified: the same fraction of every class
        idx = np.flatnonzero(target == c)
        idx = rng.permutation(idx)
        test_idx.extend(idx[: int(round(len(idx) * _DIGITS_TEST_FRACTION))].tolist())
    is_test = np.zeros(len(target), dtype=bool)
    is_test[test_idx] = True
    sel = is_test if split == "test" else ~is_test
    return _to_pm1(images[sel], max_value=16.0), target[sel].astype(np.int64)


_BUILTIN: dict[str, Callable[[str], tuple[np.ndarray, np.ndarray]]] = {
    "cifar10": _keras_set("cifar10"),
    "cifar100": _keras_set("cifar100"),
    "digits": _digits,
    "fashion_mnist": _fashion_mnist,
    "mnist": _keras_set("mnist"),
}

_ALIASES = {"fashion-mnist": "fashion_mnist", "fmnist": "fashion_mnist", "cifar-10": "cifar10",
            "cifar-100": "cifar100"}

_USER_PREFIXES = ("npz:", "idx:", "folder:")


# --------------------------------------------------------------------------- user data


def _npz(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DataError(f"data set npz:{path}: no such file. {_HOW_TO_PROVIDE}")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            if {"x_train", "y_train", "x_test", "y_test"} <= keys:
                x, y = f[f"x_{split}"], f[f"y_{split}"]
            elif {"x", "y"} <= keys:
                x, y = f["x"], f["y"]
            else:
                raise DataError(f"npz file {path}: keys {sorted(keys)}; expected x_train, y_train, "
                                "x_test, y_test (or x, y for a single split)")
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zlib.error, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"npz file {path} is corrupt or truncated ({type(exc).__name__}: {exc})") from exc
    x = np.asarray(x)
    where = f"npz file {path}"
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise DataError(f"{where}: images must be (N, H, W) or (N, H, W, C), got shape {x.shape}")
    if len(x) != len(np.asarray(y).reshape(-1)):
        raise DataError(f"{where}: {len(x)} images but {np.asarray(y).size} labels")
    if np.issubdtype(x.dtype, np.integer):
        x = _to_pm1(x)
    else:
        x = x.astype(np.float32)
        lo, hi = float(x.min(initial=0.0)), float(x.max(initial=0.0))
        if lo >= 0.0 and hi <= 1.0:
            x = x * 2.0 - 1.0  # [0, 1] floats
        elif lo >= 0.0 and hi <= 255.0:
            x = _to_pm1(x)  # [0, 255] floats
        elif lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6:
            raise DataError(f"{where}: float images in [{lo}, {hi}]; expected [-1, 1], [0, 1] or [0, 255]")
    return x.astype(np.float32), _labels(y, where)


_IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".pgm", ".webp"}


def _folder(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``root/<class>/*.png`` or ``root/{train,test}/<class>/*.png``; classes sorted by name."""
    if not root.is_dir():
        raise DataError(f"data set folder:{root}: no such directory. {_HOW_TO_PROVIDE}")
    base = root / split if (root / "train").is_dir() and (root / "test").is_dir() else root
    classes = sorted(p.name for p in base.iterdir() if p.is_dir())
    if not classes:
        raise DataError(f"data set folder:{base}: no class subfolders; expected one folder of images "
                        f"per class (e.g. {base}/cat/*.png)")
    from PIL import Image, UnidentifiedImageError

    images, labels, shape = [], [], None
    for label, cls in enumerate(classes):
        files = sorted(p for p in (base / cls).iterdir() if p.suffix.lower() in _IMAGE_EXTS)
        for file in files:
            try:
                with Image.open(file) as im:
                    im.load()
                    gray = im.mode in ("1", "L", "LA", "I", "I;16", "F")
                    arr = np.asarray(im.convert("L" if gray else "RGB"))
            except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
                raise DataError(f"image file {file} is corrupt or truncated ({exc})") from exc
            arr = arr[..., None] if arr.ndim == 2 else arr
            if shape is None:
                shape = arr.shape
            elif arr.shape != shape:
                raise DataError(f"image file {file}: shape {arr.shape}, but earlier images are {shape}; "
                                "all images of a folder data set must have one size")
            images.append(arr)
            labels.append(label)
    if not images:
        raise DataError(f"data set folder:{base}: the class folders {classes} hold no images "
                        f"({', '.join(sorted(_IMAGE_EXTS))})")
    x = _to_pm1(np.stack(images))
    y = np.asarray(labels, dtype=np.int64)
    if base == root:  # one pool of images: a fixed stratified split like digits
        rng = np.random.default_rng(_DIGITS_SPLIT_SEED)
        is_test = np.zeros(len(y), dtype=bool)
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            is_test[idx[: int(round(len(idx) * _DIGITS_TEST_FRACTION))]] = True
        sel = is_test if split == "test" else ~is_test
        x, y = x[sel], y[sel]
    return x, y


def _folder_classes(root: Path) -> int:
    base = root / "train" if (root / "train").is_dir() and (root / "test").is_dir() else root
    return sum(1 for p in base.iterdir() if p.is_dir()) if base.is_dir() else 0


# --------------------------------------------------------------------------- public API


def names() -> builtins.list[str]:
    """Built-in data set names plus the user-data prefixes (``npz:``, ``idx:``, ``folder:``)."""
    return sorted(_BUILTIN) + [f"{p}PATH" for p in _USER_PREFIXES]


list = names  # noqa: A001  (the issue's name: ``bnn_lq.data.list()``)


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"data set name must be a str, got {type(name).__name__}")
    return _ALIASES.get(name, name)


def load(name: str, split: str = "train", *, limit: int | None = None,
         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Loads one split of a data set.

    Args:
        name: A built-in name (see ``names()``) or ``npz:PATH``, ``idx:DIR``, ``folder:DIR``.
        split: ``"train"`` or ``"test"``.
        limit: Keep at most this many examples: a seeded random subset in the
            original order, the same for the same ``seed`` every time.
        seed: Seed of the subset chosen by ``limit``.

    Returns:
        ``(x, y)``: float32 NHWC images in [-1, 1] and int64 labels.

    Raises:
        DataError: unknown name, data not available (says where it looked and how to
            provide it), or a corrupt/truncated file (named).
    """
    name = _canonical(name)
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 or None, got {limit}")
    if name in _BUILTIN:
        x, y = _BUILTIN[name](split)
    elif name.startswith("npz:"):
        x, y = _npz(Path(os.path.expanduser(name[4:])), split)
    elif name.startswith("idx:"):
        d = Path(os.path.expanduser(name[4:]))
        if not d.is_dir():
            raise DataError(f"data set {name}: no such directory {d}. {_HOW_TO_PROVIDE}")
        images, labels = _load_idx_dir(d, split, name)
        x, y = _to_pm1(images), _labels(labels, str(d))
    elif name.startswith("folder:"):
        x, y = _folder(Path(os.path.expanduser(name[7:])), split)
    else:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(names())}")
    if limit is not None and limit < len(x):
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(x), size=limit, replace=False))
        x, y = x[keep], y[keep]
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64)


def num_classes(name: str) -> int:
    """Number of classes of a data set (for user data: max label + 1 over both splits)."""
    name = _canonical(name)
    if name in _NUM_CLASSES:
        return _NUM_CLASSES[name]
    if name.startswith("folder:"):
        return _folder_classes(Path(os.path.expanduser(name[7:])))
    if any(name.startswith(p) for p in _USER_PREFIXES):
        n = 0
        for split in _SPLITS:
            try:
                _, y = load(name, split)
            except DataError:
                if split == "test":
                    continue
                raise
            n = max(n, int(y.max(initial=-1)) + 1)
        return n
    raise DataError(f"unknown data set {name!r}; known: {', '.join(names())}")


def as_dataset(x: np.ndarray, y: np.ndarray, *, batch_size: int, shuffle: bool = True,
               augment: bool = False, seed: int = 0, drop_remainder: bool = False):
    """A batched ``tf.data.Dataset`` of ``(x, y)``.

    Args:
        batch_size: Examples per batch.
        shuffle: Reshuffle every epoch (seeded).
        augment: Random crop with 4-pixel padding (edge values of -1, i.e. black) and
            a random horizontal flip, for the CNN data sets.
        seed: Seed of shuffling and augmentation.
        drop_remainder: Drop the last incomplete batch.
    """
    import bnn_lq  # noqa: F401
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment:
        h, w, c = x.shape[1:]
        pad = 4

        def _augment(img, label):
            img = tf.pad(img, [[pad, pad], [pad, pad], [0, 0]], constant_values=-1.0)
            img = tf.image.random_crop(img, (h, w, c), seed=seed)
            img = tf.image.random_flip_left_right(img, seed=seed)
            return img, label

        ds = ds.map(_augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
