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

import dataclasses
import math
import os
import sys
import time
from datetime import datetime

import tensorflow as tf

from cifar10 import cifar10
from cifar10.data import datasets
from cifar10.model import precision
from cifar10.training import checkpoints
from cifar10.training import fine_tuning
from cifar10.training import flags

from cifar10.runtime import kernels
from cifar10.runtime.cli import GracefulStop
from cifar10.runtime.errors import DataError, NanLossError
from cifar10.runtime.session import session_config_from_flags

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
    """Prints the loss and speed each time the global step passes a multiple
    of ``log_frequency``.

    The line is the tutorial's:
    ``<datetime>: step N, loss = L.LL (E.E examples/sec; S.SSS sec/batch)``.
    A replica of a cluster names itself and counts its own examples/sec;
    the chief adds the cluster's (``; cluster C.C examples/sec``).
    Speed is measured from the end of the first step run, so queue filling
    and graph start-up are not counted as training time.
    """

    def __init__(self, loss, global_step, examples_per_step, log_frequency,
                 step_after=None, task_name=None, examples_per_global_step=None):
        """Args:
          loss: The loss tensor to print.
          global_step: The global step variable.
          examples_per_step: Examples this process's step consumes.
          log_frequency: Print when the global step passes a multiple of it.
          step_after: A tensor reading the global step after the training
            op; None counts this process's runs, which is exact when it
            alone advances the global step.
          task_name: Printed before the step, such as 'worker 1'.
          examples_per_global_step: Examples one global step stands for in
            the whole cluster; given, the cluster's speed is printed too.
        """
        self._loss = loss
        self._global_step = global_step
        self._examples_per_step = examples_per_step
        self._log_frequency = log_frequency
        self._step_after = step_after
        self._prefix = f'{task_name}: ' if task_name else ''
        self._examples_per_global_step = examples_per_global_step
        self.step = None
        self._runs = 0
        self._last = None  # (step, runs, time) at the last line

    def after_create_session(self, session, coord):
        self.step = int(session.run(self._global_step))

    def before_run(self, run_context):
        fetches = [self._loss]
        if self._step_after is not None:
            fetches.append(self._step_after)
        return tf1.train.SessionRunArgs(fetches)

    def after_run(self, run_context, run_values):
        loss = run_values.results[0]
        self._runs += 1
        if self._step_after is None:
            # Every run of the training loop is one step, so counting here
            # is exact and avoids racing the increment for the value.
            self.step += 1
        else:
            self.step = int(run_values.results[1])
        now = time.monotonic()
        if self._last is None:
            self._last = (self.step, self._runs, now)
            return
        last_step, last_runs, last_time = self._last
        if self.step // self._log_frequency > last_step // self._log_frequency:
            runs, duration = self._runs - last_runs, now - last_time
            self._last = (self.step, self._runs, now)
            examples_per_sec = self._examples_per_step * runs / duration
            cluster = ''
            if self._examples_per_global_step:
                global_rate = (self._examples_per_global_step * (self.step - last_step)
                               / duration)
                cluster = f'; cluster {global_rate:.1f} examples/sec'
            print(f'{datetime.now()}: {self._prefix}step {self.step}, '
                  f'loss = {loss:.2f} '
                  f'({examples_per_sec:.1f} examples/sec; '
                  f'{duration / runs:.3f} sec/batch{cluster})', flush=True)


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
      DataError: if --train_dir is a file, is held by another trainer, the
        data cannot be had, or the machine cannot compute in --precision.
    """
    # Fail before any slow work if the checkpoints have nowhere to go, or
    # the machine cannot compute in the asked precision.
    checkpoints.ensure_directory(args.train_dir, '--train_dir', create=False)
    slower = check_precision(args)
    lock = (checkpoints.lock_train_dir(args.train_dir)
            if os.path.isdir(args.train_dir) else None)
    try:
        dataset = datasets.from_flags(args)
        cifar10.maybe_download_and_extract(args.data_dir, dataset=dataset)
        if lock is None:
            checkpoints.ensure_directory(args.train_dir, '--train_dir')
            lock = checkpoints.lock_train_dir(args.train_dir)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    print(f'Training {flags.network_from_flags(args).describe()} on '
          f'{dataset.describe()}.', flush=True)
    print(kernels.describe(requested=args.onednn), flush=True)
    if slower:
        print(slower, file=sys.stderr, flush=True)
    return lock


def check_precision(args):
    """Refuses a --precision this machine cannot compute in.

    Args:
      args: Parsed training flags.

    Returns:
      A warning line to print once the run starts, or None.

    Raises:
      DataError: if the machine has no kernels for it.
    """
    unsupported, slower = precision.check_device(args.precision)
    if unsupported:
        raise DataError(unsupported)
    return slower


def examples_per_epoch(args):
    """Training examples in an epoch of the --dataset, for the schedule."""
    return datasets.from_flags(args).num_train


def training_inputs(args, shard=(1, 0)):
    """Builds the training input pipeline the flags ask for, on the CPU.

    Args:
      args: Parsed training flags (add_training_flags).
      shard: (readers, this reader), this worker's share of the data in a
        cluster (tf_data only; see data/tf_data.py, shard_plan).

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
            pipeline=args.input_pipeline, dataset=datasets.from_flags(args),
            shard=shard)


