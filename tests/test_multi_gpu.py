"""Tests of the towers (parallel/towers.py): gradient averaging, equivalence with
one device, summaries; of cifar10_multi_gpu_train.py's real run on the CPU;
and of cifar10_train.py's towers that split a batch (--batch_splits)."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_eval
from cifar10 import cifar10_multi_gpu_train as multi
from cifar10 import cifar10_train
from cifar10.parallel import towers
from cifar10.runtime import session
from cifar10.training import checkpoints

from conftest import FAST_TRAIN_FLAGS, run_in_process

tf1 = tf.compat.v1

PROGRESS = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: step (\d+), '
                      r'loss = \d+\.\d\d \((\d+\.\d) examples/sec; (\d+\.\d{3}) sec/batch\)$')


def test_average_gradients_matches_numpy():
    rng = np.random.RandomState(0)
    values = [[rng.randn(3, 4), rng.randn(5)] for _ in range(3)]
    with tf.Graph().as_default():
        a = tf1.get_variable('a', [3, 4])
        b = tf1.get_variable('b', [5])
        tower_grads = [[(tf.constant(ga), a), (tf.constant(gb), b)] for ga, gb in values]
        averaged = towers.average_gradients(tower_grads)
        assert [v for _, v in averaged] == [a, b]
        with tf1.Session() as sess:
            got = sess.run([g for g, _ in averaged])
    np.testing.assert_allclose(got[0], np.mean([v[0] for v in values], axis=0))
    np.testing.assert_allclose(got[1], np.mean([v[1] for v in values], axis=0))


def test_tower_devices():
    assert multi.tower_devices(2, 0) == ['/cpu:0', '/cpu:0']
    assert multi.tower_devices(3, 2) == ['/gpu:0', '/gpu:1', '/gpu:0']
    assert multi.tower_devices(2, 4) == ['/gpu:0', '/gpu:1']


def _initial_values():
    """Random initial values for every variable of the model, by name."""
    with tf.Graph().as_default():
        tf1.set_random_seed(3)
        cifar10.inference(tf.zeros([1, 24, 24, 3]))
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            return {v.op.name: sess.run(v) for v in tf1.trainable_variables()}


def _step(build, init):
    """Builds a graph with ``build``, loads ``init``, runs one train step."""
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()
        train_op, loss = build(global_step)
        variables = {v.op.name: v for v in tf1.global_variables()}
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            for name, value in init.items():
                variables[name].load(value, sess)
                variables[name + '/ExponentialMovingAverage'].load(value, sess)
            loss_value = sess.run([train_op, loss])[1]
            after = {name: sess.run(variables[name]) for name in init}
            averaged = {name: sess.run(variables[name + '/ExponentialMovingAverage'])
                        for name in init}
            return loss_value, after, averaged, sess.run(global_step)


def _assert_same_step(got, expected, init):
    """Two _step results agree: one step each, same loss, same variables and
    averages (to float rounding), and the step changed the weights."""
    loss, after, averaged, step = got
    loss_1, after_1, averaged_1, step_1 = expected
    assert step == step_1 == 1
    assert loss == pytest.approx(loss_1, rel=1e-5)
    for name in init:
        assert not np.allclose(after_1[name], init[name]) or name.endswith('biases')
        np.testing.assert_allclose(after[name], after_1[name], rtol=1e-4, atol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(averaged[name], averaged_1[name], rtol=1e-4,
                                   atol=1e-6, err_msg=name)


@pytest.mark.parametrize('lrn_gradient', ['matmul', 'builtin'])
@pytest.mark.slow
def test_two_tower_step_equals_one_step_on_concatenated_batches(lrn_gradient):
    rng = np.random.RandomState(1)
    images = rng.randn(2, 8, 24, 24, 3).astype(np.float32)
    labels = rng.randint(0, 10, (2, 8)).astype(np.int32)
    init = _initial_values()

    def two_towers(global_step):
        train_op, loss, _ = towers.build_train_op(
            lambda i: (tf.constant(images[i]), tf.constant(labels[i])),
            global_step, 8, ['/cpu:0', '/cpu:0'],
            cifar10.Network(lrn_gradient=lrn_gradient))
        # Each tower computes the LRN gradients the asked way.
        op_types = [op.type for op in tf1.get_default_graph().get_operations()]
        assert op_types.count('LRNGrad') == (4 if lrn_gradient == 'builtin' else 0)
        return train_op, loss

    def single_device(global_step):
        logits = cifar10.inference(tf.constant(images.reshape(16, 24, 24, 3)))
        total = cifar10.loss(logits, tf.constant(labels.reshape(16)))
        return cifar10.train(total, global_step, 8), total

    _assert_same_step(_step(two_towers, init), _step(single_device, init), init)


def test_variables_shared_and_summaries_from_last_tower():
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()
        _, _, summary_op = towers.build_train_op(
            lambda i: (tf.random.normal([4, 24, 24, 3]), tf.zeros([4], tf.int32)),
            global_step, 4, ['/cpu:0'] * 3)
        assert len(tf1.trainable_variables()) == 10
        names = {v.op.name for v in tf1.global_variables()}
        assert {'cross_entropy/avg', 'total_loss/avg', 'local3/weight_loss/avg',
                'global_step'} <= names
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            summary = tf1.Summary.FromString(sess.run(summary_op))
    tags = [v.tag for v in summary.value]
    assert len(tags) == len(set(tags))
    assert 'conv1/conv1/activations' in tags and 'local4/local4/sparsity' in tags
    assert 'cross_entropy (raw)' in tags
    assert 'learning_rate' in tags and 'total_loss' in tags
    assert 'conv1/weights/gradients' in tags
    assert not any(tag.startswith('tower_') for tag in tags)


def test_bad_num_gpus_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        multi.parse_args(['--num_gpus=0'])
    assert exit_info.value.code == 2
    assert multi.parse_args(['--num_gpus=2', '--use_fp16=false']).num_gpus == 2


@pytest.mark.slow
def test_two_towers_on_cpu_train_and_checkpoint_evaluates(data_dir, tmp_path):
    train_dir = tmp_path / 'train'
    result = run_in_process('cifar10_multi_gpu_train.py', '--num_gpus=2',
                            f'--data_dir={data_dir}', f'--train_dir={train_dir}',
                            '--max_steps=6', '--log_frequency=2', *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    lines = result.stdout.splitlines()
    assert lines[0] == ('Training the tutorial model (1,068,298 parameters) on '
                        'CIFAR-10 (10 classes).')
    assert lines[1].startswith('CPU kernels: ')
    assert lines[2] == 'Asked for 2 GPU(s), found 0: running the 2 tower(s) on the CPU.'
    matches = [PROGRESS.match(line) for line in lines if ': step ' in line]
    assert [int(m.group(1)) for m in matches] == [2, 4, 6]
    for m in matches:
        # examples/sec counts both towers: 2 x 16 examples per step.
        assert float(m.group(2)) == pytest.approx(32 / float(m.group(3)), rel=0.05)
    ckpt = tf1.train.latest_checkpoint(str(train_dir))
    # Six synchronous steps: the global step advanced once per step.
    assert checkpoints.checkpoint_step(ckpt) == 6
    evaluator = cifar10_eval.Evaluator('test', data_dir, 100, 200, str(tmp_path / 'eval'))
    try:
        result = evaluator.evaluate(ckpt)
    finally:
        evaluator.close()
    assert result.global_step == 6 and result.confusion.sum() == 200

    # Checkpoints are interchangeable: the single-device trainer resumes it.
    result = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                            f'--train_dir={train_dir}', '--max_steps=8', *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stderr
    assert 'model.ckpt-6 at step 6.' in result.stdout
    assert checkpoints.checkpoint_step(tf1.train.latest_checkpoint(str(train_dir))) == 8


# ----------------------------------------------------------------------------
# cifar10_train.py --batch_splits: towers that split one batch.

def _split_batch():
    rng = np.random.RandomState(2)
    return (rng.randn(8, 24, 24, 3).astype(np.float32),
            rng.randint(0, 10, 8).astype(np.int32))


@pytest.mark.parametrize('splits', [2, 4])
@pytest.mark.slow
def test_split_batch_step_equals_whole_batch_step(splits):
    images, labels = _split_batch()
    init = _initial_values()

    def build(splits):
        def graph(global_step):
            train_op, loss, _ = cifar10_train.build_train_op(
                tf.constant(images), tf.constant(labels), global_step, 8, splits)
            return train_op, loss
        return graph

    _assert_same_step(_step(build(splits), init), _step(build(1), init), init)


def _summaries(splits, init):
    """The summaries of the split batch before any step, by tag."""
    images, labels = _split_batch()
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()
        _, _, summary_op = cifar10_train.build_train_op(
            tf.constant(images), tf.constant(labels), global_step, 8, splits)
        if summary_op is None:
            summary_op = tf1.summary.merge_all()
        variables = {v.op.name: v for v in tf1.global_variables()}
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            for name, value in init.items():
                variables[name].load(value, sess)
            summary = tf1.Summary.FromString(sess.run(summary_op))
    tags = [v.tag for v in summary.value]
    assert len(tags) == len(set(tags))
    return {v.tag: v for v in summary.value}


@pytest.mark.slow
def test_split_batch_summarizes_each_layer_over_the_whole_batch():
    init = _initial_values()
    whole, split = _summaries(1, init), _summaries(2, init)
    # The same summaries under the same tags, none per tower.
    assert set(split) == set(whole)
    for layer, units in [('conv1/conv1', 24 * 24 * 64), ('conv2/conv2', 12 * 12 * 64),
                         ('local3/local3', 384), ('local4/local4', 192),
                         ('softmax_linear/softmax_linear', 10)]:
        histo, expected = split[layer + '/activations'].histo, whole[layer + '/activations'].histo
        assert histo.num == expected.num == 8 * units
        assert histo.min == pytest.approx(expected.min, abs=1e-5)
        assert histo.max == pytest.approx(expected.max, rel=1e-5)
        assert histo.sum == pytest.approx(expected.sum, rel=1e-4)
        # Bucket by bucket (a value on a bucket's edge may round either way).
        limits = sorted(set(histo.bucket_limit) | set(expected.bucket_limit))
        got = dict(zip(histo.bucket_limit, histo.bucket))
        want = dict(zip(expected.bucket_limit, expected.bucket))
        moved = sum(abs(got.get(x, 0) - want.get(x, 0)) for x in limits)
        assert moved <= 0.001 * histo.num, layer
        assert split[layer + '/sparsity'].simple_value == pytest.approx(
            whole[layer + '/sparsity'].simple_value, abs=1e-6)


@pytest.mark.parametrize('gpus, lrn, splits', [(0, 'matmul', 2), (1, 'builtin', 1),
                                               (4, 'builtin', 1)])
def test_defaults_follow_the_device(monkeypatch, gpus, lrn, splits):
    assert session.default_lrn_gradient(num_gpus=gpus) == lrn
    assert session.default_batch_splits(num_cores=8, num_gpus=gpus) == splits
    # The trainers ask the machine through the same functions.
    monkeypatch.setattr(session, 'visible_gpus', lambda: gpus)
    monkeypatch.setattr(os, 'cpu_count', lambda: 8)
    args = cifar10_train.parse_args([])
    assert (args.lrn_gradient, args.batch_splits) == (lrn, splits)
    assert multi.parse_args([]).lrn_gradient == lrn
    # A flag given wins over the device.
    other = 'builtin' if lrn == 'matmul' else 'matmul'
    assert cifar10_train.parse_args([f'--lrn_gradient={other}']).lrn_gradient == other
    assert session.default_lrn_gradient() == lrn


def test_batch_splits_flag(monkeypatch, capsys):
    assert session.default_batch_splits(num_cores=2, num_gpus=0) == 2
    assert session.default_batch_splits(num_cores=16, num_gpus=0) == 2
    assert session.default_batch_splits(num_cores=1, num_gpus=0) == 1
    assert session.default_batch_splits(num_cores=8, num_gpus=1) == 1
    monkeypatch.setattr(session, 'default_batch_splits', lambda: 4)
    assert cifar10_train.parse_args([]).batch_splits == 4
    assert cifar10_train.parse_args(['--batch_splits=1']).batch_splits == 1
    for argv, message in [(['--batch_size=6', '--batch_splits=4'],
                           '--batch_size=6 does not split into --batch_splits=4 '
                           'equal parts'),
                          (['--batch_size=6'], '--batch_splits=4'),
                          (['--batch_splits=0'], 'expected an integer > 0, got 0')]:
        with pytest.raises(SystemExit) as exit_info:
            cifar10_train.parse_args(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
