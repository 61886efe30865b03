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
"""Helpers shared by the training and evaluation scripts.

Flag parsing, error reporting, session settings, the progress-logging hook,
graceful stopping on signals and the training loop with its checkpoints live
here once, so that every script behaves the same way.
"""

import argparse
import gc
import math
import os
import re
import signal
import sys
import time
from datetime import datetime

import tensorflow as tf

from cifar10 import cifar10
from cifar10.cifar10_input import DataError

tf1 = tf.compat.v1

_TRUE = ('true', 't', 'yes', 'y', '1', 'on')
_FALSE = ('false', 'f', 'no', 'n', '0', 'off')


# ----------------------------------------------------------------------------
# Flags.

def parse_bool(text):
    """Parses a boolean flag value ('true', 'false', '1', '0', 'yes', ...)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f'expected true or false, got {text!r}')


def _number(text, kind, is_valid, expected):
    """Parses ``text`` with ``kind`` (int or float), then checks it.

    Raises:
      argparse.ArgumentTypeError: saying what was expected.
    """
    noun = 'an integer' if kind is int else 'a number'
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected {noun}, got {text!r}') from None
    if not is_valid(value):
        raise argparse.ArgumentTypeError(f'expected {noun} {expected}, got {text}')
    return value


def positive_int(text):
    """Parses an integer > 0."""
    return _number(text, int, lambda v: v > 0, '> 0')


def non_negative_int(text):
    """Parses an integer >= 0."""
    return _number(text, int, lambda v: v >= 0, '>= 0')


def positive_float(text):
    """Parses a finite number > 0."""
    return _number(text, float, lambda v: v > 0 and math.isfinite(v), '> 0')


def fraction(text):
    """Parses a number in [0, 1]."""
    return _number(text, float, lambda v: 0.0 <= v <= 1.0, 'from 0 to 1')


def add_bool_flag(parser, name, default, help_text):
    """Adds a boolean flag that parses as the original's absl flags did.

    ``--name``, ``--name=true`` and ``--name=1`` set it; ``--name=false``,
    ``--name=0`` and ``--noname`` clear it.
    """
    parser.add_argument(f'--{name}', nargs='?', const=True, default=default,
                        type=parse_bool, metavar='BOOL',
                        help=f'{help_text} (default: {str(default).lower()})')
    parser.add_argument(f'--no{name}', dest=name, action='store_false',
                        help=argparse.SUPPRESS)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default once: boolean flags already say theirs, and
    a None default is one the help text explains."""

    def _get_help_string(self, action):
        if action.type is parse_bool or action.default is None:
            return action.help
        return super()._get_help_string(action)


def new_parser(description):
    """Returns an argument parser that refuses abbreviated flag names."""
    return argparse.ArgumentParser(
        description=description, allow_abbrev=False,
        formatter_class=_HelpFormatter)


def add_training_flags(parser):
    """Adds the flags common to the single- and multi-device trainers."""
    parser.add_argument('--train_dir', default='/tmp/cifar10_train',
                        help='Directory for event logs and checkpoints; a '
                             'run resumes from the newest checkpoint here.')
    parser.add_argument('--data_dir', default='/tmp/cifar10_data',
                        help='Path to the CIFAR-10 data directory.')
    parser.add_argument('--max_steps', type=non_negative_int, default=1000000,
                        help='Number of batches to run (global step to stop at).')
    parser.add_argument('--batch_size', type=positive_int, default=128,
                        help='Number of images to process in a batch.')
    parser.add_argument('--log_frequency', type=positive_int, default=10,
                        help='How often (in steps) to log results to the console.')
    add_session_flags(parser)
    add_bool_flag(parser, 'use_fp16', False,
                  'Train the model using fp16.')
    parser.add_argument('--save_checkpoint_secs', type=positive_float,
                        default=None,
                        help='Save a checkpoint every this many seconds '
                             '(600 unless --save_checkpoint_steps is given).')
    parser.add_argument('--save_checkpoint_steps', type=positive_int,
                        default=None,
                        help='Save a checkpoint every this many steps.')
    parser.add_argument('--save_summaries_steps', type=positive_int,
                        default=100,
                        help='Write TensorBoard summaries every this many steps.')
    parser.add_argument('--trace_step', type=positive_int, default=None,
                        help='Write a Chrome trace of this global step to '
                             '--train_dir (timeline-step-N.json).')
    parser.add_argument('--input_pipeline', choices=cifar10.INPUT_PIPELINES,
                        default='batch',
                        help='How training images are prepared: a batch at a '
                             'time (fast), or one image per op as the original '
                             'tutorial; the same math either way.')
    parser.add_argument('--lrn_gradient', choices=cifar10.LRN_GRADIENTS,
                        default=cifar10.DEFAULT_LRN_GRADIENT,
                        help='How the gradient of the local response '
                             'normalizations is computed: banded matrix '
                             'products (fast on a CPU) or TensorFlow\'s LRNGrad '
                             'kernel (the original; try it on a GPU). The '
                             'forward pass is the same either way.')
    parser.add_argument('--num_preprocess_threads', type=positive_int,
                        default=None,
                        help='Threads preparing training images (default: 2 '
                             'for the batch pipeline, 16 for per_image).')
    parser.add_argument('--min_fraction_of_examples_in_queue', type=fraction,
                        default=0.4,
                        help='Fraction of an epoch the shuffle queue holds '
                             'before training starts; lower starts sooner '
                             'but shuffles less.')


