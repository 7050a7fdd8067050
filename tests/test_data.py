"""bnn_lq.data: the registry, IDX/NPZ/folder parsing, clear errors, seeded subsets."""

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bnn_lq import data
from bnn_lq.errors import DataError

FASHION = data.DEBIAN_FASHION_MNIST
HAS_FASHION = (FASHION / "t10k-images-idx3-ubyte.gz").is_file()


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(">u1" if type_code == 0x08 else array.dtype).tobytes()


def _write_idx_dir(root: Path, n_train=12, n_test=6, *, compress=True, rng=None):
    rng = rng or np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 5, 4), dtype=np.uint8)
        labels = rng.integers(0, 3, size=(n,), dtype=np.uint8)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            raw = _idx_bytes(arr)
            name = f"{prefix}-{kind}-ubyte"
            if compress:
                (root / f"{name}.gz").write_bytes(gzip.compress(raw))
            else:
                (root / name).write_bytes(raw)
        arrays[prefix] = (images, labels)
    return arrays


# --------------------------------------------------------------------------- registry


def test_names_lists_builtins_and_prefixes():
    assert data.list() == data.names()
    for name in ("fashion_mnist", "mnist", "cifar10", "cifar100", "digits", "npz:PATH", "idx:PATH",
                 "folder:PATH"):
        assert name in data.names()


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(DataError, match="unknown data set 'nope'.*digits.*fashion_mnist"):
        data.load("nope", "train")


def test_bad_split_is_a_value_error():
    with pytest.raises(ValueError, match="split"):
        data.load("digits", "validation")


def test_num_classes():
    assert data.num_classes("fashion_mnist") == 10
    assert data.num_classes("cifar100") == 100


# --------------------------------------------------------------------------- digits


def test_digits_fixed_stratified_split():
    x_tr, y_tr = data.load("digits", "train")
    x_te, y_te = data.load("digits", "test")
    assert x_tr.shape[1:] == (8, 8, 1) and x_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert len(x_tr) + len(x_te) == 1797
    assert x_tr.min() >= -1.0 and x_tr.max() <= 1.0 and x_tr.min() == -1.0 and x_tr.max() == 1.0
    # Stratified: every class has ~25 % of its examples in test.
    counts_te, counts_tr = np.bincount(y_te, minlength=10), np.bincount(y_tr, minlength=10)
    assert np.all(np.abs(counts_te / (counts_te + counts_tr) - 0.25) < 0.01)
    # Fixed: the same split every call, and the two splits share no image.
    x_te2, y_te2 = data.load("digits", "test")
    np.testing.assert_array_equal(x_te, x_te2)
    np.testing.assert_array_equal(y_te, y_te2)
    tr_rows = {row.tobytes() for row in x_tr.reshape(len(x_tr), -1)}
    dup = sum(row.tobytes() in tr_rows for row in x_te.reshape(len(x_te), -1))
    assert dup <= 5  # the digits set itself contains a few identical images, nothing more


def test_limit_is_a_deterministic_seeded_subset():
    x_all, y_all = data.load("digits", "test")
    x1, y1 = data.load("digits", "test", limit=50, seed=3)
    x2, y2 = data.load("digits", "test", limit=50, seed=3)
    x3, _ = data.load("digits", "test", limit=50, seed=4)
    assert len(x1) == 50
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert not np.array_equal(x1, x_all[:50])  # a random subset, not the head
    # A subset of the original examples, kept in their original order.
    all_rows = [r.tobytes() for r in x_all.reshape(len(x_all), -1)]
    positions = [all_rows.index(r.tobytes()) for r in x1.reshape(50, -1)]
    assert positions == sorted(positions)
    # Larger than the split: everything.
    assert len(data.load("digits", "test", limit=10**6)[0]) == len(x_all)


