"""bench/zoo.py --quick: every family's digits preset trained briefly, scored against the
held-out digits after each span of training, tabled and plotted, with a grid each; a rerun
keeps the finished runs."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = ['quickstart', 'cgan_mnist', 'wgan_digits', 'dcgan_digits', 'pgan_digits']


def zoo(out, *flags, timeout=900):
    return subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'zoo.py'), '--quick',
                           '--out', str(out)] + list(flags), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)


@pytest.mark.slow
def test_quick_zoo_writes_its_table_curves_and_grids_and_keeps_its_runs(tmp_path):
    out = tmp_path / 'zoo'
    result = zoo(out, '--G_ema_rampup', '.05')
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.splitlines()[-1].startswith('RESULT minutes=')
    report = json.loads((out / 'zoo.json').read_text())
    assert sorted(report['results']) == sorted(PRESETS)
    for preset, (results,) in report['results'].items():
        assert results['step'] >= 1, preset
        assert np.isfinite(results['fid']) and 1. <= results['inception_score'] <= 10.
        assert all(0. <= results[k] <= 1. for k in ('precision', 'recall', 'coverage'))
        assert (out / (preset + '.png')).exists()
        # two spans of training, each resumed from the last one's checkpoint and scored
        assert [p['minutes'] for p in results['curve']] == [.015, .03], preset
        assert results['curve'][0]['step'] < results['curve'][1]['step'] == results['step']
        assert results['curve'][1]['fid'] == results['fid']
        config = json.loads((out / 'seed0' / preset / 'meta.json').read_text())['config']
        assert config['G_ema_rampup'] == .05  # the bench's other flags reach every run
        assert ('trained' in results) == bool(config['G_ema']) == (preset == 'pgan_digits')
        conditional = results['signature']['n_classes'] is not None
        assert ('by_class' in results) == conditional, preset
        if conditional:
            assert sorted(results['by_class']) == [str(c) for c in range(10)]
    assert (out / 'zoo.png').exists()
    rows = (out / 'zoo.md').read_text().splitlines()[2:]
    assert [row.split(' | ')[1] for row in rows] == PRESETS
    assert [row.endswith('| - | - |') for row in rows] == [False, False, True, True, True]
    assert [row.split(' | ')[5] == '-' for row in rows] == [True] * 4 + [False]

    # A rerun keeps the finished runs (no training) and refuses other settings.
    again = zoo(out, '--G_ema_rampup', '.05', '--presets', 'quickstart', timeout=300)
    assert again.returncode == 0, again.stdout[-3000:]
    assert json.loads((out / 'zoo.json').read_text())['results']['quickstart'] == \
        report['results']['quickstart']
    other = zoo(out, '--presets', 'quickstart', timeout=300)
    assert other.returncode != 0 and 'made with other settings' in other.stdout


def test_a_bad_training_flag_is_named_before_any_run(tmp_path):
    result = zoo(tmp_path / 'zoo', '--G_emma', '.9', timeout=300)
    assert result.returncode == 2 and 'unknown flag --G_emma' in result.stdout
    assert not (tmp_path / 'zoo').exists()
