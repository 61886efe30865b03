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
"""Does the CPU allocator change what a training step computes?

Runs the same training steps (same batch, same initial variables, the
trainers' graph) in one process per allocator, TensorFlow's BFC and its
default, then compares every float tensor of the last step's forward and
backward pass, op by op. Any op that reads memory it never wrote (an
uninitialized read in a kernel, or a blocked layout's padding) gives
different bits under the two, because each leaves different garbage in
freed memory; glibc's MALLOC_PERTURB_ makes the default allocator's
garbage a fixed, non-zero byte pattern, so such a read cannot hide behind
zeroed pages.

    python scripts/compare_allocators.py --data_dir /tmp/cifar10_data --steps 3

prints, for each pair of runs, how many tensors differ and the first ops
(in the graph's order) whose outputs do; a BFC run twice gives the
baseline (it must be 0: the step is deterministic). With no --data_dir it
uses a synthetic batch.

Measured (2026-12-03, 2 vCPU AMD EPYC with AVX-512 and AVX512_BF16): every
tensor identical, BFC against default, for the tutorial model at batch 128
on real images (one and two batch splits, one and two threads, float32 and
mixed_bfloat16, oneDNN on and off) and at batch 16 on 48-pixel images over
30 steps; see docs/tests.md.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

import reference_eval

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Fill byte for glibc's MALLOC_PERTURB_ (freed and fresh malloc memory).
PERTURB_BYTE = '85'


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data_dir', default=None,
                        help='CIFAR-10 data directory (default: a synthetic batch).')
    parser.add_argument('--batch_size', type=int, default=128)
    parser.add_argument('--steps', type=int, default=3,
                        help='Training steps; the last one is compared.')
    parser.add_argument('--batch_splits', type=int, default=1)
    parser.add_argument('--threads', type=int, default=0,
                        help='Intra- and inter-op threads (0: TensorFlow chooses).')
    parser.add_argument('--precision', default='float32',
                        choices=('float32', 'mixed_bfloat16'))
    parser.add_argument('--lrn_gradient', default='matmul', choices=('matmul', 'builtin'))
    parser.add_argument('--show', type=int, default=10,
                        help='Differing tensors to list per pair.')
    # Internal: run one process's steps and write its tensors.
    parser.add_argument('--dump', metavar='OUT_NPZ', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batch_size % args.batch_splits:
        parser.error(f'--batch_size={args.batch_size} does not split into '
                     f'--batch_splits={args.batch_splits} equal parts')
    return args


def fixed_batch(data_dir, batch_size):
    """The first batch_size training records, center-cropped to 24x24 and
    standardized per image as evaluation prepares them (reference_eval's
    reader and preprocessing); or a seeded synthetic batch.

    Returns:
      (images [batch, 24, 24, 3] float32, labels [batch] int32).
    """
    from cifar10.data import datasets
    if data_dir is None:
        rng = np.random.RandomState(0)
        raw = rng.randint(0, 256, (batch_size, 32, 32, 3)).astype(np.uint8)
        labels = rng.randint(0, 10, batch_size)
    else:
        path = os.path.join(data_dir, 'cifar-10-batches-bin', 'data_batch_1.bin')
        raw, labels = reference_eval.read_records([path], batch_size, datasets.CIFAR10)
    images = reference_eval.preprocess(raw, 24).astype(np.float32)
    return images, labels.astype(np.int32)


def step_tensors(graph, train_op):
    """The float tensors the training step computes, in the graph's order,
    leaving out the updates themselves and the variables' own reads."""
    import tensorflow as tf
    needed, stack = set(), [train_op]
    while stack:
        op = stack.pop()
        if op.name in needed:
            continue
        needed.add(op.name)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    skip = ('Assign', 'Apply', 'VarHandleOp', 'VariableV2', 'NoOp', 'Const',
            'Placeholder', 'Summary')
    tensors = []
    for op in graph.get_operations():
        if op.name not in needed or any(k in op.type for k in skip):
            continue
        if 'ExponentialMovingAverage' in op.name or 'moving_avg' in op.name:
            continue
        tensors += [t for t in op.outputs if t.dtype in (tf.float32, tf.bfloat16)]
    return tensors


