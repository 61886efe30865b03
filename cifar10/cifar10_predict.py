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
"""Classifies your own images with a trained CIFAR-10 model.

Usage:
  python cifar10_predict.py cat.jpg ship.png
  python cifar10_predict.py photos/            # every image in it, recursively
  python cifar10_predict.py /tmp/cifar10_data/cifar-10-batches-bin/test_batch.bin:0-4
  python cifar10_predict.py --json --top_k=1 photo.jpg
  python cifar10_predict.py --dataset=custom --data_dir=DIR photos/

Each input is an image file (JPEG, PNG, BMP or GIF, of any size), a folder
(its image files and those of its subfolders, hidden ones skipped), or
``FILE.bin:I`` / ``FILE.bin:I-J`` for records I (to J) of a binary file of
the --dataset. Image files are read as the converter reads them
(image_files), resized to the data set's image size (32x32, or a custom
data set's, with its --resize rule), then prepared as evaluation prepares
them (central crop of 3/4, per-image standardization) and classified with
the moving averages of the weights in the newest checkpoint of
--checkpoint_dir, by the network --model and --dataset name (the first
line says which). An input that cannot be read gets one error line; the
others are still classified, and the exit status is 1 if any input failed.
"""

import importlib
import os
import sys

if __name__ == '__main__':
    # The package on sys.path, TensorFlow imported quietly (script_setup).
    importlib.import_module(
        'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

import json
import re

import numpy as np
import tensorflow as tf

from cifar10 import cifar10
from cifar10.data import datasets
from cifar10.data import image_files
from cifar10.data import image_headers
from cifar10.data import record_files
from cifar10.runtime import cli
from cifar10.runtime.errors import DataError
from cifar10.training import checkpoints
from cifar10.training import flags

tf1 = tf.compat.v1

_RECORD_REF = re.compile(r'^(?P<path>.+\.bin):(?P<first>\d+)(?:-(?P<last>\d+))?$')
# Images classified per session run (bounds the memory of a big folder).
_BATCH = 1024
DEFAULT_TOP_K = 3


def parse_args(argv):
    """Parses the command line.

    Args:
      argv: Arguments without the program name.

    Returns:
      An argparse.Namespace.
    """
    parser = flags.new_parser('Classify images with a trained CIFAR-10 model.')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='Image file (JPEG, PNG, BMP, GIF), folder of them '
                             '(recursively), or FILE.bin:I or FILE.bin:I-J for '
                             'records of a binary file of the --dataset.')
    parser.add_argument('--checkpoint_dir', default='/tmp/cifar10_train',
                        help='Directory where to read model checkpoints.')
    flags.add_dataset_flags(
        parser, data_help='the data directory; the class names are read from '
                          'it, and for --dataset=custom the image size and '
                          'resize rule too')
    flags.add_model_flag(parser)
    flags.add_max_image_pixels_flag(parser)
    parser.add_argument('--top_k', type=flags.positive_int, default=None,
                        help='How many classes to show per image (at most the '
                             "data set's classes; default 3, or all of them "
                             'when there are fewer).')
    flags.add_bool_flag(parser, 'json', False,
                        'Print machine-readable JSON instead of text.')
    args = parser.parse_args(argv)
    num_classes = datasets.from_flags(args).num_classes
    if args.top_k is None:
        args.top_k = min(DEFAULT_TOP_K, num_classes)
    if args.top_k > num_classes:
        parser.error(f'argument --top_k: at most {num_classes}, got {args.top_k}')
    return args


class InputError(Exception):
    """One input cannot be read; the message names it and why."""


def load_records(path, first, last, dataset=datasets.CIFAR10):
    """Reads records ``first``..``last`` of a binary file of ``dataset``.

    Returns:
      A list of (image [S, S, 3] float32, label) pairs.

    Raises:
      InputError: if the file is unreadable or malformed, or an index is out
        of range.
    """
    try:
        record_files.validate_data_files([path], dataset)
    except DataError as e:
        raise InputError(str(e)) from None
    count = os.path.getsize(path) // dataset.record_bytes
    if last < first or last >= count:
        which = f'record {first}' if first == last else f'records {first}-{last}'
        raise InputError(f'{path}: {which} not within 0-{count - 1}')
    records = np.memmap(path, np.uint8, 'r', shape=(count, dataset.record_bytes))
    size = dataset.image_size
    out = []
    for index in range(first, last + 1):
        record = np.array(records[index])
        image = record[dataset.label_bytes:].reshape(3, size, size).transpose(1, 2, 0)
        label = int(record[dataset.label_byte])
        if dataset.label_width == 2:
            label = label * 256 + int(record[dataset.label_byte + 1])
        out.append((image.astype(np.float32), label))
    return out


