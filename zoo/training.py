"""A training run: settings resolved, data loaded, then each phase in its own graph and session,
trained by zoo/loop.py with the hooks of zoo/hooks.py; at the end, optionally, the export."""
import collections
import contextlib
import functools
import os

import datasets
from tflib import augment, checkpoints, device, distributed, files, logs, params, precision
from tflib import gan as gan_lib
from tflib.compat import tf
from tflib.config import ConfigError
from tflib.metrics import classifier
from tflib.ops import resample
from zoo import data, export, generators, hooks, reports, resume, scoring, settings
from zoo.loop import Loop, check_loops

USER_ERRORS = (ConfigError, datasets.DataError, device.DeviceError, checkpoints.CheckpointError,
               classifier.ScorerError, export.ExportError, hooks.Diverged, OSError)

Job = collections.namedtuple('Job', ['settings', 'source', 'held_out', 'dev', 'cluster',
                                     'signals', 'budget'])


def train(argv):
    """Train as the command line ``argv`` asks (gan_train.py)."""
    req = settings.request(argv)
    requested = settings.model_values(req)  # before any data is read
    dev = device.resolve(req.values['device'])
    device.require(dev)
    cluster = distributed.start(req.values['distributed'], dev)
    if not cluster.is_chief:  # rank 0 alone reports
        with open(os.devnull, 'w') as quiet, contextlib.redirect_stdout(quiet):
            return train_ranks(req, requested, dev, cluster)
    return train_ranks(req, requested, dev, cluster)


class RunFailed(Exception):
    """A run of ``train_logged`` stopped on a user error; the message names its log."""


def train_logged(argv, log_path):
    """``train(argv)`` with its output in the file ``log_path``, for programs that chain runs
    (bench/): a user error raises RunFailed with gan_train.py's one-line message."""
    try:
        with open(log_path, 'w') as f, contextlib.redirect_stdout(f):
            train(argv)
    except USER_ERRORS + (tf.errors.OpError,) as error:
        text = reports.error_message(error)
        if text is None:  # a TF error that is no user's
            raise
        raise RunFailed('{}; see {}'.format(text, log_path))


def train_ranks(req, requested, dev, cluster):
    mode = req.values['precision_mode']
    if dev == 'npu' and mode in device.PRECISION_LIMITS:
        print('warning: --precision_mode {} {}'.format(mode, device.PRECISION_LIMITS[mode]))
    source, held_out = data.load(req.values, requested['IMAGE_SIZE'], requested['CHANNELS'],
                                 cluster)
    if cluster.parallel:
        print(reports.data_parallel(cluster, len(source), req.values['lr_scaling']))
    meta = checkpoints.read_meta(req.values['output_path'])  # every rank: where to start
    resolved = settings.resolve(req, dev, source, cluster, meta['config'] if meta else None)
    run, model, model_cfg = resolved.run, resolved.model, resolved.model_cfg
    out = run['output_path']
    if cluster.is_chief:
        try:
            os.makedirs(os.path.join(out, 'samples'), exist_ok=True)
        except OSError as error:
            raise ConfigError('--output_path {}: cannot create ({})'.format(out,
                                                                          error.strerror))
    if meta:
        checkpoints.check_resumable(meta, model.name, model.architecture, model_cfg, out,
                                    model.defaults)
    if cluster.is_chief:
        files.write_json(os.path.join(out, 'config.json'), settings.as_dict(resolved))

    budget = hooks.Budget(run['MAX_MINUTES']) if run['MAX_MINUTES'] else None
    step = meta['step'] if meta else 0
    schedule = model.phases(model_cfg)
    check_loops(run, step, schedule, dev, functools.partial(model.critic_steps, model_cfg))
    trained = step < schedule[-1].end
    if not trained:
        print('{} has trained its {} steps; pass a larger --ITERS to go on'.format(out, step))
    with hooks.Signals() as signals:
        job = Job(resolved, source, held_out, dev, cluster, signals, budget)
        for number, phase in enumerate(schedule, 1):
            if step >= phase.end:
                continue
            if phase.name:
                print('phase {}/{}: {}, steps {} to {}'.format(number, len(schedule), phase.name,
                                                               phase.start, phase.end))
            step = train_phase(job, phase, step, number == len(schedule))
            if step < phase.end:
                break
    if cluster.is_chief:
        print(reports.outputs(out))
        if trained and run['EXPORT_AT_END'] and not signals.signal:  # finished or out of time
            export.export_run(out)


PhaseGraph = collections.namedtuple('PhaseGraph', [
    'graph', 'gan', 'pipeline', 'grid', 'score', 'signature', 'finite', 'saver', 'loop_op',
    'load_loop', 'init', 'carried', 'start_averages', 'broadcast', 'vote'])


