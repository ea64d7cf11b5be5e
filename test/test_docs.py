"""README.md and docs/*.md: every file, link and flag they name exists, and every command is run
by a test or benchmark, or says what this machine lacks to run it.

A ```bash block is preceded by ``<!-- run by: FILE, ... -->`` (tests or benchmarks whose text
holds each flag of its commands) or ``<!-- needs: WHAT -->``; a command quoted inline in the
prose must also stand in some block, whose marker covers it.
"""
import functools
import glob
import os
import re
import shlex
import subprocess
import sys

import configs
from zoo import settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = ['README.md'] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(
    os.path.join(ROOT, 'docs', '*.md')))
MARKER = re.compile(r'<!-- (run by|needs): (.+?) -->$')
FLAG = re.compile(r'--[A-Za-z][\w-]*')
REPO_DIRS = sorted(d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)) and
                   d not in ('__pycache__', '.git', 'output'))
# Programs of other projects: their flags are theirs; the files they are given must exist.
EXTERNAL = ('pip', 'horovodrun', 'tensorflow_model_server', 'saved_model_cli', 'atc',
            'tensorboard')


def read(doc):
    with open(os.path.join(ROOT, doc)) as f:
        return f.read()


def blocks(doc):
    """(line number, marker kind, marker text, [commands]) of each ```bash block."""
    lines = read(doc).splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.strip() != '```bash':
            continue
        end = lines.index('```', i + 1)
        marker = MARKER.match(lines[i - 1].strip()) if i else None
        found.append((i + 1, marker.group(1) if marker else None,
                      marker.group(2) if marker else None, commands(lines[i + 1:end])))
    return found


def commands(lines):
    """Shell lines joined at trailing backslashes, comments dropped, split into words."""
    text = '\n'.join(lines).replace('\\\n', ' ')
    return [shlex.split(line, comments=True) for line in text.splitlines()
            if shlex.split(line, comments=True)]


def inline_commands(doc):
    text = re.sub(r'```.*?```', '', read(doc), flags=re.S)
    spans = (' '.join(span.split()) for span in re.findall(r'`([^`]+)`', text))
    return [span for span in spans if re.match(r'(python3?|bash|horovodrun) ', span)]


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


def test_every_bash_block_is_run_by_a_test_or_says_what_it_needs():
    problems = []
    for doc in DOCS:
        for line, kind, text, words_list in blocks(doc):
            where = '{}:{}'.format(doc, line)
            if kind is None:
                problems.append('{}: no <!-- run by: ... --> or <!-- needs: ... --> above the '
                                'block'.format(where))
            elif kind == 'run by':
                runners = [name.strip() for name in text.split(',')]
                missing = [r for r in runners if not os.path.isfile(os.path.join(ROOT, r))]
                if missing:
                    problems.append('{}: no such file {}'.format(where, missing[0]))
                    continue
                runner_text = ''.join(read(r) for r in runners)
                for words in words_list:
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


def test_every_program_and_flag_exists():
    problems = []
    for doc, line, words in every_command():
        name, rest = program(words)
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


def test_flags_named_in_the_prose_exist():
    known = set(setting_flags())
    for path in ('gan_eval.py', 'freeze_graph.py', 'test/train_full_1p.sh'):
        known |= help_flags(path)
    for path in sorted(glob.glob(os.path.join(ROOT, 'bench', '*.py'))):
        known |= help_flags(os.path.relpath(path, ROOT))
    known |= help_flags('tools/digit_classifier.py') | help_flags('modelarts_entry_acc.py')
    problems = []
    for doc in DOCS:
        text = re.sub(r'```.*?```', '', read(doc), flags=re.S)
        for span in re.findall(r'`([^`]+)`', text):
            if re.match(r'(python3?|bash|{}) '.format('|'.join(EXTERNAL)), span):
                continue  # commands: checked with their program, or another project's
            problems += ['{}: {}'.format(doc, flag) for flag in FLAG.findall(span)
                         if flag not in known]
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
        prose = re.sub(r'```.*?```', '', text, flags=re.S)
        for span in re.findall(r'`([^`\s]+)`', prose):
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
    """GitHub's heading anchors of a Markdown file."""
    with open(path) as f:
        headings = [l.lstrip('#').strip() for l in f if l.startswith('#')]
    return {re.sub(r'[^\w\- ]', '', h.lower()).replace(' ', '-') for h in headings}
