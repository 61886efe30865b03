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
"""Reads the CIFAR-10 binary files with fixed-length record readers and queues.

A record of the binary release is 3,073 bytes: one label byte (0-9) followed
by the 1,024 red, 1,024 green and 1,024 blue bytes of a 32x32 image, each
plane stored row by row. Files hold records back to back, without header.
The other data sets (CIFAR-100, SVHN, your own images; see datasets) are
read the same way, with their own label bytes and image size: every
function that reads takes a ``dataset``, CIFAR-10 unless told otherwise.
The network sees crops of 3/4 of the image's side (``dataset.crop_size``:
the tutorial's 24 of 32); the functions that crop take that size. A custom
data set may be stored as TFRecords instead (``dataset.record_format``):
the same functions read them, with TFRecordReader, and decode them
(decode_records).

The decoding, distortions and evaluation preprocessing here are also those
of the tf.data pipeline (input_tf_data): one definition of the math for
both.

Everything here builds graph-mode ops (``tf.compat.v1``); nothing runs at
import time.
"""

import os
from types import SimpleNamespace

import numpy as np
import tensorflow as tf

from cifar10 import datasets
from cifar10.errors import DataError

tf1 = tf.compat.v1

# Images are cropped to this size before they reach the network. The
# original 32x32 images are cut down to 24x24 (randomly for training,
# centrally for evaluation), as in the tutorial.
IMAGE_SIZE = 24

# Global constants describing the CIFAR-10 data set (the default one; the
# others are in datasets).
CIFAR10 = datasets.CIFAR10
NUM_CLASSES = CIFAR10.num_classes
CLASS_NAMES = CIFAR10.class_names
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = CIFAR10.num_train  # 50,000
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = CIFAR10.num_test  # 10,000

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

# Distortions applied to training images (SPEC "Input pipeline").
MAX_BRIGHTNESS_DELTA = 63
CONTRAST_LOWER = 0.2
CONTRAST_UPPER = 1.8

# The shuffle queue keeps this fraction of an epoch after each dequeue.
MIN_FRACTION_OF_EXAMPLES_IN_QUEUE = 0.4
DEFAULT_NUM_PREPROCESS_THREADS = 16
# The batch pipeline runs a few ops per batch, not per image: two threads
# keep ahead of the model on the machines measured (docs/performance.md).
DEFAULT_NUM_BATCH_THREADS = 2
# Records the batch pipeline's reader returns per call when training. A
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


def record_reader(dataset):
    """A queue reader of the data set's files (fixed-length or TFRecord)."""
    if dataset.record_format == 'tfrecord':
        return tf1.TFRecordReader()
    return tf1.FixedLengthRecordReader(record_bytes=dataset.record_bytes)


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


def read_cifar10(filename_queue, dataset=CIFAR10):
    """Reads and decodes the next record from CIFAR-10 data files.

    Each call adds one reader; calling it N times gives N independent readers
    of the same queue.

    Args:
      filename_queue: A queue of strings with the file names to read from.
      dataset: The data set (a datasets.Dataset) the files belong to.

    Returns:
      A namespace with fields
        height, width, depth: the image dimensions (32, 32, 3 for
          CIFAR-10);
        key: a scalar string tensor naming the file and record;
        label: an int32 tensor of shape [1] with the label (0-9 for
          CIFAR-10);
        uint8image: a [height, width, depth] uint8 tensor with the image.
    """
    key, value = record_reader(dataset).read(filename_queue)
    images, labels = decode_records(tf.reshape(value, [1]), dataset)
    size = dataset.image_size
    images.set_shape([1, size, size, ORIGINAL_DEPTH])
    return SimpleNamespace(height=size, width=size,
                           depth=ORIGINAL_DEPTH, key=key,
                           label=labels, uint8image=images[0])


