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
"""The tf.data input pipeline (--input_pipeline=tf_data), beside the queues.

The same files, the same math: records are decoded, cropped and flipped,
shuffled, then brightened, contrasted and standardized by the very
functions the queue pipeline uses (record_files.decode_records,
transforms.read_time_distortions, batch_time_distortions, eval_batch), in the same
order; only the plumbing differs:

  training:   file names, shuffled anew each epoch
              -> FixedLengthRecordDataset or TFRecordDataset
              -> batches of TRAIN_RECORDS_PER_READ records, decoded, cropped
                 and flipped (map, parallel)
              -> one record at a time, through a shuffle buffer as deep as
                 the queue's min_after_dequeue
              -> batches, brightness/contrast/standardization (map,
                 parallel) -> prefetch (onto the GPU when there is one)
  evaluation: the files in order -> batches -> central crop and
              standardization (map, parallel, order kept) -> prefetch;
              every record exactly once, then OutOfRange, as the queues.

Everything is graph mode: an iterator's get_next in the graph, no eager
code. With several workers in a cluster each reads its own share of the
files (shard_plan). Nothing runs at import time.
"""

import tensorflow as tf

from cifar10.data import record_files
from cifar10.data import transforms
from cifar10.runtime import session

tf1 = tf.compat.v1

# Graph collection of the iterator initializers an evaluation runs before
# each pass (the queues' counterpart: the local epoch counter).
INITIALIZERS = 'input_initializers'
AUTOTUNE = tf.data.AUTOTUNE


def shard_plan(num_files, num_shards, index):
    """Which part of the data one of ``num_shards`` readers reads.

    Disjoint shares that together cover the data: with at least as many
    files as readers, whole files (reader i takes files i, i + n, ...);
    with fewer, every reader reads every file and keeps records i, i + n,
    ... of each (so the shares stay disjoint whatever order each reader
    takes the files in).

    Args:
      num_files: Files of the data.
      num_shards: Readers (workers), >= 1.
      index: This reader, 0 <= index < num_shards.

    Returns:
      ('files', [file indices]) or ('records', index).
    """
    if not 0 <= index < num_shards:
        raise ValueError(f'shard {index} of {num_shards}')
    if num_files >= num_shards:
        return 'files', list(range(index, num_files, num_shards))
    return 'records', index


def prefetch_device(num_gpus=None):
    """Where batches are prefetched to: the first GPU when one is visible
    (the model runs there, and the copy then overlaps the step), else None
    (the CPU, where they are made)."""
    if num_gpus is None:
        num_gpus = session.visible_gpus()
    return '/gpu:0' if num_gpus else None


