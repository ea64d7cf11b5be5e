"""gan_train.py end to end at tiny width: presets, data formats, resume, fine-tuning, errors."""
import collections
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import configs
import datasets
import gan_train
from conftest import write_cifar, write_folder, write_lmdb, write_mnist_idx
from tflib import checkpoints, device
from tflib.compat import tf
from tflib.config import ConfigError
from zoo import loop, settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_FLAGS = ['--DIM_G', '4', '--DIM_D', '4', '--batch_size', '4', '--LOG_STEP', '1',
              '--N_CRITIC', '2', '--device', 'cpu']
TINY_64 = ['--DIM_G', '1', '--DIM_D', '1', '--IMAGE_SIZE', '32']


def train(tmp_path, *flags, **kwargs):
    """Run gan_train.main in-process; returns (exit code, stdout, stderr)."""
    capsys = kwargs['capsys']
    code = gan_train.main(list(flags) + TINY_FLAGS + ['--output_path', str(tmp_path / 'run')]
                          + list(kwargs.get('extra', [])))
    out, err = capsys.readouterr()
    return code, out, err


def rows(run_dir):
    with open(os.path.join(str(run_dir), 'log.csv')) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """One tiny dataset per on-disk format."""
    root = tmp_path_factory.mktemp('data')
    write_cifar(root / 'cifar', n=4)
    write_mnist_idx(root / 'mnist', n=8)
    write_folder(root / 'lsun10', classes=('bedroom', 'kitchen'), per_class=4)
    write_lmdb(root / 'bedroom_lmdb', n=8)
    return root


CASES = [  # preset, dataset flags, extra
    ('quickstart', [], []),
    ('quickstart', ['--dataset', 'mnist', '--data_path', '{data}/mnist'], []),
    ('transfer_gan_cifar10', ['--data_path', '{data}/cifar'], []),
    ('transfer_gan_cifar10_uncond', ['--data_path', '{data}/cifar'], []),
    ('transfer_gan_cifar10_uncond', ['--dataset', 'lsun_lmdb', '--data_path',
                                     '{data}/bedroom_lmdb'], []),
    ('transfer_gan_lsun64', ['--data_path', '{data}/lsun10'], TINY_64),
    ('transfer_gan_lsun64_acgan', ['--data_path', '{data}/lsun10', '--N_CLASSES', '2'],
     TINY_64),
]


@pytest.mark.parametrize('preset', configs.names())
def test_every_preset_names_a_loader_and_a_valid_config(preset):
    req = settings.request(['--preset', preset])
    assert req.values['dataset'] in datasets.DATASETS
    settings.model_values(req)  # raises ConfigError if inconsistent


@pytest.mark.parametrize('preset,data_flags,extra', CASES)
@pytest.mark.slow
def test_presets_train_on_each_data_format(tmp_path, capsys, data, preset, data_flags, extra):
    flags = ['--preset', preset, '--ITERS', '2'] + \
        [f.format(data=data) for f in data_flags] + extra
    code, out, err = train(tmp_path, *flags, capsys=capsys)
    assert code == 0, err
    run = tmp_path / 'run'
    meta = json.loads((run / 'meta.json').read_text())
    assert meta['step'] == 2 and meta['preset'] == preset
    assert tf.train.checkpoint_exists(str(run / meta['checkpoint']))
    log_lines = [l for l in out.splitlines() if l.startswith('step: ')]
    assert [l.split(',')[0] for l in log_lines] == ['step: 1/2', 'step: 2/2']
    for key in ('loss_d', 'loss_g', 'wasserstein', 'sec/step', 'fps'):
        assert key + ': ' in log_lines[-1]
    assert (run / 'samples' / 'samples_000002.png').exists()
    assert (run / 'loss_curve.png').exists()
    assert os.listdir(str(run / 'tensorboard'))
    config = json.loads((run / 'config.json').read_text())
    assert config['preset'] == preset and config['N_CRITIC'] == 2