def test_load_does_not_import_tensorflow():
    code = ("import sys, bnn_lq; from bnn_lq import data; data.load('digits', 'test', limit=4); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- fashion_mnist


@pytest.mark.skipif(not HAS_FASHION, reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian_idx_files():
    x, y = data.load("fashion_mnist", "test")
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.array_equal(np.bincount(y), np.full(10, 1000))  # the real test set: 1000 per class
    x_tr, y_tr = data.load("fashion_mnist", "train", limit=256, seed=0)
    assert x_tr.shape == (256, 28, 28, 1)
    x_tr2, _ = data.load("fashion-mnist", "train", limit=256, seed=0)  # alias
    np.testing.assert_array_equal(x_tr, x_tr2)


def test_fashion_mnist_missing_everywhere_says_where_and_how(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "absent")

    def offline():
        raise DataError("data set 'fashion_mnist': the Keras loader failed (offline)")

    monkeypatch.setattr(data, "_keras_loader", lambda name: offline)
    with pytest.raises(DataError) as err:
        data.load("fashion_mnist", "test")
    msg = str(err.value)
    assert str(tmp_path / "absent") in msg and "dataset-fashion-mnist" in msg


def test_keras_loader_offline_error_names_set_place_and_remedies(monkeypatch):
    import tensorflow as tf

    def no_network():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tf.keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(DataError) as err:
        data.load("mnist", "train")
    msg = str(err.value)
    assert "'mnist'" in msg and ".keras/datasets" in msg
    assert "npz:" in msg and "idx:" in msg and "folder:" in msg and "apt-get install" in msg
    assert "network" in msg


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
def test_idx_dir_round_trip(tmp_path, compress):
    arrays = _write_idx_dir(tmp_path, compress=compress)
    x, y = data.load(f"idx:{tmp_path}", "train")
    images, labels = arrays["train"]
    assert x.shape == (12, 5, 4, 1)
    np.testing.assert_allclose(x[..., 0], images / 255.0 * 2.0 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(y, labels)
    x_te, _ = data.load(f"idx:{tmp_path}", "test")
    assert len(x_te) == 6
    assert data.num_classes(f"idx:{tmp_path}") == max(arrays["train"][1].max(), arrays["t10k"][1].max()) + 1


def test_idx_bad_magic_names_the_file(tmp_path):
    _write_idx_dir(tmp_path)
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(bad.read_bytes()))
    raw[0] = 7
    bad.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*magic"):
        data.load(f"idx:{tmp_path}", "train")


def test_idx_unknown_type_code_is_rejected(tmp_path):
    p = tmp_path / "x-idx1-ubyte"
    p.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\0")
    with pytest.raises(DataError, match="magic"):
        data.parse_idx(p)


def test_idx_truncated_payload_names_the_file(tmp_path):
    _write_idx_dir(tmp_path, compress=False)
    p = tmp_path / "t10k-labels-idx1-ubyte"
    p.write_bytes(p.read_bytes()[:-2])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.*truncated"):
        data.load(f"idx:{tmp_path}", "test")


def test_idx_truncated_gzip_names_the_file(tmp_path):
    _write_idx_dir(tmp_path)
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-9])
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz.*(gzip|truncated)"):
        data.load(f"idx:{tmp_path}", "train")


def test_idx_truncated_header(tmp_path):
    p = tmp_path / "h-idx3-ubyte"
    p.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataError, match="truncated header"):
        data.parse_idx(p)


def test_idx_image_label_count_mismatch(tmp_path):
    _write_idx_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(np.zeros(11, dtype=np.uint8))))
    with pytest.raises(DataError, match="12 images.*11 labels"):
        data.load(f"idx:{tmp_path}", "train")


def test_idx_missing_files_say_what_and_how(tmp_path):
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.*npz:"):
        data.load(f"idx:{tmp_path}", "train")


