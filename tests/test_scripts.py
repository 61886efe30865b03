"""End-to-end tests of cifar10_train.py and cifar10_eval.py, run as a user
runs them (subprocesses from the repository root), plus their flag parsing
and the shared training loop."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_eval
from cifar10 import cifar10_train
from cifar10.data import datasets
from cifar10.metrics import summaries
from cifar10.runtime import errors
from cifar10.runtime import session
from cifar10.training import checkpoints
from cifar10.training import loop

from conftest import (FAST_TRAIN_FLAGS, REPO, TIMEOUT_SECS, as_script, killed_after,
                      known_env, run_in_process, run_script, write_constant_checkpoint)

tf1 = tf.compat.v1

PROGRESS = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: step (\d+), '
                      r'loss = \d+\.\d\d \(\d+\.\d examples/sec; \d+\.\d{3} sec/batch\)$')
PRECISION = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: precision @ 1 = (\d\.\d{3})$')


def _ckpt_step(train_dir):
    return checkpoints.checkpoint_step(tf1.train.latest_checkpoint(str(train_dir)))


def _clean_stderr(stderr):
    assert 'Traceback' not in stderr
    assert 'Cancelled' not in stderr and 'CancelledError' not in stderr


# --- flags -----------------------------------------------------------------

@pytest.mark.parametrize('argv, expected', [
    ([], False), (['--use_fp16'], True), (['--use_fp16=true'], True),
    (['--use_fp16=false'], False), (['--use_fp16=False'], False),
    (['--use_fp16=0'], False), (['--use_fp16=1'], True), (['--nouse_fp16'], False),
    (['--use_fp16', 'false'], False),
])
def test_boolean_flags_parse_as_booleans(argv, expected):
    assert cifar10_train.parse_args(argv).use_fp16 is expected


def test_training_flag_defaults():
    args = cifar10_train.parse_args([])
    assert (args.train_dir, args.data_dir, args.max_steps, args.batch_size,
            args.log_frequency, args.log_device_placement) == (
                '/tmp/cifar10_train', '/tmp/cifar10_data', 1000000, 128, 10, False)
    assert args.save_checkpoint_secs is None and args.save_checkpoint_steps is None
    assert args.save_summaries_steps == 100 and args.num_preprocess_threads is None
    assert args.input_pipeline == 'queues'
    # 'batch', its old name, still parses.
    assert cifar10_train.parse_args(['--input_pipeline=batch']).input_pipeline == 'queues'
    assert args.lrn_gradient == session.default_lrn_gradient()
    args = cifar10_train.parse_args(['--max_steps=5', '--batch_size', '64',
                                     '--save_checkpoint_steps=7'])
    assert (args.max_steps, args.batch_size, args.save_checkpoint_steps) == (5, 64, 7)


def test_help_gives_each_default_once(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cifar10_train.parse_args(['--help'])
    assert exit_info.value.code == 0
    text = ' '.join(capsys.readouterr().out.split())
    assert 'Train the model using fp16. (default: false) --' in text
    assert 'False' not in text
    assert text.count('(default: 128)') == 1 and '(default: None)' not in text
    # The defaults that follow the device say so.
    assert 'Default: follows the device, builtin when a GPU is visible, else matmul.' in text
    assert 'Default: follows the device, 1 when a GPU is visible, else 2' in text


def test_other_data_sets_get_output_folders_of_their_own():
    """Evaluation and export of another data set do not write into
    CIFAR-10's default folders: theirs follow --checkpoint_dir."""
    from cifar10 import cifar10_export
    for dataset in ('custom', 'cifar100', 'svhn'):
        argv = [f'--dataset={dataset}', '--checkpoint_dir=/tmp/pets_train/']
        assert cifar10_eval.parse_args(argv).eval_dir == '/tmp/pets_train_eval'
        assert cifar10_export.parse_args(argv).export_dir == '/tmp/pets_train_model'
        # Given, they are taken as given.
        assert cifar10_eval.parse_args(argv + ['--eval_dir=/e']).eval_dir == '/e'
        assert cifar10_export.parse_args(argv + ['--export_dir=/x']).export_dir == '/x'
    assert cifar10_export.parse_args(['--checkpoint_dir=/tmp/t']).export_dir == (
        '/tmp/cifar10_model')
    assert cifar10_eval.parse_args(['--checkpoint_dir=/tmp/t']).eval_dir == '/tmp/cifar10_eval'


def test_eval_flag_defaults():
    args = cifar10_eval.parse_args([])
    assert (args.eval_dir, args.eval_data, args.checkpoint_dir,
            args.eval_interval_secs, args.num_examples, args.run_once) == (
                '/tmp/cifar10_eval', 'test', '/tmp/cifar10_train', 300, None, False)
    # Without --num_examples: the tutorial's 10,000 for the built-in data
    # sets, whatever their test size.
    for name in ('cifar10', 'cifar100', 'svhn'):
        for eval_data in ('test', 'train_eval'):
            assert cifar10_eval.default_num_examples(
                datasets.get(name), eval_data) == 10000
    assert args.concurrent_batches == 2
    assert cifar10_eval.parse_args(['--run_once']).run_once is True
    assert cifar10_eval.parse_args(['--run_once=false']).run_once is False


@pytest.mark.parametrize('argv', [
    ['--use_fp16=maybe'], ['--batch_size=0'], ['--batch_size=-3'],
    ['--max_steps=ten'], ['--max_step=10'], ['--save_checkpoint_secs=0'],
    ['--bogus'], ['--min_fraction_of_examples_in_queue=2'],
    ['--lrn_gradient=fast'],
])
def test_bad_training_flags_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cifar10_train.parse_args(argv)
    assert exit_info.value.code == 2
    assert 'error:' in capsys.readouterr().err


def test_bad_eval_data_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cifar10_eval.parse_args(['--eval_data=validation'])
    assert exit_info.value.code == 2
    assert "invalid choice: 'validation'" in capsys.readouterr().err


# --- training loop (in process) ----------------------------------------------

def test_few_steps_on_learnable_data_lower_cross_entropy(data_dir, monkeypatch):
    # The synthetic images are flat colours plus noise: every position of
    # every image says the same thing, which makes the loss surface far
    # steeper than for photographs. At the recipe's 0.1 the cross entropy
    # jumps about at the edge of stability (batches at 3-4 between batches
    # at 0.5), so 60 steps ended above the bound below in 10-20% of runs.
    # At 0.03 it falls steadily (last five at most 0.38 of the first five
    # in 40 runs, median 0.09). The script tests train at the recipe's 0.1.
    monkeypatch.setattr(cifar10, 'INITIAL_LEARNING_RATE', 0.03)
    with tf.Graph().as_default() as graph:
        global_step = tf1.train.get_or_create_global_step()
        images, labels = cifar10.distorted_inputs(
            data_dir, 32, num_threads=2, min_fraction_of_examples_in_queue=0.01)
        logits = cifar10.inference(images)
        total = cifar10.loss(logits, labels)
        train_op = cifar10.train(total, global_step, 32)
        cross_entropy = graph.get_tensor_by_name('cross_entropy:0')
        with tf1.train.MonitoredSession() as sess:
            values = [sess.run([train_op, cross_entropy])[1] for _ in range(60)]
            assert sess.run(global_step) == 60
    # Chance level is ln(10) = 2.30; the class templates are easy to learn.
    assert np.mean(values[:5]) > 2.0
    assert np.mean(values[-5:]) < 0.8 * np.mean(values[:5])


def _toy_training_graph(nan_at_step):
    """A stand-in model whose loss becomes NaN at a known global step."""
    global_step = tf1.train.get_or_create_global_step()
    weight = tf1.get_variable('w', [], initializer=tf1.ones_initializer())
    step_before = tf.identity(global_step)
    loss = tf.where(step_before >= nan_at_step, tf.constant(np.nan, tf.float32),
                    weight)
    with tf.control_dependencies([loss]):
        train_op = tf.group(tf1.assign_add(global_step, 1),
                            tf1.assign_add(weight, 1.0))
    return train_op, loss, global_step


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, capsys):
    with tf.Graph().as_default():
        train_op, loss, global_step = _toy_training_graph(nan_at_step=7)
        with pytest.raises(errors.NanLossError) as err:
            loop.run_training(train_op, loss, global_step,
                              train_dir=str(tmp_path), max_steps=100,
                              examples_per_step=1, save_checkpoint_steps=2)
    message = str(err.value)
    assert 'loss is NaN at step 8' in message
    assert 'model.ckpt-6' in message and 'is kept' in message
    # The last checkpoint is the one before the NaN step, and it is finite.
    path = tf1.train.latest_checkpoint(str(tmp_path))
    assert checkpoints.checkpoint_step(path) == 6
    assert np.isfinite(tf1.train.load_variable(path, 'w'))


