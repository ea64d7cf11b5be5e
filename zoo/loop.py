"""The training loop: generator iterations, and hooks for everything else.

Each concern of a run (log lines, checkpoints, grids, scores, the finiteness guard, stopping)
is a ``Hook``; the loop only trains and calls them, in the order of their roles, so a new
concern is a new hook.
"""
import types

from tflib import logs
from tflib.config import ConfigError


# The order hooks act in, each step and at the ends, by role: the log line first (it shows the
# step that a gate may then stop on); the gates, which raise before anything is written from
# broken weights; the writers (grids, checkpoints, scores); the stops; last, the data-parallel
# vote, which decides from the others' stop reasons for every rank.
ROLES = ('log', 'gate', 'write', 'stop', 'vote')


class Hook(object):
    """One concern of the training loop, with its ``ROLE`` (one of ROLES), which places it
    among the others. Every method is optional."""
    ROLE = 'write'

    def begin(self, loop):
        """Before the first iteration (the session holds the restored state)."""

    def wants_metrics(self, loop, step):
        """Whether the iterations ending at ``step`` should fetch the logged metrics."""
        return False

    def stop(self, loop, reason):
        """The reason to stop after this step, or None: ``reason`` is the earlier hooks'."""
        return reason

    def after_step(self, loop, values):
        """After the iterations up to ``loop.step``; ``values``: their metrics (read-only), if
        fetched."""

    def end(self, loop):
        """After the last iteration, whether the phase finished or stopped."""


class Loop(object):
    """Trains a phase's graph in ``session`` from its global step to ``end``."""

    def __init__(self, session, gan, end, total, fused=True, iterations_per_loop=1,
                 loop_op=None, hooks=()):
        self.session, self.gan, self.end, self.total = session, gan, end, total
        self.fused, self.loops, self.loop_op = fused, iterations_per_loop, loop_op
        unknown = [type(hook).__name__ for hook in hooks if hook.ROLE not in ROLES]
        if unknown:
            raise TypeError('hooks {} have a ROLE outside {}'.format(unknown, ROLES))
        self.hooks = sorted(hooks, key=lambda hook: ROLES.index(hook.ROLE))
        self.step = int(session.run(gan.step))
        self.finishing, self.stopped = False, None
        self.progress = logs.Progress(total, self.step)

    def say(self, text):
        """Print a line around the progress bar."""
        self.progress.clear()
        print(text, flush=True)

    def run(self):
        """Train until ``end`` or until a hook stops the run; returns the step reached."""
        for hook in self.hooks:
            hook.begin(self)
        while self.step < self.end:
            done = self.step + self.loops
            fetch = any([hook.wants_metrics(self, done) for hook in self.hooks])
            values = self.train(self.loops, fetch)
            reason = None
            for hook in self.hooks:
                reason = hook.stop(self, reason)
            self.stopped, self.finishing = reason, self.step == self.end or bool(reason)
            values = types.MappingProxyType(values) if fetch else None
            for hook in self.hooks:
                hook.after_step(self, values)
            self.progress.update(self.step)
            if reason:
                self.say('stopped at step {} ({}); rerun the same command to resume'.format(
                    self.step, reason))
                break
        self.progress.clear()
        for hook in self.hooks:
            hook.end(self)
        return self.step

    def train(self, iterations, fetch_metrics):
        """``iterations`` generator iterations: one session call of the NPU's loop op where
        there is one (``loop_op``), else one iteration at a time; the metrics of the last."""
        if self.loop_op is not None:
            self.step += iterations
            return self.session.run([self.loop_op, self.gan.train_metrics if fetch_metrics
                                     else {}])[1]
        for done in range(1, iterations + 1):
            values = self.train_step(fetch_metrics and done == iterations)
        return values

    def train_step(self, fetch_metrics):
        """One generator iteration: its critic steps, then the generator step. Fused, one
        session call per pipeline element (one, unless the iteration has more critic steps
        than an element holds); step by step, the element is fetched and fed back to each
        step's op."""
        run, gan = self.session.run, self.gan
        blocks = gan.critic_steps(self.step) // gan.fused_critic_steps
        self.step += 1
        if self.fused:
            for _ in range(blocks - 1):
                run(gan.critic_block_op)
            return run([gan.train_op, gan.train_metrics if fetch_metrics else {}])[1]
        for _ in range(blocks):
            feed = {gan.inputs[k]: v for k, v in run(gan.inputs).items()}
            for index in range(gan.fused_critic_steps):
                feed[gan.critic_index] = index
                values = run([gan.disc_train_op, gan.disc_metrics if fetch_metrics else {}],
                             feed)[1]
        values.update(run([gan.gen_train_op, gan.gen_metrics if fetch_metrics else {}], feed)[1])
        return values


def check_loops(run, step, schedule, dev, critic_steps):
    """Loops of K iterations fit the run: it starts, and its phases start and end, on a
    multiple of K; on an NPU, whose device loop repeats the fused op, every iteration also
    has the same critic steps."""
    loops = run['iterations_per_loop']
    if loops == 1:
        return
    if dev == 'npu' and not run['fused_step']:
        raise ConfigError('--iterations_per_loop {} repeats the fused step on the NPU; it '
                          'needs --fused_step true'.format(loops))
    if step % loops:
        raise ConfigError('--iterations_per_loop {}: the run resumes at step {}, not a multiple;'
                          ' pass a divisor of {}'.format(loops, step, step))
    for phase in schedule:
        if phase.start % loops or phase.end % loops:
            raise ConfigError('--iterations_per_loop {}: phase {} spans steps {} to {}; pass a '
                              'divisor of both'.format(loops, phase.name, phase.start, phase.end))
    if dev == 'npu' and len(set(critic_steps(s) for s in range(step, schedule[-1].end))) > 1:
        raise ConfigError('--iterations_per_loop {} on an NPU repeats one iteration, but this '
                          'model varies its critic steps per iteration (wgan: pass '
                          '--warmup_Diters equal to --Diters)'.format(loops))
