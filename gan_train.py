"""Train, resume and fine-tune the zoo's GANs.

    python gan_train.py                                  # the quickstart: a few minutes on a CPU
    python gan_train.py --preset transfer_gan_cifar10 --data_path ./dataset --output_path ./output
    python gan_train.py --preset NAME --KEY VALUE ...    # any setting; --help lists them

A rerun with the same --output_path resumes from its latest checkpoint. --finetune_from CKPT
starts a new run from another run's (or the authors') model weights.
"""
import sys

from tflib import cli
from tflib.compat import tf
from zoo import reports, settings, training

PROGRAM = 'gan_train.py'


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    debug = settings.wants_debug(argv)
    if '--help' in argv or '-h' in argv:
        return cli.guarded(PROGRAM, lambda: print('{}\n{}'.format(
            __doc__, settings.help_text(argv))), training.USER_ERRORS, debug)
    return cli.guarded(PROGRAM, lambda: training.train(argv),
                       training.USER_ERRORS + (tf.errors.OpError,), debug,
                       reports.error_message)


if __name__ == '__main__':
    sys.exit(main())
