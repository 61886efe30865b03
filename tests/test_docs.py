"""The documentation tells the truth about the code: every command in
README.md and docs/ names a script that exists and flags that script
accepts, and every link between the pages lands on a page and a heading.

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


def _commands(text):
    """Command lines of a page: indented code lines and fenced code lines
    that run something, and inline code spans that start with python."""
    found = []
    fenced = False
    for line in text.splitlines():
        if line.startswith('```'):
            fenced = not fenced
            continue
        if fenced or line.startswith('    '):
            found.append(line.strip())
    found += re.findall(r'`((?:\.venv/bin/)?python3? [^`]+|cifar10-[a-z-]+ [^`]*)`', text)
    return [c for c in found
            if re.match(r'(\S*python3?|cifar10-[a-z-]+|env |[A-Z_]+=)', c)]


def _invocations(command):
    """(script path relative to the repository, its arguments) for each
    program of ours a command line runs."""
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
        script, rest = os.path.normpath(args[0]), args[1:]
        name = os.path.basename(script)
        if script.startswith('..' + os.sep) and not script.startswith(
                os.path.join('..', 'scripts')):
            continue  # outside the repository (the shared data script)
        if os.path.dirname(script) in ('', 'cifar10'):
            found.append(('cifar10/' + name, rest))
        else:
            found.append(('scripts/' + name, rest))
    return found


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
    """[(page, command, script, arguments)] over every page."""
    out = []
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            text = f.read()
        for command in _commands(text):
            for script, args in _invocations(command):
                out.append((_page_name(page), command, script, args))
    return out


def _flag_problems(script, args):
    """What is wrong with a documented invocation: a script that is not
    there, or flags it does not take."""
    if not os.path.isfile(os.path.join(REPO, script)):
        return [f'{script} does not exist']
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
    assert _invocations('cd cifar10 && python cifar10_train.py --max_steps=5  # note') == [
        ('cifar10/cifar10_train.py', ['--max_steps=5'])]
    assert _flag_problems('cifar10/cifar10_train.py', ['--max_step=5']) == [
        'cifar10/cifar10_train.py has no flag --max_step']
    assert _flag_problems('cifar10/cifar10_train.py', ['--nolog_device_placement']) == []
    assert _flag_problems('scripts/run_local_cluster.py',
                          ['--num_workers=2', '--', '--max_steps=9', '--num_steps=1']) == [
        'cifar10/cifar10_distributed_train.py has no flag --num_steps']
    assert _flag_problems('scripts/no_such.py', []) == ['scripts/no_such.py does not exist']
    assert _invocations('TF_ENABLE_ONEDNN_OPTS=0 python -m cifar10.cifar10_eval --run_once'
                        ' | tail') == [('cifar10/cifar10_eval.py', ['--run_once'])]


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
