"""Seconds per generator iteration of a preset at its published size, as a fraction of this
machine's matmul peak, fused (one session call per iteration) and step by step side by side.

    python bench/train_step.py --preset transfer_gan_cifar10 [--precision fp32,bf16] [--KEY VALUE]
    python bench/train_step.py --preset pgan_celeba [--at_step N]   # a phase: default the last
    python bench/train_step.py --preset transfer_gan_cifar10 --profile  # where the time goes

Real images are random (speed does not depend on them). FLOPs are counted from the graph: every
matmul and convolution (forward, both backward passes and the gradient penalty's second order)
that one fused iteration runs, from their static shapes; elementwise work is not counted, so
the fraction is of the work the peak applies to. ``--profile`` traces one more fused iteration
(TF's step stats) and prints its op time by kind and its top ops.
"""
import argparse
import collections

import numpy as np

import machine
import datasets
from tflib import device, precision
from tflib.flops import graph_flops
from tflib.compat import tf
from zoo import settings as zoo_settings


def settings(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--preset', default='transfer_gan_cifar10')
    parser.add_argument('--iters', type=int, default=5, help='timed iterations per mode')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--precision', default='fp32',
                        help='comma-separated: fp32, bf16 (oneDNN bfloat16 rewrite)')
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--at_step', type=int,
                        help='time the phase of this step (PGAN; default: the last phase)')
    parser.add_argument('--profile', action='store_true',
                        help='also the op time of one traced iteration, by kind and top ops')
    parser.add_argument('--top', type=int, default=15,
                        help='op types (and single ops) the profile lists')
    args, rest = parser.parse_known_args(argv)
    req = zoo_settings.request(['--preset', args.preset, '--device', 'cpu'] + rest)
    derived = {} if 'data_format' in req.flags else {'data_format': 'NHWC'}
    model_cfg = zoo_settings.model_values(req, **derived)
    step = model_cfg['ITERS'] if args.at_step is None else args.at_step
    return args, req.model, model_cfg, req.model.phase_at(model_cfg, step), req.values['seed']


def build(model, model_cfg, phase, seed):
    size, channels = model_cfg['IMAGE_SIZE'], model_cfg['CHANNELS']
    rng = np.random.RandomState(0)
    n, n_classes = 8 * phase.batch_size, model.signature(model_cfg).n_classes
    source = datasets.base.ArraySource('random', rng.randint(0, 256, (n, size, size, channels),
                                                             np.uint8),
                                       rng.randint(0, n_classes or 1, n), n_classes)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        # The random images also stand in for --ada_target's held-out ones.
        pipeline = datasets.base.step_inputs(source, phase.batch_size, seed, held_out=source)
        gan = model.build(model_cfg, pipeline, phase=phase, step_by_step=True)
        init = tf.group(tf.global_variables_initializer(), pipeline.initializer)
    graph.finalize()
    return graph, gan, init


def time_modes(session, gan, n_critic, args):
    """Median seconds per iteration of the fused op and of the step-by-step loop, interleaved
    so that both see the same machine; the losses of one more fused iteration."""
    def looped():  # as zoo.loop's step-by-step loop: the element fetched, fed to each op
        feed = {gan.inputs[k]: v for k, v in session.run(gan.inputs).items()}
        for index in range(n_critic):
            feed[gan.critic_index] = index
            session.run(gan.disc_train_op, feed)
        session.run(gan.gen_train_op, feed)
    fused = lambda: session.run(gan.train_op)  # noqa: E731
    for _ in range(args.warmup):
        fused()
        looped()
    times = {'fused': [], 'loop': []}
    for _ in range(args.iters):
        times['fused'].append(machine.timed(fused))
        times['loop'].append(machine.timed(looped))
    losses = session.run([gan.train_op, gan.train_metrics])[1]
    return {k: machine.median(v) for k, v in times.items()}, losses


KINDS = ('conv/matmul forward', 'conv/matmul backprop', 'gradient penalty, second order',
         'normalisation', 'elementwise', 'optimizer update', 'data and copies')
COPIES = ('IteratorGetNext', 'Identity', 'Transpose', 'Reshape', 'Cast', 'ConcatV2', 'Slice',
          'StridedSlice', 'Pack', 'Unpack', 'Split', 'SplitV', 'Tile', 'Squeeze', 'ExpandDims',
          '_Send', '_Recv', 'Const', 'Shape', 'Fill', 'ZerosLike', 'OnesLike', 'GatherV2',
          'StridedSliceGrad', 'Snapshot', 'NoOp', '_Retval', '_Arg', 'BroadcastTo',
          'VariableV2', 'ReadVariableOp', 'VarHandleOp', '_MklToTf')


