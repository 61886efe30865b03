"""Which CPU kernels the scripts run (--onednn, runtime/kernels.py): the
choice from the flag, the environment and the CPU, made before TensorFlow
loads, and the start-up line that says what runs."""

import platform

import pytest

from cifar10.runtime import kernels
from conftest import FAST_TRAIN_FLAGS, run_script

AVX2 = {'sse4_2', 'avx', 'avx2', 'fma'}  # AMD Zen 2, Intel Skylake
AVX512_VNNI = AVX2 | {'avx512f', 'avx512_vnni'}  # Intel Cascade Lake
TURNED_ON = ('turned on by --onednn: TensorFlow leaves it off on a CPU '
             'without AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX')


@pytest.mark.parametrize('argv, expected', [
    ([], None),
    (['--onednn'], True),
    (['--onednn=false'], False),
    (['--onednn=0'], False),
    (['--onednn', 'no'], False),
    (['--onednn', '--max_steps=5'], True),
    (['--noonednn'], False),
    (['--noonednn', '--onednn=true'], True),  # the last one counts
    (['--onednn=maybe'], None),  # left to the parser, which refuses it
    (['--', '--onednn=false'], None),  # after --, not this program's flag
    (['--onednn_other=false'], None),
])
def test_the_flag_is_read_from_the_command_line(argv, expected):
    assert kernels.flag_in_argv(argv) == expected


@pytest.mark.parametrize('requested, environ, flags, machine, expected', [
    # An AVX2 CPU: TensorFlow leaves oneDNN off, the scripts turn it on.
    (None, {}, AVX2, 'x86_64', ('1', True, TURNED_ON)),
    (True, {}, AVX2, 'x86_64', ('1', True, TURNED_ON)),
    # Where TensorFlow turns it on itself, the scripts agree.
    (None, {}, AVX512_VNNI, 'x86_64',
     ('1', True, "TensorFlow's default on this CPU")),
    (None, {}, AVX2 | {'avx_vnni'}, 'x86_64',
     ('1', True, "TensorFlow's default on this CPU")),
    # --onednn=false: TensorFlow's own kernels, whatever the CPU.
    (False, {}, AVX2, 'x86_64', ('0', False, '--onednn=false')),
    (False, {}, AVX512_VNNI, 'x86_64', ('0', False, '--onednn=false')),
    # The user's explicit variable always wins, over the flag too.
    (None, {'TF_ENABLE_ONEDNN_OPTS': '0'}, AVX2, 'x86_64',
     (None, False, 'TF_ENABLE_ONEDNN_OPTS=0 in the environment')),
    (False, {'TF_ENABLE_ONEDNN_OPTS': '1'}, AVX2, 'x86_64',
     (None, True, 'TF_ENABLE_ONEDNN_OPTS=1 in the environment')),
    # Not measured below AVX2, nor on Arm: TensorFlow decides.
    (None, {}, {'sse4_2', 'avx'}, 'x86_64',
     (None, None, "TensorFlow's default on this CPU")),
    (None, {}, {'asimd', 'bf16'}, 'aarch64',
     (None, None, "TensorFlow's default on this CPU")),
    (None, {}, set(), 'x86_64', (None, None, "TensorFlow's default on this CPU")),
])
def test_the_choice(requested, environ, flags, machine, expected):
    assert kernels.choose(requested, environ, flags, machine) == expected


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu AVX2 avx512_vnni\n\n'
                       'processor\t: 1\nflags\t\t: fpu\n')
    assert kernels.cpu_flags(str(cpuinfo)) == {'fpu', 'avx2', 'avx512_vnni'}
    assert kernels.cpu_flags(str(tmp_path / 'missing')) == set()


def test_describe_says_what_runs_and_why(monkeypatch):
    monkeypatch.setattr(kernels, '_choice', (True, TURNED_ON))
    assert kernels.describe(enabled=True) == f'CPU kernels: oneDNN ({TURNED_ON}).'
    # What runs is TensorFlow's answer, not the wish: a wish TensorFlow did
    # not follow (it had loaded already) is not claimed.
    assert kernels.describe(enabled=False) == (
        "CPU kernels: TensorFlow's own, not oneDNN (TensorFlow was loaded "
        'before the choice could be made).')
    # --onednn=false given to a main() called after TensorFlow loaded, in a
    # process that had chosen oneDNN (as this test process does).
    for choice in (None, (True, "TensorFlow's default on this CPU")):
        monkeypatch.setattr(kernels, '_choice', choice)
        assert kernels.describe(requested=False, enabled=True) == (
            'CPU kernels: oneDNN (--onednn=false came too late: TensorFlow was '
            'loaded before the choice could be made).')
    # The user's variable wins over the flag: nothing came too late.
    monkeypatch.setattr(kernels, '_choice', (True, 'TF_ENABLE_ONEDNN_OPTS=1 in the environment'))
    assert kernels.describe(requested=False, enabled=True) == (
        'CPU kernels: oneDNN (TF_ENABLE_ONEDNN_OPTS=1 in the environment).')


def _kernels_line(data_dir, tmp_path, *flags, env=None):
    """The trainer's start-up line on kernels, from a process of its own
    (only a new process loads TensorFlow after the choice)."""
    result = run_script('cifar10_train.py', '--data_dir', data_dir,
                        '--train_dir', str(tmp_path / 'train'), '--max_steps=1',
                        *FAST_TRAIN_FLAGS, *flags, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('Training the tutorial model')
    return lines[1]


@pytest.mark.slow
def test_the_trainer_runs_the_kernels_it_says(data_dir, tmp_path):
    # The default: what choose() makes of this machine.
    _, wanted, reason = kernels.choose(None, {}, kernels.cpu_flags(),
                                       platform.machine())
    line = _kernels_line(data_dir, tmp_path / 'default')
    if wanted is not None:
        name = 'oneDNN' if wanted else "TensorFlow's own, not oneDNN"
        assert line == f'CPU kernels: {name} ({reason}).'
    else:
        assert line.endswith(f"({reason}).")
    # --onednn=false, and the user's variable over the flag.
    assert _kernels_line(data_dir, tmp_path / 'off', '--onednn=false') == (
        "CPU kernels: TensorFlow's own, not oneDNN (--onednn=false).")
    assert _kernels_line(data_dir, tmp_path / 'env', '--onednn',
                         env={'TF_ENABLE_ONEDNN_OPTS': '0'}) == (
        "CPU kernels: TensorFlow's own, not oneDNN "
        '(TF_ENABLE_ONEDNN_OPTS=0 in the environment).')
