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
"""The tutorial's model and recipe written as a Keras 3 user would write
them, trained by ``model.fit``: the benchmark's reference (its keras row).

What a user who picked Keras instead of this project would run, with
Keras's defaults wherever the recipe does not say otherwise:
  input    the same record files through tf.data, one image per map call
           (parallel), the tutorial's distortions from tf.image: random
           24x24 crop, left-right flip, brightness (max delta 63), contrast
           (0.2 to 1.8), per-image standardization; a shuffle buffer of 40%
           of an epoch of records; batches; prefetch;
  model    conv1, pool1, norm1, conv2, norm2, pool2, local3, local4,
           softmax_linear, with the tutorial's sizes and initializers; LRN
           is tf.nn.local_response_normalization (Keras 3 has no layer for
           it), with TensorFlow's own gradient;
  loss     sparse softmax cross-entropy on the logits, plus weight decay
           0.004 on local3's and local4's weights;
  training plain SGD, learning rate 0.1 times 0.1 every 350 epochs
           (staircase); fit's default loop (no XLA on a CPU, one step per
           call); under mixed_bfloat16 Keras's own policy (every layer
           computes in bfloat16, the variables stay float32) with float32
           logits, as Keras's mixed-precision guide says.
Left out: the moving average of the variables. Keras's (SGD's use_ema)
has no warm-up (the tutorial's decay is min(0.9999, (1 + step) / (10 +
step))), so after a few hundred steps its averaged weights are still
mostly the initial ones; and updating it costs about 1/5,000 of a
step's arithmetic. So the precision this module reports is the raw
weights'. Nor are there summaries.

Importing this module loads TensorFlow and Keras, and does nothing else.
"""

import time

import keras
import numpy as np
import tensorflow as tf

from cifar10.data import record_files

# The tutorial's constants (see the project's cifar10.py).
LRN_PARAMS = {'depth_radius': 4, 'bias': 1.0, 'alpha': 0.001 / 9.0, 'beta': 0.75}
WEIGHT_DECAY = 0.004
INITIAL_LEARNING_RATE = 0.1
LEARNING_RATE_DECAY_FACTOR = 0.1
NUM_EPOCHS_PER_DECAY = 350
MAX_BRIGHTNESS_DELTA = 63
CONTRAST_RANGE = (0.2, 1.8)


class LocalResponseNormalization(keras.layers.Layer):
    """tf.nn.local_response_normalization as a Keras layer, with the
    tutorial's parameters.

    TensorFlow's LRN kernels have no bfloat16 version, so under a mixed
    policy the layer computes in float32 and returns its input's type.
    """

    def call(self, inputs):
        outputs = tf.nn.local_response_normalization(
            tf.cast(inputs, tf.float32), **LRN_PARAMS)
        return tf.cast(outputs, inputs.dtype)


def build_model(num_classes=10, crop_size=24, policy='float32'):
    """The tutorial's network as a Keras functional model.

    Args:
      num_classes: Width of the logits.
      crop_size: Side of the square input crops.
      policy: 'float32' or 'mixed_bfloat16' (a Keras dtype policy).

    Returns:
      A keras.Model from [batch, crop, crop, 3] float32 images to float32
      logits [batch, num_classes].
    """
    layers = keras.layers
    normal = keras.initializers.TruncatedNormal
    constant = keras.initializers.Constant
    # Keras's L2(l) adds l * sum(w ** 2); the tutorial adds wd * sum(w ** 2) / 2.
    decay = keras.regularizers.L2(WEIGHT_DECAY / 2)

    def conv(name, bias):
        return layers.Conv2D(64, 5, padding='same', activation='relu', name=name,
                             kernel_initializer=normal(stddev=5e-2),
                             bias_initializer=constant(bias), dtype=policy)

    def pool(name):
        return layers.MaxPooling2D(3, 2, padding='same', name=name, dtype=policy)

    def dense(name, units, stddev, bias, regularizer, activation):
        return layers.Dense(units, activation=activation, name=name,
                            kernel_initializer=normal(stddev=stddev),
                            bias_initializer=constant(bias),
                            kernel_regularizer=regularizer, dtype=policy)

    images = keras.Input((crop_size, crop_size, 3))
    x = conv('conv1', 0.0)(images)
    x = pool('pool1')(x)
    x = LocalResponseNormalization(name='norm1', dtype=policy)(x)
    x = conv('conv2', 0.1)(x)
    x = LocalResponseNormalization(name='norm2', dtype=policy)(x)
    x = pool('pool2')(x)
    x = layers.Flatten(dtype=policy)(x)
    x = dense('local3', 384, 0.04, 0.1, decay, 'relu')(x)
    x = dense('local4', 192, 0.04, 0.1, decay, 'relu')(x)
    x = dense('softmax_linear', num_classes, 1 / 192.0, 0.0, None, None)(x)
    logits = layers.Activation('linear', dtype='float32', name='logits')(x)
    return keras.Model(images, logits)


def learning_rate_schedule(batch_size, num_train):
    """The recipe's learning rate: 0.1, times 0.1 every 350 epochs
    (staircase).

    Args:
      batch_size: Images per step (for the steps per epoch).
      num_train: Training examples per epoch.

    Returns:
      A keras.optimizers.schedules.ExponentialDecay.
    """
    return keras.optimizers.schedules.ExponentialDecay(
        INITIAL_LEARNING_RATE,
        decay_steps=int(num_train / batch_size * NUM_EPOCHS_PER_DECAY),
        decay_rate=LEARNING_RATE_DECAY_FACTOR, staircase=True)


