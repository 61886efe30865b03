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
"""A binary to train CIFAR-10 across machines: parameter servers and workers.

Between-graph replication on TensorFlow's own gRPC runtime: each worker
builds the whole graph, with the variables placed on the parameter-server
(ps) tasks by replica_device_setter, and feeds it from its own input
pipeline. Synchronous training (the default) aggregates exactly
--replicas_to_aggregate fresh gradients per global step through
SyncReplicasOptimizer; asynchronous training applies each worker's step as
it comes.

Usage, on each machine (host names and ports are yours):
  python cifar10_distributed_train.py --job_name=ps --task_index=0 \\
      --ps_hosts=ps0:2222 --worker_hosts=w0:2222,w1:2222
  python cifar10_distributed_train.py --job_name=worker --task_index=0 \\
      --ps_hosts=ps0:2222 --worker_hosts=w0:2222,w1:2222     # the chief
  python cifar10_distributed_train.py --job_name=worker --task_index=1 \\
      --ps_hosts=ps0:2222 --worker_hosts=w0:2222,w1:2222
or, under a cluster manager that sets TF_CONFIG, with no cluster flags.
scripts/run_local_cluster.py starts a whole cluster on one machine.

The chief (worker 0, or the "chief" task of TF_CONFIG) initializes or
restores the variables, writes checkpoints and summaries to --train_dir
and holds its lock; the other workers need no access to it. Every process
ends by itself at --max_steps. See docs/distributed.md.
"""

import importlib
import os
import sys

