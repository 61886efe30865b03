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
"""What every script does first when it runs as a program.

A script runs as ``python cifar10_train.py`` inside the package's folder
(as the tutorial's users run it), as ``python cifar10/cifar10_train.py``
from the repository root, or as ``python -m cifar10.cifar10_train``; the
console scripts go through cli. Each script starts with

    if __name__ == '__main__':
        importlib.import_module(
            'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

Run as a file, the script's folder (the package's) comes first on
sys.path, so this module is found there as runtime.script_setup, and
"cifar10" would name the sibling module cifar10.py rather than the
package: prepare() puts the package's parent folder there instead. Either
way it then starts the program as the console scripts do
(cli.start_program: the CPU kernels chosen, TensorFlow imported quietly),
before the script's own imports load TensorFlow.

This module imports nothing from the package at import time: the package
may not be importable until prepare() has run.
"""

import os
import sys

# The package's folder (cifar10/), which holds the scripts.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def prepare():
    """Makes the package importable, then starts the program
    (cli.start_program)."""
    if __name__ != 'cifar10.runtime.script_setup':  # loaded from the scripts' folder
        sys.path = [p for p in sys.path if os.path.abspath(p or '.') != _PACKAGE]
        sys.path.insert(0, os.path.dirname(_PACKAGE))
    from cifar10.runtime import cli
    cli.start_program()