def distort_image(image, crop_size=IMAGE_SIZE):
    """Applies the training distortions to one float image.

    Args:
      image: A [32, 32, 3] float32 tensor with pixel values 0-255 (or
        another square size).
      crop_size: Side of the crop (3/4 of the image's).

    Returns:
      A [crop_size, crop_size, 3] float32 tensor: a random crop, randomly
      flipped left-right, with random brightness and contrast, standardized
      to zero mean and unit variance.
    """
    distorted = tf.image.random_crop(image, [crop_size, crop_size, 3])
    distorted = tf.image.random_flip_left_right(distorted)
    # Brightness and contrast do not commute; the order is the tutorial's.
    distorted = tf.image.random_brightness(distorted,
                                           max_delta=MAX_BRIGHTNESS_DELTA)
    distorted = tf.image.random_contrast(distorted, lower=CONTRAST_LOWER,
                                         upper=CONTRAST_UPPER)
    standardized = tf.image.per_image_standardization(distorted)
    standardized.set_shape([crop_size, crop_size, 3])
    return standardized


def eval_image(images, crop_size=IMAGE_SIZE):
    """Prepares images for evaluation: central crop and standardization.

    Args:
      images: A [32, 32, 3] or [N, 32, 32, 3] float32 tensor (or another
        square size).
      crop_size: Side of the crop (3/4 of the image's).

    Returns:
      The central crop_size x crop_size crop of each image, standardized
      per image to zero mean and unit variance.
    """
    cropped = tf.image.resize_with_crop_or_pad(images, crop_size, crop_size)
    return tf.image.per_image_standardization(cropped)


def min_queue_examples(fraction=MIN_FRACTION_OF_EXAMPLES_IN_QUEUE,
                       examples_per_epoch=NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN):
    """Returns how many examples the shuffle queue keeps after a dequeue:
    ``fraction`` of an epoch of ``examples_per_epoch`` examples."""
    return int(examples_per_epoch * fraction)


def _shuffle_batch(tensors, batch_size, num_threads,
                   min_fraction_of_examples_in_queue, dataset,
                   enqueue_many=False):
    """Shuffles training examples into batches, with the tutorial's depth.

    Both training pipelines shuffle through this one queue definition, so
    they mix equally: after each dequeue the queue keeps
    min_queue_examples() examples, and it holds three batches more.

    Args:
      tensors: The example tensors (one example each, or a batch of them
        with ``enqueue_many``).
      batch_size: Examples per dequeued batch.
      num_threads: Threads running the enqueue.
      min_fraction_of_examples_in_queue: See min_queue_examples.
      dataset: The data set, whose training epoch the fraction is of.
      enqueue_many: Whether ``tensors`` hold many examples each.

    Returns:
      The shuffled batches of ``tensors``.
    """
    min_examples = min_queue_examples(min_fraction_of_examples_in_queue,
                                      dataset.num_train)
    # The tutorial's words for CIFAR-10 (and CIFAR-100).
    what = 'CIFAR' if dataset.title.startswith('CIFAR') else dataset.title
    print(f'Filling queue with {min_examples} {what} images before starting to '
          'train. This will take a few minutes.', flush=True)
    return tf1.train.shuffle_batch(
        tensors, batch_size=batch_size, num_threads=num_threads,
        capacity=min_examples + 3 * batch_size,
        min_after_dequeue=min_examples, enqueue_many=enqueue_many)


