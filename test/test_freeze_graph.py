"""freeze_graph.py: the frozen generator (and its ONNX) computes what the checkpoint does."""
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import freeze_graph
import gan_train
import models
from conftest import new_session
from test_docs import python_blocks
from models import transfer_gan
from tflib import params
from tflib.ops import population
from tflib.compat import IS_TF2, SavedModelProto, tf
from zoo import export, generators

TINY = ['--DIM_G', '4', '--DIM_D', '4', '--batch_size', '4', '--N_CRITIC', '1', '--ITERS', '2',
        '--LOG_STEP', '1', '--device', 'cpu']
HAS_ONNX = all(importlib.util.find_spec(m) for m in ('tf2onnx', 'onnxruntime'))


@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    """A tiny trained conditional run (our format, with meta.json)."""
    out = tmp_path_factory.mktemp('run')
    assert gan_train.main(TINY + ['--output_path', str(out)]) == 0
    return out


def load_pb(path):
    graph_def = tf.GraphDef()
    with open(path, 'rb') as f:
        graph_def.ParseFromString(f.read())
    return graph_def


def run_pb(path, z, labels):
    with new_session() as session:
        tf.import_graph_def(load_pb(path), name='')
        return session.run('images:0', {'z:0': z, 'label:0': labels})


def checkpoint_images(run_dir, z, labels, is_training=True):
    """The generator rebuilt by hand from the run's config, restored with a plain Saver."""
    import json
    meta = json.loads((run_dir / 'meta.json').read_text())
    cfg = transfer_gan.config(**dict(meta['config'], data_format='NHWC'))
    with new_session() as session:
        images = transfer_gan.generator(cfg, len(z), labels=tf.constant(labels),
                                        noise=tf.constant(z), is_training=is_training)
        tf.train.Saver(params.params_with_name('Generator')).restore(
            session, str(run_dir / meta['checkpoint']))
        return session.run(images)


def population_images(run_dir, z, labels):
    """The checkpoint generator's images with population BatchNorm statistics."""
    model, cfg, phase, prefix = generators.describe(str(run_dir), None, [])
    statistics = generators.population_statistics(model, cfg, phase, prefix)
    with new_session() as session:
        feed, images, _ = generators.generator_graph(model, cfg, phase, None, 'population',
                                                     statistics)
        generators.restore_graph(session, prefix)
        return session.run(images, {feed['z']: z, feed['label']: labels})


@pytest.mark.parametrize('conditional', [True, False])
def test_population_statistics_normalise_as_batches_do(conditional):
    """Fixed statistics equal to a batch's own moments give that batch's images (both
    BatchNorm kinds), and the population estimate is the pooled mean and variance."""
    cfg = transfer_gan.config(DIM_G=8, CONDITIONAL=conditional, ACGAN=conditional,
                              data_format='NHWC')
    z, labels = inputs(6)
    with new_session(grappler=False) as session:
        feed_labels = tf.constant(labels) if conditional else None
        with population.recording() as moments:
            batch = transfer_gan.generator(cfg, 6, labels=feed_labels, noise=tf.constant(z))
        session.run(tf.global_variables_initializer())
        got, measured = session.run([batch, moments])
        assert len(measured) == 7  # two per block (3), and the last
        with population.fixed(measured):
            again = transfer_gan.generator(cfg, 6, labels=feed_labels, noise=tf.constant(z))
        np.testing.assert_allclose(session.run(again), got, atol=1e-5)
    rng = np.random.RandomState(0)
    data = rng.randn(5, 40, 3) * [1., 2., 3.] + [0., 1., -1.]
    estimate = population.estimate([{'l': (part.mean(0), part.var(0))} for part in data])
    np.testing.assert_allclose(estimate['l'][0], data.reshape(-1, 3).mean(0))
    np.testing.assert_allclose(estimate['l'][1], data.reshape(-1, 3).var(0))


def inputs(n, seed=1):
    rng = np.random.RandomState(seed)
    return rng.randn(n, 128).astype(np.float32), rng.randint(0, 10, n).astype(np.int32)


@pytest.mark.slow
def test_frozen_generator_matches_the_checkpoint(run_dir, tmp_path, capsys):
    pb = str(tmp_path / 'G.pb')
    assert freeze_graph.main(['--ckpt', str(run_dir), '--output', pb]) == 0
    out = capsys.readouterr().out
    assert 'max |difference| from the checkpoint' in out
    assert 'atc --model={} --framework=3 --input_shape="z:100,128;label:100" ' \
           '--out_nodes="images:0"'.format(pb) in out
    for n in (7, 20):  # dynamic batch
        z, labels = inputs(n)
        got = run_pb(pb, z, labels)
        assert got.shape == (n, 32, 32, 1)
        np.testing.assert_allclose(got, checkpoint_images(run_dir, z, labels), atol=1e-5)


