"""gan_train.py under horovodrun, for test_distributed.py: each rank also leaves its variables
at the end of training in DUMP_DIR/rank<N>.npz, so the test can compare the ranks."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import gan_train  # noqa: E402

_close = gan_train.Run.close


def close(run):
    variables = run.session.graph.get_collection('variables')
    values = run.session.run(variables)
    rank = os.environ['HOROVOD_RANK']
    np.savez(os.path.join(os.environ['DUMP_DIR'], 'rank{}.npz'.format(rank)),
             **{v.op.name: value for v, value in zip(variables, values)})
    _close(run)


gan_train.Run.close = close
sys.exit(gan_train.main(sys.argv[1:]))
