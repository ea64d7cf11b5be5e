"""bench/train_step.py at a tiny width: its timing, FLOP count, bf16 probe and --profile run
end to end and report what they claim."""
import os
import re
import subprocess
import sys

import pytest

from tflib import device

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_profile_groups_the_step_by_kind():
    out = subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'train_step.py'),
                          '--preset', 'quickstart', '--DIM_G', '8', '--DIM_D', '8', '--iters',
                          '1', '--warmup', '0', '--profile', '--top', '5'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=600).stdout
    lines = out.splitlines()
    assert lines[-1].startswith('RESULT preset=quickstart sec_per_iter='), out[-3000:]
    shares = {m.group(1).strip(): float(m.group(2)) for m in (
        re.match(r'  (\D+?) +[\d.]+ s +([\d.]+)%$', l) for l in lines) if m}
    assert list(shares) == ['conv/matmul forward', 'conv/matmul backprop',
                            'gradient penalty, second order', 'normalisation', 'elementwise',
                            'optimizer update', 'data and copies'], out[-3000:]
    assert abs(sum(shares.values()) - 100.) < 0.5
    assert all(shares[k] > 0 for k in ('conv/matmul forward', 'conv/matmul backprop',
                                       'gradient penalty, second order', 'normalisation'))
    assert 'top op types:' in lines and 'top ops:' in lines
    assert ('mixed precision probe, the 4 heaviest products' in out) == device.bf16_rewrite_available()
