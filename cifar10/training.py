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
"""The one training loop, and its hooks, that every trainer runs.

Resuming, checkpoint cadence, summaries, progress lines, NaN checks,
tracing and graceful stops on signals are decided here once, so that the
single-device, multi-GPU and distributed trainers behave the same way.
"""

import math
import os
import time
from datetime import datetime

import tensorflow as tf

from cifar10 import checkpoints
from cifar10 import cifar10

from cifar10.cli import GracefulStop
from cifar10.errors import DataError, NanLossError
from cifar10.session import session_config_from_flags

tf1 = tf.compat.v1


class NanStopHook(tf1.train.SessionRunHook):
    """Stops training, before any checkpoint is written, when loss is NaN."""

    def __init__(self, loss):
        self._loss = loss

    def before_run(self, run_context):
        return tf1.train.SessionRunArgs(self._loss)

    def after_run(self, run_context, run_values):
        if math.isnan(run_values.results):
            raise NanLossError('loss is NaN')


class LoggerHook(tf1.train.SessionRunHook):
    """Prints the loss and speed every ``log_frequency`` global steps.

    The line is the tutorial's:
    ``<datetime>: step N, loss = L.LL (E.E examples/sec; S.SSS sec/batch)``.
    Speed is measured from the end of the first step run, so queue filling
    and graph start-up are not counted as training time.
    """

    def __init__(self, loss, global_step, examples_per_step, log_frequency):
        self._loss = loss
        self._global_step = global_step
        self._examples_per_step = examples_per_step
        self._log_frequency = log_frequency
        self.step = None
        self._last_step = None
        self._last_time = None

    def after_create_session(self, session, coord):
        self.step = int(session.run(self._global_step))

    def before_run(self, run_context):
        return tf1.train.SessionRunArgs(self._loss)

    def after_run(self, run_context, run_values):
        # Every run of the training loop is one step, so counting here is
        # exact and avoids racing the increment for the variable's value.
        self.step += 1
        now = time.monotonic()
        if self._last_time is None:
            self._last_step, self._last_time = self.step, now
            return
        if self.step % self._log_frequency == 0:
            steps = self.step - self._last_step
            duration = now - self._last_time
            self._last_step, self._last_time = self.step, now
            examples_per_sec = self._examples_per_step * steps / duration
            sec_per_batch = duration / steps
            print(f'{datetime.now()}: step {self.step}, '
                  f'loss = {run_values.results:.2f} '
                  f'({examples_per_sec:.1f} examples/sec; '
                  f'{sec_per_batch:.3f} sec/batch)', flush=True)


class TraceHook(tf1.train.SessionRunHook):
    """Writes a Chrome trace (chrome://tracing, Perfetto) of one step.

    The step whose run takes the global step to ``trace_step`` is run with
    full tracing, and its timeline goes to
    ``<train_dir>/timeline-step-<trace_step>.json``.
    """

    def __init__(self, global_step, trace_step, train_dir):
        self._global_step = global_step
        self._trace_step = trace_step
        self.path = os.path.join(train_dir, f'timeline-step-{trace_step}.json')
        self._next = None

    def after_create_session(self, session, coord):
        self._next = int(session.run(self._global_step)) + 1

    def before_run(self, run_context):
        if self._next != self._trace_step:
            return None
        return tf1.train.SessionRunArgs(
            fetches=None,
            options=tf1.RunOptions(trace_level=tf1.RunOptions.FULL_TRACE))

    def after_run(self, run_context, run_values):
        if self._next == self._trace_step:
            # Imported here: only tracing needs it.
            from tensorflow.python.client import timeline
            trace = timeline.Timeline(run_values.run_metadata.step_stats)
            with open(self.path, 'w', encoding='utf-8') as f:
                f.write(trace.generate_chrome_trace_format())
            print(f'Wrote a trace of step {self._trace_step} to {self.path} '
                  '(open it in chrome://tracing or https://ui.perfetto.dev).',
                  flush=True)
        self._next += 1


def prepare_training(args):
    """Takes --train_dir's lock and obtains the data, before any graph is built.

    A second trainer on a directory another one holds is refused here,
    before it builds or writes anything. A directory that does not exist
    yet is created only once the data is there, so that a run failing on
    bad data leaves nothing behind.

    Args:
      args: Parsed training flags (add_training_flags).

    Returns:
      The held checkpoints.TrainDirLock; hold it (``with``) for the run.

    Raises:
      DataError: if --train_dir is a file, is held by another trainer, or
        the data cannot be had.
    """
    # Fail before any slow work if the checkpoints have nowhere to go.
    checkpoints.ensure_directory(args.train_dir, '--train_dir', create=False)
    lock = (checkpoints.lock_train_dir(args.train_dir)
            if os.path.isdir(args.train_dir) else None)
    try:
        cifar10.maybe_download_and_extract(args.data_dir)
        if lock is None:
            checkpoints.ensure_directory(args.train_dir, '--train_dir')
            lock = checkpoints.lock_train_dir(args.train_dir)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return lock


def training_inputs(args):
    """Builds the training input pipeline the flags ask for, on the CPU.

    Args:
      args: Parsed training flags (add_training_flags).

    Returns:
      (images, labels) batches, as cifar10.distorted_inputs.
    """
    # Input ops stay on the CPU, also on machines with a GPU.
    with tf.device('/cpu:0'):
        return cifar10.distorted_inputs(
            args.data_dir, args.batch_size, use_fp16=args.use_fp16,
            num_threads=args.num_preprocess_threads,
            min_fraction_of_examples_in_queue=(
                args.min_fraction_of_examples_in_queue),
            pipeline=args.input_pipeline)