@pytest.mark.slow
def test_resume_continues_step_and_schedule(tmp_path, capsys):
    flags = ['--ITERS', '4', '--LR', '1e-3', '--CHECKPOINT_STEP', '1']
    code, _, err = train(tmp_path, *flags, capsys=capsys, extra=['--MAX_MINUTES', '1e-9'])
    assert code == 0, err
    meta = json.loads((tmp_path / 'run' / 'meta.json').read_text())
    assert meta['step'] == 1, 'MAX_MINUTES stops after the first step, with a checkpoint'
    code, out, err = train(tmp_path, *flags, capsys=capsys)
    assert code == 0, err
    assert 'resuming' in out and 'at step 1' in out
    history = rows(tmp_path / 'run')
    assert [int(r['step']) for r in history] == [1, 2, 3, 4]
    # The learning rate (logged after each step) decays linearly over ITERS across the restart.
    np.testing.assert_allclose([float(r['learning_rate']) for r in history],
                               [7.5e-4, 5e-4, 2.5e-4, 0.], atol=1e-8)
    code, out, _ = train(tmp_path, *flags, capsys=capsys)
    assert code == 0 and 'has trained its 4 steps' in out and 'generator.pb' not in out


@pytest.mark.slow
def test_resume_refuses_other_settings(tmp_path, capsys):
    assert train(tmp_path, '--ITERS', '1', capsys=capsys)[0] == 0
    code, _, err = train(tmp_path, '--ITERS', '2', capsys=capsys, extra=['--DIM_G', '8'])
    assert code == 2
    assert 'holds a run with another architecture (DIM_G=4)' in err


@pytest.mark.slow
def test_finetune_restores_every_key_from_a_separate_run(tmp_path, capsys):
    assert train(tmp_path, '--ITERS', '1', capsys=capsys)[0] == 0
    source = tmp_path / 'run'
    code = gan_train.main(['--ITERS', '1', '--finetune_from', str(source)] + TINY_FLAGS +
                          ['--output_path', str(tmp_path / 'tuned')])
    out, err = capsys.readouterr()
    assert code == 0, err
    line = [l for l in out.splitlines() if l.startswith('fine-tuning from')][0]
    reader = tf.train.load_checkpoint(str(source / 'checkpoints' / 'model.ckpt-1'))
    n_params = len([k for k in reader.get_variable_to_shape_map()
                    if k.startswith(('Generator', 'Discriminator')) and 'Adam' not in k])
    assert 'restored {} keys, missing 0, shape-mismatched 0'.format(n_params) in line
    assert json.loads((tmp_path / 'tuned' / 'meta.json').read_text())['step'] == 1