def distorted_inputs(data_dir, batch_size,
                     num_threads=DEFAULT_NUM_PREPROCESS_THREADS,
                     min_fraction_of_examples_in_queue=MIN_FRACTION_OF_EXAMPLES_IN_QUEUE,
                     dataset=CIFAR10):
    """Builds distorted, shuffled training batches.

    Args:
      data_dir: Path to the folder holding the binary files.
      batch_size: Number of images per batch.
      num_threads: Number of preprocessing threads filling the shuffle queue.
      min_fraction_of_examples_in_queue: Fraction of an epoch the shuffle
        queue holds after each dequeue; more mixes better, less starts sooner.
      dataset: The data set (a datasets.Dataset).

    Returns:
      images: A [batch_size, crop, crop, 3] float32 tensor, crop being
        dataset.crop_size (IMAGE_SIZE for CIFAR-10).
      labels: A [batch_size] int32 tensor.

    Raises:
      DataError: if a training file is missing or malformed.
    """
    filenames = train_filenames(data_dir, dataset)
    validate_data_files(filenames, dataset)
    print_pipeline('per_image', dataset)

    filename_queue = tf1.train.string_input_producer(filenames)
    read_input = read_cifar10(filename_queue, dataset)
    image = distort_image(tf.cast(read_input.uint8image, tf.float32),
                          dataset.crop_size)
    read_input.label.set_shape([1])

    images, labels = _shuffle_batch(
        [image, read_input.label], batch_size, num_threads,
        min_fraction_of_examples_in_queue, dataset)
    tf1.summary.image('images', images)
    return images, tf.reshape(labels, [batch_size])


def distortion_params(batch_size, image_size=ORIGINAL_HEIGHT,
                      crop_size=IMAGE_SIZE):
    """Draws the random distortion parameters of a batch, one set per image.

    The distributions are those of the per-image ops distort_image uses:
    crop offsets uniform over 0..8 (image_size - crop_size) in each
    direction (tf.image.random_crop),
    a left-right flip with probability 1/2 (random_flip_left_right), a
    brightness delta uniform in [-63, 63) (random_brightness) and a contrast
    factor uniform in [0.2, 1.8) (random_contrast).

    Args:
      batch_size: Number of images (an int or a scalar int32 tensor).
      image_size: Side of the images.
      crop_size: Side of the crops.

    Returns:
      A dict of [batch_size] tensors: offset_y, offset_x (int32), flip
      (bool), delta and contrast (float32).
    """
    max_offset = image_size - crop_size
    return {
        'offset_y': tf.random.uniform([batch_size], 0, max_offset + 1, tf.int32),
        'offset_x': tf.random.uniform([batch_size], 0, max_offset + 1, tf.int32),
        'flip': tf.random.uniform([batch_size]) < 0.5,
        'delta': tf.random.uniform([batch_size], -MAX_BRIGHTNESS_DELTA,
                                   MAX_BRIGHTNESS_DELTA),
        'contrast': tf.random.uniform([batch_size], CONTRAST_LOWER,
                                      CONTRAST_UPPER),
    }


def crop_and_flip(images, params, crop_size=IMAGE_SIZE):
    """Crops each image of a batch at its own offset and flips it if asked.

    Only moves pixels, so it is exact in any dtype; the batch pipeline does
    it on the uint8 images as they are read (see distorted_inputs_batched).

    Args:
      images: A [N, 32, 32, 3] tensor (or another square size).
      params: A dict of distortion_params(N); uses offset_y, offset_x and
        flip.
      crop_size: Side of the crops.

    Returns:
      A [N, crop_size, crop_size, 3] tensor of the same dtype.
    """
    span = tf.range(crop_size)
    rows = params['offset_y'][:, None] + span
    # A flipped crop reads its window's columns right to left.
    cols = params['offset_x'][:, None] + tf.where(
        params['flip'][:, None], crop_size - 1 - span, span)
    cropped = tf.gather(images, rows, axis=1, batch_dims=1)
    return tf.gather(cropped, cols, axis=2, batch_dims=1)


def adjust_colors(images, params):
    """Brightness, contrast and standardization of a batch of crops.

    Args:
      images: A [N, crop, crop, 3] tensor of pixel values 0-255 (uint8 or
        float32).
      params: A dict of distortion_params(N); uses delta and contrast.

    Returns:
      A float32 tensor of the same shape.
    """
    brightened = (tf.cast(images, tf.float32)
                  + params['delta'][:, None, None, None])
    # Contrast scales each channel around its own mean, as adjust_contrast.
    means = tf.reduce_mean(brightened, axis=[1, 2], keepdims=True)
    contrasted = ((brightened - means) * params['contrast'][:, None, None, None]
                  + means)
    return tf.image.per_image_standardization(contrasted)


