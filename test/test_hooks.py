"""The training loop's hooks (zoo/hooks.py) on a stand-in loop: when they act."""
import time
import types

import numpy as np
import pytest

from conftest import new_session
from tflib import checkpoints, device, gan, logs
from tflib.compat import tf
from zoo import hooks


class Session(object):
    """Answers session.run with the next of ``answers``, recording the feeds."""

    def __init__(self, *answers):
        self.answers, self.feeds = list(answers), []

    def run(self, fetch, feed=None):
        self.feeds.append(feed)
        return self.answers.pop(0)


def loop_at(step, session, finishing=False):
    return types.SimpleNamespace(step=step, session=session, finishing=finishing,
                                 say=lambda text: None)


def test_the_stop_vote_decides_for_every_rank():
    """A rank's own reason (its signal, its deadline) does not stop it unless rank 0's vote
    does: a rank that stopped alone would leave the others in a collective."""
    vote = hooks.StopVote(('wish', 'decision'))
    session = Session(0, 1, 1)
    assert vote.stop(loop_at(5, session), 'signal 15') is None
    assert vote.stop(loop_at(6, session), None) == 'rank 0 stopped'
    assert vote.stop(loop_at(7, session), 'MAX_MINUTES') == 'MAX_MINUTES'
    assert [feed['wish'] for feed in session.feeds] == [1, 0, 1]


def test_the_finite_guard_checks_on_the_same_steps_on_every_rank():
    """On log steps, on multiples of the writers' periods and at the end; nowhere else."""
    guard = hooks.FiniteGuard('finite', (4, 6, 0), '/nonexistent')
    checked = []
    for step in range(1, 13):
        session = Session(True)
        guard.after_step(loop_at(step, session, finishing=step == 11),
                         {'loss': 1.} if step == 5 else None)
        checked += [step] if session.feeds else []
    assert checked == [4, 5, 6, 8, 11, 12]


@pytest.mark.parametrize('dev', ['npu', 'cpu'])
def test_the_weight_check_catches_saturated_values_on_an_npu(dev):
    """A 910 saturates an fp16 overflow at +-65504 instead of making it Inf: on an NPU such a
    weight counts as broken, like NaN and Inf; elsewhere only NaN and Inf do."""
    with new_session() as session:
        weights = tf.Variable(np.zeros(3, np.float32))
        finite = gan.all_finite([weights], device.weight_bound(dev))
        session.run(weights.initializer)
        for value, expected in ((65000., True), (-65504., dev != 'npu'), (1e30, dev != 'npu'),
                                (np.inf, False), (np.nan, False)):
            weights.load(np.array([0., value, 1.], np.float32), session)
            assert session.run(finite) == expected, value


class Board(object):
    """Records what a hook hands TensorBoard."""

    def __init__(self):
        self.scalar_steps, self.images = [], []

    def scalars(self, step, values):
        self.scalar_steps.append((step, sorted(values)))

    def image(self, step, tag, grid, png):
        self.images.append((step, tag, grid.shape))

    def flush(self):
        pass


def a_loop(step, session, end=10, finishing=False, stopped=None, critic_steps=1):
    said = []
    loop = types.SimpleNamespace(
        step=step, end=end, total=end, session=session, finishing=finishing, stopped=stopped,
        said=said, say=said.append, progress=types.SimpleNamespace(clear=lambda: None,
                                                                  eta=lambda step: 0.),
        gan=types.SimpleNamespace(critic_steps=lambda s: critic_steps, learning_rate='lr'))
    return loop


def test_the_log_counts_images_over_its_period_and_writes_history_and_board(tmp_path):
    """Metrics on log steps and at the end; the images of every critic step since the last
    line; a row and the scalars (with the learning rate) on rank 0."""
    history, board = logs.History(str(tmp_path / 'log.csv')), Board()
    log = hooks.Log(2, 4, history, board)
    loop = a_loop(0, Session(), critic_steps=5)
    log.begin(loop)
    assert [log.wants_metrics(loop, s) for s in (1, 2, 3, 10)] == [False, True, False, True]
    loop.step = 1
    log.after_step(loop, None)
    assert not loop.said and log.images == 20
    loop.step, loop.session = 2, Session(0.5)
    values = {'loss_d': 1.5}
    log.after_step(loop, values)
    assert values == {'loss_d': 1.5}  # the learning rate goes into the log's own copy
    assert len(loop.said) == 1 and loop.said[0].startswith('step: 2/10, ')
    assert [(row['step'], row['learning_rate']) for row in history.rows] == [(2, 0.5)]
    assert board.scalar_steps == [(2, ['learning_rate', 'loss_d'])]
    assert (log.steps, log.images) == (0, 0)


