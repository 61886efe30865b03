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
"""Which network a run builds, and which one a checkpoint holds.

A Network names the model, its classes, crop size and precision; its
parameters are counted from the layer shapes, and a checkpoint's variable
shapes tell which network it was trained as, so that a checkpoint of
another one is refused in one line instead of a shape error deep in a
restore.
"""

import dataclasses

import tensorflow as tf

from cifar10.data import datasets
from cifar10.model import architectures
from cifar10.model import lrn
from cifar10.model import precision as precisions
from cifar10.runtime.errors import DataError

tf1 = tf.compat.v1


@dataclasses.dataclass(frozen=True)
class Network:
    """Which network to build, for how many classes (see inference).

    Attributes:
      model: One of architectures.MODELS.
      num_classes: Width of the logits (the data set's classes).
      lrn_gradient: How the LRN gradients are computed (training only).
      trainable_scopes: None, or the layer scopes to train (the rest frozen).
      image_size: Side of the crops it sees (the data set's crop_size:
        datasets.CIFAR10.crop_size, 24, for 32x32 images).
      precision: The policy its products compute in (precision.POLICIES);
        checkpoints are the same either way.
    """
    model: str = architectures.DEFAULT_MODEL
    num_classes: int = datasets.CIFAR10.num_classes
    lrn_gradient: str = lrn.DEFAULT_LRN_GRADIENT
    trainable_scopes: tuple | None = None
    image_size: int = datasets.CIFAR10.crop_size
    precision: str = precisions.DEFAULT_POLICY

    def logits(self, images):
        """Builds the network on ``images``; returns its logits."""
        return architectures.inference(images, self.lrn_gradient, self.model,
                                       self.num_classes, self.trainable_scopes,
                                       self.precision)

    def describe(self):
        """The network in a phrase: 'the local model (1,116,490 parameters)'."""
        count = parameter_count(self.model, self.num_classes, self.image_size)
        crops = (f', {self.image_size}x{self.image_size} crops'
                 if self.image_size != datasets.CIFAR10.crop_size else '')
        mixed = (f', {self.precision}' if self.precision != precisions.DEFAULT_POLICY
                 else '')
        return f'the {self.model} model ({count:,} parameters{crops}{mixed})'


def parameter_count(model, num_classes, image_size=datasets.CIFAR10.crop_size):
    """Learnable parameters of a model, counted from the layer shapes.

    Args:
      model: One of architectures.MODELS.
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
