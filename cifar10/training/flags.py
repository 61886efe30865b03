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
"""Command-line flags the scripts share.

Parsers for numbers and booleans that fail with a message saying what was
expected, and the groups of flags every trainer (add_training_flags) and
every script that runs a session (add_session_flags) takes. Only the
scripts' entry points parse flags; library functions take explicit
arguments.
"""

import argparse
import math
import os

from cifar10 import cifar10
from cifar10.data import datasets
from cifar10.data import image_headers
from cifar10.model import precision
from cifar10.runtime import kernels
from cifar10.runtime import session

_TRUE = ('true', 't', 'yes', 'y', '1', 'on')
_FALSE = ('false', 'f', 'no', 'n', '0', 'off')


def parse_bool(text):
    """Parses a boolean flag value ('true', 'false', '1', '0', 'yes', ...)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f'expected true or false, got {text!r}')


def number(text, kind, is_valid, expected):
    """Parses ``text`` with ``kind`` (int or float), then checks it.

    Raises:
      argparse.ArgumentTypeError: saying what was expected.
    """
    noun = 'an integer' if kind is int else 'a number'
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected {noun}, got {text!r}') from None
    if not is_valid(value):
        raise argparse.ArgumentTypeError(f'expected {noun} {expected}, got {text}')
    return value


def positive_int(text):
    """Parses an integer > 0."""
    return number(text, int, lambda v: v > 0, '> 0')


def non_negative_int(text):
    """Parses an integer >= 0."""
    return number(text, int, lambda v: v >= 0, '>= 0')


def positive_float(text):
    """Parses a finite number > 0."""
    return number(text, float, lambda v: v > 0 and math.isfinite(v), '> 0')


def fraction(text):
    """Parses a number in [0, 1]."""
    return number(text, float, lambda v: 0.0 <= v <= 1.0, 'from 0 to 1')


def add_bool_flag(parser, name, default, help_text):
    """Adds a boolean flag that parses as the original's absl flags did.

    ``--name``, ``--name=true`` and ``--name=1`` set it; ``--name=false``,
    ``--name=0`` and ``--noname`` clear it.
    """
    parser.add_argument(f'--{name}', nargs='?', const=True, default=default,
                        type=parse_bool, metavar='BOOL',
                        help=f'{help_text} (default: {str(default).lower()})')
    parser.add_argument(f'--no{name}', dest=name, action='store_false',
                        help=argparse.SUPPRESS)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default once: boolean flags already say theirs, and
    a None default is one the help text explains."""

    def _get_help_string(self, action):
        if action.type is parse_bool or action.default is None:
            return action.help
        return super()._get_help_string(action)


def new_parser(description):
    """Returns an argument parser that refuses abbreviated flag names."""
    return argparse.ArgumentParser(
        description=description, allow_abbrev=False,
        formatter_class=_HelpFormatter)


def layer_scopes(text):
    """Parses a comma-separated list of layer scopes (conv1,...,softmax_linear)."""
    scopes = tuple(s.strip() for s in text.split(',') if s.strip())
    unknown = [s for s in scopes if s not in cifar10.LAYER_SCOPES]
    if not scopes or unknown:
        raise argparse.ArgumentTypeError(
            f'expected a comma-separated list of {", ".join(cifar10.LAYER_SCOPES)}; '
            f'got {text!r}')
    return scopes


def add_model_flag(parser):
    """Adds --model, for every script that builds the network."""
    parser.add_argument('--model', choices=cifar10.MODELS,
                        default=cifar10.DEFAULT_MODEL,
                        help="The network: the tutorial's (fully connected "
                             'local3 and local4), or local, the cuda-convnet '
                             'model its exercise points to (locally connected '
                             'local3 and local4). A checkpoint is read only by '
                             'the model that wrote it.')


def add_dataset_flags(parser, data_help='the data directory'):
    """Adds --dataset, --cifar100_label and --data_dir, for every script
    that reads data (or class names)."""
    parser.add_argument('--dataset', choices=datasets.NAMES, default='cifar10',
                        help='The data set: CIFAR-10, CIFAR-100 (downloaded '
                             'like CIFAR-10), SVHN (converted first by '
                             'scripts/svhn_to_binary.py), or custom: your own '
                             'images, converted first by '
                             'cifar10_convert_images.py into --data_dir. The '
                             'number of classes (and, for custom, the image '
                             'size) follows it.')
    parser.add_argument('--cifar100_label', choices=datasets.CIFAR100_LABELS,
                        default='fine',
                        help='CIFAR-100 only: learn its 100 fine classes or '
                             'its 20 coarse ones.')
    parser.add_argument('--data_dir', default='/tmp/cifar10_data',
                        help=f'Path to {data_help}; each data set has its '
                             'own folder inside it, except custom, whose '
                             "--data_dir is the converter's output folder.")