# ----------------------------------------------------------------------------
# Running a script.

def quiet_tensorflow():
    """Hides TensorFlow's Python-side deprecation notices.

    The queue-based input ops are deprecated in TensorFlow 2 and each use
    logs a warning; they are the point of this tutorial, so the warnings
    are noise. (C++ start-up logs are silenced by the entry points, see
    cli.import_tensorflow_quietly.)
    """
    tf.get_logger().setLevel('ERROR')


def op_error_summary(error):
    """Returns one line saying what a TensorFlow runtime error is about.

    Graph-mode errors carry a multi-line message (``Graph execution
    error:``, the Python stack that defined the op, the node); the line
    that says what went wrong is the first one that is none of those.

    Args:
      error: A tf.errors.OpError.
    """
    for line in str(error.message).splitlines():
        text = re.sub(r'\{\{function_node [^}]*\}\}\s*', '', line.strip())
        text = re.sub(r'\s*\[Op:\w+\]$', '', text)
        if (not text or line[0].isspace() or text.startswith('[[')
                or text.startswith(('Graph execution error', 'Detected at node',
                                    'Node:'))
                # Restore failures preface the cause with boilerplate.
                or text.endswith('Original error:')):
            continue
        return f'{type(error).__name__}: {text}'
    return type(error).__name__


def run_main(main, argv=None):
    """Runs a script's ``main(argv)``, turning expected failures into exits.

    Data problems and TensorFlow runtime errors print a single line on
    stderr and exit with status 1; Ctrl-C outside the places that handle it
    exits with status 130, without a traceback.

    Args:
      main: The script's main function, taking the argument list.
      argv: Arguments (without the program name); None for sys.argv[1:].
    """
    quiet_tensorflow()
    try:
        status = main(sys.argv[1:] if argv is None else argv)
    except (DataError, NanLossError) as e:
        sys.exit(f'error: {e}')
    except BrokenPipeError:
        # Output piped into a program that stopped reading (say, head).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as e:
        # A directory that cannot be created or written, and the like.
        where = f'{e.filename}: ' if e.filename else ''
        sys.exit(f'error: {where}{e.strerror or e}')
    except tf.errors.OpError as e:
        sys.exit(f'error: {op_error_summary(e)}')
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        sys.exit(130)
    finally:
        _skip_final_garbage_collection()
    sys.exit(status or 0)


def _skip_final_garbage_collection():
    """Spares the exiting interpreter a garbage collection of everything.

    At exit Python runs a full collection over every object alive. The
    scripts' import (cli.import_tensorflow_quietly) already froze
    TensorFlow's own objects, the bulk of it (a full collection after an
    evaluation: 0.18 s with them, 0.001 s without); freezing here takes
    the rest, and covers callers that imported TensorFlow their own way.
    The process is ending, so nothing is lost: files and writers are
    closed by the scripts, and the standard streams are flushed as usual.
    """
    gc.freeze()


def add_session_flags(parser):
    """Adds the session performance knobs every script shares."""
    add_bool_flag(parser, 'log_device_placement', False,
                  'Whether to log device placement.')
    parser.add_argument('--intra_op_threads', type=non_negative_int, default=0,
                        help='Threads one op (a convolution, say) may use; 0 '
                             'lets TensorFlow use one per core.')
    parser.add_argument('--inter_op_threads', type=non_negative_int, default=0,
                        help='Ops run at the same time; 0 lets TensorFlow '
                             'choose from the core count.')
    add_bool_flag(parser, 'bfc_allocator', True,
                  "Give this process's CPU tensors TensorFlow's BFC allocator, "
                  'which keeps freed blocks for reuse: training peaked ~30 MB '
                  'lower with it (its heap otherwise fragments as the run goes '
                  'on). Decided by the first session a process creates.')
    add_bool_flag(parser, 'xla', False,
                  'Turn on XLA auto-clustering. TensorFlow applies it to '
                  'GPU ops; on a CPU it changes nothing unless '
                  'TF_XLA_FLAGS=--tf_xla_cpu_global_jit is also set, and '
                  'then trained at half the speed here.')


