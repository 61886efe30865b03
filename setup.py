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
"""Packaging for the CIFAR-10 tutorial port."""

import re

from setuptools import find_packages, setup

with open('cifar10/__init__.py', encoding='utf-8') as f:
    VERSION = re.search(r"__version__ = '([^']+)'", f.read()).group(1)

setup(
    name='cifar10-tutorial',
    version=VERSION,
    description=('The classic TensorFlow CIFAR-10 tutorial, runnable on '
                 'TensorFlow 2.x in graph mode'),
    license='Apache-2.0',
    packages=find_packages(include=['cifar10', 'cifar10.*']),
    python_requires='>=3.10',
    install_requires=['tensorflow>=2.16', 'numpy', 'six'],
    # svhn: scipy reads the SVHN .mat files (scripts/svhn_to_binary.py).
    # test: the suite runs the lesson's notebook (docs/lesson.ipynb) in a
    # Jupyter kernel, with nbformat, nbclient and ipykernel.
    extras_require={'test': ['pytest', 'nbformat', 'nbclient', 'ipykernel'],
                    'svhn': ['scipy']},
    entry_points={
        'console_scripts': [
            'cifar10-train=cifar10.runtime.cli:train',
            'cifar10-eval=cifar10.runtime.cli:evaluate',
            'cifar10-multi-gpu-train=cifar10.runtime.cli:multi_gpu_train',
            'cifar10-distributed-train=cifar10.runtime.cli:distributed_train',
            'cifar10-predict=cifar10.runtime.cli:predict',
            'cifar10-export=cifar10.runtime.cli:export',
            'cifar10-convert-images=cifar10.runtime.cli:convert_images',
        ],
    },
)
