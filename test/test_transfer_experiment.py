"""bench/transfer_experiment.py --quick: the whole pipeline (source run, fine-tuned and scratch
runs on limited data, the conditional-from-unconditional case, scores, table, plot)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_quick_transfer_experiment_writes_its_table_and_plot(tmp_path):
    out = tmp_path / 'experiment'
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'transfer_experiment.py'),
                             '--quick', '--out', str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads((out / 'transfer.json').read_text())
    assert sorted(report['results']) == sorted([
        '100 images, scratch', '100 images, transfer', 'all images, scratch',
        'all images, transfer', '100 images, conditional, scratch',
        '100 images, conditional from unconditional'])
    for label, points in report['results'].items():
        assert [p['step'] for p in points] == ([0, 2, 4] if label.endswith(', transfer')
                                              else [2, 4]), label
        assert all(np.isfinite(p['fid']) and 1. <= p['is'] <= 10. for p in points)
    # A fine-tuned run starts from the source: its step-0 point is the source's score.
    assert report['results']['100 images, transfer'][0]['fid'] == \
        report['source_on_target']['fid']
    last = result.stdout.splitlines()[-1].split()
    assert last[0] == 'RESULT' and 'fid_transfer_100' in [p.split('=')[0] for p in last]
    table = (out / 'transfer.md').read_text().splitlines()
    assert table[0].startswith('| run | FID @0 | FID @2 | FID @4 | IS @4 |') and len(table) == 8
    assert (out / 'transfer.png').read_bytes()[:4] == b'\x89PNG'
    log = (out / 'transfer_100.log').read_text()
    assert 'training on 100 images of classes 5,6,7,8,9' in log
    assert 'fine-tuning from' in log and 'restored' in log
    cond = (out / 'cond_transfer_100.log').read_text()
    assert 'tiled unconditional -> conditional' in cond


@pytest.mark.slow
def test_seeds_give_each_point_a_spread(tmp_path):
    out = tmp_path / 'seeds'
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'transfer_experiment.py'),
                             '--quick', '--seeds', '2', '--runs', 'transfer_100', '--out',
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads((out / 'transfer.json').read_text())
    assert list(report['results']) == ['100 images, transfer'] and len(report['per_seed']) == 2
    points = report['results']['100 images, transfer']
    finals = [seed['100 images, transfer'][-1]['fid'] for seed in report['per_seed']]
    assert finals[0] != finals[1]  # the seeds differ
    assert points[-1]['fid'] == np.mean(finals) and points[-1]['fid_std'] == np.std(finals)
    assert (out / 'seed1' / 'transfer_100.log').exists()
    row = (out / 'transfer.md').read_text().splitlines()[2]
    assert row.count(' ± ') == 4  # FID at 0, 2, 4 and the IS
