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
"""Times cifar10_convert_images.py against another converter of the same images.

    python scripts/benchmark_convert.py --src /tmp/cifar10-jpeg \\
        --other '../shared/cifar10-jpeg/make_cifar10_binary.py --out {out}'

Runs the two commands alternately --runs times, each writing into a fresh
temporary folder, and prints for each the median wall time (interpreter
and TensorFlow start-up included), images/sec over the images in --src,
the CPU time (user and system) and the peak memory of its process, and
the median of the rounds' ratios of
our time to the other's. Then checks that both wrote the same records:
for each of test_batch.bin and the data_batch files taken together, the
same set of 3,073-byte records (the order differs: each shuffles with its
own seed). ``{out}`` in --other is replaced by the other command's output
folder; its records are looked for anywhere below it.
"""

import argparse
import glob
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(cmd):
    """Runs a command; returns (wall seconds, peak RSS in MB, CPU seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        sys.exit(f'benchmark_convert: {shlex.join(cmd)} failed: '
                 f'{proc.stderr.read().strip().splitlines()[-1:]}')
    return wall, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


def _record_sets(folder):
    """{'test': set of records, 'train': set of records} below a folder."""
    def records(paths):
        out = set()
        for path in paths:
            data = np.fromfile(path, np.uint8).reshape(-1, 3073)
            out.update(bytes(row) for row in data)
        return out
    found = glob.glob(os.path.join(folder, '**', '*.bin'), recursive=True)
    return {'test': records([p for p in found if p.endswith('test_batch.bin')]),
            'train': records([p for p in found if 'data_batch_' in p])}


def _count_images(src):
    return sum(len(files) for _, _, files in os.walk(src))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', required=True,
                        help='The image folders (train/<class>/, test/<class>/).')
    parser.add_argument('--other', required=True,
                        help='The other converter\'s command line, with {out}.')
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args(argv)
    images = _count_images(args.src)
    with tempfile.TemporaryDirectory(prefix='bench-convert-') as tmp:
        ours, theirs, ratios = [], [], []
        for run in range(args.runs):
            out = os.path.join(tmp, f'ours{run}')
            ours.append(_run([sys.executable, 'cifar10/cifar10_convert_images.py',
                              args.src, '--out', out]))
            other_out = os.path.join(tmp, f'other{run}')
            theirs.append(_run([sys.executable] + shlex.split(
                args.other.replace('{out}', other_out))))
            ratios.append(ours[-1][0] / theirs[-1][0])
        same = _record_sets(os.path.join(tmp, 'ours0')) == _record_sets(
            os.path.join(tmp, 'other0'))
    for name, runs in (('cifar10_convert_images.py', ours), ('other', theirs)):
        wall = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        print(f'{name:26s} median {wall:6.2f} s ({images / wall:8,.0f} images/sec), '
              f'runs {", ".join(f"{r[0]:.2f}" for r in runs)} s, CPU {cpu:.1f} s, '
              f'peak {peak:,.0f} MB')
    print(f'ours / other, median of the rounds: {statistics.median(ratios):.2f}x the time')
    print(f'same records (test set, and training sets taken together): {same}')


if __name__ == '__main__':
    # Started by a process that asked for it (the test suite), end with it.
    sys.path.insert(0, REPO)
    from cifar10.runtime.cli import end_with_parent
    end_with_parent()
    main()