def session_config(log_device_placement=False, intra_op_threads=0,
                   inter_op_threads=0, xla=False, bfc_allocator=True):
    """Returns the session settings every script uses.

    Soft placement lets graphs that ask for devices this machine lacks run
    on what it has. The thread pools default to TensorFlow's own choice
    from the machine's core count, which measured as fast as any fixed
    setting on the 2-core machines here (see README, Performance).

    Args:
      log_device_placement: Log the device each op runs on.
      intra_op_threads: Threads within one op; 0 for one per core.
      inter_op_threads: Ops run concurrently; 0 for TensorFlow's choice.
      xla: Turn on XLA auto-clustering (global JIT).
      bfc_allocator: Use TensorFlow's BFC allocator for CPU tensors. It is
        chosen once per process, when the first session starts, from the
        environment variable TF_CPU_ALLOCATOR_USE_BFC, which this sets.

    Returns:
      A tf.compat.v1.ConfigProto.
    """
    os.environ['TF_CPU_ALLOCATOR_USE_BFC'] = 'true' if bfc_allocator else 'false'
    config = tf1.ConfigProto(allow_soft_placement=True,
                             log_device_placement=log_device_placement,
                             intra_op_parallelism_threads=intra_op_threads,
                             inter_op_parallelism_threads=inter_op_threads)
    if xla:
        config.graph_options.optimizer_options.global_jit_level = (
            tf1.OptimizerOptions.ON_1)
    return config


def default_batch_splits(num_cores=None, num_gpus=None):
    """How many parts cifar10_train.py splits each batch into by default.

    One batch's ops form a chain that keeps a multi-core CPU's cores busy
    only ~93% of a step here; two half-batches side by side fill the gaps
    (model step +4% on 2 cores, see README, Performance). On a GPU, halves
    would only make its kernels smaller.

    Args:
      num_cores: CPU cores; None to ask the machine.
      num_gpus: GPUs; None to ask TensorFlow.

    Returns:
      2 on a CPU-only machine with at least 2 cores, else 1.
    """
    if num_cores is None:
        num_cores = os.cpu_count() or 1
    if num_gpus is None:
        num_gpus = len(tf.config.list_physical_devices('GPU'))
    return 2 if num_gpus == 0 and num_cores >= 2 else 1


def session_config_from_flags(args):
    """session_config() with the knobs of add_session_flags."""
    return session_config(args.log_device_placement, args.intra_op_threads,
                          args.inter_op_threads, args.xla, args.bfc_allocator)


# ----------------------------------------------------------------------------
# Checkpoints.

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


# ----------------------------------------------------------------------------
# Training.

class GracefulStop:
    """Turns SIGINT and SIGTERM into a request to stop after the current step.

    Used as a context manager around the training loop; a second signal
    restores the default behaviour, so an impatient Ctrl-C still aborts.
    """

    def __init__(self, quiet=False):
        """Args:
          quiet: Do not announce the signal (the caller reports the stop).
        """
        self.signal_name = None
        self._quiet = quiet
        self._previous = {}

    @property
    def requested(self):
        return self.signal_name is not None

    def _handle(self, signum, frame):
        del frame
        self.signal_name = signal.Signals(signum).name
        if not self._quiet:
            print(f'\n{self.signal_name} received: stopping after this step '
                  'and saving a checkpoint (send it again to abort without '
                  'saving).', file=sys.stderr, flush=True)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


class NanLossError(RuntimeError):
    """The loss became NaN; the last checkpoint is the last good state."""


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
    """Checks --train_dir and obtains the data, before any graph is built.

    Args:
      args: Parsed training flags (add_training_flags).

    Raises:
      DataError: if --train_dir is a file or the data cannot be had.
    """
    # Fail before any slow work if the checkpoints have nowhere to go.
    ensure_directory(args.train_dir, '--train_dir', create=False)
    cifar10.maybe_download_and_extract(args.data_dir)


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
    ensure_directory(train_dir, '--train_dir')
    if save_checkpoint_steps is None and save_checkpoint_secs is None:
        save_checkpoint_secs = 600

    ckpt = latest_checkpoint(train_dir)
    if ckpt:
        try:
            step = checkpoint_step(ckpt)
        except CheckpointGone:
            raise DataError(f'{ckpt} is the newest checkpoint listed in '
                            f'{train_dir}/checkpoint, but its files are '
                            'missing') from None
        print(f'Resuming from checkpoint {ckpt} at step {step}.', flush=True)
    else:
        print(f'No checkpoint in {train_dir}: starting from step 0.', flush=True)

    scaffold = tf1.train.Scaffold(saver=tf1.train.Saver(max_to_keep=5),
                                  summary_op=summary_op)
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
    creator = tf1.train.ChiefSessionCreator(
        scaffold=scaffold, checkpoint_dir=train_dir, config=config)

    try:
        session = tf1.train.MonitoredSession(session_creator=creator,
                                             hooks=hooks)
    except (tf.errors.OpError, ValueError) as e:
        if not ckpt:
            raise
        raise unreadable_checkpoint(ckpt, e) from None

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
        last = latest_checkpoint(train_dir)
        kept = (f'the last good checkpoint, {last} (step {checkpoint_step(last)}), '
                'is kept' if last else 'no checkpoint was written')
        raise NanLossError(
            f'loss is NaN at step {logger.step}: training diverged and was '
            f'stopped; {kept}. Lower the learning rate or check the data.') from None

    # Closing the session above saved the final checkpoint.
    reason = (f'{stopper.signal_name} received' if stopper.requested
              else f'reached --max_steps={max_steps}')
    print(f'Stopped at step {logger.step} ({reason}); checkpoint '
          f'{latest_checkpoint(train_dir)}.', flush=True)
    return 0