def test_max_steps_leaves_checkpoint_at_exactly_max_steps(tmp_path):
    with tf.Graph().as_default():
        train_op, loss, global_step = _toy_training_graph(nan_at_step=10 ** 9)
        loop.run_training(train_op, loss, global_step,
                          train_dir=str(tmp_path), max_steps=13,
                          examples_per_step=1, save_checkpoint_steps=5)
    assert _ckpt_step(tmp_path) == 13


# --- the scripts, as a user runs them ------------------------------------------

@pytest.fixture(scope='module')
def trained(synthetic_data, tmp_path_factory):
    """One short training run shared by the tests below."""
    train_dir = tmp_path_factory.mktemp('train')
    result = run_script('cifar10_train.py', f'--data_dir={synthetic_data[0]}',
                        f'--train_dir={train_dir}', '--max_steps=12',
                        '--log_frequency=5', '--save_checkpoint_steps=5',
                        *FAST_TRAIN_FLAGS)
    return train_dir, result


@pytest.mark.slow
def test_train_script_runs_logs_and_checkpoints(trained):
    train_dir, result = trained
    assert result.returncode == 0, result.stderr
    # A clean run: no traceback, no queue-cancellation noise, and none of
    # TensorFlow's start-up chatter or deprecation notices.
    assert result.stderr == ''

    lines = result.stdout.splitlines()
    progress = [PROGRESS.match(line) for line in lines if ': step ' in line]
    assert progress and all(progress)
    assert [int(m.group(1)) for m in progress] == [5, 10]
    assert 'Filling queue with 250 CIFAR images before starting to train.' in result.stdout
    assert f'No checkpoint in {train_dir}: starting from step 0.' in result.stdout
    assert lines[-1].startswith('Stopped at step 12 (reached --max_steps=12)')
    assert _ckpt_step(train_dir) == 12
    assert any(name.startswith('events.out.tfevents') for name in os.listdir(train_dir))


@pytest.mark.slow
def test_train_script_resumes_from_newest_checkpoint(trained, synthetic_data, tmp_path):
    train_dir, _ = trained
    resumed = tmp_path / 'resumed'
    # Copy so the other tests keep their step-12 checkpoint.
    import shutil
    shutil.copytree(train_dir, resumed)
    result = run_in_process('cifar10_train.py', f'--data_dir={synthetic_data[0]}',
                            f'--train_dir={resumed}', '--max_steps=15',
                            '--log_frequency=1', *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stderr
    assert 'Resuming from checkpoint' in result.stdout
    assert 'model.ckpt-12 at step 12.' in result.stdout
    steps = [int(m.group(1)) for m in map(PROGRESS.match, result.stdout.splitlines()) if m]
    assert steps == [14, 15]  # timing starts after the first step (13)
    assert _ckpt_step(resumed) == 15
    # Already there: nothing to do, and it says so.
    again = run_in_process('cifar10_train.py', f'--data_dir={synthetic_data[0]}',
                           f'--train_dir={resumed}', '--max_steps=15', *FAST_TRAIN_FLAGS)
    assert again.returncode == 0
    assert 'has reached --max_steps=15; nothing to do' in again.stdout
    assert _ckpt_step(resumed) == 15


@pytest.mark.parametrize('sig, script', [
    (signal.SIGTERM, 'cifar10_train.py'), (signal.SIGINT, 'cifar10_train.py'),
    (signal.SIGTERM, 'cifar10_multi_gpu_train.py')])
@pytest.mark.slow
def test_signal_saves_checkpoint_at_step_reached(sig, script, data_dir, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, '-u', os.path.join('cifar10', script),
         f'--data_dir={data_dir}', f'--train_dir={tmp_path}', '--log_frequency=2',
         '--max_steps=100000', *FAST_TRAIN_FLAGS],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=known_env())
    with killed_after(proc):
        for line in proc.stdout:
            if PROGRESS.match(line.strip()) and int(PROGRESS.match(line.strip()).group(1)) >= 4:
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=TIMEOUT_SECS)
    assert proc.returncode == 0, err
    _clean_stderr(err)
    assert f'{sig.name} received: stopping after this step' in err
    stop = re.search(rf'Stopped at step (\d+) \({sig.name} received\)', out)
    assert stop, out
    assert _ckpt_step(tmp_path) == int(stop.group(1)) >= 4


@pytest.mark.slow
def test_train_script_bad_data_one_line_error(tmp_path):
    bin_dir = tmp_path / 'cifar-10-batches-bin'
    bin_dir.mkdir()
    for i in range(1, 6):
        (bin_dir / f'data_batch_{i}.bin').write_bytes(b'\x00' * 3073 * 10000)
    (bin_dir / 'test_batch.bin').write_bytes(b'\x00' * 3073 * 10000)
    (bin_dir / 'data_batch_4.bin').write_bytes(b'\x00' * 3073 * 100)
    (bin_dir / 'data_batch_3.bin').unlink()
    result = run_script('cifar10_train.py', f'--data_dir={tmp_path}',
                        f'--train_dir={tmp_path / "train"}', '--max_steps=5')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f'error: {bin_dir}: data_batch_3.bin is missing, data_batch_4.bin is cut short '
        '(307,300 of 30,730,000 bytes); restore them, or remove the folder so that the '
        'data is downloaded again']
    assert not (tmp_path / 'train').exists()
    assert sorted(os.listdir(tmp_path)) == ['cifar-10-batches-bin']


def test_train_script_bad_flag_exit_2():
    result = run_in_process('cifar10_train.py', '--use_fp16=perhaps')
    assert result.returncode == 2
    assert "argument --use_fp16: expected true or false, got 'perhaps'" in result.stderr


@pytest.mark.slow
def test_module_invocation_and_help():
    result = subprocess.run([sys.executable, '-m', 'cifar10.cifar10_eval', '--help'],
                            cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_SECS,
                            env=known_env())
    assert result.returncode == 0
    assert '--run_once' in result.stdout and '--eval_interval_secs' in result.stdout
    # Run from inside the package folder, as the tutorial's users do.
    result = subprocess.run([sys.executable, 'cifar10_train.py', '--help'],
                            cwd=os.path.join(REPO, 'cifar10'), capture_output=True,
                            text=True, timeout=TIMEOUT_SECS, env=known_env())
    assert result.returncode == 0 and '--save_checkpoint_steps' in result.stdout


@pytest.mark.slow
def test_import_cifar10_inside_the_package_folder():
    """A learner's notebook or script beside the scripts (where the
    original's cifar10_train.py does "import cifar10") gets the tutorial's
    module, and the package's other modules see that same module."""
    code = ('import cifar10\n'
            'from cifar10.training import loop\n'
            'from cifar10 import cifar10 as again\n'
            'names = ("distorted_inputs", "inputs", "inference", "loss", "train",\n'
            '         "maybe_download_and_extract", "NUM_CLASSES", "INITIAL_LEARNING_RATE",\n'
            '         "MOVING_AVERAGE_DECAY", "IMAGE_SIZE")\n'
            'print(cifar10.__file__, all(hasattr(cifar10, n) for n in names),\n'
            '      again is cifar10, loop.cifar10 is cifar10, cifar10.NUM_CLASSES)\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=os.path.join(REPO, 'cifar10'),
                            capture_output=True, text=True, timeout=TIMEOUT_SECS,
                            env=known_env(TF_CPP_MIN_LOG_LEVEL='3'))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [os.path.join(REPO, 'cifar10', 'cifar10.py'),
                                     'True', 'True', 'True', '10']


@pytest.mark.parametrize('gc_enabled', [True, False])
@pytest.mark.slow
def test_tensorflow_import_spares_the_garbage_collector(gc_enabled):
    """The scripts' import of TensorFlow runs with the collector paused, then
    freezes what it loaded and leaves the collector as it found it."""
    code = ('import gc, sys\n'
            f'if not {gc_enabled}: gc.disable()\n'
            'calls = []\n'
            'gc.callbacks.append(lambda phase, info: calls.append(phase))\n'
            'from cifar10.runtime.cli import import_tensorflow_quietly\n'
            'before = len(calls)\n'
            'import_tensorflow_quietly()\n'
            'print("tensorflow" in sys.modules, len(calls) - before,'
            ' gc.get_freeze_count(),'
            ' gc.isenabled())\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                            capture_output=True, text=True, timeout=TIMEOUT_SECS,
                            env=known_env())
    assert result.returncode == 0, result.stderr
    loaded, collections, frozen, enabled = result.stdout.split()
    assert loaded == 'True' and collections == '0'
    # TensorFlow's modules, functions and classes: some 400,000 objects.
    assert int(frozen) > 100_000
    assert enabled == str(gc_enabled)


