"""The distributed trainer: cluster specs, TF_CONFIG, and real clusters on
127.0.0.1 (free ports, every process bounded in time)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from cifar10 import cifar10_distributed_train as dist
from cifar10 import cifar10_eval
from cifar10.parallel import cluster
from cifar10.training import checkpoints

from conftest import (FAST_TRAIN_FLAGS, REPO, TIMEOUT_SECS, killed_after, known_env,
                      run_in_process, run_script)

tf1 = tf.compat.v1

TRAINER = os.path.join('cifar10', 'cifar10_distributed_train.py')


def _launcher():
    """scripts/run_local_cluster.py as a module."""
    sys.path.insert(0, os.path.join(REPO, 'scripts'))
    try:
        import run_local_cluster
    finally:
        sys.path.pop(0)
    return run_local_cluster


def _free_ports(count):
    return _launcher().free_ports(count)


def _cluster_flags(ps, workers):
    return [f'--ps_hosts={",".join(ps)}', f'--worker_hosts={",".join(workers)}']


def _ckpt_step(train_dir):
    return checkpoints.checkpoint_step(checkpoints.latest_checkpoint(str(train_dir)))


def _precision(data_dir, train_dir, tmp_path):
    evaluator = cifar10_eval.Evaluator('test', data_dir, 100, 300, str(tmp_path / 'eval'))
    try:
        return evaluator.evaluate(checkpoints.latest_checkpoint(str(train_dir))).precision
    finally:
        evaluator.close()


# --- flags, specs and TF_CONFIG (in process) ---------------------------------

def _parse(argv, tf_config=None):
    return dist.parse_args(argv, environ={'TF_CONFIG': tf_config} if tf_config else {})


def test_cluster_flags_make_the_task():
    args = _parse(['--job_name=worker', '--task_index=1', '--ps_hosts=ps0:2222',
                   '--worker_hosts=w0:2222,w1:2222'])
    task = args.task
    assert (task.name, task.address, task.device) == ('worker 1', 'w1:2222', '/job:worker/task:1')
    assert (task.num_workers, task.num_ps, task.is_chief, task.replica_index) == (2, 1, False, 1)
    assert args.sync_replicas is True and args.replicas_to_aggregate == 2
    assert args.startup_timeout_secs == 120
    # Each split would read every variable from the ps tasks again.
    assert args.batch_splits == 1
    # Every flag of cifar10_train.py is there too.
    assert (args.batch_size, args.max_steps, args.train_dir) == (128, 1000000, '/tmp/cifar10_train')
    assert _parse(['--job_name=worker', '--task_index=0', '--ps_hosts=a:1',
                   '--worker_hosts=b:2', '--nosync_replicas',
                   '--replicas_to_aggregate=3']).task.is_chief


def test_tf_config_with_and_without_a_chief():
    config = {'cluster': {'ps': ['p:1', 'q:1'], 'worker': ['w:1', 'x:1'], 'chief': ['c:1']},
              'task': {'type': 'chief', 'index': 0}}
    task = _parse([], json.dumps(config)).task
    assert task.is_chief and task.device == '/job:chief/task:0' and task.num_workers == 3
    assert task.workers == [('chief', 0), ('worker', 0), ('worker', 1)]
    config['task'] = {'type': 'worker', 'index': 0}
    task = _parse([], json.dumps(config)).task
    assert not task.is_chief and task.replica_index == 1 and task.num_ps == 2
    del config['cluster']['chief']
    assert _parse([], json.dumps(config)).task.is_chief  # worker 0 then
    config['task'] = {'type': 'ps', 'index': 1}
    assert _parse([], json.dumps(config)).task.is_ps
    # The flags win over TF_CONFIG.
    args = _parse(['--job_name=ps', '--task_index=0', '--ps_hosts=a:1', '--worker_hosts=b:2'],
                  json.dumps(config))
    assert args.task.address == 'a:1'


@pytest.mark.parametrize('argv, tf_config, message', [
    ([], None, 'no cluster given: pass --job_name, --task_index, --ps_hosts and '
               '--worker_hosts, or set TF_CONFIG'),
    (['--job_name=worker'], None, '--task_index, --ps_hosts, --worker_hosts missing'),
    (['--job_name=worker', '--task_index=2', '--ps_hosts=a:1', '--worker_hosts=b:2,c:3'], None,
     '--task_index: task index 2 is out of range for the worker job (2 task(s): 0-1)'),
    (['--job_name=worker', '--task_index=0', '--ps_hosts=a', '--worker_hosts=b:2'], None,
     "--ps_hosts: 'a' is not host:port"),
    (['--job_name=worker', '--task_index=0', '--ps_hosts=a:1,', '--worker_hosts=b:2'], None,
     "--ps_hosts: '' is not host:port"),
    (['--job_name=worker', '--task_index=0', '--ps_hosts=a:1', '--worker_hosts=b:0'], None,
     "--worker_hosts: 'b:0' has no valid port (1-65535)"),
    (['--job_name=worker', '--task_index=0', '--ps_hosts=a:1', '--worker_hosts=a:1'], None,
     'a:1 is both ps 0 and worker 0'),
    (['--job_name=chief', '--task_index=0', '--ps_hosts=a:1', '--worker_hosts=b:1'], None,
     "argument --job_name: invalid choice: 'chief'"),
    ([], '{"cluster": ', 'TF_CONFIG is not valid JSON'),
    ([], '[1, 2]', 'TF_CONFIG must be a JSON object with "cluster" and "task"'),
    ([], '{"cluster": {"ps": ["a:1"], "worker": ["b:1"]}}', 'TF_CONFIG has no "task"'),
    ([], '{"cluster": {"worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}',
     'TF_CONFIG: the cluster has no ps tasks'),
    ([], '{"cluster": {"ps": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 1}}',
     'TF_CONFIG: task index 1 is out of range for the worker job'),
    ([], '{"cluster": {"ps": ["a:1"], "worker": ["b:1"]}, "task": {"type": "chief", "index": 0}}',
     "TF_CONFIG: task type 'chief' is not a job of the cluster"),
    ([], '{"cluster": {"ps": ["a:1"], "worker": ["b:1"], "chief": ["c:1", "d:1"]}, '
         '"task": {"type": "ps", "index": 0}}', 'exactly one chief task, not 2'),
    ([], '{"cluster": {"ps": "a:1", "worker": ["b:1"]}, "task": {"type": "ps", "index": 0}}',
     'the ps job must be a list'),
])
def test_bad_cluster_specs_are_usage_errors(argv, tf_config, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _parse(argv, tf_config)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err.splitlines()[-1], err


def test_help_says_how_the_schedule_counts_epochs(capsys):
    with pytest.raises(SystemExit):
        _parse(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert ('the learning-rate schedule counts epochs in global steps of one worker\'s '
            'batch, as cifar10_multi_gpu_train.py counts them in one tower\'s') in text


def test_greedy_placement_balances_bytes():
    from cifar10.parallel import replicas
    with tf.Graph().as_default():
        strategy = replicas.GreedyBySize(2)
        sizes = [('big', [1000]), ('a', [10]), ('b', [10]), ('mid', [600]), ('c', [500])]
        tasks = {}
        for name, shape in sizes:
            var = tf1.get_variable(name, shape)
            tasks[name] = strategy(var.op)
    # big -> 0; a, b -> 1; mid -> 1 (20 < 4000 bytes); c -> 1 (2,480 < 4,000).
    assert tasks == {'big': 0, 'a': 1, 'b': 1, 'mid': 1, 'c': 1}
    assert strategy.loads == [4000, 4480]


def test_reachability_and_ports():
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen()
    port = listener.getsockname()[1]
    closed = _free_ports(1)[0]
    try:
        assert cluster.port_in_use(f'127.0.0.1:{port}')
        assert not cluster.port_in_use(f'127.0.0.1:{closed}')
        assert cluster.unreachable({'up': f'127.0.0.1:{port}',
                                    'down': f'127.0.0.1:{closed}'}, 0.5) == ['down']
    finally:
        listener.close()


def test_free_ports_are_below_the_ephemeral_range_and_bindable():
    """The kernel hands ephemeral ports to outgoing connections too; a port
    picked from that range could be taken before the task binds it."""
    top = _launcher()._ephemeral_ports_start()
    ports = _free_ports(6)
    assert len(set(ports)) == 6
    assert all(1024 <= p < top for p in ports), (ports, top)
    for port in ports:
        with socket.socket() as s:
            s.bind(('127.0.0.1', port))


# --- single tasks that cannot run ----------------------------------------------

@pytest.mark.slow
def test_startup_timeout_names_the_unreachable_tasks(data_dir, tmp_path):
    ps, w0, w1 = (f'127.0.0.1:{p}' for p in _free_ports(3))
    result = run_script('cifar10_distributed_train.py', '--job_name=worker', '--task_index=1',
                        *_cluster_flags([ps], [w0, w1]), '--startup_timeout_secs=1',
                        f'--data_dir={data_dir}', f'--train_dir={tmp_path / "t"}')
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'error: worker 1: could not reach ps 0 ({ps}), worker 0 ({w0}) within '
        '--startup_timeout_secs=1']
    assert not (tmp_path / 't').exists()  # only the chief touches --train_dir


@pytest.mark.slow
def test_port_in_use_and_bad_tf_config_are_one_line_errors(data_dir, tmp_path):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen()
    taken = f'127.0.0.1:{listener.getsockname()[1]}'
    ps = f'127.0.0.1:{_free_ports(1)[0]}'
    try:
        result = run_script('cifar10_distributed_train.py', '--job_name=ps', '--task_index=0',
                            *_cluster_flags([taken], [ps]), f'--data_dir={data_dir}')
    finally:
        listener.close()
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'error: ps 0: port {taken.split(":")[1]} of {taken} is already in use']
    result = run_in_process('cifar10_distributed_train.py', env={'TF_CONFIG': '{"cluster": 3}'})
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith('TF_CONFIG has no "task"')
    assert 'Traceback' not in result.stderr


# --- whole clusters ---------------------------------------------------------------

def _launch(*args):
    return subprocess.run([sys.executable, os.path.join('scripts', 'run_local_cluster.py'), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_SECS,
                          env=known_env())


def _lines(out, task):
    return [line[len(task) + 3:] for line in out.splitlines() if line.startswith(f'[{task}] ')]


@pytest.mark.slow
def test_synchronous_cluster_ends_exactly_and_learns(data_dir, tmp_path):
    train_dir = tmp_path / 'train'
    # Batch 32 per worker, not FAST_TRAIN_FLAGS' 16: at the recipe's rate
    # of 0.1 the synthetic images make 100 steps of 2 x 16 end anywhere
    # from 0.49 to 1.0 precision, and now and then at 0.11 (2 of 15 runs
    # with oneDNN off, as on CPUs without AVX-512; 0 of 14 with it on);
    # 2 x 32 ended at 1.0 in 10 of 10 runs, oneDNN on and off, in the
    # same time (the step's overhead dominates).
    result = _launch('--num_ps=1', '--num_workers=2', '--', '--max_steps=100',
                     f'--train_dir={train_dir}', f'--data_dir={data_dir}', '--log_frequency=20',
                     '--save_checkpoint_steps=1000', *FAST_TRAIN_FLAGS, '--batch_size=32')
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'Traceback' not in result.stdout and result.stderr == ''
    chief, other, ps = (_lines(result.stdout, t) for t in ('worker0', 'worker1', 'ps0'))
    assert chief[-1] == (f'worker 0: Stopped at step 100 (reached --max_steps=100); '
                         f'checkpoint {train_dir / "model.ckpt-100"}.')
    assert other[-1] == 'worker 1: Stopped at step 100 (reached --max_steps=100).'
    assert ps[-1] == 'ps 0: all 2 workers have finished; exiting.'
    assert 'worker 0: training with 2 worker(s) and 1 ps task(s), synchronous, 2 gradients ' \
           'per step; the chief.' in chief
    # Progress: the task's name, the global step, its own speed; the chief
    # adds the cluster's.
    progress = re.compile(r'^\S+ \S+: worker (\d): step (\d+), loss = \d+\.\d\d '
                          r'\(\d+\.\d examples/sec; \d\.\d{3} sec/batch(; cluster \d+\.\d '
                          r'examples/sec)?\)$')
    for lines, index in ((chief, '0'), (other, '1')):
        matches = [progress.match(line) for line in lines if ', loss = ' in line]
        assert matches and all(matches), lines
        assert all(m.group(1) == index for m in matches)
        assert all(bool(m.group(3)) == (index == '0') for m in matches)
    # The checkpoint holds exactly cifar10_train.py's variables, at step 100.
    reader = tf1.train.NewCheckpointReader(str(train_dir / 'model.ckpt-100'))
    names = set(reader.get_variable_to_shape_map())
    assert int(reader.get_tensor('global_step')) == 100
    assert not any(n.startswith('cluster_state') or 'sync' in n.lower() for n in names)
    assert {'conv1/weights/ExponentialMovingAverage', 'total_loss/avg', 'global_step'} <= names
    assert len(names) == 25
    assert _precision(data_dir, train_dir, tmp_path) > 0.3  # chance is 0.1
    # cifar10_train.py resumes the distributed checkpoint.
    resumed = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                             f'--train_dir={train_dir}', '--max_steps=103', *FAST_TRAIN_FLAGS)
    assert resumed.returncode == 0, resumed.stderr
    assert f'Resuming from checkpoint {train_dir / "model.ckpt-100"} at step 100.' in resumed.stdout
    assert _ckpt_step(train_dir) == 103


@pytest.mark.slow
def test_asynchronous_cluster_resumes_a_single_device_run_and_ends_exactly(data_dir, tmp_path):
    train_dir = tmp_path / 'train'
    single = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                            f'--train_dir={train_dir}', '--max_steps=10', *FAST_TRAIN_FLAGS)
    assert single.returncode == 0, single.stderr
    # The workers read through tf.data, each its own share of the files.
    result = _launch('--num_ps=2', '--num_workers=3', '--', '--max_steps=60',
                     '--sync_replicas=false', f'--train_dir={train_dir}',
                     f'--data_dir={data_dir}', '--log_frequency=30',
                     '--input_pipeline=tf_data', *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stdout[-3000:]
    for task in ('worker0', 'worker1', 'worker2'):
        assert any(line.startswith('Training input: tf.data (FixedLengthRecordDataset')
                   for line in _lines(result.stdout, task)), task
    chief = _lines(result.stdout, 'worker0')
    assert (f'worker 0: Resuming from checkpoint {train_dir / "model.ckpt-10"} at step 10.'
            in chief)
    assert 'asynchronous' in chief[0] or any('asynchronous' in line for line in chief)
    # Three workers race for the last steps; the tickets stop them at 60.
    assert chief[-1].startswith('worker 0: Stopped at step 60 (reached --max_steps=60)')
    for task in ('worker1', 'worker2'):
        assert _lines(result.stdout, task)[-1].startswith(f'worker {task[-1]}: Stopped at step 60')
    for task in ('ps0', 'ps1'):
        assert _lines(result.stdout, task)[-1].endswith('all 3 workers have finished; exiting.')
    assert _ckpt_step(train_dir) == 60


class _Task:
    """One task process of a hand-started cluster, its output in a file."""

    def __init__(self, tmp_path, job, index, flags):
        self.name, self.job, self.index, self.flags = f'{job}{index}', job, index, flags
        self.log = tmp_path / f'{self.name}.log'
        self.proc = None

    def start(self):
        with open(self.log, 'a') as log:
            log.write('--- start\n')
            self.proc = subprocess.Popen(
                [sys.executable, '-u', TRAINER, f'--job_name={self.job}',
                 f'--task_index={self.index}', *self.flags],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=known_env())

    def text(self):
        return self.log.read_text()

    def step(self):
        steps = re.findall(r': step (\d+), loss', self.text().split('--- start')[-1])
        return int(steps[-1]) if steps else -1

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=TIMEOUT_SECS)


def _wait(condition, what, running=()):
    """Waits for ``condition``; fails at once if a task of ``running`` ends
    meanwhile (the others would wait for it until the timeout)."""
    deadline = time.monotonic() + TIMEOUT_SECS
    while not condition():
        for task in running:
            assert task.proc.poll() is None, (
                f'{task.name} ended while waiting for {what}:\n{task.text()[-3000:]}')
        assert time.monotonic() < deadline, f'timed out waiting for {what}'
        time.sleep(0.1)


@pytest.mark.slow
def test_cluster_survives_lost_tasks(data_dir, tmp_path):
    """A worker, then the chief, then the ps task are SIGKILLed and started
    again: training goes on, and every process ends by itself at exactly
    --max_steps."""
    ps, w0, w1 = (f'127.0.0.1:{p}' for p in _free_ports(3))
    train_dir = tmp_path / 'train'
    flags = [*_cluster_flags([ps], [w0, w1]), f'--data_dir={data_dir}',
             f'--train_dir={train_dir}', '--max_steps=70', '--save_checkpoint_steps=10',
             '--log_frequency=5', '--wait_notice_secs=2', *FAST_TRAIN_FLAGS]
    tasks = {t.name: t for t in (_Task(tmp_path, 'ps', 0, flags), _Task(tmp_path, 'worker', 0, flags),
                                 _Task(tmp_path, 'worker', 1, flags))}
    for task in tasks.values():
        task.start()
    chief, worker, ps_task = tasks['worker0'], tasks['worker1'], tasks['ps0']
    every = tuple(tasks.values())
    try:
        # Past the first checkpoint (step 10), so that the chief has one to
        # resume from.
        _wait(lambda: worker.step() >= 10, 'worker 1 to train', every)
        said = len(chief.text())
        worker.kill()
        # Synchronous steps need a gradient from each: the chief waits, and
        # says so (a slow step during the start may have said so before).
        _wait(lambda: 'worker 0: waiting: no step finished in 2 s' in chief.text()[said:],
              'the chief to say it waits', (chief, ps_task))
        worker.start()
        _wait(lambda: worker.step() >= 0, 'worker 1 to rejoin', every)
        _wait(lambda: _has_checkpoint(train_dir, chief.step() - 15), 'a newer checkpoint',
              every)
        chief.kill()
        chief.start()
        _wait(lambda: chief.step() >= 0, 'the chief to resume', every)
        _wait(lambda: _has_checkpoint(train_dir, chief.step() - 15), 'a newer checkpoint',
              every)
        # Synchronous steps stall while a task is down, so the cluster is
        # still far from --max_steps here (at about step 20 in practice: the
        # 10 above and a progress line each of the restarted tasks). Were it
        # not, the new ps task would wait for workers that had finished.
        assert chief.step() < 50, chief.text()[-3000:]
        ps_task.kill()
        ps_task.start()
        for task in tasks.values():
            task.proc.wait(timeout=TIMEOUT_SECS)
    finally:
        for task in tasks.values():
            if task.proc.poll() is None:
                task.proc.kill()
    for task in tasks.values():
        assert task.proc.returncode == 0, task.text()[-3000:]
        assert 'Traceback' not in task.text()
    assert re.search(r'worker 0: Resuming from checkpoint .*model\.ckpt-\d+ at step \d+\.',
                     chief.text().split('--- start')[2])
    assert 'worker 0: lost the session (a task of the cluster stopped?); starting again from ' \
           in chief.text()
    assert 'worker 1: lost the session (a task of the cluster stopped?); reconnecting.' \
           in worker.text()
    assert chief.text().rstrip().endswith(
        f'worker 0: Stopped at step 70 (reached --max_steps=70); checkpoint '
        f'{train_dir / "model.ckpt-70"}.')
    assert ps_task.text().rstrip().endswith('ps 0: all 2 workers have finished; exiting.')
    assert _ckpt_step(train_dir) == 70


def _has_checkpoint(train_dir, at_least):
    path = checkpoints.latest_checkpoint(str(train_dir))
    return bool(path) and int(path.rsplit('-', 1)[1]) >= max(at_least, 1)


def _children(pid):
    """The pids of the processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    # The command may hold spaces; the fields after it do not.
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _ended(pid):
    """Whether a process has ended (gone, or a zombie awaiting its reaper)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='tasks end with their launcher through Linux\'s PR_SET_PDEATHSIG')
@pytest.mark.slow
def test_tasks_end_when_the_launcher_is_killed(data_dir, tmp_path):
    """SIGKILL gives the launcher no chance to wind the cluster down: the
    kernel ends its tasks (cli.end_with_parent), so none keeps its port.
    (A ps task and one worker: every task asks the kernel alike, and a
    second worker would only cost another start.)"""
    proc = subprocess.Popen(
        [sys.executable, '-u', os.path.join('scripts', 'run_local_cluster.py'),
         '--num_workers=1', '--',
         '--max_steps=1000000', f'--train_dir={tmp_path / "train"}',
         f'--data_dir={data_dir}', '--log_frequency=5', *FAST_TRAIN_FLAGS],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=known_env(PYTHONUNBUFFERED='1'))
    with killed_after(proc):
        for line in proc.stdout:
            if line.startswith('[worker0]') and ', loss = ' in line:
                break
        tasks = _children(proc.pid)
        assert len(tasks) == 2  # ps0, worker0
        proc.kill()
        proc.wait(timeout=TIMEOUT_SECS)
        deadline = time.monotonic() + TIMEOUT_SECS
        while not all(_ended(pid) for pid in tasks) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in tasks if not _ended(pid)] == []


@pytest.mark.slow
def test_a_script_whose_parent_is_gone_ends_at_once(tmp_path):
    """A script told to end with a parent that has already ended (it died
    before the script could ask the kernel) ends at its start; one whose
    variable names another process goes on."""
    # pid_max itself is never a process's pid: a parent surely gone.
    with open('/proc/sys/kernel/pid_max') as f:
        gone_pid = int(f.read())
    script = os.path.join('cifar10', 'cifar10_train.py')
    gone = subprocess.run([sys.executable, script, '--help'], cwd=REPO,
                          capture_output=True, text=True, timeout=TIMEOUT_SECS,
                          env=known_env(CIFAR10_PARENT_PID=str(gone_pid)))
    assert gone.returncode == 128 + signal.SIGKILL and gone.stdout == ''
    other = subprocess.run([sys.executable, script, '--help'], cwd=REPO,
                           capture_output=True, text=True, timeout=TIMEOUT_SECS,
                           env=known_env(CIFAR10_PARENT_PID='1'))
    assert other.returncode == 0 and '--max_steps' in other.stdout


@pytest.mark.slow
def test_sigterm_to_the_chief_winds_the_cluster_down(data_dir, tmp_path):
    train_dir = tmp_path / 'train'
    proc = subprocess.Popen(
        [sys.executable, '-u', os.path.join('scripts', 'run_local_cluster.py'), '--',
         '--max_steps=1000000', f'--train_dir={train_dir}', f'--data_dir={data_dir}',
         '--log_frequency=5', *FAST_TRAIN_FLAGS],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=known_env(PYTHONUNBUFFERED='1'))
    lines = []
    with killed_after(proc):
        for line in proc.stdout:
            lines.append(line)
            if line.startswith('[worker0]') and ', loss = ' in line:
                break
        # The launcher passes SIGTERM on to every task.
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=TIMEOUT_SECS)
    out = ''.join(lines) + out
    assert proc.returncode == 0, out[-3000:]
    stop = re.search(r'\[worker0\] worker 0: Stopped at step (\d+) \(SIGTERM received\); '
                     r'checkpoint (\S+)\.', out)
    assert stop, out[-3000:]
    assert stop.group(2).endswith(f'model.ckpt-{stop.group(1)}')
    assert _ckpt_step(train_dir) == int(stop.group(1))
    assert re.search(r'\[worker1\] worker 1: Stopped at step \d+ \((SIGTERM received|the chief '
                     r'ended the training)\)', out)
    assert '[ps0] ps 0: ' in out and 'Traceback' not in out
