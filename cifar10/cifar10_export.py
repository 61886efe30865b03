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
"""Exports a trained CIFAR-10 model as a SavedModel for serving.

Usage:
  python cifar10_export.py --checkpoint_dir=/tmp/cifar10_train --export_dir=/tmp/cifar10_model

Writes ``<export_dir>/<global step>/``, the layout TensorFlow Serving
expects (``--model_base_path=<export_dir>``). Its ``serving_default``
signature takes ``images``, a uint8 [N, 32, 32, 3] batch (a custom data
set's image size instead of 32), and returns
``probabilities`` (float32 [N, C], softmax, C being the --dataset's
classes: 10 for CIFAR-10) and ``classes`` (int64 [N]); the class names
are in ``assets.extra/class_names.txt``, one a line, in index order.
--model says which network the checkpoint holds.
The weights are the checkpoint's moving averages, and images are prepared
inside the graph as evaluation prepares them (central 24x24 crop, or 3/4 of
a custom image size, and per-image standardization), so the model gives the same probabilities as
cifar10_predict.py.
"""

import importlib
import os

if __name__ == '__main__':
    # The package on sys.path, TensorFlow imported quietly (script_setup).
    importlib.import_module(
        'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

import shutil
import tempfile

import tensorflow as tf

from cifar10 import cifar10
from cifar10.data import datasets
from cifar10.runtime import cli
from cifar10.training import checkpoints
from cifar10.training import flags

tf1 = tf.compat.v1

SIGNATURE_NAME = 'serving_default'


def parse_args(argv):
    """Parses the command line.

    Args:
      argv: Arguments without the program name.

    Returns:
      An argparse.Namespace.
    """
    parser = flags.new_parser('Export a trained CIFAR-10 model as a SavedModel.')
    parser.add_argument('--checkpoint_dir', default='/tmp/cifar10_train',
                        help='Directory where to read model checkpoints.')
    parser.add_argument('--export_dir', default=None,
                        help='Base directory; the model goes to a subfolder '
                             'named after the checkpoint\'s global step '
                             '(default: /tmp/cifar10_model for CIFAR-10, else '
                             '--checkpoint_dir with _model added).')
    flags.add_dataset_flags(
        parser, data_help='the data directory; the class names are read from '
                          'it, and for --dataset=custom the image size and '
                          'resize rule too')
    flags.add_model_flag(parser)
    args = parser.parse_args(argv)
    if args.export_dir is None:
        args.export_dir = flags.output_folder(args, '/tmp/cifar10_model', '_model')
    return args


def export(checkpoint_path, export_base, network=cifar10.Network(),
           class_names=datasets.CIFAR10.class_names, image_size=32):
    """Writes the SavedModel of one checkpoint.

    The model is written to a temporary folder beside its destination and
    renamed into place once complete, so a failure leaves nothing that
    TensorFlow Serving could pick up half-written.

    Args:
      checkpoint_path: Checkpoint prefix; its moving averages are exported.
      export_base: Base directory of the export.
      network: The cifar10.Network the checkpoint holds.
      class_names: The names of its classes, written beside the model.
      image_size: Side of the images the model takes (the data set's).

    Returns:
      The directory written, ``<export_base>/<global step>``.

    Raises:
      DataError: if that directory exists already or the checkpoint cannot
        be restored.
    """
    step = checkpoints.checkpoint_step(checkpoint_path)
    dest = os.path.join(export_base, str(step))
    if os.path.exists(dest):
        raise cifar10.DataError(f'{dest} exists already; remove it or choose '
                                'another --export_dir')
    checkpoints.ensure_directory(export_base, '--export_dir')
    tmp = tempfile.mkdtemp(prefix=f'.{step}.', dir=export_base)
    try:
        staging = os.path.join(tmp, 'model')
        with tf.Graph().as_default() as graph:
            images = tf1.placeholder(tf.uint8, [None, image_size, image_size, 3],
                                     name='images')
            probabilities, classes = cifar10.predictions(images, network)
            saver = cifar10.restoring_saver()
            cifar10.check_checkpoint_fits(checkpoint_path)
            with tf1.Session(graph=graph) as sess:
                checkpoints.restore_checkpoint(saver, sess, checkpoint_path)
                signature = tf1.saved_model.signature_def_utils.predict_signature_def(
                    inputs={'images': images},
                    outputs={'probabilities': probabilities, 'classes': classes})
                builder = tf1.saved_model.Builder(staging)
                builder.add_meta_graph_and_variables(
                    sess, [tf1.saved_model.tag_constants.SERVING],
                    signature_def_map={SIGNATURE_NAME: signature},
                    strip_default_attrs=True)
                builder.save()
        extra = os.path.join(staging, 'assets.extra')
        os.makedirs(extra)
        with open(os.path.join(extra, 'class_names.txt'), 'w',
                  encoding='utf-8') as f:
            f.write(''.join(f'{name}\n' for name in class_names))
        os.replace(staging, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def main(argv=None):
    """Entry point: parses flags, exports, exits with a status."""
    def run(argv):
        args = parse_args(argv)
        dataset = datasets.from_flags(args)
        network = flags.network_from_flags(args)
        names = dataset.class_names_in(dataset.folder(args.data_dir))
        size = dataset.image_size
        dest = export(checkpoints.newest_checkpoint(args.checkpoint_dir),
                      args.export_dir, network, names, size)
        print(f'Exported {dest}: {network.describe()} for {dataset.describe()} '
              f'(signature {SIGNATURE_NAME!r}: images uint8 [N, {size}, {size}, 3] -> '
              f'probabilities float32 [N, {network.num_classes}], classes int64 '
              '[N]; class names in assets.extra/class_names.txt).')
        return 0
    cli.run_main(run, argv)


if __name__ == '__main__':
    main()
