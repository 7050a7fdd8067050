"""bnn_lq.layers: BinaryDense / BinaryConv2D interface, numerics, serialization, LCE."""

import inspect
import json

import bnn_lq  # noqa: F401  (Keras 2 before TensorFlow)
import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from bnn_lq.layers import BinaryConv2D, BinaryDense

# Arguments whose default the binary layers pin on purpose (what makes them binary).
PINNED = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign",
          "kernel_constraint": "weight_clip"}
EXTRA = {"epsilon": 1e-3, "momentum": 0.99, "center": True, "scale": True,
         "is_binarized_activation": True}


def _as_json(config):
    return json.loads(json.dumps(config))


def _sign(x):
    return np.where(x < 0, -1.0, 1.0).astype(np.float32)


@pytest.mark.parametrize("cls,parent", [(BinaryDense, lq.layers.QuantDense),
                                        (BinaryConv2D, lq.layers.QuantConv2D)])
def test_signature_extends_larq_parent(cls, parent):
    ours = inspect.signature(cls.__init__).parameters
    theirs = inspect.signature(parent.__init__).parameters
    theirs_named = [n for n, p in theirs.items() if p.kind is not p.VAR_KEYWORD]
    # Same positional order and names as the Larq layer, then keyword-only extras.
    assert list(ours)[:len(theirs_named)] == theirs_named
    for name in theirs_named:
        expected = PINNED.get(name, theirs[name].default)
        assert ours[name].default == expected, name
    extras = {n: p.default for n, p in ours.items() if p.kind is p.KEYWORD_ONLY}
    assert extras == EXTRA
    assert issubclass(cls, parent)


LAYERS = [
    pytest.param(lambda: BinaryDense(16), id="dense-default"),
    pytest.param(lambda: BinaryDense(5, use_bias=False, epsilon=1e-4, momentum=0.9,
                                     is_binarized_activation=False, name="fc"), id="dense-real-in"),
    pytest.param(lambda: BinaryDense(3, kernel_quantizer="xnor_weight_sign",
                                     input_quantizer="approx_sign", scale=False), id="dense-xnor"),
    pytest.param(lambda: BinaryConv2D(8, 3), id="conv-default"),
    pytest.param(lambda: BinaryConv2D(4, (3, 1), strides=2, padding="same", pad_values=1.0,
                                      use_bias=False, epsilon=1e-5, center=False,
                                      name="bconv"), id="conv-same-one"),
    pytest.param(lambda: BinaryConv2D(2, 1, is_binarized_activation=False,
                                      kernel_quantizer="magnitude_aware_sign"), id="conv-real-in"),
]


