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
"""The data files and their records, as every input pipeline reads them.

A record of the CIFAR-10 binary release is 3,073 bytes: one label byte
(0-9) followed by the 1,024 red, 1,024 green and 1,024 blue bytes of a
32x32 image, each plane stored row by row. Files hold records back to back,
without header. The other data sets (CIFAR-100, SVHN, your own images; see
datasets) are laid out the same way with their own label bytes and image
size, and a custom data set may be stored as TFRecords instead
(``dataset.record_format``).

The tutorial's queues (cifar10_input), the tf.data pipeline (tf_data), the
download and the scripts share what is here: which files a split reads,
the check of every file before a pipeline is built (validate_data_files),
the decoding of a batch of records into images and labels, how much the
pipelines read and shuffle, and the line that names the pipeline of a run.
Nothing runs at import time.
"""

import os

import numpy as np
import tensorflow as tf

from cifar10.data import datasets
from cifar10.runtime.errors import DataError

CIFAR10 = datasets.CIFAR10

# The binary record layout.
LABEL_BYTES = CIFAR10.label_bytes
ORIGINAL_HEIGHT = 32
ORIGINAL_WIDTH = 32
ORIGINAL_DEPTH = 3
IMAGE_BYTES = ORIGINAL_HEIGHT * ORIGINAL_WIDTH * ORIGINAL_DEPTH
RECORD_BYTES = CIFAR10.record_bytes  # 3,073

# The official release has exactly this many records in each of its files.
TRAIN_FILES = tuple(CIFAR10.train_files)
TEST_FILES = tuple(CIFAR10.test_files)
RECORDS_PER_OFFICIAL_FILE = 10000

# The shuffle queue (and tf.data's shuffle buffer) keeps this fraction of
# an epoch after each dequeue.
MIN_FRACTION_OF_EXAMPLES_IN_QUEUE = 0.4
# Records the batch pipelines' readers return per call when training. A
# read's cost is mostly per call: 1.34 ms of CPU per 128 records read 128
# at a time, 0.76 ms read 1,024 at a time.
TRAIN_RECORDS_PER_READ = 1024


def train_filenames(data_dir, dataset=CIFAR10):
    """Returns the paths of the training files in ``data_dir`` (the five
    data_batch files of CIFAR-10)."""
    return [os.path.join(data_dir, name) for name in dataset.train_files]


def eval_filenames(eval_data, data_dir, dataset=CIFAR10):
    """Returns the paths of the files to evaluate on.

    Args:
      eval_data: 'test' for the test file, 'train_eval' for the training files.
      data_dir: Path to the folder holding the binary files.
      dataset: The data set (a datasets.Dataset).

    Returns:
      A list of file paths.
    """
    if eval_data == 'test':
        return [os.path.join(data_dir, name) for name in dataset.test_files]
    if eval_data == 'train_eval':
        return train_filenames(data_dir, dataset)
    raise ValueError(f"eval_data must be 'test' or 'train_eval', not {eval_data!r}")


def _validate_tfrecord_files(filenames, dataset):
    """validate_data_files for TFRecord files: every record's framing and
    checksums, keys, image size and label, and the manifest's counts."""
    official = dataset.official_records
    total = 0
    for path in filenames:
        if not os.path.isfile(path):
            raise DataError(f'{path}: data file not found')
        records = 0
        try:
            for serialized in tf.compat.v1.io.tf_record_iterator(path):
                example = tf.train.Example.FromString(serialized)
                problem = _example_problem(example, dataset)
                if problem:
                    raise DataError(f'{path}: record {records} {problem}')
                records += 1
        except tf.errors.DataLossError as e:
            raise DataError(
                f'{path}: corrupt TFRecord file after {records:,} good records '
                f'({e.message.strip().splitlines()[0]}): cut short or damaged') from None
        except tf.errors.OpError as e:
            raise DataError(f'{path}: cannot be read ({e.message.strip()})') from None
        except Exception as e:  # A record that is not an Example.
            if isinstance(e, DataError):
                raise
            raise DataError(f'{path}: record {records} is not a tf.train.Example '
                            f'({type(e).__name__})') from None
        expected = official.get(os.path.basename(path))
        if expected is not None and records != expected:
            raise DataError(f'{path}: holds {records:,} records, '
                            f'{datasets.MANIFEST} lists {expected:,}')
        total += records
    return total


