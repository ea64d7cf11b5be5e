"""What the command-line programs share: user errors as one line, not a traceback."""
import sys


def one_line(error):
    """An error's message; a file error as ``PATH: what happened`` (no errno numbers)."""
    if isinstance(error, OSError) and error.filename and error.strerror:
        return '{}: {}'.format(error.filename, error.strerror)
    return str(error)


def guarded(program, body, errors, debug=False, message=one_line):
    """Run ``body()``; an error of the ``errors`` kinds prints ``program: error: ...`` on stderr
    and gives exit code 2 (``debug`` re-raises it, as does a ``message`` of None); else 0."""
    try:
        body()
    except errors as error:
        text = message(error)
        if debug or text is None:
            raise
        print('{}: error: {}'.format(program, text), file=sys.stderr)
        return 2
    return 0
