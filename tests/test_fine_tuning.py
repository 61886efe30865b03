"""Fine-tuning (--fine_tune_from, --trainable_scopes): what fits is restored,
frozen layers stay bit-identical, and a run's own checkpoint comes first."""

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_eval
from cifar10 import cifar10_train
from cifar10.runtime.errors import DataError
from cifar10.training import checkpoints
from cifar10.training import fine_tuning
from conftest import FAST_TRAIN_FLAGS, run_in_process, write_random_checkpoint

tf1 = tf.compat.v1


def _values(path):
    reader = tf.train.load_checkpoint(path)
    return {name: reader.get_tensor(name)
            for name in reader.get_variable_to_shape_map()}


@pytest.mark.slow
def test_fine_tuned_run_restores_what_fits_and_keeps_frozen_layers(data_dir, tmp_path):
    source = tmp_path / 'tutorial'
    write_random_checkpoint(source, step=500, raw_too=True)
    trained = _values(str(source / 'model.ckpt-500'))
    train_dir = tmp_path / 'local'
    flags = [f'--data_dir={data_dir}', f'--train_dir={train_dir}', '--model=local',
             f'--fine_tune_from={source}', '--trainable_scopes=local3,local4,softmax_linear',
             '--log_frequency=1', *FAST_TRAIN_FLAGS]
    result = run_in_process('cifar10_train.py', '--max_steps=3', *flags)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines.pop(1).startswith('CPU kernels: ')
    assert lines.pop(1) == 'Training input: queue runners (FixedLengthRecordReader, a batch at a time, shuffle queue).'
    assert lines[2] == f'No checkpoint in {train_dir}: starting from step 0.'
    # One line: what was restored (same name and shape) and what was not.
    assert lines[3] == (
        f'Fine-tuning from {source}/model.ckpt-500: restored 10 variables: '
        'conv1/weights (+average), conv1/biases (+average), conv2/weights (+average), '
        'conv2/biases (+average), softmax_linear/biases (+average); freshly '
        'initialized 16: global_step (a new run starts at step 0); local3/weights '
        '(+average), local3/biases (+average), local4/weights (+average), '
        'local4/biases (+average), softmax_linear/weights (+average) (shape '
        'differs); local3/weight_loss/avg, local4/weight_loss/avg, '
        'softmax_linear/weight_loss/avg, cross_entropy/avg, total_loss/avg (not in '
        'the checkpoint).')
    # Steps count from 0 again, not from the other model's 500.
    assert [line.split(', ')[0].split()[-1] for line in lines if ': step ' in line] == [
        '2', '3']
    ckpt = str(train_dir / 'model.ckpt-3')
    tuned = _values(ckpt)
    assert tuned['global_step'] == 3
    for name in ('conv1/weights', 'conv1/biases', 'conv2/weights', 'conv2/biases'):
        for suffix in ('', '/ExponentialMovingAverage'):
            assert tuned[name + suffix].tobytes() == trained[name + suffix].tobytes()
    # softmax_linear/biases fitted, was restored, and then trained on.
    assert not np.array_equal(tuned['softmax_linear/biases'],
                              trained['softmax_linear/biases'])
    assert tuned['local3/weights'].shape == (6, 6, 3, 3, 64, 32)

    # Evaluation finds every average it needs, the frozen ones included.
    evaluator = cifar10_eval.Evaluator('test', data_dir, 100, 100, str(tmp_path / 'eval'),
                                       network=cifar10.Network(model='local'))
    try:
        assert evaluator.evaluate(ckpt).confusion.sum() == 100
    finally:
        evaluator.close()

    # Once train_dir has a checkpoint, resuming from it wins.
    result = run_in_process('cifar10_train.py', '--max_steps=5', *flags)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        f'note: --fine_tune_from={source} is not used: --train_dir has a checkpoint '
        'of its own (model.ckpt-3), and resuming from it comes first.')
    assert f'Resuming from checkpoint {ckpt} at step 3.' in result.stdout
    assert 'Fine-tuning from' not in result.stdout
    resumed = _values(str(train_dir / 'model.ckpt-5'))
    assert resumed['conv1/weights'].tobytes() == trained['conv1/weights'].tobytes()
    assert not np.array_equal(resumed['local4/weights'], tuned['local4/weights'])


def test_fine_tune_source_errors(tmp_path):
    with pytest.raises(DataError, match=f'--fine_tune_from={tmp_path}: no checkpoint in '
                                        'this directory'):
        fine_tuning.source_checkpoint(str(tmp_path))
    missing = str(tmp_path / 'model.ckpt-9')
    with pytest.raises(DataError, match=f'--fine_tune_from={missing}: not a checkpoint'):
        fine_tuning.source_checkpoint(missing)
    write_random_checkpoint(tmp_path, step=9)
    assert fine_tuning.source_checkpoint(missing) == missing
    assert fine_tuning.source_checkpoint(str(tmp_path)) == missing
    # Nothing of it fits a graph of unrelated variables.
    with tf.Graph().as_default():
        tf1.get_variable('other', [3])
        with pytest.raises(DataError, match='none of the variables of .* fits this model'):
            fine_tuning.init_fn(str(tmp_path))


def test_fine_tune_from_a_bad_path_writes_nothing(data_dir, tmp_path):
    train_dir = tmp_path / 'train'
    result = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                            f'--train_dir={train_dir}', f'--fine_tune_from={tmp_path / "nope"}',
                            '--max_steps=2', *FAST_TRAIN_FLAGS)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'error: --fine_tune_from={tmp_path / "nope"}: not a checkpoint (give a '
        'prefix such as DIR/model.ckpt-10000, or its directory)')
    assert checkpoints.latest_checkpoint(str(train_dir)) is None


@pytest.mark.parametrize('value', ['conv9', '', 'local3,,fc'])
def test_trainable_scopes_flag_is_checked(value, capsys):
    with pytest.raises(SystemExit) as e:
        cifar10_train.parse_args([f'--trainable_scopes={value}'])
    assert e.value.code == 2
    assert 'argument --trainable_scopes: expected a comma-separated list of conv1, ' \
           'conv2, local3, local4, softmax_linear' in capsys.readouterr().err
    assert cifar10_train.parse_args(
        ['--trainable_scopes=local4, softmax_linear']).trainable_scopes == (
            'local4', 'softmax_linear')
