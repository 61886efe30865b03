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
    # Fail before any slow work if the checkpoints have nowhere to go.
    script_util.ensure_directory(args.train_dir, '--train_dir',
                                 create=False)
    cifar10.maybe_download_and_extract(args.data_dir)
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()

        # Input ops stay on the CPU, also on machines with a GPU.
        with tf.device('/cpu:0'):
            images, labels = cifar10.distorted_inputs(
                args.data_dir, args.batch_size, use_fp16=args.use_fp16,
                num_threads=args.num_preprocess_threads,
                min_fraction_of_examples_in_queue=(
                    args.min_fraction_of_examples_in_queue),
                pipeline=args.input_pipeline)

        logits = cifar10.inference(images)
        loss = cifar10.loss(logits, labels)
        train_op = cifar10.train(loss, global_step, args.batch_size)

        return script_util.run_training(
            train_op, loss, global_step,
            train_dir=args.train_dir, max_steps=args.max_steps,
            examples_per_step=args.batch_size,
            log_frequency=args.log_frequency,
            save_checkpoint_secs=args.save_checkpoint_secs,
            save_checkpoint_steps=args.save_checkpoint_steps,
            save_summaries_steps=args.save_summaries_steps,
            trace_step=args.trace_step,
            config=script_util.session_config_from_flags(args))


def main(argv=None):
    """Entry point: parses flags, trains, exits with a status."""
    script_util.run_main(lambda a: train(parse_args(a)), argv)


if __name__ == '__main__':
    main()
