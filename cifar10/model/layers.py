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
"""The layers the CIFAR-10 networks are built of, and their summaries.

Every layer creates its variables with ``get_variable`` under the
tutorial's scope names (so towers share them under a reusing scope, and
checkpoints carry the original's names), keeps them on the CPU, adds its
weight decay to the 'losses' collection, computes its products in the
precision policy's type, and summarizes its output.
"""

import re

import tensorflow as tf

from cifar10.model import precision as precisions

tf1 = tf.compat.v1


# If a model is trained with multiple GPUs, op names are prefixed with
# tower_N; the prefix is removed from summary names so that all towers
# report under one name.
TOWER_NAME = 'tower'
# Graph collection of the layer outputs the networks summarize.
ACTIVATIONS = 'activations'


def strip_tower_prefix(name):
    """Drops any 'tower_N/' from an op name, so all towers share one name."""
    return re.sub(f'{TOWER_NAME}_[0-9]*/', '', name)


def scalar_summary(tag, value):
    """Adds a scalar summary whose tag is exactly ``tag``.

    tf.compat.v1.summary.scalar prefixes the tag with the enclosing name
    scope (so each tower would report under tower_N/...) and mangles
    characters such as spaces; the raw op takes the tag as given.

    Args:
      tag: The summary's tag.
      value: A scalar tensor.
    """
    tf1.add_to_collection(tf1.GraphKeys.SUMMARIES,
                          tf.raw_ops.ScalarSummary(tags=tag, values=value))


def histogram_summary(tag, values):
    """Adds a histogram summary whose tag is exactly ``tag``."""
    tf1.add_to_collection(tf1.GraphKeys.SUMMARIES,
                          tf.raw_ops.HistogramSummary(tag=tag, values=values))


def add_activation_summaries(activations):
    """Adds a histogram of a layer's activations and a scalar of their sparsity.

    Args:
      activations: The layer's output in each tower that computed part of
        the batch (one tensor when a single device computed all of it).
        They are summarized together, under the layer's name without any
        tower prefix.
    """
    name = strip_tower_prefix(activations[0].op.name)
    values = (activations[0] if len(activations) == 1
              else tf.concat(activations, 0))
    histogram_summary(name + '/activations', values)
    scalar_summary(name + '/sparsity', tf.nn.zero_fraction(values))


def activation_summary(x):
    """Summarizes a layer's output, and records it in ACTIVATIONS.

    Args:
      x: A tensor of activations.
    """
    # Towers that split one batch summarize their layers together from the
    # collection (see parallel/towers.py).
    tf1.add_to_collection(ACTIVATIONS, x)
    add_activation_summaries([x])


def variable_on_cpu(name, shape, initializer, dtype):
    """Creates (or, under variable-scope reuse, fetches) a variable on the CPU.

    The variables live in CPU memory so that towers on several devices can
    share one copy.

    Args:
      name: Name of the variable.
      shape: List of ints.
      initializer: Initializer for the variable.
      dtype: Data type of the variable.

    Returns:
      The variable.
    """
    with tf.device('/cpu:0'):
        return tf1.get_variable(name, shape, initializer=initializer,
                                dtype=dtype)


def variable_with_weight_decay(name, shape, stddev, wd, dtype):
    """Creates a weight variable with truncated-normal init and weight decay.

    Args:
      name: Name of the variable.
      shape: List of ints.
      stddev: Standard deviation of the truncated normal initializer.
      wd: L2 loss weight decay multiplier. A decay of 0.0 adds no term to
        the loss (as the tutorial's wd=None), so the set of loss terms, and
        thus the checkpoint's loss-average variables, match the original.
      dtype: Data type of the variable.

    Returns:
      The variable.
    """
    # The initializer takes its dtype from get_variable: giving it to the
    # constructor too is deprecated (and logs a warning), and draws the
    # same values.
    var = variable_on_cpu(
        name, shape,
        tf1.truncated_normal_initializer(stddev=stddev), dtype)
    if wd:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
        tf1.add_to_collection('losses', weight_decay)
    return var


def _conv_variables(in_depth, out_depth, stddev, bias_init, dtype):
    """A 5x5 convolution's kernel (no weight decay, as the tutorial's) and
    biases, in the current variable scope."""
    kernel = variable_with_weight_decay(
        'weights', shape=[5, 5, in_depth, out_depth], stddev=stddev,
        wd=0.0, dtype=dtype)
    biases = variable_on_cpu('biases', [out_depth],
                             tf1.constant_initializer(bias_init), dtype)
    return kernel, biases


def conv_relu(inputs, scope_name, in_depth, out_depth, stddev, bias_init,
              precision=precisions.DEFAULT_POLICY):
    """A 5x5, stride-1, SAME convolution with bias and ReLU; the convolution
    computes in the precision policy's type."""
    with tf1.variable_scope(scope_name) as scope:
        kernel, biases = _conv_variables(in_depth, out_depth, stddev,
                                         bias_init, inputs.dtype)
        activation = precisions.conv2d_bias_relu(
            inputs, kernel, biases, 'SAME', scope.name, precision)
    activation_summary(activation)
    return activation


