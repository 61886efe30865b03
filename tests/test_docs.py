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

from conftest import REPO, run_in_process

PAGES = [os.path.join(REPO, 'README.md')] + sorted(
    glob.glob(os.path.join(REPO, 'docs', '*.md')))
# The lesson's pages (tests/test_lesson.py runs their snippets and checks
# their output blocks).
LESSON_PAGES = {'docs/tutorial.md', *(os.path.relpath(p, REPO) for p in
                                      glob.glob(os.path.join(REPO, 'docs', 'lesson-[0-9]*.md')))}
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


def _blocks_in_context(text):
    """The command lines of a page, block by block, each with the prose a
    reader sees with it: [(lines, prose)].

    Each indented or fenced code block is a list of lines (a "cd" in it
    holds for the lines after it; a line ending in a backslash is joined
    with the next), its prose the paragraph right before it; each inline
    code span that starts with python is a block of its own, its prose the
    paragraph it stands in. A transcript's "$ " prompt is dropped; only
    lines that run something are kept.
    """
    found, current, fenced, before = [], [], False, ''
    paragraph, ended = [], False  # the last paragraph of prose, and whether it ended
    for line in text.splitlines() + ['']:
        if line.startswith('```'):
            fenced = not fenced
            if current:
                found.append((current, before))
            elif fenced:
                before = ' '.join(paragraph)
            current, paragraph, ended = [], [], False
            continue
        if fenced or line.startswith('    '):
            if not current and not fenced:
                before = ' '.join(paragraph)
            if current and current[-1].endswith('\\'):
                current[-1] = current[-1][:-1].rstrip() + ' ' + line.strip()
            else:
                current.append(line.strip())
        elif current and not line.strip() and not fenced:
            continue  # a blank line inside an indented block
        else:
            if current:
                found.append((current, before))
                paragraph = []
            current = []
            if line.strip():
                if ended:
                    paragraph, ended = [], False
                paragraph.append(line.strip())
            else:
                ended = True
    for prose in re.split(r'\n\s*\n', text):
        found += [([span], ' '.join(prose.split())) for span in re.findall(
            r'`((?:\.venv/bin/)?python3? [^`]+|cifar10-[a-z-]+ [^`]*)`', prose)]
    runs = re.compile(r'(\S*python3?|cifar10-[a-z-]+|env |[A-Z_]+=|cd |nice |time )')
    out = []
    for block, prose in found:
        lines = [c[2:] if c.startswith('$ ') else c for c in block]
        out.append(([c for c in lines if runs.match(c)], prose))
    return out


def _blocks(text):
    """The command lines of a page, block by block (see _blocks_in_context)."""
    return [lines for lines, _ in _blocks_in_context(text)]


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


# --- commands that run one after another without colliding ----------------------

# The trainers: a command of one with no --max_steps trains to the default,
# 1,000,000 steps (days on a CPU).
TRAINERS = ('cifar10/cifar10_train.py', 'cifar10/cifar10_multi_gpu_train.py',
            'cifar10/cifar10_distributed_train.py')
# README's first run trains into the trainers' default folder and evaluates
# into the evaluator's.
FIRST_RUN_TRAIN_DIR = '/tmp/cifar10_train'
FIRST_RUN_EVAL_DIR = '/tmp/cifar10_eval'
# What a page says, in the command's own comment or the paragraph before
# its block, for a command meant to run to the default or until stopped,
# and for one meant to carry on README's first run.
RUNS_ON = re.compile(r'1,000,000 steps|until (?:it is )?stopped|until Ctrl-C', re.I)
RESUMES_FIRST_RUN = re.compile(r'\bfirst run\b', re.I)
# Flags that change how often a run logs or saves, or where a cluster's
# task sits, not what it trains: two commands differing only in these (and
# --max_steps) carry on the same run.
SAME_RUN_FLAGS = ('--max_steps', '--log_frequency', '--save_checkpoint_steps',
                  '--save_checkpoint_secs', '--save_summaries_steps', '--trace_step',
                  '--job_name', '--task_index', '--ps_hosts', '--worker_hosts',
                  '--log_device_placement')
SAME_EVAL_FLAGS = ('--run_once', '--eval_interval_secs', '--concurrent_batches')


