# Copyright 2026 The cifar10 port authors. All Rights Reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Which CPU kernels TensorFlow runs: oneDNN's or its own (--onednn).

TensorFlow's x86 builds carry two sets of CPU kernels: its own (Eigen) and
oneDNN's. It turns oneDNN on by itself only on CPUs with AVX512_VNNI,
AVX512_BF16, AVX_VNNI or AMX; on other x86 CPUs with AVX2 (AMD Zen 2 and 3,
Intel before Alder Lake) it runs its own, and this model trains about half
as fast there as it does with oneDNN (docs/performance.md). So the scripts
turn oneDNN on wherever the CPU has AVX2, unless the user says otherwise:
``--onednn=false`` asks for TensorFlow's own kernels, and an explicit
TF_ENABLE_ONEDNN_OPTS in the environment always wins.

TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, when it loads; a choice made
afterwards does nothing. So the choice is made from the command line before
TensorFlow is imported (choose_before_tensorflow, called by
cli.start_program, which every script and console script runs first), and
the start-up line
(describe) says which kernels ended up running and why.

This module imports nothing at import time beyond the standard library.
"""

import os
import platform
import sys

VARIABLE = 'TF_ENABLE_ONEDNN_OPTS'
FLAG = 'onednn'

# CPU features (as /proc/cpuinfo names them) on which TensorFlow turns its
# oneDNN kernels on by itself (its IsMKLEnabled on Linux x86).
TENSORFLOW_ONEDNN_FLAGS = ('avx512_vnni', 'avx512_bf16', 'avx_vnni',
                           'amx_tile', 'amx_int8', 'amx_bf16')
# Below AVX2, oneDNN has not been measured here against TensorFlow's own
# kernels: the scripts leave such CPUs to TensorFlow's default.
ONEDNN_FLAG_NEEDS = 'avx2'

_TRUE = ('true', 't', 'yes', 'y', '1', 'on')
_FALSE = ('false', 'f', 'no', 'n', '0', 'off')

# What choose_before_tensorflow decided in this process: (wanted, reason),
# wanted being True, False or None (TensorFlow's default).
_choice = None


def cpu_flags(path='/proc/cpuinfo'):
    """The CPU's feature flags, as a set of lower-case names (empty where the
    system does not say, as on macOS and Windows).

    Args:
      path: The file to read them from.

    Returns:
      A set of strings.
    """
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip().lower() in ('flags', 'features'):
                    return set(value.lower().split())
    except OSError:
        pass
    return set()


def onednn_enabled():
    """Whether TensorFlow runs its CPU ops through oneDNN in this process
    (imports TensorFlow if it is not loaded yet)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # a build without the query
        return True


def flag_in_argv(argv):
    """The value of --onednn on a command line, read before any parser runs.

    The scripts' parsers take ``--onednn``, ``--onednn=BOOL``, ``--onednn
    BOOL`` and ``--noonednn`` (flags.add_bool_flag); the last one given
    counts, as it does for the parser. A value that is not a boolean is left
    to the parser, which refuses it with a message.

    Args:
      argv: The arguments after the program's name.

    Returns:
      True, False, or None where the flag is not given (or its value is not
      a boolean).
    """
    value = None
    for i, arg in enumerate(argv):
        if arg == '--':
            break
        if arg == f'--no{FLAG}':
            value = False
        elif arg.startswith(f'--{FLAG}='):
            value = _bool_or_none(arg.split('=', 1)[1])
        elif arg == f'--{FLAG}':
            following = _bool_or_none(argv[i + 1]) if i + 1 < len(argv) else None
            value = True if following is None else following
    return value


def _bool_or_none(text):
    text = text.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def choose(requested, environ, flags, machine):
    """Decides the oneDNN setting, without touching anything.

    Args:
      requested: --onednn's value (True, False, or None when not given: the
        default, True).
      environ: The environment (a mapping).
      flags: The CPU's feature flags (cpu_flags()).
      machine: platform.machine(), such as 'x86_64'.

    Returns:
      (value, wanted, reason): the value to give TF_ENABLE_ONEDNN_OPTS
      ('1', '0', or None to leave it as it is), whether oneDNN should run
      (True, False, or None for TensorFlow's default), and the reason in a
      phrase for the start-up line.
    """
    explicit = environ.get(VARIABLE)
    if explicit is not None:
        wanted = _bool_or_none(explicit)
        return None, wanted, f'{VARIABLE}={explicit} in the environment'
    if requested is False:
        return '0', False, f'--{FLAG}=false'
    x86 = machine.lower() in ('x86_64', 'amd64', 'i386', 'i686', 'x86')
    if not x86 or ONEDNN_FLAG_NEEDS not in flags:
        return None, None, "TensorFlow's default on this CPU"
    if any(f in flags for f in TENSORFLOW_ONEDNN_FLAGS):
        return '1', True, "TensorFlow's default on this CPU"
    return '1', True, (f'turned on by --{FLAG}: TensorFlow leaves it off on a CPU '
                       'without AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX')


def choose_before_tensorflow(argv=None, flags=None):
    """Sets TF_ENABLE_ONEDNN_OPTS from --onednn and the CPU, if TensorFlow
    has not loaded yet, and remembers why for describe().

    Args:
      argv: The arguments after the program's name (None: sys.argv[1:]).
      flags: The CPU's feature flags (None: cpu_flags()).
    """
    global _choice
    if argv is None:
        argv = sys.argv[1:]
    if flags is None:
        flags = cpu_flags()
    value, wanted, reason = choose(flag_in_argv(argv), os.environ, flags,
                                   platform.machine())
    if 'tensorflow' in sys.modules:
        # Too late to change anything: say so rather than claim a choice.
        _choice = (None, 'TensorFlow was loaded before the choice could be made')
        return
    if value is not None:
        os.environ[VARIABLE] = value
    _choice = (wanted, reason)


def describe(requested=None, enabled=None):
    """The start-up line that says which CPU kernels run, and why.

    Args:
      requested: --onednn's parsed value (None: not known).
      enabled: Whether oneDNN runs (None: ask TensorFlow).

    Returns:
      A line such as "CPU kernels: oneDNN (TensorFlow's default on this CPU)."
    """
    if enabled is None:
        enabled = onednn_enabled()
    name = 'oneDNN' if enabled else "TensorFlow's own, not oneDNN"
    wanted, reason = _choice if _choice is not None else (
        None, "TensorFlow's default on this CPU")
    late = 'TensorFlow was loaded before the choice could be made'
    if wanted is not None and wanted != enabled:
        reason = late
    elif requested is False and enabled and not reason.startswith(VARIABLE):
        # main() called from Python after TensorFlow loaded: the flag
        # arrived too late to count (the user's variable would have won
        # over it anyway).
        reason = f'--{FLAG}=false came too late: {late}'
    return f'CPU kernels: {name} ({reason}).'
