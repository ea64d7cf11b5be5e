"""The training loop's hooks (zoo/hooks.py) on a stand-in loop: when they act."""
import types

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
