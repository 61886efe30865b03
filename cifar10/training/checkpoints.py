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

Checkpoint directories are portable: the trainers' state files (the
``checkpoint`` file beside the checkpoints) list paths relative to the
directory, and every reader looks a listed checkpoint up by its file name
in the directory it was asked to read before it believes the path the
state file gives. A directory copied elsewhere, or one whose state file
holds absolute paths from another machine (as the original tutorial and
older runs wrote them), is read as if it had never moved.

One trainer at a time writes to a training directory: it holds a kernel
lock (``flock``) on a file in it for its whole run, which the kernel
releases when the process ends, however it ends.
"""

import errno
import fcntl
import glob
import os
import re
import socket
import sys
import time
from typing import NamedTuple

import tensorflow as tf

from cifar10.runtime.errors import DataError, op_error_summary

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
                     f'({reason}); it is damaged or from another model. '
                     f'{_way_on(checkpoint_path)}')


def disk_full(error, train_dir, prefix=''):
    """The DataError to raise if ``error`` is a full disk, else None.

    TensorFlow reports a full disk as the op that failed (often a
    ResourceExhaustedError, also the name of running out of memory); the
    cause is in its message. The line names what was being written, the
    newest whole checkpoint (the one a rerun resumes from), and what to do.

    Args:
      error: The exception a write raised (anything but an OSError or a
        tf.errors.OpError is no full disk).
      train_dir: The training directory.
      prefix: Put before the line (a cluster task's name).
    """
    if isinstance(error, OSError):
        if error.errno != errno.ENOSPC:
            return None
        path = error.filename or train_dir
    elif isinstance(error, tf.errors.OpError):
        # The line that says so reads "<file>; No space left on device".
        lines = [line for line in str(error.message).splitlines()
                 if 'No space left on device' in line]
        if not lines:
            return None
        path = lines[0].split(';')[0].strip() or train_dir
    else:
        return None
    # A checkpoint's files are written under temporary names first.
    path = re.sub(r'(_temp[^/]*(/.*)?|\.(data-\d+-of-\d+|index|meta)(\.tempstate\d+)?)$',
                  '', path)
    whole = newest_whole_checkpoint(train_dir)
    kept = (f'the newest whole checkpoint is {whole[0]} (step {whole[1]})' if whole
            else f'no whole checkpoint is in {train_dir} yet')
    return DataError(f'{prefix}no space left on device while writing {path}; '
                     f'{kept}; free some space and run the same command to '
                     'resume')


def _way_on(checkpoint_path):
    """What to do about a checkpoint that cannot be restored: the newest
    whole one beside it, and how to continue from it, in a sentence."""
    directory, name = os.path.split(checkpoint_path)
    whole = newest_whole_checkpoint(directory or '.', skip=checkpoint_path)
    if whole is None:
        return f'No other checkpoint in {directory or "."} can be read.'
    prefix, step = whole
    return (f'The newest whole checkpoint is {prefix} (step {step}): move the '
            f'files {name}.* out of {directory or "."} (they are not deleted) '
            'and run the same command to continue from it.')


def newest_whole_checkpoint(checkpoint_dir, skip=None):
    """The newest checkpoint of a directory whose every tensor reads.

    Unlike is_complete, which only sees that the files are there, this
    reads them whole (a few megabytes for this model): a data file cut
    short by a crash or a full disk is found out.

    Args:
      checkpoint_dir: The directory.
      skip: A checkpoint prefix to leave out (the damaged one).

    Returns:
      (prefix, global step), or None if none reads whole.
    """
    found = [(mtime, prefix) for prefix, mtime in _complete_in(checkpoint_dir)
             if prefix != skip]
    for _, prefix in sorted(found, reverse=True):
        step = _whole_step(prefix)
        if step is not None:
            return prefix, step
    return None


def _whole_step(prefix):
    """The global step of a checkpoint if every tensor of it reads, else None."""
    try:
        reader = tf1.train.NewCheckpointReader(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
        return int(reader.get_tensor('global_step'))
    except (tf.errors.OpError, ValueError, IndexError, KeyError):
        return None


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


class Checkpoints(NamedTuple):
    """The usable checkpoints of a directory.

    Attributes:
      newest: Prefix of the checkpoint to restore, or None if there is none.
      listed: Prefixes of the listed checkpoints that exist, oldest first
        (where the state file's paths were found to be, after resolving).
    """
    newest: str | None
    listed: tuple


# The checkpoint directories whose fallback was announced, with the choice.
_announced = set()


def is_complete(prefix):
    """Returns whether a (V2) checkpoint's index and every data shard exist.

    Args:
      prefix: Checkpoint prefix, such as ``/tmp/cifar10_train/model.ckpt-80``.
    """
    if not os.path.isfile(prefix + '.index'):
        return False
    shards = glob.glob(glob.escape(prefix) + '.data-*-of-*')
    counts = {m.group(1) for m in
              (re.search(r'\.data-\d+-of-(\d+)$', p) for p in shards) if m}
    if len(counts) != 1:
        return False
    count = counts.pop()
    return all(os.path.isfile(f'{prefix}.data-{i:0{len(count)}d}-of-{count}')
               for i in range(int(count)))


def _resolve(listed, checkpoint_dir):
    """Where a checkpoint the state file lists really is, or None.

    The file of that name inside ``checkpoint_dir`` wins: after a copy the
    listed path may still exist in the old place, and training from (and
    rotating away) another directory's files would be wrong. Backslashes
    count as separators too, for state files written on Windows.
    """
    name = re.split(r'[\\/]', listed)[-1]
    for candidate in (os.path.join(checkpoint_dir, name), listed):
        if name and is_complete(candidate):
            return candidate
    return None


def _read_state(checkpoint_dir):
    """Returns the directory's CheckpointState proto, or None if unusable."""
    try:
        return tf1.train.get_checkpoint_state(checkpoint_dir)
    except (ValueError, tf.errors.OpError):
        # A state file without a model_checkpoint_path, or unreadable.
        return None


def _step_of(prefix):
    """The global step of a complete checkpoint, or None if unreadable."""
    try:
        return checkpoint_step(prefix)
    except (DataError, CheckpointGone):
        return None


def _complete_in(checkpoint_dir):
    """(prefix, modification time of its index) of each complete
    checkpoint in a directory (is_complete), in no particular order."""
    for index in glob.glob(os.path.join(glob.escape(checkpoint_dir), '*.index')):
        prefix = index[:-len('.index')]
        if is_complete(prefix):
            yield prefix, os.path.getmtime(index)


def _newest_in_directory(checkpoint_dir):
    """Returns (prefix, step) of the directory's newest complete
    checkpoint by global step (ties: the newer file), or None."""
    found = []
    for prefix, mtime in _complete_in(checkpoint_dir):
        step = _step_of(prefix)
        if step is not None:
            found.append((step, mtime, prefix))
    if not found:
        return None
    step, _, prefix = max(found)
    return prefix, step


def find_checkpoints(checkpoint_dir):
    """Finds the checkpoints of ``checkpoint_dir``, wherever the state
    file says they are.

    Each checkpoint the state file lists is looked up by its file name in
    ``checkpoint_dir`` first, then where the file says. If the newest one
    it lists cannot be found so (or there is no state file) while complete
    checkpoints are in the directory, the newest of them by global step is
    used, and one line on stderr says so.

    Args:
      checkpoint_dir: The directory to read.

    Returns:
      A Checkpoints tuple.
    """
    if not os.path.isdir(checkpoint_dir):
        return Checkpoints(None, ())
    state = _read_state(checkpoint_dir)
    listed, newest = [], None
    if state is not None:
        for path in state.all_model_checkpoint_paths:
            resolved = _resolve(path, checkpoint_dir)
            if resolved and resolved not in listed:
                listed.append(resolved)
        newest = _resolve(state.model_checkpoint_path, checkpoint_dir)
    if newest is None:
        fallback = _newest_in_directory(checkpoint_dir)
        if fallback is not None:
            newest, step = fallback
            if (checkpoint_dir, newest) not in _announced:
                _announced.add((checkpoint_dir, newest))
                what = ('has no usable checkpoint state file' if state is None
                        else f'lists no checkpoint found in it '
                             f'({state.model_checkpoint_path} is not there)')
                print(f'note: {os.path.join(checkpoint_dir, "checkpoint")} '
                      f'{what}; using the newest checkpoint in the directory, '
                      f'{os.path.basename(newest)} (step {step}).',
                      file=sys.stderr, flush=True)
    return Checkpoints(newest, tuple(listed))


def latest_checkpoint(checkpoint_dir):
    """Returns the newest checkpoint prefix in ``checkpoint_dir``, or None.

    As find_checkpoints: a moved directory and absolute paths from another
    machine are resolved inside ``checkpoint_dir``.
    """
    return find_checkpoints(checkpoint_dir).newest


def new_saver(max_to_keep=5):
    """Returns the Saver every trainer writes checkpoints with.

    Its state file lists paths relative to the directory, so that the
    directory can be copied or moved and still be read.
    """
    return tf1.train.Saver(max_to_keep=max_to_keep, save_relative_paths=True)


# ----------------------------------------------------------------------------
# The training directory's lock.

LOCK_FILE = '.trainer.lock'


class DirectoryLocked(DataError):
    """Another trainer holds the training directory."""


class TrainDirLock:
    """An exclusive kernel lock on a training directory, held until released.

    The lock is ``flock`` on ``<train_dir>/.trainer.lock``, which holds the
    pid and host of the trainer that has it. The kernel drops the lock
    when that process exits, also on SIGKILL, so a killed run never blocks
    the next one; the file itself stays, and is reused.

    Use it as a context manager, or call release().
    """

    def __init__(self, train_dir, fd):
        self.train_dir = train_dir
        self._fd = fd

    def release(self):
        """Drops the lock (closing the file releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False


def _holder(fd):
    """Reads who holds the lock: 'pid N on HOST', or a vaguer phrase.

    The holder writes its pid just after locking; a trainer that started
    a moment earlier may not have written it yet, hence the short wait.
    """
    deadline = time.monotonic() + 1.0
    while True:
        text = os.pread(fd, 200, 0).decode('utf-8', 'replace').split()
        if len(text) >= 2 and text[0].isdigit():
            return f'pid {text[0]} on {text[1]}'
        if time.monotonic() > deadline:
            return 'pid unknown'
        time.sleep(0.05)


def lock_train_dir(train_dir, flag='--train_dir'):
    """Takes the exclusive lock on an existing training directory.

    Writes nothing if another trainer holds it.

    Args:
      train_dir: The training directory (it must exist).
      flag: The flag that named it, for the message.

    Returns:
      A held TrainDirLock.

    Raises:
      DirectoryLocked: naming the directory and the holder's pid, if
        another process holds the lock.
      DataError: if the lock file cannot be opened.
    """
    path = os.path.join(train_dir, LOCK_FILE)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise DataError(f'{flag}={train_dir}: cannot open its lock file '
                        f'{LOCK_FILE} ({e.strerror})') from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            # A file system without flock (some network mounts): say so and
            # go on unguarded rather than refuse to train at all.
            print(f'warning: {flag}={train_dir}: cannot lock it ({e.strerror}); '
                  'make sure no other trainer writes to it', file=sys.stderr)
            return TrainDirLock(train_dir, fd)
        holder = _holder(fd)
        os.close(fd)
        raise DirectoryLocked(
            f'{flag}={train_dir} is in use by another trainer ({holder}); '
            f'stop it, or train into another {flag}') from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f'{os.getpid()} {socket.gethostname()}\n'.encode(), 0)
    return TrainDirLock(train_dir, fd)
