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
"""Distributed training on loopback against cifar10_train.py, at equal examples.

For each configuration it trains from scratch on the same number of
training examples, then evaluates the checkpoint with cifar10_eval.py
--run_once, and prints one table row: wall time, the median examples/sec
(the cluster's, as the chief prints it), the bytes that crossed the
loopback interface per global step and worker, and precision @ 1.

  python scripts/benchmark_distributed.py --data_dir /tmp/cifar10_data \\
      --examples 256000 --configs single,sync1,async1,sync2,async2

Configurations: 'single' is cifar10_train.py; 'syncN' and 'asyncN' are N
workers and one ps task (scripts/run_local_cluster.py), synchronous with N
gradients per step or asynchronous. A synchronous step of N workers
consumes N batches, so it runs examples / (N x batch) steps; the others
examples / batch.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOPBACK_TX = '/sys/class/net/lo/statistics/tx_bytes'


def _loopback_bytes():
    try:
        with open(LOOPBACK_TX, encoding='ascii') as f:
            return int(f.read())
    except OSError:
        return None


def _config(text):
    match = re.fullmatch(r'single|(sync|async)([1-9]\d*)', text)
    if not match:
        raise argparse.ArgumentTypeError(
            f'expected single, syncN or asyncN, got {text!r}')
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     allow_abbrev=False)
    parser.add_argument('--data_dir', default='/tmp/cifar10_data')
    parser.add_argument('--examples', type=int, default=256000,
                        help='training examples per configuration')
    parser.add_argument('--batch_size', type=int, default=128)
    parser.add_argument('--configs', default='single,sync1,async1,sync2,async2',
                        help='comma-separated: single, syncN, asyncN')
    parser.add_argument('--extra', default='',
                        help='more flags for every trainer, space-separated')
    args = parser.parse_args(argv)
    try:
        args.configs = [_config(c) for c in args.configs.split(',')]
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))
    if args.examples <= 0 or args.batch_size <= 0:
        parser.error('--examples and --batch_size must be > 0')
    return args


def run_config(config, args, work):
    """Trains one configuration; returns its row's figures."""
    train_dir = os.path.join(work, config, 'train')
    workers = 1
    if config == 'single':
        steps = args.examples // args.batch_size
        command = [sys.executable, os.path.join(REPO, 'cifar10', 'cifar10_train.py')]
        speed = re.compile(r': step \d+, loss = \S+ \((\d+\.\d) examples/sec')
    else:
        mode, workers = re.fullmatch(r'(sync|async)(\d+)', config).groups()
        workers = int(workers)
        per_step = args.batch_size * (workers if mode == 'sync' else 1)
        steps = args.examples // per_step
        command = [sys.executable, os.path.join(REPO, 'scripts', 'run_local_cluster.py'),
                   '--num_ps=1', f'--num_workers={workers}', '--',
                   f'--sync_replicas={mode == "sync"}']
        speed = re.compile(r'^\[worker0\] .*cluster (\d+\.\d) examples/sec')
    command += [f'--max_steps={steps}', f'--train_dir={train_dir}',
                f'--data_dir={args.data_dir}', f'--batch_size={args.batch_size}',
                '--log_frequency=50', '--save_checkpoint_secs=100000', *args.extra.split()]
    before = _loopback_bytes()
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = _loopback_bytes()
    if result.returncode != 0:
        raise SystemExit(f'{config}: training failed ({result.returncode}): '
                         f'{(result.stderr or result.stdout).strip().splitlines()[-1:]}')
    speeds = [float(m.group(1)) for m in map(speed.search, result.stdout.splitlines()) if m]
    eval_run = subprocess.run(
        [sys.executable, os.path.join(REPO, 'cifar10', 'cifar10_eval.py'),
         f'--checkpoint_dir={train_dir}', f'--data_dir={args.data_dir}',
         f'--eval_dir={os.path.join(work, config, "eval")}', '--run_once'],
        capture_output=True, text=True)
    precision = re.search(r'precision @ 1 = (\d\.\d+)', eval_run.stdout)
    per_worker_step = None
    if config != 'single' and before is not None and after is not None:
        # A synchronous step takes one step of every worker; an
        # asynchronous one is one worker's step.
        worker_steps = steps * workers if config.startswith('sync') else steps
        per_worker_step = (after - before) / worker_steps
    return {
        'config': config, 'steps': steps, 'wall': wall,
        # The first lines include the start-up; the median of the rest.
        'speed': statistics.median(speeds[2:] or speeds) if speeds else float('nan'),
        'bytes': per_worker_step,
        'precision': precision.group(1) if precision else 'n/a',
    }


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(f'| config | global steps | wall s | examples/sec | loopback MB per worker '
          f'step | precision @ 1 ({args.examples:,} examples) |')
    print('| --- | --- | --- | --- | --- | --- |')
    with tempfile.TemporaryDirectory() as work:
        for config in args.configs:
            row = run_config(config, args, work)
            mb = f'{row["bytes"] / 1e6:.1f}' if row['bytes'] is not None else '-'
            print(f'| {row["config"]} | {row["steps"]:,} | {row["wall"]:.0f} | '
                  f'{row["speed"]:,.0f} | {mb} | {row["precision"]} |', flush=True)
    return 0


if __name__ == '__main__':
    # Started by a process that asked for it (the test suite), end with it.
    sys.path.insert(0, REPO)
    from cifar10.runtime.cli import end_with_parent
    end_with_parent()
    sys.exit(main())