def _example_problem(example, dataset):
    """What is wrong with one tf.train.Example of ``dataset``, or None."""
    features = example.features.feature
    missing = [key for key in datasets.TFRECORD_KEYS if key not in features]
    if missing:
        return f'lacks the feature {missing[0]!r}'
    size = dataset.image_size
    height = list(features['height'].int64_list.value)
    width = list(features['width'].int64_list.value)
    if height != [size] or width != [size]:
        return f'is {height}x{width}, not {size}x{size}'
    raw = features['image_raw'].bytes_list.value
    if len(raw) != 1 or len(raw[0]) != size * size * 3:
        return f'has {sum(map(len, raw)):,} image bytes, not {size * size * 3:,}'
    label = list(features['label'].int64_list.value)
    if len(label) != 1 or not 0 <= label[0] < dataset.num_classes:
        return f'has label {label}, expected 0-{dataset.num_classes - 1}'
    return None


def validate_data_files(filenames, dataset=CIFAR10):
    """Checks every file a queue will read, before any queue is built.

    A fixed-length record reader fed a missing, truncated or foreign file
    either fails deep inside a queue runner thread or silently yields
    garbage, and a label outside 0-9 only fails once it reaches the loss.
    Checking up front turns each of these into one clear line.

    Args:
      filenames: Paths of binary files of ``dataset``.
      dataset: The data set (a datasets.Dataset): its record size, label
        bytes and ranges, and the record counts of its official files.

    Returns:
      The total number of records in the files.

    Raises:
      DataError: naming the first file (and record) that is not valid.
    """
    if not filenames:
        raise DataError('no data files given')
    if dataset.record_format == 'tfrecord':
        return _validate_tfrecord_files(filenames, dataset)
    title = dataset.title
    record_bytes = dataset.record_bytes
    official = dataset.official_records
    total = 0
    for path in filenames:
        if not os.path.isfile(path):
            raise DataError(f'{path}: data file not found')
        size = os.path.getsize(path)
        if size == 0 or size % record_bytes:
            raise DataError(
                f'{path}: {size:,} bytes is not a whole number of '
                f'{record_bytes:,}-byte {title} records (truncated or not a '
                f'{title} binary file)')
        records = size // record_bytes
        expected = official.get(os.path.basename(path))
        if expected is not None and records != expected:
            listed = (f'{datasets.MANIFEST} lists' if dataset.name == 'custom'
                      else 'the official file holds')
            raise DataError(
                f'{path}: holds {records:,} records, {listed} '
                f'{expected:,} (truncated, or not the same file)')
        try:
            data = np.memmap(path, dtype=np.uint8, mode='r',
                             shape=(records, record_bytes))
        except OSError as e:
            raise DataError(f'{path}: cannot be read ({e.strerror})') from None
        for byte, limit in enumerate(dataset.label_limits):
            labels = np.asarray(data[:, byte])
            if dataset.label_width == 2:
                labels = labels.astype(np.int64) * 256 + data[:, byte + 1]
            bad = np.flatnonzero(labels >= limit)
            if bad.size:
                index = int(bad[0])
                kind = (f'{("coarse", "fine")[byte]} label'
                        if len(dataset.label_limits) == 2 else 'label')
                raise DataError(
                    f'{path}: record {index} has {kind} {labels[index]}, '
                    f'expected 0-{limit - 1} (corrupt file, or not {title} data)')
        del data
        total += records
    return total


