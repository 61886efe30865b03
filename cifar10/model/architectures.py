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
"""The two CIFAR-10 networks: the tutorial's, and the locally connected
model its exercise points to.

Both share the lower layers (conv1, pool1, norm1, conv2, norm2, pool2);
the tutorial's top is fully connected (local3, local4), the other's
locally connected, as cuda-convnet's layers-conv-local-11pct.
"""

import tensorflow as tf

from cifar10.data import datasets
from cifar10.model import layers
from cifar10.model import lrn
from cifar10.model import precision as precisions

tf1 = tf.compat.v1


# The networks inference() builds (--model).
MODELS = ('tutorial', 'local')
DEFAULT_MODEL = 'tutorial'
# The scopes of the layers with variables, bottom to top (both models).
LAYER_SCOPES = ('conv1', 'conv2', 'local3', 'local4', 'softmax_linear')
# Graph collection of the model variables fine-tuning keeps fixed (see
# inference's trainable_scopes): not trained, their averages not updated.
FROZEN_VARIABLES = 'frozen_variables'


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


def inference(images, lrn_gradient=lrn.DEFAULT_LRN_GRADIENT, model=DEFAULT_MODEL,
              num_classes=datasets.CIFAR10.num_classes, trainable_scopes=None,
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
      lrn_gradient: How the two local response normalizations and their
        gradients are computed, one of lrn.LRN_GRADIENTS: 'matmul' (from
        banded matrix products, fast on a CPU) or 'builtin' (TensorFlow's
        LRN op and LRNGrad kernel). The same function either way, to
        float32 rounding.
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
    _, pool1 = layers.conv_relu_pool(images, 'conv1', 3, 64, stddev=5e-2,
                                     bias_init=0.0, pool_name='pool1',
                                     precision=precision)
    norm1 = lrn.lrn(pool1, 'norm1', lrn_gradient)

    conv2 = layers.conv_relu(norm1, 'conv2', 64, 64, stddev=5e-2, bias_init=0.1,
                             precision=precision)
    norm2 = lrn.lrn(conv2, 'norm2', lrn_gradient)
    pool2 = layers.max_pool(norm2, 'pool2')

    if model == 'local':
        # cuda-convnet's top: two locally connected layers of 32 channels
        # at pool2's 6x6 positions, then a linear layer over all of them.
        local3 = layers.locally_connected(pool2, 'local3', 32, stddev=0.04,
                                          wd=0.004, bias_init=0.1, precision=precision)
        local4 = layers.locally_connected(local3, 'local4', 32, stddev=0.04,
                                          wd=0.004, bias_init=0.1, precision=precision)
        flat = tf.reshape(local4, [-1, _flat_size(local4)])
        return layers.fully_connected(flat, 'softmax_linear', num_classes,
                                      stddev=0.01, wd=0.004, bias_init=0.0,
                                      relu=False, precision=precision)

    # Flatten each example; the flattened size comes from the static shape
    # (6x6x64 for 24x24 inputs), the batch size from the images at run time.
    reshape = tf.reshape(pool2, [-1, _flat_size(pool2)])

    local3 = layers.fully_connected(reshape, 'local3', 384, stddev=0.04, wd=0.004,
                                    bias_init=0.1, precision=precision)
    local4 = layers.fully_connected(local3, 'local4', 192, stddev=0.04, wd=0.004,
                                    bias_init=0.1, precision=precision)
    # No softmax here: tf.nn.sparse_softmax_cross_entropy_with_logits takes
    # the unnormalized logits and is more efficient.
    return layers.fully_connected(local4, 'softmax_linear', num_classes,
                                  stddev=1 / 192.0, wd=0.0, bias_init=0.0,
                                  relu=False, precision=precision)


def _flat_size(tensor):
    """Values per example of a [batch, ...] tensor with a static shape."""
    size = 1
    for dim in tensor.shape[1:]:
        size *= int(dim)
    return size
