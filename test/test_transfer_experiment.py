"""bench/transfer_experiment.py: every arm through the pipeline (--quick), a rerun that keeps
finished runs, the reference that never holds a training image, and the copy rate."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tflib import files
from tflib.metrics import memorisation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
import transfer_experiment  # noqa: E402

ARMS = ['scratch', 'finetune', 'freezed', 'diffaug_scratch', 'diffaug', 'freezed_diffaug',
        'freezed_ada']


def bench(out, *flags):
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'transfer_experiment.py'),
                             '--quick', '--out', str(out)] + list(flags),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


@pytest.mark.slow
def test_every_arm_is_scored_and_a_rerun_keeps_finished_runs(tmp_path):
    out = tmp_path / 'experiment'
    bench(out, '--seeds', '1')
    report = json.loads((out / 'transfer.json').read_text())
    assert sorted(report['rows']) == sorted('{}_100'.format(arm) for arm in ARMS)
    for run in report['runs']:
        assert [p['step'] for p in run['points']] == [2, 4]
        for point in run['points']:
            assert np.isfinite(point['held_out']['fid']) and np.isfinite(point['train']['fid'])
            assert 0 <= point['copy_rate'] <= 1 and point['copy_level'] == 0.05
            assert 0 <= point['held_out']['recall'] <= 1
    table = (out / 'transfer.md').read_text().splitlines()
    assert table[0].startswith('| images | arm | seeds | held-out FID (final) | vs fine-tune |')
    assert len(table) == 2 + len(ARMS)
    assert (out / 'transfer.png').read_bytes()[:4] == b'\x89PNG'
    seed0 = out / 'seed0'
    assert 'training on 100 images of classes 5,6,7,8,9' in (seed0 / 'scratch_100.log').read_text()
    assert 'fine-tuning from' not in (seed0 / 'scratch_100.log').read_text()
    both = json.loads((seed0 / 'freezed_diffaug_100' / 'config.json').read_text())
    assert both['freeze_d'] == 2 and both['diffaug'] == 'color,translation,cutout'
    assert 'fine-tuning from' in (seed0 / 'freezed_diffaug_100.log').read_text()
    assert json.loads((seed0 / 'diffaug_scratch_100' / 'config.json').read_text())[
        'finetune_from'] == ''
    adaptive = json.loads((seed0 / 'freezed_ada_100' / 'config.json').read_text())
    assert adaptive['ada_target'] == .3 and adaptive['holdout'] == 10
    assert '10 images held out, 90 left to train on' in (seed0 / 'freezed_ada_100.log').read_text()

    text = bench(out, '--seeds', '2', '--runs', 'finetune_100,diffaug_100')
    assert 'finetune_100 seed 0: kept from' in text and 'diffaug_100 seed 1: held-out FID' in text
    rows = json.loads((out / 'transfer.json').read_text())['rows']
    assert rows['diffaug_100']['seeds'] == [0, 1] and rows['scratch_100']['seeds'] == [0]
    versus = rows['diffaug_100']['fid_vs_baseline']
    assert versus['seeds'] == 2 and versus['low'] <= versus['mean'] <= versus['high']
    finals = {run['seed']: run['points'][-1]['held_out']['fid'] for run in
              json.loads((out / 'transfer.json').read_text())['runs']
              if run['name'] == 'diffaug_100'}
    assert finals[0] != finals[1]  # the seeds differ
    assert rows['diffaug_100']['fid'] == pytest.approx(np.mean(list(finals.values())))


@pytest.mark.parametrize('size', [100, 500])
def test_the_reference_never_holds_a_training_image(size):
    """Held-out scores use the test split's digits 5-9; no run of any seed trains on one."""
    held_out = {image.tobytes() for image in transfer_experiment.held_out_images()}
    assert len(held_out) > 400
    for seed in range(5):
        train = transfer_experiment.training_images(size, seed)
        assert len(train) == size
        assert not held_out & {image.tobytes() for image in train}


def test_the_copy_rate_sees_copies_and_not_fresh_samples():
    rng = np.random.RandomState(0)
    train, held_out, fresh = (rng.randn(n, 16) for n in (200, 1000, 2000))
    assert memorisation.copy_rate(train, held_out, fresh)['copy_rate'] == pytest.approx(0.05,
                                                                                        abs=0.02)
    copies = train[rng.randint(0, 200, 2000)] + 0.01 * rng.randn(2000, 16)
    assert memorisation.copy_rate(train, held_out, copies)['copy_rate'] == 1.
    np.testing.assert_allclose(memorisation.nearest_distances(held_out[:3], train, chunk=2),
                               np.sqrt(((held_out[:3, None] - train[None]) ** 2).sum(-1)).min(1))


def test_scores_of_another_setting_are_refused(tmp_path):
    """A full run never keeps --quick's scores (made at steps 2, 4), nor the reverse."""
    path = str(tmp_path / 'scores.json')
    files.write_json(path, {'points': [{'step': 2}, {'step': 4}]})
    assert transfer_experiment.kept(path, transfer_experiment.QUICK)
    with pytest.raises(SystemExit, match='scored at other steps'):
        transfer_experiment.kept(path, transfer_experiment.FULL)