def _flag_value(args, flag, default=None):
    """The value of ``flag`` in a command's arguments (the last one given,
    as argparse takes it), in either form, "--flag=value" or "--flag value";
    ``default`` if it is not there."""
    value = default
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(flag + '='):
            value = arg.split('=', 1)[1]
    return value


def _flags_but(args, ignored):
    """A command's flags with their values, as a sorted tuple, leaving out
    ``ignored``: what decides what a run computes."""
    kept, i = [], 0
    while i < len(args):
        arg = args[i]
        flag, has_value, value = arg.partition('=')
        if (not has_value and flag.startswith('--') and i + 1 < len(args)
                and not args[i + 1].startswith('--')):
            value, i = args[i + 1], i + 1
        if flag not in ignored:
            kept.append((flag, value.rstrip('/')))
        i += 1
    return tuple(sorted(kept))


def _runs():
    """Every training and evaluation command on the pages, as
    (page, command, kind, script, arguments, what the page says with it),
    kind 'train' or 'eval'. A cluster launcher's command is a training
    command with the arguments it passes on (after "--")."""
    found = []
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            text = f.read()
        for block, prose in _blocks_in_context(text):
            folder = ''
            for command in block:
                comment = command.split('  #', 1)[1] if '  #' in command else ''
                invocations, folder = _invocations(command, folder)
                for script, args in invocations:
                    if '--help' in args or '-h' in args:
                        continue
                    if script in PASSES_ON and '--' in args:
                        script, args = PASSES_ON[script], args[args.index('--') + 1:]
                    kind = ('train' if script in TRAINERS else
                            'eval' if script == 'cifar10/cifar10_eval.py' else None)
                    if kind:
                        found.append((_page_name(page), command, kind, script, args,
                                      comment + ' ' + prose))
    return found


def _writes_into(kind, args):
    """The folder a training or evaluation command writes into."""
    if kind == 'train':
        return _flag_value(args, '--train_dir', FIRST_RUN_TRAIN_DIR).rstrip('/')
    default = FIRST_RUN_EVAL_DIR
    if _flag_value(args, '--dataset', 'cifar10') != 'cifar10':
        # Any other data set's results go beside its checkpoints.
        default = _flag_value(args, '--checkpoint_dir', FIRST_RUN_TRAIN_DIR).rstrip('/') + '_eval'
    return _flag_value(args, '--eval_dir', default).rstrip('/')


def _collisions(runs):
    """What would go wrong running the pages' commands as written, twice in
    a row and one page's after another's (see the test below)."""
    problems = []
    first_run = [args for page, _, kind, script, args, _ in runs
                 if page == 'README.md' and kind == 'train'
                 and _writes_into(kind, args) == FIRST_RUN_TRAIN_DIR][:1]
    first_run = _flags_but(first_run[0], SAME_RUN_FLAGS) if first_run else ()
    by_folder = {}
    for page, command, kind, script, args, said in runs:
        where = f'{page}: {command}'
        folder = _writes_into(kind, args)
        if kind == 'train':
            if not _flag_value(args, '--max_steps') and not RUNS_ON.search(said):
                problems.append(f'{where}: no --max_steps, and no word that it runs to the '
                                'default 1,000,000 steps or until stopped')
            if folder == FIRST_RUN_TRAIN_DIR:
                if _flags_but(args, SAME_RUN_FLAGS) != first_run or (
                        script != 'cifar10/cifar10_train.py'):
                    problems.append(f'{where}: trains something else into the first run\'s '
                                    f'{FIRST_RUN_TRAIN_DIR}; give it a --train_dir of its own')
                elif page != 'README.md' and not RESUMES_FIRST_RUN.search(said):
                    problems.append(f'{where}: carries on the first run in '
                                    f'{FIRST_RUN_TRAIN_DIR} without saying so')
            key = (script, _flags_but(args, SAME_RUN_FLAGS))
        else:
            reads = _flag_value(args, '--checkpoint_dir', FIRST_RUN_TRAIN_DIR).rstrip('/')
            if folder == FIRST_RUN_EVAL_DIR and reads != FIRST_RUN_TRAIN_DIR:
                problems.append(f'{where}: evaluates {reads} into the first run\'s '
                                f'{FIRST_RUN_EVAL_DIR}; give it an --eval_dir of its own')
            if _flag_value(args, '--run_once') in (None, 'false', '0', 'no') and (
                    '--run_once' not in args) and not RUNS_ON.search(said):
                problems.append(f'{where}: watches for checkpoints, and the page does not '
                                'say that it runs until stopped')
            key = _flags_but(args, SAME_EVAL_FLAGS)
        by_folder.setdefault((kind, folder), {}).setdefault(key, []).append(where)
    for (kind, folder), runs_there in sorted(by_folder.items()):
        if len(runs_there) > 1:
            commands = '; '.join(sorted(w for ws in runs_there.values() for w in ws))
            what = 'training runs' if kind == 'train' else 'evaluations'
            problems.append(f'{folder}: different {what} write into it: {commands}')
    return problems


