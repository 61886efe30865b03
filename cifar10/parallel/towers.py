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
"""Towers: model replicas that share one set of variables.

Each tower (tower_0, tower_1, ...) builds the model on its own device and
its own part of the data; the variables exist once, on the CPU, and the
gradients of all towers are averaged there and applied once per step.

cifar10_multi_gpu_train.py puts one tower on each GPU, each with a batch of
its own. cifar10_train.py splits each batch between towers on the CPU
(--batch_splits): the mean of the parts' gradients is the whole batch's
gradient, and the towers' independent ops keep the cores busier than one
batch's chain of ops does.
"""

import tensorflow as tf

from cifar10 import cifar10

tf1 = tf.compat.v1

# Which towers' layer summaries build_train_op keeps.
LAST_TOWER = 'last_tower'  # The tutorial's multi-GPU choice.
ALL_TOWERS = 'all_towers'  # Towers that split one batch: the whole batch.


def average_gradients(tower_grads):
    """Averages each variable's gradient over the towers.

    This is the synchronisation point across all towers.

    Args:
      tower_grads: One list of (gradient, variable) pairs per tower, all in
        the same variable order.

    Returns:
      A list of (gradient, variable) pairs with the mean gradient of each
      variable.
    """
    average_grads = []
    for grads_and_vars in zip(*tower_grads):
        # Each grads_and_vars is ((grad0, var), (grad1, var), ...).
        grads = [g for g, _ in grads_and_vars]
        # The sum in one pass, then one division: the mean without first
        # stacking the gradients into a new tensor (local3's are 884,736
        # values a tower), which took about 1.5% of a split-batch step on
        # 2 cores (see docs/design-notes.md).
        grad = tf.add_n(grads) / len(grads)
        average_grads.append((grad, grads_and_vars[0][1]))
    return average_grads


def _named_mean(tensors, name):
    """The mean of ``tensors`` as an op named exactly ``name`` (at the root)."""
    scope, _, base = name.rpartition('/')
    # A trailing slash re-enters a name scope instead of making a new one;
    # an empty name is the root.
    with tf1.name_scope(scope + '/' if scope else ''):
        return tf.identity(tf.add_n(tensors) / len(tensors), name=base)


def build_train_op(tower_inputs, global_step, batch_size, devices,
                   network=cifar10.Network(), layer_summaries=LAST_TOWER,
                   update=cifar10.apply_update,
                   examples_per_epoch=cifar10.NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN):
    """Builds the towers, the averaged update and the moving averages.

    Args:
      tower_inputs: A function taking the tower index and returning that
        tower's (images, labels); called on the tower's device.
      global_step: The global step variable.
      batch_size: The batch size the learning-rate schedule counts epochs
        in: a tower's batch in the multi-GPU script (as in the tutorial's),
        the whole batch when the towers split one.
      devices: One device string per tower ('' for no constraint).
      network: The cifar10.Network each tower builds (model, classes, LRN
        gradient, frozen layers).
      layer_summaries: LAST_TOWER to summarize the layers of the last tower
        only, ALL_TOWERS to summarize each layer over all towers together.
      update: Builds the update from (optimizer, averaged gradients, global
        step); see cifar10.apply_update.
      examples_per_epoch: Training examples per epoch of the data set,
        for the learning-rate schedule.

    Returns:
      train_op: runs one synchronous step.
      loss: the total loss averaged over the towers.
      summary_op: the layer summaries asked for and those of the update.
    """
    if layer_summaries not in (LAST_TOWER, ALL_TOWERS):
        raise ValueError(f'unknown layer_summaries {layer_summaries!r}')
    lr = cifar10.learning_rate(global_step, batch_size, examples_per_epoch)
    opt = tf1.train.GradientDescentOptimizer(lr)

    tower_grads = []
    tower_terms = []
    scopes = []
    with tf1.variable_scope(tf1.get_variable_scope()):
        for i, device in enumerate(devices):
            with tf.device(device), tf.name_scope(
                    f'{cifar10.TOWER_NAME}_{i}') as scope:
                images, labels = tower_inputs(i)
                logits = network.logits(images)
                total = cifar10.loss(logits, labels, scope=scope)
                tower_terms.append(tf1.get_collection('losses', scope) + [total])
                # The first tower created the variables; the others share them.
                tf1.get_variable_scope().reuse_variables()
                tower_grads.append(opt.compute_gradients(total))
                scopes.append(scope)

    # Everything below runs once per step, on the CPU with the variables.
    with tf.device('/cpu:0'):
        grads = average_gradients(tower_grads)
        # Each loss term averaged over the towers, under the single-device
        # name: the averages' variables (cross_entropy/avg, ...) then match
        # cifar10_train.py's, and checkpoints are interchangeable.
        mean_terms = [_named_mean(list(terms), cifar10.strip_tower_prefix(terms[0].op.name))
                      for terms in zip(*tower_terms)]
        loss_averages_op = cifar10.add_loss_averages(mean_terms)
        cifar10.scalar_summary('learning_rate', lr)
        cifar10.add_gradient_summaries(grads)
        with tf.control_dependencies([loss_averages_op]):
            train_op = update(opt, grads, global_step)
        if layer_summaries == ALL_TOWERS:
            # Made here, outside the towers; the towers' own are left out.
            per_tower = [tf1.get_collection(cifar10.ACTIVATIONS, scope)
                         for scope in scopes]
            for layer in zip(*per_tower):
                cifar10.add_activation_summaries(list(layer))

    # The summaries made outside the towers, and the last tower's if asked.
    keep_scope = scopes[-1] if layer_summaries == LAST_TOWER else None
    summaries = [s for s in tf1.get_collection(tf1.GraphKeys.SUMMARIES)
                 if not s.op.name.startswith(cifar10.TOWER_NAME + '_')
                 or (keep_scope and s.op.name.startswith(keep_scope))]
    return train_op, mean_terms[-1], tf1.summary.merge(summaries)