@pytest.mark.slow
def test_freeze_d_and_diffaug_fine_tune_into_checkpoints_of_the_same_keys(tmp_path, capsys):
    """--freeze_d 2 keeps the critic's first two blocks as loaded (their weights unchanged,
    no optimizer slots) and trains the rest; --diffaug fills with the digits' black; a run
    without either fine-tunes from the result with every key."""
    assert train(tmp_path, '--ITERS', '1', capsys=capsys)[0] == 0
    source = tmp_path / 'run'
    tuned = tmp_path / 'tuned'
    flags = ['--freeze_d', '2', '--diffaug', 'color,translation,cutout', '--max_images',
             '40'] + TINY_FLAGS
    assert gan_train.main(['--ITERS', '2', '--finetune_from', str(source), '--output_path',
                           str(tuned)] + flags) == 0
    before = tf.train.load_checkpoint(str(source / 'checkpoints' / 'model.ckpt-1'))
    after = tf.train.load_checkpoint(str(tuned / 'checkpoints' / 'model.ckpt-2'))
    keys = [k for k in before.get_variable_to_shape_map()
            if k.startswith('Discriminator.') and 'Adam' not in k]
    frozen = [k for k in keys if k.startswith(('Discriminator.1.', 'Discriminator.2.'))]
    assert len(frozen) == 12 and len(keys) > len(frozen)
    same = {k for k in keys if np.array_equal(before.get_tensor(k), after.get_tensor(k))}
    # The WGAN score's bias has no gradient: E[D(real)] - E[D(fake)] cancels it.
    assert same == set(frozen) | {'Discriminator.Output/Discriminator.Output.b'}
    slots = [k for k in after.get_variable_to_shape_map() if 'Adam' in k]
    assert slots and not [k for k in slots if k.startswith(tuple(frozen))]
    assert json.loads((tuned / 'config.json').read_text())['diffaug_fill'] == -1.
    code = gan_train.main(['--ITERS', '1', '--finetune_from', str(tuned), '--output_path',
                           str(tmp_path / 'plain')] + TINY_FLAGS)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert 'missing 0, shape-mismatched 0' in out
    code = gan_train.main(['--ITERS', '1', '--finetune_from', str(source), '--freeze_d', '6',
                           '--output_path', str(tmp_path / 'all')] + TINY_FLAGS)
    assert code == 2
    assert ('--freeze_d 6: the critic has 6 blocks (Discriminator.1, Discriminator.2, '
            'Discriminator.3, Discriminator.4, Discriminator.Output, '
            'Discriminator.ACGANOutput); freeze at most 5') in capsys.readouterr().err


ADAPTIVE = ['--max_images', '40', '--holdout', '8', '--diffaug', 'color,translation,cutout',
            '--ada_target', '0.05', '--ada_kimg', '0.04']  # p moves 0.1 a critic step


@pytest.mark.slow
def test_adaptive_augmentation_steers_a_checkpointed_strength(tmp_path, capsys):
    """--holdout keeps images out of training; --ada_target moves p by a step per critic
    step, logs it and the ratio, keeps it in the checkpoint; a resumed run and one made step
    by step steer as the uninterrupted fused one does; fine-tuning from it starts p afresh."""
    code, out, err = train(tmp_path, '--ITERS', '4', *ADAPTIVE, capsys=capsys)
    assert code == 0, err
    assert '8 images held out, 32 left to train on' in out
    history = rows(tmp_path / 'run')
    p = [float(r['augment_p']) for r in history]
    assert all('overfit_ratio' in r for r in history)
    assert all(0. <= v <= 1. for v in p)
    np.testing.assert_allclose(np.diff([0.] + p) * 10, np.rint(np.diff([0.] + p) * 10),
                               atol=1e-4)  # whole steps of 0.1
    assert max(abs(d) for d in np.diff([0.] + p)) <= .2 + 1e-6  # two critic steps a step
    saved = tf.train.load_checkpoint(str(tmp_path / 'run' / 'checkpoints' / 'model.ckpt-4'))
    assert saved.get_tensor('Augment.p') == pytest.approx(p[-1], abs=1e-6)
    resumed = ['--output_path', str(tmp_path / 'resumed')]
    assert train(tmp_path, '--ITERS', '2', *ADAPTIVE, capsys=capsys, extra=resumed)[0] == 0
    assert train(tmp_path, '--ITERS', '4', *ADAPTIVE, capsys=capsys, extra=resumed)[0] == 0
    assert [float(r['augment_p']) for r in rows(tmp_path / 'resumed')] == p
    by_step = ['--output_path', str(tmp_path / 'by_step'), '--fused_step', 'false']
    assert train(tmp_path, '--ITERS', '4', *ADAPTIVE, capsys=capsys, extra=by_step)[0] == 0
    assert [float(r['augment_p']) for r in rows(tmp_path / 'by_step')] == p
    weights = [k for k in saved.get_variable_to_shape_map()
               if k.startswith(('Generator', 'Discriminator')) and 'Adam' not in k]
    code, out, err = train(tmp_path, '--ITERS', '1', '--finetune_from', str(tmp_path / 'run'),
                           *ADAPTIVE, capsys=capsys, extra=['--output_path',
                                                            str(tmp_path / 'tuned')])
    assert code == 0, err
    assert 'restored {} keys, missing 0,'.format(len(weights)) in out


