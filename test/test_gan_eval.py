"""gan_eval.py, the built-in digit classifier, and scoring / export from gan_train.py."""
import importlib.util
import json
import os

import numpy as np
import pytest

import datasets
import freeze_graph
import gan_eval
import gan_train
from tflib import images
from tflib.compat import tf
from tflib.metrics import classifier
from tflib.metrics import scores as scores_lib
from tools import digit_classifier as digits
from zoo import export, scoring

TINY = ['--DIM_G', '4', '--DIM_D', '4', '--batch_size', '4', '--N_CRITIC', '1',
        '--LOG_STEP', '1', '--device', 'cpu']
HAS_ONNX = all(importlib.util.find_spec(m) for m in ('tf2onnx', 'onnxruntime'))


def score_line(out):
    return [l for l in out.splitlines() if l.startswith('Final Average Distances')][-1]


def test_built_in_digit_classifier_is_accurate():
    test = datasets.get('mnist_builtin')('', 32, 3, 'test')
    pixels, labels = test.read(np.arange(len(test)))
    model = classifier.FrozenClassifier(scoring.DIGIT_CLASSIFIER)
    features, probs = model.run(pixels.astype(np.float32))
    model.close()
    assert features.shape == (1000, digits.N_FEATURES)
    assert np.mean(probs.argmax(1) == labels) >= 0.95


def test_digit_classifier_training_writes_the_interface(tmp_path):
    path = str(tmp_path / 'digits.pb')
    assert digits.main(['--output', path, '--steps', '30']) == 0
    features, probs = classifier.FrozenClassifier(path).run(
        np.zeros((3, 28, 28, 3), np.float32))
    assert features.shape == (3, digits.N_FEATURES) and probs.shape == (3, 10)


@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    """A tiny run that scores during training and, at the end, scores and exports."""
    out = tmp_path_factory.mktemp('run')
    code = gan_train.main(TINY + ['--ITERS', '2', '--INCEPTION_FREQUENCY', '1', '--N_INCEPTION',
                                  '200', '--EXPORT_AT_END', 'true', '--output_path', str(out)])
    assert code == 0
    return out


@pytest.mark.slow
def test_training_scores_and_exports(run_dir, capsys):
    assert (run_dir / 'generator.pb').exists()
    assert (run_dir / 'generator.onnx').exists() == HAS_ONNX


def test_eval_from_checkpoint_pb_and_onnx_agree(run_dir, tmp_path, capsys):
    lines = []
    sources = [str(run_dir), str(run_dir / 'generator.pb')]
    if HAS_ONNX:
        sources.append(str(run_dir / 'generator.onnx'))
    for i, source in enumerate(sources):
        out_dir = tmp_path / str(i)
        assert gan_eval.main(['--ckpt', source, '--n', '300', '--output_dir', str(out_dir)]) == 0
        line = score_line(capsys.readouterr().out)
        assert line.startswith('Final Average Distances : inception_300 score : ')
        lines.append(line)
        saved = np.load(str(out_dir / 'images.npz'))['images']
        assert saved.shape == (300, 32, 32, 1) and saved.dtype == np.uint8
        assert (out_dir / 'eval_grid.png').exists()
        # The saved pixels are the scored ones: re-scoring them gives the printed score.
        model = classifier.FrozenClassifier(scoring.DIGIT_CLASSIFIER)
        _, probs = model.run(np.repeat(saved, 3, axis=3).astype(np.float32))
        model.close()
        assert line == scoring.inception_line(300, *scores_lib.inception_score(probs))
    scores = [float(l.split()[7]) for l in lines]
    assert max(scores) - min(scores) < 1e-3, lines  # the same images, whatever the format
    assert 1. <= scores[0] <= 10.