@pytest.mark.slow
def test_console_scripts_are_installed(capsys):
    """`pip install .` (CI installs with -e) provides the console scripts.

    Each is installed beside this Python, and its entry point runs its
    script: --help lists the script's flags. All of them go through
    cli._run, so one runs as a process, as a user would, to show that
    TensorFlow's start-up lines stay off stderr; the others are called in
    this process (a process costs about 2 s of TensorFlow import).
    """
    from importlib import metadata
    entry_points = {ep.name: ep for ep in metadata.entry_points(group='console_scripts')
                    if ep.value.startswith('cifar10.')}
    bin_dir = os.path.dirname(sys.executable)
    for name, flag in (('cifar10-train', '--save_checkpoint_steps'),
                       ('cifar10-eval', '--run_once'),
                       ('cifar10-multi-gpu-train', '--num_gpus'),
                       ('cifar10-distributed-train', '--replicas_to_aggregate'),
                       ('cifar10-predict', '--top_k'),
                       ('cifar10-export', '--export_dir'),
                       ('cifar10-convert-images', '--test_fraction')):
        path = os.path.join(bin_dir, name)
        assert os.path.exists(path), f'{name} not installed beside {sys.executable}'
        with as_script(path, '--help'), pytest.raises(SystemExit) as exit_info:
            entry_points[name].load()()
        assert exit_info.value.code == 0, name
        out, err = capsys.readouterr()
        assert flag in out and err == '', name
        assert out.startswith(f'usage: {name} '), name
    result = subprocess.run([os.path.join(bin_dir, 'cifar10-train'), '--help'],
                            capture_output=True, text=True, timeout=TIMEOUT_SECS,
                            env=known_env())
    assert result.returncode == 0 and '--save_checkpoint_steps' in result.stdout
    assert result.stderr == ''


# --- evaluation ----------------------------------------------------------------

def _event_values(eval_dir, tag, field='simple_value'):
    values = []
    for name in os.listdir(eval_dir):
        for event in tf1.train.summary_iterator(os.path.join(eval_dir, name)):
            for value in event.summary.value:
                if value.tag == tag:
                    values.append((event.step, getattr(value, field)))
    return values


def test_eval_counts_exactly_num_examples(data_dir, tmp_path):
    ckpt_dir, eval_dir = tmp_path / 'ckpt', tmp_path / 'eval'
    write_constant_checkpoint(ckpt_dir, step=7, predicted_class=0)
    # 300 examples at batch 128: three batches, the last counted only in
    # part. Of the first 300 test records 30 are class 0, so the precision
    # is 0.100; counting all 384 records of three batches would give 0.297.
    result = run_in_process('cifar10_eval.py', f'--data_dir={data_dir}',
                            f'--checkpoint_dir={ckpt_dir}', f'--eval_dir={eval_dir}',
                            '--run_once', '--num_examples=300', '--batch_size=128')
    assert result.returncode == 0, result.stderr
    _clean_stderr(result.stderr)
    lines = result.stdout.strip().splitlines()
    assert lines.pop(0) == 'Evaluation input: queue runners (FixedLengthRecordReader, files in order).'
    assert lines.pop(0) == ('Evaluating the tutorial model (1,068,298 parameters) '
                            'on CIFAR-10 (10 classes), test data.')
    assert lines.pop(0).startswith('CPU kernels: ')
    assert PRECISION.match(lines[0]).group(1) == '0.100'
    assert sum(bool(PRECISION.match(line)) for line in lines) == 1
    # Per-class table: everything predicted airplane, 30 of each class.
    # Every image gets the same probabilities, so each class's scores all
    # tie: ROC AUC 0.5 (chance) and average precision 30/300.
    assert lines[1].split() == ['class', 'precision', 'recall', 'examples',
                                'ROC', 'AUC', 'avg', 'precision']
    assert lines[2].split() == ['airplane', '0.100', '1.000', '30', '0.500', '0.100']
    assert lines[3].split() == ['automobile', '0.000', '0.000', '30', '0.500', '0.100']
    assert lines[12].split() == ['all', '0.100', '300', '0.500', '0.100']
    assert lines[14].startswith('Confusion matrix')
    assert lines[16].split() == ['airplane', '30'] + ['0'] * 9
    assert lines[25].split() == ['truck', '30'] + ['0'] * 9
    assert _event_values(str(eval_dir), 'ROC AUC per class/cat') == [(7, 0.5)]
    assert _event_values(str(eval_dir), 'Average precision per class/cat') == [
        (7, pytest.approx(0.1))]
    # The PR curve of airplane: all 300 scores sit in one bucket near 1.
    curves = _event_values(str(eval_dir), 'PR curve/airplane', field='tensor')
    assert [step for step, _ in curves] == [7]
    data = tf.make_ndarray(curves[0][1])
    assert data.shape == (6, 201)
    tp, fp, tn, fn, precision, recall = data[:, 0]
    assert (tp, fp, tn, fn, recall) == (30, 270, 0, 0, 1)
    assert precision == pytest.approx(0.1)
    assert _event_values(str(eval_dir), 'Precision @ 1') == [(7, pytest.approx(0.1))]
    assert _event_values(str(eval_dir), 'Recall per class/airplane') == [(7, 1.0)]
    # The graph's own summaries, run with one of the batches: a layer's
    # activations, one batch of them.
    histograms = _event_values(str(eval_dir), 'conv1/conv1/activations', field='histo')
    assert [(step, h.num) for step, h in histograms] == [(7, 128 * 24 * 24 * 64)]
    assert _event_values(str(eval_dir), 'Precision per class/airplane') == [
        (7, pytest.approx(0.1))]
    # The confusion matrix picture: every row all in the first column.
    images = _event_values(str(eval_dir), 'Confusion matrix', field='image')
    assert [step for step, _ in images] == [7]
    expected = np.zeros((10, 10), np.int64)
    expected[:, 0] = 30
    np.testing.assert_array_equal(
        tf.io.decode_png(images[0][1].encoded_image_string).numpy(),
        summaries.confusion_image(expected))


@pytest.mark.slow
def test_eval_whole_test_file(data_dir, tmp_path):
    write_constant_checkpoint(tmp_path, step=3, predicted_class=4)
    evaluator = cifar10_eval.Evaluator('test', data_dir, 128, 10000, str(tmp_path / 'e'))
    try:
        result = evaluator.evaluate(tf1.train.latest_checkpoint(str(tmp_path)))
    finally:
        evaluator.close()
    from conftest import eval_labels
    labels = eval_labels()
    assert result.global_step == 3
    assert result.precision == pytest.approx(np.mean(labels == 4))
    # Everything is predicted class 4: column 4 holds each class's count.
    expected = np.zeros((10, 10), np.int64)
    expected[:, 4] = np.bincount(labels, minlength=10)
    np.testing.assert_array_equal(result.confusion, expected)


@pytest.mark.parametrize('num_examples, concurrent', [(50, 2), (300, 1), (300, 3)])
def test_the_summaries_run_once_with_one_batch(data_dir, tmp_path, num_examples,
                                               concurrent):
    """With no whole batch, only whole ones, or both, one batch of 64 also
    runs the graph's summaries, exactly once."""
    write_constant_checkpoint(tmp_path, step=3, predicted_class=0)
    eval_dir = tmp_path / 'e'
    evaluator = cifar10_eval.Evaluator('test', data_dir, 64, num_examples,
                                       str(eval_dir), concurrent_batches=concurrent)
    try:
        evaluator.evaluate(tf1.train.latest_checkpoint(str(tmp_path)))
    finally:
        evaluator.close()
    histograms = _event_values(str(eval_dir), 'conv2/conv2/activations', field='histo')
    assert [(step, h.num) for step, h in histograms] == [(3, 64 * 12 * 12 * 64)]
    assert len(_event_values(str(eval_dir), 'conv1/conv1/sparsity')) == 1


@pytest.mark.parametrize('batch_size, concurrent, reverse', [
    (32, 1, False), (32, 4, False), (64, 2, False), (32, 4, True)])