def run_training_from_flags(args, train_op, loss, global_step,
                            examples_per_step, summary_op=None, replica=None):
    """run_training() with the cadences and settings of the flags."""
    return run_training(
        train_op, loss, global_step,
        train_dir=args.train_dir, max_steps=args.max_steps,
        examples_per_step=examples_per_step,
        log_frequency=args.log_frequency,
        save_checkpoint_secs=args.save_checkpoint_secs,
        save_checkpoint_steps=args.save_checkpoint_steps,
        save_summaries_steps=args.save_summaries_steps,
        config=session_config_from_flags(args) if replica is None else replica.config,
        summary_op=summary_op, trace_step=args.trace_step, replica=replica,
        fine_tune_from=args.fine_tune_from)


@dataclasses.dataclass
class Replica:
    """How a process takes part in a cluster's training (see
    cifar10_distributed_train); run_training without one trains alone.

    Attributes:
      master: The gRPC target of this task's server.
      name: The task's name, such as 'worker 1', printed in its lines.
      is_chief: It alone initializes or restores, and writes train_dir.
      config: The session's ConfigProto (device filters included).
      step_after: A tensor reading the global step after the training op.
      examples_per_global_step: Examples a global step stands for in the
        cluster, for the chief's cluster speed.
      hooks: The cluster's own hooks; on the chief their end() runs
        before the final checkpoint is written.
      wait_notice_secs: A step that takes longer is cut short and started
        again, with a line saying that this task waits and for what.
      wait_reason: That line's explanation.
      stop_grace_period_secs: How long closing the session waits for
        threads that may be blocked on other tasks.
      stopped_by_chief: Called after the loop: whether the chief ended the
        training (not this task's own signal or --max_steps).
      before_step: None, or called before each step with a function that
        tells whether a signal arrived; may wait, and returns False to end
        the training instead of the step.
    """
    master: str
    name: str
    is_chief: bool
    config: object
    step_after: object
    examples_per_global_step: int
    hooks: list
    wait_notice_secs: float
    wait_reason: str
    stop_grace_period_secs: float
    stopped_by_chief: object
    before_step: object = None


@dataclasses.dataclass
class Outcome:
    """How a run_training call ended.

    Attributes:
      step: The global step reached.
      signal_name: 'SIGINT' or 'SIGTERM' if a signal stopped it, else None.
    """
    step: int
    signal_name: str | None