def distort_batch(images, params, crop_size=IMAGE_SIZE):
    """Applies the training distortions to a whole batch at once.

    The same math as distort_image, image by image, but a handful of ops per
    batch instead of a dozen per image: crop and flip are one gather each
    (crop_and_flip), and brightness, contrast and standardization work on
    the batch tensor (adjust_colors).

    Args:
      images: A [N, 32, 32, 3] tensor of pixel values 0-255, uint8 or
        float32 (exact either way: crop and flip only move pixels).
      params: The dict of distortion_params(N).
      crop_size: Side of the crops.

    Returns:
      A [N, crop_size, crop_size, 3] float32 tensor.
    """
    return adjust_colors(crop_and_flip(images, params, crop_size), params)


def read_time_distortions(images, dataset, params_fn=None):
    """The distortions applied to records as they are read: each image's
    random crop and flip, on the uint8 pixels (crop_and_flip).

    Args:
      images: [N, size, size, 3] uint8 images of ``dataset``.
      dataset: The data set (image and crop sizes).
      params_fn: As distortion_params (None means it).

    Returns:
      [N, crop, crop, 3] uint8 crops.
    """
    params_fn = params_fn or distortion_params
    crop = dataset.crop_size
    return crop_and_flip(
        images, params_fn(tf.shape(images)[0], dataset.image_size, crop), crop)


def batch_time_distortions(crops, batch_size, dataset, params_fn=None):
    """The distortions applied to each shuffled batch: brightness, contrast
    and standardization (adjust_colors).

    Args:
      crops: [batch_size, crop, crop, 3] uint8 crops.
      batch_size: The batch size.
      dataset: The data set.
      params_fn: As distortion_params (None means it).

    Returns:
      [batch_size, crop, crop, 3] float32 images.
    """
    params_fn = params_fn or distortion_params
    return adjust_colors(crops, params_fn(batch_size, dataset.image_size,
                                          dataset.crop_size))


def eval_batch(images, dataset):
    """Evaluation preprocessing of [N, size, size, 3] uint8 images: the
    central crop and standardization (eval_image), float32 out."""
    crop = dataset.crop_size
    out = eval_image(tf.cast(images, tf.float32), crop)
    out.set_shape([None, crop, crop, 3])
    return out


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


def _read_record_batches(filenames, records_per_read, dataset,
                         num_epochs=None, shuffle=True):
    """Reads up to ``records_per_read`` records per run, decoded.

    Args:
      filenames: The (validated) binary files.
      records_per_read: Most records one read returns.
      dataset: The data set, for the record layout.
      num_epochs: Passes over the files before the input ends; None for
        no end.
      shuffle: Shuffle the order of the files in each pass.

    Returns:
      images: A [N, 32, 32, 3] uint8 tensor (the data set's image size).
      labels: A [N] int32 tensor.
    """
    filename_queue = tf1.train.string_input_producer(
        filenames, num_epochs=num_epochs, shuffle=shuffle)
    _, values = record_reader(dataset).read_up_to(filename_queue, records_per_read)
    images, labels = decode_records(values, dataset)
    size = dataset.image_size
    images.set_shape([None, size, size, ORIGINAL_DEPTH])
    return images, labels


