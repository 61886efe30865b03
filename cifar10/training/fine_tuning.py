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
"""Starting a new training run from another trained model (--fine_tune_from).

The new run takes every variable of the trained model's checkpoint that it
has too, under the same name and with the same shape (the layers' weights
and biases, their moving averages, the loss averages); everything else
starts as a fresh run's would: a softmax_linear for another number of
classes, the locally connected layers of the other model, and always the
global step, so that the run follows the recipe's learning-rate schedule
from step 0. Which layers then train is --trainable_scopes' business (see
cifar10.inference).
"""

import os
import sys

import tensorflow as tf

from cifar10.runtime.errors import DataError, op_error_summary
from cifar10.training import checkpoints

tf1 = tf.compat.v1

_AVERAGE_SUFFIX = '/ExponentialMovingAverage'


def source_checkpoint(path):
    """The checkpoint --fine_tune_from names: the path, or a directory's newest.

    Args:
      path: A checkpoint prefix (DIR/model.ckpt-10000) or a directory.

    Returns:
      The checkpoint prefix.

    Raises:
      DataError: if there is no complete checkpoint there.
    """
    if os.path.isdir(path):
        found = checkpoints.latest_checkpoint(path)
        if not found:
            raise DataError(f'--fine_tune_from={path}: no checkpoint in this '
                            'directory')
        return found
    if checkpoints.is_complete(path):
        return path
    raise DataError(f'--fine_tune_from={path}: not a checkpoint (give a prefix '
                    'such as DIR/model.ckpt-10000, or its directory)')


def plan(checkpoint_path, variables):
    """Sorts the new run's variables into those to restore and the others.

    Args:
      checkpoint_path: The trained model's checkpoint.
      variables: The new run's variables (its global variables).

    Returns:
      (restore, fresh): restore is a list of the variables the checkpoint
      has under the same name with the same shape; fresh a list of
      (variable, reason) for all others, reason being 'shape differs',
      'not in the checkpoint' or, for the global step, 'a new run starts
      at step 0'.

    Raises:
      DataError: if the checkpoint cannot be read.
    """
    try:
        shapes = tf.train.load_checkpoint(checkpoint_path).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as e:
        reason = (op_error_summary(e) if isinstance(e, tf.errors.OpError)
                  else str(e))
        raise DataError(f'--fine_tune_from: cannot read {checkpoint_path} '
                        f'({reason})') from None
    restore, fresh = [], []
    for var in variables:
        name = var.op.name
        if name == tf1.GraphKeys.GLOBAL_STEP:
            fresh.append((var, 'a new run starts at step 0'))
        elif name not in shapes:
            fresh.append((var, 'not in the checkpoint'))
        elif list(shapes[name]) != var.shape.as_list():
            fresh.append((var, 'shape differs'))
        else:
            restore.append(var)
    return restore, fresh


def _names(variables):
    """Names the variables, each layer variable once with its average."""
    names = [v.op.name for v in variables]
    present = set(names)
    shown = []
    for name in names:
        if name.endswith(_AVERAGE_SUFFIX) and name[:-len(_AVERAGE_SUFFIX)] in present:
            continue  # Said with its variable.
        average = name + _AVERAGE_SUFFIX in present
        shown.append(f'{name} (+average)' if average else name)
    return shown


def describe(checkpoint_path, restore, fresh):
    """The one line that says what a fine-tuning run restored and what not.

    Args:
      checkpoint_path: The trained model's checkpoint.
      restore, fresh: What plan() returned.
    """
    by_reason = {}
    for var, reason in fresh:
        by_reason.setdefault(reason, []).append(var)
    fresh_text = '; '.join(f'{", ".join(_names(vs))} ({reason})'
                           for reason, vs in by_reason.items())
    return (f'Fine-tuning from {checkpoint_path}: restored {len(restore)} '
            f'variables: {", ".join(_names(restore)) or "none"}; freshly '
            f'initialized {len(fresh)}: {fresh_text or "none"}.')


def init_fn(fine_tune_from, prefix=''):
    """Prepares the restore of what fits, for a Scaffold's init_fn.

    Builds the restoring Saver in the default graph (so call it before the
    graph is finalized) and prints the plan on stdout.

    Args:
      fine_tune_from: The --fine_tune_from value (checkpoint or directory).
      prefix: Put before the printed line (a cluster task's 'worker 0: ').

    Returns:
      A function (scaffold, session) that restores the variables that fit;
      the session manager calls it after initializing all variables, only
      when it did not restore a checkpoint of the run's own.

    Raises:
      DataError: if there is no readable checkpoint there, or none of its
        variables fits.
    """
    checkpoint_path = source_checkpoint(fine_tune_from)
    restore, fresh = plan(checkpoint_path, tf1.global_variables())
    if not restore:
        raise DataError(f'--fine_tune_from={fine_tune_from}: none of the '
                        f'variables of {checkpoint_path} fits this model')
    print(prefix + describe(checkpoint_path, restore, fresh), flush=True)
    saver = tf1.train.Saver(var_list={v.op.name: v for v in restore})

    def restore_fitting(scaffold, session):
        del scaffold
        try:
            saver.restore(session, checkpoint_path)
        except (tf.errors.OpError, ValueError) as e:
            raise checkpoints.unreadable_checkpoint(checkpoint_path, e) from None
    return restore_fitting


def note_ignored(fine_tune_from, resumed):
    """Says on stderr that a run resumes its own checkpoint instead."""
    print(f'note: --fine_tune_from={fine_tune_from} is not used: --train_dir has '
          f'a checkpoint of its own ({os.path.basename(resumed)}), and resuming '
          'from it comes first.', file=sys.stderr, flush=True)