def test_concurrent_batches_evaluate_exactly_the_first_records(
        data_dir, tmp_path, monkeypatch, batch_size, concurrent, reverse):
    """Whichever run gets which batch, the first 300 records are counted:
    records 300-383 are all class 0, so counting any of them (say, cutting
    short a batch other than the last) would change column 0. Real threads
    mostly take the batches in order; `reverse` hands the concurrent runs'
    batches back last first, as an unlucky schedule could."""
    if reverse:
        run_concurrently = cifar10_eval._run_concurrently
        monkeypatch.setattr(cifar10_eval, '_run_concurrently',
                            lambda *args: run_concurrently(*args)[::-1])
    write_constant_checkpoint(tmp_path, step=3, predicted_class=0)
    evaluator = cifar10_eval.Evaluator('test', data_dir, batch_size, 300,
                                       str(tmp_path / 'e'),
                                       concurrent_batches=concurrent)
    try:
        result = evaluator.evaluate(tf1.train.latest_checkpoint(str(tmp_path)))
    finally:
        evaluator.close()
    expected = np.zeros((10, 10), np.int64)
    expected[:, 0] = 30
    np.testing.assert_array_equal(result.confusion, expected)


def test_run_concurrently_overlaps_calls_and_stops_on_error():
    # Two calls can only both pass the barrier if they run at the same time
    # (the timeout only bounds a broken run; a busy machine never needs it).
    barrier = threading.Barrier(2, timeout=TIMEOUT_SECS)
    assert cifar10_eval._run_concurrently(lambda: barrier.wait() >= 0, 6, 2) == [True] * 6
    assert cifar10_eval._run_concurrently(lambda: 1, 0, 2) == []
    for num_threads in (1, 2):
        counter = iter(range(100))
        lock = threading.Lock()

        def failing():
            with lock:
                call = next(counter)
            if call == 2:
                raise tf.errors.OutOfRangeError(None, None, 'queue closed')
            time.sleep(0.01)
            return call
        with pytest.raises(tf.errors.OutOfRangeError):
            cifar10_eval._run_concurrently(failing, 50, num_threads)
        if num_threads == 1:
            # No call starts once one has failed: exactly calls 0-2 were made.
            assert next(counter) == 3
        else:
            # Only calls already running beside the failed one can finish;
            # how many is up to the scheduler, but never all of them.
            assert next(counter) < 50


@pytest.mark.slow
def test_eval_raw_weights_with_use_moving_averages_false(data_dir, tmp_path):
    # The averaged weights predict class 0, the raw weights class 1.
    write_constant_checkpoint(tmp_path, step=3, predicted_class=0)
    ckpt = tf1.train.latest_checkpoint(str(tmp_path))
    for use_averages, predicted in ((True, 0), (False, 1)):
        evaluator = cifar10_eval.Evaluator('test', data_dir, 128, 300, str(tmp_path / 'e'),
                                           use_moving_averages=use_averages)
        try:
            result = evaluator.evaluate(ckpt)
        finally:
            evaluator.close()
        assert result.confusion[:, predicted].sum() == 300
    assert cifar10_eval.parse_args(['--use_moving_averages=false']).use_moving_averages is False
    assert cifar10_eval.parse_args([]).use_moving_averages is True


def test_eval_caps_num_examples_at_records(data_dir, tmp_path, capsys):
    evaluator = cifar10_eval.Evaluator('test', data_dir, 128, 12345, str(tmp_path))
    evaluator.close()
    assert evaluator.num_examples == 10000
    assert 'evaluating each of them once' in capsys.readouterr().err


def test_eval_vanished_checkpoint(data_dir, tmp_path):
    evaluator = cifar10_eval.Evaluator('test', data_dir, 128, 100, str(tmp_path))
    try:
        with pytest.raises(checkpoints.CheckpointGone):
            evaluator.evaluate(str(tmp_path / 'model.ckpt-99'))
    finally:
        evaluator.close()


def test_eval_run_once_without_checkpoint_fails_clearly(tmp_path):
    result = run_in_process('cifar10_eval.py', f'--checkpoint_dir={tmp_path}', '--run_once',
                            f'--data_dir={tmp_path / "nodata"}')
    assert result.returncode == 1
    assert result.stderr.strip() == f'error: no checkpoint found in {tmp_path}'


@pytest.mark.slow
def test_eval_watch_mode_evaluates_each_new_checkpoint_once(data_dir, tmp_path):
    ckpt_dir, eval_dir = tmp_path / 'ckpt', tmp_path / 'eval'
    write_constant_checkpoint(ckpt_dir, step=1, predicted_class=0)
    proc = subprocess.Popen(
        [sys.executable, '-u', os.path.join('cifar10', 'cifar10_eval.py'),
         f'--data_dir={data_dir}', f'--checkpoint_dir={ckpt_dir}',
         f'--eval_dir={eval_dir}', '--num_examples=300', '--eval_interval_secs=0.1'],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=known_env())
    with killed_after(proc):
        precisions = []
        for line in proc.stdout:
            match = PRECISION.match(line.strip())
            if match:
                precisions.append(match.group(1))
                if len(precisions) == 1:
                    # A newer checkpoint; the old one is rotated away.
                    write_constant_checkpoint(ckpt_dir, step=2, predicted_class=1)
                    for name in os.listdir(ckpt_dir):
                        if 'ckpt-1.' in name:
                            os.remove(ckpt_dir / name)
                else:
                    break
        time.sleep(1.0)  # several polls: the same checkpoint is not redone
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT_SECS)
    assert precisions == ['0.100', '0.100']
    assert PRECISION.search(out) is None
    assert proc.returncode == 0, err
    _clean_stderr(err)
    assert 'SIGINT received: stopped watching.' in out
    assert sorted(step for step, _ in _event_values(str(eval_dir), 'Precision @ 1')) == [1, 2]


@pytest.fixture
def reference_eval(monkeypatch):
    """scripts/reference_eval.py as a module; what its main() adds to
    sys.path and os.environ is undone afterwards."""
    monkeypatch.setattr(sys, 'path', [os.path.join(REPO, 'scripts'), *sys.path])
    monkeypatch.delenv('TF_CPP_MIN_LOG_LEVEL', raising=False)
    import reference_eval
    return reference_eval


@pytest.mark.slow
def test_eval_agrees_with_independent_numpy_forward_pass(trained, data_dir, tmp_path,
                                                         reference_eval):
    """The evaluator and a float64 numpy re-implementation of the network
    (scripts/reference_eval.py) find the same precision on a trained
    checkpoint, so restore, preprocessing and forward pass are right."""
    train_dir, result = trained
    assert result.returncode == 0
    ckpt = tf1.train.latest_checkpoint(str(train_dir))
    # The synthetic classes are colours; after 12 steps the network is
    # part-way, so the precision is neither 0 nor 1 and a mistake shows.
    evaluator = cifar10_eval.Evaluator('test', data_dir, 64, 250, str(tmp_path))
    try:
        precision = evaluator.evaluate(ckpt).precision
    finally:
        evaluator.close()
    path = os.path.join(data_dir, 'cifar-10-batches-bin', 'test_batch.bin')
    reference, count = reference_eval.precision(ckpt, [path], 250)
    assert count == 250
    assert 0.0 < precision < 1.0
    assert precision == pytest.approx(reference, abs=1e-9)


