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
"""Console-script entry points (cifar10-train, cifar10-eval,
cifar10-multi-gpu-train, cifar10-predict, cifar10-export).

Each imports TensorFlow quietly before the script module, so that
TensorFlow's start-up chatter (CPU-feature notices, missing CUDA drivers)
does not bury the script's own output. Set TF_CPP_MIN_LOG_LEVEL=0 to see it.

This module imports nothing heavy itself: the scripts call
``import_tensorflow_quietly`` before their own imports.
"""

import gc
import importlib
import os
import sys


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


def _run(module_name):
    import_tensorflow_quietly()
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


def predict():
    """Runs cifar10_predict."""
    _run('cifar10.cifar10_predict')


def export():
    """Runs cifar10_export."""
    _run('cifar10.cifar10_export')
