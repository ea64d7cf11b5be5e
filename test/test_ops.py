"""tflib ops against NumPy references, in both data formats; initialisers; the registry."""
import numpy as np
import pytest

import numpy_ref as ref
from conftest import new_session
from tflib import layout, losses, params
from tflib.compat import tf
from tflib.ops import activations, batchnorm, cond_batchnorm, layernorm, resample
from tflib.ops.conv2d import Conv2D
from tflib.ops.deconv2d import Deconv2D
from tflib.ops.linear import Linear


def run_layer(fmt, layer, x, session_seed=0):
    """Run ``layer`` on NHWC array ``x`` in layout ``fmt`` with random params.

    Returns the NHWC output and {checkpoint key: value} of the params."""
    with new_session(session_seed) as session:
        with layout.using(fmt):
            out = layout.to_nhwc(layer(layout.from_nhwc(tf.constant(x, tf.float32))))
        randomize(session)
        return session.run([out, {v.op.name: v for v in params.all_params()}])


def randomize(session):
    """Give every registry param random values, so biases and affines are really tested."""
    rng = np.random.RandomState(7)
    for var in params.all_params():
        var.load(rng.randn(*var.shape.as_list()).astype('float32'), session)


def test_linear(rng):
    x = rng.randn(5, 7).astype('float32')
    y, v = run_layer('NHWC', lambda inp: Linear('L', 7, 3, tf.reshape(inp, [5, 7])),
                     x.reshape(5, 1, 1, 7))
    np.testing.assert_allclose(y, x @ v['L/L.W'] + v['L/L.b'], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('filter_size', [1, 3, 5])
def test_conv2d(data_format, rng, stride, filter_size):
    x = rng.randn(2, 8, 8, 3).astype('float32')
    y, v = run_layer(data_format, lambda inp: Conv2D('C', 3, 4, filter_size, inp, stride=stride),
                     x)
    np.testing.assert_allclose(y, ref.conv2d(x, v['C/C.Filters'], v['C/C.Biases'], stride),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('filter_size', [2, 3, 4, 5])
def test_deconv2d(data_format, rng, filter_size):
    x = rng.randn(2, 4, 5, 3).astype('float32')
    y, v = run_layer(data_format, lambda inp: Deconv2D('D', 3, 2, filter_size, inp), x)
    assert y.shape == (2, 8, 10, 2)
    np.testing.assert_allclose(y, ref.deconv2d(x, v['D/D.Filters'], v['D/D.Biases']),
                               rtol=1e-4, atol=1e-4)


def test_batchnorm_training_uses_batch_statistics(data_format, rng):
    x = (3. * rng.randn(6, 4, 4, 5) + 2.).astype('float32')
    y, v = run_layer(data_format, lambda inp: batchnorm.Batchnorm('B', inp), x)
    np.testing.assert_allclose(y, ref.batchnorm(x, v['B.offset'], v['B.scale']),
                               rtol=1e-4, atol=1e-4)


def test_batchnorm_moving_statistics(data_format, rng):
    """Updates follow the EMA rule only when asked; inference normalises with them."""
    x = (3. * rng.randn(6, 4, 4, 5) + 2.).astype('float32')
    momentum = 0.8
    with new_session() as session:
        with layout.using(data_format):
            inp = layout.from_nhwc(tf.constant(x))
            batchnorm.Batchnorm('Quiet', inp)
            assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
            batchnorm.Batchnorm('B', inp, update_moving_stats=True, momentum=momentum)
            inference = layout.to_nhwc(batchnorm.Batchnorm('B', inp, is_training=False))
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert len(updates) == 2
        session.run(tf.global_variables_initializer())
        for _ in range(3):
            session.run(updates)
        v = session.run({p.op.name: p for p in params.all_params()})
        mean, var = v['B.moving_mean'], v['B.moving_variance']
        y = session.run(inference)
    decay = momentum ** 3
    batch_mean = x.mean((0, 1, 2))
    batch_var = x.var((0, 1, 2), ddof=1)  # unbiased, as fused_batch_norm reports it
    np.testing.assert_allclose(mean, (1 - decay) * batch_mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(var, decay + (1 - decay) * batch_var, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y, ref.batchnorm(x, 0., 1., mean, var), rtol=1e-4, atol=1e-4)


def test_batchnorm_dense(rng):
    x = (rng.randn(8, 5) + 1.).astype('float32')
    y, v = run_layer('NHWC', lambda inp: batchnorm.Batchnorm('B', tf.reshape(inp, [8, 5])),
                     x.reshape(8, 1, 1, 5))
    np.testing.assert_allclose(y, ref.batchnorm(x, v['B.offset'], v['B.scale']),
                               rtol=1e-4, atol=1e-4)


def test_cond_batchnorm(data_format, rng):
    x = (2. * rng.randn(6, 4, 4, 5) - 1.).astype('float32')
    labels = np.array([0, 2, 1, 2, 0, 0], dtype='int32')
    y, v = run_layer(data_format,
                     lambda inp: cond_batchnorm.Batchnorm('CB', inp, tf.constant(labels), 3), x)
    np.testing.assert_allclose(y, ref.cond_batchnorm(x, v['CB.offset'], v['CB.scale'], labels),
                               rtol=1e-4, atol=1e-4)


def test_layernorm(data_format, rng):
    x = (2. * rng.randn(3, 4, 4, 5) + 1.).astype('float32')
    y, v = run_layer(data_format, lambda inp: layernorm.Layernorm('LN', inp), x)
    np.testing.assert_allclose(y, ref.layernorm(x, v['LN.offset'], v['LN.scale']),
                               rtol=1e-4, atol=1e-4)


def test_layernorm_dense(rng):
    x = (2. * rng.randn(3, 7) + 1.).astype('float32')
    y, v = run_layer('NHWC', lambda inp: layernorm.Layernorm('LN', tf.reshape(inp, [3, 7])),
                     x.reshape(3, 1, 1, 7))
    np.testing.assert_allclose(y, ref.layernorm(x, v['LN.offset'], v['LN.scale']),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('form', resample.POOLINGS)
def test_mean_pool_and_upsample(data_format, rng, form):
    """Both mean-pool forms (AvgPool; the NPU's strided slices) compute the same function, and
    so do their gradients."""
    x = rng.randn(2, 6, 4, 3).astype('float32')
    with resample.pooling(form):
        pooled, _ = run_layer(data_format, resample.mean_pool, x)
    upsampled, _ = run_layer(data_format, resample.upsample, x)
    np.testing.assert_allclose(pooled, ref.mean_pool(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(upsampled, ref.upsample(x))
    with new_session() as session, layout.using(data_format), resample.pooling(form):
        images = tf.constant(x)
        pooled = resample.mean_pool(layout.from_nhwc(images))
        gradient = session.run(tf.gradients(tf.reduce_sum(tf.square(pooled)), images)[0])
    np.testing.assert_allclose(gradient, ref.upsample(ref.mean_pool(x)) / 2., rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match='mean pool form must be one of'):
        with resample.pooling('max'):
            pass


def test_resampling_convs(data_format, rng):
    x = rng.randn(2, 8, 8, 3).astype('float32')
    for layer, expected in [
            (resample.ConvMeanPool, lambda w, b: ref.mean_pool(ref.conv2d(x, w, b))),
            (resample.MeanPoolConv, lambda w, b: ref.conv2d(ref.mean_pool(x), w, b)),
            (resample.UpsampleConv, lambda w, b: ref.conv2d(ref.upsample(x), w, b))]:
        y, v = run_layer(data_format, lambda inp: layer('R', 3, 4, 3, inp), x)
        np.testing.assert_allclose(y, expected(v['R/R.Filters'], v['R/R.Biases']),
                                   rtol=1e-4, atol=1e-4)


def test_gradient_penalty_ops_have_second_order_gradients(data_format, rng):
    """Mean-pool, upsample and the norms must be twice differentiable for WGAN-GP."""
    with new_session() as session:
        x = tf.constant(rng.randn(2, 8, 8, 3).astype('float32'))
        with layout.using(data_format):
            h = resample.UpsampleConv('U', 3, 4, 3, layout.from_nhwc(x))
            h = layernorm.Layernorm('LN', tf.nn.relu(h))
            h = resample.ConvMeanPool('C', 4, 4, 3, h)
            score = tf.reduce_sum(tf.square(resample.mean_pool(h)))
        grad = tf.gradients(score, x)[0]
        second = tf.gradients(tf.reduce_sum(tf.square(grad)), params.all_params())
        session.run(tf.global_variables_initializer())
        values = session.run(second)
    assert all(np.isfinite(v).all() and np.abs(v).sum() > 0 for v in values)


@pytest.mark.parametrize('epsilon', [0., losses.GP_EPSILON])
def test_the_gradient_penalty_survives_fp16_squares(epsilon, monkeypatch):
    """Under Ascend's mixed precision the penalty's Square follows its fp16 input gradient:
    small per-pixel gradients square to 0 and the sum can be 0. Emulated here (the square
    computed in fp16): without an epsilon the critic's gradient is not finite (the float status
    trips and every critic update is skipped); with GP_EPSILON it is."""
    square = tf.square
    monkeypatch.setattr(losses, 'GP_EPSILON', epsilon)
    monkeypatch.setattr(losses.tf, 'square', lambda g: tf.cast(square(tf.cast(
        g, tf.float16)), tf.float32))
    with new_session() as session:
        weight = tf.Variable(np.full([1, 4, 4, 1], 1e-4, np.float32))
        critic = lambda images: tf.reduce_sum(images * weight, axis=[1, 2, 3])  # noqa: E731
        real, fake = tf.ones([2, 4, 4, 1]), tf.zeros([2, 4, 4, 1])
        penalty = losses.gradient_penalty(critic, real, fake, tf.fill([2, 1, 1, 1], .5))
        gradient = tf.gradients(penalty, weight)[0]
        session.run(tf.global_variables_initializer())
        finite = np.isfinite(session.run(gradient)).all()
    assert finite == (epsilon > 0)


@pytest.mark.parametrize('name', ['relu', 'leaky_relu'])
def test_first_order_activations_give_tf_gradients_without_the_zero_path(name, rng):
    """Same first and second derivatives (through a gradient penalty) as TF's own activation,
    with fewer convolutions: no dense zeros pushed back through the layers below."""
    stock = {'relu': tf.nn.relu, 'leaky_relu': lambda h: tf.nn.leaky_relu(h, 0.2)}[name]
    ours = getattr(activations, name)
    results, inputs = [], rng.randn(2, 6, 6, 3).astype('float32')
    for act in (stock, ours):
        with new_session() as session:
            x = tf.constant(inputs)
            h = act(Conv2D('A', 3, 4, 3, x))
            score = tf.reduce_sum(Conv2D('B', 4, 2, 3, act(Conv2D('C', 4, 4, 3, h))))
            grad = tf.gradients(score, x)[0]
            second = tf.gradients(tf.reduce_sum(tf.square(grad)),
                                  params.params_with_name('Filters'))
            n_convs = len([op for op in tf.get_default_graph().get_operations()
                           if op.type.startswith('Conv2DBackprop')])
            session.run(tf.global_variables_initializer())
            results.append((session.run([grad] + second), n_convs))
    (stock_values, stock_convs), (our_values, our_convs) = results
    for a, b in zip(stock_values, our_values):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert our_convs < stock_convs


def _std(session, var):
    value = session.run(var)
    return value.std(), np.abs(value).max()


@pytest.mark.parametrize('initialization,expected', [
    (None, np.sqrt(2. / (300 + 500))), ('glorot', np.sqrt(2. / (300 + 500))),
    ('he', np.sqrt(2. / 300)), ('lecun', np.sqrt(1. / 300)),
    ('glorot_he', np.sqrt(4. / (300 + 500)))])
def test_linear_init(initialization, expected):
    with new_session() as session:
        Linear('L', 300, 500, tf.zeros([1, 300]), initialization=initialization)
        session.run(tf.global_variables_initializer())
        std, top = _std(session, params.params_with_name('L.W')[0])
    assert abs(std / expected - 1) < 0.02
    assert top <= expected * np.sqrt(3) * (1 + 1e-6)


@pytest.mark.parametrize('he_init,stride,filter_size', [
    (True, 1, 3), (False, 1, 3), (True, 2, 5), (False, 1, 1)])
def test_conv2d_init(he_init, stride, filter_size):
    fan_in = 64 * filter_size ** 2
    fan_out = 128 * filter_size ** 2 // stride ** 2
    expected = np.sqrt((4. if he_init else 2.) / (fan_in + fan_out))
    with new_session() as session:
        Conv2D('C', 64, 128, filter_size, tf.zeros([1, 8, 8, 64]), he_init=he_init,
               stride=stride)
        session.run(tf.global_variables_initializer())
        std, top = _std(session, params.params_with_name('C.Filters')[0])
    assert abs(std / expected - 1) < 0.03
    assert top <= expected * np.sqrt(3) * (1 + 1e-6)


def test_deconv2d_init():
    expected = np.sqrt(4. / (64 * 25 // 4 + 32 * 25))
    with new_session() as session:
        Deconv2D('D', 64, 32, 5, tf.zeros([1, 4, 4, 64]))
        session.run(tf.global_variables_initializer())
        std, _ = _std(session, params.params_with_name('D.Filters')[0])
    assert abs(std / expected - 1) < 0.03


def test_registry_shares_variables_and_fixes_keys():
    with new_session():
        with tf.name_scope('some_outer_scope'):
            first = Linear('Generator.Input', 4, 3, tf.zeros([2, 4]))
        Linear('Generator.Input', 4, 3, tf.ones([2, 4]))
        assert first.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) == \
            params.all_params()
        assert [v.op.name for v in params.all_params()] == [
            'Generator.Input/Generator.Input.W', 'Generator.Input/Generator.Input.b']
        layernorm.Layernorm('Discriminator.Res1.BN1', tf.zeros([2, 4, 4, 3]))
        assert params.params_with_name('Discriminator.')[0].op.name == \
            'Discriminator.Res1.BN1.offset'
        with pytest.raises(ValueError, match='Generator.Input.W.*shape'):
            Linear('Generator.Input', 5, 3, tf.zeros([2, 5]))
    with new_session():
        assert params.all_params() == []


def test_flatten_is_nchw_ordered_in_both_layouts(data_format, rng):
    x = rng.randn(2, 3, 4, 5).astype('float32')
    with new_session() as session:
        with layout.using(data_format):
            flat = layout.flatten_nchw(layout.from_nhwc(tf.constant(x)))
            back = layout.to_nhwc(layout.unflatten_nchw(flat, 5, 3, 4))
        f, b = session.run([flat, back])
    np.testing.assert_array_equal(f, x.transpose(0, 3, 1, 2).reshape(2, -1))
    np.testing.assert_array_equal(b, x)


def test_bad_data_format():
    with pytest.raises(ValueError, match="data_format must be one of"):
        with layout.using('NCWH'):
            pass
