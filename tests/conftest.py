"""Shared fixtures and helpers: one known environment for the tests and the
processes they start, ways to run the scripts, and synthetic CIFAR-10 files
in the official record format.

No test touches the network or the real data set. The synthetic images are
learnable: each class has a colour of its own, and every image is that
colour blended with noise, so a few training steps measurably lower
the cross entropy.
"""

import contextlib
import importlib
import io
import os
import subprocess
import sys
import threading
from unittest import mock

# --- one known environment ----------------------------------------------------
#
# Users keep TensorFlow settings in their shell profile: TF_CPP_MIN_LOG_LEVEL
# to quiet its start-up lines, TF_ENABLE_ONEDNN_OPTS, TF_CONFIG from a
# cluster job, OMP_NUM_THREADS, CUDA_VISIBLE_DEVICES. Any of them changes
# what TensorFlow prints or does, and so what a test sees. The suite runs
# in one known environment instead: these variables are dropped from this
# process before TensorFlow is imported (conftest is imported before any
# test module), and every child process a test starts gets its environment
# from known_env(), which drops them again (a test or a script's main()
# may have set one in this process meanwhile). A test that needs one sets
# it itself, through known_env's arguments.

# Prefixes of the variables that TensorFlow, its math libraries (oneDNN,
# OpenMP, MKL), CUDA, XLA and gRPC read.
FOREIGN_PREFIXES = ('TF_', 'TENSORFLOW_', 'ONEDNN_', 'DNNL_', 'MKL_', 'KMP_', 'OMP_',
                    'CUDA_', 'XLA_', 'GRPC_', 'ABSL_')
# Python's own switches that put warnings on stderr, which some tests
# read line by line.
FOREIGN_NAMES = ('PYTHONWARNINGS', 'PYTHONDEVMODE', 'PYTHONTRACEMALLOC',
                 'PYTHONMALLOC', 'PYTHONINSPECT')


def _is_foreign(name):
    return name.startswith(FOREIGN_PREFIXES) or name in FOREIGN_NAMES


def known_env(**settings):
    """The environment for a child process a test starts.

    This process's environment without the user's TensorFlow, math-library,
    CUDA and Python-warning settings, plus ``settings``. It also names this
    process as the parent the scripts end with (cli.end_with_parent), so
    that a suite killed outright (SIGKILL too) leaves no trainer or
    cluster task running.

    Args:
      **settings: Variables the test needs (values are strings).

    Returns:
      A dict for subprocess's ``env``.
    """
    env = {k: v for k, v in os.environ.items() if not _is_foreign(k)}
    env[PARENT_PID_VARIABLE] = str(os.getpid())
    env.update(settings)
    return env


for _name in [k for k in os.environ if _is_foreign(k)]:
    del os.environ[_name]
# TensorFlow picks its CPU allocator once per process, at the first
# session; this process takes the one the scripts run with by default
# (--bfc_allocator), so that a script's main() run here (run_in_process)
# runs as its own process would. (The allocator does not change what is
# computed: scripts/compare_allocators.py finds every tensor of a training
# step bit-identical under both; see docs/tests.md.)
os.environ['TF_CPU_ALLOCATOR_USE_BFC'] = 'true'

# numpy (its BLAS reads OMP_NUM_THREADS) and TensorFlow load only now.
import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

# The CPU kernels too are chosen as the scripts choose them by default
# (--onednn, before TensorFlow loads), so that a script's main() run here
# computes with the kernels its own process would.
from cifar10.runtime import kernels  # noqa: E402
kernels.choose_before_tensorflow(argv=[])

from cifar10.runtime.cli import PARENT_PID_VARIABLE  # noqa: E402

# --- the fast loop ---------------------------------------------------------
#
# The expensive end-to-end runs (a script trained or evaluated in its own
# process, a cluster, the benchmark, a signal) carry @pytest.mark.slow:
# `python -m pytest -q -m "not slow" tests` leaves them out and runs the
# rest, which still builds the model, the input pipeline, every flag, the
# messages and the docs' commands, in about a minute (docs/tests.md).
# README's command and CI run everything.

# A test left unmarked that takes longer than this is named at the end of a
# run (a note, never a failure: times depend on the machine).
SLOW_NOTE_SECS = 3.0


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: an expensive end-to-end run, left out of the fast '
                   'loop (-m "not slow"); CI runs it')


_unmarked_slow = []


def pytest_runtest_logreport(report):
    if report.when == 'call' and report.passed and report.duration > SLOW_NOTE_SECS \
            and 'slow' not in report.keywords:
        _unmarked_slow.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter):
    if _unmarked_slow:
        terminalreporter.write_line(
            f'note: tests not marked slow that took over {SLOW_NOTE_SECS:g} s '
            '(mark them @pytest.mark.slow if they are end-to-end runs):')
        for duration, nodeid in sorted(_unmarked_slow, reverse=True):
            terminalreporter.write_line(f'  {duration:.1f} s  {nodeid}')


