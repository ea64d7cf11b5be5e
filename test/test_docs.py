"""README.md and docs/*.md: every file, link, preset and flag they name exists, and every
command is run by a test or benchmark, or says what this machine lacks to run it.

A fenced block is preceded by ``<!-- run by: FILE, ... -->`` (tests or benchmarks whose text
holds the program and each flag of a shell block's commands, or the page's path for a Python
block, which they run) or ``<!-- needs: WHAT -->``; a command quoted inline in the prose must
also stand in some block, whose marker covers it.
"""
import functools
import glob
import os
import re
import shlex
import subprocess
import sys

import pytest

import configs
from zoo import settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ['README.md'] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(
    os.path.join(ROOT, 'docs', '*.md')))
README_LIMIT = 12000  # bytes: a page a newcomer reads in five minutes
MARKER = re.compile(r'<!-- (run by|needs): (.+?) -->$')
FLAG = re.compile(r'--[A-Za-z][\w-]*')
SHELL = ('bash', 'sh', 'shell')
RUNNERS = re.compile(r'^(test/test_\w+\.py|bench/\w+\.py|\.ci/run)$')
REPO_DIRS = ('.ci', 'bench', 'configs', 'data', 'datasets', 'docs', 'models', 'test', 'tflib',
             'tools', 'zoo')
# Programs of other projects: their flags are theirs; the files they are given must exist.
EXTERNAL = ('pip', 'horovodrun', 'tensorflow_model_server', 'saved_model_cli', 'atc',
            'tensorboard')
COMMAND = re.compile(r'(python3?|bash|{}) '.format('|'.join(EXTERNAL)))


def read(doc):
    with open(os.path.join(ROOT, doc)) as f:
        return f.read()


def fences(doc):
    """(line number, language, marker kind, marker text, body lines) of each fenced block that
    names a language."""
    lines = read(doc).splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith('```'):
            end = lines.index('```', i + 1)
            marker = MARKER.match(lines[i - 1].strip()) if i else None
            if lines[i][3:].strip():
                found.append((i + 1, lines[i][3:].strip(), marker.group(1) if marker else None,
                              marker.group(2) if marker else None, lines[i + 1:end]))
            i = end
        i += 1
    return found


def blocks(doc):
    """(line number, marker kind, marker text, [commands]) of each shell block."""
    return [(line, kind, text, commands(body))
            for line, language, kind, text, body in fences(doc) if language in SHELL]


def python_blocks(doc):
    """The source of each Python block of ``doc`` (a path from the repository root)."""
    return ['\n'.join(body) for _, language, _, _, body in fences(doc) if language == 'python']


def prose(doc):
    return re.sub(r'```.*?```', '', read(doc), flags=re.S)


def commands(lines):
    """Shell lines joined at trailing backslashes, comments dropped, split into words."""
    text = '\n'.join(lines).replace('\\\n', ' ')
    return [shlex.split(line, comments=True) for line in text.splitlines()
            if shlex.split(line, comments=True)]


def spans(doc):
    """The inline code of the prose, whitespace made single spaces."""
    return [' '.join(span.split()) for span in re.findall(r'`([^`]+)`', prose(doc))]


def inline_commands(doc):
    return [span for span in spans(doc) if COMMAND.match(span)]


def program(words):
    """The command's program: a repository script or module path, or an external program's
    name; and the words after it."""
    words = [w for w in words if not re.match(r'^[A-Z_]+=', w)]  # VAR=value prefixes
    if words[0] in ('python', 'python3', 'bash'):
        if words[1] == '-m':
            module = words[2]
            path = module.replace('.', '/') + '.py'
            return (path if os.path.exists(os.path.join(ROOT, path)) else module), words[3:]
        return words[1], words[2:]
    if words[0] == 'horovodrun':
        at = [i for i, w in enumerate(words) if w in ('python', 'python3')][0]
        return program(words[at:])
    return words[0], words[1:]


