"""The suite's own environment: whatever the caller's shell holds, the
tests and the processes they start see one known environment
(conftest.known_env)."""

import ast
import glob
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, TIMEOUT_SECS, known_env, run_script

# Settings users keep in their shell profiles, with values that would
# change what the scripts print or do.
USER_SETTINGS = {
    'TF_CPP_MIN_LOG_LEVEL': '2',
    'TF_CONFIG': '{"cluster": {"worker": ["127.0.0.1:1"]}, '
                 '"task": {"type": "worker", "index": 0}}',
    'TF_ENABLE_ONEDNN_OPTS': '0',
    'TF_CPU_ALLOCATOR_USE_BFC': 'false',
    'CUDA_VISIBLE_DEVICES': '0',
    'OMP_NUM_THREADS': '1',
    'ONEDNN_MAX_CPU_ISA': 'AVX2',
    'PYTHONWARNINGS': 'always',
}


def test_children_get_the_known_environment(monkeypatch):
    for name, value in USER_SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv('CIFAR10_TEST_MARK', 'kept')
    code = 'import json, os; print(json.dumps(dict(os.environ)))'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=TIMEOUT_SECS, env=known_env(OMP_NUM_THREADS='2'))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert {name: seen.get(name) for name in USER_SETTINGS} == {
        **{name: None for name in USER_SETTINGS}, 'OMP_NUM_THREADS': '2'}
    # Everything else is passed on.
    assert seen['CIFAR10_TEST_MARK'] == 'kept' and seen['PATH'] == os.environ['PATH']


@pytest.mark.slow
def test_script_output_does_not_depend_on_the_callers_settings(monkeypatch):
    """The failure a user met: with TF_CPP_MIN_LOG_LEVEL=2 in the shell, a
    script's --help printed TensorFlow's start-up lines on stderr. And with
    TF_CONFIG set, the distributed trainer would take its task from it."""
    for name, value in USER_SETTINGS.items():
        monkeypatch.setenv(name, value)
    result = run_script('cifar10_train.py', '--help')
    assert result.returncode == 0 and '--max_steps' in result.stdout
    assert result.stderr == ''
    result = run_script('cifar10_distributed_train.py')
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith('error: no cluster given: pass --job_name, '
                                                   '--task_index, --ps_hosts and --worker_hosts, '
                                                   'or set TF_CONFIG')


def _calls_without_env(path):
    """Lines of subprocess.run/Popen calls in ``path`` that pass no env."""
    tree = ast.parse(open(path).read(), path)
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == 'subprocess'
                and node.func.attr in ('run', 'Popen', 'call', 'check_call', 'check_output')
                and not any(k.arg == 'env' for k in node.keywords)):
            lines.append(node.lineno)
    return lines


def test_every_process_a_test_starts_gets_an_environment():
    """A new test that starts a process without env= would inherit the
    caller's shell again."""
    missing = {}
    for path in sorted(glob.glob(os.path.join(REPO, 'tests', '*.py'))):
        lines = _calls_without_env(path)
        if lines:
            missing[os.path.basename(path)] = lines
    assert missing == {}
