"""PGAN: its layers against numpy, the growth schedule, fade-in continuity, the optimizer reset
per phase, and a 4 -> 8 -> 16 run through the toolchain (its generator average, Gs, is every
model's: test_averaging.py)."""
import json
import os

import numpy as np
import pytest

import freeze_graph
import gan_train
import models
from conftest import fixed_inputs, new_session
from models import pgan
from tflib import checkpoints, layout, params
from tflib import gan as gan_lib
from tflib.compat import tf
from tflib.config import ConfigError
from tflib.ops import equalized
from zoo import export, settings

PGAN = models.get('pgan')
TINY = dict(IMAGE_SIZE=16, CHANNELS=1, Z_DIM=8, DEPTHS=[8, 8, 4], BATCH_SIZES=[8, 8, 4],
            STABLE_IMAGES=32, FADE_IMAGES=16, MBSTD_GROUP=4)
RUN_FLAGS = ['--preset', 'pgan_tiny', '--Z_DIM', '8', '--DEPTHS', '8,8,4', '--BATCH_SIZES',
             '8,8,4', '--STABLE_IMAGES', '16', '--FADE_IMAGES', '16', '--LOG_STEP', '1',
             '--CHECKPOINT_STEP', '1', '--keep_checkpoints', '50', '--device', 'cpu']


def phase_of(phase_index, **overrides):
    """(The TINY config, its phase ``phase_index``)."""
    cfg = pgan.config(**dict(TINY, **overrides))
    return cfg, pgan.phases(cfg)[phase_index]


def test_schedule_follows_the_config():
    cfg = pgan.config(**TINY)
    schedule = pgan.phases(cfg)
    assert [p.name for p in schedule] == ['4x4 stable', '8x8 fade-in', '8x8 stable',
                                          '16x16 fade-in', '16x16 stable']
    assert [(p.start, p.end) for p in schedule] == [(0, 4), (4, 6), (6, 10), (10, 14),
                                                    (14, 22)]
    assert [p.batch_size for p in schedule] == [8, 8, 8, 4, 4]
    assert cfg['ITERS'] == 22
    cut = pgan.phases(pgan.config(**dict(TINY, ITERS=5)))
    assert [(p.start, p.end) for p in cut] == [(0, 4), (4, 5)]
    assert cut[-1].settings['PHASE_STEPS'] == 2  # the fade keeps its rate when cut short
    one_batch = pgan.phases(pgan.config(**dict(TINY, batch_size=16)))  # the MindSpore seed's way
    assert [p.batch_size for p in one_batch] == [16] * 5
    longer = pgan.phases(pgan.config(**dict(TINY, ITERS=30)))
    assert longer[-1].end == 30 and len(longer) == 5
    # A checkpoint at a phase's end belongs to that phase's graph.
    assert models.get('pgan').phase_at(cfg, 4).settings['RESOLUTION'] == 4
    assert models.get('pgan').phase_at(cfg, 5).settings['FADE']


def test_seed_preset_depths_and_batches():
    cfg = settings.model_values(settings.request(['--preset', 'pgan_celeba']))
    schedule = pgan.phases(cfg)
    assert [p.settings['RESOLUTION'] for p in schedule][::2] == [4, 8, 16, 32, 64, 128]
    assert cfg['DEPTHS'] == [512, 512, 512, 512, 256, 128]
    assert schedule[0].end == 4688  # 600k images in batches of 128, rounded up
    assert schedule[-1].batch_size == 16


@pytest.mark.parametrize('overrides,message', [
    (dict(IMAGE_SIZE=24), 'power of two'),
    (dict(DEPTHS=[8, 8]), 'one depth per resolution'),
    (dict(BATCH_SIZES=[8, 8]), 'one minibatch per resolution'),
    (dict(BATCH_SIZES=[8, 8, 6]), 'minibatch 6 is not a multiple of MBSTD_GROUP 4'),
    (dict(batch_size=10), 'minibatch 10 is not a multiple of MBSTD_GROUP 4'),
    (dict(FADE_IMAGES=0), 'positive'),
])
def test_bad_schedules_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        pgan.config(**dict(TINY, **overrides))


def test_list_settings_parse_from_flags():
    req = settings.request(['--preset', 'pgan_tiny', '--DEPTHS', '64, 32,16'])
    assert req.values['DEPTHS'] == [64, 32, 16]
    with pytest.raises(ConfigError, match='--DEPTHS expects comma-separated'):
        settings.request(['--preset', 'pgan_tiny', '--DEPTHS', '64,x'])