def test_fixed_batch_and_moving_statistics(run_dir, tmp_path, capsys):
    pb = str(tmp_path / 'G8.pb')
    assert freeze_graph.main(['--ckpt', str(run_dir), '--output', pb, '--batch', '8',
                              '--bn_mode', 'moving']) == 0
    assert 'input_shape="z:8,128;label:8"' in capsys.readouterr().out
    z_node = [n for n in load_pb(pb).node if n.name == 'z'][0]
    assert [d.size for d in z_node.attr['shape'].shape.dim] == [8, 128]
    z, labels = inputs(8)
    moving = run_pb(pb, z, labels)
    np.testing.assert_allclose(moving, checkpoint_images(run_dir, z, labels, False), atol=1e-5)
    assert np.abs(moving - checkpoint_images(run_dir, z, labels, True)).max() > 1e-3


@pytest.mark.skipif(not HAS_ONNX, reason='tf2onnx and onnxruntime are not installed here')
def test_onnx_export(run_dir, tmp_path, capsys):
    import onnxruntime
    pb, onnx = str(tmp_path / 'G.pb'), str(tmp_path / 'G.onnx')
    assert freeze_graph.main(['--ckpt', str(run_dir), '--output', pb, '--onnx', onnx]) == 0
    assert 'G.onnx max |difference| from the checkpoint' in capsys.readouterr().out
    z, labels = inputs(12)
    session = onnxruntime.InferenceSession(onnx, providers=['CPUExecutionProvider'])
    got = session.run(['images:0'], {'z:0': z, 'label:0': labels})[0]
    np.testing.assert_allclose(got, run_pb(pb, z, labels), atol=1e-4)


def load_saved_model(path, z, labels):
    """TF1's loader (tf.compat.v1 on TF 2.x): the serving_default images and the signature
    facts."""
    with new_session() as session:
        meta_graph = tf.saved_model.loader.load(session, ['serve'], path)
        serving = meta_graph.signature_def['serving_default']
        assert sorted(serving.inputs) == ['label', 'z'] and list(serving.outputs) == ['images']
        assert serving.method_name == 'tensorflow/serving/predict'
        images = session.run(serving.outputs['images'].name, {
            serving.inputs['z'].name: z, serving.inputs['label'].name: labels})
        facts = meta_graph.signature_def['signature'].outputs
        return images, {k: int(session.run(v.name)) for k, v in facts.items()}


EAGER_LOAD = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow as tf
    model = tf.saved_model.load(sys.argv[1])
    data = np.load(sys.argv[2])
    images = model.signatures['serving_default'](z=tf.constant(data['z']),
                                                 label=tf.constant(data['label']))['images']
    facts = {k: int(v) for k, v in model.signatures['signature']().items()}
    np.savez(sys.argv[3], images=images.numpy(), **facts)