@pytest.mark.slow
def test_finetune_unconditional_to_conditional(tmp_path, capsys):
    assert train(tmp_path, '--ITERS', '1', '--CONDITIONAL', 'false', '--ACGAN', 'false',
                 capsys=capsys)[0] == 0
    code = gan_train.main(['--ITERS', '1', '--finetune_from', str(tmp_path / 'run'),
                           '--finetune_uncond_to_cond'] + TINY_FLAGS +
                          ['--output_path', str(tmp_path / 'cond')])
    out, err = capsys.readouterr()
    assert code == 0, err
    line = [l for l in out.splitlines() if l.startswith('fine-tuning from')][0]
    # 3 conditional blocks x 2 norms x (offset, scale) are tiled; the AC-GAN head is new.
    assert ', 12 tiled unconditional -> conditional' in line
    assert 'missing 2 (Discriminator.ACGANOutput/Discriminator.ACGANOutput.W, ' \
           'Discriminator.ACGANOutput/Discriminator.ACGANOutput.b)' in line
    assert 'shape-mismatched 0' in line


@pytest.mark.parametrize('flags,message', [
    (['--DIM_GG', '3'], 'unknown flag --DIM_GG'),
    (['--ITERS', 'many'], "--ITERS expects an integer, got 'many'"),
    (['--CONDITIONAL', 'maybe'], "--CONDITIONAL expects true or false, got 'maybe'"),
    (['--preset', 'biggan'], "unknown preset 'biggan'"),
    (['--dataset', 'cifar10'], '--data_path is required for dataset cifar10'),
    (['--dataset', 'cifar10', '--data_path', '/nonexistent'], '/nonexistent: no such directory'),
    (['--finetune_from', '/nonexistent/ckpt'], '/nonexistent/ckpt: no such checkpoint'),
    (['--device', 'tpu'], '--device must be one of'),
    (['--IMAGE_SIZE', '30'], 'IMAGE_SIZE must be a multiple of 8'),
    (['positional'], "unexpected argument 'positional'"),
    (['--dataset', 'cifar10', '--data_path', '/x', '--split', 'validation'],
     '--split validation: dataset cifar10 has splits train, test'),
    (['--classes', '5,6,7', '--N_CLASSES', '10'], '--N_CLASSES 10 but '),
    (['--freeze_d', '2'], '--freeze_d 2 keeps critic blocks as --finetune_from loads them'),
    (['--freeze_d', '-1'], '--freeze_d must be 0 or a number of critic blocks, got -1'),
    (['--diffaug', 'color,zoom'], '--diffaug takes distinct policies among color, translation, '
                                  "cutout, got 'color,zoom'"),
    (['--holdout', '4'], '--holdout 4: held-out images only serve --ada_target'),
    (['--diffaug', 'color', '--ada_target', '0.3'],
     '--ada_target 0.3 measures the critic on held-out images: pass --holdout N'),
    (['--ada_target', '0.3', '--holdout', '4'], 'ada_target steers the strength of diffaug'),
    (['--diffaug', 'color', '--ada_target', '1.5', '--holdout', '4'],
     'ada_target must be in [0, 1)'),
    (['--max_images', '10', '--holdout', '10', '--diffaug', 'color', '--ada_target', '.3'],
     '--holdout 10: the data has 10 images; hold fewer out'),
])
def test_bad_flags_give_one_line_errors(tmp_path, capsys, flags, message):
    code, out, err = train(tmp_path, '--ITERS', '1', capsys=capsys, extra=flags)
    assert code == 2
    assert err.count('\n') == 1 and err.startswith('gan_train.py: error: ')
    assert message in err


