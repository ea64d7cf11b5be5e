"""Writes that never leave a half-written file: write beside, then rename."""
import json
import os
import shutil
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _named(error, path):
    """An OSError that names ``path`` (and says what happened when it has no errno)."""
    return OSError(error.errno, error.strerror or str(error), path)


def write_atomic(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``;
    ``path`` is untouched when that fails (an OSError naming it: a full disk, say)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
    except OSError as error:
        raise _named(error, path)
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
            raise _named(error, path)
        raise


def write_json(path, obj):
    text = json.dumps(obj, indent=2, sort_keys=True) + '\n'
    write_atomic(path, lambda f: f.write(text.encode('utf-8')))


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_dir_atomic(path, write):
    """Call ``write(tmp)`` on a new empty directory next to ``path``, then put it at ``path``
    (the target of a symbolic link), replacing what was there only once the new one is
    complete; ``path`` is untouched when ``write`` fails. Missing parent directories are made.
    Between the two renames of a replacement the old directory sits beside, in
    ``.NAME.old.*/replaced``, and stays there if the swap cannot be undone."""
    path = os.path.realpath(path)
    parent = os.path.dirname(path)
    try:
        if not os.path.isdir(parent):
            os.makedirs(parent)
        tmp = tempfile.mkdtemp(prefix='.' + os.path.basename(path) + '.', dir=parent)
    except OSError as error:
        raise _named(error, path)
    old = None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        write(tmp)
        if os.path.lexists(path):
            old = tempfile.mkdtemp(prefix='.' + os.path.basename(path) + '.old.', dir=parent)
            os.rename(path, os.path.join(old, 'replaced'))
        os.rename(tmp, path)
    except BaseException as error:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
        if old is not None and not os.path.lexists(path):
            os.rename(os.path.join(old, 'replaced'), path)
        if isinstance(error, OSError):
            raise _named(error, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
