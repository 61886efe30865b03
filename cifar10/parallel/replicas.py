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
"""How replicas of the model train together across a cluster.

The pieces the distributed trainer (cifar10_distributed_train.py) builds
into every worker's graph: where the variables go (GreedyBySize), the
update (synchronous through SyncReplicasOptimizer, or asynchronous with an
exact end), and the state and hooks through which the tasks end training
together (a stop flag, who has finished, one gradient per worker and
step).
"""

import time

import tensorflow as tf

from cifar10 import cifar10

tf1 = tf.compat.v1

# How long the chief waits, before its final checkpoint, for the other
# workers to leave (a worker that was killed and not restarted never does).
DEPARTURE_WAIT_SECS = 30


class GreedyBySize:
    """Places each variable on the ps task holding the fewest bytes so far.

    replica_device_setter asks it for every variable in the order they are
    created; round robin would put conv1's small weights and local3's 3.5
    MB on whichever tasks their turn falls to.
    """

    def __init__(self, num_tasks):
        self.loads = [0] * num_tasks

    def __call__(self, op):
        task = min(range(len(self.loads)), key=self.loads.__getitem__)
        self.loads[task] += variable_bytes(op)
        return task


def variable_bytes(op):
    """The size in bytes of the variable an op creates (0 if unknown)."""
    try:
        shape = tf.TensorShape(op.get_attr('shape'))
        dtype = tf.as_dtype(op.get_attr('dtype'))
    except ValueError:
        return 0
    if not shape.is_fully_defined():
        return 0
    return shape.num_elements() * dtype.size


# ----------------------------------------------------------------------------
# The cluster's own state: a stop flag and who has finished.

class ClusterState:
    """Variables through which the tasks end training together.

    They live on the ps tasks but in none of the graph's variable
    collections, so checkpoints hold exactly the model's variables (as
    cifar10_train.py's do), and they are initialized only if they are not
    yet (a worker that joins late must not reset them).

    Attributes:
      stop: True once the chief has ended the training; workers stop.
      finished: One bool per worker on each ps task: the worker left
        because training is over. A ps task exits when all of its are set.
    """

    def __init__(self, task):
        with tf1.variable_scope('cluster_state'):
            with tf.device('/job:ps/task:0'):
                self.stop = tf1.get_variable('stop', [], tf.bool, collections=[],
                                             trainable=False,
                                             initializer=tf1.zeros_initializer())
            self.finished = []
            for i in range(task.num_ps):
                with tf.device(f'/job:ps/task:{i}'):
                    self.finished.append(finished_variable(i, task.num_workers))

    def init_op(self, is_chief):
        """Initializes what is not yet; the chief also clears the stop flag
        (a chief that starts again resumes the training)."""
        ops = [tf1.cond(tf1.is_variable_initialized(v), tf.no_op,
                        lambda v=v: tf.group(v.assign(v.initial_value)))
               for v in [self.stop] + self.finished]
        if not is_chief:
            return tf.group(*ops)
        with tf.control_dependencies(ops):
            return tf.group(self.stop.assign(False))

    def finish_op(self, replica_index):
        """Marks this worker finished on every ps task."""
        return tf.group(*[tf1.scatter_update(v, [replica_index], [True])
                          for v in self.finished])


def finished_variable(ps_index, num_workers):
    """The 'finished' flags kept on ps task ``ps_index`` (same name in the
    workers' graph and the ps task's own, so both see one variable)."""
    return tf1.get_variable(f'finished_{ps_index}', [num_workers], tf.bool,
                            collections=[], trainable=False,
                            initializer=tf1.zeros_initializer())


class ClusterStopHook(tf1.train.SessionRunHook):
    """Stops a worker once the chief has set the cluster's stop flag."""

    def __init__(self, stop):
        self._stop = stop
        self.stopped = False

    def before_run(self, run_context):
        return tf1.train.SessionRunArgs(self._stop)

    def after_run(self, run_context, run_values):
        if run_values.results:
            self.stopped = True
            run_context.request_stop()


class ChiefEndHook(tf1.train.SessionRunHook):
    """The chief's end of training, before its final checkpoint.

    Sets the stop flag; in synchronous mode puts a token in the sync queue
    for every worker, so that none stays blocked waiting for a step the
    chief will no longer aggregate; then waits (at most
    DEPARTURE_WAIT_SECS) until the other workers have left, so that no
    update is still under way when the checkpoint is written.
    """

    def __init__(self, state, task, release_tokens, wait_secs=DEPARTURE_WAIT_SECS):
        self._stop = state.stop.assign(True)
        self._others = [i for i in range(task.num_workers) if i != task.replica_index]
        self._left = tf.gather(state.finished[0], self._others) if self._others else None
        self._release = release_tokens
        self._name = task.name
        self._wait_secs = wait_secs

    def end(self, session):
        session.run(self._stop)
        if self._release is not None:
            session.run(self._release)
        if self._left is None:
            return
        deadline = time.monotonic() + self._wait_secs
        while True:
            left = session.run(self._left)
            if left.all():
                return
            if time.monotonic() > deadline:
                print(f'{self._name}: {int((~left).sum())} worker(s) did not leave '
                      f'within {self._wait_secs} s; writing the final checkpoint '
                      'anyway.', flush=True)
                return
            time.sleep(0.2)


