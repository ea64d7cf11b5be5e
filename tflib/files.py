"""Writes that never leave a half-written file: write beside, then rename; several outputs
written together land only once all are written (an error before then leaves every path as it
was)."""
import json
import os
import shutil
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _named(error, path):
    """An OSError naming ``path`` (and saying what happened when it has no errno)."""
    return OSError(error.errno, error.strerror or str(error), path)


def writable(path, kind='file'):
    """Check an output ``path`` before any work is done: make its missing parent folders and
    refuse (an OSError naming it) a file where a folder stands, or a folder where a file
    stands, or a parent that cannot be written."""
    parent = os.path.dirname(os.path.abspath(path))
    try:
        if not os.path.isdir(parent):
            os.makedirs(parent)
    except OSError as error:
        raise _named(error, path)
    if kind == 'file' and os.path.isdir(path):
        raise OSError(None, 'is a folder; give a file name', path)
    if kind == 'folder' and os.path.lexists(path) and not os.path.isdir(path):
        raise OSError(None, 'exists and is not a folder', path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OSError(None, 'cannot write in its folder {}'.format(parent), path)


def distinct(outputs):
    """Refuse (an OSError naming the path) two outputs at one path, or an output inside another
    unless that one is a folder outputs are added to: landing one would destroy the other.
    ``outputs``: (flag, path, kind) triples, kind 'file', 'folder' (replaced whole) or 'into'
    (a folder files are added to); a None path is left out."""
    given = [(flag, path, os.path.realpath(path), kind) for flag, path, kind in outputs if path]
    for flag, path, real, _ in given:
        for other, _, other_real, other_kind in given:
            if other == flag:
                continue
            if real == other_real:
                raise OSError(None, 'is both {} and {}; each output needs its own '
                              'place'.format(flag, other), path)
            if real.startswith(other_real.rstrip(os.sep) + os.sep) and other_kind != 'into':
                raise OSError(None, '{} is inside {}, {}; each output needs its own '
                              'place'.format(flag, other, 'a file' if other_kind == 'file'
                                             else 'which is replaced whole'), path)


class Together(object):
    """Outputs staged beside their paths and renamed into place when the ``with`` block ends
    without an error; an error in the block leaves every path as it was (no new file, the old
    ones kept), a failed rename the outputs renamed before it, and no temporary.

        with files.Together() as out:
            out.file('G.pb', lambda f: f.write(data))
            out.folder('serving/1', write_saved_model)   # write(tmp_dir)
    """

    def __init__(self):
        self._staged = []  # (temporary path, final path)

    def __enter__(self):
        return self

    def file(self, path, write):
        """Call ``write(file)`` on a new file beside ``path``; returns its temporary path."""
        directory = os.path.dirname(os.path.abspath(path))
        try:
            fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
        except OSError as error:
            raise _named(error, path)
        self._staged.append((tmp, path))
        try:
            with os.fdopen(fd, 'wb') as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private: the usual mode
        except OSError as error:
            raise _named(error, path)
        return tmp

    def folder(self, path, write):
        """Call ``write(tmp)`` on a new empty folder beside ``path`` (the target of a symbolic
        link; missing parents are made); returns it."""
        path = os.path.realpath(path)
        writable(path, 'folder')
        try:
            tmp = tempfile.mkdtemp(prefix='.' + os.path.basename(path) + '.',
                                   dir=os.path.dirname(path))
            os.chmod(tmp, 0o777 & ~_umask())
        except OSError as error:
            raise _named(error, path)
        self._staged.append((tmp, path))
        write(tmp)
        return tmp

    def __exit__(self, kind, error, traceback):
        landed = 0
        try:
            if kind is None:
                for tmp, path in self._staged:
                    _rename_into_place(tmp, path)
                    landed += 1
        finally:  # after an error (one of the renames', too) no temporary is left
            for tmp, _ in self._staged[landed:]:
                try:
                    _remove(tmp)
                except OSError:
                    pass  # the error that matters is the one being raised
        return False


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def _rename_into_place(tmp, path):
    """A file replaces ``path`` at once; a folder replaces one only once it is in place:
    between the two renames the old folder sits beside, in ``.NAME.old.*/replaced``, and
    stays there if the swap cannot be undone."""
    old = None
    try:
        if os.path.isdir(tmp) and os.path.lexists(path):
            old = tempfile.mkdtemp(prefix='.' + os.path.basename(path) + '.old.',
                                   dir=os.path.dirname(path))
            os.rename(path, os.path.join(old, 'replaced'))
        os.replace(tmp, path)
    except OSError as error:
        _remove(tmp)
        if old is not None and not os.path.lexists(path):
            os.rename(os.path.join(old, 'replaced'), path)
        raise _named(error, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_atomic(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``;
    ``path`` is untouched when that fails (an OSError naming it: a full disk, say)."""
    with Together() as out:
        out.file(path, write)


def write_json(path, obj):
    text = json.dumps(obj, indent=2, sort_keys=True) + '\n'
    write_atomic(path, lambda f: f.write(text.encode('utf-8')))


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_dir_atomic(path, write):
    """Call ``write(tmp)`` on a new empty folder next to ``path``, then put it at ``path``,
    replacing what was there only once the new one is complete; ``path`` is untouched when
    ``write`` fails. Missing parent folders are made."""
    with Together() as out:
        out.folder(path, write)