def conv_relu_pool(inputs, scope_name, in_depth, out_depth, stddev,
                   bias_init, pool_name, precision=precisions.DEFAULT_POLICY):
    """conv_relu followed by max_pool, built together so that under mixed
    precision the pooling runs on the convolution's bfloat16 output (see
    precision.conv2d_bias_relu_max_pool); the same graph as the two calls
    in float32.

    Returns:
      (activation, pooled): the convolution's activations (summarized as
      conv_relu's) and their pooling, named ``pool_name`` in the caller's
      name scope.
    """
    outer = tf1.get_default_graph().get_name_scope()

    def pool(x):
        # A trailing slash re-enters the caller's name scope ('' is the
        # root): the pooling keeps the name it has outside conv_relu.
        with tf1.name_scope(outer + '/' if outer else ''):
            return max_pool(x, pool_name)

    with tf1.variable_scope(scope_name) as scope:
        kernel, biases = _conv_variables(in_depth, out_depth, stddev,
                                         bias_init, inputs.dtype)
        activation, pooled = precisions.conv2d_bias_relu_max_pool(
            inputs, kernel, biases, 'SAME', scope.name, pool, precision)
    activation_summary(activation)
    return activation, pooled


def fully_connected(inputs, scope_name, out_dim, stddev, wd, bias_init,
                    relu=True, precision=precisions.DEFAULT_POLICY):
    """A fully connected layer, with ReLU unless ``relu`` is False; the
    matrix product computes in the precision policy's type."""
    dtype = inputs.dtype
    in_dim = inputs.shape[-1]
    with tf1.variable_scope(scope_name) as scope:
        weights = variable_with_weight_decay(
            'weights', shape=[in_dim, out_dim], stddev=stddev, wd=wd,
            dtype=dtype)
        biases = variable_on_cpu('biases', [out_dim],
                                 tf1.constant_initializer(bias_init), dtype)
        product = precisions.matmul(inputs, weights, precision)
        if relu:
            out = tf.nn.relu(product + biases, name=scope.name)
        else:
            out = tf.add(product, biases, name=scope.name)
    activation_summary(out)
    return out


def locally_connected(inputs, scope_name, out_depth, stddev, wd, bias_init,
                      precision=precisions.DEFAULT_POLICY):
    """A 3x3, stride-1 locally connected layer with zero padding 1, and ReLU.

    Like a SAME convolution, but each output position (i, j) has weights
    and biases of its own: weights [H, W, 3, 3, in_depth, out_depth] and
    biases [H, W, out_depth], H x W being the input's (and output's) size.
    Position (i, j) sees input rows i-1..i+1 and columns j-1..j+1, zero
    outside the input.

    Args:
      inputs: A [batch, H, W, in_depth] tensor with a static H, W, in_depth.
      scope_name: The variable scope ('local3').
      out_depth: Output channels.
      stddev: Truncated-normal stddev of the weights.
      wd: Weight decay of the weights.
      bias_init: Initial value of the biases.
      precision: The policy the products compute in (precision.POLICIES).

    Returns:
      The [batch, H, W, out_depth] activations.
    """
    dtype = inputs.dtype
    height, width, in_depth = (int(d) for d in inputs.shape[1:])
    with tf1.variable_scope(scope_name) as scope:
        weights = variable_with_weight_decay(
            'weights', shape=[height, width, 3, 3, in_depth, out_depth],
            stddev=stddev, wd=wd, dtype=dtype)
        biases = variable_on_cpu('biases', [height, width, out_depth],
                                 tf1.constant_initializer(bias_init), dtype)
        # Each position's 3x3 window of the zero-padded input, flattened in
        # (filter row, filter column, input channel) order, the order of
        # the weights' middle dimensions.
        padded = tf.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]])
        patches = tf.image.extract_patches(
            padded, sizes=[1, 3, 3, 1], strides=[1, 1, 1, 1],
            rates=[1, 1, 1, 1], padding='VALID')
        # One matrix product per position, batched over the positions:
        # [positions, batch, window] x [positions, window, out]. Forward and
        # backward of local3 at a batch of 64 took 3.2 ms so, against 4.2 ms
        # for the same product as an einsum and 7.3-8.4 ms with the windows
        # cut as nine slices.
        cells, window = height * width, 9 * in_depth
        by_position = tf.transpose(tf.reshape(patches, [-1, cells, window]),
                                   [1, 0, 2])
        local = precisions.matmul(
            by_position, tf.reshape(weights, [cells, window, out_depth]),
            precision)
        local = tf.reshape(tf.transpose(local, [1, 0, 2]),
                           [-1, height, width, out_depth])
        activation = tf.nn.relu(local + biases, name=scope.name)
    activation_summary(activation)
    return activation


def max_pool(inputs, name):
    """3x3 max pooling with stride 2, SAME padding."""
    return tf.nn.max_pool2d(inputs, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                            padding='SAME', name=name)