def _damage(checkpoint_dir):
    for name in os.listdir(checkpoint_dir):
        if '.data-' in name:
            path = os.path.join(checkpoint_dir, name)
            with open(path, 'r+b') as f:
                f.truncate(os.path.getsize(path) // 2)


def test_eval_damaged_checkpoint_is_a_clear_error(data_dir, tmp_path):
    write_constant_checkpoint(tmp_path, step=5, predicted_class=0)
    _damage(tmp_path)
    evaluator = cifar10_eval.Evaluator('test', data_dir, 128, 100, str(tmp_path / 'e'))
    try:
        with pytest.raises(cifar10.DataError, match=r'model\.ckpt-5: cannot restore this checkpoint'):
            evaluator.evaluate(tf1.train.latest_checkpoint(str(tmp_path)))
    finally:
        evaluator.close()


def test_training_on_damaged_checkpoint_is_a_clear_error(tmp_path):
    with tf.Graph().as_default():
        train_op, loss, global_step = _toy_training_graph(nan_at_step=10 ** 9)
        loop.run_training(train_op, loss, global_step, train_dir=str(tmp_path),
                          max_steps=3, examples_per_step=1)
    _damage(tmp_path)
    before = sorted(os.listdir(tmp_path))
    with tf.Graph().as_default():
        train_op, loss, global_step = _toy_training_graph(nan_at_step=10 ** 9)
        with pytest.raises(cifar10.DataError, match=r'model\.ckpt-3: cannot restore'):
            loop.run_training(train_op, loss, global_step, train_dir=str(tmp_path),
                              max_steps=6, examples_per_step=1)
    # Nothing was overwritten.
    assert sorted(os.listdir(tmp_path)) == before


def test_train_dir_that_is_a_file_is_a_clear_error(data_dir, tmp_path):
    path = tmp_path / 'file'
    path.write_text('x')
    result = run_in_process('cifar10_train.py', f'--train_dir={path}',
                            f'--data_dir={data_dir}')
    assert result.returncode == 1
    assert result.stderr.strip() == f'error: --train_dir={path} exists and is not a directory'
    assert path.read_text() == 'x'


def test_op_error_summary_finds_the_cause():
    graph_error = tf.errors.OutOfRangeError(
        None, None, "Graph execution error:\n\nDetected at node 'save/RestoreV2' "
        "defined at (most recent call last):\n    File \"x.py\", line 1\n"
        "Node: 'save/RestoreV2'\nRead less bytes than requested\n\t [[{{node save/RestoreV2}}]]")
    assert errors.op_error_summary(graph_error) == (
        'OutOfRangeError: Read less bytes than requested')
    restore_error = tf.errors.InvalidArgumentError(
        None, None, 'Restoring from checkpoint failed. This is most likely due to a '
        'mismatch. Original error:\n\n{{function_node __wrapped__RestoreV2}} '
        'tensor_name = conv1/biases; expected dtype float does not equal original '
        'dtype half\ntensor_name = conv1/weights; ... [Op:RestoreV2]')
    assert errors.op_error_summary(restore_error) == (
        'InvalidArgumentError: tensor_name = conv1/biases; expected dtype float '
        'does not equal original dtype half')
    # An eager op's error ends with its op and an (often empty) name.
    eager_error = tf.errors.InvalidArgumentError(
        None, None, 'Invalid PNG data, size 1484 [Op:DecodeImage] name: ')
    assert errors.op_error_summary(eager_error) == (
        'InvalidArgumentError: Invalid PNG data, size 1484')


@pytest.mark.slow
def test_trace_step_writes_chrome_trace(data_dir, tmp_path):
    result = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                            f'--train_dir={tmp_path}', '--max_steps=4', '--trace_step=3',
                            *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stderr
    path = tmp_path / 'timeline-step-3.json'
    assert f'Wrote a trace of step 3 to {path}' in result.stdout
    import json
    trace = json.loads(path.read_text())
    events = trace['traceEvents']
    ops = {e.get('args', {}).get('op') for e in events if e.get('ph') == 'X'}
    # The step's real work is in it: convolutions forward and backward
    # (oneDNN builds name them _MklNativeConv2D and so on).
    for kernel in ('Conv2D', 'Conv2DBackpropFilter', 'MatMul', 'Rsqrt',
                   'ResourceApplyGradientDescent'):
        assert any(op and op.endswith(kernel) for op in ops), kernel
    # By default the LRNs come from matrix products (their t^-0.75 from
    # Rsqrt), not TensorFlow's LRN op and LRNGrad.
    assert not any(op and op.endswith(('LRN', 'LRNGrad')) for op in ops)
    assert all('ts' in e for e in events if e.get('ph') == 'X')
    assert not (tmp_path / 'timeline-step-4.json').exists()


def test_session_knobs_build_the_asked_config(monkeypatch):
    # The allocator knob sets the environment; the test restores it.
    monkeypatch.setenv('TF_CPU_ALLOCATOR_USE_BFC', 'unset')
    args = cifar10_train.parse_args([])
    config = session.session_config_from_flags(args)
    assert config.allow_soft_placement
    assert (config.intra_op_parallelism_threads, config.inter_op_parallelism_threads) == (0, 0)
    assert config.graph_options.optimizer_options.global_jit_level == 0
    assert os.environ['TF_CPU_ALLOCATOR_USE_BFC'] == 'true'
    args = cifar10_eval.parse_args(['--intra_op_threads=2', '--inter_op_threads=1', '--xla',
                                    '--log_device_placement', '--nobfc_allocator'])
    config = session.session_config_from_flags(args)
    assert (config.intra_op_parallelism_threads, config.inter_op_parallelism_threads) == (2, 1)
    assert config.graph_options.optimizer_options.global_jit_level == tf1.OptimizerOptions.ON_1
    assert config.log_device_placement
    assert os.environ['TF_CPU_ALLOCATOR_USE_BFC'] == 'false'


@pytest.mark.parametrize('bfc', [True, False])
@pytest.mark.slow
def test_bfc_allocator_knob_decides_the_first_sessions_allocator(bfc):
    """In a fresh process (the allocator is chosen once), TensorFlow's own
    log says which allocator the CPU device got."""
    code = ('from cifar10.runtime.cli import import_tensorflow_quietly\n'
            'import_tensorflow_quietly()\n'
            'import tensorflow as tf\n'
            'from cifar10.runtime import session\n'
            'with tf.Graph().as_default():\n'
            '    x = tf.random.normal([100, 100])\n'
            f'    config = session.session_config(bfc_allocator={bfc})\n'
            '    with tf.compat.v1.Session(config=config) as sess:\n'
            '        print(sess.run(tf.reduce_sum(x)).shape)\n')
    env = known_env(TF_CPP_MIN_LOG_LEVEL='0', TF_CPP_VMODULE='process_state=2',
                    TF_CPU_ALLOCATOR_USE_BFC='false' if bfc else 'true')
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT_SECS)
    assert result.returncode == 0, result.stderr
    assert result.stdout == '()\n'
    assert ('Using BFCAllocator' in result.stderr) == bfc


@pytest.mark.parametrize('flags', [
    ('--xla', '--intra_op_threads=1', '--inter_op_threads=1'),
    ('--input_pipeline=per_image', '--num_preprocess_threads=3'),
    ('--lrn_gradient=builtin',),
    ('--batch_splits=1',),
    ('--batch_splits=4',),
])
@pytest.mark.slow
def test_trainer_runs_with_knobs(flags, data_dir, tmp_path):
    result = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                            f'--train_dir={tmp_path}', '--max_steps=3', *FAST_TRAIN_FLAGS,
                            *flags)
    assert result.returncode == 0, result.stderr
    assert _ckpt_step(tmp_path) == 3


def _run_benchmark(*args, timeout=TIMEOUT_SECS):
    """Runs scripts/benchmark.py from the repository root."""
    return subprocess.run(
        [sys.executable, os.path.join('scripts', 'benchmark.py'), *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, env=known_env())


@pytest.mark.slow
def test_benchmark_script_prints_its_table():
    """The benchmark runs on synthetic data when no --data_dir is given.
    (It measures speed; this only checks that it works and reports.)"""
    result = _run_benchmark('--only', 'input,model', '--windows=1', '--batch_size=16',
                            '--settings=queues/matmul/1,queues/matmul/2')
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('(synthetic data in ')
    rows = [line for line in lines if line.startswith('| ') and 'sec' in line]
    assert len(rows) == 3
    assert re.search(r'\| input pipeline alone \(queues\) \| [\d,]+ distorted images/sec; '
                     r'first batch \d+\.\d\d s', rows[0])
    command = (r'`python scripts/benchmark.py --only model '
               r'--settings queues/matmul/1/bfc/float32,queues/matmul/2/bfc/float32`')
    whole = re.search(r'\| model step alone \(constant batch; matmul LRN gradient, whole '
                      r'batch\) \| ([\d,]+) examples/sec \| ' + command, rows[1])
    halves = re.search(r'\| model step alone \(constant batch; matmul LRN gradient, batch '
                       r'in 2 parts\) \| ([\d,]+) examples/sec = (\d+\.\d\d)x the matmul '
                       r'LRN gradient, whole batch \(alternating windows, one process\) '
                       r'\| ' + command, rows[2])
    assert whole and halves, rows
    # The benchmark divides the unrounded rates and prints the quotient to two
    # decimals; the rates it prints are rounded to whole examples/sec. So the
    # printed ratio lies within the range the printed rates allow, widened by
    # its own rounding (0.005), whichever way each rounding went.
    rate_1, rate_2 = (float(m.group(1).replace(',', '')) for m in (whole, halves))
    lowest = (rate_2 - 0.5) / (rate_1 + 0.5) - 0.005 - 1e-9
    highest = (rate_2 + 0.5) / (rate_1 - 0.5) + 0.005 + 1e-9
    assert lowest <= float(halves.group(2)) <= highest, (rate_1, rate_2, halves.group(2))


@pytest.mark.parametrize('setting', ['batch/matmul/0', 'batch/matmul/x', 'batch',
                                     'batch/matmul/2/1', 'batch/matmul/2/bfc/1',
                                     'gpu/matmul'])
def test_benchmark_bad_setting_is_a_usage_error(setting):
    result = _run_benchmark(f'--settings={setting}', timeout=TIMEOUT_SECS)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"benchmark.py: error: bad setting '{setting}': expected INPUT_PIPELINE/"
        'LRN_GRADIENT[/BATCH_SPLITS[/ALLOCATOR[/PRECISION]]], as queues/matmul/auto/bfc, '
        'per_image/builtin/1/default, tf_data/matmul or '
        'queues/matmul/auto/bfc/mixed_bfloat16')
    assert result.stdout == ''