@pytest.mark.slow
def test_the_number_of_classes_comes_from_the_data(tmp_path, capsys):
    """--classes 5,6,7 on a conditional model: three classes, so generator labels 0-2 (the
    model's default of 10 would draw seven labels that have no real images)."""
    code, out, err = train(tmp_path, '--ITERS', '1', '--classes', '5,6,7', capsys=capsys)
    assert code == 0, err
    meta = json.loads((tmp_path / 'run' / 'meta.json').read_text())
    assert meta['config']['N_CLASSES'] == 3 and meta['signature']['n_classes'] == 3
    # A run made with more classes (an older run on limited data) resumes with its number.
    code, out, err = train(tmp_path, '--ITERS', '1', capsys=capsys, extra=['--output_path',
                                                                          str(tmp_path / 'ten')])
    assert code == 0, err
    code, out, err = train(tmp_path, '--ITERS', '2', '--classes', '5,6,7', capsys=capsys,
                           extra=['--output_path', str(tmp_path / 'ten')])
    assert code == 0, err
    assert 'resuming a run made with N_CLASSES 10 on data of 3 classes: kept' in out
    req = settings.request(['--DIM', '16'])  # transfer_gan.py's one width for both networks
    assert req.values['DIM_G'] == req.values['DIM_D'] == 16 and 'DIM' not in req.values


def test_unlabelled_data_for_a_conditional_model(tmp_path, capsys, data):
    code, _, err = train(tmp_path, '--dataset', 'lsun_lmdb', '--data_path',
                         str(data / 'bedroom_lmdb'), capsys=capsys)
    assert code == 2 and 'have no labels, which a conditional model needs' in err


def test_corrupt_image_met_while_training(tmp_path, capsys):
    write_folder(tmp_path / 'imgs', classes=('a',), per_class=4)
    (tmp_path / 'imgs' / 'a' / '000.jpg').write_bytes(b'\xff\xd8\xff truncated')
    code, _, err = train(tmp_path, '--dataset', 'folder', '--data_path',
                         str(tmp_path / 'imgs'), '--CONDITIONAL', 'false', '--ACGAN', 'false',
                         '--ITERS', '2', capsys=capsys)
    assert code == 2
    assert err.count('\n') == 1 and '000.jpg: not a readable image' in err


@pytest.mark.slow
def test_command_line_errors_and_npu(tmp_path):
    """As a user runs it: exit code 2, one line, no traceback."""
    for flags, message in [(['--device', 'npu'], "--device npu needs Ascend's TensorFlow"),
                           (['--output_path', '/proc/forbidden'], '--output_path /proc')]:
        result = subprocess.run([sys.executable, 'gan_train.py'] + flags, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)
        assert result.returncode == 2
        errors = [l for l in result.stderr.splitlines() if l.startswith('gan_train.py')]
        assert len(errors) == 1 and message in errors[0], result.stderr
        assert 'Traceback' not in result.stderr


