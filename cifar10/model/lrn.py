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
"""Local response normalization, as the tutorial's networks use it after
conv1 and conv2, and the ways its gradient is computed.

The forward pass in float32 is always TensorFlow's LRN op, so outputs are
the original's; the gradient is TensorFlow's LRNGrad kernel ('builtin') or
two banded matrix products ('matmul', faster on a CPU). Under mixed
precision with 'matmul' the forward pass is computed from products too.
"""

import numpy as np
import tensorflow as tf

from cifar10.model import precision as precisions


# The tutorial's parameters.
LRN_DEPTH_RADIUS = 4
LRN_BIAS = 1.0
LRN_ALPHA = 0.001 / 9.0
LRN_BETA = 0.75
# How the LRN gradient may be computed (see lrn).
LRN_GRADIENTS = ('matmul', 'builtin')
DEFAULT_LRN_GRADIENT = 'matmul'


def lrn(inputs, name, gradient, precision=precisions.DEFAULT_POLICY):
    """Local response normalization with the tutorial's parameters.

    In float32 the forward pass is always TensorFlow's LRN op, so outputs
    are those of the original. ``gradient`` picks how its gradient is
    computed: 'builtin' uses TensorFlow's LRNGrad kernel, which on a CPU
    loops over each element's depth window and costs about a fifth of a
    training step; 'matmul' (see _matmul_gradient) gets the same
    gradient from two small matrix products and a few element-wise ops,
    about 2.3x faster for the pair.

    Under mixed precision with 'matmul', the forward pass is computed from
    products too (_by_products): its window sums are a bfloat16 matrix
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
        return _by_products(inputs, name, precision)
    return _matmul_gradient(inputs, name)


def _depth_band(depth, dtype):
    """[depth, depth] matrix of ones where |i - j| <= LRN_DEPTH_RADIUS.

    Multiplying a [pixels, depth] tensor by it sums each channel's window
    of neighbouring channels, the sum LRN normalizes by.
    """
    index = np.arange(depth)
    band = np.abs(index[:, None] - index[None, :]) <= LRN_DEPTH_RADIUS
    return tf.constant(band.astype(dtype.as_numpy_dtype))


def _matmul_gradient(inputs, name):
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


def _by_products(inputs, name, precision):
    """LRN and its gradient, both from banded matrix products.

    With t_i = bias + alpha * sum_{|j-i|<=r} x_j^2, y_i = x_i * t_i^-beta:
    the window sums are a product with the band matrix in the policy's
    type, the rest is float32 element-wise work; the gradient (as in
    _matmul_gradient) reuses t and t^-beta from the forward pass.
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
