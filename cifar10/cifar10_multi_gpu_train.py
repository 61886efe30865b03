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
"""A binary to train CIFAR-10 using multiple GPUs with synchronous updates.

Each of --num_gpus towers (tower_0, tower_1, ...) builds the full model on
its own device and its own batch of --batch_size images. The variables live
once, on the CPU, and every tower uses them (variable-scope reuse). The
gradients of all towers are averaged on the CPU and applied once per step,
so the global step advances once per synchronous step.

Usage:
  python cifar10_multi_gpu_train.py --num_gpus=2

On a machine with fewer GPUs than asked for (or none), the towers run on
what there is, which makes the script runnable and testable anywhere.
"""

import importlib

if __name__ == '__main__':
    # The package on sys.path, TensorFlow imported quietly (script_setup).
    importlib.import_module(
        'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

import tensorflow as tf

from cifar10.parallel import towers
from cifar10.runtime import cli
from cifar10.runtime import session
from cifar10.training import flags
from cifar10.training import loop

tf1 = tf.compat.v1


def parse_args(argv):
    """Parses the multi-GPU trainer's command line.

    Args:
      argv: Arguments without the program name.

    Returns:
      An argparse.Namespace.
    """
    parser = flags.new_parser(
        'Train the CIFAR-10 network on several GPUs with synchronous updates.')
    flags.add_training_flags(parser)
    parser.add_argument('--num_gpus', type=flags.positive_int, default=1,
                        help='How many towers (model replicas) to run, one '
                             'per GPU. --batch_size is per tower.')
    return flags.resolve_device_defaults(parser.parse_args(argv), parser)


def tower_devices(num_towers, num_gpus_available):
    """Returns the device of each tower.

    Args:
      num_towers: Towers asked for.
      num_gpus_available: GPUs this machine has.

    Returns:
      A list of device strings: '/gpu:i' while there are GPUs (shared round
      robin if there are fewer than towers), '/cpu:0' when there are none.
    """
    if num_gpus_available == 0:
        return ['/cpu:0'] * num_towers
    return [f'/gpu:{i % num_gpus_available}' for i in range(num_towers)]


def batch_queue_inputs(images, labels, num_towers):
    """Puts whole batches in a prefetch queue that the towers dequeue from.

    One input pipeline serves all towers: batches are taken from the
    shuffle queue by background threads and kept ready on the CPU.

    Args:
      images: A [batch, ...] tensor from the input pipeline.
      labels: A [batch] tensor from the input pipeline.
      num_towers: How many towers will dequeue.

    Returns:
      A function taking a tower index and returning its (images, labels).
    """
    with tf.device('/cpu:0'):
        queue = tf1.FIFOQueue(capacity=2 * num_towers,
                              dtypes=[images.dtype, labels.dtype],
                              shapes=[images.shape, labels.shape],
                              name='batch_queue')
        enqueue = queue.enqueue([images, labels])
        tf1.train.add_queue_runner(tf1.train.QueueRunner(queue, [enqueue] * 2))

    def dequeue(tower_index):
        del tower_index  # Each tower takes the next batch.
        return queue.dequeue()
    return dequeue


def train(args):
    """Trains CIFAR-10 on ``args.num_gpus`` towers.

    Args:
      args: Parsed flags (see parse_args).

    Returns:
      The exit status (0).
    """
    with loop.prepare_training(args), tf.Graph().as_default():
        available = session.visible_gpus()
        if available < args.num_gpus:
            where = (f'{available} GPU(s), shared by the towers' if available
                     else 'the CPU')
            print(f'Asked for {args.num_gpus} GPU(s), found {available}: '
                  f'running the {args.num_gpus} tower(s) on {where}.', flush=True)
        devices = tower_devices(args.num_gpus, available)
        global_step = tf1.train.get_or_create_global_step()
        images, labels = loop.training_inputs(args)
        tower_inputs = batch_queue_inputs(images, labels, args.num_gpus)
        train_op, loss, summary_op = towers.build_train_op(
            tower_inputs, global_step, args.batch_size, devices,
            flags.network_from_flags(args),
            examples_per_epoch=loop.examples_per_epoch(args))
        loop.run_training_from_flags(
            args, train_op, loss, global_step,
            examples_per_step=args.batch_size * args.num_gpus,
            summary_op=summary_op)
        return 0


def main(argv=None):
    """Entry point: parses flags, trains, exits with a status."""
    cli.run_main(lambda a: train(parse_args(a)), argv)


if __name__ == '__main__':
    main()
