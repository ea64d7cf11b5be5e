"""bench/zoo.py --quick: every family's digits preset trained briefly, scored against the
held-out digits, tabled, with a grid each."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = ['quickstart', 'cgan_mnist', 'wgan_digits', 'dcgan_digits', 'pgan_digits']


@pytest.mark.slow
def test_quick_zoo_writes_its_table_and_grids(tmp_path):
    out = tmp_path / 'zoo'
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'zoo.py'), '--quick',
                             '--out', str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.splitlines()[-1].startswith('RESULT minutes=')
    report = json.loads((out / 'zoo.json').read_text())
    assert sorted(report['results']) == sorted(PRESETS)
    for preset, results in report['results'].items():
        assert results['step'] >= 1, preset
        assert np.isfinite(results['fid']) and 1. <= results['inception_score'] <= 10.
        assert all(0. <= results[k] <= 1. for k in ('precision', 'recall', 'coverage'))
        assert (out / (preset + '.png')).exists()
        conditional = results['signature']['n_classes'] is not None
        assert ('by_class' in results) == conditional, preset
        if conditional:
            assert sorted(results['by_class']) == [str(c) for c in range(10)]
    rows = (out / 'zoo.md').read_text().splitlines()[2:]
    assert [row.split(' | ')[1] for row in rows] == PRESETS
    assert [row.endswith('| - | - |') for row in rows] == [False, False, True, True, True]