def flags_of(words):
    return {FLAG.match(w).group() for w in words if FLAG.match(w)}


@functools.lru_cache()
def setting_flags():
    """Every gan_train.py setting of every preset's model, and the loop's own flags."""
    known = set()
    for preset in configs.names():
        known |= set(FLAG.findall(settings.help_text(['--preset', preset])))
    return frozenset(known | {'--help', '--debug'})


@functools.lru_cache()
def help_flags(path):
    """The flags a program's --help lists."""
    if path == 'gan_train.py':
        return setting_flags()
    if path.endswith('.sh'):
        run = ['bash', path, '--help']
    else:
        module = path.startswith('tools/')  # run as a module, from the root
        run = [sys.executable] + (['-m', path[:-3].replace('/', '.')] if module else
                                  [path]) + ['--help']
    out = subprocess.run(run, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, check=True).stdout
    known = set(FLAG.findall(out))
    if path in ('gan_eval.py', 'freeze_graph.py') or path.endswith('.sh'):
        known |= setting_flags()  # --KEY VALUE settings describe a checkpoint / a run
    return frozenset(known)


def mentions(text, word):
    """Whether ``text`` holds ``word`` (a program: its name, with or without .py) whole."""
    return any(re.search(r'(?<![\w-]){}(?![\w-])'.format(re.escape(w)), text)
               for w in (word, os.path.splitext(word)[0]))


def every_command():
    for doc in DOCS:
        for line, kind, text, words_list in blocks(doc):
            for words in words_list:
                yield doc, line, words


def test_the_readme_is_short():
    assert os.path.getsize(os.path.join(ROOT, 'README.md')) < README_LIMIT


def test_every_block_is_run_by_a_test_or_says_what_it_needs():
    problems = []
    for doc in DOCS:
        for line, language, kind, text, body in fences(doc):
            where = '{}:{}'.format(doc, line)
            if kind is None:
                problems.append('{}: no <!-- run by: ... --> or <!-- needs: ... --> above the '
                                'block'.format(where))
            elif kind == 'run by':
                runners = [name.strip() for name in text.split(',')]
                wrong = [r for r in runners if not RUNNERS.match(r) or
                         not os.path.isfile(os.path.join(ROOT, r))]
                if wrong:
                    problems.append('{}: {} is not a test, a benchmark or .ci/run'.format(
                        where, wrong[0]))
                    continue
                runner_text = ''.join(read(r) for r in runners)
                if language == 'python':
                    if not mentions(runner_text, doc):
                        problems.append('{}: {} do not run this page\'s Python'.format(
                            where, text))
                    continue
                for words in commands(body):
                    name, rest = program(words)
                    wanted = [os.path.basename(name)] + sorted(flags_of(rest))
                    absent = [w for w in wanted if not mentions(runner_text, w)]
                    if absent:
                        problems.append('{}: {} not in {}'.format(where, ', '.join(absent),
                                                                  text))
    assert not problems, '\n'.join(problems)


def test_inline_commands_stand_in_a_block():
    in_blocks = {' '.join(words) for _, _, words in every_command()}
    problems = ['{}: `{}`'.format(doc, command) for doc in DOCS
                for command in inline_commands(doc)
                if ' '.join(shlex.split(command, comments=True)) not in in_blocks]
    assert not problems, 'inline commands in no ```bash block:\n' + '\n'.join(problems)


@pytest.mark.slow
def test_every_program_preset_and_flag_exists():
    problems = []
    for doc, line, words in every_command():
        name, rest = program(words)
        presets = [rest[i + 1] for i, w in enumerate(rest[:-1]) if w == '--preset']
        problems += ['{}:{}: no preset {}'.format(doc, line, p) for p in presets
                     if p not in configs.names() and p != 'NAME']
        if name in EXTERNAL or name == 'pytest':
            paths = [w for w in rest if w.endswith('.txt') or w.startswith('test/')]
            problems += ['{}:{}: no such file {}'.format(doc, line, p) for p in paths
                         if not os.path.exists(os.path.join(ROOT, p))]
            continue
        if not os.path.isfile(os.path.join(ROOT, name)):
            problems.append('{}:{}: no such program {}'.format(doc, line, name))
            continue
        unknown = sorted(flags_of(rest) - help_flags(name))
        if unknown:
            problems.append('{}:{}: {} does not take {}'.format(doc, line, name,
                                                                ', '.join(unknown)))
    assert not problems, '\n'.join(problems)


