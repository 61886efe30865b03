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
its number of classes. All recipe constants (initializers, decays,
learning-rate schedule) are defined once, below. Every function builds
graph-mode ops; importing the module does nothing else.
"""

import dataclasses
import os
import re
import sys

if __name__ == 'cifar10':
    # Imported as a module of its own, from inside the package's folder (a
    # learner's notebook or script beside the original's cifar10_train.py
    # does "import cifar10"): this module then stands for the package too,
    # so that its imports below, and "from cifar10 import cifar10"
    # elsewhere, find the package's modules and this same module.
    __path__ = [os.path.dirname(os.path.abspath(__file__))]
    sys.modules['cifar10.cifar10'] = sys.modules[__name__]

import numpy as np
import tensorflow as tf

from cifar10 import cifar10_data
from cifar10 import cifar10_input
from cifar10 import datasets
from cifar10 import input_tf_data
from cifar10 import precision as precisions

tf1 = tf.compat.v1

# Re-exported so scripts and tests need only this module.
IMAGE_SIZE = cifar10_input.IMAGE_SIZE
NUM_CLASSES = cifar10_input.NUM_CLASSES
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
NUM_EXAMPLES_PER_EPOCH_FOR_EVAL = cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL
DataError = cifar10_input.DataError
maybe_download_and_extract = cifar10_data.maybe_download_and_extract

# Constants describing the training process.
MOVING_AVERAGE_DECAY = 0.9999     # The decay to use for the moving average.
NUM_EPOCHS_PER_DECAY = 350.0      # Epochs after which learning rate decays.
LEARNING_RATE_DECAY_FACTOR = 0.1  # Learning rate decay factor.
INITIAL_LEARNING_RATE = 0.1       # Initial learning rate.
LOSS_AVERAGE_DECAY = 0.9          # Smoothing of the loss summaries.

# Local response normalization after conv1 and conv2.
LRN_DEPTH_RADIUS = 4
LRN_BIAS = 1.0
LRN_ALPHA = 0.001 / 9.0
LRN_BETA = 0.75
# How the LRN gradient may be computed (see _lrn).
LRN_GRADIENTS = ('matmul', 'builtin')
DEFAULT_LRN_GRADIENT = 'matmul'

# If a model is trained with multiple GPUs, op names are prefixed with
# tower_N; the prefix is removed from summary names so that all towers
# report under one name.
TOWER_NAME = 'tower'
# Graph collection of the layer outputs inference() summarizes.
ACTIVATIONS = 'activations'
# Graph collection of the model variables fine-tuning keeps fixed (see
# inference's trainable_scopes): not trained, their averages not updated.
FROZEN_VARIABLES = 'frozen_variables'

# The networks inference() builds (--model).
MODELS = ('tutorial', 'local')
DEFAULT_MODEL = 'tutorial'
# The scopes of the layers with variables, bottom to top (both models).
LAYER_SCOPES = ('conv1', 'conv2', 'local3', 'local4', 'softmax_linear')

DEFAULT_BATCH_SIZE = 128
# The folder the binary release extracts to, inside --data_dir.
DATA_SUBDIR = cifar10_data.EXTRACTED_DIR


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


def _activation_summary(x):
    """Summarizes a layer's output, and records it in ACTIVATIONS.

    Args:
      x: A tensor of activations.
    """
    # Towers that split one batch summarize their layers together from the
    # collection (see cifar10_towers).
    tf1.add_to_collection(ACTIVATIONS, x)
    add_activation_summaries([x])


def _variable_on_cpu(name, shape, initializer, dtype):
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


def _variable_with_weight_decay(name, shape, stddev, wd, dtype):
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
    var = _variable_on_cpu(
        name, shape,
        tf1.truncated_normal_initializer(stddev=stddev, dtype=dtype), dtype)
    if wd:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
        tf1.add_to_collection('losses', weight_decay)
    return var


def _conv_relu(inputs, scope_name, in_depth, out_depth, stddev, bias_init,
               precision=precisions.DEFAULT_POLICY):
    """A 5x5, stride-1, SAME convolution with bias and ReLU; the convolution
    computes in the precision policy's type."""
    dtype = inputs.dtype
    with tf1.variable_scope(scope_name) as scope:
        kernel = _variable_with_weight_decay(
            'weights', shape=[5, 5, in_depth, out_depth], stddev=stddev,
            wd=0.0, dtype=dtype)
        conv = precisions.conv2d(inputs, kernel, [1, 1, 1, 1], 'SAME', precision)
        biases = _variable_on_cpu('biases', [out_depth],
                                  tf1.constant_initializer(bias_init), dtype)
        activation = tf.nn.relu(tf.nn.bias_add(conv, biases), name=scope.name)
    _activation_summary(activation)
    return activation