''')


@pytest.mark.slow
def test_saved_model_export(run_dir, tmp_path, capsys):
    saved = tmp_path / 'output' / 'serving' / 'quickstart' / '1'  # docs/export.md's path
    assert freeze_graph.main(['--ckpt', str(run_dir), '--output', str(tmp_path / 'G.pb'),
                              '--saved_model', str(saved)]) == 0
    out = capsys.readouterr().out
    assert '{} max |difference| from the checkpoint'.format(saved) in out
    assert 'wrote {} (SavedModel, tag serve, BatchNorm population)'.format(saved) in out
    z, labels = inputs(9)
    expected = population_images(run_dir, z, labels)
    facts = {'z_dim': 128, 'n_classes': 10, 'image_size': 32, 'channels': 1}
    got, got_facts = load_saved_model(str(saved), z, labels)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert got_facts == facts
    # Nothing TF 1.15's loader would refuse (TF 2.x's debug_name on VarHandleOp).
    proto = SavedModelProto()
    proto.ParseFromString((saved / 'saved_model.pb').read_bytes())
    assert not [n.name for m in proto.meta_graphs for n in m.graph_def.node
                if 'debug_name' in n.attr]
    # A request of one image gets the image it gets in a batch.
    single = np.concatenate([load_saved_model(str(saved), z[i:i + 1], labels[i:i + 1])[0]
                             for i in (0, 4)])
    np.testing.assert_allclose(single, got[[0, 4]], atol=1e-5)
    if IS_TF2:  # TF 2.x's own loader, eager, in a process of its own
        np.savez(str(tmp_path / 'in.npz'), z=z, label=labels)
        loaded = subprocess.run([sys.executable, '-c', EAGER_LOAD, str(saved),
                                 str(tmp_path / 'in.npz'), str(tmp_path / 'out.npz')],
                                stderr=subprocess.PIPE, universal_newlines=True, check=True)
        assert 'reference variable' not in loaded.stderr  # resource variables: no warnings
        eager = np.load(str(tmp_path / 'out.npz'))
        np.testing.assert_allclose(eager['images'], expected, atol=1e-4)
        assert {k: int(eager[k]) for k in facts} == facts
        # docs/export.md's example, as written, beside its output/ folder.
        snippet = python_blocks('docs/export.md')[0] + '\nprint(images.shape)'
        out = subprocess.run([sys.executable, '-c', snippet], cwd=str(tmp_path),
                             stdout=subprocess.PIPE, universal_newlines=True, check=True)
        assert out.stdout.strip() == '(16, 32, 32, 1)'
    # saved_model_cli, which comes with TensorFlow, lists both signatures.
    shown = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'saved_model_cli'),
                            'show', '--dir', str(saved), '--all'], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert "signature_def['serving_default']" in shown and "outputs['images']" in shown
    assert "signature_def['signature']" in shown and "outputs['n_classes']" in shown



def test_saved_model_replaces_only_its_own_kind(run_dir, tmp_path, capsys, monkeypatch):
    saved = tmp_path / 'G'
    flags = ['--ckpt', str(run_dir), '--output', str(tmp_path / 'G.pb'), '--saved_model',
             str(saved)]
    assert freeze_graph.main(flags) == 0
    assert freeze_graph.main(flags) == 0  # an earlier SavedModel is replaced
    assert sorted(os.listdir(str(tmp_path))) == ['G', 'G.pb']
    # One that fails its check replaces nothing.
    before = (saved / 'saved_model.pb').read_bytes()
    monkeypatch.setattr(export, 'TOLERANCE', -1.)
    capsys.readouterr()
    assert freeze_graph.main(flags) == 2
    assert 'does not reproduce the checkpoint' in capsys.readouterr().err
    assert (saved / 'saved_model.pb').read_bytes() == before
    assert sorted(os.listdir(str(tmp_path))) == ['G', 'G.pb']
    monkeypatch.undo()
    # Anyone's files beside a SavedModel (TensorFlow Serving's assets.extra), or any other
    # directory, are refused, untouched.
    (saved / 'assets.extra').mkdir()
    other = tmp_path / 'notes'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    for directory, holds in ((saved, 'assets.extra'), (other, 'notes.txt')):
        flags[-1] = str(directory)
        assert freeze_graph.main(flags) == 2
        assert '{}: not a SavedModel written by freeze_graph.py (it holds {})'.format(
            directory, holds) in capsys.readouterr().err
    assert os.listdir(str(other)) == ['notes.txt']
    assert sorted(os.listdir(str(saved))) == ['assets.extra', 'saved_model.pb', 'variables']


def test_outputs_are_checked_first_and_land_together(run_dir, tmp_path, capsys, monkeypatch):
    """Missing parent folders are made; a path that cannot be written is refused before any
    work, named, without errno numbers; an export whose last file fails leaves none."""
    deep = tmp_path / 'nodir' / 'sub'
    assert freeze_graph.main(['--ckpt', str(run_dir), '--output', str(deep / 'G.pb')]) == 0
    assert os.listdir(str(deep)) == ['G.pb']
    assert 'wrote {}'.format(deep / 'G.pb') in capsys.readouterr().out
    (tmp_path / 'taken').write_text('a file')
    built = []
    monkeypatch.setattr(generators, 'describe', lambda *a: built.append(a) or 1 / 0)
    for flags, named in (
            (['--output', str(tmp_path)], '{}: is a folder'.format(tmp_path)),
            (['--output', str(tmp_path / 'G.pb'), '--onnx', str(tmp_path / 'taken' / 'G.onnx')],
             str(tmp_path / 'taken' / 'G.onnx')),
            (['--output', str(tmp_path / 'G.pb'), '--saved_model', str(tmp_path / 'taken')],
             '{}: exists and is not a folder'.format(tmp_path / 'taken')),
            (['--output', str(tmp_path / 'G.pb'), '--onnx', str(tmp_path / 'G.pb')],
             '{}: is both --output and --onnx'.format(tmp_path / 'G.pb')),
            (['--output', str(tmp_path / 'sm' / 'G.pb'), '--saved_model', str(tmp_path / 'sm')],
             '{}: --output is inside --saved_model'.format(tmp_path / 'sm' / 'G.pb'))):
        assert freeze_graph.main(['--ckpt', str(run_dir)] + flags) == 2
        err = capsys.readouterr().err
        assert named in err and 'Errno' not in err, err
    assert not built  # refused before the checkpoint was read
    monkeypatch.undo()
    # The last check failing (the ONNX, or the SavedModel's here) leaves no file at all.
    monkeypatch.setattr(export, 'check_saved_model', lambda *a: 1 / 0 if a else None)
    flags = ['--ckpt', str(run_dir), '--output', str(tmp_path / 'new' / 'G.pb'),
             '--saved_model', str(tmp_path / 'new' / 'serving')]
    with pytest.raises(ZeroDivisionError):
        freeze_graph.main(flags + ['--debug'])
    assert os.listdir(str(tmp_path / 'new')) == []


@pytest.mark.slow
def test_serving_bench(run_dir, tmp_path):
    """bench/serving.py: a row per run, FIDs for each BatchNorm mode; population's single
    requests are their batch twins' images up to the statistics."""
    out = subprocess.run([sys.executable, os.path.join('bench', 'serving.py'), '--ckpt',
                          str(run_dir), '--n', '100', '--out', str(tmp_path)],
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    row = [l for l in out.splitlines() if l.startswith('| {} |'.format(run_dir.name))][0]
    assert row.count('apart: max') == len(generators.BN_MODES)
    result = [l for l in out.splitlines() if l.startswith('RESULT ')][-1]
    assert all('single_{}_fid='.format(mode) in result for mode in generators.BN_MODES)


def test_a_bare_checkpoint_is_described_by_a_preset(run_dir, tmp_path, capsys):
    """The authors' checkpoints come without meta.json: --preset and overrides describe them."""
    bare = tmp_path / 'transfer_model'
    bare.mkdir()
    for name in os.listdir(str(run_dir / 'checkpoints')):
        if name.startswith('model.ckpt-2.'):
            shutil.copy(str(run_dir / 'checkpoints' / name),
                        str(bare / name.replace('model.ckpt-2', 'wgan-gp.model')))
    prefix = str(bare / 'wgan-gp.model')
    code = freeze_graph.main(['--ckpt', prefix, '--output', str(tmp_path / 'G.pb')])
    assert code == 2
    assert 'no meta.json beside this checkpoint; describe its model with --preset' in \
        capsys.readouterr().err
    assert freeze_graph.main(['--ckpt', prefix, '--output', str(tmp_path / 'G.pb'), '--preset',
                              'quickstart', '--DIM_G', '4', '--DIM_D', '4']) == 0
    z, labels = inputs(5)
    np.testing.assert_allclose(run_pb(str(tmp_path / 'G.pb'), z, labels),
                               checkpoint_images(run_dir, z, labels), atol=1e-5)
    code = freeze_graph.main(['--ckpt', prefix, '--output', str(tmp_path / 'G.pb'), '--preset',
                              'quickstart'])
    assert code == 2
    assert 'does not fit this network' in capsys.readouterr().err


@pytest.mark.parametrize('flags,message', [
    (['--ckpt', '/nonexistent/run'], '/nonexistent/run: no such checkpoint'),
    (['--ckpt', '{run}', '--DIM_G', '8'], 'the checkpoint fixes DIM_G'),
    (['--ckpt', '{run}', '--bogus', '1'], 'unknown flag --bogus'),
])
def test_bad_arguments(run_dir, tmp_path, capsys, flags, message):
    flags = [f.format(run=run_dir) for f in flags]
    assert freeze_graph.main(flags + ['--output', str(tmp_path / 'G.pb')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('freeze_graph.py: error: ') and err.count('\n') == 1
    assert message in err
    assert not (tmp_path / 'G.pb').exists()


def test_the_grid_noise_is_fixed_and_the_score_noise_fed():
    """The training run's sample ops: the grid's noise a constant of its seed, the scores' a
    placeholder for the host's draws; labels cycle through the classes when conditional."""
    def generator(n, labels=None, noise=None):
        return n, labels, noise
    gan = types.SimpleNamespace(generator=generator)
    with tf.Graph().as_default():
        (n, label_op, _), noise, labels = generators.sample_op(gan, models.Signature(6, 3, 8, 1),
                                                               seed=0)
        assert n == generators.N_SAMPLES and noise.op.type == 'Const'
        assert list(labels[:4]) == [0, 1, 2, 0] and label_op.op.type == 'Const'
        (_, label_op, _), noise, labels = generators.sample_op(
            gan, models.Signature(6, None, 8, 1))
        assert noise.op.type == 'Placeholder' and noise.shape.as_list() == [100, 6]
        assert labels is None and label_op is None