def _labels(records, dataset):
    """The labels of [N, record_bytes] uint8 records, as int32 [N]."""
    start = dataset.label_byte
    labels = tf.cast(records[:, start], tf.int32)
    if dataset.label_width == 2:
        # Big-endian: the first byte is the high one.
        labels = labels * 256 + tf.cast(records[:, start + 1], tf.int32)
    return labels


def decode_tfrecords(serialized, dataset):
    """Decodes a batch of serialized tf.train.Example records.

    Args:
      serialized: A [N] string tensor.
      dataset: The data set (its image size).

    Returns:
      images: [N, size, size, 3] uint8 (image_raw holds each image row by
        row, channels last, as numpy's tobytes of an H x W x 3 array).
      labels: [N] int32.
    """
    size = dataset.image_size
    features = tf.io.parse_example(serialized, {
        'image_raw': tf.io.FixedLenFeature([], tf.string),
        'label': tf.io.FixedLenFeature([], tf.int64),
        'height': tf.io.FixedLenFeature([], tf.int64),
        'width': tf.io.FixedLenFeature([], tf.int64),
    })
    images = tf.reshape(tf.io.decode_raw(features['image_raw'], tf.uint8),
                        [-1, size, size, ORIGINAL_DEPTH])
    return images, tf.cast(features['label'], tf.int32)


def decode_records(values, dataset):
    """Decodes a batch of records read from the data set's files.

    Args:
      values: A [N] string tensor: fixed-length records, or serialized
        tf.train.Example records (dataset.record_format).
      dataset: The data set.

    Returns:
      images: [N, size, size, 3] uint8.
      labels: [N] int32.
    """
    if dataset.record_format == 'tfrecord':
        return decode_tfrecords(values, dataset)
    records = tf.reshape(tf.io.decode_raw(values, tf.uint8),
                         [-1, dataset.record_bytes])
    return _images(records, dataset), _labels(records, dataset)


def _images(records, dataset):
    """The [N, size, size, 3] uint8 images of [N, record_bytes] records."""
    size = dataset.image_size
    # The file stores each image plane by plane (depth major); the network
    # wants height, width, depth.
    depth_major = tf.reshape(records[:, dataset.label_bytes:],
                             [-1, ORIGINAL_DEPTH, size, size])
    images = tf.transpose(depth_major, [0, 2, 3, 1])
    images.set_shape([None, size, size, ORIGINAL_DEPTH])
    return images


def min_queue_examples(fraction=MIN_FRACTION_OF_EXAMPLES_IN_QUEUE,
                       examples_per_epoch=CIFAR10.num_train):
    """Returns how many examples the shuffle queue keeps after a dequeue:
    ``fraction`` of an epoch of ``examples_per_epoch`` examples."""
    return int(examples_per_epoch * fraction)


# The input pipelines, as the lines that say which one runs name them.
_PIPELINE_LINES = {
    ('queues', 'Training'): 'queue runners ({reader}, a batch at a time, shuffle queue)',
    ('per_image', 'Training'): "queue runners ({reader}, one image per op: the tutorial's own)",
    ('tf_data', 'Training'): 'tf.data ({dataset}, parallel map, shuffle buffer, prefetch)',
    ('queues', 'Evaluation'): 'queue runners ({reader}, files in order)',
    ('tf_data', 'Evaluation'): 'tf.data ({dataset}, files in order, parallel map, prefetch)',
}


def print_pipeline(pipeline, dataset, what='Training'):
    """Says in one line which input pipeline feeds a run.

    Args:
      pipeline: 'queues', 'per_image' or 'tf_data'.
      dataset: The data set (fixed-length records or TFRecords).
      what: 'Training' or 'Evaluation'.
    """
    tfrecord = dataset.record_format == 'tfrecord'
    text = _PIPELINE_LINES[pipeline, what].format(
        reader='TFRecordReader' if tfrecord else 'FixedLengthRecordReader',
        dataset='TFRecordDataset' if tfrecord else 'FixedLengthRecordDataset')
    print(f'{what} input: {text}.', flush=True)
