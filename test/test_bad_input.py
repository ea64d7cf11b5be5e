"""What users get wrong, tool by tool: each case must end with a non-zero exit, one line on
stderr naming the file or flag and what was expected, no traceback, and the user's files as
they were."""
import hashlib
import os
import pickle

import numpy as np
import pytest

import freeze_graph
import gan_eval
import gan_train
from conftest import write_cifar, write_folder, write_image, write_lmdb
from tflib import files

TINY = ['--DIM_G', '4', '--DIM_D', '4', '--batch_size', '2', '--N_CRITIC', '1', '--ITERS', '1',
        '--LOG_STEP', '1', '--device', 'cpu', '--EXPORT_AT_END', 'false']


def train(tmp_path, *flags):
    return gan_train.main(list(flags) + TINY + ['--output_path', str(tmp_path / 'run')])


def cifar(tmp_path, mutate=None):
    """A CIFAR-10 folder; ``mutate(path of data_batch_1)`` spoils it."""
    write_cifar(tmp_path / 'cifar', n=4)
    if mutate:
        mutate(str(tmp_path / 'cifar' / 'data_batch_1'))
    return ['--dataset', 'cifar10', '--data_path', str(tmp_path / 'cifar')]


def truncate(path):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def reshape(path):
    with open(path, 'rb') as f:
        batch = pickle.load(f, encoding='bytes')
    batch[b'data'] = batch[b'data'][:, :100]
    with open(path, 'wb') as f:
        pickle.dump(batch, f, protocol=2)


def folder(tmp_path, spoil=None):
    write_folder(tmp_path / 'images', per_class=2)
    if spoil:
        spoil(tmp_path / 'images' / 'bedroom')
    return ['--dataset', 'folder', '--data_path', str(tmp_path / 'images'), '--CONDITIONAL',
            'false', '--ACGAN', 'false']


def finished_run(tmp_path, *extra):
    """A finished 1-step run in tmp_path/run (the quickstart's model, tiny)."""
    assert train(tmp_path, *extra) == 0
    return str(tmp_path / 'run')


