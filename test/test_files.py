"""tflib/files.py: outputs that land together or not at all, each at its own place."""
import os

import pytest

from tflib import files


def test_a_failed_rename_leaves_no_temporary(tmp_path, monkeypatch):
    """The first output lands, the second's rename fails: the error names it and neither its
    temporary nor the ones after it stay behind."""
    real = os.replace

    def replace(source, target):
        if target.endswith('b.txt'):
            raise OSError(28, 'No space left on device')
        real(source, target)
    monkeypatch.setattr(os, 'replace', replace)
    with pytest.raises(OSError) as error:
        with files.Together() as out:
            for name in ('a.txt', 'b.txt', 'c.txt'):
                out.file(str(tmp_path / name), lambda f: f.write(b'x'))
            out.folder(str(tmp_path / 'd'), lambda tmp: None)
    assert error.value.filename == str(tmp_path / 'b.txt')
    assert sorted(os.listdir(str(tmp_path))) == ['a.txt']


@pytest.mark.parametrize('outputs,refused', [
    ([('--a', 'x/G.pb', 'file'), ('--b', 'x/G.pb', 'file')], 'is both --a and --b'),
    ([('--a', 'x/G.pb', 'file'), ('--b', 'x/../x/G.pb', 'file')], 'is both --a and --b'),
    ([('--a', 'x/sm/G.pb', 'file'), ('--b', 'x/sm', 'folder')],
     '--a is inside --b, which is replaced whole'),
    ([('--a', 'x/sm', 'folder'), ('--b', 'x/sm/sub/G.pb', 'file')],
     '--b is inside --a, which is replaced whole'),
    ([('--a', 'x/G.pb', 'file'), ('--b', 'x/G.pb/G.onnx', 'file')], '--b is inside --a, a file'),
    ([('--a', 'x/out', 'into'), ('--b', 'x/out', 'folder')], 'is both --a and --b'),
    ([('--a', 'x/out', 'into'), ('--b', 'x/out/pngs', 'folder')], None),  # added to
    ([('--a', 'x/G.pb', 'file'), ('--b', 'x/G.onnx', 'file'), ('--c', None, 'folder')], None),
])
def test_each_output_has_its_own_place(tmp_path, outputs, refused):
    outputs = [(flag, path and str(tmp_path / path), kind) for flag, path, kind in outputs]
    if refused is None:
        files.distinct(outputs)
        return
    with pytest.raises(OSError) as error:
        files.distinct(outputs)
    assert refused in str(error.value)