def dump(args):
    """Runs the steps in this process (its allocator was chosen by the
    environment) and saves the last step's tensors to args.dump."""
    sys.path.insert(0, REPO)
    from cifar10.runtime import cli
    cli.import_tensorflow_quietly()
    import tensorflow as tf
    from cifar10 import cifar10
    from cifar10 import cifar10_train
    tf1 = tf.compat.v1
    images, labels = fixed_batch(args.data_dir, args.batch_size)
    with tf.Graph().as_default() as graph:
        tf1.set_random_seed(0)
        global_step = tf1.train.get_or_create_global_step()
        x = tf1.placeholder(tf.float32, images.shape)
        y = tf1.placeholder(tf.int32, labels.shape)
        network = cifar10.Network(lrn_gradient=args.lrn_gradient,
                                  precision=args.precision)
        train_op, loss, _ = cifar10_train.build_train_op(
            x, y, global_step, args.batch_size, args.batch_splits, network)
        tensors = step_tensors(graph, train_op)
        config = tf1.ConfigProto(intra_op_parallelism_threads=args.threads,
                                 inter_op_parallelism_threads=args.threads)
        feed = {x: images, y: labels}
        with tf1.Session(config=config) as sess:
            sess.run(tf1.global_variables_initializer())
            for _ in range(args.steps - 1):
                sess.run(train_op, feed)
            values = sess.run(tensors, feed)
    np.savez(args.dump, **{f'{i:05d} {t.name}': v.astype(np.float32)
                           for i, (t, v) in enumerate(zip(tensors, values))})


def compare(path_a, path_b):
    """Returns (number of tensors, [(name, differing elements, size, max
    difference)] in the graph's order) of two dumps."""
    a, b = np.load(path_a), np.load(path_b)
    if sorted(a.files) != sorted(b.files):
        raise SystemExit('error: the two runs built different graphs')
    differ = []
    for key in sorted(a.files):
        x, y = a[key], b[key]
        if not np.array_equal(x, y, equal_nan=True):
            gap = np.abs(x.astype(np.float64) - y)
            differ.append((key.split(' ', 1)[1], int((gap > 0).sum()), x.size,
                           float(np.nanmax(gap))))
    return len(a.files), differ


def _run(args, allocator, out):
    argv = [sys.executable, os.path.abspath(__file__), '--dump', out,
            f'--batch_size={args.batch_size}', f'--steps={args.steps}',
            f'--batch_splits={args.batch_splits}', f'--threads={args.threads}',
            f'--precision={args.precision}', f'--lrn_gradient={args.lrn_gradient}']
    if args.data_dir:
        argv.append(f'--data_dir={args.data_dir}')
    env = dict(os.environ, TF_CPU_ALLOCATOR_USE_BFC='true' if allocator == 'bfc' else 'false',
               MALLOC_PERTURB_=PERTURB_BYTE)
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    if result.returncode:
        lines = result.stderr.strip().splitlines() or ['(no output)']
        raise SystemExit(f'error: the {allocator} run failed: {lines[-1]}')


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.dump:
        dump(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, allocator in (('bfc', 'bfc'), ('bfc again', 'bfc'),
                                ('default', 'default')):
            runs[name] = os.path.join(tmp, name.replace(' ', '_') + '.npz')
            _run(args, allocator, runs[name])
        for first, second in (('bfc', 'bfc again'), ('bfc', 'default')):
            total, differ = compare(runs[first], runs[second])
            print(f'{first} against {second}: {len(differ)} of {total} tensors differ '
                  f'(step {args.steps}, batch {args.batch_size}, {args.precision})')
            for name, count, size, gap in differ[:args.show]:
                print(f'  {name}: {count} of {size} elements, by up to {gap:.3g}')


if __name__ == '__main__':
    # Started by a process that asked for it (the test suite), end with it.
    sys.path.insert(0, REPO)
    from cifar10.runtime.cli import end_with_parent
    end_with_parent()
    main()
