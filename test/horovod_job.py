"""gan_train.py under horovodrun, for test_distributed.py: each rank also leaves its variables
at the end of training in DUMP_DIR/rank<N>.npz, so the test can compare the ranks."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import gan_train  # noqa: E402
from zoo import loop  # noqa: E402

_run = loop.Loop.run


def run(self):
    step = _run(self)
    variables = self.session.graph.get_collection('variables')
    values = self.session.run(variables)
    rank = os.environ['HOROVOD_RANK']
    np.savez(os.path.join(os.environ['DUMP_DIR'], 'rank{}.npz'.format(rank)),
             **{v.op.name: value for v, value in zip(variables, values)})
    return step


loop.Loop.run = run
sys.exit(gan_train.main(sys.argv[1:]))