class SessionCreator(tf1.train.SessionCreator):
    """Creates (and after a lost task, re-creates) the training session.

    The chief restores the newest checkpoint of ``train_dir``, looked up
    anew at every creation: a session re-created after a parameter server
    was lost resumes from the last checkpoint written, not the one the run
    started from. Without a checkpoint it initializes the variables. Other
    workers of a cluster wait, checking every second, until the chief has
    done so.
    """

    def __init__(self, scaffold, train_dir, checkpoint, master='', config=None,
                 is_chief=True, name=None):
        """Args:
          scaffold: The Scaffold with the saver and init ops.
          train_dir: Where the chief's checkpoints are.
          checkpoint: The checkpoint to restore first (None to initialize).
          master: The session target ('' for in-process).
          config: The session's ConfigProto.
          is_chief: Restore or initialize (True), or wait for the chief.
          name: The task's name for the lines printed on re-creation.
        """
        self._scaffold = scaffold
        self._train_dir = train_dir
        self._checkpoint = checkpoint
        self._master = master
        self._config = config
        self._is_chief = is_chief
        self._prefix = f'{name}: ' if name else ''
        self._created = 0

    def create_session(self):
        self._scaffold.finalize()
        manager = tf1.train.SessionManager(
            local_init_op=self._scaffold.local_init_op,
            local_init_feed_dict=self._scaffold.local_init_feed_dict,
            ready_op=self._scaffold.ready_op,
            ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
            graph=tf1.get_default_graph(), recovery_wait_secs=1)
        self._created += 1
        if not self._is_chief:
            if self._created > 1:
                print(f'{self._prefix}lost the session (a task of the cluster '
                      'stopped?); reconnecting.', flush=True)
            return manager.wait_for_session(self._master, config=self._config,
                                            max_wait_secs=_FOREVER_SECS)
        if self._created > 1:
            self._checkpoint = checkpoints.latest_checkpoint(self._train_dir)
            print(f'{self._prefix}lost the session (a task of the cluster '
                  f'stopped?); starting again from '
                  f'{self._checkpoint or "freshly initialized variables"}.',
                  flush=True)
        return manager.prepare_session(
            self._master, init_op=self._scaffold.init_op,
            saver=self._scaffold.saver,
            checkpoint_filename_with_path=self._checkpoint,
            config=self._config, init_feed_dict=self._scaffold.init_feed_dict,
            init_fn=self._scaffold.init_fn)


# How long a worker waits for its chief to initialize the model: as long as
# it takes (the chief may be downloading the data); SIGINT or SIGTERM ends it.
_FOREVER_SECS = 365 * 24 * 3600


def _resume_point(train_dir, prefix):
    """Finds the checkpoint to resume from and says so; returns Checkpoints."""
    checkpoints.ensure_directory(train_dir, '--train_dir')
    found = checkpoints.find_checkpoints(train_dir)
    if found.newest:
        try:
            step = checkpoints.checkpoint_step(found.newest)
        except checkpoints.CheckpointGone:
            raise DataError(f'{found.newest} is the newest checkpoint listed in '
                            f'{train_dir}/checkpoint, but its files are '
                            'missing') from None
        print(f'{prefix}Resuming from checkpoint {found.newest} at step {step}.',
              flush=True)
    else:
        print(f'{prefix}No checkpoint in {train_dir}: starting from step 0.',
              flush=True)
    return found


