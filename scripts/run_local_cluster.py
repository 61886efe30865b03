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
"""Runs a whole training cluster of cifar10_distributed_train.py on this machine.

Starts --num_ps ps tasks and --num_workers worker tasks on free 127.0.0.1
ports, passes the arguments after "--" to every task, and prefixes each
task's output lines with its name:

  python scripts/run_local_cluster.py --num_ps=1 --num_workers=2 -- \\
      --max_steps=2000 --train_dir=/tmp/cifar10_dist

Ctrl-C or SIGTERM goes to the chief, which writes a checkpoint and ends
the training for the whole cluster; tasks still running a minute later get
SIGTERM, then SIGKILL. If a task fails, the others are stopped the same
way. The exit status is the first failing task's (0 when all
succeed).
"""

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINER = os.path.join(REPO, 'cifar10', 'cifar10_distributed_train.py')
# How long the tasks get to wind down after a signal or a failure.
GRACE_SECS = 60


def _ephemeral_ports_start():
    """The first port of the range the kernel hands out on its own."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; other systems start higher.


def free_ports(count):
    """Returns ``count`` distinct TCP ports free on 127.0.0.1 right now.

    They are drawn at random from below the kernel's ephemeral range, not
    asked of the kernel with port 0. A port of that range can be handed to
    any outgoing connection (the tasks' own gRPC channels among them) in
    the moment between this check and the task's bind, which then fails
    with "port in use": that happened with two test suites running side by
    side. Ports below the range go only to those who ask for them by
    number.
    """
    top = _ephemeral_ports_start()
    below = range(max(1024, top - 20000), top)
    candidates = random.SystemRandom().sample(below, min(len(below), 200 + 4 * count))
    ports = []
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(('127.0.0.1', port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise OSError(f'no {count} free ports found on 127.0.0.1 below {top}')


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected an integer, got {text!r}') from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f'expected an integer > 0, got {value}')
    return value


def parse_args(argv):
    """Splits the launcher's own flags from the tasks' (after '--')."""
    if '--' in argv:
        split = argv.index('--')
        own, passed = argv[:split], argv[split + 1:]
    else:
        own, passed = argv, []
    parser = argparse.ArgumentParser(
        description='Run a cluster of cifar10_distributed_train.py tasks on '
                    '127.0.0.1. Arguments after "--" go to every task.',
        allow_abbrev=False)
    parser.add_argument('--num_ps', type=_positive_int, default=1,
                        help='ps tasks (default: 1)')
    parser.add_argument('--num_workers', type=_positive_int, default=2,
                        help='worker tasks; worker 0 is the chief (default: 2)')
    args = parser.parse_args(own)
    cluster_flags = ('--job_name', '--task_index', '--ps_hosts', '--worker_hosts')
    for arg in passed:
        if arg.split('=')[0] in cluster_flags:
            parser.error(f'{arg.split("=")[0]} is set by the launcher; do not pass it')
    args.passed = passed
    return args


def _cli():
    """The package's cli module (running scripts, their lifetimes)."""
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from cifar10.runtime import cli
    return cli


class Cluster:
    """The task processes, their output and their ending."""

    def __init__(self, num_ps, num_workers, passed):
        ports = free_ports(num_ps + num_workers)
        ps_hosts = ','.join(f'127.0.0.1:{p}' for p in ports[:num_ps])
        worker_hosts = ','.join(f'127.0.0.1:{p}' for p in ports[num_ps:])
        self.tasks = [('ps', i) for i in range(num_ps)] + [
            ('worker', i) for i in range(num_workers)]
        self.procs = {}
        self.failed = None  # (name, status) of the first task that failed
        self._lock = threading.Lock()
        self._threads = []
        print(f'cluster: ps {ps_hosts}; workers {worker_hosts}', flush=True)
        # Each task ends when this launcher does, however it ends.
        env = dict(os.environ, PYTHONUNBUFFERED='1',
                   **{_cli().PARENT_PID_VARIABLE: str(os.getpid())})
        for job, index in self.tasks:
            name = f'{job}{index}'
            proc = subprocess.Popen(
                [sys.executable, TRAINER, f'--job_name={job}', f'--task_index={index}',
                 f'--ps_hosts={ps_hosts}', f'--worker_hosts={worker_hosts}', *passed],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env=env, start_new_session=True)
            self.procs[name] = proc
            thread = threading.Thread(target=self._relay, args=(name, proc), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _relay(self, name, proc):
        for line in proc.stdout:
            with self._lock:
                sys.stdout.write(f'[{name}] {line}')
                sys.stdout.flush()
        status = proc.wait()
        with self._lock:
            if status != 0 and self.failed is None:
                self.failed = (name, status)

    def signal_all(self, sig):
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    proc.send_signal(sig)
                except ProcessLookupError:
                    pass

    def running(self):
        return [name for name, proc in self.procs.items() if proc.poll() is None]

    def _wait(self, secs):
        deadline = time.monotonic() + secs
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.2)

    def wind_down(self):
        """Ends the cluster: SIGTERM to the chief first, which writes its
        checkpoint and tells the other tasks to end; after GRACE_SECS
        SIGTERM to every task still running, then SIGKILL."""
        chief = self.procs['worker0']
        if chief.poll() is None:
            chief.send_signal(signal.SIGTERM)
            self._wait(GRACE_SECS)
        if self.running():
            self.signal_all(signal.SIGTERM)
            self._wait(GRACE_SECS)
        left = self.running()
        if left:
            print(f'cluster: {", ".join(left)} still running; killing', flush=True)
            self.signal_all(signal.SIGKILL)

    def join(self):
        """Waits for the output of every task to be relayed."""
        for thread in self._threads:
            thread.join()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    received = []

    def on_signal(signum, frame):
        del frame
        received.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    cluster = Cluster(args.num_ps, args.num_workers, args.passed)
    while cluster.running() and not received and cluster.failed is None:
        time.sleep(0.2)
    if received:
        name = signal.Signals(received[0]).name
        print(f'cluster: {name} received; stopping the cluster', flush=True)
        cluster.wind_down()
    elif cluster.failed is not None:
        name, status = cluster.failed
        print(f'cluster: {name} failed (exit status {status}); stopping the others',
              flush=True)
        cluster.wind_down()
    cluster.join()
    if cluster.failed is not None:
        status = cluster.failed[1]
        # A task killed by a signal reports it as the shell does.
        return status if status > 0 else 128 - status
    return 0


if __name__ == '__main__':
    _cli().end_with_parent()
    sys.exit(main())