def _fully_connected(inputs, scope_name, out_dim, stddev, wd, bias_init,
                     relu=True, precision=precisions.DEFAULT_POLICY):
    """A fully connected layer, with ReLU unless ``relu`` is False; the
    matrix product computes in the precision policy's type."""
    dtype = inputs.dtype
    in_dim = inputs.shape[-1]
    with tf1.variable_scope(scope_name) as scope:
        weights = _variable_with_weight_decay(
            'weights', shape=[in_dim, out_dim], stddev=stddev, wd=wd,
            dtype=dtype)
        biases = _variable_on_cpu('biases', [out_dim],
                                  tf1.constant_initializer(bias_init), dtype)
        product = precisions.matmul(inputs, weights, precision)
        if relu:
            out = tf.nn.relu(product + biases, name=scope.name)
        else:
            out = tf.add(product, biases, name=scope.name)
    _activation_summary(out)
    return out


def _locally_connected(inputs, scope_name, out_depth, stddev, wd, bias_init,
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
        weights = _variable_with_weight_decay(
            'weights', shape=[height, width, 3, 3, in_depth, out_depth],
            stddev=stddev, wd=wd, dtype=dtype)
        biases = _variable_on_cpu('biases', [height, width, out_depth],
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
    _activation_summary(activation)
    return activation


def _max_pool(inputs, name):
    """3x3 max pooling with stride 2, SAME padding."""
    return tf.nn.max_pool2d(inputs, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                            padding='SAME', name=name)


def _lrn(inputs, name, gradient, precision=precisions.DEFAULT_POLICY):
    """Local response normalization with the tutorial's parameters.

    In float32 the forward pass is always TensorFlow's LRN op, so outputs
    are those of the original. ``gradient`` picks how its gradient is
    computed: 'builtin' uses TensorFlow's LRNGrad kernel, which on a CPU
    loops over each element's depth window and costs about a fifth of a
    training step; 'matmul' (see _lrn_matmul_gradient) gets the same
    gradient from two small matrix products and a few element-wise ops,
    about 2.3x faster for the pair.

    Under mixed precision with 'matmul', the forward pass is computed from
    products too (_lrn_by_products): its window sums are a bfloat16 matrix
    product, like the layers', and the gradient reuses the forward's
    denominators.
    """
    if gradient == 'builtin':
        return tf.nn.lrn(inputs, LRN_DEPTH_RADIUS, bias=LRN_BIAS,
                         alpha=LRN_ALPHA, beta=LRN_BETA, name=name)
    if gradient != 'matmul':
        raise ValueError(f'unknown LRN gradient {gradient!r}; expected one '
                         f'of {", ".join(LRN_GRADIENTS)}')
    if precision != precisions.DEFAULT_POLICY and inputs.dtype == tf.float32:
        return _lrn_by_products(inputs, name, precision)
    return _lrn_matmul_gradient(inputs, name)


def _depth_band(depth, dtype):
    """[depth, depth] matrix of ones where |i - j| <= LRN_DEPTH_RADIUS.

    Multiplying a [pixels, depth] tensor by it sums each channel's window
    of neighbouring channels, the sum LRN normalizes by.
    """
    index = np.arange(depth)
    band = np.abs(index[:, None] - index[None, :]) <= LRN_DEPTH_RADIUS
    return tf.constant(band.astype(dtype.as_numpy_dtype))


def _lrn_matmul_gradient(inputs, name):
    """TensorFlow's LRN op, with its gradient from banded matrix products.

    With t_i = bias + alpha * sum_{|j-i|<=r} x_j^2 and y_i = x_i * t_i^-beta,
    the gradient of a loss with upstream gradient g is

        dx_k = g_k * t_k^-beta
               - 2 * alpha * beta * x_k * sum_{|i-k|<=r} g_i * y_i / t_i

    and both window sums are a product with the symmetric band matrix.
    Against a float64 computation this is as accurate as LRNGrad (measured
    slightly more so; tests/test_model.py checks both).
    """
    @tf.custom_gradient
    def lrn(x):
        y = tf.nn.lrn(x, LRN_DEPTH_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA,
                      beta=LRN_BETA)

        def grad(dy):
            depth = int(x.shape[-1])
            band = _depth_band(depth, x.dtype)
            flat_x = tf.reshape(x, [-1, depth])
            flat_y = tf.reshape(y, [-1, depth])
            flat_dy = tf.reshape(dy, [-1, depth])
            # The same denominator LRN computed, recomputed rather than kept.
            t = tf.nn.bias_add(
                tf.matmul(tf.square(flat_x), band * LRN_ALPHA),
                tf.fill([depth], tf.cast(LRN_BIAS, x.dtype)))
            scale = tf.exp(tf.math.log(t) * -LRN_BETA)
            window = tf.matmul(flat_dy * flat_y / t, band)
            dx = flat_dy * scale - (2 * LRN_ALPHA * LRN_BETA) * flat_x * window
            return tf.reshape(dx, tf.shape(x))

        return y, grad

    with tf.name_scope(name) as scope:
        # The result keeps the name of the original's LRN op ("norm1").
        return tf.identity(lrn(inputs), name=scope)


def _lrn_by_products(inputs, name, precision):
    """LRN and its gradient, both from banded matrix products.

    With t_i = bias + alpha * sum_{|j-i|<=r} x_j^2, y_i = x_i * t_i^-beta:
    the window sums are a product with the band matrix in the policy's
    type, the rest is float32 element-wise work; the gradient (as in
    _lrn_matmul_gradient) reuses t and t^-beta from the forward pass.
    TensorFlow's LRN kernel took 3.3 ms per layer and step here (the
    biggest op left in float32 under mixed precision); this way the pair of
    layers, forward and backward, trains 1.14-1.16x faster.
    """
    @tf.custom_gradient
    def lrn(x):
        depth = int(x.shape[-1])
        band = _depth_band(depth, x.dtype)
        flat_x = tf.reshape(x, [-1, depth])
        t = tf.nn.bias_add(
            tf.matmul(tf.square(flat_x), band * LRN_ALPHA),
            tf.fill([depth], tf.cast(LRN_BIAS, x.dtype)))
        scale = tf.exp(tf.math.log(t) * -LRN_BETA)
        flat_y = flat_x * scale

        def grad(dy):
            flat_dy = tf.reshape(dy, [-1, depth])
            window = tf.matmul(flat_dy * flat_y / t, band)
            dx = flat_dy * scale - (2 * LRN_ALPHA * LRN_BETA) * flat_x * window
            return tf.reshape(dx, tf.shape(x))

        return tf.reshape(flat_y, tf.shape(x)), grad

    with tf.name_scope(name) as scope:
        return tf.identity(lrn(inputs), name=scope)


def _freezing_getter(trainable_scopes):
    """A variable getter that makes variables outside the scopes frozen.

    A frozen variable is created with trainable=False, so that no optimizer
    and no moving average sees it, and is recorded in FROZEN_VARIABLES.
    """
    # TensorFlow passes the next getter as the keyword argument 'getter'.
    def freezing(getter, name, *args, **kwargs):
        if name.split('/')[0] in trainable_scopes:
            return getter(name, *args, **kwargs)
        kwargs['trainable'] = False
        var = getter(name, *args, **kwargs)
        if var not in tf1.get_collection(FROZEN_VARIABLES):
            tf1.add_to_collection(FROZEN_VARIABLES, var)
        return var
    return freezing


def inference(images, lrn_gradient=DEFAULT_LRN_GRADIENT, model=DEFAULT_MODEL,
              num_classes=NUM_CLASSES, trainable_scopes=None,
              precision=precisions.DEFAULT_POLICY):
    """Builds the CIFAR-10 model.

    Variables are created with ``get_variable`` under the tutorial's scope
    names, so calling this again under a reusing variable scope shares them
    (as the multi-GPU towers do), and checkpoints carry the same names as the
    original's.

    Args:
      images: A [batch, IMAGE_SIZE, IMAGE_SIZE, 3] float tensor (or crops
        of another static size: the layers size themselves from it); its
        dtype (float32 or float16) sets the dtype of the variables. Any
        batch size works, including an unknown one.
      lrn_gradient: How the gradients of the two local response
        normalizations are computed, one of LRN_GRADIENTS: 'matmul' (fast
        on a CPU) or 'builtin' (TensorFlow's LRNGrad kernel). The forward
        pass, and so evaluation, is the same either way.
      model: One of MODELS: 'tutorial' (local3 and local4 fully connected,
        1,068,298 parameters for 10 classes) or 'local' (local3 and local4
        locally connected, as cuda-convnet's layers-conv-local-11pct,
        1,116,490 parameters).
      num_classes: The number of classes, the width of the logits.
      trainable_scopes: None to train every variable; else the layer
        scopes (such as ('local3', 'local4', 'softmax_linear')) whose
        variables are trained, all others being frozen (see
        FROZEN_VARIABLES).
      precision: One of precision.POLICIES: 'float32', or 'mixed_bfloat16'
        (convolutions and matrix products in bfloat16, all else float32;
        the variables and the logits stay float32 either way).

    Returns:
      Logits: a [batch, num_classes] tensor, unnormalized.
    """
    if model not in MODELS:
        raise ValueError(f'model must be one of {MODELS}, not {model!r}')
    precisions.check(precision)
    if trainable_scopes is None:
        return _inference(images, lrn_gradient, model, num_classes, precision)
    # The scope object re-entered keeps its reuse flag; without the name
    # scope it would also reset, op names stay under the caller's (tower_N).
    with tf1.variable_scope(tf1.get_variable_scope(),
                            custom_getter=_freezing_getter(trainable_scopes),
                            auxiliary_name_scope=False):
        return _inference(images, lrn_gradient, model, num_classes, precision)


def _inference(images, lrn_gradient, model, num_classes, precision):
    """inference() without the argument checks and freezing."""
    conv1 = _conv_relu(images, 'conv1', 3, 64, stddev=5e-2, bias_init=0.0,
                       precision=precision)
    pool1 = _max_pool(conv1, 'pool1')
    norm1 = _lrn(pool1, 'norm1', lrn_gradient, precision)

    conv2 = _conv_relu(norm1, 'conv2', 64, 64, stddev=5e-2, bias_init=0.1,
                       precision=precision)
    norm2 = _lrn(conv2, 'norm2', lrn_gradient, precision)
    pool2 = _max_pool(norm2, 'pool2')

    if model == 'local':
        # cuda-convnet's top: two locally connected layers of 32 channels
        # at pool2's 6x6 positions, then a linear layer over all of them.
        local3 = _locally_connected(pool2, 'local3', 32, stddev=0.04,
                                    wd=0.004, bias_init=0.1, precision=precision)
        local4 = _locally_connected(local3, 'local4', 32, stddev=0.04,
                                    wd=0.004, bias_init=0.1, precision=precision)
        flat = tf.reshape(local4, [-1, _flat_size(local4)])
        return _fully_connected(flat, 'softmax_linear', num_classes,
                                stddev=0.01, wd=0.004, bias_init=0.0,
                                relu=False, precision=precision)

    # Flatten each example; the flattened size comes from the static shape
    # (6x6x64 for 24x24 inputs), the batch size from the images at run time.
    reshape = tf.reshape(pool2, [-1, _flat_size(pool2)])

    local3 = _fully_connected(reshape, 'local3', 384, stddev=0.04, wd=0.004,
                              bias_init=0.1, precision=precision)
    local4 = _fully_connected(local3, 'local4', 192, stddev=0.04, wd=0.004,
                              bias_init=0.1, precision=precision)
    # No softmax here: tf.nn.sparse_softmax_cross_entropy_with_logits takes
    # the unnormalized logits and is more efficient.
    return _fully_connected(local4, 'softmax_linear', num_classes,
                            stddev=1 / 192.0, wd=0.0, bias_init=0.0,
                            relu=False, precision=precision)


def _flat_size(tensor):
    """Values per example of a [batch, ...] tensor with a static shape."""
    size = 1
    for dim in tensor.shape[1:]:
        size *= int(dim)
    return size


@dataclasses.dataclass(frozen=True)
class Network:
    """Which network to build, for how many classes (see inference).

    Attributes:
      model: One of MODELS.
      num_classes: Width of the logits (the data set's classes).
      lrn_gradient: How the LRN gradients are computed (training only).
      trainable_scopes: None, or the layer scopes to train (the rest frozen).
      image_size: Side of the crops it sees (the data set's crop_size:
        IMAGE_SIZE, 24, for 32x32 images).
      precision: The policy its products compute in (precision.POLICIES);
        checkpoints are the same either way.
    """
    model: str = DEFAULT_MODEL
    num_classes: int = NUM_CLASSES
    lrn_gradient: str = DEFAULT_LRN_GRADIENT
    trainable_scopes: tuple | None = None
    image_size: int = IMAGE_SIZE
    precision: str = precisions.DEFAULT_POLICY

    def logits(self, images):
        """Builds the network on ``images``; returns its logits."""
        return inference(images, self.lrn_gradient, self.model,
                         self.num_classes, self.trainable_scopes,
                         self.precision)

    def describe(self):
        """The network in a phrase: 'the local model (1,116,490 parameters)'."""
        count = parameter_count(self.model, self.num_classes, self.image_size)
        crops = (f', {self.image_size}x{self.image_size} crops'
                 if self.image_size != IMAGE_SIZE else '')
        mixed = (f', {self.precision}' if self.precision != precisions.DEFAULT_POLICY
                 else '')
        return f'the {self.model} model ({count:,} parameters{crops}{mixed})'


def parameter_count(model, num_classes, image_size=IMAGE_SIZE):
    """Learnable parameters of a model, counted from the layer shapes.

    Args:
      model: One of MODELS.
      num_classes: The number of classes.
      image_size: Side of the (square) input images.
    """
    side = image_size
    for _ in range(2):  # Two stride-2 SAME poolings round up.
        side = -(-side // 2)
    lower = (5 * 5 * 3 * 64 + 64) + (5 * 5 * 64 * 64 + 64)
    if model == 'local':
        cells = side * side
        top = (cells * 9 * 64 * 32 + cells * 32) + (cells * 9 * 32 * 32 + cells * 32)
        return lower + top + cells * 32 * num_classes + num_classes
    flat = side * side * 64
    return (lower + flat * 384 + 384 + 384 * 192 + 192
            + 192 * num_classes + num_classes)


def network_of_shapes(shapes):
    """Which network variables of these shapes belong to.

    Args:
      shapes: {variable name: shape (a list of ints)}, as a checkpoint's
        variable-to-shape map or a graph's variables give them.

    Returns:
      (model, num_classes, pooled): the model of MODELS whose local3
      weights have that rank, the width of softmax_linear, and the side of
      pool2's output, which follows the size of the images the network
      was built for (6 for 24x24 crops); each is None where the variables
      do not tell.
    """
    local3 = shapes.get('local3/weights', ())
    model = {2: 'tutorial', 6: 'local'}.get(len(local3))
    biases = shapes.get('softmax_linear/biases')
    pooled = None
    if model == 'local':
        pooled = int(local3[0])
    elif model == 'tutorial':
        pooled = round((int(local3[0]) // 64) ** 0.5)
    return model, (int(biases[0]) if biases else None), pooled


def _crop_sides(pooled):
    """The crop sizes whose two stride-2 poolings give a side of ``pooled``."""
    return f'{4 * pooled - 3}-{4 * pooled}'



def check_checkpoint_fits(checkpoint_path):
    """Refuses, in one line, a checkpoint of another model or class count.

    Restoring one would otherwise fail with TensorFlow's shape error deep
    in the restore, or, for the softmax layer alone, name no model at all.
    The network restored into is the one in the default graph.

    Args:
      checkpoint_path: The checkpoint prefix.

    Raises:
      DataError: naming both models (or class counts) and the flag to pass.
    """
    try:
        shapes = tf.train.load_checkpoint(checkpoint_path).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError):
        return  # Unreadable: the restore says so, with the reason.
    model, num_classes, pooled = network_of_shapes(shapes)
    built_model, built_classes, built_pooled = network_of_shapes(
        {v.op.name: v.shape.as_list() for v in tf1.global_variables()})
    if model and built_model and model != built_model:
        raise DataError(
            f'{checkpoint_path} holds the {model} model, but this run builds '
            f'the {built_model} model (--model={built_model}); pass '
            f'--model={model} to use it')
    if num_classes and built_classes and num_classes != built_classes:
        raise DataError(
            f'{checkpoint_path} classifies into {num_classes} classes, but '
            f'this run has {built_classes} (its --dataset); pass the data set '
            'it was trained on')
    if pooled and built_pooled and pooled != built_pooled:
        raise DataError(
            f'{checkpoint_path} was trained on crops of {_crop_sides(pooled)} '
            f'pixels, but this run builds the network for crops of '
            f'{_crop_sides(built_pooled)} (its --dataset\'s image size); pass '
            'the data set it was trained on')


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
    images = cifar10_input.eval_image(tf.cast(raw_images, tf.float32),
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
    for l in losses:
        # The raw value is noisy; its average is what to look at.
        scalar_summary(l.op.name + ' (raw)', l)
        scalar_summary(l.op.name, loss_averages.average(l))
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
# 'tf_data' (tf.data, the same math; input_tf_data). 'batch' is the old
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
        (input_tf_data.distorted_inputs); same math.
      dataset: The data set (a datasets.Dataset).
      shard: (readers, this reader): with tf_data, this worker's share of
        the data in a cluster (input_tf_data.shard_plan); the queues read
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
        images, labels = input_tf_data.distorted_inputs(
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
        (input_tf_data.inputs, whose iterator initializer is in the
        input_tf_data.INITIALIZERS collection).

    Returns:
      images, labels, num_records: see cifar10_input.inputs.

    Raises:
      DataError: if a file is missing or malformed.
    """
    pipeline = PIPELINE_ALIASES.get(pipeline, pipeline)
    if pipeline not in EVAL_INPUT_PIPELINES:
        raise ValueError(f'pipeline must be one of {EVAL_INPUT_PIPELINES}, '
                         f'not {pipeline!r}')
    build = input_tf_data.inputs if pipeline == 'tf_data' else cifar10_input.inputs
    images, labels, num_records = build(
        eval_data, dataset.folder(data_dir), batch_size, dataset)
    if use_fp16:
        images = tf.cast(images, tf.float16)
    return images, labels, num_records