def run_training(train_op, loss, global_step, *, train_dir, max_steps,
                 examples_per_step, log_frequency=10,
                 save_checkpoint_secs=None, save_checkpoint_steps=None,
                 save_summaries_steps=100, config=None, summary_op=None,
                 trace_step=None, replica=None, fine_tune_from=None):
    """Runs training steps until ``max_steps``, a signal, or a NaN loss.

    Resumes from the newest checkpoint in ``train_dir`` (never deletes it),
    saves checkpoints on the given cadence and always at the step where
    training stops: ``max_steps``, or the step reached when SIGINT or
    SIGTERM arrived. A NaN loss stops training before another checkpoint is
    written, so the newest checkpoint stays the last good one.

    The caller holds train_dir's lock (see prepare_training).

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
      replica: A Replica when this process is one worker of a cluster
        (only its chief resumes and writes to train_dir); None to train
        alone.
      fine_tune_from: A checkpoint or directory of a trained model whose
        fitting variables a run without a checkpoint of its own starts
        from (see fine_tuning); None to start freshly initialized.

    Returns:
      An Outcome, when training ended by reaching max_steps, by a signal,
      or (for a replica) because the cluster's chief ended it.

    Raises:
      NanLossError: if the loss became NaN.
    """
    is_chief = replica is None or replica.is_chief
    prefix = f'{replica.name}: ' if replica else ''
    if save_checkpoint_steps is None and save_checkpoint_secs is None:
        save_checkpoint_secs = 600

    found, scaffold = _start_point(train_dir, prefix, is_chief, summary_op,
                                   fine_tune_from)
    logger = LoggerHook(
        loss, global_step, examples_per_step, log_frequency,
        step_after=replica.step_after if replica else None,
        task_name=replica.name if replica else None,
        examples_per_global_step=(replica.examples_per_global_step
                                  if replica and is_chief else None))
    hooks = [
        logger,
        # Order matters: the NaN check must stop the step before the
        # checkpoint saver can write the broken variables.
        NanStopHook(loss),
    ]
    if replica:
        hooks += replica.hooks
    if is_chief:
        hooks += _chief_hooks(global_step, scaffold, train_dir,
                              save_summaries_steps, save_checkpoint_secs,
                              save_checkpoint_steps, trace_step)
    session = _open_session(scaffold, hooks, train_dir, found.newest, config,
                            replica, is_chief, prefix)

    stopper = GracefulStop(what=(
        'stopping after this step and saving a checkpoint' if is_chief else
        'leaving the cluster after this step (the chief keeps the checkpoints)'))
    try:
        with stopper, session:
            _run_steps(session, train_op, max_steps, logger, stopper, replica,
                       prefix)
    except NanLossError:
        raise _diverged(train_dir, logger.step, is_chief, prefix) from None
    except (tf.errors.OpError, OSError) as e:
        full = checkpoints.disk_full(e, train_dir, prefix)
        if full is None:
            raise
        raise full from None
    return _stopped(train_dir, max_steps, logger.step, stopper, replica,
                    is_chief, prefix)


def _start_point(train_dir, prefix, is_chief, summary_op, fine_tune_from):
    """What a run starts from: the checkpoint to resume (the chief's), or
    the variables to fine-tune from, and the scaffold that restores it.

    Returns:
      found: checkpoints.Checkpoints of train_dir (none for other workers).
      scaffold: The tf.compat.v1.train.Scaffold of the session.
    """
    found = (_resume_point(train_dir, prefix) if is_chief
             else checkpoints.Checkpoints(None, ()))
    init_fn = None
    if found.newest:
        # Another model's checkpoint in train_dir: say so, not a shape error.
        cifar10.check_checkpoint_fits(found.newest)
        if fine_tune_from:
            fine_tuning.note_ignored(fine_tune_from, found.newest)
    elif fine_tune_from and is_chief:
        init_fn = fine_tuning.init_fn(fine_tune_from, prefix)
    saver = checkpoints.new_saver()
    # Rotation goes on deleting the oldest of this directory's own
    # checkpoints, wherever the state file said they were.
    saver.recover_last_checkpoints(
        [p for p in found.listed
         if os.path.realpath(os.path.dirname(p)) == os.path.realpath(train_dir)])
    return found, tf1.train.Scaffold(saver=saver, summary_op=summary_op,
                                     init_fn=init_fn)


def _chief_hooks(global_step, scaffold, train_dir, save_summaries_steps,
                 save_checkpoint_secs, save_checkpoint_steps, trace_step):
    """The hooks only the chief runs: speed and summaries to train_dir's
    event file, checkpoints on their cadence, and the optional trace."""
    hooks = [
        tf1.train.StepCounterHook(every_n_steps=save_summaries_steps,
                                  output_dir=train_dir),
        tf1.train.SummarySaverHook(save_steps=save_summaries_steps,
                                   output_dir=train_dir, scaffold=scaffold),
        tf1.train.CheckpointSaverHook(
            train_dir,
            save_secs=None if save_checkpoint_steps else save_checkpoint_secs,
            save_steps=save_checkpoint_steps, scaffold=scaffold),
    ]
    if trace_step is not None:
        hooks.append(TraceHook(global_step, trace_step, train_dir))
    return hooks