def test_results_land_beside_what_was_scored_and_are_kept(run_dir, tmp_path, capsys,
                                                          monkeypatch):
    """Never into the working directory; an earlier scoring is kept: the default folder moves
    on to a new name, a named one is refused before any sampling, unless --overwrite."""
    exports, cwd = tmp_path / 'exports', tmp_path / 'cwd'
    exports.mkdir()
    cwd.mkdir()
    (exports / 'G.pb').write_bytes((run_dir / 'generator.pb').read_bytes())
    monkeypatch.chdir(str(cwd))
    flags = ['--ckpt', str(exports / 'G.pb'), '--n', '20', '--batch', '20']
    assert gan_eval.main(flags) == 0
    assert os.listdir(str(cwd)) == []
    first = exports / 'G_eval'
    assert sorted(os.listdir(str(first))) == ['eval_grid.png', 'images.npz']
    assert 'wrote {}'.format(first / 'images.npz') in capsys.readouterr().out
    before = (first / 'images.npz').read_bytes()
    assert gan_eval.main(flags + ['--n', '40']) == 0
    assert '{} holds an earlier scoring: this one goes to {}_2'.format(first, first) in \
        capsys.readouterr().out
    assert len(np.load(str(exports / 'G_eval_2' / 'images.npz'))['images']) == 40
    monkeypatch.setattr(gan_eval.generators.Sampler, 'sample', lambda *a: 1 / 0)
    assert gan_eval.main(flags + ['--output_dir', str(first)]) == 2
    assert '{} holds an earlier scoring (images.npz)'.format(first) in capsys.readouterr().err
    assert (first / 'images.npz').read_bytes() == before
    monkeypatch.undo()
    assert gan_eval.main(flags + ['--n', '40', '--output_dir', str(first), '--overwrite']) == 0
    assert len(np.load(str(first / 'images.npz'))['images']) == 40
    assert sorted(os.listdir(str(exports))) == ['G.pb', 'G_eval', 'G_eval_2']
    assert gan_eval.main(['--ckpt', str(run_dir), '--n', '20', '--batch', '20',
                          '--overwrite']) == 0  # a run's go into it
    assert (run_dir / 'eval' / 'images.npz').exists()


@pytest.mark.slow
def test_a_five_class_generator_is_scored_with_its_own_labels(tmp_path, capsys):
    """With --classes 5,6,7,8,9 the run's N_CLASSES comes from the data (5); its .pb and .onnx
    carry that, so gan_eval.py feeds them labels 0-4 (it assumed 10 classes for any file)."""
    out = tmp_path / 'run'
    assert gan_train.main(TINY + ['--ITERS', '1', '--classes', '5,6,7,8,9', '--N_INCEPTION',
                                  '100', '--EXPORT_AT_END', 'true', '--output_path',
                                  str(out)]) == 0
    assert json.loads((out / 'meta.json').read_text())['signature']['n_classes'] == 5
    graph_def = tf.GraphDef()
    graph_def.ParseFromString((out / 'generator.pb').read_bytes())
    z = np.random.RandomState(0).randn(20, 128).astype(np.float32)  # the Sampler's, seed 0
    expected = images.to_uint8(export.run_frozen(graph_def, {
        'z': z, 'label': (np.arange(20) % 5).astype(np.int32)})).astype(int)
    assert freeze_graph.main(['--ckpt', str(out), '--output', str(out / 'G.pb'),
                              '--saved_model', str(out / 'saved_model'),
                              '--saved_model_bn_mode', 'batch']) == 0  # the .pb's images
    for name in ['generator.pb', 'saved_model'] + (['generator.onnx'] if HAS_ONNX else []):
        assert gan_eval.main(['--ckpt', str(out / name), '--n', '20', '--batch', '20',
                              '--output_dir', str(tmp_path / name)]) == 0
        assert 'noise 128, 5 classes, images 32x32x1' in capsys.readouterr().out
        saved = np.load(str(tmp_path / name / 'images.npz'))['images'].astype(int)
        assert np.abs(saved - expected).max() <= 1, name  # onnxruntime rounds a level off
    # A .pb exported before signatures: 10 classes assumed, as then, unless --n_classes says.
    legacy = tf.GraphDef()
    legacy.node.extend(node for node in graph_def.node if node.name != 'signature')
    (tmp_path / 'old.pb').write_bytes(legacy.SerializeToString())
    flags = ['--ckpt', str(tmp_path / 'old.pb'), '--n', '20', '--batch', '20', '--output_dir',
             str(tmp_path / 'old')]
    assert gan_eval.main(flags) == 0
    assert 'no signature (an older export): assuming 10 classes' in capsys.readouterr().out
    assert gan_eval.main(flags + ['--n_classes', '5', '--overwrite']) == 0
    assert 'noise 128, 5 classes, images 32x32x1' in capsys.readouterr().out
    saved = np.load(str(tmp_path / 'old' / 'images.npz'))['images'].astype(int)
    assert np.abs(saved - expected).max() == 0


