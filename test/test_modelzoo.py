"""The Ascend ModelZoo scripts and the ModelArts entry, run on CPU on a tiny dataset."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import alive, cmdline, descendants, write_cifar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ['--DIM_G=4', '--DIM_D=4', '--N_CRITIC=1', '--LOG_STEP=1', '--device=cpu']
FIELDS = ('ActualFPS', 'TrainingTime', 'ActualLoss', 'E2ETrainingTime')


def run(command, **kwargs):
    env = dict(os.environ, PYTHON=sys.executable)
    return subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, **kwargs)


def summary(path):
    with open(path) as f:
        return dict(line.strip().split(' = ', 1) for line in f if ' = ' in line)


@pytest.mark.slow
def test_performance_script_writes_a_numeric_summary(tmp_path):
    write_cifar(tmp_path / 'data', n=4)
    out = tmp_path / 'out'
    result = run(['bash', 'test/train_performance_1p.sh', '--data_path=%s' % (tmp_path / 'data'),
                  '--output_path=%s' % out, '--train_steps=2', '--batch_size=4'] + TINY)
    assert result.returncode == 0, result.stdout
    case = 'Transferring-GAN_ID1252_for_TensorFlow_bs4_1p_perf'
    fields = summary(str(out / (case + '.log')))
    assert fields['CaseName'] == case and fields['BatchSize'] == '4' and fields['RankSize'] == '1'
    for key in FIELDS:
        float(fields[key])  # every summary figure is a number
    assert 'Final Performance sec/step :' in result.stdout
    losses = (out / (case + '_loss.txt')).read_text().split()
    assert len(losses) == 2 and all(float(v) == float(v) for v in losses)


def test_scripts_reject_missing_data_path():
    result = run(['bash', 'test/train_full_1p.sh'])
    assert result.returncode == 1 and 'data_path" must be configured' in result.stdout


@pytest.mark.slow
def test_modelarts_entry_runs_the_full_script_on_local_paths(tmp_path):
    write_cifar(tmp_path / 'data', n=4)
    result = run([sys.executable, 'modelarts_entry_acc.py', '--data_url', str(tmp_path / 'data'),
                  '--train_url', str(tmp_path / 'train_url'), '--train_steps=1',
                  '--batch_size=4'] + TINY)
    assert result.returncode == 0, result.stdout
    case = 'Transferring-GAN_ID1252_for_TensorFlow_bs4_1p_acc'
    float(summary(str(tmp_path / 'train_url' / (case + '.log')))['ActualLoss'])
    assert (tmp_path / 'train_url' / 'run' / 'meta.json').exists()
    missing = run([sys.executable, 'modelarts_entry_acc.py', '--data_url', '/nonexistent'])
    assert missing.returncode == 2 and '--data_url /nonexistent: no such directory' in \
        missing.stdout


@pytest.mark.slow
def test_8p_script_starts_one_hccl_rank_per_device(tmp_path):
    """Off Ascend the launch itself is checked: a stand-in python records each process's
    rank environment and flags, and prints a log line as gan_train.py would."""
    stand_in = tmp_path / 'python'
    stand_in.write_text('#!/bin/bash\n'
                        'echo "$RANK_ID $DEVICE_ID $RANK_SIZE $RANK_TABLE_FILE $*" >> "%s"\n'
                        'echo "step: 1/1, loss_d: -0.5, loss_g: 0.1, sec/step: 0.2, fps: 5"\n'
                        % (tmp_path / 'launches'))
    stand_in.chmod(0o755)
    table = tmp_path / 'rank_table_8p.json'
    table.write_text('{}')
    write_cifar(tmp_path / 'data', n=4)
    out = tmp_path / 'out'
    result = subprocess.run(
        ['bash', 'test/train_full_8p.sh', '--data_path=%s' % (tmp_path / 'data'),
         '--output_path=%s' % out, '--rank_table=%s' % table, '--train_steps=1',
         '--batch_size=16'], cwd=ROOT, env=dict(os.environ, PYTHON=str(stand_in)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert result.returncode == 0, result.stdout
    launches = sorted((tmp_path / 'launches').read_text().splitlines())
    assert [line.split()[:4] for line in launches] == [
        [str(rank), str(rank), '8', str(table)] for rank in range(8)]
    assert all('--distributed hccl' in line and '--batch_size 16' in line for line in launches)
    case = 'Transferring-GAN_ID1252_for_TensorFlow_bs16_8p_acc'
    assert summary(str(out / (case + '.log')))['RankSize'] == '8'
    missing = run(['bash', 'test/train_full_8p.sh', '--data_path=%s' % (tmp_path / 'data')])
    assert missing.returncode == 1 and '8p needs --rank_table=FILE' in missing.stdout


TEMPLATE_FLAGS = ['--precision_mode=allow_fp32_to_fp16', '--over_dump=True',
                  '--over_dump_path=/tmp/o', '--data_dump_flag=False', '--data_dump_step=0|5',
                  '--data_dump_path=/tmp/d', '--profiling=True', '--profiling_dump_path=/tmp/p',
                  '--autotune=False']


def test_scripts_take_the_modelzoo_template_switches(tmp_path):
    """The template's switches reach gan_train.py as its settings (which map them to the
    adapter's keys); no batch size is forced on the preset unless --batch_size is given; a
    bare switch means true; --help lists them."""
    stand_in = tmp_path / 'python'
    stand_in.write_text('#!/bin/bash\necho "$*" >> "%s"\n'
                        'echo "step: 1/1, loss_d: -0.5, loss_g: 0.1, sec/step: 0.2, fps: 5"\n'
                        % (tmp_path / 'launches'))
    stand_in.chmod(0o755)
    for script in ('train_full_1p.sh', 'train_performance_1p.sh'):
        result = subprocess.run(
            ['bash', 'test/' + script, '--data_path=%s' % tmp_path, '--output_path=%s' % (
                tmp_path / 'out'), '--preset=pgan_tiny', '--autotune'] + TEMPLATE_FLAGS, cwd=ROOT,
            env=dict(os.environ, PYTHON=str(stand_in)), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True)
        assert result.returncode == 0, result.stdout
    for line in (tmp_path / 'launches').read_text().splitlines():
        assert '--batch_size' not in line and '--autotune --precision_mode' in line
        for flag in TEMPLATE_FLAGS:
            assert ' {} {}'.format(*flag.split('=', 1)) in line, (flag, line)
    for script in ('train_full_1p.sh', 'train_full_8p.sh', 'train_performance_1p.sh'):
        usage = run(['bash', 'test/' + script, '--help'])
        assert usage.returncode == 0
        for flag in TEMPLATE_FLAGS:
            assert flag.split('=')[0] + ' ' in usage.stdout, (script, flag)


def interruptible():
    """SIGINT as a terminal's shell leaves it: a suite started in the background (nohup, &)
    ignores SIGINT, and a shell that starts with it ignored cannot trap it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stopped_midway(command, log, stop, timeout=180):
    """Start ``command`` (in a session of its own), wait until ``log`` shows training, call
    ``stop(process)``; (exit code, output, the training PIDs it had)."""
    process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, PYTHON=sys.executable),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, start_new_session=True,
                               preexec_fn=interruptible)
    deadline = time.time() + timeout
    while not (os.path.exists(str(log)) and 'step: ' in open(str(log)).read()):
        assert process.poll() is None and time.time() < deadline, process.communicate()[0]
        time.sleep(.2)
    training = [p for p in descendants(process.pid) if 'gan_train.py' in cmdline(p)]
    assert training
    stop(process)
    out = process.communicate(timeout=timeout)[0]
    return process.returncode, out, training