PROGRAMS = ('gan_train.py', 'gan_eval.py', 'freeze_graph.py', 'modelarts_entry_acc.py',
            'test/train_full_1p.sh', 'test/train_full_8p.sh', 'test/train_performance_1p.sh',
            'tools/digit_classifier.py') + tuple(sorted(
                os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'bench', '*.py'))
                if os.path.basename(p) != 'machine.py'))


@pytest.mark.slow
def test_flags_named_in_the_prose_exist():
    """A flag quoted after a program's name (`gan_train.py --distributed hccl`) must be that
    program's; one quoted alone, some program's."""
    known = frozenset().union(*(help_flags(path) for path in PROGRAMS))
    problems = []
    for doc in DOCS:
        for span in spans(doc):
            if COMMAND.match(span):
                continue  # commands: checked with their program, or another project's
            first = span.split()[0]
            named = [p for p in PROGRAMS if p == first or os.path.basename(p) == first]
            takes = help_flags(named[0]) if named else known
            problems += ['{}: `{}`: {}'.format(doc, span, flag) for flag in FLAG.findall(span)
                         if flag not in takes]
    assert not problems, 'flags no program takes:\n' + '\n'.join(sorted(set(problems)))


def test_files_and_links_exist():
    problems = []
    for doc in DOCS:
        text = read(doc)
        folder = os.path.dirname(os.path.join(ROOT, doc))
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if re.match(r'https?:', target):
                continue
            path, _, anchor = target.partition('#')
            full = os.path.normpath(os.path.join(folder, path)) if path else \
                os.path.join(ROOT, doc)
            if not os.path.exists(full):
                problems.append('{}: link to {}: no such file'.format(doc, target))
            elif anchor and anchor not in anchors(full):
                problems.append('{}: link to {}: no such heading'.format(doc, target))
        for span in re.findall(r'`([^`\s]+)`', prose(doc)):
            if repo_path(span) and not glob.glob(os.path.join(ROOT, span.rstrip('/'))):
                problems.append('{}: `{}`: no such file'.format(doc, span))
    assert not problems, '\n'.join(problems)


# Files of the original authors' code and of the datasets, which the docs cite by name.
OTHER_FILES = ('gan_cifar_resnet.py', 'transfer_gan.py', 'main.py', 'parzen_ll.py',
               'list_eval_partition.txt')


def repo_path(span):
    """Whether an inline code span names a file of the repository: a path under one of its
    folders, or a program or requirements file at its root."""
    if '/' in span:
        return span.split('/')[0] in REPO_DIRS
    return bool(re.match(r'^[\w-]+\.(py|txt|sh)$', span)) and span not in OTHER_FILES


def anchors(path):
    """GitHub's heading anchors of a Markdown file (outside its fenced blocks)."""
    headings = [l.lstrip('#').strip() for l in prose(os.path.relpath(path, ROOT)).splitlines()
                if l.startswith('#')]
    return {re.sub(r'[^\w\- ]', '', h.lower()).replace(' ', '-') for h in headings}


@pytest.mark.slow
def test_the_layout_page_python_runs():
    """docs/layout.md's example builds the flagship's 64x64 AC-GAN networks as written."""
    source = python_blocks('docs/layout.md')[0] + '\nassert images.shape.as_list() == ' \
                                                  '[100, 64, 64, 3]\n'
    subprocess.run([sys.executable, '-c', source], cwd=ROOT, check=True)