def read_back(folder, saved, channels=1):
    """The PNG folder through --dataset folder, in file order, checked against images.npz:
    every image with its pixels and (for class folders) its label."""
    source = datasets.get('folder')(str(folder), 32, channels, 'train')
    assert len(source) == len(saved['images'])
    pixels, labels = source.read(np.arange(len(source)))
    order = [int(os.path.basename(f)[:-4]) for f in source.files]  # the sample index
    assert sorted(order) == list(range(len(source)))
    np.testing.assert_array_equal(pixels, saved['images'][order])
    return source, labels, order


def test_save_images_writes_a_folder_that_reads_back(run_dir, tmp_path, capsys):
    folder = tmp_path / 'samples'
    flags = ['--ckpt', str(run_dir), '--n', '30', '--batch', '30', '--output_dir',
             str(tmp_path), '--save_images', str(folder)]
    assert gan_eval.main(flags) == 0
    assert 'wrote {} (30 PNGs, a folder per class)'.format(folder) in capsys.readouterr().out
    saved = np.load(str(tmp_path / 'images.npz'))
    source, labels, order = read_back(folder, saved)
    assert source.n_classes == 10 and source.class_names == [str(c) for c in range(10)]
    np.testing.assert_array_equal(labels, saved['labels'][order])
    # Again: the earlier folder of samples is replaced. Any other folder is refused, untouched,
    # a folder of other PNGs (a run's sample grids) too.
    flags.append('--overwrite')
    assert gan_eval.main(flags) == 0
    assert len(datasets.get('folder')(str(folder), 32, 1, 'train')) == 30
    grids = tmp_path / 'grids'
    grids.mkdir()
    (grids / 'samples_000002.png').write_bytes(images.encode_png(saved['images'][0]))
    (folder / '3' / 'notes.txt').write_text('mine')
    for other, stranger in ((folder, folder / '3' / 'notes.txt'),
                            (grids, grids / 'samples_000002.png')):
        capsys.readouterr()
        assert gan_eval.main(flags[:-2] + [str(other), '--overwrite']) == 2
        assert '{}: not a folder of samples written by --save_images ({})'.format(
            other, stranger) in capsys.readouterr().err
    assert (folder / '3' / 'notes.txt').read_text() == 'mine'
    assert os.listdir(str(grids)) == ['samples_000002.png']


@pytest.mark.slow
def test_save_images_unconditional(tmp_path, capsys):
    out = tmp_path / 'run'
    assert gan_train.main(TINY + ['--ITERS', '1', '--CONDITIONAL', 'false', '--ACGAN', 'false',
                                  '--output_path', str(out)]) == 0
    saved_model = out / 'serving' / '1'
    assert freeze_graph.main(['--ckpt', str(out), '--output', str(out / 'G.pb'),
                              '--saved_model', str(saved_model)]) == 0
    assert gan_eval.main(['--ckpt', str(saved_model), '--n', '12', '--save_images',
                          str(tmp_path / 'samples')]) == 0
    assert 'unconditional' in capsys.readouterr().out
    saved = np.load(str(out / 'serving' / '1_eval' / 'images.npz'))  # beside, not in it
    assert 'labels' not in saved
    source, _, _ = read_back(tmp_path / 'samples', saved)
    assert source.n_classes is None
    assert sorted(os.listdir(str(tmp_path / 'samples')))[:2] == ['000000.png', '000001.png']
    # The serving base path, or the SavedModel's file, get a pointer to the directory.
    for wrong, hint in ((out / 'serving', 'such as {}'.format(saved_model)),
                        (saved_model / 'saved_model.pb', 'directory, {}'.format(saved_model))):
        assert gan_eval.main(['--ckpt', str(wrong), '--n', '12']) == 2
        err = capsys.readouterr().err
        assert '{}: give '.format(wrong) in err and hint in err


@pytest.fixture(scope='module')
def digit_stats(tmp_path_factory):
    """Real statistics of the 1,000 held-out built-in digits."""
    stats = str(tmp_path_factory.mktemp('stats') / 'digits.npz')
    assert gan_eval.main(['--make_stats', stats, '--split', 'test']) == 0
    return stats


