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

This is the tutorial's input module. read_cifar10 adds a reader of one
record at a time to a queue of file names; distorted_inputs distorts each
image as the tutorial does (distort_image: random crop, flip, brightness,
contrast, standardization) and shuffles them into batches with
tf.train.shuffle_batch, filled by background threads; inputs reads the
evaluation images in file order, centrally cropped and standardized.
distorted_inputs_batched is the same pipeline a batch at a time, the
trainers' default (--input_pipeline=queues): the same records, shuffle
depth and distortions, in a few ops per batch.

The records' layout, the files of each split, the check of every file
before a queue is built and the decoding live in data/record_files.py; the
batch form of the distortions in data/transforms.py; both are shared with
the tf.data pipeline (data/tf_data.py). The other data sets (CIFAR-100,
SVHN, your own images; see data/datasets.py) are read by the same
functions: each takes a ``dataset``, CIFAR-10 unless told otherwise.

Everything here builds graph-mode ops (``tf.compat.v1``); nothing runs at
import time.
"""

from types import SimpleNamespace

import tensorflow as tf

from cifar10.data import datasets
from cifar10.data import record_files
from cifar10.data import transforms

tf1 = tf.compat.v1

# Images are cropped to this size before they reach the network. The
# original 32x32 images are cut down to 24x24 (randomly for training,
# centrally for evaluation), as in the tutorial.
IMAGE_SIZE = 24

# Global constants describing the CIFAR-10 data set (the default one; the
# others are in data/datasets.py).
CIFAR10 = datasets.CIFAR10
NUM_CLASSES = CIFAR10.num_classes
CLASS_NAMES = CIFAR10.class_names
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = CIFAR10.num_train  # 50,000
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = CIFAR10.num_test  # 10,000

# The shuffle queue keeps this fraction of an epoch after each dequeue.
MIN_FRACTION_OF_EXAMPLES_IN_QUEUE = record_files.MIN_FRACTION_OF_EXAMPLES_IN_QUEUE
DEFAULT_NUM_PREPROCESS_THREADS = 16
# The batch pipeline runs a few ops per batch, not per image: two threads
# keep ahead of the model on the machines measured (docs/performance.md).
DEFAULT_NUM_BATCH_THREADS = 2


def record_reader(dataset):
    """A queue reader of the data set's files (fixed-length or TFRecord)."""
    if dataset.record_format == 'tfrecord':
        return tf1.TFRecordReader()
    return tf1.FixedLengthRecordReader(record_bytes=dataset.record_bytes)


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
    images, labels = record_files.decode_records(tf.reshape(value, [1]), dataset)
    size = dataset.image_size
    images.set_shape([1, size, size, record_files.ORIGINAL_DEPTH])
    return SimpleNamespace(height=size, width=size,
                           depth=record_files.ORIGINAL_DEPTH, key=key,
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
                                           max_delta=transforms.MAX_BRIGHTNESS_DELTA)
    distorted = tf.image.random_contrast(distorted, lower=transforms.CONTRAST_LOWER,
                                         upper=transforms.CONTRAST_UPPER)
    standardized = tf.image.per_image_standardization(distorted)
    standardized.set_shape([crop_size, crop_size, 3])
    return standardized


def _shuffle_batch(tensors, batch_size, num_threads,
                   min_fraction_of_examples_in_queue, dataset,
                   enqueue_many=False):
    """Shuffles training examples into batches, with the tutorial's depth.

    Both training pipelines shuffle through this one queue definition, so
    they mix equally: after each dequeue the queue keeps
    record_files.min_queue_examples() examples, and it holds three batches more.

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
    min_examples = record_files.min_queue_examples(
        min_fraction_of_examples_in_queue, dataset.num_train)
    # The tutorial's words for CIFAR-10 (and CIFAR-100).
    what = 'CIFAR' if dataset.title.startswith('CIFAR') else dataset.title
    # The tutorial added "This will take a few minutes.": true on its
    # machines, not here (under 2 s for CIFAR-10's 20,000), so left out.
    print(f'Filling queue with {min_examples} {what} images before starting to '
          'train.', flush=True)
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
    filenames = record_files.train_filenames(data_dir, dataset)
    record_files.validate_data_files(filenames, dataset)
    record_files.print_pipeline('per_image', dataset)

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
    images, labels = record_files.decode_records(values, dataset)
    size = dataset.image_size
    images.set_shape([None, size, size, record_files.ORIGINAL_DEPTH])
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
      - the reader returns record_files.TRAIN_RECORDS_PER_READ records per call, which
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
    filenames = record_files.train_filenames(data_dir, dataset)
    record_files.validate_data_files(filenames, dataset)
    record_files.print_pipeline('queues', dataset)

    images, labels = _read_record_batches(filenames, record_files.TRAIN_RECORDS_PER_READ,
                                          dataset)
    crops = transforms.read_time_distortions(images, dataset, params_fn)

    crops, labels = _shuffle_batch(
        [crops, labels], batch_size, num_threads,
        min_fraction_of_examples_in_queue, dataset, enqueue_many=True)

    distorted = transforms.batch_time_distortions(crops, batch_size, dataset, params_fn)
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
    filenames = record_files.eval_filenames(eval_data, data_dir, dataset)
    num_records = record_files.validate_data_files(filenames, dataset)

    record_files.print_pipeline('queues', dataset, 'Evaluation')
    uint8_images, labels = _read_record_batches(filenames, batch_size, dataset,
                                                num_epochs=1, shuffle=False)
    images = transforms.eval_batch(uint8_images, dataset)

    images, labels = tf1.train.batch(
        [images, labels], batch_size=batch_size, num_threads=1,
        capacity=4 * batch_size, enqueue_many=True,
        allow_smaller_final_batch=True)
    tf1.summary.image('images', images)
    return images, labels, num_records