class OneGradientPerStepHook(tf1.train.SessionRunHook):
    """Keeps a synchronous worker to one gradient per global step.

    SyncReplicasOptimizer counts gradients, not workers, and hands out as
    many tokens per update as there are workers: the tokens of a worker
    that is down let the others compute a second gradient for the same
    step, so the step goes on without it. With this hook a worker that
    got such a spare token (its local step did not move on) waits until
    the global step does, then computes its next gradient for the new
    step: with fewer live workers than --replicas_to_aggregate, training
    waits for them. After ``wait_notice_secs`` it says so and gives one
    more gradient for the same step (the last may have been dropped), so
    the wait can never become a deadlock.
    """

    def __init__(self, global_step, local_step, local_step_init_op, stop,
                 name, wait_notice_secs, reason, poll_secs=0.005):
        self._global_step = global_step
        self._local_step = local_step
        self._reset = local_step_init_op
        self._stop = stop
        self._name = name
        self._wait_notice_secs = wait_notice_secs
        self._reason = reason
        self._poll_secs = poll_secs
        self._session = None
        self._previous = None
        self.saw_stop = False

    def after_create_session(self, session, coord):
        self._session = session
        self._previous = None

    def before_step(self, interrupted):
        """Waits, if need be, until this worker may compute a gradient.

        Args:
          interrupted: Returns True once this process got a signal.

        Returns:
          False if the training is to end instead (a signal, or the
          chief's stop flag).
        """
        try:
            return self._wait_for_turn(interrupted)
        except (tf.errors.AbortedError, tf.errors.UnavailableError):
            # A task of the cluster was lost. The training step that comes
            # next meets the same error in the monitored session, which
            # re-creates the session (and calls after_create_session).
            return True

    def _wait_for_turn(self, interrupted):
        sess = self._session
        local = int(sess.run(self._local_step))
        if self._previous is not None and local == self._previous:
            # Either a spare token, or a step cut short before its token:
            # the next gradient would be for the step just given one. Wait
            # until the global step moves (on, or back: a chief that
            # restarted from a checkpoint sets it back).
            start = time.monotonic()
            while int(sess.run(self._global_step)) == local:
                if interrupted():
                    return False
                if sess.run(self._stop):
                    self.saw_stop = True
                    return False
                if time.monotonic() - start > self._wait_notice_secs:
                    # Say so, then give another gradient for this step: the
                    # last one may have been dropped (say, by a chief that
                    # restarted meanwhile), and waiting for it would stall
                    # the cluster. With a worker down, training thus creeps
                    # on, one announced wait per gradient.
                    print(f'{self._name}: waiting: no step finished in '
                          f'{self._wait_notice_secs:g} s; {self._reason}', flush=True)
                    break
                time.sleep(self._poll_secs)
            sess.run(self._reset)
            local = int(sess.run(self._local_step))
        self._previous = local
        return True


def local_step_variable():
    """SyncReplicasOptimizer's per-worker local step (a local variable)."""
    found = [v for v in tf1.get_collection(tf1.GraphKeys.LOCAL_VARIABLES)
             if v.op.name.endswith('sync_rep_local_step')]
    if len(found) != 1:
        raise RuntimeError('expected one sync_rep_local_step variable')
    return found[0]


# ----------------------------------------------------------------------------
# The update, synchronous or asynchronous.

def sync_update(replicas_to_aggregate, total_num_replicas, built):
    """An update function (see cifar10.apply_update) through
    SyncReplicasOptimizer: each global step applies the mean of exactly
    ``replicas_to_aggregate`` gradients computed at that step, then the
    moving averages; stale gradients are dropped.

    Args:
      replicas_to_aggregate: Gradients per update.
      total_num_replicas: Workers in the cluster.
      built: A dict that receives the optimizer under 'sync_optimizer'.
    """
    def update(opt, grads_and_vars, global_step):
        averages = cifar10.variable_averages(global_step)
        sync = tf1.train.SyncReplicasOptimizer(
            opt, replicas_to_aggregate=replicas_to_aggregate,
            total_num_replicas=total_num_replicas,
            variable_averages=averages,
            variables_to_average=tf1.trainable_variables())
        built['sync_optimizer'] = sync
        return sync.apply_gradients(grads_and_vars, global_step=global_step)
    return update


def async_update(max_steps):
    """An update function for asynchronous training that ends exactly at
    ``max_steps``.

    Workers race each other, so checking the global step before applying
    could let two of them apply the last step. Instead each step takes a
    ticket, the global step incremented atomically on its ps task, once its
    gradients are computed, and applies them (then the moving averages)
    only if the ticket is at most ``max_steps``; a step that drew a later
    ticket gives it back and changes nothing.
    """
    def update(opt, grads_and_vars, global_step):
        with tf.control_dependencies([g for g, _ in grads_and_vars if g is not None]):
            ticket = global_step.assign_add(1, use_locking=True)

        def apply():
            return tf.group(cifar10.apply_moving_averages(
                opt.apply_gradients(grads_and_vars), global_step))

        def give_back():
            return tf.group(global_step.assign_sub(1, use_locking=True))
        return tf.cond(ticket <= max_steps, apply, give_back, name='train')
    return update
