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
"""Builds the CIFAR-10 network.

Summary of the functions:

 # Compute input images and labels for training. For evaluation, use
 # inputs() instead.
 inputs, labels = distorted_inputs(data_dir, batch_size)

 # Compute inference on the model inputs to make a prediction.
 predictions = inference(inputs)   # or Network(model='local').logits(inputs)

 # Compute the total loss of the prediction with respect to the labels.
 loss = loss(predictions, labels)

 # Create a graph to run one step of training with respect to the loss.
 train_op = train(loss, global_step, batch_size)

Two networks share the lower layers: the tutorial's ('tutorial', fully
connected local3 and local4) and the cuda-convnet model its exercise points
to ('local', locally connected local3 and local4); a Network names one, with
its number of classes. They are built in model/architectures.py from the
layers of model/layers.py and model/lrn.py; model/network.py describes them
and checks checkpoints against them. This module keeps the tutorial's functions and names (all of
them importable from here, as in the original) and the training recipe's
constants (decays, learning-rate schedule). Every function builds
graph-mode ops; importing the module does nothing else.
"""

import os
import sys

if __name__ == 'cifar10':
    # Imported as a module of its own, from inside the package's folder (a
    # learner's notebook or script beside the original's cifar10_train.py
    # does "import cifar10"): this module then stands for the package too,
    # so that its imports below, and "from cifar10 import cifar10"
    # elsewhere, find the package's modules and this same module.
    __path__ = [os.path.dirname(os.path.abspath(__file__))]
    sys.modules['cifar10.cifar10'] = sys.modules[__name__]

import tensorflow as tf

from cifar10 import cifar10_input
from cifar10.data import datasets
from cifar10.data import download
from cifar10.data import tf_data
from cifar10.data import transforms
from cifar10.model import architectures
from cifar10.model import layers
from cifar10.model import lrn
from cifar10.model import network as networks
from cifar10.runtime import errors

tf1 = tf.compat.v1

# Re-exported so scripts and tests need only this module.
IMAGE_SIZE = cifar10_input.IMAGE_SIZE
NUM_CLASSES = cifar10_input.NUM_CLASSES
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL
DataError = errors.DataError
maybe_download_and_extract = download.maybe_download_and_extract

# Constants describing the training process.
MOVING_AVERAGE_DECAY = 0.9999     # The decay to use for the moving average.
NUM_EPOCHS_PER_DECAY = 350.0      # Epochs after which learning rate decays.
LEARNING_RATE_DECAY_FACTOR = 0.1  # Learning rate decay factor.
INITIAL_LEARNING_RATE = 0.1       # Initial learning rate.
LOSS_AVERAGE_DECAY = 0.9          # Smoothing of the loss summaries.

# The tutorial's names for the parts that live in modules of their own
# under model/: the layers and their summaries (layers.py), local response
# normalization (lrn.py), the two networks (architectures.py) and the
# Network description with its checkpoint checks (network.py).
LRN_DEPTH_RADIUS = lrn.LRN_DEPTH_RADIUS
LRN_BIAS = lrn.LRN_BIAS
LRN_ALPHA = lrn.LRN_ALPHA
LRN_BETA = lrn.LRN_BETA
LRN_GRADIENTS = lrn.LRN_GRADIENTS
DEFAULT_LRN_GRADIENT = lrn.DEFAULT_LRN_GRADIENT
TOWER_NAME = layers.TOWER_NAME
ACTIVATIONS = layers.ACTIVATIONS
strip_tower_prefix = layers.strip_tower_prefix
scalar_summary = layers.scalar_summary
histogram_summary = layers.histogram_summary
add_activation_summaries = layers.add_activation_summaries
MODELS = architectures.MODELS
DEFAULT_MODEL = architectures.DEFAULT_MODEL
LAYER_SCOPES = architectures.LAYER_SCOPES
FROZEN_VARIABLES = architectures.FROZEN_VARIABLES
inference = architectures.inference
Network = networks.Network
parameter_count = networks.parameter_count
network_of_shapes = networks.network_of_shapes
check_checkpoint_fits = networks.check_checkpoint_fits

DEFAULT_BATCH_SIZE = 128
# The folder the binary release extracts to, inside --data_dir.
DATA_SUBDIR = download.EXTRACTED_DIR


def predictions(raw_images, network=Network()):
    """Classifies raw images the way evaluation prepares them.

    Args:
      raw_images: A [batch, 32, 32, 3] tensor of pixel values 0-255 (uint8
        or float), or of the data set's image size.
      network: The Network to build; its image_size is the crop's side.

    Returns:
      probabilities: [batch, num_classes] float32 softmax outputs (the
        normalized predictions the tutorial's exercise asks for).
      classes: [batch] int64, the most probable class of each image.
    """
    images = transforms.eval_image(tf.cast(raw_images, tf.float32),
                                   network.image_size)
    logits = tf.cast(network.logits(images), tf.float32)
    probabilities = tf.nn.softmax(logits, name='probabilities')
    classes = tf.argmax(logits, axis=1, name='classes')
    return probabilities, classes