def test_the_pages_commands_run_one_after_another():
    """Every training and evaluation command of README and the task pages
    runs as written, twice in a row and after any other page's commands,
    without landing in another command's run.

    The rules, each checked from the command line and the words the page
    puts with it (its own "# comment" or the paragraph right before its
    block):
    - A trainer's command (cifar10_train.py, cifar10_multi_gpu_train.py,
      cifar10_distributed_train.py, run_local_cluster.py's tasks, the
      console scripts) gives --max_steps, or its words say that it runs to
      the default 1,000,000 steps or until stopped.
    - README's first run owns /tmp/cifar10_train and /tmp/cifar10_eval
      (the defaults). Another command may train there only if it is
      cifar10_train.py with the first run's flags (apart from --max_steps
      and how often it logs or saves), and, off README, says that it
      carries on the first run ("first run"); an evaluator may write into
      /tmp/cifar10_eval only the first run's checkpoints. Everything else
      (an exercise, a side trip) names folders of its own.
    - Any one folder, on whichever pages, is trained into by one run only
      (the same script and flags apart from --max_steps and the logging
      and saving cadence) and evaluated into by one evaluation only (the
      same flags apart from --run_once and the watch's pace): a second,
      different run there would resume or refuse the first's checkpoints.
    - An evaluator without --run_once watches for checkpoints until
      stopped; its words say so.
    The lesson's pages are checked by the test after this one.
    """
    runs = [run for run in _runs() if run[0] not in LESSON_PAGES]
    assert len({run[0] for run in runs}) >= 10
    assert _collisions(runs) == []


def test_the_lessons_commands_run_after_the_other_pages():
    assert _collisions(_runs()) == []