if __name__ == '__main__':
    # The package on sys.path, TensorFlow imported quietly (script_setup).
    importlib.import_module(
        'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

import logging
import threading
import time

import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_train
from cifar10.data import datasets
from cifar10.parallel import cluster
from cifar10.parallel import replicas
from cifar10.runtime import cli
from cifar10.runtime import session
from cifar10.runtime.errors import DataError
from cifar10.training import flags
from cifar10.training import loop

tf1 = tf.compat.v1

# How often a ps task looks whether every worker has finished.
PS_POLL_SECS = 0.5


def parse_args(argv, environ=None):
    """Parses the distributed trainer's command line (and TF_CONFIG).

    Args:
      argv: Arguments without the program name.
      environ: The environment to read TF_CONFIG from; None for os.environ.

    Returns:
      An argparse.Namespace, with ``task`` the cluster.Task of this process.
    """
    parser = flags.new_parser(
        'Train the CIFAR-10 network on a cluster of parameter servers and '
        'workers (between-graph replication, TensorFlow\'s gRPC runtime).')
    flags.add_training_flags(parser)
    flags.add_batch_splits_flag(
        parser, '1: each part reads every variable from the ps tasks again '
        '(on loopback here, 2 parts sent 37 MB per worker step instead of '
        '12.5 and trained at 0.69x the speed)')
    group = parser.add_argument_group(
        'cluster', 'Give all four of --job_name, --task_index, --ps_hosts and '
        '--worker_hosts, or none and set TF_CONFIG. --batch_size is per worker; '
        'the learning-rate schedule counts epochs in global steps of one '
        'worker\'s batch, as cifar10_multi_gpu_train.py counts them in one '
        'tower\'s.')
    group.add_argument('--job_name', choices=('ps', 'worker'), default=None,
                       help='This task\'s job.')
    group.add_argument('--task_index', type=flags.non_negative_int, default=None,
                       help='This task\'s index in its job.')
    group.add_argument('--ps_hosts', default=None,
                       help='Comma-separated host:port of the ps tasks.')
    group.add_argument('--worker_hosts', default=None,
                       help='Comma-separated host:port of the worker tasks; the '
                            'first is the chief.')
    flags.add_bool_flag(group, 'sync_replicas', True,
                        'Synchronous updates: each global step applies the '
                        'average of --replicas_to_aggregate fresh gradients '
                        '(stale ones are dropped). False: each worker\'s step '
                        'updates the variables as it comes')
    group.add_argument('--replicas_to_aggregate', type=flags.positive_int,
                       default=None,
                       help='Gradients averaged per synchronous step (default: '
                            'the number of workers).')
    group.add_argument('--startup_timeout_secs', type=flags.positive_float,
                       default=120,
                       help='How long a task waits for the tasks it needs to be '
                            'reachable before it gives up.')
    group.add_argument('--wait_notice_secs', type=flags.positive_float,
                       default=30,
                       help='A worker whose step waits longer than this on the '
                            'others (too few workers for a synchronous step, a '
                            'lost ps) says so, and keeps waiting.')
    args = flags.resolve_device_defaults(parser.parse_args(argv), parser)
    if args.batch_splits is None:
        args.batch_splits = 1
    flags.check_batch_splits(parser, args)
    given = [name for name in ('job_name', 'task_index', 'ps_hosts', 'worker_hosts')
             if getattr(args, name) is not None]
    environ = os.environ if environ is None else environ
    try:
        if given:
            missing = [f'--{name}' for name in ('job_name', 'task_index', 'ps_hosts',
                                                'worker_hosts') if name not in given]
            if missing:
                raise cluster.ClusterError(
                    f'{", ".join(missing)} missing: give all four cluster flags, '
                    'or none and set TF_CONFIG')
            args.task = cluster.from_flags(args.job_name, args.task_index,
                                           args.ps_hosts, args.worker_hosts)
        elif environ.get('TF_CONFIG', '').strip():
            args.task = cluster.from_tf_config(environ['TF_CONFIG'])
        else:
            raise cluster.ClusterError(
                'no cluster given: pass --job_name, --task_index, --ps_hosts and '
                '--worker_hosts, or set TF_CONFIG')
    except cluster.ClusterError as e:
        parser.error(str(e))
    if args.replicas_to_aggregate is None:
        args.replicas_to_aggregate = args.task.num_workers
    return args


# ----------------------------------------------------------------------------
# The tasks.

def start_server(task, config):
    """Starts this task's gRPC server.

    Raises:
      DataError: if its port is taken or the server cannot start.
    """
    if cluster.port_in_use(task.address):
        raise DataError(f'{task.name}: port {task.address.rpartition(":")[2]} of '
                        f'{task.address} is already in use')
    try:
        return tf1.train.Server(tf1.train.ClusterSpec(task.cluster),
                                job_name=task.job, task_index=task.index,
                                config=config, start=True)
    except (tf.errors.OpError, ValueError) as e:
        raise DataError(f'{task.name}: cannot start its server on {task.address} '
                        f'({e})') from None


def wait_for(task, needed, timeout_secs):
    """Waits until the tasks ``needed`` ([(job, index)]) are reachable.

    Raises:
      DataError: naming those that were not, within ``timeout_secs``.
    """
    addresses = {f'{job} {i} ({task.address_of(job, i)})': task.address_of(job, i)
                 for job, i in needed}
    if not cluster.unreachable(addresses, 0):
        return
    print(f'{task.name}: waiting for {", ".join(addresses)} to start.', flush=True)
    missing = cluster.unreachable(addresses, timeout_secs)
    if missing:
        raise DataError(f'{task.name}: could not reach {", ".join(missing)} within '
                        f'--startup_timeout_secs={timeout_secs:g}')


def task_config(args, task):
    """The session settings of a task: the flags' knobs, and device filters
    so that a worker talks only to the ps tasks and itself (it need not
    wait for the other workers)."""
    config = session.session_config_from_flags(args)
    config.device_filters[:] = (['/job:ps', task.device] if not task.is_ps
                                else [task.device])
    return config


def run_ps(args, task):
    """Serves the variables until every worker has finished.

    Returns:
      The exit status (0).
    """
    config = task_config(args, task)
    server = start_server(task, config)
    print(f'{task.name}: serving on {task.address}; ends when all '
          f'{task.num_workers} workers have finished.', flush=True)
    chief = task.chief
    wait_for(task, [chief], args.startup_timeout_secs)
    with tf.Graph().as_default():
        with tf1.variable_scope('cluster_state'), tf.device(task.device):
            finished = replicas.finished_variable(task.index, task.num_workers)
        done = tf.reduce_all(finished.read_value())
        options = tf1.RunOptions(timeout_in_ms=10000)
        stopper = cli.GracefulStop(quiet=True)
        with stopper, tf1.Session(server.target, config=config) as sess:
            while not stopper.requested:
                try:
                    if sess.run(done, options=options):
                        print(f'{task.name}: all {task.num_workers} workers have '
                              'finished; exiting.', flush=True)
                        return 0
                except (tf.errors.FailedPreconditionError,
                        tf.errors.DeadlineExceededError):
                    pass  # Not initialized by the chief yet (or again).
                time.sleep(PS_POLL_SECS)
    print(f'{task.name}: {stopper.signal_name} received; exiting.', flush=True)
    return 0


def build_worker_graph(args, task, state):
    """Builds one worker's replica of the training graph.

    Returns:
      (train_op, loss, global_step, summary_op, step_after, hooks) where
      hooks are the update's and the cluster's.
    """
    setter = tf1.train.replica_device_setter(
        ps_tasks=task.num_ps, worker_device=task.device,
        cluster=tf1.train.ClusterSpec(task.cluster),
        ps_strategy=replicas.GreedyBySize(task.num_ps) if task.num_ps > 1 else None)
    # Each worker shuffles and distorts its own data, seeded by its place.
    tf1.set_random_seed(1 + task.replica_index)
    built = {}
    with tf1.device(setter):
        global_step = tf1.train.get_or_create_global_step()
        # With tf.data each worker reads its own share of the data; the
        # queues read all of it, in an order of their own.
        images, labels = loop.training_inputs(
            args, shard=(task.num_workers, task.replica_index))
        update = (replicas.sync_update(args.replicas_to_aggregate, task.num_workers, built)
                  if args.sync_replicas else replicas.async_update(args.max_steps))
        train_op, loss, summary_op = cifar10_train.build_train_op(
            images, labels, global_step, args.batch_size, args.batch_splits,
            flags.network_from_flags(args), update=update,
            examples_per_epoch=loop.examples_per_epoch(args))
        with tf.control_dependencies([train_op]):
            step_after = global_step.read_value()
        if not args.sync_replicas:
            # Another worker's late ticket shows for a moment as a step past
            # --max_steps before it is given back; the step reached is not.
            step_after = tf.minimum(step_after, tf.cast(args.max_steps, step_after.dtype))
    hooks = []
    release = None
    lockstep = None
    if args.sync_replicas:
        sync = built['sync_optimizer']
        # No tokens up front: a worker's first step then waits in the token
        # queue for the first update, as every later step does, instead of
        # starting each step with a spare token (which would make every
        # step a OneGradientPerStepHook wait).
        hooks.append(sync.make_session_run_hook(task.is_chief, num_tokens=0))
        if task.is_chief:
            release = sync.get_init_tokens_op(task.num_workers)
        if args.replicas_to_aggregate <= task.num_workers:
            # (With more gradients per step than workers, each worker must
            # give several.)
            lockstep = replicas.OneGradientPerStepHook(
                global_step, replicas.local_step_variable(), sync.local_step_init_op,
                state.stop, task.name, args.wait_notice_secs,
                wait_reason(args))
            hooks.append(lockstep)
    stop_hook = replicas.ClusterStopHook(state.stop)
    hooks.append(stop_hook if not task.is_chief
                 else replicas.ChiefEndHook(state, task, release))
    return train_op, loss, global_step, summary_op, step_after, hooks, stop_hook, lockstep


def wait_reason(args):
    """What a worker that waits on the others says it waits for."""
    if args.sync_replicas:
        return (f'a synchronous step needs {args.replicas_to_aggregate} fresh '
                'gradients (--replicas_to_aggregate); fewer workers than that '
                'may be running')
    return 'a ps task may be unreachable'


def _quiet_cancelled_queue_runners(previous=threading.excepthook):
    """Installs a thread exception hook that drops one known shutdown error.

    SyncReplicasOptimizer's queue runner on the chief waits for gradients
    that no longer come once training ends; closing the session cancels
    its step, and the queue runner re-raises the CancelledError in its
    thread after the coordinator has already joined. That is the expected
    end, not a failure; every other thread error is reported as usual.
    """
    def hook(exc):
        if (issubclass(exc.exc_type, tf.errors.CancelledError)
                and exc.thread is not None
                and exc.thread.name.startswith('QueueRunnerThread-')):
            return
        previous(exc)
    threading.excepthook = hook


class _RecoveryNoise(logging.Filter):
    """Drops TensorFlow's multi-line log of a session it is about to
    re-create after a lost task; the trainer says so in one line."""

    def filter(self, record):
        return 'An error occurred when attempting to close the session' not in str(
            record.msg)


def run_worker(args, task):
    """Trains as one worker of the cluster (the chief, or another).

    Returns:
      The exit status (0).
    """
    _quiet_cancelled_queue_runners()
    tf.get_logger().addFilter(_RecoveryNoise())
    if task.is_chief:
        lock = loop.prepare_training(args)
    else:
        lock = None
        slower = loop.check_precision(args)
        if slower:
            print(f'{task.name}: {slower}', file=sys.stderr, flush=True)
        cifar10.maybe_download_and_extract(
            args.data_dir, dataset=datasets.from_flags(args))
    try:
        config = task_config(args, task)
        server = start_server(task, config)
        needed = [('ps', i) for i in range(task.num_ps)]
        if not task.is_chief:
            needed.append(task.chief)
        wait_for(task, needed, args.startup_timeout_secs)
        mode = (f'synchronous, {args.replicas_to_aggregate} gradients per step'
                if args.sync_replicas else 'asynchronous')
        print(f'{task.name}: training with {task.num_workers} worker(s) and '
              f'{task.num_ps} ps task(s), {mode}'
              f'{"; the chief" if task.is_chief else ""}.', flush=True)
        with tf.Graph().as_default():
            state = replicas.ClusterState(task)
            (train_op, loss, global_step, summary_op, step_after, hooks,
             stop_hook, lockstep) = build_worker_graph(args, task, state)
            scaffold_local_init = tf.group(
                tf1.train.Scaffold.default_local_init_op(),
                state.init_op(task.is_chief))
            finish = state.finish_op(task.replica_index)
            tf1.add_to_collection(tf1.GraphKeys.LOCAL_INIT_OP, scaffold_local_init)
            per_global_step = args.batch_size * (
                args.replicas_to_aggregate if args.sync_replicas else 1)
            replica = loop.Replica(
                master=server.target, name=task.name, is_chief=task.is_chief,
                config=config, step_after=step_after,
                examples_per_global_step=per_global_step, hooks=hooks,
                wait_notice_secs=args.wait_notice_secs,
                wait_reason=wait_reason(args),
                before_step=lockstep.before_step if lockstep else None,
                # The chief's sync queue runner stays blocked on gradients
                # that no longer come; closing the session cancels it.
                stop_grace_period_secs=2,
                stopped_by_chief=lambda: stop_hook.stopped or bool(
                    lockstep and lockstep.saw_stop))
            outcome = loop.run_training_from_flags(
                args, train_op, loss, global_step,
                examples_per_step=args.batch_size, summary_op=summary_op,
                replica=replica)
            if task.is_chief or outcome.signal_name is None:
                # Training is over for this worker (the chief's end, signal
                # or not, ends it for all): tell the ps tasks.
                with tf1.Session(server.target, config=config) as sess:
                    sess.run(finish)
        return 0
    finally:
        if lock is not None:
            lock.release()


def train(args):
    """Runs this process's task.

    Args:
      args: Parsed flags (see parse_args).

    Returns:
      The exit status.
    """
    if args.task.is_ps:
        return run_ps(args, args.task)
    return run_worker(args, args.task)


def main(argv=None):
    """Entry point: parses flags, runs the task, exits with a status."""
    cli.run_main(lambda a: train(parse_args(a)), argv)


if __name__ == '__main__':
    main()