def load_inputs(specs, dataset=datasets.CIFAR10,
                max_pixels=image_headers.DEFAULT_MAX_PIXELS):
    """Loads every input; bad ones become errors, the rest examples.

    Image files, given or found in folders, are decoded together, on every
    core (image_files.decode_files); records are read from their files.

    Args:
      specs: Input strings from the command line.
      dataset: The data set whose layout FILE.bin inputs have, and whose
        image size and resize rule image files get.
      max_pixels: Most pixels an image file may have (image_files).

    Returns:
      examples: list of (name, image, label or None).
      errors: list of (name, message).
    """
    # Results in command-line order: ('example', (name, image, label)) or
    # ('error', (name, message)); image files are filled in once decoded.
    slots = []
    files = []  # (slot, path)
    for spec in specs:
        match = _RECORD_REF.match(spec)
        try:
            if match:
                first = int(match['first'])
                last = int(match['last']) if match['last'] else first
                for offset, (image, label) in enumerate(
                        load_records(match['path'], first, last, dataset)):
                    slots.append(('example', (f'{match["path"]}:{first + offset}',
                                              image, label)))
            elif os.path.isdir(spec):
                found, _ = image_files.files_in(spec)
                if not found:
                    raise InputError(f'{spec}: folder without image files')
                for path in found:
                    files.append((len(slots), path))
                    slots.append(None)
            else:
                files.append((len(slots), spec))
                slots.append(None)
        except InputError as e:
            slots.append(('error', (spec, str(e))))
    if files:
        decoded = image_files.decode_files([path for _, path in files],
                                           dataset.image_size, dataset.resize,
                                           max_pixels=max_pixels)
        for number, (slot, path) in enumerate(files):
            if number in decoded.errors:
                slots[slot] = ('error', (path, f'{path}: {decoded.errors[number]}'))
            else:
                slots[slot] = ('example', (path, decoded.images[number].astype(
                    np.float32), None))
    return ([value for kind, value in slots if kind == 'example'],
            [value for kind, value in slots if kind == 'error'])


def classify(images, checkpoint_path, network=cifar10.Network()):
    """Returns the class probabilities of ``images`` under a checkpoint.

    Args:
      images: A [N, S, S, 3] float32 array of pixel values 0-255, S being
        the data set's image size (32 for CIFAR-10).
      checkpoint_path: Checkpoint prefix; its moving averages are used.
      network: The cifar10.Network the checkpoint holds.

    Returns:
      A [N, num_classes] float32 array of probabilities.

    Raises:
      DataError: if the checkpoint holds another network.
    """
    size = images.shape[1]
    with tf.Graph().as_default() as graph:
        raw = tf1.placeholder(tf.float32, [None, size, size, 3], name='images')
        probabilities, _ = cifar10.predictions(raw, network)
        saver = cifar10.restoring_saver()
        cifar10.check_checkpoint_fits(checkpoint_path)
        graph.finalize()
        with tf1.Session(graph=graph) as sess:
            checkpoints.restore_checkpoint(saver, sess, checkpoint_path)
            return np.concatenate([
                sess.run(probabilities, {raw: images[start:start + _BATCH]})
                for start in range(0, len(images), _BATCH)])


def predict(args):
    """Classifies the inputs and prints the results.

    Args:
      args: Parsed flags (see parse_args).

    Returns:
      0 if every input was classified, else 1.
    """
    checkpoint = checkpoints.newest_checkpoint(args.checkpoint_dir)
    dataset = datasets.from_flags(args)
    network = flags.network_from_flags(args)
    names = dataset.class_names_in(dataset.folder(args.data_dir))
    examples, errors = load_inputs(args.inputs, dataset, args.max_image_pixels)
    for _, message in errors:
        print(f'error: {message}', file=sys.stderr, flush=True)
    results = []
    if examples:
        probabilities = classify(np.stack([e[1] for e in examples]), checkpoint,
                                 network)
        for (name, _, label), probs in zip(examples, probabilities):
            top = np.argsort(-probs, kind='stable')[:args.top_k]
            entry = {'input': name,
                     'predictions': [{'class': names[i], 'index': int(i),
                                      'probability': float(probs[i])} for i in top]}
            if label is not None:
                entry['label'] = names[label]
            results.append(entry)
    if args.json:
        print(json.dumps({'checkpoint': checkpoint, 'model': network.model,
                          'dataset': dataset.describe(),
                          'results': results,
                          'errors': [{'input': spec, 'error': message}
                                     for spec, message in errors]}, indent=2))
    else:
        if results:
            print(f'Classifying with {network.describe()} for '
                  f'{dataset.describe()}, {checkpoint}:')
        for entry in results:
            label = f' (label: {entry["label"]})' if 'label' in entry else ''
            guesses = ', '.join(f'{p["class"]} {p["probability"]:.3f}'
                                for p in entry['predictions'])
            print(f'{entry["input"]}{label}: {guesses}')
    return 1 if errors else 0


def main(argv=None):
    """Entry point: parses flags, classifies, exits with a status."""
    cli.run_main(lambda a: predict(parse_args(a)), argv)


if __name__ == '__main__':
    main()
