"""The documentation tells the truth about the code: every command in
README.md and docs/, run from the repository root (the pages' one
convention; a "cd" in a block holds for the rest of it), names a script
that exists there and flags that script accepts, and every link between
the pages lands on a page and a heading.

A renamed script or flag then fails here, not in a user's terminal. The
flags are read from each script's own argparse parser (its main() is
stopped at its first parse, so nothing trains or reads data).
"""

import argparse
import glob
import importlib
import importlib.util
import os
import re
import shlex
import sys
from unittest import mock

import pytest

from conftest import REPO

PAGES = [os.path.join(REPO, 'README.md')] + sorted(
    glob.glob(os.path.join(REPO, 'docs', '*.md')))
# Console scripts (setup.py) and the modules they run.
CONSOLE_SCRIPTS = {
    'cifar10-train': 'cifar10_train.py', 'cifar10-eval': 'cifar10_eval.py',
    'cifar10-multi-gpu-train': 'cifar10_multi_gpu_train.py',
    'cifar10-distributed-train': 'cifar10_distributed_train.py',
    'cifar10-predict': 'cifar10_predict.py', 'cifar10-export': 'cifar10_export.py',
    'cifar10-convert-images': 'cifar10_convert_images.py',
}
# The one script that passes the arguments after "--" on to another.
PASSES_ON = {'scripts/run_local_cluster.py': 'cifar10/cifar10_distributed_train.py'}


def _page_name(path):
    return os.path.relpath(path, REPO)


def _blocks(text):
    """The command lines of a page, block by block: each indented or fenced
    code block is a list (a "cd" in it holds for the lines after it), and
    each inline code span that starts with python is a block of its own.
    A transcript's "$ " prompt is dropped; only lines that run something
    are kept."""
    blocks, current, fenced = [], [], False
    for line in text.splitlines() + ['']:
        if line.startswith('```'):
            fenced = not fenced
            if current:
                blocks.append(current)
            current = []
            continue
        if fenced or line.startswith('    '):
            current.append(line.strip())
        elif current and not line.strip() and not fenced:
            continue  # a blank line inside an indented block
        else:
            if current:
                blocks.append(current)
            current = []
    blocks += [[span] for span in re.findall(
        r'`((?:\.venv/bin/)?python3? [^`]+|cifar10-[a-z-]+ [^`]*)`', text)]
    runs = re.compile(r'(\S*python3?|cifar10-[a-z-]+|env |[A-Z_]+=|cd |nice |time )')
    return [[c[2:] if c.startswith('$ ') else c for c in block
             if runs.match(c[2:] if c.startswith('$ ') else c)] for block in blocks]


def _commands(text):
    """Every command line of a page (see _blocks)."""
    return [command for block in _blocks(text) for command in block]


def _invocations(command, folder=''):
    """(script path relative to the repository, its arguments) for each
    program of ours a command line runs from ``folder`` (relative to the
    repository root, where every block starts), and the folder it ends in.

    A script path is taken as the shell would take it, from the folder the
    command runs in: "python cifar10_train.py" from the root names
    ./cifar10_train.py, which is not there.
    """
    command = command.split('  #')[0]
    try:
        words = shlex.split(command, comments=True)
    except ValueError:  # an unbalanced quote in a shortened example
        words = command.split()
    runs, current = [], []
    for word in words + ['&&']:
        if word in ('&&', '||', ';', '|'):
            runs.append(current)
            current = []
        else:
            current.append(word)
    found = []
    for words in runs:
        while words and (re.match(r'[A-Z_]+=', words[0]) or words[0] in ('env', 'nice',
                                                                         'time')):
            words = words[1:]
        if not words:
            continue
        if words[0] == 'cd' and len(words) == 2:
            folder = os.path.normpath(os.path.join(folder, words[1]))
            continue
        if words[0] in CONSOLE_SCRIPTS:
            found.append(('cifar10/' + CONSOLE_SCRIPTS[words[0]], words[1:]))
            continue
        if not re.search(r'python3?$', words[0]):
            continue
        args = words[1:]
        if args[:1] == ['-m'] and len(args) > 1:
            module = args[1]
            if module.startswith('cifar10.'):
                found.append(('cifar10/' + module.split('.', 1)[1] + '.py', args[2:]))
            continue
        if not args or not args[0].endswith('.py'):
            continue
        found.append((os.path.normpath(os.path.join(folder, args[0])), args[1:]))
    return found, folder


