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
"""Who is who in a training cluster: cluster specs, TF_CONFIG, reachability.

A cluster has ``ps`` tasks, which hold the variables, and worker tasks,
which train. The workers are the ``worker`` job's tasks and, when the
cluster has one, the single ``chief`` task, which is a worker too (as in
TensorFlow's TF_CONFIG). The chief is the ``chief`` task if there is one,
else worker 0; it alone initializes or restores the variables, and writes
checkpoints and summaries.

Nothing here imports TensorFlow: parsing and checking happen before any
server starts, so that a bad spec is a one-line usage error.
"""

import dataclasses
import json
import socket
import time


class ClusterError(ValueError):
    """A malformed cluster description (a usage error)."""


def parse_hosts(text, flag):
    """Parses a comma-separated list of host:port addresses.

    Args:
      text: Such as 'ps0:2222,ps1:2222'.
      flag: The flag it came from, for messages.

    Returns:
      A list of 'host:port' strings.

    Raises:
      ClusterError: for an empty list, an empty entry, a missing or bad port,
        or an address given twice.
    """
    hosts = [h.strip() for h in text.split(',')] if text.strip() else []
    if not hosts:
        raise ClusterError(f'{flag} is empty; expected host:port[,host:port...]')
    for host in hosts:
        _check_address(host, flag)
    return hosts


def _check_address(address, where):
    if not isinstance(address, str):
        raise ClusterError(f'{where}: expected a "host:port" string, got {address!r}')
    host, sep, port = address.rpartition(':')
    if not sep or not host or not port:
        raise ClusterError(f'{where}: {address!r} is not host:port')
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f'{where}: {address!r} has no valid port (1-65535)')


@dataclasses.dataclass(frozen=True)
class Task:
    """One task of a cluster, and the cluster it belongs to.

    Attributes:
      cluster: {'ps': [...], 'worker': [...], maybe 'chief': [one]}.
      job: 'ps', 'worker' or 'chief'.
      index: The task's index in its job.
    """
    cluster: dict
    job: str
    index: int

    @property
    def name(self):
        """'ps 0', 'worker 1', 'chief 0': how the task calls itself."""
        return f'{self.job} {self.index}'

    @property
    def address(self):
        return self.cluster[self.job][self.index]

    @property
    def device(self):
        return f'/job:{self.job}/task:{self.index}'

    @property
    def is_ps(self):
        return self.job == 'ps'

    @property
    def workers(self):
        """The training tasks, chief first: [(job, index), ...]."""
        tasks = [('chief', i) for i in range(len(self.cluster.get('chief', [])))]
        return tasks + [('worker', i) for i in range(len(self.cluster['worker']))]

    @property
    def num_workers(self):
        return len(self.workers)

    @property
    def num_ps(self):
        return len(self.cluster['ps'])

    @property
    def chief(self):
        """The chief's (job, index)."""
        return self.workers[0]

    @property
    def is_chief(self):
        return (self.job, self.index) == self.chief

    @property
    def replica_index(self):
        """This worker's place among the workers (the chief is 0)."""
        return self.workers.index((self.job, self.index))

    def address_of(self, job, index):
        return self.cluster[job][index]