def test_fid_and_kid_against_real_statistics(run_dir, digit_stats, tmp_path, capsys):
    stats = digit_stats
    saved = np.load(stats)
    assert saved['mu'].shape == (digits.N_FEATURES,) and len(saved['features']) == 1000
    assert np.bincount(saved['labels']).tolist() == [100] * 10
    assert gan_eval.main(['--ckpt', str(run_dir), '--n', '200', '--fid_stats', stats,
                          '--output_dir', str(tmp_path)]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    fid_line = [l for l in out if l.startswith('FID: ')][0]
    assert float(fid_line.split()[1]) > 0 and fid_line.endswith('(against 1000 real images)')
    # 1,000 digits for 128 features: a singular covariance, said once, in words, and no
    # LinAlgWarning from scipy.
    rank = [l for l in out if 'covariance has rank' in l]
    assert len(rank) == 1 and stats in rank[0] and 'for 128 features (1000 images)' in rank[0]
    assert 'LinAlgWarning' not in captured.err
    variety = [l for l in out if l.startswith('precision: ')][0]
    assert [part.split(': ')[0] for part in variety.split(', ')] == [
        'precision', 'recall', 'density', 'coverage']
    by_class = [l for l in out if l.startswith('recall by class: ')][0]
    assert [part.split(':')[0] for part in by_class.split('(')[0].split()[3:]] == [
        str(c) for c in range(10)]
    # The numbers are the saved images' against the saved statistics.
    saved_images = np.load(str(tmp_path / 'images.npz'))
    assert saved_images['labels'].tolist() == (np.arange(200) % 10).tolist()
    model = scoring.open_classifier(None, 1)
    features = model.run(np.repeat(saved_images['images'].astype(np.float32), 3, 3))[0]
    model.close()
    results = scoring.compare_to_real(scoring.load_stats(stats), features, saved_images['labels'])
    assert scoring.real_comparison_lines(results) == [l for l in out if l.split(':')[0] in (
        'FID', 'KID x 10^3', 'precision', 'precision by class', 'recall by class')]
    kid = [l for l in out if l.startswith('KID x 10^3: ')][0]
    assert float(kid.split()[3]) == pytest.approx(results['kid'] * 1000, rel=1e-4)


@pytest.mark.slow
def test_training_scores_against_real_statistics(digit_stats, tmp_path, capsys):
    assert gan_train.main(TINY + ['--ITERS', '1', '--INCEPTION_FREQUENCY', '1', '--N_INCEPTION',
                                  '100', '--fid_stats', digit_stats, '--output_path',
                                  str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    at = [i for i, l in enumerate(out) if l.startswith('inception at step 1: ')][0]
    assert [l.split(':')[0] for l in out[at + 1:at + 6]] == [
        '  FID', '  KID x 10^3', '  precision', '  precision by class', '  recall by class']
    assert gan_train.main(TINY + ['--ITERS', '1', '--fid_stats', str(tmp_path / 'no.npz'),
                                  '--output_path', str(tmp_path / 'bad')]) == 2
    assert 'no.npz: not a readable statistics .npz' in capsys.readouterr().err


def test_a_file_named_as_inception_must_be_it(run_dir, tmp_path, capsys, monkeypatch):
    """A truncated or other classify_image_graph_def.pb is refused, named, before sampling."""
    monkeypatch.setattr(gan_eval.generators, 'Sampler', lambda *a: 1 / 0)
    fake = tmp_path / scoring.INCEPTION_FILE
    for size, says in ((1000, '1,000 bytes'), (scoring.INCEPTION_BYTES, 'another MD5')):
        with open(str(fake), 'wb') as f:
            f.truncate(size)
        assert gan_eval.main(['--ckpt', str(run_dir), '--classifier', str(fake)]) == 2
        err = capsys.readouterr().err
        assert '{}: not inception-2015-12-05'.format(fake) in err and says in err, err
    # The check is of that name only: other graphs are anyone's.
    scoring.check_inception(str(tmp_path / 'inception_standin.pb'))


@pytest.mark.parametrize('flags,message', [
    (['--ckpt', '/nonexistent'], '/nonexistent: no such checkpoint'),
    (['--ckpt', '{run}', '--classifier', '/no/inception.pb'], '/no/inception.pb: no such '
                                                              'classifier graph'),
    ([], 'give --ckpt to score a generator or --make_stats'),
    (['--pb', 'G.pb'], 'unrecognized arguments: --pb G.pb'),
    (['--ckpt', '{run}', '--pb', 'G.pb'], 'unknown flag --pb'),
    (['--ckpt', '{run}/generator.pb', '--DIM_G', '8'], 'settings describe checkpoints, not '
                                                       'exported generators'),
    (['--make_stats', 'x.npz', '--save_images', 'samples'], '--save_images writes the '
                                                            'generated images'),
])
def test_bad_arguments(run_dir, capsys, flags, message):
    flags = [f.format(run=run_dir) for f in flags]
    assert gan_eval.main(flags + ['--n', '100']) == 2
    err = capsys.readouterr().err
    assert err.startswith('gan_eval.py: error: ') and message in err