@pytest.mark.parametrize('how', ['SIGTERM to the script', 'Ctrl-C to its process group'])
@pytest.mark.slow
def test_a_stopped_performance_script_stops_its_training(tmp_path, how):
    """A scheduler's SIGTERM (to the script alone) or a Ctrl-C (to the whole group): the
    training checkpoints and ends, nothing is left running, the summary says the run was
    interrupted, and the exit code is 128 + the signal."""
    write_cifar(tmp_path / 'data', n=4)
    out = tmp_path / 'out'
    sig = signal.SIGTERM if how.startswith('SIGTERM') else signal.SIGINT
    stop = (lambda p: os.kill(p.pid, sig)) if sig == signal.SIGTERM else \
        (lambda p: os.killpg(p.pid, sig))
    code, output, training = stopped_midway(
        ['bash', 'test/train_performance_1p.sh', '--data_path=%s' % (tmp_path / 'data'),
         '--output_path=%s' % out, '--train_steps=100000', '--batch_size=4'] + TINY,
        out / 'train_0.log', stop)
    assert code == 128 + sig, output
    assert not any(alive(p) for p in training)
    case = 'Transferring-GAN_ID1252_for_TensorFlow_bs4_1p_perf'
    fields = summary(str(out / (case + '.log')))
    assert fields['RunStatus'].startswith('interrupted by SIG{} at step '.format(
        'TERM' if sig == signal.SIGTERM else 'INT')), fields
    assert all(fields[key] for key in FIELDS) and float(fields['ActualFPS']) > 0
    assert os.path.exists(str(out / 'run' / 'meta.json'))  # the checkpoint of the stop