def test_equalized_layers_scale_weights_at_run_time(data_format, rng):
    x = rng.randn(4, 3, 3, 5).astype(np.float32)
    with new_session() as session, layout.using(data_format):
        y = equalized.conv2d('C', layout.from_nhwc(tf.constant(x)), 6, 3, gain=2.)
        d = equalized.dense('D', tf.constant(x.reshape(4, -1)), 2)
        session.run(tf.global_variables_initializer())
        w, b = session.run(params.param('C.W', [3, 3, 5, 6], None, scope='C')), rng.randn(6)
        params.param('C.b', [6], None, scope='C').load(b.astype(np.float32), session)
        got = session.run(layout.to_nhwc(y))
        dense_w = session.run(params.param('D.W', [45, 2], None, scope='D'))
        np.testing.assert_allclose(session.run(d), x.reshape(4, -1).dot(dense_w) *
                                   np.sqrt(2. / 45), rtol=1e-4, atol=1e-5)
    assert abs(w.std() - 1.) < .1  # stored as N(0, 1) draws
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    expected = np.zeros((4, 3, 3, 6))
    for i in range(3):
        for j in range(3):
            expected[:, i, j] = np.einsum('nhwc,hwco->no', padded[:, i:i + 3, j:j + 3], w)
    np.testing.assert_allclose(got, expected * 2. / np.sqrt(45) + b, rtol=1e-4, atol=1e-4)


def test_pixel_norm_and_minibatch_stddev_match_numpy(data_format, rng):
    x = rng.randn(8, 2, 2, 3).astype(np.float32)
    with new_session() as session, layout.using(data_format):
        normed, stats = session.run([layout.to_nhwc(equalized.pixel_norm(layout.from_nhwc(
            tf.constant(x)))), layout.to_nhwc(equalized.minibatch_stddev(
                layout.from_nhwc(tf.constant(x)), 4))])
    np.testing.assert_allclose((normed ** 2).mean(axis=3), 1., rtol=1e-4)
    np.testing.assert_allclose(stats[..., :3], x)
    groups = x.reshape(4, 2, 2, 2, 3)  # tkarras's [G, M, ...]: sample n is in group n % M
    per_group = np.sqrt(groups.var(axis=0) + 1e-8).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(stats[..., 3], np.broadcast_to(
        np.tile(per_group, 4)[:, None, None], (8, 2, 2)), rtol=1e-5)


def grown_pair(fade_index, step):
    """A stable phase trained for two steps, then the next (fade-in) phase's generator and
    critic built on its carried-over weights at ``step``; returns both phases' outputs."""
    cfg, old_phase = phase_of(fade_index - 1)
    new_phase = pgan.phases(cfg)[fade_index]
    old_res, new_res = old_phase.settings['RESOLUTION'], new_phase.settings['RESOLUTION']
    rng = np.random.RandomState(0)
    z = rng.randn(4, TINY['Z_DIM']).astype(np.float32)
    reals = rng.uniform(-1, 1, (8, 16, 16, 1)).astype(np.float32)
    values = {}
    with new_session() as old:
        gan = PGAN.build(cfg, fixed_inputs(reals[:old_phase.batch_size], np.zeros(8)),
                         phase=old_phase)
        old.run(tf.global_variables_initializer())
        for _ in range(2):
            old.run(gan.train_op)
        small = old.run(pgan.real_images(new_res, tf.constant(reals[:4]), None))
        results = old.run([gan.generator(4, noise=tf.constant(z)),
                           pgan.synthesis(cfg, old_res, tf.constant(z), None),
                           gan.discriminator(pgan.real_images(old_res, tf.constant(small),
                                                             None))[0]])
        values = {v.op.name: old.run(v) for v in gan_lib.carried_state()}
    with new_session(seed=1) as session:
        grown = PGAN.build(cfg, fixed_inputs(reals[:new_phase.batch_size], np.zeros(8)),
                           phase=new_phase)
        session.run(tf.global_variables_initializer())
        for var in gan_lib.carried_state():
            if var.op.name in values:
                var.load(values[var.op.name], session)
        grown.step.load(step, session)
        new = session.run([grown.generator(4, noise=tf.constant(z)),
                           pgan.synthesis(cfg, new_res, tf.constant(z),
                                          pgan.fade_alpha(new_phase)),
                           grown.discriminator(tf.constant(small))[0]])
    return results, new


def upscale(images):
    return images.repeat(2, axis=1).repeat(2, axis=2)