def phase_graph(job, phase, start):
    """The finalized graph of one phase, from generator step ``start``: the model's train ops
    on the input pipeline, with the device's optimizer wrapping (and, on NPU with
    --iterations_per_loop K, the loop op), the sample ops and what the loop runs besides."""
    run, cluster, model = job.settings.run, job.cluster, job.settings.model
    cfg = job.settings.train_cfg
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(run['seed'])
        pipeline = datasets.base.step_inputs(job.source, phase.batch_size, run['seed'], start,
                                             phase.start, run['DEQUANTIZE'], cluster.rank,
                                             job.held_out)
        with resample.pooling(device.mean_pool(job.dev)):
            gan = model.build(cfg, pipeline, lambda opt: device.wrap_optimizer(
                distributed.average_gradients(opt, cluster), job.dev,
                run['mixed_precision'] == 'true', cluster.parallel), phase=phase,
                step_by_step=not run['fused_step'], frozen_blocks=run['freeze_d'])
        signature = model.signature(cfg)
        grid = generators.sample_op(gan, signature, run['seed'])
        score = generators.sample_op(gan, signature)
        signature = model.signature(cfg, grid[0])  # this phase's image size
        finite = gan_lib.all_finite(params.all_params(), device.weight_bound(job.dev))
        saver = tf.train.Saver(max_to_keep=run['keep_checkpoints'])
        loop_op, load_loop = None, None
        if job.dev == 'npu':  # after the Saver: its loop variables are no model state
            loop_op, load_loop = device.loop_op(gan.train_op, run['iterations_per_loop'])
        init = tf.global_variables_initializer()
        carried = gan_lib.carried_state()
        start_averages = model.start_averages()
        broadcast = distributed.broadcast_op(cluster, tf.global_variables())
        vote = distributed.stop_vote(cluster)
    graph.finalize()
    return PhaseGraph(graph, gan, pipeline, grid[0], score, signature, finite, saver, loop_op,
                      load_loop, init, carried, start_averages, broadcast, vote)


def phase_hooks(job, built, batch_size, last, step):
    """The loop's hooks for one phase, and the TensorBoard writer to close after it: all of
    them on rank 0; on the other ranks those that must act at the same steps everywhere (the
    log's metrics, the finiteness check, the stops)."""
    run, cluster = job.settings.run, job.cluster
    out = run['output_path']
    chief = cluster.is_chief
    history = logs.History(os.path.join(out, 'log.csv'), step) if chief else None
    board = hooks.Board(os.path.join(out, 'tensorboard')) if chief else None
    every_rank = [hooks.Log(run['LOG_STEP'], batch_size, history, board),
                  hooks.FiniteGuard(built.finite, (run['SAVE_SAMPLES_STEP'],
                                                   run['CHECKPOINT_STEP'],
                                                   run['INCEPTION_FREQUENCY']), out),
                  hooks.SignalStop(job.signals)]
    if job.budget is not None:
        every_rank.append(hooks.Deadline(job.budget))
    if built.vote is not None:
        every_rank.append(hooks.StopVote(built.vote))
    if not chief:
        return every_rank, board
    meta = resume.run_meta(job.settings, job.dev, built.signature)
    scorer = scoring.Scorer(run['classifier'], job.settings.model_cfg['CHANNELS'],
                            run['fid_stats'])
    plan = hooks.ScorePlan(run['INCEPTION_FREQUENCY'], run['N_INCEPTION'], run['seed'],
                           run['EXPORT_AT_END'], last)
    return every_rank + [hooks.Samples(run['SAVE_SAMPLES_STEP'], built.grid, out, history, board),
                         hooks.Checkpoints(run['CHECKPOINT_STEP'], built.saver, out, meta),
                         hooks.Score(plan, built.score, scorer, board, job.signals)], board


def train_phase(job, phase, start, last):
    """Train one phase in its own graph and session from step ``start``; rank 0 restores the
    run's latest checkpoint (all of it when written inside this phase, the carried state of
    tflib.gan.carried_state when it ends the last phase) and every rank then takes rank 0's
    variables. Returns the step reached."""
    run, cluster = job.settings.run, job.cluster
    built = phase_graph(job, phase, start)
    reduced = precision.decide(job.dev, run['mixed_precision'], cluster.parallel,
                               built.gan.train_op, run['threads'])
    config = device.session_config(job.dev, run['precision_mode'], reduced, run['threads'],
                                   cluster.local_rank if cluster.parallel else None,
                                   run['iterations_per_loop'], device.npu_debug(run, job.dev))
    with tf.Session(graph=built.graph, config=config) as session:
        session.run([built.init, built.pipeline.initializer])
        if built.load_loop is not None:
            built.load_loop(session)
        meta = checkpoints.read_meta(run['output_path']) if cluster.is_chief else None
        if meta:
            resume.restore_phase(session, meta, phase, built.carried, built.start_averages)
        elif cluster.is_chief and run['finetune_from']:
            report = resume.start_averages(session, checkpoints.restore(
                session, run['finetune_from'], [v for v in params.all_params() if not
                                                v.op.name.startswith(augment.STATE)],
                run['finetune_uncond_to_cond']), built.start_averages)
            print(reports.finetune(report))
        if built.broadcast is not None:
            built.gan.step.load(start, session)
            session.run(built.broadcast)
        acting, board = phase_hooks(job, built, phase.batch_size, last, start)
        total, data_format = job.settings.model_cfg['ITERS'], job.settings.model_cfg[
            'data_format']
        print('training {} from step {} to {} on {} ({}), output in {}'.format(
            job.settings.preset, start, total, job.dev, data_format,
            os.path.abspath(run['output_path'])))
        loop = Loop(session, built.gan, phase.end, total, run['fused_step'],
                    run['iterations_per_loop'], built.loop_op, acting)
        try:
            return loop.run()
        finally:
            if board is not None:
                board.close()