def test_benchmark_batch_splits_must_divide_the_batch():
    result = _run_benchmark('--settings=batch/matmul/3', '--batch_size=16', timeout=TIMEOUT_SECS)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "benchmark.py: error: bad setting 'batch/matmul/3': --batch_size=16 does not "
        'split into 3 equal parts')
    assert result.stdout == ''


@pytest.mark.slow
def test_benchmark_eval_row_compares_with_original_style_evaluation(data_dir):
    """The eval row evaluates one checkpoint both ways and reports the ratio.
    (On the suite's synthetic files: the benchmark's own take a while to
    write, and test_benchmark_script_prints_its_table uses them.)"""
    result = _run_benchmark('--only', 'eval', '--train_steps=20', '--eval_runs=1',
                            '--settings=batch/matmul', f'--data_dir={data_dir}')
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines()
            if line.startswith('| evaluation')]
    assert len(rows) == 1
    match = re.search(
        r"\| evaluation, 10,000 images \| (\d+\.\d\d) s wall = (\d+\.\d\d)x the "
        r"original-style evaluation's (\d+\.\d\d) s \(medians of 1 alternating runs: "
        r"\1 vs \3; median of the rounds' ratios (\d+\.\d\d)x\); "
        r"importing TensorFlow \d+\.\d\d s of it \(a plain import: \d+\.\d\d s\), "
        r"then [\d,]+ images/sec; "
        r"peak memory [\d,]+ MB vs [\d,]+ MB \(TensorFlow alone [\d,]+ MB\); "
        r"precision @ 1 (\d\.\d{3}) vs (\d\.\d{3}) \| "
        r"`python scripts/benchmark.py --only eval --settings batch/matmul/auto/bfc/float32 "
        + re.escape(f'--data_dir={data_dir}') + '`',
        rows[0])
    assert match, rows[0]
    ours, ratio, original, paired = (float(match.group(i)) for i in (1, 2, 3, 4))
    # The times and the ratio are each printed rounded to 0.01: the ratio of
    # the printed times can differ from the printed ratio by the ratio's own
    # rounding plus what rounding the two times does to their quotient.
    lowest = (ours - 0.005) / (original + 0.005) - 0.005 - 1e-9
    highest = (ours + 0.005) / (original - 0.005) + 0.005 + 1e-9
    assert lowest <= ratio <= highest, (ours, original, ratio)
    assert lowest <= paired <= highest, (ours, original, paired)  # One round.
    # The same checkpoint on the same file: the original-style run counts
    # whole batches (10,112 examples), so the two may differ a little.
    assert abs(float(match.group(5)) - float(match.group(6))) <= 0.02


@pytest.mark.parametrize('flag', ['--eval_runs=0', '--windows=x', '--batch_size=-3',
                                  '--train_steps=0'])
def test_benchmark_bad_flag_is_a_usage_error(flag):
    result = _run_benchmark(flag, timeout=TIMEOUT_SECS)
    assert result.returncode == 2
    name = flag.split('=')[0]
    assert result.stderr.splitlines()[-1].startswith(
        f'benchmark.py: error: argument {name}: expected an integer > 0')
    assert result.stdout == ''


@pytest.mark.slow
def test_benchmark_bad_data_dir_is_one_clear_line(tmp_path):
    def run(data_dir):
        return _run_benchmark('--only', 'input', f'--data_dir={data_dir}', timeout=TIMEOUT_SECS)
    result = run(tmp_path / 'missing')
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith('holds no cifar-10-batches-bin '
                                                   'folder (see docs/data.md)')
    # A folder without the files: the child's own error, on one line.
    (tmp_path / 'cifar-10-batches-bin').mkdir()
    result = run(tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('benchmark: ') and lines[0].endswith(
        'data_batch_1.bin: data file not found')


# --- the bound and the Keras reference in the benchmark ---------------------

@pytest.fixture
def scripts_module(monkeypatch):
    """Imports a module of scripts/ (benchmark, keras_reference)."""
    monkeypatch.setattr(sys, 'path', [os.path.join(REPO, 'scripts'), *sys.path])
    import importlib
    return importlib.import_module


def test_bound_counts_forward_filter_and_input_gradient_multiply_adds(scripts_module):
    from cifar10.model import layer_sizes
    benchmark = scripts_module('benchmark')
    for model in ('tutorial', 'local'):
        sizes = layer_sizes.layer_sizes(cifar10.Network(model=model))
        forward = sum(size.multiply_adds for size in sizes)
        assert sizes[0].name == 'conv1'
        # conv1's input gradient would be the images': nothing needs it.
        assert benchmark.training_multiply_adds(sizes) == (
            forward, forward, forward - sizes[0].multiply_adds)
    # The tutorial's, by hand: conv1 and conv2 apply their 5x5 kernels at
    # 24x24 and 12x12 positions, the fully connected layers use each weight once.
    conv1 = 5 * 5 * 3 * 64 * 24 * 24
    forward = conv1 + 5 * 5 * 64 * 64 * 12 * 12 + 2304 * 384 + 384 * 192 + 192 * 10
    sizes = layer_sizes.layer_sizes()
    assert benchmark.training_multiply_adds(sizes) == (forward, forward, forward - conv1)
    assert 3 * forward - conv1 == 52_647_552
    # 215 GFLOP/s is 107.5 billion multiply-adds a second.
    assert benchmark.bound_examples_per_sec(215.0, 52_647_552) == pytest.approx(
        107.5e9 / 52_647_552)


@pytest.mark.parametrize('only, model, rows, note', [
    (None, 'tutorial', ['input', 'bound', 'model', 'train', 'keras', 'eval'], None),
    (None, 'local', ['input', 'bound', 'model', 'train', 'eval'],
     "(no keras row: trains the tutorial's model only, not --model=local)"),
    ('keras,bound', 'tutorial', ['bound', 'keras'], None),
    ('train, eval', 'local', ['train', 'eval'], None),
])
def test_benchmark_rows(scripts_module, only, model, rows, note):
    assert scripts_module('benchmark').select_rows(only, model) == (rows, note)


def test_benchmark_keras_row_evaluates_in_the_evaluators_batches(scripts_module):
    assert scripts_module('benchmark').EVAL_BATCH_SIZE == cifar10_eval.parse_args([]).batch_size


@pytest.mark.parametrize('flags, message', [
    (['--only', 'keras', '--model=local'],
     "the keras row trains the tutorial's model only, not --model=local"),
    (['--only', 'bound,cats'], 'unknown rows: cats'),
    (['--only', 'keras', '--train_steps=49'],
     '--train_steps=49 leaves no 50-step window for the train and keras rows to '
     'time (they need at least 50)'),
])
def test_benchmark_bad_rows_are_usage_errors(flags, message):
    result = _run_benchmark(*flags)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f'benchmark.py: error: {message}'
    assert result.stdout == ''


def test_keras_windows_are_the_trainers_progress_windows(scripts_module, capsys,
                                                         monkeypatch):
    """The keras row times fit's steps as the train row reads the trainer's
    progress lines: a window each 50 steps, the first from the end of step 1."""
    keras_reference = scripts_module('keras_reference')
    # Steps of 0.1 s, then of 0.2 s from step 101 on; 10 examples a step.
    times = list(np.cumsum([0.1] * 100 + [0.2] * 100))
    clock = iter(times)
    monkeypatch.setattr(loop, 'time', types.SimpleNamespace(monotonic=lambda: next(clock)))
    hook = loop.LoggerHook(None, None, examples_per_step=10, log_frequency=50)
    hook.step = 0
    for _ in times:
        hook.after_run(None, types.SimpleNamespace(results=[1.0]))
    printed = [float(rate) for rate in
               re.findall(r'\(([\d.]+) examples/sec', capsys.readouterr().out)]
    assert printed == [100.0, 100.0, 50.0, 50.0]
    rates = keras_reference.window_rates(times, 10, window=50, after=0)
    assert rates == pytest.approx(printed, rel=1e-9)
    # The train row keeps the lines past the first quarter of the steps.
    assert keras_reference.window_rates(times, 10, 50, after=100) == pytest.approx([50, 50])
    assert keras_reference.window_rates(times, 10, 50, after=99) == pytest.approx(
        [100, 50, 50])


def test_keras_reference_is_the_tutorials_network_and_recipe(scripts_module):
    from cifar10.model import layer_sizes
    from cifar10.model import network
    keras_reference = scripts_module('keras_reference')
    model = keras_reference.build_model()
    assert model.count_params() == network.parameter_count('tutorial', 10) == 1_068_298
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    for size in layer_sizes.layer_sizes():
        assert shapes[size.name] == size.output_shape, size.name
    # Weight decay: the tutorial adds 0.004 * sum(w ** 2) / 2 for local3's
    # and local4's weights, nothing for the others.
    weights = {v.path: v.numpy() for v in model.weights}
    expected = sum(0.004 * np.sum(weights[f'{name}/kernel'].astype(np.float64) ** 2) / 2
                   for name in ('local3', 'local4'))
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)
    schedule = keras_reference.learning_rate_schedule(128, 50000)
    # 50,000 / 128 * 350 = 136,718.75 steps between decays.
    assert [float(schedule(step)) for step in (0, 136_717, 136_718, 273_436)] == \
        pytest.approx([0.1, 0.1, 0.01, 0.001])
    mixed = keras_reference.build_model(policy='mixed_bfloat16')
    assert mixed.get_layer('conv2').compute_dtype == 'bfloat16'
    assert all(v.dtype == 'float32' for v in mixed.weights)
    assert mixed(np.zeros([2, 24, 24, 3], np.float32)).dtype == 'float32'