def _open_session(scaffold, hooks, train_dir, checkpoint, config, replica,
                  is_chief, prefix):
    """Creates the MonitoredSession: restores ``checkpoint`` or initializes
    (the chief), or waits for the chief (other workers).

    Raises:
      DataError: if the checkpoint cannot be restored.
    """
    # Restoring the checkpoint found by _resume_point, not whatever
    # TensorFlow's own lookup makes of the state file, is what makes a
    # moved directory work.
    creator = SessionCreator(scaffold, train_dir, checkpoint,
                             master=replica.master if replica else '',
                             config=config, is_chief=is_chief,
                             name=replica.name if replica else None)
    if replica and not is_chief:
        print(f'{prefix}waiting for the chief to initialize or restore the '
              'variables.', flush=True)
    try:
        return tf1.train.MonitoredSession(
            session_creator=creator, hooks=hooks,
            stop_grace_period_secs=(replica.stop_grace_period_secs
                                    if replica else 120))
    except (tf.errors.OpError, ValueError, OSError) as e:
        # The first checkpoint is written as the session starts.
        full = checkpoints.disk_full(e, train_dir, prefix)
        if full is not None:
            raise full from None
        if not checkpoint or isinstance(e, OSError):
            raise
        raise checkpoints.unreadable_checkpoint(checkpoint, e) from None


def _run_steps(session, train_op, max_steps, logger, stopper, replica, prefix):
    """Runs training steps until max_steps, a signal, or the session stops
    (the NaN check, or a cluster's chief ending the training)."""
    if logger.step >= max_steps:
        print(f'{prefix}Global step {logger.step} has reached --max_steps='
              f'{max_steps}; nothing to do.', flush=True)
    # A cluster's step can wait on other tasks; a timeout keeps this task
    # responsive to signals and lets it say what it waits for.
    options = (tf1.RunOptions(timeout_in_ms=int(replica.wait_notice_secs * 1000))
               if replica else None)
    while (logger.step < max_steps and not session.should_stop()
           and not stopper.requested):
        if (replica and replica.before_step
                and not replica.before_step(lambda: stopper.requested)):
            break
        try:
            session.run(train_op, options=options)
        except tf.errors.DeadlineExceededError:
            print(f'{prefix}waiting: no step finished in '
                  f'{replica.wait_notice_secs:g} s; {replica.wait_reason}',
                  flush=True)


def _diverged(train_dir, step, is_chief, prefix):
    """The NanLossError to raise: where the loss became NaN, and which
    checkpoint is the last good one."""
    last = checkpoints.latest_checkpoint(train_dir) if is_chief else None
    kept = (f'the last good checkpoint, {last} (step {checkpoints.checkpoint_step(last)}), '
            'is kept' if last else 'no checkpoint was written')
    return NanLossError(
        f'{prefix}loss is NaN at step {step}: training diverged and was '
        f'stopped; {kept}. Lower the learning rate or check the data.')


def _stopped(train_dir, max_steps, step, stopper, replica, is_chief, prefix):
    """Says why and where training stopped; returns the Outcome."""
    if stopper.requested:
        reason = f'{stopper.signal_name} received'
    elif step >= max_steps:
        reason = f'reached --max_steps={max_steps}'
    elif replica and replica.stopped_by_chief():
        reason = 'the chief ended the training'
    else:
        reason = 'stopped'
    if not is_chief:
        print(f'{prefix}Stopped at step {step} ({reason}).', flush=True)
        return Outcome(step, stopper.signal_name)
    # Closing the session saved the final checkpoint. In a cluster the
    # others' last gradients may have moved the global step on since this
    # task's last step: the checkpoint's step is the one reached.
    last = checkpoints.latest_checkpoint(train_dir)
    if replica and last:
        step = checkpoints.checkpoint_step(last)
    print(f'{prefix}Stopped at step {step} ({reason}); checkpoint {last}.',
          flush=True)
    return Outcome(step, stopper.signal_name)
