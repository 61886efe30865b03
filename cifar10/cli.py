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

import importlib
import os
import sys


def import_tensorflow_quietly():
    """Imports TensorFlow with its C++ start-up logging hidden.

    TF_CPP_MIN_LOG_LEVEL (default 3 here) hides C++ log lines once
    TensorFlow's logging is set up, but lines logged while its libraries
    load go straight to file descriptor 2; those are dropped by pointing the
    descriptor at /dev/null for the import. A user who sets
    TF_CPP_MIN_LOG_LEVEL below 3 sees everything.
    """
    if 'tensorflow' in sys.modules:
        return
    level = os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    if level != '3':
        importlib.import_module('tensorflow')
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        importlib.import_module('tensorflow')
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


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
