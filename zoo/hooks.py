"""The training loop's hooks (zoo/loop.py): one concern each."""
import collections
import os
import signal
import time

import numpy as np

from tflib import checkpoints, images, logs
from tflib.compat import tf
from zoo import scoring
from zoo.loop import Hook

GRID_CELL = 32  # smaller samples (PGAN's first phases) are enlarged to this in the grids


class Diverged(RuntimeError):
    """The weights went NaN or Inf: the run stops before they reach a checkpoint."""


def every(period, step):
    return bool(period) and step % period == 0


class Signals(object):
    """While active, SIGTERM and SIGINT ask the loop to checkpoint and leave after the step."""
    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self):
        self.signal = None
        self.previous = [signal.signal(sig, self.handle) for sig in self.SIGNALS]
        return self

    def __exit__(self, *_):
        for sig, handler in zip(self.SIGNALS, self.previous):
            signal.signal(sig, handler)

    def handle(self, signum, _frame):
        self.signal = signum


class Board(object):
    """The run's TensorBoard events (rank 0)."""

    def __init__(self, directory):
        self.writer = tf.summary.FileWriter(directory)

    def scalars(self, step, values):
        self.writer.add_summary(tf.Summary(value=[
            tf.Summary.Value(tag=k, simple_value=float(v)) for k, v in values.items()]), step)

    def image(self, step, tag, grid, png):
        image = tf.Summary.Image(height=grid.shape[0], width=grid.shape[1],
                                 colorspace=grid.shape[2], encoded_image_string=png)
        self.writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag=tag, image=image)]), step)

    def flush(self):
        self.writer.flush()

    def close(self):
        self.writer.close()


class Log(Hook):
    """Every ``period`` steps and at the end, the log line with speed and ETA; on rank 0 also
    a row of ``history`` (log.csv) and TensorBoard scalars."""

    ROLE = 'log'

    def __init__(self, period, batch_size, history=None, board=None):
        self.period, self.batch_size, self.history, self.board = period, batch_size, history, \
            board

    def begin(self, loop):
        self.since, self.steps, self.images, self.last = time.time(), 0, 0, loop.step

    def wants_metrics(self, loop, step):
        return every(self.period, step) or step == loop.end

    def after_step(self, loop, values):
        self.images += sum(loop.gan.critic_steps(s) for s in range(self.last, loop.step)) * \
            self.batch_size
        self.steps += loop.step - self.last
        self.last = loop.step
        if values is None:
            return
        elapsed = time.time() - self.since
        values = dict(values, learning_rate=loop.session.run(loop.gan.learning_rate))
        loop.say(logs.log_line(loop.step, loop.total, values, elapsed / self.steps,
                               self.images / elapsed, loop.progress.eta(loop.step)))
        if self.history is not None:
            self.history.add(loop.step, values)
            self.board.scalars(loop.step, values)
        self.since, self.steps, self.images = time.time(), 0, 0

    def end(self, loop):
        """A run stopped between log steps gets a last line, speed only (its losses were not
        fetched): the ModelZoo scripts summarise from it."""
        if loop.stopped and self.steps:
            elapsed = time.time() - self.since
            loop.say(logs.log_line(loop.step, loop.total, {}, elapsed / self.steps,
                                   self.images / elapsed, loop.progress.eta(loop.step)))


class FiniteGuard(Hook):
    """Stops the run, keeping the last checkpoint, when the weights went NaN or Inf (or, on an
    NPU, reached fp16's largest value, where a 910 saturates; tflib.device.weight_bound): checked
    on log steps and before anything is written (every multiple of ``periods`` and at the
    end), by every rank at the same steps, so all stop together. A non-finite logged loss
    alone is reported: with loss scaling its step was skipped."""

    ROLE = 'gate'

    def __init__(self, finite, periods, out):
        self.finite, self.periods, self.out = finite, periods, out

    def after_step(self, loop, values):
        if values is None and not loop.finishing and not any(every(p, loop.step)
                                                              for p in self.periods):
            return
        bad = sorted(k for k, v in (values or {}).items() if not np.isfinite(v))
        if loop.session.run(self.finite):
            if bad:
                loop.say('warning: step {}: {} not finite (weights still finite)'.format(
                    loop.step, ', '.join(bad)))
            return
        meta = checkpoints.read_meta(self.out)
        raise Diverged('step {}: the weights are not finite (NaN, Inf or, on an NPU, fp16\'s '
                       'saturated +-65504){}; stopped without saving them. '
                       'The last good checkpoint is {}: resume from it, e.g. with a lower '
                       'learning rate'.format(
                           loop.step, ' (nor {})'.format(', '.join(bad)) if bad else '',
                           meta['checkpoint'] if meta else 'none (none was written)'))