@pytest.mark.slow
def test_a_training_start_prints_no_graph_optimizer_error(tmp_path):
    """Graph optimizers failed on every ResNet training graph with E-lines: TF 2.x's oneDNN
    remapper (``remapper failed: ... Mutation::Apply error``: the session config turns it
    off) and TF 1.15's (``self cycle fanin``, ``topological sort failed``: the upsampling's
    concat of a tensor with itself, now a tile there)."""
    result = subprocess.run(
        [sys.executable, 'gan_train.py', '--DIM_G', '4', '--DIM_D', '4', '--batch_size', '8',
         '--N_CRITIC', '1', '--ITERS', '2', '--EXPORT_AT_END', 'false', '--device', 'cpu',
         '--output_path', str(tmp_path / 'run')], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 0, result.stderr
    optimizer = [l for l in result.stderr.splitlines()
                 if 'meta_optimizer' in l or 'grappler' in l]
    assert not optimizer, optimizer


def test_a_mistyped_flag_gets_a_suggestion(capsys):
    for flag, known in (('--batchsize', '--batch_size'), ('--lr', '--LR'),
                        ('--data-path', '--data_path')):
        assert gan_train.main([flag, '8']) == 2
        assert capsys.readouterr().err.strip().endswith(
            'unknown flag {}; did you mean {}? (see --help for the settings)'.format(flag, known))
    assert gan_train.main(['--colour', '8']) == 2
    assert 'did you mean' not in capsys.readouterr().err


def test_debug_is_a_setting_like_the_others(capsys):
    """--debug false means false (one line); --debug shows the traceback."""
    assert gan_train.main(['--device', 'tpu', '--debug', 'false']) == 2
    assert capsys.readouterr().err.startswith('gan_train.py: error: --device must be one of')
    for flags in (['--debug'], ['--debug', 'true'], ['--debug=yes']):
        with pytest.raises(device.DeviceError, match='--device must be one of'):
            gan_train.main(['--device', 'tpu'] + flags)
    assert gan_train.main(['--mixed_precision', 'maybe', '--debug']) == 2  # unparsed: no debug
    assert 'error: --mixed_precision must be one of' in capsys.readouterr().err


def test_help_lists_presets_and_the_values_that_would_run(capsys):
    assert gan_train.main(['--help']) == 0
    out = capsys.readouterr().out
    assert 'transfer_gan_cifar10' in out and '--ACGAN_SCALE_G' in out and '--data_path' in out
    # The quickstart's widths, not the model's defaults (128), and the alias of both widths.
    assert "--DIM_G                    24" in out and '--DIM (--DIM_G/--DIM_D)' in out
    assert gan_train.main(['--preset', 'wgan_lsun', '--help']) == 0
    assert "--lrD                      5e-05" in capsys.readouterr().out


def checkpoint_values(run_dir):
    reader = tf.train.load_checkpoint(checkpoints.resolve(str(run_dir)))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()}


@pytest.mark.slow
def test_a_resumed_run_trains_as_an_uninterrupted_one(tmp_path, capsys):
    """Real batches and draws are functions of (seed, step): stopped after 2 steps and
    resumed, a run ends with the weights, optimizer state and statistics of one that never
    stopped (the replacement of the saved draw counter)."""
    flags = ['--DECAY', 'false', '--CHECKPOINT_STEP', '2', '--threads', '1']
    assert train(tmp_path / 'a', '--ITERS', '4', *flags, capsys=capsys)[0] == 0
    assert train(tmp_path / 'b', '--ITERS', '2', *flags, capsys=capsys)[0] == 0
    code, out, err = train(tmp_path / 'b', '--ITERS', '4', *flags, capsys=capsys)
    assert code == 0 and 'resuming' in out, err
    whole, resumed = checkpoint_values(tmp_path / 'a' / 'run'), \
        checkpoint_values(tmp_path / 'b' / 'run')
    assert sorted(whole) == sorted(resumed) and whole['global_step'] == 4
    for key, value in whole.items():
        np.testing.assert_allclose(resumed[key], value, atol=1e-6, err_msg=key)


@pytest.mark.slow
def test_iterations_per_loop_rounds_the_loop_settings(tmp_path, capsys):
    """Logs, checkpoints and the end land on loop boundaries: settings are rounded up to
    multiples of K and said so (on a CPU the iterations of a loop run one call each)."""
    code, out, err = train(tmp_path, '--ITERS', '5', '--iterations_per_loop', '3',
                           '--CHECKPOINT_STEP', '2', capsys=capsys)
    assert code == 0, err
    assert ('--iterations_per_loop 3: rounded up to multiples: LOG_STEP 1 -> 3, '
            'SAVE_SAMPLES_STEP 250 -> 252, CHECKPOINT_STEP 2 -> 3, ITERS 5 -> 6') in out
    assert [int(r['step']) for r in rows(tmp_path / 'run')] == [3, 6]
    assert sorted(os.listdir(str(tmp_path / 'run' / 'samples'))) == ['samples_000006.png']
    assert checkpoint_values(tmp_path / 'run')['global_step'] == 6