@pytest.mark.slow
def test_a_stopped_modelarts_entry_stops_its_script_and_training(tmp_path):
    write_cifar(tmp_path / 'data', n=4)
    url = tmp_path / 'train_url'
    code, output, training = stopped_midway(
        [sys.executable, 'modelarts_entry_acc.py', '--data_url', str(tmp_path / 'data'),
         '--train_url', str(url), '--train_steps=100000', '--batch_size=4'] + TINY,
        url / 'train_0.log', lambda p: os.kill(p.pid, signal.SIGTERM))
    assert code == 128 + signal.SIGTERM, output
    assert not any(alive(p) for p in training)
    assert 'finished with exit code 143' in output
    case = 'Transferring-GAN_ID1252_for_TensorFlow_bs4_1p_acc'
    assert summary(str(url / (case + '.log')))['RunStatus'].startswith('interrupted by SIGTERM')


def test_the_performance_script_says_its_default_steps():
    usage = run(['bash', 'test/train_performance_1p.sh', '--help']).stdout
    assert 'generator steps (default: 100)' in usage
    assert "generator steps (default: the preset's)" in run(
        ['bash', 'test/train_full_1p.sh', '--help']).stdout
    assert 'goes on to test/train_full_1p.sh' in run(
        [sys.executable, 'modelarts_entry_acc.py', '--help']).stdout


@pytest.mark.slow
def test_a_dying_rank_stops_the_others_of_the_8p_script(tmp_path):
    """Off Ascend, with stand-in ranks: rank 3 fails at once while the others would wait
    (in HCCL's collectives, until HCCL_EXEC_TIMEOUT, 30 minutes by default): the script stops
    them within seconds and exits with the failure."""
    stand_in = tmp_path / 'python'
    pids = tmp_path / 'pids'
    stand_in.write_text('#!/bin/bash\n'
                        'echo $$ >> "%s"\n'
                        'if [ "$RANK_ID" = 3 ]; then  # once every rank has started\n'
                        '  while [ "$(wc -l < "%s")" -lt 8 ]; do sleep .1; done; exit 3\n'
                        'fi\n'
                        'exec sleep 600\n' % (pids, pids))
    stand_in.chmod(0o755)
    table = tmp_path / 'rank_table_8p.json'
    table.write_text('{}')
    start = time.time()
    result = subprocess.run(
        ['bash', 'test/train_full_8p.sh', '--data_path=%s' % tmp_path, '--output_path=%s' % (
            tmp_path / 'out'), '--rank_table=%s' % table], cwd=ROOT,
        env=dict(os.environ, PYTHON=str(stand_in)), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    assert time.time() - start < 30 and result.returncode == 3, result.stdout
    assert 'a training process exited with 3; stopping the other ranks' in result.stdout
    pids = [int(p) for p in pids.read_text().split()]
    assert len(pids) == 8 and not any(alive(p) for p in pids)