class _Parsed(Exception):
    pass


def _parser_of(script):
    """The argparse parser a script's main() builds."""
    path = os.path.join(REPO, script)
    seen = []

    def stop(self, args=None, namespace=None):
        seen.append(self)
        raise _Parsed()

    saved_path, saved_env = list(sys.path), dict(os.environ)
    try:
        if script.startswith('cifar10/'):
            module = importlib.import_module('cifar10.' + os.path.basename(script)[:-3])
        else:
            # As when it runs as a file: its folder first on sys.path, for
            # the scripts that import their neighbours.
            sys.path.insert(0, os.path.dirname(path))
            spec = importlib.util.spec_from_file_location(
                '_docs_' + os.path.basename(script)[:-3], path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        with mock.patch.object(argparse.ArgumentParser, 'parse_known_args', stop):
            with pytest.raises(_Parsed):
                module.main(['--help'])
    finally:
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)
    return seen[0]


_PARSERS = {}


def _options(script):
    if script not in _PARSERS:
        _PARSERS[script] = set(_parser_of(script)._option_string_actions)
    return _PARSERS[script]


def _documented():
    """[(page, command, script, arguments)] over every page, each block's
    commands run from the repository root (the pages' one convention)."""
    out = []
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            text = f.read()
        for block in _blocks(text):
            folder = ''
            for command in block:
                found, folder = _invocations(command, folder)
                out += [(_page_name(page), command, script, args)
                        for script, args in found]
    return out


def _flag_problems(script, args):
    """What is wrong with a documented invocation: a script that is not
    there, or flags it does not take."""
    if script.startswith('..'):
        return [f'{script} is outside the repository']
    if not os.path.isfile(os.path.join(REPO, script)):
        return [f'{script} does not exist (commands run from the repository root)']
    problems = []
    if '--' in args and script in PASSES_ON:
        cut = args.index('--')
        problems += _flag_problems(PASSES_ON[script], args[cut + 1:])
        args = args[:cut]
    options = _options(script)
    for arg in args:
        if not arg.startswith('--') or arg == '--':
            continue
        flag = arg.split('=', 1)[0]
        if flag not in options:
            problems.append(f'{script} has no flag {flag}')
    return problems


def test_the_pages_document_commands():
    documented = _documented()
    scripts = {script for _, _, script, _ in documented}
    # Every script and the main ones from several pages.
    assert {'cifar10/cifar10_train.py', 'cifar10/cifar10_eval.py',
            'cifar10/cifar10_multi_gpu_train.py', 'cifar10/cifar10_distributed_train.py',
            'cifar10/cifar10_convert_images.py', 'cifar10/cifar10_predict.py',
            'cifar10/cifar10_export.py', 'scripts/benchmark.py',
            'scripts/run_local_cluster.py', 'scripts/reference_eval.py'} <= scripts
    pages = {page for page, *_ in documented}
    assert {'README.md', 'docs/training.md', 'docs/distributed.md',
            'docs/own-images.md'} <= pages


def test_every_documented_command_names_real_scripts_and_flags():
    problems = []
    for page, command, script, args in _documented():
        problems += [f'{page}: {command}: {p}' for p in _flag_problems(script, args)]
    assert problems == []


