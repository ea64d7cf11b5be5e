"""--mixed_precision on a CPU: the setting's values, the probe of a graph's own products, and
the decision it drives (bf16 only where it measures faster; a warning where it is forced and
slower; GPU and NPU as before)."""

import pytest

from conftest import new_session
from tflib import device, precision
from tflib.compat import tf


def test_setting_values():
    assert [device.mixed_precision_mode(v) for v in ('false', 'no', False, 'TRUE', 'on', True,
                                                     'auto')] == \
        ['false', 'false', 'false', 'true', 'true', 'true', 'auto']
    with pytest.raises(device.DeviceError, match='must be one of false, true, auto'):
        device.mixed_precision_mode('maybe')


def test_probe_times_the_heaviest_products_of_the_graph():
    with new_session():
        x = tf.zeros([8, 16, 16, 4])
        w = tf.zeros([3, 3, 4, 32])
        y = tf.nn.conv2d(x, w, [1, 1, 1, 1], 'SAME')
        small = tf.matmul(tf.zeros([2, 3]), tf.zeros([3, 2]))
        tf.matmul(tf.zeros([64, 64]), tf.zeros([64, 64]))  # not run by the step
        step = tf.gradients(tf.reduce_sum(tf.square(y)) + tf.reduce_sum(small), [w])[0].op
    heaviest = precision.heaviest(step, 2)
    assert [op.type for op in heaviest] == ['Conv2DBackpropFilter', 'Conv2D']
    if not device.bf16_rewrite_available():
        return  # TF 1.15: nothing to probe
    result = precision.probe(step, limit=2, repeats=1)
    assert result.ops == 2 and result.fp32 > 0 and result.bf16 > 0
    assert result.gflop == pytest.approx(2 * 2 * 8 * 16 * 16 * 32 * 9 * 4 / 1e9)


def decide(monkeypatch, capsys, mode, dev='cpu', fp32=1., bf16=1., rewrite=True,
           parallel=False):
    """precision.decide's choice and log for a probe that measured fp32 and bf16."""
    probes = []
    monkeypatch.setattr(precision, 'probe', lambda step, threads: probes.append(step) or
                        precision.Probe(fp32, bf16, 4, 12.5))
    monkeypatch.setattr(device, 'bf16_rewrite_available', lambda: rewrite)
    use = precision.decide(dev, mode, parallel, 'the step')
    return use, capsys.readouterr().out, probes


def test_auto_takes_bf16_only_where_the_probe_measures_it_faster(monkeypatch, capsys):
    use, out, probes = decide(monkeypatch, capsys, 'auto', fp32=.2, bf16=.1)
    assert use and probes == ['the step']
    assert 'fp32 200.0 ms, bf16 100.0 ms: training in bf16' in out
    use, out, _ = decide(monkeypatch, capsys, 'auto', fp32=.1, bf16=.157)
    assert not use and 'training in fp32' in out and 'warning' not in out
    use, _, _ = decide(monkeypatch, capsys, 'auto', fp32=.1, bf16=.095)  # within the noise
    assert not use


def test_forced_bf16_that_is_slower_warns(monkeypatch, capsys):
    use, out, _ = decide(monkeypatch, capsys, 'true', fp32=.1, bf16=.157)
    assert use
    assert 'warning: --mixed_precision true, but bf16 is 1.57x slower than fp32 on this CPU' \
        in out
    use, out, _ = decide(monkeypatch, capsys, 'true', fp32=.2, bf16=.1)
    assert use and 'warning' not in out


def test_false_gpu_npu_and_tf115_are_not_probed(monkeypatch, capsys):
    assert decide(monkeypatch, capsys, 'false')[::2] == (False, [])
    assert decide(monkeypatch, capsys, 'true', dev='gpu')[::2] == (True, [])  # fp16 rewrite
    use, out, probes = decide(monkeypatch, capsys, 'auto', dev='gpu')
    assert (use, probes) == (False, []) and 'decides on CPUs' in out
    assert decide(monkeypatch, capsys, 'true', dev='npu')[::2] == (False, [])  # precision_mode
    use, out, probes = decide(monkeypatch, capsys, 'auto', dev='npu')
    assert (use, probes) == (False, []) and '--precision_mode decides' in out
    use, out, probes = decide(monkeypatch, capsys, 'auto', rewrite=False)
    assert (use, probes) == (False, []) and 'has no oneDNN bfloat16 rewrite: fp32' in out


def test_data_parallel_ranks_do_not_time_apart(monkeypatch, capsys):
    """Ranks probing at once on shared cores could choose different precisions."""
    use, out, probes = decide(monkeypatch, capsys, 'auto', parallel=True, fp32=.2, bf16=.1)
    assert (use, probes) == (False, []) and 'every rank must compute alike' in out
    assert decide(monkeypatch, capsys, 'true', parallel=True)[::2] == (True, [])


def test_the_flag_bare_early_and_checked(tmp_path, capsys):
    """A bare --mixed_precision means true, as when it was a boolean; a bad value is refused
    before any data is read."""
    from zoo import settings
    assert settings.request(['--mixed_precision']).values['mixed_precision'] == 'true'
    assert settings.request(['--mixed_precision', 'auto', '--ITERS', '1']).values[
        'mixed_precision'] == 'auto'
    import gan_train
    assert gan_train.main(['--mixed_precision', 'maybe', '--dataset', 'folder', '--data_path',
                           str(tmp_path / 'no_such_folder')]) == 2
    assert 'must be one of false, true, auto' in capsys.readouterr().err