@pytest.mark.parametrize("make", LAYERS)
def test_config_round_trip(make):
    layer = make()
    clone = tf.keras.layers.deserialize(tf.keras.layers.serialize(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    # Every config key is an __init__ argument.
    params = inspect.signature(type(layer).__init__).parameters
    assert set(layer.get_config()) - set(params) <= {"name", "trainable", "dtype"}


def test_is_binarized_activation_sets_input_quantizer():
    assert BinaryDense(4).input_quantizer is not None
    assert BinaryDense(4, is_binarized_activation=False).input_quantizer is None
    assert BinaryDense(4, is_binarized_activation=False).get_config()["input_quantizer"] is None
    with pytest.raises(ValueError, match="contradicts"):
        BinaryDense(4, is_binarized_activation=False, input_quantizer="approx_sign")
    with pytest.raises(ValueError, match="is_binarized_activation=True but input_quantizer=None"):
        BinaryConv2D(4, 3, input_quantizer=None)


def _with_random_bn(model, rng):
    """Give every batch norm non-trivial statistics so that tests see it."""
    for layer in model.layers:
        bn = getattr(layer, "batch_norm", None)
        if bn is None:
            continue
        c = bn.gamma.shape[0]
        bn.set_weights([rng.uniform(0.5, 2, c), rng.normal(size=c), rng.normal(size=c),
                        rng.uniform(0.5, 2, c)])
    return model


def test_binary_dense_inference_is_bn_of_sign_matmul(rng):
    layer = BinaryDense(7, use_bias=True, bias_initializer="random_normal", epsilon=1e-3)
    model = _with_random_bn(tf.keras.Sequential([tf.keras.Input((40,)), layer]), rng)
    x = rng.normal(size=(3, 40)).astype(np.float32)
    x[0, :5] = 0.0  # sign(0) = +1
    kernel, bias = layer.kernel.latent_variable.numpy(), layer.bias.numpy()
    gamma, beta, mean, var = [w.numpy() for w in layer.batch_norm.weights]
    y = _sign(x) @ _sign(kernel) + bias
    expected = gamma * (y - mean) / np.sqrt(var + 1e-3) + beta
    # float32 sums of 40 products and a BN: rounding of a few ulp of values ~10
    np.testing.assert_allclose(model(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_binary_conv2d_equals_quantconv2d_then_batchnorm(rng):
    ours = BinaryConv2D(6, 3, padding="same", pad_values=1.0, use_bias=False, name="b")
    model = _with_random_bn(tf.keras.Sequential([tf.keras.Input((5, 5, 4)), ours]), rng)
    conv = lq.layers.QuantConv2D(6, 3, padding="same", pad_values=1.0, use_bias=False,
                                 input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                 kernel_constraint="weight_clip")
    bn = tf.keras.layers.BatchNormalization()
    ref = tf.keras.Sequential([tf.keras.Input((5, 5, 4)), conv, bn])
    conv.set_weights([ours.kernel.latent_variable.numpy()])
    bn.set_weights(ours.batch_norm.get_weights())
    x = rng.normal(size=(2, 5, 5, 4)).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), ref(x).numpy())
    np.testing.assert_array_equal(model(x, training=True).numpy(), ref(x, training=True).numpy())


def test_get_binarized_weights(rng):
    layer = BinaryConv2D(3, 2, kernel_quantizer="xnor_weight_sign")
    with pytest.raises(ValueError, match="not built"):
        layer.get_binarized_weights()
    layer.build((None, 4, 4, 5))
    w = rng.normal(size=(2, 2, 5, 3)).astype(np.float32)
    w[0, 0, 0, 0], w[0, 0, 1, 0] = 0.0, -0.0  # both are +1 in Larq's sign
    layer.kernel.latent_variable.assign(w)
    b = layer.get_binarized_weights()
    assert b.dtype == np.int8 and b.shape == (2, 2, 5, 3)
    np.testing.assert_array_equal(b, _sign(w).astype(np.int8))
    assert b[0, 0, 0, 0] == 1 and b[0, 0, 1, 0] == 1
    # Agrees with the sign of what the layer computes with (alpha > 0 here).
    with lq.context.quantized_scope(True):
        np.testing.assert_array_equal(np.sign(layer.kernel.numpy()), b)
    assert layer.get_binarize_weights is not None  # the seed's spelling
    np.testing.assert_array_equal(layer.get_binarize_weights(), b)


def test_get_binarized_weights_refuses_non_binary_kernel():
    layer = BinaryDense(2, kernel_quantizer="ste_tern")
    layer.build((None, 3))
    with pytest.raises(ValueError, match="not a sign quantizer"):
        layer.get_binarized_weights()


def test_seed_000_mnist_mlp_as_written(capsys):
    # ../shared/seeds/000_7b0b20524df9bb7d.txt, with its free variables bound.
    is_use_bias, epsilon, momentum = False, 1e-4, 0.9
    model = tf.keras.models.Sequential(
        [
            tf.keras.layers.Flatten(input_shape=(28, 28)),
            BinaryDense(128, use_bias=is_use_bias, epsilon=epsilon, momentum=momentum,
                        is_binarized_activation=False),
            BinaryDense(64, use_bias=is_use_bias, epsilon=epsilon, momentum=momentum),
            BinaryDense(10, use_bias=is_use_bias, epsilon=epsilon, momentum=momentum),
        ]
    )
    for i, layer in enumerate(model.layers):
        if isinstance(layer, BinaryDense):
            binarized_weights = layer.get_binarize_weights()
            print(f"Layer {i} Name: {layer.name}, Inference used binarized Weights:")
            print(binarized_weights, "\n")
    shapes = [layer.get_binarized_weights().shape for layer in model.layers[1:]]
    assert shapes == [(784, 128), (128, 64), (64, 10)]
    assert all(set(np.unique(layer.get_binarized_weights())) <= {-1, 1}
               for layer in model.layers[1:])
    assert "Layer 1 Name: binary_dense" in capsys.readouterr().out
    assert model.layers[1].input_quantizer is None and model.layers[2].input_quantizer
    assert model.layers[1].batch_norm.epsilon == 1e-4
    assert model(np.zeros((2, 28, 28), np.float32)).shape == (2, 10)


@pytest.mark.slow
def test_binary_dense_trains_with_clipped_latent_weights(rng):
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(6, 6)),
                                 BinaryDense(16, is_binarized_activation=False),
                                 BinaryDense(4)])
    # Eager: a tiny model, and tracing a tf.function would cost more than the steps.
    model.compile(optimizer=tf.keras.optimizers.Adam(0.5), loss="mse", run_eagerly=True)
    before = model.layers[2].kernel.latent_variable.numpy().copy()
    x = rng.normal(size=(16, 6, 6)).astype(np.float32)
    model.fit(x, rng.normal(size=(16, 4)) * 10, epochs=2, verbose=0)
    after = model.layers[2].kernel.latent_variable.numpy()
    assert not np.array_equal(before, after)  # gradients reach the latent kernel
    assert np.abs(after).max() <= 1.0  # weight_clip keeps it in [-1, 1]