def kind_of(name, op_type):
    """Which of KINDS a traced node belongs to, from its type and its name scopes: ops under
    two gradient scopes differentiate the penalty's gradient (the second order); fused
    convolutions (_FusedConv2D, oneDNN's) count as convolutions; (fused) BatchNorm, and
    tf.nn.moments and batch_normalization (conditional BatchNorm, LayerNorm) and their
    gradients as normalisation."""
    scopes = name.split('/')
    if sum(s.startswith('gradients') for s in scopes) >= 2:
        return KINDS[2]
    if 'Conv2D' in op_type or 'MatMul' in op_type:
        return KINDS[1] if any(s.startswith('gradients') for s in scopes) else KINDS[0]
    if 'BatchNorm' in op_type or any(s.startswith(('moments', 'batchnorm')) for s in scopes):
        return KINDS[3]
    if op_type.startswith(('Apply', 'ResourceApply', 'Assign')):
        return KINDS[5]
    if op_type in COPIES:
        return KINDS[6]
    return KINDS[4]


def profile(session, gan, top):
    """Op time of one traced fused iteration, by kind, and the ``top`` op types and single
    ops; op times add up over the threads that run them in parallel, so shares are of the
    summed op time."""
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    wall = machine.timed(lambda: session.run(gan.train_op, options=options,
                                             run_metadata=metadata))
    by_kind, by_type, by_op = collections.Counter(), collections.Counter(), collections.Counter()
    for stats in metadata.step_stats.dev_stats:
        for node in stats.node_stats:
            label = node.timeline_label
            op_type = label.split(' = ', 1)[1].split('(')[0] if ' = ' in label else \
                node.node_name
            micros = node.all_end_rel_micros
            kind = kind_of(node.node_name, op_type)
            by_kind[kind] += micros
            by_type[(op_type, kind)] += micros
            by_op[(op_type, node.node_name)] += micros
    total = sum(by_kind.values())
    print('profile of one traced iteration: {:.2f} s wall, {:.2f} s of op time'.format(
        wall, total / 1e6))
    for kind in KINDS:
        print('  {:<32} {:8.3f} s {:6.1%}'.format(kind, by_kind[kind] / 1e6,
                                                  by_kind[kind] / total))
    print('top op types:')
    for (op_type, kind), micros in by_type.most_common(top):
        print('  {:6.1%} {:8.3f} s  {:<40} {}'.format(micros / total, micros / 1e6, op_type,
                                                      kind))
    print('top ops:')
    for (op_type, name), micros in by_op.most_common(top):
        print('  {:6.1%} {:8.3f} s  {:<24} {}'.format(micros / total, micros / 1e6, op_type,
                                                      name))


def main(argv=None):
    args, model, model_cfg, phase, seed = settings(argv)
    graph, gan, init = build(model, model_cfg, phase, seed)
    n_critic = gan.fused_critic_steps
    flops = graph_flops(gan.train_op)
    peak = machine.matmul_peak_gflops(threads=args.threads)
    print('{} ({}): {:.1f} GFLOP per generator iteration ({} critic steps), matmul peak '
          '{:.1f} GFLOP/s'.format(args.preset, model_cfg['data_format'], flops / 1e9, n_critic,
                                  peak))
    probe = None
    if device.bf16_rewrite_available():
        probe = precision.probe(gan.train_op, args.threads)
        print('{}: bf16 {:.2f}x; --mixed_precision auto would train in {}'.format(
            precision.summary(probe), probe.fp32 / probe.bf16,
            'bf16' if precision.bf16_pays(probe) else 'fp32'))
    results = {}
    for mode in args.precision.split(','):
        config = device.session_config('cpu', threads=args.threads,
                                       mixed_precision=mode == 'bf16')
        with tf.Session(graph=graph, config=config) as session:
            session.run(init)
            seconds, losses = time_modes(session, gan, n_critic, args)
            if args.profile:
                print('{}:'.format(mode))
                profile(session, gan, args.top)
        finite = all(np.isfinite(v) for v in losses.values())
        print('{}: fused {:.3f} s/iter, step by step {:.3f} s/iter ({:.1f}% of the fp32 peak); '
              'losses finite: {} ({})'.format(
                  mode, seconds['fused'], seconds['loop'],
                  100. * flops / seconds['fused'] / 1e9 / peak, finite,
                  ', '.join('{} {:.3g}'.format(k, v) for k, v in sorted(losses.items()))),
              flush=True)
        results[mode] = seconds
    first = results[args.precision.split(',')[0]]
    pairs = dict(preset=args.preset, sec_per_iter=first['fused'],
                 gflops=flops / first['fused'] / 1e9, peak_gflops=peak,
                 peak_fraction=flops / first['fused'] / 1e9 / peak,
                 max_rss_gib=machine.max_rss_gib(), loop_sec_per_iter=first['loop'],
                 fused_speedup=first['loop'] / first['fused'])
    if 'bf16' in results and 'fp32' in results:
        pairs.update(bf16_sec_per_iter=results['bf16']['fused'],
                     bf16_speedup=results['fp32']['fused'] / results['bf16']['fused'])
    if probe is not None:
        pairs.update(probe_bf16_speedup=probe.fp32 / probe.bf16)
    machine.result(**pairs)


if __name__ == '__main__':
    main()
