"""bnn_lq.convert.read on real LCE conversions, and its error messages."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bnn_lq.convert import describe_op, read
from bnn_lq.errors import ModelFormatError


def pack_bits(x_pm1: np.ndarray) -> np.ndarray:
    """Reference bit-packing along the last axis (spec §3): bit 1 where x < 0, LSB first."""
    c = x_pm1.shape[-1]
    n_words = -(-c // 32)
    bits = np.zeros(x_pm1.shape[:-1] + (n_words * 32,), dtype=np.uint64)
    bits[..., :c] = x_pm1 < 0
    bits = bits.reshape(x_pm1.shape[:-1] + (n_words, 32))
    words = (bits << np.arange(32, dtype=np.uint64)).sum(axis=-1)
    return words.astype(np.uint32).view(np.int32)


def ops_of(graph, name):
    return [op for op in graph.operators if op.op == name]


@pytest.fixture(scope="module")
def cnn_graph(small_cnn_tflite):
    return read(small_cnn_tflite, name="small_cnn.tflite")


@pytest.mark.slow
def test_reads_lce_ops_and_options(cnn_graph):
    names = [op.op for op in cnn_graph.operators]
    assert names.count("LceBconv2d") == 3
    assert names.count("LceBMaxPool2d") == 1
    assert names[0] == "CONV_2D" and names[-1] == "SOFTMAX"
    # LCE 0.16 leaves binary dense layers as float FULLY_CONNECTED (spec §8)
    assert names.count("FULLY_CONNECTED") == 2
    bconvs = ops_of(cnn_graph, "LceBconv2d")
    opts = [op.options for op in bconvs]
    assert [o["channels_in"] for o in opts] == [16, 40, 33]
    assert [o["padding"] for o in opts] == ["SAME", "VALID", "SAME"]
    assert [o["pad_values"] for o in opts] == [1, 0, 0]
    assert all(o["fused_activation_function"] == "NONE" for o in opts)
    assert all(o["stride_height"] == o["stride_width"] == 1 for o in opts)
    pool = ops_of(cnn_graph, "LceBMaxPool2d")[0].options
    assert pool == {"filter_height": 2, "filter_width": 2, "padding": "VALID",
                    "stride_height": 2, "stride_width": 2}
    conv = ops_of(cnn_graph, "CONV_2D")[0].options
    assert conv["padding"] == "VALID" and conv["stride_w"] == conv["stride_h"] == 1
    assert conv["dilation_w_factor"] == 1 and conv["fused_activation_function"] == "NONE"
    fc = ops_of(cnn_graph, "FULLY_CONNECTED")[0].options
    assert fc["weights_format"] == "DEFAULT" and fc["keep_num_dims"] is False
    assert ops_of(cnn_graph, "SOFTMAX")[0].options == {"beta": 1.0}
    assert ops_of(cnn_graph, "LceQuantize")[0].options == {}


@pytest.mark.slow
def test_bconv_tensors_filters_and_outputs(cnn_graph, small_cnn):
    g = cnn_graph
    bconv1, bconv2, bconv3 = ops_of(g, "LceBconv2d")
    # packed filters [Cout, KH, KW, ceil(Cin / 32)] int32
    assert [g.tensors[op.inputs[1]].shape for op in (bconv1, bconv2, bconv3)] == [
        (40, 3, 3, 1), (33, 3, 3, 2), (20, 3, 3, 2)]
    assert all(g.tensors[op.inputs[1]].dtype == "int32" for op in (bconv1, bconv2, bconv3))
    # bconv1 and bconv2 write bit-packed output: thresholds only (inputs 2, 3 absent)
    for op, cout in ((bconv1, 40), (bconv2, 33)):
        assert op.inputs[2] == op.inputs[3] == -1
        thr = g.tensors[op.inputs[4]]
        assert thr.dtype == "int32" and thr.shape == (cout,) and thr.is_constant
        out = g.tensors[op.outputs[0]]
        assert out.dtype == "int32" and out.shape[-1] == -(-cout // 32)
    # bconv3 (SAME, pad_values=0) writes float: multiplier and bias present, no threshold
    pam, pab = g.tensor(bconv3.inputs[2]), g.tensor(bconv3.inputs[3])
    assert pam.shape == pab.shape == (20,) and pam.dtype == pab.dtype == "float32"
    assert bconv3.inputs[4] == -1 and g.tensors[bconv3.outputs[0]].shape == (1, 4, 4, 20)
    # its filter is exactly the packed sign of the Keras kernel (HWIO -> OHWI)
    kernel = small_cnn.get_layer("bconv3").get_weights()[0]
    expected = pack_bits(np.where(kernel >= 0, 1.0, -1.0).transpose(3, 0, 1, 2))
    np.testing.assert_array_equal(g.tensors[bconv3.inputs[1]].data, expected)
    # and the BN folds into pam as gamma / sqrt(var + eps) (spec §8)
    gamma, beta, mean, var = small_cnn.get_layer("bn3").get_weights()
    eps = small_cnn.get_layer("bn3").epsilon
    np.testing.assert_allclose(pam.data, gamma / np.sqrt(var + eps), rtol=1e-5)


@pytest.mark.slow
def test_constants_are_typed_shaped_and_read_only(cnn_graph, small_cnn):
    g = cnn_graph
    fc2 = ops_of(g, "FULLY_CONNECTED")[1]
    w = g.tensors[fc2.inputs[1]]
    assert w.shape == (10, 32) and w.data.dtype == np.float32
    kernel = small_cnn.get_layer("fc2").get_weights()[0]
    np.testing.assert_array_equal(w.data, np.where(kernel >= 0, 1.0, -1.0).T)
    assert fc2.inputs[2] == -1  # no bias: absent optional input kept as -1
    with pytest.raises(ValueError):
        w.data[0, 0] = 3.0
    for t in g.tensors:
        if t.is_constant:
            assert t.data.shape == t.shape and t.data.dtype == np.dtype(t.dtype)
    assert g.inputs == (0,) and g.tensors[g.inputs[0]].shape == (1, 12, 12, 3)
    assert g.tensors[g.outputs[0]].shape == (1, 10)


@pytest.mark.slow
def test_int8_quantization(small_int8_tflite):
    g = read(small_int8_tflite)
    x = g.tensors[g.inputs[0]]
    assert x.dtype == "int8" and x.quantization.is_per_tensor
    assert x.quantization.scale.dtype == np.float32 and x.quantization.zero_point.dtype == np.int64
    y = g.tensors[g.outputs[0]]
    assert y.dtype == "int8" and y.quantization is not None
    conv = ops_of(g, "CONV_2D")[0]
    w = g.tensors[conv.inputs[1]]
    assert w.dtype == "int8" and w.data.dtype == np.int8
    # per-channel weight quantization along the output-channel axis
    assert w.quantization.axis == 0 and w.quantization.scale.shape == (8,)
    assert "LceBconv2d" in [op.op for op in g.operators]


@pytest.mark.slow
def test_path_bytes_name_and_sha(small_cnn_tflite, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(small_cnn_tflite)
    from_path, from_str = read(path), read(str(path))
    from_bytes = read(bytearray(small_cnn_tflite))
    assert from_path.source == str(path) and from_bytes.source == "<bytes>"
    assert read(small_cnn_tflite, name="x.tflite").source == "x.tflite"
    assert from_path.sha256 == hashlib.sha256(small_cnn_tflite).hexdigest() == from_bytes.sha256
    assert [op.op for op in from_path.operators] == [op.op for op in from_str.operators]
    assert [op.options for op in from_path.operators] == [op.options for op in from_bytes.operators]


@pytest.mark.slow
def test_describe_op(cnn_graph):
    op = ops_of(cnn_graph, "LceBconv2d")[0]
    text = describe_op(cnn_graph, op)
    assert text.startswith(f"op {op.index} 'LceBconv2d' (output tensor '")
    assert describe_op(cnn_graph, op.index) == text


ERROR_CASES = [
    pytest.param(b"", "empty", id="empty"),
    pytest.param(b"TFL3", "too short", id="tiny"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(64), "file identifier", id="png"),
    pytest.param(b"PK\x03\x04" + bytes(60), "not a TFLite model", id="zip"),
    pytest.param(b"\x10\x00\x00\x00TFL3" + bytes(4), "root table offset", id="root-outside"),
]


@pytest.mark.parametrize("data,needle", ERROR_CASES)
def test_bad_bytes_raise_model_format_error(data, needle):
    with pytest.raises(ModelFormatError, match=needle) as info:
        read(data, name="bad.tflite")
    assert str(info.value).startswith("bad.tflite: ")


def test_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.tflite"
    with pytest.raises(ModelFormatError, match="nope.tflite"):
        read(missing)


@pytest.mark.slow
def test_truncated_model_names_the_file_and_problem(small_cnn_tflite, tmp_path):
    path = tmp_path / "cut.tflite"
    path.write_bytes(small_cnn_tflite[: len(small_cnn_tflite) // 2])
    with pytest.raises(ModelFormatError, match="truncated or corrupt") as info:
        read(path)
    assert str(path) in str(info.value)


@pytest.mark.slow
def test_constant_size_mismatch_is_reported(small_cnn_tflite):
    # Shrink a constant's shape in place: find the 4-byte little-endian dimension 320
    # (the [32, 320] FC weight) and make it 319; the buffer then has 4 * 32 bytes too many.
    g = read(small_cnn_tflite)
    target = next(t for t in g.tensors if t.shape == (32, 320))
    data = bytearray(small_cnn_tflite)
    pattern = np.array([32, 320], dtype="<i4").tobytes()
    at = data.find(pattern)
    assert at > 0
    data[at + 4: at + 8] = np.array([319], dtype="<i4").tobytes()
    with pytest.raises(ModelFormatError, match=rf"tensor {target.index} .*needs 40832"):
        read(bytes(data))


def test_reader_does_not_import_tensorflow_or_lce(tmp_path):
    """The reader must run where TensorFlow and LCE are absent (the interpreter uses it)."""
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "larq", "larq_compute_engine", "keras",
                                          "tf_keras"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from bnn_lq.convert import read, inspect
        from bnn_lq.errors import ModelFormatError
        try:
            read(b"xxxxxxxxxxxx")
        except ModelFormatError:
            print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
