"""Seconds per generator iteration of a preset at its published size, as a fraction of this
machine's matmul peak, fused (one session call per iteration) and step by step side by side.

    python bench/train_step.py --preset transfer_gan_cifar10 [--precision fp32,bf16] [--KEY VALUE]
    python bench/train_step.py --preset pgan_celeba [--at_step N]   # a phase: default the last

Real images are random (speed does not depend on them). FLOPs are counted from the graph: every
matmul and convolution (forward, both backward passes and the gradient penalty's second order)
that one fused iteration runs, from their static shapes; elementwise work is not counted, so
the fraction is of the work the peak applies to.
"""
import argparse

import numpy as np

import machine
import datasets
from tflib import device
from tflib.compat import tf
from zoo import settings as zoo_settings


def op_flops(op):
    """Multiply-adds x 2 of one dense op from its static shapes (0 for other ops)."""
    if op.type == 'MatMul':
        a = op.inputs[0].shape.as_list()
        inner = a[0] if op.get_attr('transpose_a') else a[1]
        return 2 * int(np.prod(op.outputs[0].shape.as_list())) * inner
    if op.type in ('Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'):
        # The forward output (or its gradient) times the filter's receptive field.
        out = op.outputs[0] if op.type == 'Conv2D' else op.inputs[2]
        if op.type == 'Conv2DBackpropFilter':
            kh, kw, c_in, _ = op.outputs[0].shape.as_list()
        else:
            kh, kw, c_in, _ = op.inputs[1].shape.as_list()
        return 2 * int(np.prod(out.shape.as_list())) * kh * kw * c_in
    return 0


def graph_flops(target):
    """FLOPs of the ops ``target`` runs: its transitive inputs and control inputs."""
    seen, stack, total = set(), [target], 0
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        total += op_flops(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return total


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
    args, rest = parser.parse_known_args(argv)
    req = zoo_settings.request(['--preset', args.preset, '--device', 'cpu'] + rest)
    decided = {} if 'data_format' in req.flags else {'data_format': 'NHWC'}
    model_cfg = zoo_settings.model_values(req, **decided)
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
        pipeline = datasets.base.step_inputs(source, phase.batch_size, seed)
        gan = model.build(model_cfg, pipeline, phase=phase)
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


def main(argv=None):
    args, model, model_cfg, phase, seed = settings(argv)
    graph, gan, init = build(model, model_cfg, phase, seed)
    n_critic = gan.fused_critic_steps
    flops = graph_flops(gan.train_op)
    peak = machine.matmul_peak_gflops(threads=args.threads)
    print('{} ({}): {:.1f} GFLOP per generator iteration ({} critic steps), matmul peak '
          '{:.1f} GFLOP/s'.format(args.preset, model_cfg['data_format'], flops / 1e9, n_critic,
                                  peak))
    results = {}
    for precision in args.precision.split(','):
        config = device.session_config('cpu', threads=args.threads,
                                       mixed_precision=precision == 'bf16')
        with tf.Session(graph=graph, config=config) as session:
            session.run(init)
            seconds, losses = time_modes(session, gan, n_critic, args)
        finite = all(np.isfinite(v) for v in losses.values())
        print('{}: fused {:.3f} s/iter, step by step {:.3f} s/iter ({:.1f}% of the fp32 peak); '
              'losses finite: {} ({})'.format(
                  precision, seconds['fused'], seconds['loop'],
                  100. * flops / seconds['fused'] / 1e9 / peak, finite,
                  ', '.join('{} {:.3g}'.format(k, v) for k, v in sorted(losses.items()))),
              flush=True)
        results[precision] = seconds
    first = results[args.precision.split(',')[0]]
    pairs = dict(preset=args.preset, sec_per_iter=first['fused'],
                 gflops=flops / first['fused'] / 1e9, peak_gflops=peak,
                 peak_fraction=flops / first['fused'] / 1e9 / peak,
                 max_rss_gib=machine.max_rss_gib(), loop_sec_per_iter=first['loop'],
                 fused_speedup=first['loop'] / first['fused'])
    if 'bf16' in results and 'fp32' in results:
        pairs.update(bf16_sec_per_iter=results['bf16']['fused'],
                     bf16_speedup=results['fp32']['fused'] / results['bf16']['fused'])
    machine.result(**pairs)


if __name__ == '__main__':
    main()
