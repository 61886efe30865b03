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
"""Running a script as a process: its import, its exit, its signals.

The console-script entry points (cifar10-train, cifar10-eval,
cifar10-multi-gpu-train, cifar10-distributed-train, cifar10-predict,
cifar10-export, cifar10-convert-images) each choose the CPU kernels
(kernels.choose_before_tensorflow) and import TensorFlow quietly before the
script module, so
that TensorFlow's start-up chatter (CPU-feature notices, missing CUDA
drivers) does not bury the script's own output. Set TF_CPP_MIN_LOG_LEVEL=0
to see it. ``run_main`` turns a script's expected failures into one line
and an exit status; ``GracefulStop`` turns SIGINT and SIGTERM into a
request to stop; ``end_with_parent`` ties a process's life to the
process that started it, when that process asks (PARENT_PID_VARIABLE).

This module imports nothing heavy itself: the scripts call
``import_tensorflow_quietly`` before their own imports.
"""

import ctypes
import gc
import importlib
import os
import signal
import sys

from cifar10.runtime import kernels
from cifar10.runtime.errors import DataError, NanLossError, op_error_summary


# A process that starts scripts and wants them to end when it ends, however
# it ends (SIGKILL too), puts its pid here in their environment: the local
# cluster launcher for its tasks, the test suite for what it starts.
PARENT_PID_VARIABLE = 'CIFAR10_PARENT_PID'
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def end_with_parent():
    """Ends this process when its parent ends, if the parent asked for it.

    When PARENT_PID_VARIABLE names this process's parent, the kernel is
    asked (Linux's PR_SET_PDEATHSIG) to send SIGKILL when the parent dies:
    a launcher or test run killed outright leaves no task holding its port
    or its training directory. If the parent has already gone, the process
    ends at once. The variable is then set to this process's own pid, so
    that the processes it starts in turn end with it. Elsewhere than on
    Linux, and without the variable, nothing happens.
    """
    value = os.environ.get(PARENT_PID_VARIABLE, '')
    if not value.isdigit() or not sys.platform.startswith('linux'):
        return
    parent = int(value)
    if os.getppid() == parent:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent and not _alive(parent):
        # The parent ended before the kernel was asked: end as it would.
        os._exit(128 + signal.SIGKILL)
    os.environ[PARENT_PID_VARIABLE] = str(os.getpid())


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def import_tensorflow_quietly():
    """Imports TensorFlow with its C++ start-up logging hidden, quickly.

    TF_CPP_MIN_LOG_LEVEL (default 3 here) hides C++ log lines once
    TensorFlow's logging is set up, but lines logged while its libraries
    load go straight to file descriptor 2; those are dropped by pointing the
    descriptor at /dev/null for the import. A user who sets
    TF_CPP_MIN_LOG_LEVEL below 3 sees everything.

    The import is also spared Python's cyclic garbage collector (see
    ``_without_garbage_collection``).
    """
    if 'tensorflow' in sys.modules:
        return
    level = os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    if level != '3':
        _without_garbage_collection(importlib.import_module, 'tensorflow')
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        _without_garbage_collection(importlib.import_module, 'tensorflow')
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _without_garbage_collection(function, *args):
    """Calls ``function(*args)`` with the cyclic garbage collector paused.

    Importing TensorFlow creates some 400,000 objects that live as long as
    the process, and the collector, triggered every 700 allocations, walks
    them again and again: the import took 1.32-1.49 s here with the
    collector paused and 1.50-1.64 s with it running, the difference about
    a twentieth of an evaluation. Afterwards they
    are frozen (moved where later collections do not look), so the scripts'
    own collections stay short too. The import leaves about 1,300 objects
    of cyclic garbage (about 1 MB), which freezing keeps.

    Args:
      function: What to call.
      *args: Its arguments.

    Returns:
      What ``function`` returns.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return function(*args)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def quiet_tensorflow():
    """Hides TensorFlow's Python-side deprecation notices.

    The queue-based input ops are deprecated in TensorFlow 2 and each use
    logs a warning; they are the point of this tutorial, so the warnings
    are noise. (C++ start-up logs are hidden by import_tensorflow_quietly.)
    """
    import tensorflow as tf
    tf.get_logger().setLevel('ERROR')


def run_main(main, argv=None):
    """Runs a script's ``main(argv)``, turning expected failures into exits.

    Data problems and TensorFlow runtime errors print a single line on
    stderr and exit with status 1; Ctrl-C outside the places that handle it
    exits with status 130, without a traceback.

    Args:
      main: The script's main function, taking the argument list.
      argv: Arguments (without the program name); None for sys.argv[1:].
    """
    # Imported here, after the entry point's quiet import of TensorFlow.
    import tensorflow as tf
    quiet_tensorflow()
    try:
        status = main(sys.argv[1:] if argv is None else argv)
    except (DataError, NanLossError) as e:
        sys.exit(f'error: {e}')
    except BrokenPipeError:
        # Output piped into a program that stopped reading (say, head).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as e:
        # A directory that cannot be created or written, and the like.
        where = f'{e.filename}: ' if e.filename else ''
        sys.exit(f'error: {where}{e.strerror or e}')
    except tf.errors.OpError as e:
        sys.exit(f'error: {op_error_summary(e)}')
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        sys.exit(130)
    finally:
        _skip_final_garbage_collection()
    sys.exit(status or 0)


def _skip_final_garbage_collection():
    """Spares the exiting interpreter a garbage collection of everything.

    At exit Python runs a full collection over every object alive. The
    scripts' import (cli.import_tensorflow_quietly) already froze
    TensorFlow's own objects, the bulk of it (a full collection after an
    evaluation: 0.18 s with them, 0.001 s without); freezing here takes
    the rest, and covers callers that imported TensorFlow their own way.
    The process is ending, so nothing is lost: files and writers are
    closed by the scripts, and the standard streams are flushed as usual.
    """
    gc.freeze()


class GracefulStop:
    """Turns SIGINT and SIGTERM into a request to stop after the current step.

    Used as a context manager around the training loop; a second signal
    restores the default behaviour, so an impatient Ctrl-C still aborts.
    """

    def __init__(self, quiet=False,
                 what='stopping after this step and saving a checkpoint'):
        """Args:
          quiet: Do not announce the signal (the caller reports the stop).
          what: What the announcement says happens next.
        """
        self.signal_name = None
        self._quiet = quiet
        self._what = what
        self._previous = {}

    @property
    def requested(self):
        return self.signal_name is not None

    def _handle(self, signum, frame):
        del frame
        self.signal_name = signal.Signals(signum).name
        if not self._quiet:
            print(f'\n{self.signal_name} received: {self._what} (send it '
                  'again to abort at once).', file=sys.stderr, flush=True)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


def start_program():
    """What a script does first when it runs as a program, before its own
    imports: ties the process to its parent if asked (end_with_parent),
    chooses the CPU kernels from --onednn (kernels.choose_before_tensorflow:
    TensorFlow reads the choice when it loads) and imports TensorFlow
    quietly."""
    end_with_parent()
    kernels.choose_before_tensorflow()
    import_tensorflow_quietly()


def _run(module_name):
    start_program()
    importlib.import_module(module_name).main()


def train():
    """Runs cifar10_train."""
    _run('cifar10.cifar10_train')


def evaluate():
    """Runs cifar10_eval."""
    _run('cifar10.cifar10_eval')


def multi_gpu_train():
    """Runs cifar10_multi_gpu_train."""
    _run('cifar10.cifar10_multi_gpu_train')


def distributed_train():
    """Runs cifar10_distributed_train."""
    _run('cifar10.cifar10_distributed_train')


def predict():
    """Runs cifar10_predict."""
    _run('cifar10.cifar10_predict')


def export():
    """Runs cifar10_export."""
    _run('cifar10.cifar10_export')


def convert_images():
    """Runs cifar10_convert_images."""
    _run('cifar10.cifar10_convert_images')