class Samples(Hook):
    """Every ``period`` steps and at the end: the sample grid (PNG and TensorBoard) and the
    loss curve."""

    ROLE = 'write'

    def __init__(self, period, grid_op, out, history, board):
        self.period, self.grid_op, self.out, self.history, self.board = period, grid_op, out, \
            history, board

    def after_step(self, loop, values):
        if not (every(self.period, loop.step) or loop.finishing):
            return
        grid = images.grid(images.to_uint8(loop.session.run(self.grid_op)), min_size=GRID_CELL)
        path = os.path.join(self.out, 'samples', 'samples_{:06d}.png'.format(loop.step))
        self.board.image(loop.step, 'samples', grid, images.save_png(path, grid))
        if self.history.rows:
            self.history.plot(os.path.join(self.out, 'loss_curve.png'))


class Checkpoints(Hook):
    """Every ``period`` steps and at the end, a checkpoint and then meta.json."""

    ROLE = 'write'

    def __init__(self, period, saver, out, meta):
        self.period, self.saver, self.out, self.meta = period, saver, out, meta

    def after_step(self, loop, values):
        if every(self.period, loop.step) or loop.finishing:
            checkpoints.save(loop.session, self.saver, self.out, loop.step, self.meta)


# When a Score hook scores and how much: every ``period`` steps, ``n`` samples from the noise
# stream ``seed``; with ``final``, also when the run ends in this phase (``last``, or out of
# time).
ScorePlan = collections.namedtuple('ScorePlan', ['period', 'n', 'seed', 'final', 'last'])


class Score(Hook):
    """The scores of fresh samples by ``scorer`` (zoo.scoring.Scorer: the Inception Score, and
    FID, KID, precision, recall, density, coverage against real statistics) as ``plan`` (a
    ScorePlan) says; with the plan's ``final``, at the end the Inception Score in the Ascend
    port's format, unless a signal (``signals``: Signals) asked the run to stop.
    ``samples``: zoo.generators.sample_op's (images, their noise placeholder, their classes or
    None)."""

    ROLE = 'write'

    def __init__(self, plan, samples, scorer, board, signals):
        self.plan, self.scorer, self.board, self.signals = plan, scorer, board, signals
        self.samples, self.noise, labels = samples
        self.labels = None if labels is None else np.resize(labels, plan.n)

    def after_step(self, loop, values):
        if every(self.plan.period, loop.step):
            results = self.score(loop)
            loop.say(scoring.progress_line(loop.step, self.plan.n, results['inception_score'],
                                           results['inception_std']))
            for line in self.real_comparison_lines(results):
                loop.say('  ' + line)

    def end(self, loop):
        ends_here = self.plan.last or loop.step < loop.end
        if self.plan.final and ends_here and not self.signals.signal:
            results = self.score(loop)
            loop.say(scoring.inception_line(self.plan.n, results['inception_score'],
                                            results['inception_std']))
            for line in self.real_comparison_lines(results):
                loop.say(line)
        self.scorer.close()

    def real_comparison_lines(self, results):
        return scoring.real_comparison_lines(results) if 'fid' in results else []

    def score(self, loop):
        loop.progress.clear()
        rng = np.random.default_rng([self.plan.seed % 2 ** 32, loop.step])
        shape = self.noise.shape.as_list()
        generated = np.concatenate([loop.session.run(self.samples, {
            self.noise: rng.standard_normal(shape, np.float32)})
            for _ in range(-(-self.plan.n // shape[0]))])[:self.plan.n]
        results = self.scorer.score(generated, self.labels)
        self.board.scalars(loop.step, scoring.scalars(results))
        self.board.flush()
        return results


class SignalStop(Hook):
    """Stops after the step when SIGTERM or SIGINT arrived (``signals``:
    Signals)."""

    ROLE = 'stop'

    def __init__(self, signals):
        self.signals = signals

    def stop(self, loop, reason):
        return reason or ('signal {}'.format(self.signals.signal) if self.signals.signal
                          else None)


class Budget(object):
    """MAX_MINUTES of training, counted from the start of the run's first loop (so neither
    loading data nor building the first graph), through its later phases."""

    def __init__(self, minutes):
        self.seconds, self.start = 60. * minutes, None

    def begin(self):
        if self.start is None:
            self.start = time.time()

    def spent(self):
        return self.start is not None and time.time() - self.start > self.seconds


class Deadline(Hook):
    """Stops after the step once the run's ``Budget`` is spent."""

    ROLE = 'stop'

    def __init__(self, budget):
        self.budget = budget

    def begin(self, loop):
        self.budget.begin()

    def stop(self, loop, reason):
        return reason or ('MAX_MINUTES' if self.budget.spent() else None)


class StopVote(Hook):
    """Data-parallel ranks stop together: rank 0's wish, broadcast every step, decides for all
    (a rank that stopped alone would leave the others waiting in a collective)."""

    ROLE = 'vote'

    def __init__(self, vote):
        self.wish, self.decision = vote

    def stop(self, loop, reason):
        halt = loop.session.run(self.decision, {self.wish: int(bool(reason))})
        return (reason or 'rank 0 stopped') if halt else None