def test_keras_reference_reads_the_records(scripts_module, synthetic_data):
    """Training batches: distorted, standardized crops with their labels;
    test batches: every test image once, in order, as the evaluator
    prepares it."""
    from cifar10.data import transforms
    keras_reference = scripts_module('keras_reference')
    data_dir, contents = synthetic_data
    images, labels = next(iter(keras_reference.train_dataset(
        data_dir, datasets.CIFAR10, 16)))
    assert images.shape == (16, 24, 24, 3) and images.dtype == tf.float32
    assert labels.shape == (16,) and labels.dtype == tf.int32
    assert set(labels.numpy()) <= set(range(10))
    # Standardized per image: zero mean, unit standard deviation.
    assert np.abs(np.mean(images, axis=(1, 2, 3))).max() < 1e-4
    assert np.abs(np.std(images, axis=(1, 2, 3)) - 1).max() < 1e-3
    test_labels, test_images, _ = contents['test_batch.bin']
    seen_labels, first = [], None
    for batch_images, batch_labels in keras_reference.test_dataset(
            data_dir, datasets.CIFAR10, 1000):
        first = batch_images.numpy() if first is None else first
        seen_labels.append(batch_labels.numpy())
    np.testing.assert_array_equal(np.concatenate(seen_labels), test_labels)
    expected = transforms.eval_image(tf.constant(test_images[:1000], tf.float32))
    np.testing.assert_allclose(first, expected.numpy(), atol=1e-5)


def _interval(numerator, denominator, figure_step, quotient_step):
    """The [lowest, highest] a quotient printed to ``quotient_step`` can
    read when both its figures were printed rounded to ``figure_step``:
    either rounding may have gone either way."""
    half, slack = figure_step / 2, quotient_step / 2 + 1e-9
    return ((numerator - half) / (denominator + half) - slack,
            (numerator + half) / (denominator - half) + slack)


def _figure(text):
    return float(text.replace(',', ''))


@pytest.mark.slow
def test_benchmark_prints_the_bound_and_the_keras_row(data_dir):
    """A bound row, training rows with their fraction of it, and the Keras
    reference trained by fit beside the trainer, each figure consistent
    with the others as printed."""
    result = _run_benchmark('--only', 'bound,model,train,keras', '--windows=1',
                            '--batch_size=16', '--train_steps=50',
                            '--settings=batch/matmul/1', f'--data_dir={data_dir}')
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith('| ')][2:]
    assert len(rows) == 4, rows
    data = re.escape(f' --data_dir={data_dir}`')
    bound = re.fullmatch(
        r'\| matrix products and the bound on training \(float32\) \| ([\d,]+\.\d) '
        r'GFLOP/s \(TensorFlow matmul of 2048 x 2048 in float32, best of 1 window; one '
        r'core: [\d,]+\.\d\) = '
        r'([\d,]+\.\d\d) billion multiply-adds/sec, over 52,647,552 per training '
        r'example \(forward 18,470,784, filter gradients 18,470,784, input gradients '
        r'15,705,984\): at most ([\d,]+) examples/sec(; WARNING: 2 cores ran only '
        r'\d\.\d\dx one core\'s [\d,]+\.\d GFLOP/s: other programs were using them, '
        r'so this bound is too low and the fractions of it too high; measure on an idle '
        r'machine)? \| `python scripts/benchmark.py '
        r'--only bound --settings queues/matmul/auto/bfc/float32' + data + r' \|',
        rows[0])
    assert bound, rows[0]
    gflops, madds, limit = (_figure(bound.group(i)) for i in (1, 2, 3))
    assert abs(madds - gflops / 2) <= 0.025 + 0.005 + 1e-9
    # The bound from the printed rate, each figure rounded as printed.
    assert ((gflops - 0.05) * 1e9 / 2 / 52_647_552 - 0.5 - 1e-9 <= limit
            <= (gflops + 0.05) * 1e9 / 2 / 52_647_552 + 0.5 + 1e-9)
    bound_text = re.escape(f'{bound.group(3)} examples/sec')
    model = re.fullmatch(
        r'\| model step alone \(constant batch; matmul LRN gradient, whole batch\) \| '
        r'([\d,]+) examples/sec = (\d+\.\d\d)x the bound \(' + bound_text + r'\) \| .*',
        rows[1])
    train = re.fullmatch(
        r'\| end-to-end training \(batch/matmul/1/bfc/float32\), 50 steps \| '
        r'([\d,]+) examples/sec, median of 50-step windows after step 12 = '
        r'\d+\.\d\dx the model step alone \([\d,]+ and [\d,]+ just before and after '
        r'this run\), (\d+\.\d\d)x the bound \(' + bound_text + r'\), (\d+\.\d\d)x '
        r'Keras 3 fit \(([\d,]+) examples/sec\); \d+\.\d s wall; peak memory [\d,]+ MB; '
        r'precision @ 1 \d\.\d{3} \| `python scripts/benchmark.py --only train '
        r'--settings batch/matmul/1/bfc/float32' + data + r' \|', rows[2])
    keras = re.fullmatch(
        r'\| Keras 3 fit, the same model and recipe \(float32\), 50 steps \| ([\d,]+) '
        r'examples/sec, median of 50-step windows after step 12 = (\d+\.\d\d)x the '
        r'bound \(' + bound_text + r'\); \d+\.\d s wall; peak memory [\d,]+ MB; '
        r'precision @ 1 \d\.\d{3} \(raw weights\) \| `python scripts/benchmark.py '
        r'--only keras --settings queues/matmul/auto/bfc/float32' + data + r' \|',
        rows[3])
    assert model and train and keras, rows
    assert train.group(4) == keras.group(1)
    # Each fraction against the figures it divides, as printed.
    for rate, fraction in ((model.group(1), model.group(2)),
                           (train.group(1), train.group(2)),
                           (keras.group(1), keras.group(2))):
        lowest, highest = _interval(_figure(rate), limit, 1, 0.01)
        assert lowest <= float(fraction) <= highest, (rate, limit, fraction)
    lowest, highest = _interval(_figure(train.group(1)), _figure(keras.group(1)), 1, 0.01)
    assert lowest <= float(train.group(3)) <= highest, rows[2:]


def test_reference_eval_bad_data_is_one_clear_line(trained, tmp_path, reference_eval):
    train_dir, result = trained
    assert result.returncode == 0
    folder = tmp_path / 'cifar-10-batches-bin'
    folder.mkdir()

    def error():
        """The message reference_eval exits with (status 1 when a string)."""
        with pytest.raises(SystemExit) as exit_info:
            reference_eval.main([f'--checkpoint_dir={train_dir}', f'--data_dir={tmp_path}'])
        return exit_info.value.code
    assert error() == f'error: {folder / "test_batch.bin"}: data file not found'
    (folder / 'test_batch.bin').write_bytes(bytes(3073 * 2 + 5))
    assert error() == (
        f'error: {folder / "test_batch.bin"}: 6,151 bytes is not a whole number '
        'of 3,073-byte CIFAR-10 records (truncated or not a CIFAR-10 binary file)')