RECORD_BYTES = 3073
OFFICIAL_RECORDS = 10000


def class_colours():
    """One colour per class, as a [10, 3] uint8 array.

    Crops and flips keep an image's colour; per-image standardization keeps
    only the direction of (r, g, b) - mean(r, g, b), its hue, and how far
    it stands out from the noise, its saturation. The hues go evenly round
    the colour circle, 36 degrees apart, so every class is as easy to tell
    from its neighbours (a random draw once gave two classes 0.1 apart after
    standardization, and training often stalled between them). The
    saturations alternate, strong and weak: on weakly coloured images the
    random contrast visibly changes the channel spread, which the pipeline
    statistics tests rely on.
    """
    angles = 2 * np.pi * np.arange(10) / 10
    grey = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    u = np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
    v = np.cross(grey, u)
    hues = np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v
    saturation = np.where(np.arange(10) % 2 == 0, 150.0, 40.0)[:, None]
    return np.round(128 + saturation * hues).astype(np.uint8)


def make_records(labels, seed):
    """Returns (images [n,32,32,3] uint8, record bytes) for the labels."""
    rng = np.random.RandomState(seed)
    templates = np.broadcast_to(class_colours()[:, None, None, :],
                                (10, 32, 32, 3))
    noise = rng.randint(0, 256, size=(len(labels), 32, 32, 3)).astype(np.uint8)
    images = (templates[labels] // 4) * 3 + noise // 4
    records = np.empty((len(labels), RECORD_BYTES), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = images.transpose(0, 3, 1, 2).reshape(len(labels), -1)
    return images, records.tobytes()


def eval_labels():
    """Labels of the synthetic test file.

    The first 300 records hold each class 30 times. Records 300-383 are all
    class 0, so an evaluation that counts whole batches of 128 past 300
    examples gets a different precision than one that stops at exactly 300.
    """
    labels = np.arange(OFFICIAL_RECORDS) % 10
    labels[300:384] = 0
    return labels.astype(np.uint8)


def write_data_dir(root):
    """Writes the six official files (10,000 synthetic records each)."""
    bin_dir = os.path.join(root, 'cifar-10-batches-bin')
    os.makedirs(bin_dir, exist_ok=True)
    contents = {}
    for i in range(1, 6):
        labels = np.random.RandomState(i).randint(0, 10, OFFICIAL_RECORDS).astype(np.uint8)
        contents[f'data_batch_{i}.bin'] = (labels, *make_records(labels, seed=i))
    labels = eval_labels()
    contents['test_batch.bin'] = (labels, *make_records(labels, seed=99))
    for name, (_, _, data) in contents.items():
        with open(os.path.join(bin_dir, name), 'wb') as f:
            f.write(data)
    return contents


@pytest.fixture(scope='session')
def synthetic_data(tmp_path_factory):
    """A data directory with synthetic official-layout files.

    Returns:
      (data_dir, contents) where contents maps file name to
      (labels, images, raw bytes).
    """
    root = str(tmp_path_factory.mktemp('cifar10_data'))
    return root, write_data_dir(root)


@pytest.fixture
def data_dir(synthetic_data):
    return synthetic_data[0]


# The bound on any one child process or wait in the tests. Only a hang
# reaches it: nothing here may depend on how fast the machine is, and the
# suite under load ran 2.5x slower than on an idle machine.
TIMEOUT_SECS = 600


@contextlib.contextmanager
def killed_after(proc, secs=TIMEOUT_SECS):
    """Kills ``proc`` if it still runs after ``secs``, and at the end.

    Reading a child's output line by line has no timeout of its own; with
    this around it, a hung child ends the read (and fails the test)
    instead of hanging the suite.
    """
    timer = threading.Timer(secs, proc.kill)
    timer.daemon = True
    timer.start()
    try:
        yield proc
    finally:
        timer.cancel()
        proc.kill()
        proc.wait()


def run_script(name, *args, timeout=TIMEOUT_SECS, env=None):
    """Runs one of the scripts as a user would, from the repository root,
    in known_env() plus ``env``."""
    return subprocess.run(
        [sys.executable, os.path.join('cifar10', name), *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env=known_env(**(env or {})))


@contextlib.contextmanager
def as_script(*argv):
    """Runs the body as a script's process would see it: ``sys.argv`` is
    ``argv``, and the scripts' last act, freezing every object for a quick
    exit (cli._skip_final_garbage_collection), is left out: this process
    goes on, and its garbage must stay collectable."""
    from cifar10.runtime import cli
    with mock.patch.object(sys, 'argv', list(argv)), \
            mock.patch.object(cli, '_skip_final_garbage_collection', lambda: None):
        yield


def run_in_process(name, *args, env=None):
    """Runs one of the scripts' main() in this process, as run_script runs
    it in a new one, and returns the same kind of result.

    A new process spends about 2 s of CPU importing TensorFlow, most of what
    a short test run costs; this one has it imported already. What only a
    process shows stays with run_script: what TensorFlow's C++ code writes
    to file descriptor 2, signals, the interpreter's exit, a lock that
    another process holds, a fresh allocator.

    Args:
      name: The script's file name in cifar10/, e.g. 'cifar10_train.py'.
      *args: Its arguments.
      env: Variables set for the run (os.environ is restored afterwards,
        with anything the script set in it).

    Returns:
      A subprocess.CompletedProcess: returncode as the process would exit
      with (sys.exit('error: ...') is 1 with the message on stderr), and
      what the script printed on stdout and stderr.
    """
    module = importlib.import_module('cifar10.' + name[:-len('.py')])
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_env = dict(os.environ)
    os.environ.update(env or {})
    code = 0
    try:
        with as_script(os.path.join(REPO, 'cifar10', name)), \
                contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            module.main(list(args))
    except SystemExit as e:
        code = e.code
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    if isinstance(code, str):
        print(code, file=stderr)
        code = 1
    return subprocess.CompletedProcess([name, *args], code or 0, stdout.getvalue(),
                                       stderr.getvalue())


# Flags that make the trainer start fast on small machines.
FAST_TRAIN_FLAGS = ('--batch_size=16', '--min_fraction_of_examples_in_queue=0.005',
                    '--num_preprocess_threads=2')


def write_checkpoint(checkpoint_dir, step, averaged, raw=None,
                     model='tutorial', num_classes=10):
    """Writes a checkpoint with given values for the model's variables.

    Args:
      checkpoint_dir: Where to write model.ckpt-<step>.
      step: The global step to store.
      averaged: Function (name, shape) -> value of the variable's moving
        average (what evaluation and prediction use).
      raw: Function (name, shape) -> value of the raw variable; zeros if
        None.
      model, num_classes: The network (cifar10.inference's arguments).
    """
    import tensorflow as tf
    from cifar10 import cifar10
    tf1 = tf.compat.v1
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()
        cifar10.inference(tf.zeros([1, 24, 24, 3]), model=model,
                          num_classes=num_classes)
        variables = tf1.trainable_variables()
        shadows, assigns = {}, []
        for var in variables:
            name, shape = var.op.name, var.shape.as_list()
            value = np.asarray(averaged(name, shape), np.float32)
            shadows[name + '/ExponentialMovingAverage'] = tf1.get_variable(
                name.replace('/', '_') + '_avg', initializer=value)
            raw_value = np.zeros(shape, np.float32) if raw is None else raw(name, shape)
            assigns.append(tf1.assign(var, np.asarray(raw_value, np.float32)))
        saver = tf1.train.Saver({**shadows, **{v.op.name: v for v in variables},
                                 'global_step': global_step})
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(assigns + [tf1.assign(global_step, step)])
            saver.save(sess, os.path.join(str(checkpoint_dir), 'model.ckpt'),
                       global_step=step)


def write_constant_checkpoint(checkpoint_dir, step, predicted_class):
    """Writes a checkpoint whose averaged weights always predict one class.

    All averaged weights and biases are zero except the softmax biases, so
    the logits equal those biases for every image. The raw (non-averaged)
    variables predict the next class, so restoring them would show.
    """
    def bias_for(cls):
        def value(name, shape):
            out = np.zeros(shape, np.float32)
            if name == 'softmax_linear/biases':
                out[cls] = 10.0
            return out
        return value
    write_checkpoint(checkpoint_dir, step, bias_for(predicted_class),
                     bias_for((predicted_class + 1) % 10))


def write_random_checkpoint(checkpoint_dir, step, seed=0, model='tutorial',
                            num_classes=10, raw_too=False):
    """Writes a checkpoint with random averaged weights (varied predictions);
    with raw_too, the raw variables get (other) random values too."""
    rng = np.random.RandomState(seed)
    # He-like scales keep the activations alive through the layers, and
    # zero biases leave the answer to the image.
    fan_in = {'conv1': 75, 'conv2': 1600, 'local3': 2304, 'local4': 384,
              'softmax_linear': 192}
    if model == 'local':
        fan_in.update(local3=576, local4=288, softmax_linear=1152)

    def value(name, shape):
        layer, kind = name.split('/')
        if kind == 'biases':
            return np.zeros(shape)
        return rng.normal(0, np.sqrt(2.0 / fan_in[layer]), shape)
    write_checkpoint(checkpoint_dir, step, value, value if raw_too else None,
                     model=model, num_classes=num_classes)
