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
"""Times each matrix-product kernel of a training step on its own.

    python scripts/kernel_rates.py
    python scripts/kernel_rates.py --precisions float32 --splits 1

A training step of the tutorial's model multiplies weights with inputs in
fourteen kernels: each convolution's forward pass, filter gradient and
input gradient (conv1's input gradient is never needed: the images learn
nothing) and the same three products for each fully connected layer. This
runs each of them alone, at the batch one part of a split batch gets (as
cifar10_train.py's --batch_splits), in each precision, and prints its
rate in multiply-adds per second beside the rate of TensorFlow's matmul of
2048 x 2048, the rate the benchmark's bound is made of.

The last line per precision adds the kernels' times up for one step: how
fast training could be if everything else (LRN, pooling, ReLU, bias,
casts, the update, the input) took no time. That is the ceiling the
kernels themselves put on the fraction of the bound a trainer can reach.
"""

import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

DTYPES = ('float32', 'bfloat16')


def product_layers(network=None):
    """The layers of a network that multiply weights, bottom to top.

    Builds the network in a graph of its own on one image and reads each
    product op's operands, so the shapes are what inference() builds.

    Args:
      network: A cifar10.Network (the tutorial's model by default).

    Returns:
      A list of (layer, kind, input shape without the batch, weight shape,
      padding) with kind 'conv' or 'matmul' (padding None for 'matmul').
    """
    import tensorflow as tf
    from cifar10 import cifar10
    from cifar10.model import layer_sizes
    tf1 = tf.compat.v1
    network = network or cifar10.Network()
    graph = tf.Graph()
    with graph.as_default():
        side = network.image_size
        network.logits(tf1.placeholder(tf.float32, [1, side, side, 3]))
        weights = {v.op.name.rsplit('/', 1)[0]: v.shape.as_list()
                   for v in tf1.global_variables()
                   if v.op.name.endswith('/weights')}
        layers = []
        for name in layer_sizes.LAYERS:
            if name not in weights:
                continue  # Pooling and normalization multiply no weights.
            for op in graph.get_operations():
                if (op.name.startswith(name + '/') and op.type in ('Conv2D', 'MatMul')
                        and op.inputs[1].shape.as_list() == weights[name]):
                    conv = op.type == 'Conv2D'
                    layers.append((name, 'conv' if conv else 'matmul',
                                   op.inputs[0].shape.as_list()[1:], weights[name],
                                   op.get_attr('padding').decode() if conv else None))
                    break
    return layers


def kernels(layers, batch):
    """The training step's product kernels of ``layers`` at ``batch``.

    Args:
      layers: product_layers().
      batch: Examples each kernel computes at once.

    Returns:
      A list of (name, multiply-adds, builder), the builder taking a dtype
      and returning the kernel's op on variables of that dtype.
    """
    import numpy as np
    import tensorflow as tf
    tf1 = tf.compat.v1

    def variable(shape, dtype):
        # Random operands: products of zeros could take shortcuts.
        return tf1.Variable(tf.cast(tf.random.normal(shape, stddev=0.1), dtype))

    out = []
    for index, (name, kind, in_shape, w_shape, padding) in enumerate(layers):
        x_shape = [batch] + in_shape
        if kind == 'conv':
            y_shape = [batch] + in_shape[:2] + [w_shape[3]]
            macs = int(np.prod(y_shape)) * int(np.prod(w_shape[:3]))

            def forward(dtype, x=x_shape, w=w_shape, p=padding):
                return tf.nn.conv2d(variable(x, dtype), variable(w, dtype), 1, p).op

            def filter_gradient(dtype, x=x_shape, w=w_shape, y=y_shape, p=padding):
                return tf1.nn.conv2d_backprop_filter(
                    variable(x, dtype), w, variable(y, dtype), [1, 1, 1, 1], p).op

            def input_gradient(dtype, x=x_shape, w=w_shape, y=y_shape, p=padding):
                return tf1.nn.conv2d_backprop_input(
                    x, variable(w, dtype), variable(y, dtype), [1, 1, 1, 1], p).op
        else:
            x_shape = [batch, int(np.prod(in_shape))]
            y_shape = [batch, w_shape[1]]
            macs = batch * w_shape[0] * w_shape[1]

            def forward(dtype, x=x_shape, w=w_shape):
                return tf.matmul(variable(x, dtype), variable(w, dtype)).op

            def filter_gradient(dtype, x=x_shape, y=y_shape):
                return tf.matmul(variable(x, dtype), variable(y, dtype),
                                 transpose_a=True).op

            def input_gradient(dtype, w=w_shape, y=y_shape):
                return tf.matmul(variable(y, dtype), variable(w, dtype),
                                 transpose_b=True).op
        out.append((f'{name} forward', macs, forward))
        out.append((f'{name} filter gradient', macs, filter_gradient))
        if index > 0:  # Nothing needs the gradient of the images.
            out.append((f'{name} input gradient', macs, input_gradient))
    return out