def test_the_collision_check_sees_each_rule():
    readme = ('README.md', 'python cifar10/cifar10_train.py --max_steps=10000', 'train',
              'cifar10/cifar10_train.py', ['--max_steps=10000'], '')
    assert _collisions([readme]) == []

    def run(command, said='', page='docs/x.md'):
        (script, args), = _invocations(command)[0]
        if script in PASSES_ON:
            script, args = PASSES_ON[script], args[args.index('--') + 1:]
        kind = 'eval' if script.endswith('eval.py') else 'train'
        return (page, command, kind, script, args, said)
    # The default length, unannounced; announced.
    assert _collisions([readme, run('python cifar10/cifar10_train.py --train_dir=/tmp/a')]) == [
        'docs/x.md: python cifar10/cifar10_train.py --train_dir=/tmp/a: no --max_steps, and '
        'no word that it runs to the default 1,000,000 steps or until stopped']
    assert _collisions([readme, run('python cifar10/cifar10_train.py --train_dir=/tmp/a',
                                    'it trains until stopped (Ctrl-C)')]) == []
    # Another trainer in the first run's folder; the first run carried on.
    assert _collisions([readme, run('python cifar10/cifar10_multi_gpu_train.py --num_gpus=2 '
                                    '--max_steps=20')])[0].endswith(
        "trains something else into the first run's /tmp/cifar10_train; give it a "
        '--train_dir of its own')
    assert _collisions([readme, run('python cifar10/cifar10_train.py --max_steps 20000',
                                    'This carries the first run on.')]) == []
    assert _collisions([readme, run('python cifar10/cifar10_train.py --max_steps 20000')]) == [
        'docs/x.md: python cifar10/cifar10_train.py --max_steps 20000: carries on the first '
        'run in /tmp/cifar10_train without saying so']
    # A cluster's tasks pass their flags on; another run's evaluation in
    # the first run's eval folder.
    assert len(_collisions([readme, run('python scripts/run_local_cluster.py --num_workers=2 '
                                        '-- --max_steps=20')])) == 2
    assert _collisions([readme, run('python cifar10/cifar10_eval.py --run_once '
                                    '--checkpoint_dir=/tmp/d')]) == [
        "docs/x.md: python cifar10/cifar10_eval.py --run_once --checkpoint_dir=/tmp/d: "
        "evaluates /tmp/d into the first run's /tmp/cifar10_eval; give it an --eval_dir "
        'of its own']
    assert _collisions([readme, run('python cifar10/cifar10_eval.py')]) == [
        'docs/x.md: python cifar10/cifar10_eval.py: watches for checkpoints, and the page '
        'does not say that it runs until stopped']
    # Two pages' different runs in one folder; one run in pieces is fine.
    a = run('python cifar10/cifar10_train.py --train_dir /tmp/t --max_steps=5', page='docs/a.md')
    b = run('python cifar10/cifar10_train.py --model=local --train_dir=/tmp/t --max_steps=5',
            page='docs/b.md')
    c = run('python cifar10/cifar10_train.py --train_dir=/tmp/t/ --max_steps=50',
            page='docs/c.md')
    assert _collisions([readme, a, c]) == []
    e1 = run('python cifar10/cifar10_eval.py --run_once --checkpoint_dir=/tmp/t --eval_dir=/tmp/e')
    e2 = run('python cifar10/cifar10_eval.py --checkpoint_dir=/tmp/u --eval_dir=/tmp/e',
             'it watches until Ctrl-C')
    assert _collisions([readme, a, e1]) == []
    assert _collisions([readme, a, e1, e2]) == [
        '/tmp/e: different evaluations write into it: docs/x.md: python cifar10/cifar10_eval.py '
        '--checkpoint_dir=/tmp/u --eval_dir=/tmp/e; docs/x.md: python cifar10/cifar10_eval.py '
        '--run_once --checkpoint_dir=/tmp/t --eval_dir=/tmp/e']
    assert _collisions([readme, a, b]) == [
        '/tmp/t: different training runs write into it: docs/a.md: python '
        'cifar10/cifar10_train.py --train_dir /tmp/t --max_steps=5; docs/b.md: python '
        'cifar10/cifar10_train.py --model=local --train_dir=/tmp/t --max_steps=5']


# --- the messages troubleshooting quotes are the code's ------------------------

TROUBLESHOOTING = os.path.join(REPO, 'docs', 'troubleshooting.md')
# What a quoted message holds besides the code's own words: the page's
# stand-ins for what a line names (words in capitals: FILE, DIR, N, MODEL;
# this passes over the code's own JPEG or CPU too), its "..." for a part
# left out, and example values (a quoted value, a file name, anything with
# a digit: 6, data_batch_3.bin, model.ckpt-40, CIFAR-10), and flags,
# which the code often fills in.
NOT_THE_CODES = (r"\.\.\.|\b[A-Z][A-Z0-9_]*\b|'[^']*'|[\w./-]*\d[\w./,*-]*"
                 r"|[\w-]+\.(?:bin|json|gz|txt)\b|--[a-z_]+=?")
# Where a message may be put together from several of the code's strings
# (a file name, then the problem; a cause, then what to do; what is too
# large, then the pixel limit).
JOINS = r'[;:(),]|\.\s|(?= is above the limit)'

# Messages argparse puts together from its own words and a flag type's
# (every quoted "SCRIPT.py: error: ..." line): no string of the code holds
# them, so the suite makes the script say them. (message, script,
# arguments)
TRIGGERED = [
    ("cifar10_train.py: error: argument --max_steps: expected an integer, got 'ten'",
     'cifar10_train.py', ['--max_steps=ten']),
    ('cifar10_train.py: error: unrecognized arguments: --max_step=10',
     'cifar10_train.py', ['--max_step=10']),
    ("cifar10_train.py: error: argument --log_device_placement: expected true or false, "
     "got 'maybe'", 'cifar10_train.py', ['--log_device_placement=maybe']),
]