def restoring_saver(use_moving_averages=True):
    """Returns a Saver that loads a checkpoint into the model's variables.

    Args:
      use_moving_averages: Load each variable's moving average (its
        ``ExponentialMovingAverage`` shadow), as evaluation does; False
        loads the raw trained values.
    """
    if use_moving_averages:
        variable_averages = tf1.train.ExponentialMovingAverage(
            MOVING_AVERAGE_DECAY)
        return tf1.train.Saver(variable_averages.variables_to_restore())
    return tf1.train.Saver(tf1.trainable_variables())


def loss(logits, labels, scope=None):
    """Adds the cross-entropy loss to the trainable variables' weight decay.

    Args:
      logits: Logits from inference().
      labels: A [batch] int tensor of labels.
      scope: Name scope (such as 'tower_0/') whose loss terms to add up;
        None for all. Each tower of the multi-GPU trainer has its own
        weight-decay terms in the 'losses' collection.

    Returns:
      The total loss (cross entropy plus the weight-decay terms) as a float
      tensor.
    """
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, name='cross_entropy_per_example')
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name='cross_entropy')
    tf1.add_to_collection('losses', cross_entropy_mean)
    return tf.add_n(tf1.get_collection('losses', scope), name='total_loss')


def add_loss_averages(losses):
    """Adds moving averages of the loss terms, and summaries of both.

    The average of a term named 'cross_entropy' is the variable
    'cross_entropy/avg', as in the tutorial's checkpoints.

    Args:
      losses: The loss-term tensors and the total loss.

    Returns:
      An op that updates the moving averages of the losses.
    """
    loss_averages = tf1.train.ExponentialMovingAverage(LOSS_AVERAGE_DECAY,
                                                       name='avg')
    loss_averages_op = loss_averages.apply(losses)
    for one_loss in losses:
        # The raw value is noisy; its average is what to look at.
        scalar_summary(one_loss.op.name + ' (raw)', one_loss)
        scalar_summary(one_loss.op.name, loss_averages.average(one_loss))
    return loss_averages_op


def learning_rate(global_step, batch_size,
                  examples_per_epoch=NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN):
    """Returns the staircase-decayed learning rate tensor.

    Args:
      global_step: The global step variable.
      batch_size: Examples per training step (all towers together).
      examples_per_epoch: Training examples in an epoch of the data set.
    """
    num_batches_per_epoch = examples_per_epoch / batch_size
    decay_steps = int(num_batches_per_epoch * NUM_EPOCHS_PER_DECAY)
    return tf1.train.exponential_decay(INITIAL_LEARNING_RATE, global_step,
                                       decay_steps,
                                       LEARNING_RATE_DECAY_FACTOR,
                                       staircase=True)


def add_gradient_summaries(grads_and_vars):
    """Adds a histogram of every trainable variable and of its gradient."""
    for var in tf1.trainable_variables():
        histogram_summary(var.op.name, var)
    for grad, var in grads_and_vars:
        if grad is not None:
            histogram_summary(var.op.name + '/gradients', grad)


def variable_averages(global_step):
    """Returns the moving averages of the variables, as training keeps them.

    The frozen variables of a fine-tuning run (FROZEN_VARIABLES) get their
    average variables here, so that checkpoints hold them for evaluation,
    but no update: they keep the values restored from the trained model.
    The caller applies the average to the trainable variables.

    Args:
      global_step: The global step variable (num_updates of the average).
    """
    averages = tf1.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY,
                                                  global_step)
    frozen = tf1.get_collection(FROZEN_VARIABLES)
    if frozen:
        averages.apply(frozen)  # Creates their averages; the op is never run.
    return averages


def apply_moving_averages(apply_gradient_op, global_step):
    """Updates the moving averages of all trainable variables after a step.

    Args:
      apply_gradient_op: The op applying the gradients.
      global_step: The global step variable (num_updates of the average).

    Returns:
      The training op: applies the gradients, then updates the averages.
    """
    averages = variable_averages(global_step)
    with tf.control_dependencies([apply_gradient_op]):
        variables_averages_op = averages.apply(
            tf1.trainable_variables())
    with tf.control_dependencies([variables_averages_op]):
        return tf.no_op(name='train')


def apply_update(opt, grads_and_vars, global_step):
    """The recipe's update: the gradients applied, then the moving averages.

    Args:
      opt: The optimizer.
      grads_and_vars: What opt.compute_gradients returned.
      global_step: The global step variable, advanced by one.

    Returns:
      The op for the update.
    """
    return apply_moving_averages(
        opt.apply_gradients(grads_and_vars, global_step=global_step),
        global_step)


def train(total_loss, global_step, batch_size, update=apply_update,
          examples_per_epoch=NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN):
    """Trains the CIFAR-10 model with plain gradient descent.

    Creates an optimizer and applies it to all trainable variables, then
    updates their moving averages.

    Args:
      total_loss: Total loss from loss().
      global_step: Variable counting the training steps processed.
      batch_size: Examples per step, for the learning-rate schedule.
      update: Builds the update from (optimizer, gradients, global step),
        as apply_update does; the distributed trainer passes its own
        (synchronous or asynchronous) one.
      examples_per_epoch: Training examples per epoch, for the schedule.

    Returns:
      train_op: The op for one training step.
    """
    lr = learning_rate(global_step, batch_size, examples_per_epoch)
    scalar_summary('learning_rate', lr)

    loss_averages_op = add_loss_averages(tf1.get_collection('losses') +
                                         [total_loss])
    with tf.control_dependencies([loss_averages_op]):
        opt = tf1.train.GradientDescentOptimizer(lr)
        grads = opt.compute_gradients(total_loss)
    add_gradient_summaries(grads)
    return update(opt, grads, global_step)