def write_bytes(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


TRAIN_CASES = {
    'unknown preset': (lambda t: ['--preset', 'biggan'], "unknown preset 'biggan'"),
    'unknown flag': (lambda t: ['--LEARNING_RATE', '1'], 'unknown flag --LEARNING_RATE'),
    'flag without value': (lambda t: ['--LR'], '--LR needs a value'),
    'integer flag': (lambda t: ['--N_CRITIC', 'two'], "--N_CRITIC expects an integer, got 'two'"),
    'number flag': (lambda t: ['--LR', 'fast'], "--LR expects a number, got 'fast'"),
    'boolean flag': (lambda t: ['--DECAY', 'maybe'], "--DECAY expects true or false"),
    'positional argument': (lambda t: ['cifar10'], "unexpected argument 'cifar10'"),
    'unknown dataset': (lambda t: ['--dataset', 'svhn'], "unknown dataset 'svhn'"),
    'unknown device': (lambda t: ['--device', 'tpu'], '--device must be one of'),
    'npu without npu_bridge': (lambda t: ['--device', 'npu'],
                               "--device npu needs Ascend's TensorFlow adapter"),
    'hccl on a cpu': (lambda t: ['--distributed', 'hccl'], 'hccl runs on Ascend NPUs'),
    'missing cifar folder': (lambda t: ['--dataset', 'cifar10', '--data_path',
                                        str(t / 'nowhere')], 'nowhere: no such directory'),
    'truncated cifar pickle': (lambda t: cifar(t, truncate),
                               'data_batch_1: not a complete CIFAR-10 python pickle'),
    'wrong-shaped cifar pickle': (lambda t: cifar(t, reshape),
                                  'data_batch_1: expected data [N, 3072]'),
    'empty folder': (lambda t: ['--dataset', 'folder', '--data_path',
                                str((t / 'empty').mkdir() or t / 'empty')],
                     'empty: no train images'),
    'corrupt image': (lambda t: folder(t, lambda d: write_bytes(d / '000.jpg', b'\xff\xd8 no')),
                      '000.jpg: not a readable image'),
    'zero-byte image': (lambda t: folder(t, lambda d: write_bytes(d / '001.png', b'')),
                        '001.png: an empty file (1 of the 4 images are empty'),
    'missing lmdb': (lambda t: ['--dataset', 'lsun_lmdb', '--data_path', str(t / 'no_lmdb'),
                                '--CONDITIONAL', 'false', '--ACGAN', 'false'], 'no_lmdb'),
    'corrupt lmdb': (lambda t: ['--dataset', 'lsun_lmdb', '--data_path', write_bytes(
        t / 'bad_lmdb' / 'data.mdb', b'not an lmdb' * 100).rsplit('/', 1)[0], '--CONDITIONAL',
        'false', '--ACGAN', 'false'], 'bad_lmdb'),
    'labels asked of unlabelled images': (lambda t: [
        '--dataset', 'lsun_lmdb', '--data_path', (write_lmdb(t / 'lmdb') or str(t / 'lmdb'))],
        'these images have no labels, which a conditional model needs'),
    'classes not numbers': (lambda t: ['--classes', 'five,six'], '--classes expects'),
    'classes out of range': (lambda t: ['--classes', '3,12'],
                             'classes must be distinct labels 0..9'),
    'output path is a file': (lambda t: ['--output_path', write_bytes(t / 'taken', b'x')],
                              'taken: cannot create'),
    'finetune from nothing': (lambda t: ['--finetune_from', str(t / 'missing.ckpt')],
                              'missing.ckpt: no such checkpoint'),
    'negative image count': (lambda t: ['--max_images', '-5'],
                             '--max_images must be 0 (all) or a number of images, got -5'),
    'negative held-out count': (lambda t: ['--holdout', '-2'],
                                '--holdout must be 0 (none) or a number of images, got -2'),
    'corrupt meta.json': (lambda t: ['--output_path', write_bytes(
        t / 'broken' / 'meta.json', b'{"step": 3').rsplit('/', 1)[0]],
        'meta.json: not a readable meta.json'),
}


@pytest.mark.parametrize('case', sorted(TRAIN_CASES))
@pytest.mark.slow
def test_gan_train_refuses(tmp_path, capsys, case):
    flags, expected = TRAIN_CASES[case]
    argv = flags(tmp_path)
    before = snapshot(tmp_path)
    code = gan_train.main(TINY + ['--output_path', str(tmp_path / 'run')] + argv)
    check_refusal(code, capsys.readouterr().err, expected)
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before


def snapshot(root):
    """{path: sha1} of every file below ``root``."""
    found = {}
    for folder_path, _, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(folder_path, name)
            with open(path, 'rb') as f:
                found[path] = hashlib.sha1(f.read()).hexdigest()
    return found


def check_refusal(code, err, expected):
    lines = [l for l in err.splitlines() if l.strip() and not _tf_noise(l)]
    assert code != 0, err
    assert len(lines) == 1 and expected in lines[0], lines
    assert 'Traceback' not in err


def _tf_noise(line):
    """TensorFlow's own C++ log lines and warnings on stderr, which are not ours."""
    return line[:1] in 'IWE' and line[1:5].isdigit() or line.startswith('WARNING')


@pytest.mark.slow
def test_resume_with_another_architecture_or_model(tmp_path, capsys):
    run = finished_run(tmp_path)
    before = snapshot(tmp_path)
    code = gan_train.main(TINY + ['--output_path', run, '--DIM_G', '8'])
    check_refusal(code, capsys.readouterr().err, 'holds a run with another architecture')
    code = gan_train.main(['--preset', 'pgan_tiny', '--output_path', run, '--device', 'cpu'])
    check_refusal(code, capsys.readouterr().err, 'holds a transfer_gan run')
    assert snapshot(tmp_path) == before


@pytest.mark.slow
def test_a_full_disk_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    """A write that fails (ENOSPC at the step-2 meta.json) stops the run with the file named;
    meta.json still names the step-1 checkpoint."""
    real = files.write_atomic

    def full(path, write):
        if path.endswith('meta.json') and os.path.exists(path):
            raise OSError(28, 'No space left on device', path)
        return real(path, write)

    monkeypatch.setattr(files, 'write_atomic', full)
    code = gan_train.main(TINY + ['--ITERS', '3', '--CHECKPOINT_STEP', '1', '--output_path',
                                  str(tmp_path / 'run')])
    check_refusal(code, capsys.readouterr().err, 'No space left on device')
    monkeypatch.setattr(files, 'write_atomic', real)
    meta = files.read_json(str(tmp_path / 'run' / 'meta.json'))
    assert meta['step'] == 1


EVAL_CASES = {
    'no checkpoint': (lambda t, run: ['--ckpt', str(t / 'nothing')],
                      'nothing: no such checkpoint'),
    'pb that is not a graph': (lambda t, run: ['--ckpt', write_bytes(t / 'G.pb', b'garbage')],
                               'G.pb: not a frozen TensorFlow graph'),
    'classifier that is not a graph': (lambda t, run: [
        '--ckpt', run, '--classifier', write_bytes(t / 'c.pb', b'\x00\x01'), '--n', '10'],
        'c.pb'),
    'statistics without mu': (lambda t, run: [
        '--ckpt', run, '--n', '10', '--fid_stats', (np.savez(str(t / 's.npz'), x=np.ones(2))
                                                    or str(t / 's.npz'))],
        's.npz: expected arrays mu and sigma'),
    'bare checkpoint without preset': (lambda t, run: [
        '--ckpt', _bare_copy(t, run)], 'no meta.json beside this checkpoint'),
    'neither checkpoint nor stats': (lambda t, run: [], 'give --ckpt'),
    'images where the results go': (lambda t, run: [
        '--ckpt', run, '--n', '10', '--output_dir', str(t / 'r'), '--save_images', str(t / 'r')],
        'r: is both --output_dir and --save_images'),
    'representation of unlabelled data': (lambda t, run: [
        '--ckpt', run, '--representation', '--dataset', 'folder', '--data_path',
        _flat_folder(t / 'flat')], 'needs labelled images'),
    'representation without a test split': (lambda t, run: [
        '--ckpt', run, '--representation', '--dataset', 'lsun_lmdb', '--data_path',
        (write_lmdb(t / 'lmdb') or str(t / 'lmdb'))], 'dataset lsun_lmdb has splits train'),
}


def _bare_copy(tmp_path, run):
    """The run's checkpoint files alone in another folder (no meta.json)."""
    import shutil
    bare = tmp_path / 'bare'
    shutil.copytree(os.path.join(run, 'checkpoints'), str(bare))
    return str(bare / 'model.ckpt-1')


def _flat_folder(directory):
    """Images with no class folders: unlabelled."""
    directory.mkdir()
    for i in range(4):
        write_image(directory / '{}.png'.format(i), seed=i)
    return str(directory)


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny')
    assert gan_train.main(TINY + ['--output_path', str(root / 'run')]) == 0
    return str(root / 'run')


@pytest.mark.parametrize('case', sorted(EVAL_CASES))
@pytest.mark.slow
def test_gan_eval_refuses(tmp_path, capsys, tiny_run, case):
    flags, expected = EVAL_CASES[case]
    code = gan_eval.main(flags(tmp_path, tiny_run))
    check_refusal(code, capsys.readouterr().err, expected)


FREEZE_CASES = {
    'checkpoint of another size': (lambda t, run: [
        '--ckpt', _bare_copy(t, run), '--preset', 'quickstart', '--output', str(t / 'G.pb')],
        'does not fit this network'),
    'output that is a folder': (lambda t, run: [
        '--ckpt', run, '--output', (t / 'out').mkdir() or str(t / 'out')], 'out: is a folder'),
    'architecture flag on a checkpoint': (lambda t, run: [
        '--ckpt', run, '--output', str(t / 'G.pb'), '--DIM_G', '64'],
        'the checkpoint fixes DIM_G'),
}


@pytest.mark.parametrize('case', sorted(FREEZE_CASES))
def test_freeze_graph_refuses(tmp_path, capsys, tiny_run, case):
    flags, expected = FREEZE_CASES[case]
    code = freeze_graph.main(flags(tmp_path, tiny_run))
    check_refusal(code, capsys.readouterr().err, expected)
    assert not os.path.exists(str(tmp_path / 'G.pb'))
