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
"""A binary to train CIFAR-10 using a single device.

Usage:
  python cifar10_train.py [--train_dir=/tmp/cifar10_train] [--max_steps=N]

Speed and precision: see docs/performance.md and docs/learning.md.
Training resumes from the newest checkpoint in --train_dir; SIGINT or
SIGTERM stops it after the current step with a checkpoint at that step.
"""

import importlib

if __name__ == '__main__':
    # The package on sys.path, TensorFlow imported quietly (script_setup).
    importlib.import_module(
        'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

import tensorflow as tf

from cifar10 import cifar10
from cifar10.parallel import towers
from cifar10.runtime import cli
from cifar10.training import flags
from cifar10.training import loop

tf1 = tf.compat.v1


def parse_args(argv):
    """Parses the trainer's command line.

    Args:
      argv: Arguments without the program name.

    Returns:
      An argparse.Namespace.
    """
    parser = flags.new_parser(
        'Train the CIFAR-10 network on a single device.')
    flags.add_training_flags(parser)
    flags.add_batch_splits_flag(parser)
    args = flags.resolve_device_defaults(parser.parse_args(argv), parser)
    flags.check_batch_splits(parser, args)
    return args


def build_train_op(images, labels, global_step, batch_size, splits,
                   network=cifar10.Network(), update=cifar10.apply_update,
                   examples_per_epoch=cifar10.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN):
    """Builds the single-device training step.

    Args:
      images: A [batch_size, 24, 24, 3] tensor.
      labels: A [batch_size] tensor.
      global_step: The global step variable.
      batch_size: Examples per step.
      splits: Equal parts to split the batch into (1 for none); each part
        is a tower (see parallel/towers.py) and the parts' gradients are
        averaged, which gives the whole batch's gradient.
      network: The cifar10.Network to build (model, classes, LRN
        gradient, frozen layers).
      update: Builds the update from (optimizer, gradients, global step);
        see cifar10.apply_update.
      examples_per_epoch: Training examples per epoch of the data set,
        for the learning-rate schedule.

    Returns:
      train_op: runs one step.
      loss: the total loss of the batch.
      summary_op: the summaries to write, or None for all of the graph's.
    """
    if splits == 1:
        logits = network.logits(images)
        loss = cifar10.loss(logits, labels)
        train_op = cifar10.train(loss, global_step, batch_size, update,
                                 examples_per_epoch)
        return train_op, loss, None
    parts = list(zip(tf.split(images, splits), tf.split(labels, splits)))
    return towers.build_train_op(
        lambda i: parts[i], global_step, batch_size, [''] * splits,
        network, layer_summaries=towers.ALL_TOWERS, update=update,
        examples_per_epoch=examples_per_epoch)


def train(args):
    """Trains CIFAR-10 for ``args.max_steps`` global steps.

    Args:
      args: Parsed flags (see parse_args).

    Returns:
      The exit status (0).
    """
    with loop.prepare_training(args), tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()
        images, labels = loop.training_inputs(args)
        train_op, loss, summary_op = build_train_op(
            images, labels, global_step, args.batch_size, args.batch_splits,
            flags.network_from_flags(args),
            examples_per_epoch=loop.examples_per_epoch(args))
        loop.run_training_from_flags(
            args, train_op, loss, global_step,
            examples_per_step=args.batch_size, summary_op=summary_op)
        return 0


def main(argv=None):
    """Entry point: parses flags, trains, exits with a status."""
    cli.run_main(lambda a: train(parse_args(a)), argv)


if __name__ == '__main__':
    main()
