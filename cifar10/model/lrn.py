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
conv1 and conv2, and the ways it and its gradient are computed.

'matmul' (the default) computes both from banded matrix products and a
few element-wise ops, the fastest way on a CPU; 'builtin' is TensorFlow's
LRN op and its LRNGrad kernel, the original's way. Both compute the
tutorial's function, to float32 rounding (tests/test_model.py checks both
against float64).
"""

import numpy as np
import tensorflow as tf


# The tutorial's parameters.
LRN_DEPTH_RADIUS = 4
LRN_BIAS = 1.0
LRN_ALPHA = 0.001 / 9.0
LRN_BETA = 0.75  # _power_of_beta computes t^-0.75 from square roots
# How the LRN gradient may be computed (see lrn).
LRN_GRADIENTS = ('matmul', 'builtin')
DEFAULT_LRN_GRADIENT = 'matmul'


def lrn(inputs, name, gradient):
    """Local response normalization with the tutorial's parameters.

    Args:
      inputs: [batch, height, width, depth] activations.
      name: the name of the result (the original's "norm1" or "norm2").
      gradient: 'matmul' computes the normalization and its gradient from
        banded matrix products (_by_products; for float16 inputs, on a GPU,
        TensorFlow's LRN op with the gradient from products,
        _matmul_gradient); 'builtin' is TensorFlow's LRN op and its LRNGrad
        kernel, which on a CPU loops over each element's depth window and
        took about a fifth of a training step.

    Returns:
      The normalized activations, of the inputs' shape and type.
    """
    if gradient == 'builtin':
        return tf.nn.lrn(inputs, LRN_DEPTH_RADIUS, bias=LRN_BIAS,
                         alpha=LRN_ALPHA, beta=LRN_BETA, name=name)
    if gradient != 'matmul':
        raise ValueError(f'unknown LRN gradient {gradient!r}; expected one '
                         f'of {", ".join(LRN_GRADIENTS)}')
    if inputs.dtype == tf.float32:
        return _by_products(inputs, name)
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


def _by_products(inputs, name):
    """LRN and its gradient, both from banded matrix products.

    With t_i = bias + alpha * sum_{|j-i|<=r} x_j^2 and y_i = x_i * t_i^-beta,
    the window sums are one float32 product with the band matrix (float32
    under mixed precision too: in bfloat16 its casts would cost more than
    the product gains), and t^-beta for the tutorial's beta of 0.75 is
    rsqrt(t) * sqrt(rsqrt(t)): two cheap instructions where a power is an
    exp of a log. The gradient (as in _matmul_gradient) reuses t and
    t^-beta from the forward pass, with its constant folded into the band.
    Per layer of 128 x 12 x 12 x 64 on one core, forward and backward took
    3.3 ms this way, 4.5 ms with exp and log, and 7.3 ms with TensorFlow's
    LRN op forward (see docs/design-notes.md).
    """
    @tf.custom_gradient
    def lrn(x):
        depth = int(x.shape[-1])
        band = _depth_band(depth, x.dtype)
        flat_x = tf.reshape(x, [-1, depth])
        t = tf.nn.bias_add(
            tf.matmul(tf.square(flat_x), band * LRN_ALPHA),
            tf.fill([depth], tf.cast(LRN_BIAS, x.dtype)))
        scale = _power_of_beta(t)
        flat_y = flat_x * scale

        def grad(dy):
            flat_dy = tf.reshape(dy, [-1, depth])
            window = tf.matmul(flat_dy * flat_y / t,
                               band * (2 * LRN_ALPHA * LRN_BETA))
            dx = flat_dy * scale - flat_x * window
            return tf.reshape(dx, tf.shape(x))

        return tf.reshape(flat_y, tf.shape(x)), grad

    with tf.name_scope(name) as scope:
        return tf.identity(lrn(inputs), name=scope)


def _power_of_beta(t):
    """t^-LRN_BETA for the tutorial's beta of 0.75: t^-1/2 * t^-1/4."""
    inverse_root = tf.math.rsqrt(t)
    return inverse_root * tf.sqrt(inverse_root)