def compile_model(model, batch_size, num_train):
    """Gives the model the recipe's loss and optimizer (plain SGD).

    Args:
      model: A model of build_model.
      batch_size: Images per step (for the decay's steps per epoch).
      num_train: Training examples per epoch.
    """
    model.compile(optimizer=keras.optimizers.SGD(
                      learning_rate_schedule(batch_size, num_train)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def _record_dataset(filenames, dataset):
    if dataset.record_format == 'tfrecord':
        return tf.data.TFRecordDataset(filenames)
    return tf.data.FixedLengthRecordDataset(filenames, dataset.record_bytes)


def _decode(value, dataset):
    """One record -> (float32 [size, size, 3] image, int32 label)."""
    images, labels = record_files.decode_records(value[None], dataset)
    return tf.cast(images[0], tf.float32), labels[0]


def train_dataset(data_dir, dataset, batch_size):
    """Distorted training batches, image by image, as a Keras user writes them.

    Args:
      data_dir: The folder the data set's files were extracted into (its
        folder() is read).
      dataset: The data set (a cifar10.data.datasets.Dataset).
      batch_size: Images per batch.

    Returns:
      An endless tf.data.Dataset of (images [batch, crop, crop, 3] float32,
      labels [batch] int32).

    Raises:
      DataError: if a training file is missing or malformed.
    """
    filenames = record_files.train_filenames(dataset.folder(data_dir), dataset)
    record_files.validate_data_files(filenames, dataset)
    crop = dataset.crop_size

    def distort(value):
        image, label = _decode(value, dataset)
        image = tf.image.random_crop(image, [crop, crop, 3])
        image = tf.image.random_flip_left_right(image)
        image = tf.image.random_brightness(image, MAX_BRIGHTNESS_DELTA)
        image = tf.image.random_contrast(image, *CONTRAST_RANGE)
        return tf.image.per_image_standardization(image), label

    buffer = record_files.min_queue_examples(
        record_files.MIN_FRACTION_OF_EXAMPLES_IN_QUEUE, dataset.num_train)
    return (_record_dataset(filenames, dataset)
            .repeat()
            .shuffle(max(buffer, 1))
            .map(distort, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))


def test_dataset(data_dir, dataset, batch_size):
    """The test images once, centrally cropped and standardized, in batches."""
    filenames = record_files.eval_filenames('test', dataset.folder(data_dir), dataset)
    record_files.validate_data_files(filenames, dataset)
    crop = dataset.crop_size

    def prepare(value):
        image, label = _decode(value, dataset)
        image = tf.image.resize_with_crop_or_pad(image, crop, crop)
        return tf.image.per_image_standardization(image), label

    return (_record_dataset(filenames, dataset)
            .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE))


class StepTimes(keras.callbacks.Callback):
    """Notes the time at the end of every training step (it reads no logs,
    so it adds no work to the step)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def window_rates(times, batch_size, window, after):
    """Examples/sec over each window of steps, as the trainer's progress
    lines count them.

    The trainer prints a line each ``window`` steps, its speed counted from
    the end of the previous line's step (the first line's from the end of
    step 1, so start-up is not counted); the benchmark keeps the lines past
    step ``after``.

    Args:
      times: times[i] is when step i + 1 ended (seconds).
      batch_size: Examples per step.
      window: Steps between lines (the trainer's --log_frequency).
      after: Keep the windows that end past this step.

    Returns:
      A list of examples/sec, one per window kept.
    """
    rates = []
    for end in range(window, len(times) + 1, window):
        start = max(end - window, 1)
        if end > after and end > start:
            rates.append((end - start) * batch_size
                         / (times[end - 1] - times[start - 1]))
    return rates


def train(data_dir, dataset, batch_size, steps, policy, window=50):
    """Builds the model and trains it with fit for ``steps`` steps.

    Args:
      data_dir, dataset, batch_size: As train_dataset.
      steps: Training steps (one epoch of fit).
      policy: 'float32' or 'mixed_bfloat16'.
      window: Steps per timed window (see window_rates).

    Returns:
      (model, step_times): the trained model and StepTimes.times.
    """
    model = build_model(dataset.num_classes, dataset.crop_size, policy)
    compile_model(model, batch_size, dataset.num_train)
    times = StepTimes()
    model.fit(train_dataset(data_dir, dataset, batch_size), epochs=1,
              steps_per_epoch=steps, callbacks=[times], verbose=0)
    return model, times.times


def precision_at_1(model, data_dir, dataset, batch_size):
    """The fraction of test images whose top logit is their label."""
    # One traced graph for the forward pass, as fit and predict run the
    # model: called eagerly, batch by batch, it took twice as long.
    forward = tf.function(lambda images: model(images, training=False),
                          reduce_retracing=True)
    correct = total = 0
    for images, labels in test_dataset(data_dir, dataset, batch_size):
        predicted = np.argmax(forward(images), axis=1)
        correct += int(np.sum(predicted == labels.numpy()))
        total += int(labels.shape[0])
    return correct / total