def test_a_stopped_run_gets_a_last_speed_line_only_after_unlogged_steps():
    log = hooks.Log(100, 4)
    loop = a_loop(0, Session())
    log.begin(loop)
    unlogged = a_loop(0, Session(), stopped='signal 15')
    log.end(unlogged)
    assert not unlogged.said
    loop.step = 3
    log.after_step(loop, None)
    loop.stopped = 'signal 15'
    log.end(loop)
    assert len(loop.said) == 1 and 'fps: ' in loop.said[0] and 'loss' not in loop.said[0]


def test_samples_write_a_grid_on_their_period_and_at_the_end(tmp_path):
    (tmp_path / 'samples').mkdir()
    history, board = logs.History(str(tmp_path / 'log.csv')), Board()
    samples = hooks.Samples(3, 'grid', str(tmp_path), history, board)
    for step in (1, 3, 4):
        samples.after_step(a_loop(step, Session(np.zeros((4, 8, 8, 1), np.float32))), None)
    history.add(5, {'loss_d': 1.})
    samples.after_step(a_loop(5, Session(np.zeros((4, 8, 8, 1), np.float32)),
                              finishing=True), None)
    assert sorted(p.name for p in (tmp_path / 'samples').iterdir()) == [
        'samples_000003.png', 'samples_000005.png']
    assert [image[:2] for image in board.images] == [(3, 'samples'), (5, 'samples')]
    assert (tmp_path / 'loss_curve.png').exists()


def test_checkpoints_on_their_period_and_at_the_end(tmp_path):
    with new_session() as session:
        weights = tf.Variable(np.zeros(2, np.float32))
        session.run(weights.initializer)
        hook = hooks.Checkpoints(4, tf.train.Saver(), str(tmp_path), {'model': 'stub'})
        saved = []
        for step in (1, 4, 5, 6):
            hook.after_step(a_loop(step, session, finishing=step == 6), None)
            meta = checkpoints.read_meta(str(tmp_path))
            saved.append(meta and meta['step'])
    assert saved == [None, 4, 4, 6] and meta['model'] == 'stub'


class Scorer(object):
    def __init__(self):
        self.scored, self.closed = [], False

    def score(self, generated, labels):
        self.scored.append((generated.shape[0], None if labels is None else list(labels)))
        return {'inception_score': 2., 'inception_std': .1}

    def close(self):
        self.closed = True


@pytest.mark.parametrize('signal', [None, 15])
def test_score_on_its_period_and_at_the_end_unless_signalled(signal):
    """n samples in batches of the noise placeholder's size, labels cycled to n; the final
    score only when the run ends in this phase and no signal stopped it."""
    noise = tf.placeholder(tf.float32, [4, 3])
    scorer, board = Scorer(), Board()
    plan = hooks.ScorePlan(period=5, n=10, seed=0, final=True, last=True)
    score = hooks.Score(plan, ('samples', noise, np.arange(4)), scorer, board,
                        types.SimpleNamespace(signal=signal))
    session = Session(*[np.zeros((4, 2, 2, 1), np.float32)] * 6)
    for step in (4, 5):
        score.after_step(a_loop(step, session), None)
    assert scorer.scored == [(10, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1])]
    assert [len(feed) for feed in session.feeds] == [1, 1, 1]
    assert [step for step, _ in board.scalar_steps] == [5]
    score.end(a_loop(10, session))
    assert len(scorer.scored) == (1 if signal else 2) and scorer.closed


def test_the_stops_keep_an_earlier_reason_and_give_their_own():
    signals = types.SimpleNamespace(signal=None)
    stop = hooks.SignalStop(signals)
    loop = a_loop(1, Session())
    assert stop.stop(loop, None) is None and stop.stop(loop, 'MAX_MINUTES') == 'MAX_MINUTES'
    signals.signal = 15
    assert stop.stop(loop, None) == 'signal 15'
    budget = hooks.Budget(1e-6)
    later = hooks.Deadline(budget)
    time.sleep(.01)
    assert later.stop(loop, None) is None  # the budget starts with the first loop
    later.begin(loop)
    time.sleep(.01)
    assert later.stop(loop, None) == 'MAX_MINUTES'
    assert later.stop(loop, 'signal 15') == 'signal 15'
    next_phase = hooks.Deadline(budget)  # a later phase's loop spends the same budget
    next_phase.begin(loop)
    assert next_phase.stop(loop, None) == 'MAX_MINUTES'
    roomy = hooks.Deadline(hooks.Budget(1.))
    roomy.begin(loop)
    assert roomy.stop(loop, None) is None
