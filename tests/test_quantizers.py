"""bnn_lq.quantizers: the XNOR-Net alias, the depthwise variant, is_sign_like."""

import bnn_lq  # noqa: F401  (Keras 2 before TensorFlow)
import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from bnn_lq.quantizers import DepthwiseMagnitudeAwareSign, XnorWeightSign, is_sign_like


def _xnor_reference(w, axes):
    """alpha * sign(w) in NumPy, alpha = mean |w| over ``axes``, sign(0) = +1."""
    alpha = np.mean(np.abs(w), axis=axes, keepdims=True)
    return alpha * np.where(w < 0, -1.0, 1.0)


def test_alias_is_larqs_class_and_larq_names_untouched():
    assert XnorWeightSign is lq.quantizers.MagnitudeAwareSign
    assert type(lq.quantizers.get("xnor_weight_sign")) is lq.quantizers.MagnitudeAwareSign
    assert type(lq.quantizers.get("ste_sign")) is lq.quantizers.SteSign
    assert type(lq.quantizers.get("magnitude_aware_sign")) is lq.quantizers.MagnitudeAwareSign
    # Serializes under Larq's own name, so saved models load with plain Larq.
    assert lq.quantizers.serialize(lq.quantizers.get("xnor_weight_sign"))["class_name"] \
        == "MagnitudeAwareSign"


@pytest.mark.parametrize("shape,axes", [
    pytest.param((33, 7), (0,), id="dense-in33-out7"),
    pytest.param((3, 3, 5, 4), (0, 1, 2), id="conv-3x3x5x4"),
    pytest.param((1, 1, 1, 2), (0, 1, 2), id="conv-1x1x1x2"),
])
def test_xnor_weight_sign_is_per_output_channel_mean_abs(rng, shape, axes):
    w = rng.normal(size=shape).astype(np.float32)
    w.flat[0] = 0.0  # sign(0) is +1
    q = lq.quantizers.get("xnor_weight_sign")
    np.testing.assert_allclose(q(tf.constant(w)).numpy(), _xnor_reference(w, axes),
                               rtol=1e-6)  # float32 mean: rounding only


def test_xnor_weight_sign_gradient_is_clipped_ste_times_alpha(rng):
    w = rng.normal(scale=1.5, size=(6, 3)).astype(np.float32)
    v = tf.Variable(w)
    q = lq.quantizers.get("xnor_weight_sign")
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(q(v))
    grad = tape.gradient(y, v).numpy()
    alpha = np.mean(np.abs(w), axis=0, keepdims=True)
    expected = np.where(np.abs(w) <= 1.0, 1.0, 0.0) * alpha  # alpha held constant
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


def test_depthwise_variant_scales_each_channel(rng):
    w = rng.normal(size=(3, 3, 4, 2)).astype(np.float32)
    w[:, :, 1, 0] *= 10.0  # one channel much larger: a shared scale would be wrong
    out = DepthwiseMagnitudeAwareSign()(tf.constant(w)).numpy()
    np.testing.assert_allclose(out, _xnor_reference(w, (0, 1)), rtol=1e-6)
    shared = lq.quantizers.get("magnitude_aware_sign")(tf.constant(w)).numpy()
    assert not np.allclose(out, shared)  # Larq's averages over channels too


def test_depthwise_variant_other_ranks_match_larq(rng):
    w = rng.normal(size=(5, 3)).astype(np.float32)
    ours = DepthwiseMagnitudeAwareSign()(tf.constant(w)).numpy()
    np.testing.assert_allclose(ours, _xnor_reference(w, (0,)), rtol=1e-6)


@pytest.mark.parametrize("quantizer", [
    DepthwiseMagnitudeAwareSign(), DepthwiseMagnitudeAwareSign(clip_value=None, name="dq")])
def test_depthwise_variant_config_round_trip(quantizer):
    clone = lq.quantizers.get(lq.quantizers.serialize(quantizer))
    assert type(clone) is DepthwiseMagnitudeAwareSign
    assert clone.get_config() == quantizer.get_config()
    assert type(lq.quantizers.get("depthwise_magnitude_aware_sign")) is DepthwiseMagnitudeAwareSign
    assert DepthwiseMagnitudeAwareSign.precision == 1


@pytest.mark.parametrize("quantizer,expected", [
    ("ste_sign", True), ("approx_sign", True), ("swish_sign", True),
    ("magnitude_aware_sign", True), ("xnor_weight_sign", True),
    ("depthwise_magnitude_aware_sign", True), (lq.quantizers.ste_sign, True),
    ("ste_heaviside", False), ("ste_tern", False), ("dorefa_quantizer", False),
    (lq.quantizers.NoOp(precision=1), False), (None, False),
])
def test_is_sign_like(quantizer, expected):
    assert is_sign_like(quantizer) is expected