def add_max_image_pixels_flag(parser):
    """--max_image_pixels, for the scripts that decode users' image files."""
    parser.add_argument(
        '--max_image_pixels', type=positive_int,
        default=image_headers.DEFAULT_MAX_PIXELS,
        help='Refuse an image file whose header claims more pixels (width x '
             'height) than this, before decoding it: a small file can claim '
             'an image too large for the memory.')


def output_folder(args, cifar10_default, suffix):
    """The default of an output folder flag (--eval_dir, --export_dir).

    CIFAR-10 keeps the tutorial's folder; any other data set gets one named
    after --checkpoint_dir (/tmp/pets_train -> /tmp/pets_train_eval), so
    that its results do not land among CIFAR-10's.

    Args:
      args: Parsed flags, with dataset and checkpoint_dir.
      cifar10_default: The folder for CIFAR-10.
      suffix: Added to --checkpoint_dir otherwise.
    """
    if args.dataset == 'cifar10':
        return cifar10_default
    return os.path.normpath(args.checkpoint_dir) + suffix


def network_from_flags(args):
    """The cifar10.Network that parsed flags ask for.

    --model and --dataset (its class count and crop size) always;
    --lrn_gradient and --trainable_scopes where the script has them.
    """
    dataset = datasets.from_flags(args)
    return cifar10.Network(
        model=args.model, num_classes=dataset.num_classes,
        lrn_gradient=getattr(args, 'lrn_gradient', None) or cifar10.DEFAULT_LRN_GRADIENT,
        trainable_scopes=getattr(args, 'trainable_scopes', None),
        image_size=dataset.crop_size,
        precision=getattr(args, 'precision', None) or precision.DEFAULT_POLICY)


def add_training_flags(parser):
    """Adds the flags common to the single- and multi-device trainers."""
    parser.add_argument('--train_dir', default='/tmp/cifar10_train',
                        help='Directory for event logs and checkpoints; a '
                             'run resumes from the newest checkpoint here.')
    add_dataset_flags(parser)
    add_model_flag(parser)
    parser.add_argument('--fine_tune_from', default=None,
                        metavar='CHECKPOINT_OR_DIR',
                        help='Start a new run from the variables of this '
                             'trained model (a checkpoint, or the newest in a '
                             'directory) that have the same name and shape; '
                             'the others start freshly initialized, and the '
                             'run starts at step 0. Ignored once --train_dir '
                             'has a checkpoint of its own.')
    parser.add_argument('--trainable_scopes', type=layer_scopes, default=None,
                        metavar='SCOPES',
                        help='Train only these layers (comma-separated, such '
                             'as local3,local4,softmax_linear); the others, '
                             'and their moving averages, stay as they are. '
                             'Default: all layers.')
    parser.add_argument('--max_steps', type=non_negative_int, default=1000000,
                        help='Number of batches to run (global step to stop at).')
    parser.add_argument('--batch_size', type=positive_int, default=128,
                        help='Number of images to process in a batch.')
    parser.add_argument('--log_frequency', type=positive_int, default=10,
                        help='How often (in steps) to log results to the console.')
    add_session_flags(parser)
    add_bool_flag(parser, 'use_fp16', False,
                  'Train the model using fp16.')
    parser.add_argument('--precision', choices=precision.POLICIES,
                        default=precision.DEFAULT_POLICY,
                        help='float32: the tutorial\'s. mixed_bfloat16: '
                             'convolutions and matrix products compute in '
                             'bfloat16, everything else (variables, '
                             'checkpoints, loss, optimizer) in float32; faster '
                             'on processors with native bfloat16 (AVX512_BF16 '
                             'or AMX; GPUs from Ampere on), slower elsewhere.')
    parser.add_argument('--save_checkpoint_secs', type=positive_float,
                        default=None,
                        help='Save a checkpoint every this many seconds '
                             '(600 unless --save_checkpoint_steps is given).')
    parser.add_argument('--save_checkpoint_steps', type=positive_int,
                        default=None,
                        help='Save a checkpoint every this many steps.')
    parser.add_argument('--save_summaries_steps', type=positive_int,
                        default=100,
                        help='Write TensorBoard summaries every this many steps.')
    parser.add_argument('--trace_step', type=positive_int, default=None,
                        help='Write a Chrome trace of this global step to '
                             '--train_dir (timeline-step-N.json).')
    add_input_pipeline_flag(parser, cifar10.INPUT_PIPELINES,
                            'How training images are read and prepared: queue '
                            'runners a batch at a time (queues; "batch" is its '
                            'old name), the original tutorial\'s queues with '
                            'one image per op (per_image), or tf.data '
                            '(tf_data); the same math either way.')
    parser.add_argument('--lrn_gradient', choices=cifar10.LRN_GRADIENTS,
                        default=None,
                        help='How the local response normalizations and '
                             'their gradient are computed: from banded matrix '
                             'products (fast on a CPU) or by TensorFlow\'s LRN '
                             'op and LRNGrad kernel (the original; cuDNN on a '
                             'GPU). The same function either way, to float32 '
                             'rounding. Default: follows the device, builtin '
                             'when a GPU is visible, else matmul.')
    parser.add_argument('--num_preprocess_threads', type=positive_int,
                        default=None,
                        help='Threads preparing training images (default: 2 '
                             'for the queues, 16 for per_image; tf_data tunes '
                             'its own parallelism).')
    parser.add_argument('--min_fraction_of_examples_in_queue', type=fraction,
                        default=0.4,
                        help='Fraction of an epoch the shuffle queue holds '
                             'before training starts; lower starts sooner '
                             'but shuffles less.')


