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

Speed and precision: see README.md. Training resumes from the newest
checkpoint in --train_dir; SIGINT or SIGTERM stops it after the current step
with a checkpoint at that step.
"""

import os
import sys

if __name__ == '__main__':
    # Run as a file, this script's folder comes first on sys.path and
    # "cifar10" would name the sibling module cifar10.py, not the package.
    _here = os.path.dirname(os.path.abspath(__file__))
    if not __package__:
        sys.path = [p for p in sys.path if os.path.abspath(p or '.') != _here]
        sys.path.insert(0, os.path.dirname(_here))
    from cifar10.cli import import_tensorflow_quietly
    import_tensorflow_quietly()

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import script_util

tf1 = tf.compat.v1


def parse_args(argv):
    """Parses the trainer's command line.

    Args:
      argv: Arguments without the program name.

    Returns:
      An argparse.Namespace.
    """
    parser = script_util.new_parser(
        'Train the CIFAR-10 network on a single device.')
    script_util.add_training_flags(parser)
    return parser.parse_args(argv)


def train(args):
    """Trains CIFAR-10 for ``args.max_steps`` global steps.

    Args:
      args: Parsed flags (see parse_args).

    Returns:
      The exit status (0).
    """
    script_util.prepare_training(args)
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()
        images, labels = script_util.training_inputs(args)
        logits = cifar10.inference(images, args.lrn_gradient)
        loss = cifar10.loss(logits, labels)
        train_op = cifar10.train(loss, global_step, args.batch_size)
        return script_util.run_training_from_flags(
            args, train_op, loss, global_step,
            examples_per_step=args.batch_size)


def main(argv=None):
    """Entry point: parses flags, trains, exits with a status."""
    script_util.run_main(lambda a: train(parse_args(a)), argv)


if __name__ == '__main__':
    main()