def run_training_from_flags(args, train_op, loss, global_step,
                            examples_per_step, summary_op=None):
    """run_training() with the cadences and settings of the flags."""
    return run_training(
        train_op, loss, global_step,
        train_dir=args.train_dir, max_steps=args.max_steps,
        examples_per_step=examples_per_step,
        log_frequency=args.log_frequency,
        save_checkpoint_secs=args.save_checkpoint_secs,
        save_checkpoint_steps=args.save_checkpoint_steps,
        save_summaries_steps=args.save_summaries_steps,
        config=session_config_from_flags(args), summary_op=summary_op,
        trace_step=args.trace_step)


def run_training(train_op, loss, global_step, *, train_dir, max_steps,
                 examples_per_step, log_frequency=10,
                 save_checkpoint_secs=None, save_checkpoint_steps=None,
                 save_summaries_steps=100, config=None, summary_op=None,
                 trace_step=None):
    """Runs training steps until ``max_steps``, a signal, or a NaN loss.

    Resumes from the newest checkpoint in ``train_dir`` (never deletes it),
    saves checkpoints on the given cadence and always at the step where
    training stops: ``max_steps``, or the step reached when SIGINT or
    SIGTERM arrived. A NaN loss stops training before another checkpoint is
    written, so the newest checkpoint stays the last good one.

    Args:
      train_op: Op running one training step.
      loss: Scalar loss tensor, logged and checked for NaN.
      global_step: The global step variable.
      train_dir: Directory for checkpoints and event files.
      max_steps: Global step to stop at.
      examples_per_step: Examples one step consumes (all towers), for speed.
      log_frequency: Print progress every this many steps.
      save_checkpoint_secs: Checkpoint every this many seconds (default 600
        unless save_checkpoint_steps is given).
      save_checkpoint_steps: Checkpoint every this many steps instead.
      save_summaries_steps: Write summaries every this many steps.
      config: A tf.compat.v1.ConfigProto for the session.
      summary_op: The summaries to write; None for all of the graph's.
      trace_step: Write a Chrome trace of the step reaching this global
        step to train_dir; None for no trace.

    Returns:
      0 when training ended by reaching max_steps or by a signal.

    Raises:
      NanLossError: if the loss became NaN.
    """
    checkpoints.ensure_directory(train_dir, '--train_dir')
    if save_checkpoint_steps is None and save_checkpoint_secs is None:
        save_checkpoint_secs = 600

    found = checkpoints.find_checkpoints(train_dir)
    ckpt = found.newest
    if ckpt:
        try:
            step = checkpoints.checkpoint_step(ckpt)
        except checkpoints.CheckpointGone:
            raise DataError(f'{ckpt} is the newest checkpoint listed in '
                            f'{train_dir}/checkpoint, but its files are '
                            'missing') from None
        print(f'Resuming from checkpoint {ckpt} at step {step}.', flush=True)
    else:
        print(f'No checkpoint in {train_dir}: starting from step 0.', flush=True)

    saver = checkpoints.new_saver()
    # Rotation goes on deleting the oldest of this directory's own
    # checkpoints, wherever the state file said they were.
    saver.recover_last_checkpoints(
        [p for p in found.listed
         if os.path.realpath(os.path.dirname(p)) == os.path.realpath(train_dir)])
    scaffold = tf1.train.Scaffold(saver=saver, summary_op=summary_op)
    logger = LoggerHook(loss, global_step, examples_per_step, log_frequency)
    hooks = [
        logger,
        # Order matters: the NaN check must stop the step before the
        # checkpoint saver can write the broken variables.
        NanStopHook(loss),
        tf1.train.StepCounterHook(every_n_steps=save_summaries_steps,
                                  output_dir=train_dir),
        tf1.train.SummarySaverHook(save_steps=save_summaries_steps,
                                   output_dir=train_dir, scaffold=scaffold),
        tf1.train.CheckpointSaverHook(train_dir,
                                      save_secs=(None if save_checkpoint_steps
                                                 else save_checkpoint_secs),
                                      save_steps=save_checkpoint_steps,
                                      scaffold=scaffold),
    ]
    if trace_step is not None:
        hooks.append(TraceHook(global_step, trace_step, train_dir))
    # Restoring the checkpoint found above, not whatever TensorFlow's own
    # lookup makes of the state file, is what makes a moved directory work.
    creator = tf1.train.ChiefSessionCreator(
        scaffold=scaffold, checkpoint_filename_with_path=ckpt, config=config)

    try:
        session = tf1.train.MonitoredSession(session_creator=creator,
                                             hooks=hooks)
    except (tf.errors.OpError, ValueError) as e:
        if not ckpt:
            raise
        raise checkpoints.unreadable_checkpoint(ckpt, e) from None

    stopper = GracefulStop()
    try:
        with stopper, session as sess:
            if logger.step >= max_steps:
                print(f'Global step {logger.step} has reached --max_steps='
                      f'{max_steps}; nothing to do.', flush=True)
            while (logger.step < max_steps and not sess.should_stop()
                   and not stopper.requested):
                sess.run(train_op)
    except NanLossError:
        last = checkpoints.latest_checkpoint(train_dir)
        kept = (f'the last good checkpoint, {last} (step {checkpoints.checkpoint_step(last)}), '
                'is kept' if last else 'no checkpoint was written')
        raise NanLossError(
            f'loss is NaN at step {logger.step}: training diverged and was '
            f'stopped; {kept}. Lower the learning rate or check the data.') from None

    # Closing the session above saved the final checkpoint.
    reason = (f'{stopper.signal_name} received' if stopper.requested
              else f'reached --max_steps={max_steps}')
    print(f'Stopped at step {logger.step} ({reason}); checkpoint '
          f'{checkpoints.latest_checkpoint(train_dir)}.', flush=True)
    return 0