def _options():
    """The pipelines' tf.data options: parallel maps on every core, without
    the autotuning model.

    With autotuning on, closing a training session waited 13-14 s for the
    iterator's autotuning thread in about half of the runs here (6 of 12
    runs of 600 steps; 0 of 6 without it); without it a map's AUTOTUNE
    parallelism is the core count.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def records(filenames, dataset, shard=(1, 0)):
    """The raw records of files, and this reader's share of them.

    Args:
      filenames: The files' paths (a list).
      dataset: The data set (fixed-length records or TFRecords).
      shard: (readers, this reader), see shard_plan.

    Returns:
      (files, read): a tf.data.Dataset of this reader's file names, and a
      function from such a dataset (shuffled, repeated) to the dataset of
      this reader's records in them.
    """
    kind, share = shard_plan(len(filenames), *shard)
    if kind == 'files':
        filenames = [filenames[i] for i in share]

    def one_file(name):
        if dataset.record_format == 'tfrecord':
            out = tf.data.TFRecordDataset(name)
        else:
            out = tf.data.FixedLengthRecordDataset(name, dataset.record_bytes)
        return out.shard(shard[0], share) if kind == 'records' else out

    return (tf.data.Dataset.from_tensor_slices(filenames),
            lambda files: files.flat_map(one_file))


def distorted_inputs(data_dir, batch_size, min_fraction_of_examples_in_queue,
                     dataset, shard=(1, 0), prefetch_batches=4, params_fn=None,
                     num_gpus=None):
    """Builds distorted, shuffled training batches with tf.data.

    Args:
      data_dir: The folder holding the data set's files.
      batch_size: Images per batch.
      min_fraction_of_examples_in_queue: The shuffle buffer's depth, as a
        fraction of an epoch (the queue's min_after_dequeue).
      dataset: The data set (a datasets.Dataset).
      shard: (readers, this reader): this worker's share (shard_plan).
      prefetch_batches: Batches kept ready.
      params_fn: As transforms.distortion_params (None means it).
      num_gpus: Visible GPUs (None: ask), for prefetch_device.

    Returns:
      images: [batch_size, crop, crop, 3] float32.
      labels: [batch_size] int32.

    Raises:
      DataError: if a training file is missing or malformed.
    """
    filenames = record_files.train_filenames(data_dir, dataset)
    record_files.validate_data_files(filenames, dataset)
    record_files.print_pipeline('tf_data', dataset)
    files, read = records(filenames, dataset, shard)
    files = files.shuffle(len(filenames), reshuffle_each_iteration=True).repeat()
    min_examples = record_files.min_queue_examples(
        min_fraction_of_examples_in_queue, dataset.num_train)
    print(f'Filling the shuffle buffer with {min_examples} images before '
          'starting to train.', flush=True)

    def decode_and_crop(values):
        images, labels = record_files.decode_records(values, dataset)
        return transforms.read_time_distortions(images, dataset, params_fn), labels

    def colours(crops, labels):
        return (transforms.batch_time_distortions(crops, batch_size, dataset,
                                                  params_fn), labels)

    pipeline = (read(files)
                .batch(record_files.TRAIN_RECORDS_PER_READ)
                .map(decode_and_crop, num_parallel_calls=AUTOTUNE)
                .unbatch()
                .shuffle(max(min_examples, 1))
                .batch(batch_size, drop_remainder=True)
                .map(colours, num_parallel_calls=AUTOTUNE))
    pipeline = pipeline.with_options(_options())
    device = prefetch_device(num_gpus)
    if device:
        pipeline = pipeline.apply(
            tf.data.experimental.prefetch_to_device(device, prefetch_batches))
    else:
        pipeline = pipeline.prefetch(prefetch_batches)
    images, labels = tf1.data.make_one_shot_iterator(pipeline).get_next()
    crop = dataset.crop_size
    images.set_shape([batch_size, crop, crop, 3])
    labels.set_shape([batch_size])
    tf1.summary.image('images', images)
    return images, labels


def inputs(eval_data, data_dir, batch_size, dataset):
    """Builds evaluation batches that visit every record exactly once.

    The files in order, batch_size records a batch (the last one smaller),
    then tf.errors.OutOfRangeError; the iterator's initializer is in the
    INITIALIZERS collection, to run before each pass.

    Args:
      eval_data: 'test' or 'train_eval'.
      data_dir: The folder holding the data set's files.
      batch_size: Images per batch.
      dataset: The data set.

    Returns:
      images: [None, crop, crop, 3] float32.
      labels: [None] int32.
      num_records: Records in the files (one pass).

    Raises:
      DataError: if a file is missing or malformed.
    """
    filenames = record_files.eval_filenames(eval_data, data_dir, dataset)
    num_records = record_files.validate_data_files(filenames, dataset)
    record_files.print_pipeline('tf_data', dataset, 'Evaluation')

    def prepare(values):
        images, labels = record_files.decode_records(values, dataset)
        return transforms.eval_batch(images, dataset), labels

    files, read = records(filenames, dataset)
    pipeline = (read(files)
                .batch(batch_size)
                .map(prepare, num_parallel_calls=AUTOTUNE, deterministic=True)
                .prefetch(2)
                .with_options(_options()))
    iterator = tf1.data.make_initializable_iterator(pipeline)
    tf1.add_to_collection(INITIALIZERS, iterator.initializer)
    images, labels = iterator.get_next()
    crop = dataset.crop_size
    images.set_shape([None, crop, crop, 3])
    tf1.summary.image('images', images)
    return images, labels, num_records