@pytest.mark.parametrize('fade_index', [1, 3])
@pytest.mark.slow
def test_fade_in_starts_where_the_last_resolution_ended(fade_index):
    """At alpha 0 the grown generator (and its moving average) give the previous one's images
    upscaled, and the grown critic scores an image as the previous one scored it
    downscaled."""
    start = pgan.phases(pgan.config(**TINY))[fade_index].start
    (ema, raw, score), (ema_grown, raw_grown, score_grown) = grown_pair(fade_index, start)
    np.testing.assert_allclose(raw_grown, upscale(raw), atol=1e-5)
    np.testing.assert_allclose(ema_grown, upscale(ema), atol=1e-5)
    np.testing.assert_allclose(score_grown, score, rtol=1e-4, atol=1e-5)
    assert np.abs(ema - raw).max() > 0  # the average lags the trained weights


@pytest.mark.slow
def test_fade_in_blends_over_the_phase():
    """Halfway through the fade the output is not the upscaled old one."""
    phase = pgan.phases(pgan.config(**TINY))[3]
    (_, raw, _), (_, raw_grown, _) = grown_pair(3, phase.end)
    assert np.abs(raw_grown - upscale(raw)).max() > 1e-3


def test_real_images_fade_like_the_generator():
    x = np.random.RandomState(0).uniform(-1, 1, (2, 16, 16, 1)).astype(np.float32)
    with new_session() as session:
        at_start = session.run(pgan.real_images(16, tf.constant(x), tf.constant(0.)))
        at_end = session.run(pgan.real_images(16, tf.constant(x), tf.constant(1.)))
        mirrored = session.run(pgan.real_images(16, tf.constant(x), None,
                                                tf.constant([1., 0.])))
    half = x.reshape(2, 8, 2, 8, 2, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(at_start, upscale(half), atol=1e-6)
    np.testing.assert_allclose(at_end, x, atol=1e-6)
    np.testing.assert_allclose(mirrored, np.stack([x[0, :, ::-1], x[1]]), atol=1e-6)
    with new_session() as session:
        four = session.run(pgan.real_images(4, tf.constant(x), None))
    np.testing.assert_allclose(four[..., 0], x[..., 0].reshape(2, 4, 4, 4, 4).mean(
        axis=(2, 4)), atol=1e-6)


def test_phases_carry_model_state_but_not_optimizer_state():
    with new_session():
        cfg, phase = phase_of(1)
        gan = PGAN.build(cfg, fixed_inputs(np.zeros((8, 16, 16, 1), np.float32), np.zeros(8)),
                         phase=phase)
        carried = {v.op.name for v in gan_lib.carried_state()}
        everything = {v.op.name for v in tf.global_variables()}
        del gan
    dropped = everything - carried
    assert dropped and all('Adam' in k or k.startswith('beta') for k in dropped)
    assert {'global_step', 'Gs.8x8.Conv1/Gs.8x8.Conv1.W',
            'Generator.ToRGB_4x4/Generator.ToRGB_4x4.W',
            'Discriminator.FromRGB_4x4/Discriminator.FromRGB_4x4.b'} <= carried


def adam_steps(run_dir, step):
    """Adam updates since the optimizers' last reset, read from their beta2 powers (TF's
    starts at beta2 and is multiplied by it after each update)."""
    reader = tf.train.load_checkpoint(os.path.join(str(run_dir), 'checkpoints',
                                                   'model.ckpt-{}'.format(step)))
    powers = [reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
              if k.startswith('beta2_power')]
    steps = {int(round(np.log(p) / np.log(.99))) - 1 for p in powers}
    assert len(steps) == 1
    return steps.pop()


@pytest.mark.slow
def test_growing_run_resets_adam_resumes_mid_phase_and_freezes_the_average(tmp_path, capsys):
    """4 -> 8 -> 16 in phases of 2 steps (4 at 16x16), stopped inside the 16x16 fade-in and
    resumed; the frozen generator is the moving average, at 16x16."""
    run = tmp_path / 'run'
    flags = RUN_FLAGS + ['--output_path', str(run)]
    assert gan_train.main(flags + ['--ITERS', '8']) == 0
    out = capsys.readouterr().out
    assert 'phase 4/4: 16x16 fade-in, steps 6 to 8' in out
    assert '18 new (Discriminator.8x8.Conv0' in out
    assert adam_steps(run, 2) == 2 and adam_steps(run, 3) == 1  # reset as 8x8 fades in
    assert adam_steps(run, 5) == 1 and adam_steps(run, 8) == 2
    assert gan_train.main(flags) == 0
    out = capsys.readouterr().out
    assert 'resuming' in out and 'at step 8' in out
    assert adam_steps(run, 9) == 3  # mid-phase: the optimizer state is restored
    assert adam_steps(run, 11) == 1  # 16x16 stable
    meta = json.loads((run / 'meta.json').read_text())
    assert meta['step'] == 14 and meta['model'] == 'pgan'
    rows = [l for l in out.splitlines() if l.startswith('step: 9/14')]
    assert 'alpha: 0.5000' in rows[0]
    assert sorted(os.listdir(str(run / 'samples')))[-1] == 'samples_000014.png'

    pb = str(tmp_path / 'G.pb')
    assert freeze_graph.main(['--ckpt', str(run), '--output', pb, '--batch', '4']) == 0
    graph_def = tf.GraphDef()
    with open(pb, 'rb') as f:
        graph_def.ParseFromString(f.read())
    constants = {n.name: n for n in graph_def.node if n.op == 'Const'}
    weights = [name for name in constants if name.endswith(('.W', '.b'))]
    assert weights and all(name.startswith('Gs.') for name in weights)
    reader = tf.train.load_checkpoint(checkpoints.resolve(str(run)))
    key = 'Gs.16x16.Conv1/Gs.16x16.Conv1.W'
    frozen = tf.make_ndarray(constants[key].attr['value'].tensor)
    np.testing.assert_array_equal(frozen, reader.get_tensor(key))
    assert np.abs(frozen - reader.get_tensor(key.replace('Gs', 'Generator'))).max() > 0
    images = export.run_frozen(graph_def, {'z': np.zeros((4, 8), np.float32)})
    assert images.shape == (4, 16, 16, 1)

    # An earlier checkpoint, inside the 8x8 fade-in, exports at its own resolution and alpha
    # (the SavedModel keeps the step variable that alpha is computed from).
    pb8, saved8 = str(tmp_path / 'G8.pb'), str(tmp_path / 'G8')
    prefix = str(run / 'checkpoints' / 'model.ckpt-3')
    assert freeze_graph.main(['--ckpt', prefix, '--output', pb8, '--saved_model', saved8]) == 0
    out = capsys.readouterr().out
    assert '[8, 8, 1]' in out and '{} max |difference|'.format(saved8) in out
    graph_def8 = tf.GraphDef()
    with open(pb8, 'rb') as f:
        graph_def8.ParseFromString(f.read())
    z = np.random.RandomState(0).randn(4, 8).astype(np.float32)
    images, signature = export.run_saved_model(saved8, {'z': z})
    assert signature.image_size == 8 and not signature.conditional
    np.testing.assert_allclose(images, export.run_frozen(graph_def8, {'z': z}), atol=1e-5)


@pytest.mark.slow
def test_epochs_need_one_minibatch(tmp_path, capsys):
    flags = RUN_FLAGS + ['--output_path', str(tmp_path / 'run'), '--EPOCHS', '1']
    assert gan_train.main(flags) == 2
    assert '--EPOCHS needs one --batch_size; pgan schedules' in capsys.readouterr().err
    assert gan_train.main(flags + ['--batch_size', '100', '--LOG_STEP', '100']) == 0
    out = capsys.readouterr().out  # the 4,000 built-in training digits, once
    assert '1.0 epochs of 4000 images: 40 generator steps' in out


@pytest.mark.slow
def test_layouts_give_the_same_images_and_scores(data_format):
    """One set of weights means the same networks in NCHW and NHWC (fade-in phase)."""
    rng = np.random.RandomState(0)
    z = rng.randn(4, TINY['Z_DIM']).astype(np.float32)
    x = rng.uniform(-1, 1, (4, 16, 16, 1)).astype(np.float32)
    outputs, values = [], None
    for fmt in ('NHWC', data_format):
        cfg, phase = phase_of(3, data_format=fmt)
        with new_session(seed=len(outputs)) as session:
            gan = PGAN.build(cfg, fixed_inputs(x, np.zeros(4)), phase=phase)
            session.run(tf.global_variables_initializer())
            if values is None:
                session.run(gan.train_op)
                gan.step.load(phase.start + 2, session)  # alpha 0.5
                values = {v.op.name: session.run(v) for v in tf.global_variables()}
            else:
                for v in tf.global_variables():
                    v.load(values[v.op.name], session)
            outputs.append(session.run([gan.generator(4, noise=tf.constant(z)),
                                        gan.discriminator(tf.constant(x))[0]]))
    for got, expected in zip(outputs[1], outputs[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
