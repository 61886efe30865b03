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
"""Finding, reading and restoring checkpoints; the training directory's lock.
"""

import os

import tensorflow as tf

from cifar10.errors import DataError, op_error_summary

tf1 = tf.compat.v1


class CheckpointGone(Exception):
    """A checkpoint's files were deleted (say, rotated away by the trainer)."""


def unreadable_checkpoint(checkpoint_path, error):
    """Returns the exception to raise when a checkpoint cannot be read.

    Args:
      checkpoint_path: Prefix of the checkpoint.
      error: What reading or restoring it raised.

    Returns:
      CheckpointGone if its files are gone, else a DataError saying that it
      is damaged or from another model.
    """
    if not tf.io.gfile.exists(checkpoint_path + '.index'):
        return CheckpointGone(checkpoint_path)
    reason = (op_error_summary(error) if isinstance(error, tf.errors.OpError)
              else f'{type(error).__name__}: {error}')
    return DataError(f'{checkpoint_path}: cannot restore this checkpoint '
                     f'({reason}); it is damaged or from another model')


def checkpoint_step(checkpoint_path):
    """Returns the global step stored in a checkpoint.

    Args:
      checkpoint_path: Prefix of a checkpoint (as latest_checkpoint returns).

    Returns:
      The value of its ``global_step`` variable.

    Raises:
      CheckpointGone: if the checkpoint files are gone.
      DataError: if the checkpoint cannot be read.
    """
    try:
        reader = tf1.train.NewCheckpointReader(checkpoint_path)
        return int(reader.get_tensor('global_step'))
    # The reader turns some TensorFlow errors into IndexError or ValueError.
    except (tf.errors.OpError, ValueError, IndexError) as e:
        raise unreadable_checkpoint(checkpoint_path, e) from None


def restore_checkpoint(saver, sess, checkpoint_path):
    """Restores a checkpoint with ``saver``; returns its global step.

    Args:
      saver: A tf.compat.v1.train.Saver.
      sess: The session to restore into.
      checkpoint_path: Checkpoint prefix.

    Returns:
      The checkpoint's global step.

    Raises:
      CheckpointGone: if the checkpoint files are gone.
      DataError: if it is damaged or from another model.
    """
    global_step = checkpoint_step(checkpoint_path)
    try:
        saver.restore(sess, checkpoint_path)
    except (tf.errors.OpError, ValueError) as e:
        raise unreadable_checkpoint(checkpoint_path, e) from None
    return global_step


def newest_checkpoint(checkpoint_dir):
    """Returns the newest checkpoint in ``checkpoint_dir``.

    Raises:
      DataError: if there is none.
    """
    path = latest_checkpoint(checkpoint_dir)
    if not path:
        raise DataError(f'no checkpoint found in {checkpoint_dir}')
    return path


def ensure_directory(path, flag, create=True):
    """Creates ``path`` if needed; fails clearly if it cannot be a directory.

    Args:
      path: The directory.
      flag: The flag that named it, for the message.
      create: Create it; with False, only check that it is not a file (so
        that a run that fails on bad input writes nothing).

    Raises:
      DataError: if the path exists as a file or cannot be created.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise DataError(f'{flag}={path} exists and is not a directory')
    if not create:
        return
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise DataError(f'{flag}={path} cannot be created ({e.strerror})') from None


def latest_checkpoint(checkpoint_dir):
    """Returns the newest checkpoint prefix in ``checkpoint_dir``, or None."""
    if not os.path.isdir(checkpoint_dir):
        return None
    return tf1.train.latest_checkpoint(checkpoint_dir)