def add_input_pipeline_flag(parser, choices, help_text):
    """Adds --input_pipeline with the given choices ('batch' is taken as
    'queues', its old name)."""
    def pipeline(text):
        value = cifar10.PIPELINE_ALIASES.get(text, text)
        if value not in choices:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {text!r} (choose from {', '.join(choices)})")
        return value
    parser.add_argument('--input_pipeline', type=pipeline, default='queues',
                        metavar='{' + ','.join(choices) + '}', help=help_text)


_DEVICE_SPLITS = ('follows the device, 1 when a GPU is visible, else 2 on a '
                  'CPU with at least 2 cores (1 with one)')


def add_batch_splits_flag(parser, default_text=_DEVICE_SPLITS):
    """Adds --batch_splits, for the trainers that build one model per batch
    (cifar10_train.py, and each worker of the distributed trainer).

    Args:
      parser: The parser.
      default_text: How the help describes the default.
    """
    parser.add_argument(
        '--batch_splits', type=positive_int, default=None,
        help='Split each batch into this many equal parts, computed side by '
             'side (as towers on the one device) with their gradients '
             'averaged: the same update as the whole batch, in less time on '
             f'a multi-core CPU. Default: {default_text}.')


def check_batch_splits(parser, args):
    """Fills in the --batch_splits default; refuses a split that does not
    divide --batch_size (a usage error, through ``parser``)."""
    if args.batch_splits is None:
        args.batch_splits = session.default_batch_splits()
    if args.batch_size % args.batch_splits:
        parser.error(f'--batch_size={args.batch_size} does not split into '
                     f'--batch_splits={args.batch_splits} equal parts')


def resolve_device_defaults(args, parser=None):
    """Fills in the training defaults that follow the device, and checks the
    precision flags.

    Flags whose default depends on whether a GPU is visible are parsed
    with a default of None; this asks the machine once they are.

    Args:
      args: Parsed training flags (add_training_flags).
      parser: The parser, for usage errors.

    Returns:
      ``args``, with --lrn_gradient set.
    """
    if args.lrn_gradient is None:
        args.lrn_gradient = session.default_lrn_gradient()
    if args.use_fp16 and args.precision != precision.DEFAULT_POLICY and parser:
        parser.error(f'--use_fp16 (the whole model in float16) and '
                     f'--precision={args.precision} exclude each other')
    return args


def add_session_flags(parser):
    """Adds the session performance knobs every script shares."""
    add_bool_flag(parser, 'log_device_placement', False,
                  'Whether to log device placement.')
    parser.add_argument('--intra_op_threads', type=non_negative_int, default=0,
                        help='Threads one op (a convolution, say) may use; 0 '
                             'lets TensorFlow use one per core.')
    parser.add_argument('--inter_op_threads', type=non_negative_int, default=0,
                        help='Ops run at the same time; 0 lets TensorFlow '
                             'choose from the core count.')
    add_bool_flag(parser, 'bfc_allocator', True,
                  "Give this process's CPU tensors TensorFlow's BFC allocator, "
                  'which keeps freed blocks for reuse: training peaked ~30 MB '
                  'lower with it (its heap otherwise fragments as the run goes '
                  'on). Decided by the first session a process creates.')
    add_bool_flag(parser, kernels.FLAG, True,
                  "Run TensorFlow's oneDNN CPU kernels. TensorFlow turns them on "
                  'by itself only on CPUs with AVX512_VNNI, AVX512_BF16, '
                  'AVX_VNNI or AMX; this turns them on on any x86 CPU with '
                  'AVX2, where they trained this model 1.8x as fast as '
                  "TensorFlow's own. false: TensorFlow's own kernels. An "
                  'explicit TF_ENABLE_ONEDNN_OPTS in the environment wins. '
                  'Read before TensorFlow loads.')
    add_bool_flag(parser, 'xla', False,
                  'Turn on XLA auto-clustering. TensorFlow applies it to '
                  'GPU ops; on a CPU it changes nothing unless '
                  'TF_XLA_FLAGS=--tf_xla_cpu_global_jit is also set, and '
                  'then trained at half the speed here.')
