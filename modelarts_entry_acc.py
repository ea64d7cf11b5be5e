"""ModelArts entry: run test/train_full_1p.sh on --data_url, leave the results in --train_url.

ModelArts passes OBS locations; with moxing (present on ModelArts) the data is copied to local
disk first and the results back after, otherwise both are used as local paths. SIGTERM and
SIGINT (ModelArts stopping the job) go on to the script, which stops the training with a
checkpoint; the results are still copied back, and the exit code is the script's.
"""
import argparse
import os
import signal
import subprocess
import sys

CODE_DIR = os.path.dirname(os.path.abspath(__file__))
LOCAL_DATA, LOCAL_OUTPUT = '/cache/data', '/cache/output'


def run_forwarding_signals(command):
    """Run ``command``, passing SIGTERM and SIGINT on to it (one that comes before it has
    started is passed on once it has); its exit code, 128 + N when a signal N ended it."""
    started, pending = [], []

    def forward(signum, _frame):
        if started:
            started[0].send_signal(signum)
        else:
            pending.append(signum)

    stops = (signal.SIGTERM, signal.SIGINT)
    previous = [signal.signal(s, forward) for s in stops]
    try:
        started.append(subprocess.Popen(command, cwd=CODE_DIR))
        for signum in pending:
            started[0].send_signal(signum)
        code = started[0].wait()
    finally:
        for sig, handler in zip(stops, previous):
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='Any other argument (--train_steps=N, --batch_size=N, --preset=NAME, '
               '--KEY=VALUE) goes on to test/train_full_1p.sh; see its --help.')
    parser.add_argument('--data_url', default='/home/ma-user/modelarts/inputs/data_url_0',
                        help='the dataset: an OBS location (copied with moxing) or a local '
                             'folder (default: %(default)s)')
    parser.add_argument('--train_url', default='/home/ma-user/modelarts/outputs/train_url_0/',
                        help='where the results go: an OBS location or a local folder '
                             '(default: %(default)s)')
    args, extra = parser.parse_known_args(argv)
    try:
        import moxing as mox
    except ImportError:
        mox = None
    data, output = args.data_url, args.train_url
    if mox is not None:
        print('[CANN-Modelzoo] copying {} to {}'.format(args.data_url, LOCAL_DATA), flush=True)
        mox.file.copy_parallel(src_url=args.data_url, dst_url=LOCAL_DATA)
        data, output = LOCAL_DATA, LOCAL_OUTPUT
    elif not os.path.isdir(data):
        print('modelarts_entry_acc.py: error: --data_url {}: no such directory'.format(data),
              file=sys.stderr)
        return 2
    command = ['bash', os.path.join(CODE_DIR, 'test', 'train_full_1p.sh'),
               '--data_path=' + data, '--output_path=' + output] + extra
    print('[CANN-Modelzoo] ' + ' '.join(command), flush=True)
    status = run_forwarding_signals(command)
    if mox is not None:
        mox.file.copy_parallel(src_url=LOCAL_OUTPUT, dst_url=args.train_url)
    print('[CANN-Modelzoo] finished with exit code {}; results in {}'.format(
        status, args.train_url), flush=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
