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
"""The size of each layer of a network: output shape, parameters and
multiply-adds per image, read off the graph the model code builds.

The lesson's layer table comes from here, so it shows what inference()
builds, not what anyone remembers of it.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from cifar10.model.network import Network

tf1 = tf.compat.v1

# The layers bottom to top, by the names inference() gives their outputs
# (the names TensorBoard shows).
LAYERS = ('conv1', 'pool1', 'norm1', 'conv2', 'norm2', 'pool2', 'local3',
          'local4', 'softmax_linear')


@dataclasses.dataclass(frozen=True)
class LayerSize:
    """One layer of a network, for one image.

    Attributes:
      name: The layer's name (its variable scope).
      output_shape: The shape of its output for one image (no batch).
      parameters: Learnable values in its variables (weights and biases).
      multiply_adds: Products of a weight with an input per image, zero
        padding included: a convolution applies its whole kernel at every
        output position, a fully or locally connected layer uses each of
        its weights once. Pooling and normalization multiply no weights
        and count 0.
    """
    name: str
    output_shape: tuple
    parameters: int
    multiply_adds: int


def layer_sizes(network=Network()):
    """The layers of a network, bottom to top, with their sizes.

    Builds the network in a graph of its own on one image, so nothing is
    added to the caller's graph.

    Args:
      network: The Network to measure (the tutorial's model for CIFAR-10 by
        default).

    Returns:
      A list of LayerSize, one per name in LAYERS.
    """
    graph = tf.Graph()
    with graph.as_default():
        side = network.image_size
        network.logits(tf1.placeholder(tf.float32, [1, side, side, 3]))
        names = {op.name for op in graph.get_operations()}
        sizes = []
        for name in LAYERS:
            # A layer with variables names its output scope/scope.
            op_name = f'{name}/{name}' if f'{name}/{name}' in names else name
            shape = tuple(graph.get_tensor_by_name(op_name + ':0').shape.as_list()[1:])
            variables = [v for v in tf1.global_variables()
                         if v.op.name.startswith(name + '/')]
            parameters = sum(int(np.prod(v.shape.as_list())) for v in variables)
            weights = [v for v in variables if v.op.name == name + '/weights']
            multiply_adds = 0
            if weights:
                kernel = weights[0].shape.as_list()
                multiply_adds = int(np.prod(kernel))
                if len(kernel) == 4:  # A convolution shares its kernel.
                    multiply_adds *= shape[0] * shape[1]
            sizes.append(LayerSize(name, shape, parameters, multiply_adds))
    return sizes