def _quoted_messages():
    """The messages of troubleshooting's tables: each code span of a row's
    first cell."""
    with open(TROUBLESHOOTING, encoding='utf-8') as f:
        rows = [line for line in f if line.startswith('| `')]
    return [span for row in rows for span in re.findall(r'`([^`]+)`', row.split(' | ')[0])]


def _code_texts():
    """The literal text of every string in the package's code, an f-string
    cut at each of its {values} (implicitly joined literals are one
    string)."""
    import ast
    texts = []
    for path in glob.glob(os.path.join(REPO, 'cifar10', '**', '*.py'), recursive=True):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)  # an f-string's literal parts too
    return texts


def _not_in_code(message, texts):
    """The parts of a quoted message that no string of the code holds.

    The message is cut at what is not the code's (NOT_THE_CODES) and where
    the code may join two strings (JOINS). Each part of two words or more
    must stand, as it is, in one string of the code; or all of it but its
    first or last word, which may be a value the code fills in ("could
    not reach" + "ps").
    """
    def found(part):
        return any(part in text for text in texts)
    missing = []
    for part in re.split(f'{NOT_THE_CODES}|{JOINS}', message):
        words = part.strip(' ,.').split()
        if len([w for w in words if re.search('[A-Za-z]', w)]) < 2:
            continue
        if not any(found(' '.join(ws)) for ws in (words, words[1:], words[:-1])):
            missing.append(' '.join(words))
    return missing


def test_troubleshooting_quotes_the_codes_messages():
    """Each message troubleshooting quotes is one the code writes: its
    words stand in the code's strings (see _not_in_code), and argparse's
    messages are printed by the script itself."""
    messages = _quoted_messages()
    assert len(messages) >= 30
    triggered = {message for message, _, _ in TRIGGERED}
    texts = _code_texts()
    missing = {m: _not_in_code(m, texts) for m in messages if m not in triggered}
    assert {m: parts for m, parts in missing.items() if parts} == {}
    assert triggered == {m for m in messages if re.match(r'\S+\.py: error: ', m)}
    for message, script, args in TRIGGERED:
        result = run_in_process(script, *args)
        assert result.returncode == 2 and message in result.stderr.splitlines(), result.stderr


def test_the_message_check_tells_a_real_message_from_a_changed_one():
    texts = ['no checkpoint found in ', '--batch_size=', ' does not split into --batch_splits=',
             ' equal parts', ': holds ', ' records, expected ']
    assert _not_in_code('no checkpoint found in DIR', texts) == []
    assert _not_in_code('--batch_size=6 does not split into --batch_splits=4 equal parts',
                        texts) == []
    assert _not_in_code('FILE: holds N records, ... 10,000', texts) == []
    assert _not_in_code('no checkpoints found in DIR', texts) == ['no checkpoints found in']
    assert _not_in_code('--batch_size=6 does not divide into --batch_splits=4 equal parts',
                        texts) == ['does not divide into']
    assert _not_in_code('FILE: holds N records, expected 10,000', texts) == []
    assert _not_in_code('FILE: holds N records, more than expected', texts) == [
        'more than expected']
    # Too short to tell: why argparse's lines are made to be printed instead.
    assert _not_in_code("error: argument --max_steps: invalid ...", texts) == []


# --- sample outputs are what the programs print ----------------------------------

# The run behind each page's ```output blocks, in order: (script, its
# arguments, {the page's folder: the argument that names the run's}).
# The suite's run is short and on synthetic data, so its numbers differ;
# every line's fixed text and the shape of its numbers must not.
SAMPLE_RUNS = {
    'docs/training.md': [
        ('cifar10_train.py', ['--max_steps=30'], {'/tmp/cifar10_smoke': '--train_dir'})],
    'docs/evaluation.md': [
        ('cifar10_eval.py', ['--run_once'], {'/tmp/cifar10_train': '--checkpoint_dir'})],
}


def _output_blocks(text):
    """The lines of each ```output block of a page."""
    return [body.splitlines() for body in re.findall(r'^```output\n(.*?)^```', text, re.S | re.M)]


def _shape(line):
    """A line's fixed text, every number in it as N, runs of spaces as one
    (a table's columns widen with its numbers). Which CPU kernels run, and
    why, depends on the CPU (runtime/kernels.py): the page shows one."""
    if line.startswith('CPU kernels: '):
        return 'CPU kernels: (this CPU\'s)'
    return ' '.join(re.sub(r'\d+(?:[.,:]\d+)*', 'N', line).split())