def _task(cluster, job, index, where, task_where=None):
    """Checks a cluster dict and a task in it; returns the Task.

    Args:
      cluster: {job: [addresses]}.
      job, index: The task.
      where: What described the cluster, for messages.
      task_where: What named the task, for messages (default: where).
    """
    task_where = task_where or where
    if not isinstance(cluster, dict):
        raise ClusterError(f'{where}: "cluster" must be an object of jobs')
    unknown = sorted(set(cluster) - {'ps', 'worker', 'chief'})
    if unknown:
        raise ClusterError(f'{where}: unknown job {unknown[0]!r} in the cluster '
                           '(expected ps, worker and optionally chief)')
    for job_name in ('ps', 'worker'):
        if not cluster.get(job_name):
            raise ClusterError(f'{where}: the cluster has no {job_name} tasks')
    if 'chief' in cluster and len(cluster['chief']) != 1:
        raise ClusterError(f'{where}: the cluster must have exactly one chief '
                           f'task, not {len(cluster["chief"])}')
    seen = {}
    for job_name, addresses in cluster.items():
        if not isinstance(addresses, list):
            raise ClusterError(f'{where}: the {job_name} job must be a list of '
                               '"host:port" addresses')
        for i, address in enumerate(addresses):
            _check_address(address, f'{where}: {job_name} {i}')
            if address in seen:
                raise ClusterError(f'{where}: {address} is both {seen[address]} '
                                   f'and {job_name} {i}')
            seen[address] = f'{job_name} {i}'
    if job not in cluster:
        raise ClusterError(f'{task_where}: task type {job!r} is not a job of the '
                           'cluster (ps, worker or chief)')
    if not isinstance(index, int) or isinstance(index, bool) or not (
            0 <= index < len(cluster[job])):
        raise ClusterError(f'{task_where}: task index {index!r} is out of range for '
                           f'the {job} job ({len(cluster[job])} task(s): '
                           f'0-{len(cluster[job]) - 1})')
    return Task({k: list(v) for k, v in cluster.items()}, job, index)


def from_flags(job_name, task_index, ps_hosts, worker_hosts):
    """The task named by --job_name, --task_index, --ps_hosts, --worker_hosts.

    Raises:
      ClusterError: if the lists or the task are malformed.
    """
    cluster = {'ps': parse_hosts(ps_hosts, '--ps_hosts'),
               'worker': parse_hosts(worker_hosts, '--worker_hosts')}
    if job_name not in ('ps', 'worker'):
        raise ClusterError(f'--job_name must be ps or worker, not {job_name!r}')
    return _task(cluster, job_name, task_index, '--ps_hosts/--worker_hosts',
                 '--task_index')


def from_tf_config(text):
    """The task a TF_CONFIG environment variable describes.

    TF_CONFIG is JSON: {"cluster": {"ps": [...], "worker": [...],
    "chief": [...]}, "task": {"type": "worker", "index": 1}}, as cluster
    managers (Kubernetes' TFJob, Vertex AI, ...) set it.

    Raises:
      ClusterError: if it is not such JSON.
    """
    try:
        config = json.loads(text)
    except ValueError as e:
        raise ClusterError(f'TF_CONFIG is not valid JSON ({e})') from None
    if not isinstance(config, dict):
        raise ClusterError('TF_CONFIG must be a JSON object with "cluster" and "task"')
    for key in ('cluster', 'task'):
        if key not in config:
            raise ClusterError(f'TF_CONFIG has no "{key}"')
    task = config['task']
    if not isinstance(task, dict) or 'type' not in task:
        raise ClusterError('TF_CONFIG "task" must be an object with "type" and "index"')
    return _task(config['cluster'], task['type'], task.get('index', 0), 'TF_CONFIG')


def unreachable(addresses, timeout_secs, poll_secs=0.5):
    """Waits until every address accepts TCP connections, or the time is up.

    A task's gRPC server listens on its address once it has started, so a
    refused or timed-out connection means the task is not (yet) there.

    Args:
      addresses: {name: 'host:port'} of the tasks to wait for.
      timeout_secs: How long to keep trying.
      poll_secs: Pause between rounds.

    Returns:
      The names that could not be reached, in the order given ([] if all
      were).
    """
    waiting = dict(addresses)
    deadline = time.monotonic() + timeout_secs
    while True:
        for name, address in list(waiting.items()):
            host, _, port = address.rpartition(':')
            try:
                with socket.create_connection((host.strip('[]'), int(port)),
                                              timeout=2.0):
                    del waiting[name]
            except OSError:
                pass
        if not waiting or time.monotonic() >= deadline:
            return list(waiting)
        time.sleep(poll_secs)


def port_in_use(address):
    """Returns whether something on this machine listens on the address's port.

    SO_REUSEADDR, as gRPC's servers set it, lets the test bind a port whose
    last connections are still in TIME_WAIT (a task that just ended): only
    a listening socket makes it fail.
    """
    host, _, port = address.rpartition(':')
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(('', int(port)))
        except OSError:
            return True
    return False