def best_seconds(sess, op, windows, window_secs):
    """The best time of one run of ``op`` over ``windows`` timed windows.

    The best, not the median, as for the benchmark's bound: on a shared
    machine a window is only ever slowed by other work.
    """
    sess.run(op)  # Warm-up: oneDNN builds its kernel on the first run.
    start = time.perf_counter()
    sess.run(op)
    runs = max(1, round(window_secs / max(time.perf_counter() - start, 1e-6)))
    best = float('inf')
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(runs):
            sess.run(op)
        best = min(best, (time.perf_counter() - start) / runs)
    return best


def measure(layers, dtype_name, batch, splits, matmul_size, windows,
            window_secs):
    """Times the matmul and every kernel of ``layers`` (product_layers())
    in one precision.

    Returns:
      (matmul multiply-adds/sec, [(kernel, multiply-adds at the part's
      batch, seconds)]).
    """
    import tensorflow as tf
    tf1 = tf.compat.v1
    dtype = tf.as_dtype(dtype_name)
    part = batch // splits
    with tf.Graph().as_default():
        n = matmul_size
        square = tf.matmul(tf1.Variable(tf.cast(tf.random.normal([n, n]), dtype)),
                           tf1.Variable(tf.cast(tf.random.normal([n, n]), dtype))).op
        ops = [(name, macs, build(dtype))
               for name, macs, build in kernels(layers, part)]
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            rate = n ** 3 / best_seconds(sess, square, windows, window_secs)
            times = [(name, macs, best_seconds(sess, op, windows, window_secs))
                     for name, macs, op in ops]
    return rate, times


def report(dtype_name, batch, splits, matmul_size, rate, times):
    """The table's lines for one precision, and the ceiling line."""
    part = batch // splits
    lines = [f'| {dtype_name} | matmul {matmul_size} x {matmul_size} | '
             f'| {rate / 1e9:,.1f} | 1.00 |']
    step = 0.0
    step_macs = 0
    for name, macs, seconds in times:
        lines.append(f'| {dtype_name} | {name} | {seconds * 1e3:.3f} '
                     f'| {macs / seconds / 1e9:,.1f} | {macs / seconds / rate:.2f} |')
        step += splits * seconds
        step_macs += splits * macs
    ceiling = batch / step
    bound = rate / (step_macs / batch)
    parts = f'{splits} parts of {part}' if splits > 1 else 'one part'
    lines.append(
        f'{dtype_name}: the kernels alone take {step * 1e3:.2f} ms a step of '
        f'{batch} ({parts}; {step_macs // batch:,} multiply-adds an example) = '
        f'{ceiling:,.0f} examples/sec = {ceiling / bound:.2f}x the bound '
        f'({bound:,.0f} examples/sec at the matmul\'s rate)')
    return lines


def parse_args(argv):
    from cifar10.runtime import kernels
    from cifar10.training import flags
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch_size', type=int, default=128,
                        help='Examples per training step (default: 128).')
    parser.add_argument('--splits', type=int, default=0,
                        help='Parts the batch is split into, as '
                             'cifar10_train.py --batch_splits; 0 for its '
                             'default on this machine.')
    parser.add_argument('--precisions', default=','.join(DTYPES),
                        help='Comma-separated, of float32 and bfloat16.')
    parser.add_argument('--windows', type=int, default=5,
                        help='Timed windows per kernel; the best counts.')
    parser.add_argument('--window_secs', type=float, default=0.2,
                        help='About how long each timed window runs.')
    parser.add_argument('--matmul_size', type=int, default=2048,
                        help='Side of the square matmul the kernels are '
                             'compared with.')
    flags.add_bool_flag(parser, kernels.FLAG, True,
                        "Run TensorFlow's oneDNN CPU kernels, as the "
                        'trainers do by default (see cifar10_train.py --help).')
    args = parser.parse_args(argv)
    args.precisions = args.precisions.split(',')
    unknown = [p for p in args.precisions if p not in DTYPES]
    if unknown:
        parser.error(f'unknown precision {unknown[0]!r}; expected float32 or bfloat16')
    if args.splits < 0 or args.batch_size < 1 or args.windows < 1 or args.matmul_size < 1:
        parser.error('--batch_size, --windows and --matmul_size must be positive, '
                     '--splits 0 or more')
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    from cifar10.runtime import cli
    from cifar10.runtime import kernels
    # The trainers' kernels: the choice counts only before TensorFlow loads.
    kernels.choose_before_tensorflow(argv)
    cli.import_tensorflow_quietly()
    args = parse_args(argv)
    from cifar10.runtime import session
    splits = args.splits or session.default_batch_splits()
    if args.batch_size % splits:
        sys.exit(f'error: --batch_size {args.batch_size} does not split into '
                 f'{splits} equal parts')
    part = args.batch_size // splits
    print(kernels.describe(args.onednn))
    print()
    print(f'| precision | kernel | ms at batch {part} | G multiply-adds/s | of the matmul |')
    print('| --- | --- | --- | --- | --- |')
    layers = product_layers()
    summaries = []
    for dtype_name in args.precisions:
        rate, times = measure(layers, dtype_name, args.batch_size, splits,
                              args.matmul_size, args.windows, args.window_secs)
        lines = report(dtype_name, args.batch_size, splits, args.matmul_size,
                       rate, times)
        print('\n'.join(lines[:-1]), flush=True)
        summaries.append(lines[-1])
    print()
    print('\n'.join(summaries))
    return 0


if __name__ == '__main__':
    sys.exit(main())