# Training input pipelines: 'queues' (the default: queue runners, a batch
# at a time), 'per_image' (the tutorial's own queues, one image per op) and
# 'tf_data' (tf.data, the same math; data/tf_data.py). 'batch' is the old
# name of 'queues'. Evaluation reads through 'queues' or 'tf_data'.
INPUT_PIPELINES = ('queues', 'per_image', 'tf_data')
EVAL_INPUT_PIPELINES = ('queues', 'tf_data')
PIPELINE_ALIASES = {'batch': 'queues'}
DEFAULT_PREPROCESS_THREADS = {
    'queues': cifar10_input.DEFAULT_NUM_BATCH_THREADS,
    'per_image': cifar10_input.DEFAULT_NUM_PREPROCESS_THREADS,
}


def distorted_inputs(data_dir, batch_size=DEFAULT_BATCH_SIZE, use_fp16=False,
                     num_threads=None,
                     min_fraction_of_examples_in_queue=(
                         cifar10_input.MIN_FRACTION_OF_EXAMPLES_IN_QUEUE),
                     pipeline='queues', dataset=datasets.CIFAR10, shard=(1, 0)):
    """Builds distorted training batches from the data in ``data_dir``.

    Args:
      data_dir: The folder ``cifar-10-batches-bin`` (or the data set's
        folder) was extracted into.
      batch_size: Number of images per batch.
      use_fp16: Return float16 images (the model then trains in float16).
      num_threads: Number of preprocessing threads; None for the
        pipeline's default (DEFAULT_PREPROCESS_THREADS).
      min_fraction_of_examples_in_queue: See cifar10_input.distorted_inputs.
      pipeline: 'queues' (cifar10_input.distorted_inputs_batched),
        'per_image' (cifar10_input.distorted_inputs) or 'tf_data'
        (tf_data.distorted_inputs); same math.
      dataset: The data set (a datasets.Dataset).
      shard: (readers, this reader): with tf_data, this worker's share of
        the data in a cluster (tf_data.shard_plan); the queues read
        all of it.

    Returns:
      images: A [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3] tensor.
      labels: A [batch_size] int32 tensor.

    Raises:
      DataError: if a training file is missing or malformed.
    """
    pipeline = PIPELINE_ALIASES.get(pipeline, pipeline)
    if pipeline not in INPUT_PIPELINES:
        raise ValueError(f'pipeline must be one of {INPUT_PIPELINES}, not {pipeline!r}')
    if pipeline == 'tf_data':
        images, labels = tf_data.distorted_inputs(
            dataset.folder(data_dir), batch_size,
            min_fraction_of_examples_in_queue, dataset, shard=shard)
    else:
        build = (cifar10_input.distorted_inputs_batched if pipeline == 'queues'
                 else cifar10_input.distorted_inputs)
        images, labels = build(
            dataset.folder(data_dir), batch_size,
            num_threads=num_threads or DEFAULT_PREPROCESS_THREADS[pipeline],
            min_fraction_of_examples_in_queue=min_fraction_of_examples_in_queue,
            dataset=dataset)
    if use_fp16:
        images = tf.cast(images, tf.float16)
    return images, labels


def inputs(eval_data, data_dir, batch_size=DEFAULT_BATCH_SIZE,
           use_fp16=False, dataset=datasets.CIFAR10, pipeline='queues'):
    """Builds evaluation batches from the data in ``data_dir``.

    Args:
      eval_data: 'test' or 'train_eval'.
      data_dir: The folder ``cifar-10-batches-bin`` (or the data set's
        folder) was extracted into.
      batch_size: Number of images per batch.
      use_fp16: Return float16 images.
      dataset: The data set (a datasets.Dataset).
      pipeline: 'queues' (cifar10_input.inputs) or 'tf_data'
        (tf_data.inputs, whose iterator initializer is in the
        tf_data.INITIALIZERS collection).

    Returns:
      images, labels, num_records: see cifar10_input.inputs.

    Raises:
      DataError: if a file is missing or malformed.
    """
    pipeline = PIPELINE_ALIASES.get(pipeline, pipeline)
    if pipeline not in EVAL_INPUT_PIPELINES:
        raise ValueError(f'pipeline must be one of {EVAL_INPUT_PIPELINES}, '
                         f'not {pipeline!r}')
    build = tf_data.inputs if pipeline == 'tf_data' else cifar10_input.inputs
    images, labels, num_records = build(
        eval_data, dataset.folder(data_dir), batch_size, dataset)
    if use_fp16:
        images = tf.cast(images, tf.float16)
    return images, labels, num_records
