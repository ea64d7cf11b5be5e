"""The training loop's hooks (zoo/hooks.py) on a stand-in loop: when they act."""
import types

import numpy as np
import pytest

from conftest import new_session
from tflib import device, gan
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
