"""The project's layering, read from the import statements of every module:

    tflib (no model, no file format) <- datasets, models, configs <- zoo <- the programs
    (gan_train.py, gan_eval.py, freeze_graph.py, modelarts_entry_acc.py, bench/, tools/)

A module imports only from lower layers and its own package, and no program imports another.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = {'tflib': 0, 'datasets': 1, 'models': 1, 'configs': 1, 'zoo': 2}
PROGRAM_LAYER = 3
SKIPPED = ('test', '.ci', 'docs', 'data', 'output')


def modules(root):
    """{module name: path} of the project's Python files (tests aside)."""
    found = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and d not in SKIPPED)
        for name in names:
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                parts = os.path.relpath(path, root)[:-3].split(os.sep)
                found['.'.join(parts[:-1] if parts[-1] == '__init__' else parts)] = path
    return found


def imported(path):
    """The module names a file imports (absolute imports; its own directory's siblings
    qualified by their package, as bench/'s scripts import bench/machine.py)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module] + ['{}.{}'.format(node.module, a.name) for a in node.names]
    return names


def layer_of(module, programs):
    top = module.split('.')[0]
    return PROGRAM_LAYER if module in programs or top in ('bench', 'tools') else LAYERS[top]


def violations(root):
    """Every import against the layering, as 'importer -> imported (why)'."""
    found = modules(root)
    programs = {m for m in found if '.' not in m and m not in LAYERS}
    problems = []
    for module, path in sorted(found.items()):
        package = module.split('.')[0]
        siblings = os.path.dirname(os.path.relpath(path, root)).replace(os.sep, '.')
        targets = set()
        for name in imported(path):
            local = '{}.{}'.format(siblings, name) if siblings else name
            if siblings and local in found:
                name = local
            if name in found or name.split('.')[0] in found:
                targets.add(name if name in found else name.split('.')[0])
        for target in sorted(targets):
            if target.split('.')[0] == package:
                continue
            low, high = layer_of(target, programs), layer_of(module, programs)
            if high == PROGRAM_LAYER and low == PROGRAM_LAYER:
                problems.append('{} -> {} (a program imports a program)'.format(module, target))
            elif low >= high:
                problems.append('{} -> {} (layer {} imports layer {})'.format(
                    module, target, high, low))
    return problems


def test_the_project_keeps_its_layers():
    problems = violations(ROOT)
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('files,problem', [
    ({'tflib/inference.py': 'import models\n', 'models/__init__.py': ''},
     'tflib.inference -> models (layer 0 imports layer 1)'),
    ({'tflib/metrics/digits.py': 'import datasets\n', 'datasets/__init__.py': ''},
     'tflib.metrics.digits -> datasets (layer 0 imports layer 1)'),
    ({'gan_train.py': 'import freeze_graph\n', 'freeze_graph.py': ''},
     'gan_train -> freeze_graph (a program imports a program)'),
    ({'bench/infer.py': 'import machine\nimport gan_train\n', 'bench/machine.py': '',
      'gan_train.py': ''}, 'bench.infer -> gan_train (a program imports a program)'),
    ({'zoo/export.py': 'from gan_eval import Sampler\n', 'gan_eval.py': ''},
     'zoo.export -> gan_eval (layer 2 imports layer 3)'),
])
def test_the_check_finds_what_it_guards_against(tmp_path, files, problem):
    """The layout before the zoo package had each of these."""
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert violations(str(tmp_path)) == [problem]