def test_loops_must_fit_the_run():
    phase = collections.namedtuple('Phase', 'start end name')
    one, cfg = [phase(0, 12, '')], {'iterations_per_loop': 4, 'fused_step': True}
    loop.check_loops(cfg, 8, one, 'npu', lambda step: 5)
    with pytest.raises(ConfigError, match='resumes at step 6, not a multiple'):
        loop.check_loops(cfg, 6, one, 'cpu', lambda step: 5)
    with pytest.raises(ConfigError, match='phase 8x8 fade-in spans steps 4 to 10'):
        loop.check_loops(cfg, 0, [phase(0, 4, '4x4'), phase(4, 10, '8x8 fade-in')], 'cpu',
                         lambda step: 1)
    with pytest.raises(ConfigError, match='--warmup_Diters equal to --Diters'):
        loop.check_loops(cfg, 0, one, 'npu', lambda step: 100 if step < 2 else 5)
    loop.check_loops(cfg, 0, one, 'cpu', lambda step: 100 if step < 2 else 5)
    with pytest.raises(ConfigError, match='needs --fused_step true'):
        loop.check_loops(dict(cfg, fused_step=False), 0, one, 'npu', lambda step: 5)
    loop.check_loops(dict(cfg, iterations_per_loop=1), 3, one, 'npu', lambda step: 5)


def test_ascend_switches_make_their_folders_and_are_ignored_off_npu(tmp_path, capsys):
    cfg = dict(settings.TRAIN_DEFAULTS, output_path=str(tmp_path), over_dump=True,
               profiling=True, data_dump_flag=True, data_dump_step='0|4')
    debug = device.npu_debug(cfg, 'npu')
    assert debug.dump_path == str(tmp_path / 'data_dump') and debug.data_dump_step == '0|4'
    assert debug.over_dump and debug.profiling_path == str(tmp_path / 'profiling')
    assert os.path.isdir(debug.dump_path) and os.path.isdir(debug.profiling_path)
    assert device.npu_debug(dict(cfg, data_dump_flag=False), 'npu').dump_path == \
        str(tmp_path / 'overflow_dump')
    assert device.npu_debug(cfg, 'cpu') == device.NO_DEBUG
    assert 'only act on an Ascend NPU; ignored on cpu' in capsys.readouterr().out


def test_a_run_resumes_only_with_its_model_and_architecture(capsys):
    meta = {'model': 'wgan', 'config': {'ngf': 4, 'lrD': 1e-4}}
    with pytest.raises(ConfigError, match='holds a wgan run; use another --output_path for dcgan'):
        checkpoints.check_resumable(meta, 'dcgan', (), {}, 'out')
    with pytest.raises(ConfigError, match=r'another architecture \(ngf=4\)'):
        checkpoints.check_resumable(meta, 'wgan', ('ngf',), {'ngf': 8, 'lrD': 1e-4}, 'out')
    checkpoints.check_resumable(meta, 'wgan', ('ngf',), {'ngf': 4, 'lrD': 2e-4}, 'out')
    assert 'lrD 0.0001 -> 0.0002' in capsys.readouterr().out
    # A setting newer than the run's meta.json is its default, not a change.
    checkpoints.check_resumable(meta, 'wgan', ('ngf',), {'ngf': 4, 'lrD': 1e-4, 'G_ema': 0.},
                                'out', {'G_ema': 0.})
    assert capsys.readouterr().out == ''
    checkpoints.check_resumable(meta, 'wgan', ('ngf',), {'ngf': 4, 'lrD': 1e-4, 'G_ema': .9},
                                'out', {'G_ema': 0.})
    assert 'G_ema 0.0 -> 0.9' in capsys.readouterr().out