@pytest.mark.skipif(not HAS_FASHION, reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_label_file_parses_with_exact_header():
    labels = data.parse_idx(FASHION / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and labels.dtype == np.uint8 and labels.max() == 9


# --------------------------------------------------------------------------- NPZ


def test_npz_train_test_keys_and_scaling(tmp_path, rng):
    p = tmp_path / "d.npz"
    xtr = rng.integers(0, 256, size=(10, 6, 6), dtype=np.uint8)
    np.savez(p, x_train=xtr, y_train=np.arange(10) % 4, x_test=xtr[:3], y_test=np.array([0, 1, 2]))
    x, y = data.load(f"npz:{p}", "train")
    assert x.shape == (10, 6, 6, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], xtr / 255.0 * 2 - 1, atol=1e-6)
    np.testing.assert_array_equal(y, np.arange(10) % 4)
    assert len(data.load(f"npz:{p}", "test")[0]) == 3
    assert data.num_classes(f"npz:{p}") == 4


def test_npz_single_split_float01(tmp_path, rng):
    p = tmp_path / "xy.npz"
    np.savez(p, x=rng.random((5, 4, 4, 3)).astype(np.float32), y=np.array([0, 1, 0, 1, 1]))
    x, y = data.load(f"npz:{p}", "train")
    assert x.shape == (5, 4, 4, 3) and x.min() >= -1 and x.max() <= 1 and y.dtype == np.int64


def test_npz_wrong_keys(tmp_path):
    p = tmp_path / "k.npz"
    np.savez(p, images=np.zeros((2, 3, 3)))
    with pytest.raises(DataError, match=r"k\.npz.*x_train"):
        data.load(f"npz:{p}", "train")


def test_npz_truncated_names_the_file(tmp_path, rng):
    p = tmp_path / "t.npz"
    np.savez_compressed(p, x=rng.integers(0, 255, (50, 8, 8), dtype=np.uint8), y=np.zeros(50, int))
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(DataError, match=r"t\.npz"):
        data.load(f"npz:{p}", "train")


def test_npz_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.load(f"npz:{tmp_path / 'none.npz'}", "train")


# --------------------------------------------------------------------------- folder


def _png_folder(root: Path, classes=("zebra", "ant", "cat"), per_class=4, size=(6, 5)):
    from PIL import Image

    for i, cls in enumerate(classes):
        (root / cls).mkdir(parents=True)
        for j in range(per_class):
            arr = np.full((size[1], size[0]), 40 * i + j, dtype=np.uint8)
            Image.fromarray(arr).save(root / cls / f"{j}.png")


def test_folder_classes_sorted_by_name(tmp_path):
    _png_folder(tmp_path)
    x_tr, y_tr = data.load(f"folder:{tmp_path}", "train")
    x_te, y_te = data.load(f"folder:{tmp_path}", "test")
    assert len(x_tr) + len(x_te) == 12 and x_tr.shape[1:] == (5, 6, 1)
    assert data.num_classes(f"folder:{tmp_path}") == 3
    # "ant" (pixel 40..43) is class 0, "cat" (80..) class 1, "zebra" (0..) class 2.
    x, y = np.concatenate([x_tr, x_te]), np.concatenate([y_tr, y_te])
    pixel = np.rint((x[:, 0, 0, 0] + 1) / 2 * 255).astype(int)
    for label, lo in ((0, 40), (1, 80), (2, 0)):
        assert np.all((pixel[y == label] >= lo) & (pixel[y == label] < lo + 4))


def test_folder_with_train_test_subfolders(tmp_path):
    _png_folder(tmp_path / "train", per_class=3)
    _png_folder(tmp_path / "test", per_class=1)
    assert len(data.load(f"folder:{tmp_path}", "train")[0]) == 9
    assert len(data.load(f"folder:{tmp_path}", "test")[0]) == 3


def test_folder_corrupt_image_names_the_file(tmp_path):
    _png_folder(tmp_path)
    bad = tmp_path / "cat" / "2.png"
    bad.write_bytes(bad.read_bytes()[:30])
    with pytest.raises(DataError, match=r"cat/2\.png"):
        data.load(f"folder:{tmp_path}", "train")


def test_folder_mixed_sizes_rejected(tmp_path):
    from PIL import Image

    _png_folder(tmp_path)
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(tmp_path / "ant" / "big.png")
    with pytest.raises(DataError, match="big.png.*one size"):
        data.load(f"folder:{tmp_path}", "train")


# --------------------------------------------------------------------------- tf.data


def test_as_dataset_batches_and_augments():
    x, y = data.load("digits", "train", limit=20)
    ds = data.as_dataset(x, y, batch_size=8, shuffle=True, augment=False, seed=1)
    batches = list(ds.as_numpy_iterator())
    assert [len(b[0]) for b in batches] == [8, 8, 4]
    got = np.concatenate([b[1] for b in batches])
    assert sorted(got.tolist()) == sorted(y.tolist())
    aug = data.as_dataset(x, y, batch_size=20, shuffle=False, augment=True, seed=1)
    xa, ya = next(aug.as_numpy_iterator())
    assert xa.shape == x.shape and np.array_equal(ya, y)
    assert xa.min() >= -1.0 and xa.max() <= 1.0
    assert not np.array_equal(xa, x)  # 20 random crops/flips do not all hit the identity