@pytest.mark.parametrize("make,in_shape", [
    pytest.param(lambda: BinaryDense(6, kernel_quantizer="xnor_weight_sign", name="d"), (12,),
                 id="dense"),
    pytest.param(lambda: BinaryConv2D(5, 3, padding="same", pad_values=1.0, name="c"), (6, 6, 3),
                 id="conv"),
])
def test_keras_save_load_round_trip(tmp_path, rng, make, in_shape):
    model = _with_random_bn(tf.keras.Sequential([tf.keras.Input(in_shape), make()]), rng)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert type(loaded.layers[0]) is type(model.layers[0])
    # JSON turns the quantizers' build_config tuples into lists; compare as JSON.
    assert _as_json(loaded.layers[0].get_config()) == _as_json(model.layers[0].get_config())
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = rng.normal(size=(2, *in_shape)).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), loaded(x).numpy())


# --- LCE conversion: one model, converted once per session ----------------------------


@pytest.fixture(scope="session")
def lce_converted():
    """(keras model, flatbuffer bytes) of stem -> BinaryConv2D x2 -> BinaryDense."""
    import larq_compute_engine as lce

    rng = np.random.default_rng(11)
    inp = tf.keras.Input((8, 8, 3))
    x = tf.keras.layers.Conv2D(32, 3, padding="same", name="stem")(inp)
    x = BinaryConv2D(32, 3, padding="same", pad_values=1.0, use_bias=False, name="bc1")(x)
    x = BinaryConv2D(16, 3, use_bias=False, kernel_quantizer="xnor_weight_sign", name="bc2")(x)
    x = tf.keras.layers.Flatten()(x)
    x = BinaryDense(10, use_bias=False, name="bd")(x)
    model = _with_random_bn(tf.keras.Model(inp, x), rng)
    return model, lce.convert_keras_model(model)


def _ops(buf):
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(buf, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = [(oc.customCode.decode() if oc.customCode else names[max(oc.builtinCode,
                                                                      oc.deprecatedBuiltinCode)])
             for oc in model.operatorCodes]
    return [codes[op.opcodeIndex] for op in model.subgraphs[0].operators]


@pytest.mark.slow
def test_lce_fuses_binary_conv2d_and_batch_norm(lce_converted):
    model, buf = lce_converted
    ops = _ops(buf)
    assert ops.count("LceBconv2d") == 2  # both BinaryConv2D, incl. the xnor-scaled one
    # Batch norms folded: no float arithmetic ops left around the binary convs.
    assert not {"MUL", "ADD", "SUB"} & set(ops), ops
    # BinaryDense: the pattern bnn_lq.convert bit-packs (LCE 0.16 has no binary dense op).
    i = ops.index("FULLY_CONNECTED")
    assert ops[i - 2:i] == ["LceQuantize", "LceDequantize"], ops
    from larq_compute_engine.tflite.python.interpreter import Interpreter

    x = np.random.default_rng(3).normal(size=(1, 8, 8, 3)).astype(np.float32)
    got = Interpreter(buf).predict(x)
    want = model(x, training=False).numpy()
    # Float output transform of LCE vs. Keras BN: float32 rounding, relative to the range.
    np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max() + 1e-6)


def test_kernel_is_a_bop_binary_variable():
    layer = BinaryConv2D(4, 3)
    layer.build((None, 5, 5, 2))
    assert lq.optimizers.Bop.is_binary_variable(layer.kernel)
    assert not lq.optimizers.Bop.is_binary_variable(layer.batch_norm.gamma)


def test_pad_values_lce_cannot_fuse_warns(caplog):
    with caplog.at_level("WARNING", logger="bnn_lq.layers"):
        BinaryConv2D(4, 3, padding="same", pad_values=-1.0, name="pv")
    assert "layer 'pv' (BinaryConv2D): pad_values=-1.0" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="bnn_lq.layers"):
        BinaryConv2D(4, 3, padding="same", pad_values=1.0)
    assert "pad_values" not in caplog.text
