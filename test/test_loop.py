"""The training loop (zoo/loop.py) on a stand-in session: what it runs per iteration, how hooks
stop it, and the order they act in."""
import types

import pytest

from zoo.loop import ROLES, Hook, Loop


class Session(object):
    """Answers ``run`` like a session of ``gan_stub``'s graph, recording what it was asked:
    the step variable reads ``start``, every other tensor 1.0, ops None."""

    def __init__(self, start=0):
        self.start, self.calls = start, []

    def run(self, fetches, feed=None):
        self.calls.append((fetches, dict(feed) if feed else feed))
        return self.answer(fetches)

    def answer(self, fetch):
        if isinstance(fetch, list):
            return [self.answer(f) for f in fetch]
        if isinstance(fetch, dict):
            return {k: self.answer(v) for k, v in fetch.items()}
        if fetch == 'step':
            return self.start
        return 1.0 if fetch.endswith('_t') else None

    def ops(self):
        """The ops and tensors asked for, call by call, flattened to their names."""
        def names(fetch):
            if isinstance(fetch, list):
                return [n for f in fetch for n in names(f)]
            if isinstance(fetch, dict):
                return sorted(fetch.values())
            return [fetch]
        return [names(fetch) for fetch, _ in self.calls]


def gan_stub(critic_steps=1, fused_critic_steps=1):
    """A GANGraph's members as names: ops end in _op, tensors in _t."""
    return types.SimpleNamespace(
        step='step', train_op='train_op', critic_block_op='block_op',
        train_metrics={'loss': 'loss_t'}, critic_steps=lambda step: critic_steps,
        fused_critic_steps=fused_critic_steps, inputs={'images': 'images_t'},
        critic_index='index_t', disc_train_op='disc_op', disc_metrics={'loss_d': 'loss_d_t'},
        gen_train_op='gen_op', gen_metrics={'loss_g': 'loss_g_t'})


class Recorder(Hook):
    """Records its calls in ``log``; stops with ``reason`` at ``stop_at``."""

    def __init__(self, name, log, role='write', stop_at=None, reason='done', metrics_at=()):
        self.name, self.log, self.ROLE = name, log, role
        self.stop_at, self.reason, self.metrics_at = stop_at, reason, metrics_at

    def begin(self, loop):
        self.log.append((self.name, 'begin', loop.step))

    def wants_metrics(self, loop, step):
        return step in self.metrics_at

    def stop(self, loop, reason):
        if loop.step == self.stop_at:
            return reason or self.reason
        return reason

    def after_step(self, loop, values):
        self.log.append((self.name, 'after', loop.step, None if values is None else
                         dict(values)))

    def end(self, loop):
        self.log.append((self.name, 'end', loop.step, loop.stopped))


def test_one_call_per_iteration_with_metrics_only_when_a_hook_wants_them():
    session, log = Session(), []
    loop = Loop(session, gan_stub(), 3, 3, hooks=[Recorder('r', log, metrics_at=(2,))])
    assert loop.run() == 3
    assert session.ops()[1:] == [['train_op'], ['train_op', 'loss_t'], ['train_op']]
    assert [entry[3] for entry in log if entry[1] == 'after'] == [None, {'loss': 1.0}, None]
    assert log[-1] == ('r', 'end', 3, None)


def test_an_iteration_with_several_elements_runs_the_critic_blocks_first():
    """5 critic steps, 1 per pipeline element: 4 critic blocks, then the fused step."""
    session = Session()
    Loop(session, gan_stub(critic_steps=5), 1, 1).run()
    assert session.ops()[1:] == [['block_op']] * 4 + [['train_op']]


def test_step_by_step_feeds_each_element_to_its_critic_steps_then_the_generator():
    session = Session(start=4)
    loop = Loop(session, gan_stub(critic_steps=4, fused_critic_steps=2), 5, 5, fused=False,
                hooks=[Recorder('r', [], metrics_at=(5,))])
    loop.run()
    calls = session.calls[1:]
    assert [fetch if isinstance(fetch, dict) else fetch[0] for fetch, _ in calls] == [
        {'images': 'images_t'}, 'disc_op', 'disc_op', {'images': 'images_t'}, 'disc_op',
        'disc_op', 'gen_op']
    assert [feed['index_t'] for fetch, feed in calls
            if isinstance(fetch, list) and fetch[0] == 'disc_op'] == [0, 1, 0, 1]
    assert calls[-1][1] == {'images_t': 1.0, 'index_t': 1}  # the last element's feed


def test_a_device_loop_runs_k_iterations_per_call():
    session = Session()
    loop = Loop(session, gan_stub(critic_steps=5), 8, 8, iterations_per_loop=4,
                loop_op='loop_op', hooks=[Recorder('r', [], metrics_at=(8,))])
    assert loop.run() == 8
    assert session.ops()[1:] == [['loop_op'], ['loop_op', 'loss_t']]


def test_a_stop_ends_the_run_after_the_step_and_every_hook_sees_the_last_step():
    log = []
    loop = Loop(Session(start=2), gan_stub(), 10, 10, hooks=[
        Recorder('stopper', log, role='stop', stop_at=4, reason='signal 15'),
        Recorder('writer', log)])
    assert loop.run() == 4 and loop.stopped == 'signal 15' and loop.finishing
    assert log[-4:] == [('writer', 'after', 4, None), ('stopper', 'after', 4, None),
                        ('writer', 'end', 4, 'signal 15'), ('stopper', 'end', 4, 'signal 15')]


def test_hooks_act_in_the_order_of_their_roles_whatever_order_they_come_in():
    """The gate checks before anything is written; the vote sees every stop reason."""
    log, votes = [], []

    class Vote(Recorder):
        def stop(self, loop, reason):
            votes.append(reason)
            return reason

    hooks = [Vote('vote', log, role='vote'), Recorder('stop', log, role='stop', stop_at=1),
             Recorder('write', log), Recorder('gate', log, role='gate'),
             Recorder('log', log, role='log')]
    loop = Loop(Session(), gan_stub(), 1, 1, hooks=hooks)
    assert [hook.ROLE for hook in loop.hooks] == list(ROLES)
    loop.run()
    assert [entry[0] for entry in log if entry[1] == 'after'] == list(ROLES)
    assert votes == ['done']


def test_hooks_cannot_change_the_values_later_hooks_see():
    class Writer(Hook):
        def wants_metrics(self, loop, step):
            return True

        def after_step(self, loop, values):
            values['loss'] = 0.

    with pytest.raises(TypeError, match='does not support item assignment'):
        Loop(Session(), gan_stub(), 1, 1, hooks=[Writer()]).run()