def distorted_inputs_batched(data_dir, batch_size,
                             num_threads=DEFAULT_NUM_BATCH_THREADS,
                             min_fraction_of_examples_in_queue=(
                                 MIN_FRACTION_OF_EXAMPLES_IN_QUEUE),
                             prefetch_batches=4, dataset=CIFAR10,
                             params_fn=None):
    """Builds distorted, shuffled training batches a batch at a time.

    Same records, same shuffling depth and same distortions as
    distorted_inputs, built for speed:
      - the reader returns TRAIN_RECORDS_PER_READ records per call, which
        are cropped and flipped right away, still as uint8 (crop_and_flip);
      - so the shuffle queue holds compact uint8 24x24 crops (1,728 bytes
        each, against 6,912 for the original's float crops): the same depth
        of 40% of an epoch in a quarter of the memory;
      - each dequeued batch gets its brightness, contrast and
        standardization (adjust_colors) from background threads that keep
        a few batches ready in a FIFO queue.
    Every image gets its own independent random parameters, whether before
    or after the shuffle, so the distribution is that of distorting each
    image and then shuffling.

    Args:
      data_dir: Path to the folder holding the binary files.
      batch_size: Number of images per batch.
      num_threads: Threads reading records, and threads distorting batches.
      min_fraction_of_examples_in_queue: Fraction of an epoch the shuffle
        queue holds after each dequeue.
      prefetch_batches: Distorted batches kept ready.
      dataset: The data set (a datasets.Dataset).
      params_fn: Draws the distortion parameters, as distortion_params
        (which None means); tests pass fixed ones.

    Returns:
      images: A [batch_size, crop, crop, 3] float32 tensor, crop being
        dataset.crop_size (IMAGE_SIZE for CIFAR-10).
      labels: A [batch_size] int32 tensor.

    Raises:
      DataError: if a training file is missing or malformed.
    """
    filenames = train_filenames(data_dir, dataset)
    validate_data_files(filenames, dataset)
    print_pipeline('queues', dataset)

    images, labels = _read_record_batches(filenames, TRAIN_RECORDS_PER_READ,
                                          dataset)
    crops = read_time_distortions(images, dataset, params_fn)

    crops, labels = _shuffle_batch(
        [crops, labels], batch_size, num_threads,
        min_fraction_of_examples_in_queue, dataset, enqueue_many=True)

    distorted = batch_time_distortions(crops, batch_size, dataset, params_fn)
    crop = dataset.crop_size
    ready = tf1.FIFOQueue(
        capacity=prefetch_batches, dtypes=[tf.float32, tf.int32],
        shapes=[[batch_size, crop, crop, 3], [batch_size]],
        name='distorted_batches')
    enqueue = ready.enqueue([distorted, labels])
    tf1.train.add_queue_runner(tf1.train.QueueRunner(ready, [enqueue] * num_threads))
    images, labels = ready.dequeue()
    tf1.summary.image('images', images)
    return images, labels


def inputs(eval_data, data_dir, batch_size, dataset=CIFAR10):
    """Builds evaluation batches that visit every record exactly once.

    Records are read ``batch_size`` at a time by a single reader thread and
    cropped and standardized a batch at a time (the same per-image math as
    the tutorial). One thread keeps the records in file order, so the first
    N batches hold exactly the first N * batch_size records; after one pass
    the queue closes and the last, smaller batch is returned, then
    ``tf.errors.OutOfRangeError``. The caller must run
    ``tf.compat.v1.local_variables_initializer()`` (the epoch counter).

    Args:
      eval_data: 'test' or 'train_eval'.
      data_dir: Path to the folder holding the binary files.
      batch_size: Number of images per batch.
      dataset: The data set (a datasets.Dataset).

    Returns:
      images: A [None, crop, crop, 3] float32 tensor (dataset.crop_size).
      labels: A [None] int32 tensor.
      num_records: The number of records in the files (one pass).

    Raises:
      DataError: if a file is missing or malformed.
    """
    filenames = eval_filenames(eval_data, data_dir, dataset)
    num_records = validate_data_files(filenames, dataset)

    print_pipeline('queues', dataset, 'Evaluation')
    uint8_images, labels = _read_record_batches(filenames, batch_size, dataset,
                                                num_epochs=1, shuffle=False)
    images = eval_batch(uint8_images, dataset)

    images, labels = tf1.train.batch(
        [images, labels], batch_size=batch_size, num_threads=1,
        capacity=4 * batch_size, enqueue_many=True,
        allow_smaller_final_batch=True)
    tf1.summary.image('images', images)
    return images, labels, num_records
