"""Writes that never leave a half-written file: write beside, then rename."""
import json
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``;
    ``path`` is untouched when that fails (an OSError naming it: a full disk, say)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
    except OSError as error:
        raise OSError(error.errno, error.strerror, path)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException as error:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(error, OSError):
            raise OSError(error.errno, error.strerror, path)
        raise


def write_json(path, obj):
    text = json.dumps(obj, indent=2, sort_keys=True) + '\n'
    write_atomic(path, lambda f: f.write(text.encode('utf-8')))


def read_json(path):
    with open(path) as f:
        return json.load(f)