def test_the_check_catches_a_renamed_flag_or_script():
    assert _invocations('cd cifar10 && python cifar10_train.py --max_steps=5  # note') == (
        [('cifar10/cifar10_train.py', ['--max_steps=5'])], 'cifar10')
    # From the root, where every block starts, a script is found by its path.
    assert _invocations('python cifar10_train.py') == ([('cifar10_train.py', [])], '')
    assert _flag_problems('cifar10_train.py', []) == [
        'cifar10_train.py does not exist (commands run from the repository root)']
    assert _invocations('python ../scripts/benchmark.py', 'cifar10') == (
        [('scripts/benchmark.py', [])], 'cifar10')
    assert _flag_problems('../shared/x.py', []) == ['../shared/x.py is outside the repository']
    # A "cd" holds for the rest of its block.
    assert _blocks('Run:\n\n    cd cifar10\n    python cifar10_eval.py\n\nthen `python x.py`.') == [
        ['cd cifar10', 'python cifar10_eval.py'], ['python x.py']]
    assert _flag_problems('cifar10/cifar10_train.py', ['--max_step=5']) == [
        'cifar10/cifar10_train.py has no flag --max_step']
    assert _flag_problems('cifar10/cifar10_train.py', ['--nolog_device_placement']) == []
    assert _flag_problems('scripts/run_local_cluster.py',
                          ['--num_workers=2', '--', '--max_steps=9', '--num_steps=1']) == [
        'cifar10/cifar10_distributed_train.py has no flag --num_steps']
    assert _flag_problems('scripts/no_such.py', []) == [
        'scripts/no_such.py does not exist (commands run from the repository root)']
    assert _invocations('TF_ENABLE_ONEDNN_OPTS=0 python -m cifar10.cifar10_eval --run_once'
                        ' | tail') == ([('cifar10/cifar10_eval.py', ['--run_once'])], '')


def _slug(heading):
    """GitHub's anchor for a heading."""
    text = heading.strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def test_links_between_pages_land_on_a_page_and_a_heading():
    problems, links = [], 0
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            text = f.read()
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if re.match(r'[a-z]+:', target):
                continue  # a web address
            links += 1
            path, _, anchor = target.partition('#')
            path = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(path):
                problems.append(f'{_page_name(page)}: {target}: no such file')
                continue
            if anchor:
                with open(path, encoding='utf-8') as f:
                    slugs = {_slug(line.lstrip('#')) for line in f if line.startswith('#')}
                if anchor not in slugs:
                    problems.append(f'{_page_name(page)}: {target}: no such heading')
    assert links > 40 and problems == []


def test_readme_is_a_front_page():
    with open(PAGES[0], encoding='utf-8') as f:
        lines = f.read().splitlines()
    assert len(lines) <= 200
    # Every page under docs/ is linked from it.
    text = '\n'.join(lines)
    for page in PAGES[1:]:
        assert f'({_page_name(page)})' in text, page


# Words from inside the project's own development, which a user cannot
# follow: the development machines' shared folder, its specification and
# issue numbers, its tools, and phrases of its notes.
DEVELOPMENT_WORDS = [
    r'\.\./shared', r'shared/cifar10-jpeg', r'\bSPEC\b', r'\b[Ii]ssues? #?\d+',
    r'farm-bench', r'farm-studio', r'duplicates --change', r"\bthe book(?:'s)?\b",
    r'\bthe team\b', r'machines? of this project', r'this work was planned',
    r'\bwas asked for\b',
]


def _development_words(text):
    return sorted({m.group(0) for pattern in DEVELOPMENT_WORDS
                   for m in re.finditer(pattern, text)})


def test_no_development_words_in_the_pages_or_the_help():
    problems = []
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            found = _development_words(f.read())
        problems += [f'{_page_name(page)}: {word!r}' for word in found]
    for script in sorted({script for _, _, script, _ in _documented()
                          if os.path.isfile(os.path.join(REPO, script))}):
        found = _development_words(_parser_of(script).format_help())
        problems += [f'{script} --help: {word!r}' for word in found]
    assert problems == []
    # The check sees them.
    assert _development_words('see SPEC and issue 26 in ../shared/x') == [
        '../shared', 'SPEC', 'issue 26']


def _made_here(commands):
    """The folders a page's commands train into or convert to."""
    made = {'/tmp/cifar10_train'}  # every trainer's default --train_dir
    for command in commands:
        made.update(re.findall(r'--(?:train_dir|out)[= ](\S+)', command))
    return {folder.rstrip('/') for folder in made}


def test_every_checkpoint_an_example_reads_is_made_on_its_page():
    problems = []
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            commands = _commands(f.read())
        made = _made_here(commands)
        for command in commands:
            for flag, folder in re.findall(
                    r'--(checkpoint_dir|fine_tune_from)[= ](/tmp/\S+)', command):
                if folder.rstrip('/') not in made:
                    problems.append(f'{_page_name(page)}: {command}: --{flag} {folder} '
                                    'is made by no command on the page')
    assert problems == []