def _shapes_follow(sample, printed):
    """Whether the page's sample lines are, shape for shape, the printed
    lines: the first ones from the start, a "..." line standing for any
    number of lines, the last ones at the end unless the sample ends with
    "..."."""
    parts, part = [], []
    for line in sample:
        if line.strip() == '...':
            parts.append(part)
            part = []
        else:
            part.append(_shape(line))
    parts.append(part)
    printed = [_shape(line) for line in printed]
    if printed[:len(parts[0])] != parts[0]:
        return False
    at = len(parts[0])
    for part in parts[1:-1]:
        while at + len(part) <= len(printed) and printed[at:at + len(part)] != part:
            at += 1
        if at + len(part) > len(printed):
            return False
        at += len(part)
    if len(parts) > 1:
        tail = parts[-1]
        return len(printed) - len(tail) >= at and (not tail or printed[-len(tail):] == tail)
    return len(printed) == at


def test_the_shape_check_sees_a_missing_or_changed_line():
    printed = ['Training 5 steps.', 'step 10, loss = 3.1', 'step 20, loss = 2.9',
               'step 30, loss = 2.7', 'Stopped at step 30.']
    assert _shapes_follow(['Training 100 steps.', 'step 10, loss = 4.63', '...',
                           'Stopped at step 100.'], printed)
    assert _shapes_follow(['Training 100 steps.', '...'], printed)
    assert not _shapes_follow(['step 10, loss = 4.63', '...'], printed)  # first line left out
    assert not _shapes_follow(['Training 100 steps.', 'step 10, loss = 4.63', '...',
                               'step 30, loss = 2.7'], printed)  # last line left out
    assert not _shapes_follow(['Training 100 steps.', 'step 10 loss 4.63', '...'], printed)
    assert not _shapes_follow(printed[:-1], printed)


@pytest.fixture(scope='module')
def sample_checkpoints(synthetic_data, tmp_path_factory):
    """A short training run's folder, for the evaluator's sample."""
    from conftest import FAST_TRAIN_FLAGS
    train_dir = str(tmp_path_factory.mktemp('sample_train'))
    result = run_in_process('cifar10_train.py', f'--data_dir={synthetic_data[0]}',
                            f'--train_dir={train_dir}', '--max_steps=10', *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stderr
    return train_dir


@pytest.mark.parametrize('page', sorted(SAMPLE_RUNS))
def test_sample_outputs_are_what_the_programs_print(page, synthetic_data, sample_checkpoints,
                                                    tmp_path):
    """Each ```output block of a task page has the shape of what its
    command prints today, first line to last, run here on synthetic data
    (the lesson's are checked in test_lesson.py)."""
    from conftest import FAST_TRAIN_FLAGS
    with open(os.path.join(REPO, page), encoding='utf-8') as f:
        samples = _output_blocks(f.read())
    assert len(samples) == len(SAMPLE_RUNS[page])
    for sample, (script, args, folders) in zip(samples, SAMPLE_RUNS[page]):
        extra = [f'--data_dir={synthetic_data[0]}']
        names = {}
        for page_folder, flag in folders.items():
            ours = sample_checkpoints if flag == '--checkpoint_dir' else str(tmp_path / 'run')
            extra.append(f'{flag}={ours}')
            names[ours] = page_folder
        if script == 'cifar10_train.py':
            extra += FAST_TRAIN_FLAGS
        else:
            extra += [f'--eval_dir={tmp_path / "eval"}', '--num_examples=256']
        result = run_in_process(script, *args, *extra)
        assert result.returncode == 0, result.stderr
        printed = result.stdout
        for ours, page_folder in names.items():
            printed = printed.replace(ours, page_folder)
        assert _shapes_follow(sample, printed.splitlines()), (sample, printed)


def test_every_task_pages_sample_output_is_checked():
    pages = {}
    for page in PAGES:
        with open(page, encoding='utf-8') as f:
            if _output_blocks(f.read()):
                pages[_page_name(page)] = True
    assert set(pages) - LESSON_PAGES == set(SAMPLE_RUNS)