@pytest.fixture
def compare_allocators(monkeypatch):
    """scripts/compare_allocators.py as a module."""
    monkeypatch.syspath_prepend(os.path.join(REPO, 'scripts'))
    import compare_allocators
    return compare_allocators


@pytest.mark.slow
def test_compare_allocators_finds_the_tensors_that_differ(compare_allocators, tmp_path,
                                                          capsys):
    """The allocator comparison's dumps and comparison, in this process
    (its allocator is fixed): the same steps twice give the same bits, and
    a changed element is found and named."""
    dumps = []
    for run in ('a', 'b'):
        dumps.append(str(tmp_path / f'{run}.npz'))
        args = compare_allocators.parse_args(['--dump', dumps[-1], '--batch_size=8',
                                              '--steps=2', '--batch_splits=2'])
        compare_allocators.dump(args)
    total, differ = compare_allocators.compare(*dumps)
    # Two towers' forward and backward passes, their averaged gradients.
    assert total > 300 and differ == []
    tensors = dict(np.load(dumps[1]))
    key = next(k for k in tensors if k.endswith(' tower_1/conv2/Conv2D:0'))
    tensors[key] = tensors[key].copy()
    tensors[key].flat[7] += 0.5
    np.savez(dumps[1], **tensors)
    total, differ = compare_allocators.compare(*dumps)
    assert [d[:3] for d in differ] == [('tower_1/conv2/Conv2D:0', 1, tensors[key].size)]
    assert differ[0][3] == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(SystemExit):
        compare_allocators.parse_args(['--batch_size=6', '--batch_splits=4'])
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        '--batch_size=6 does not split into --batch_splits=4 equal parts')


def test_benchmark_bound_warns_when_the_cores_were_busy(scripts_module):
    """The bound row says when all cores' products ran at much less than
    cores x one core's: a bound measured on a busy machine is too low."""
    warning = scripts_module('benchmark').busy_warning
    # Idle: 2 cores at 1.97x one core; 4 cores at 3.2x; one core.
    assert warning(473.0, 240.0, 2) == ''
    assert warning(768.0, 240.0, 4) == ''
    assert warning(100.0, 240.0, 1) == ''
    assert warning(236.3, 240.2, 2) == (
        "; WARNING: 2 cores ran only 0.98x one core's 240.2 GFLOP/s: other "
        'programs were using them, so this bound is too low and the fractions '
        'of it too high; measure on an idle machine')
    assert warning(700.0, 240.0, 4).startswith('; WARNING: 4 cores ran only 2.92x')


def test_benchmark_eval_row_says_its_fraction_of_the_forward_bound(scripts_module):
    """Both evaluations' images/sec after their import, against the
    forward pass's bound; nothing without the bound row."""
    of_bound = scripts_module('benchmark')._eval_of_bound
    assert of_bound(5200.0, 2600.0, None) == ''
    assert of_bound(5200.0, 2600.0, 12_622.0) == (
        ' = 0.41x the bound on evaluation (12,622 images/sec: the forward '
        "pass alone, float32), against the original-style evaluation's "
        '2,600 images/sec after its import = 0.21x')


# --- the kernels' rates ------------------------------------------------------

def test_kernel_rates_time_every_product_of_a_training_step(scripts_module):
    from cifar10.model import layer_sizes
    kernel_rates = scripts_module('kernel_rates')
    benchmark = scripts_module('benchmark')
    layers = kernel_rates.product_layers()
    assert layers == [
        ('conv1', 'conv', [24, 24, 3], [5, 5, 3, 64], 'SAME'),
        ('conv2', 'conv', [12, 12, 64], [5, 5, 64, 64], 'SAME'),
        ('local3', 'matmul', [2304], [2304, 384], None),
        ('local4', 'matmul', [384], [384, 192], None),
        ('softmax_linear', 'matmul', [192], [192, 10], None)]
    found = kernel_rates.kernels(layers, batch=1)
    names = [name for name, _, _ in found]
    # Fourteen products: conv1's input gradient (the images') is not one.
    assert len(names) == 14 and 'conv1 input gradient' not in names
    assert names[:5] == ['conv1 forward', 'conv1 filter gradient', 'conv2 forward',
                         'conv2 filter gradient', 'conv2 input gradient']
    # One example's products add up to the benchmark bound's count.
    assert sum(macs for _, macs, _ in found) == sum(
        benchmark.training_multiply_adds(layer_sizes.layer_sizes()))
    # Each builder makes the product of the shapes it claims: run them at a
    # batch of 2 and compare output sizes with the multiply-adds.
    with tf.Graph().as_default():
        ops = [(name, build(tf.float32)) for name, _, build in kernel_rates.kernels(layers, 2)]
        shapes = {name: op.outputs[0].shape.as_list() for name, op in ops}
    assert shapes['conv2 forward'] == [2, 12, 12, 64]
    assert shapes['conv2 filter gradient'] == [5, 5, 64, 64]
    assert shapes['conv2 input gradient'] == [2, 12, 12, 64]
    assert shapes['local3 filter gradient'] == [2304, 384]
    assert shapes['local3 input gradient'] == [2, 2304]


def test_kernel_rates_prints_each_kernel_and_the_ceiling(scripts_module):
    kernel_rates = scripts_module('kernel_rates')
    macs = {name: count for name, count, _ in
            kernel_rates.kernels(kernel_rates.product_layers(), batch=2)}
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, 'scripts', 'kernel_rates.py'),
         '--batch_size', '4', '--splits', '2', '--windows', '1',
         '--window_secs', '0.001', '--matmul_size', '64', '--precisions', 'float32'],
        capture_output=True, text=True, timeout=TIMEOUT_SECS, env=known_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('CPU kernels: ')
    rows = [[cell.strip() for cell in line.strip('|').split('|')]
            for line in lines if line.startswith('| float32 |')]
    assert [row[1] for row in rows][:3] == ['matmul 64 x 64', 'conv1 forward',
                                            'conv1 filter gradient']
    assert len(rows) == 15
    assert lines[2] == '| precision | kernel | ms at batch 2 | G multiply-adds/s | of the matmul |'
    assert rows[0][2] == ''  # The matmul's time is not a step's.
    matmul_rate = float(rows[0][3].replace(',', ''))
    step_ms = 0.0
    assert [row[1] for row in rows[1:]] == list(macs)
    for row in rows[1:]:
        ms, rate, fraction = float(row[2]), float(row[3].replace(',', '')), float(row[4])
        # A session run takes microseconds at least: no time prints as 0.
        assert ms > 0
        # Each printed figure within the rounding of the printed others
        # (times to 0.001 ms, rates to 0.1, fractions to 0.01; the small
        # products' rates print as 0.0 at this batch): the rate is the
        # kernel's multiply-adds over its time, the fraction rate / matmul.
        count = macs[row[1]]
        assert (count / ((ms + 0.0005) * 1e6) - 0.05 <= rate
                <= count / ((ms - 0.0005) * 1e6) + 0.05), row
        assert (max(rate - 0.05, 0) / (matmul_rate + 0.05) - 0.005 <= fraction
                <= (rate + 0.05) / (matmul_rate - 0.05) + 0.005), row
        step_ms += 2 * ms  # Two parts of 2 examples each.
    ceiling = re.fullmatch(
        r'float32: the kernels alone take ([\d.]+) ms a step of 4 \(2 parts of 2; '
        r'52,647,552 multiply-adds an example\) = ([\d,]+) examples/sec = ([\d.]+)x '
        r'the bound \(([\d,]+) examples/sec at the matmul\'s rate\)', lines[-1])
    assert ceiling, lines[-1]
    # The step is the kernels' times (printed to 0.001 ms each) twice over.
    assert abs(float(ceiling.group(1)) - step_ms) <= 0.005 + 28 * 0.0005


@pytest.mark.parametrize('flags, message', [
    (['--batch_size', '5', '--splits', '2'],
     'error: --batch_size 5 does not split into 2 equal parts'),
    (['--precisions', 'float16'],
     "kernel_rates.py: error: unknown precision 'float16'; expected float32 or bfloat16"),
])
def test_kernel_rates_refuses_bad_flags(flags, message):
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, 'scripts', 'kernel_rates.py'), *flags],
        capture_output=True, text=True, timeout=TIMEOUT_SECS, env=known_env())
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == message
