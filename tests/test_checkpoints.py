"""Portable checkpoint directories and the one-trainer-per-directory lock."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from cifar10.training import checkpoints
from cifar10.training import loop

from conftest import (FAST_TRAIN_FLAGS, REPO, TIMEOUT_SECS, killed_after, known_env,
                      run_in_process, write_constant_checkpoint, write_random_checkpoint)

tf1 = tf.compat.v1


def _state_text(directory):
    return (directory / 'checkpoint').read_text()


def _set_state(directory, newest, paths):
    """Writes a state file by hand, as another machine or TF version might."""
    lines = [f'model_checkpoint_path: "{newest}"']
    lines += [f'all_model_checkpoint_paths: "{p}"' for p in paths]
    # Text format escapes backslashes (Windows paths).
    lines = [line.replace('\\', '\\\\') for line in lines]
    (directory / 'checkpoint').write_text('\n'.join(lines) + '\n')


def _toy_training(train_dir, max_steps, save_steps=2):
    """A few steps of a one-variable model through the trainers' loop."""
    with tf.Graph().as_default():
        global_step = tf1.train.get_or_create_global_step()
        weight = tf1.get_variable('w', [], initializer=tf1.ones_initializer())
        loss = tf.identity(weight)
        train_op = tf.group(tf1.assign_add(global_step, 1), tf1.assign_add(weight, 1.0))
        loop.run_training(train_op, loss, global_step, train_dir=str(train_dir),
                          max_steps=max_steps, examples_per_step=1,
                          save_checkpoint_steps=save_steps)


# --- finding checkpoints ------------------------------------------------------

@pytest.mark.slow
def test_copied_directory_with_absolute_paths_is_read_in_place(tmp_path):
    old, new = tmp_path / 'a' / 'train', tmp_path / 'b' / 'train'
    old.mkdir(parents=True)
    for step in (1, 2, 3):
        write_constant_checkpoint(old, step=step, predicted_class=0)
    assert str(old) in _state_text(old)  # this writer lists absolute paths
    shutil.copytree(old, new)
    # The old directory still exists: its files must not be used.
    assert checkpoints.latest_checkpoint(str(new)) == str(new / 'model.ckpt-3')
    found = checkpoints.find_checkpoints(str(new))
    assert found.listed == (str(new / 'model.ckpt-3'),)
    shutil.rmtree(tmp_path / 'a')
    assert checkpoints.newest_checkpoint(str(new)) == str(new / 'model.ckpt-3')


@pytest.mark.slow
def test_paths_from_another_machine_and_windows_resolve_by_name(tmp_path):
    for step in (4, 8):
        write_constant_checkpoint(tmp_path, step=step, predicted_class=0)
    _set_state(tmp_path, '/home/someone/runs/train/model.ckpt-8',
               ['/home/someone/runs/train/model.ckpt-4',
                '/home/someone/runs/train/model.ckpt-8'])
    found = checkpoints.find_checkpoints(str(tmp_path))
    assert found.newest == str(tmp_path / 'model.ckpt-8')
    assert found.listed == (str(tmp_path / 'model.ckpt-4'), str(tmp_path / 'model.ckpt-8'))
    _set_state(tmp_path, r'C:\Users\someone\train\model.ckpt-4', [])
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(tmp_path / 'model.ckpt-4')


@pytest.mark.parametrize('state', ['missing', 'garbage', 'stale'])
@pytest.mark.slow
def test_unusable_state_file_falls_back_to_newest_by_step(tmp_path, capsys, state):
    for step in (10, 30, 20):  # written out of order: the step decides
        write_constant_checkpoint(tmp_path, step=step, predicted_class=0)
    # An incomplete checkpoint with a higher step does not count.
    (tmp_path / 'x').mkdir()
    write_constant_checkpoint(tmp_path / 'x', step=99, predicted_class=0)
    for name in os.listdir(tmp_path / 'x'):
        if name.startswith('model.ckpt-99.index'):
            shutil.copy(tmp_path / 'x' / name, tmp_path / name)
    capsys.readouterr()
    if state == 'missing':
        (tmp_path / 'checkpoint').unlink()
    elif state == 'garbage':
        (tmp_path / 'checkpoint').write_text('this is { not a state file')
    else:
        _set_state(tmp_path, '/gone/model.ckpt-40', ['/gone/model.ckpt-40'])
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(tmp_path / 'model.ckpt-30')
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f'note: {tmp_path / "checkpoint"} ')
    assert err[0].endswith('using the newest checkpoint in the directory, '
                           'model.ckpt-30 (step 30).')
    if state == 'stale':
        assert '/gone/model.ckpt-40 is not there' in err[0]
    # Said once, not at every look (an evaluator watching the directory).
    checkpoints.latest_checkpoint(str(tmp_path))
    assert capsys.readouterr().err == ''


def test_empty_or_missing_directory_has_no_checkpoint(tmp_path):
    assert checkpoints.latest_checkpoint(str(tmp_path)) is None
    assert checkpoints.latest_checkpoint(str(tmp_path / 'nope')) is None
    with pytest.raises(checkpoints.DataError, match='no checkpoint found in'):
        checkpoints.newest_checkpoint(str(tmp_path))


def test_is_complete_needs_index_and_every_shard(tmp_path):
    write_constant_checkpoint(tmp_path, step=1, predicted_class=0)
    prefix = str(tmp_path / 'model.ckpt-1')
    assert checkpoints.is_complete(prefix)
    data = [n for n in os.listdir(tmp_path) if '.data-' in n]
    assert data == ['model.ckpt-1.data-00000-of-00001']
    os.rename(tmp_path / data[0], tmp_path / 'aside')
    assert not checkpoints.is_complete(prefix)
    os.rename(tmp_path / 'aside', tmp_path / data[0])
    os.remove(prefix + '.index')
    assert not checkpoints.is_complete(prefix)


# --- writing them -------------------------------------------------------------

def test_trainer_writes_relative_paths_and_resumes_a_moved_directory(tmp_path, capsys):
    old, new = tmp_path / 'a', tmp_path / 'b'
    _toy_training(old, max_steps=6)
    state = _state_text(old)
    assert str(tmp_path) not in state
    assert 'model_checkpoint_path: "model.ckpt-6"' in state
    shutil.move(old, new)
    # As an older run (or the original tutorial) would have left it.
    _set_state(new, f'{old}/model.ckpt-6', [f'{old}/model.ckpt-{s}' for s in (2, 4, 6)])
    capsys.readouterr()
    _toy_training(new, max_steps=14)
    out = capsys.readouterr().out
    assert f'Resuming from checkpoint {new / "model.ckpt-6"} at step 6.' in out
    assert checkpoints.checkpoint_step(checkpoints.latest_checkpoint(str(new))) == 14
    assert tf1.train.load_variable(str(new / 'model.ckpt-14'), 'w') == 15.0
    # The resumed saver knew the old checkpoints: rotation (5 kept) removed
    # the oldest, and the rewritten state file is relative again.
    state = tf1.train.get_checkpoint_state(str(new))
    kept = [os.path.basename(p) for p in state.all_model_checkpoint_paths]
    assert kept == [f'model.ckpt-{s}' for s in (6, 8, 10, 12, 14)]
    assert not (new / 'model.ckpt-2.index').exists()
    assert not (new / 'model.ckpt-4.index').exists()
    assert str(tmp_path) not in _state_text(new)


@pytest.mark.slow
def test_scripts_read_a_copied_directory(data_dir, tmp_path, image_file):
    old, new = tmp_path / 'a' / 'train', tmp_path / 'b' / 'train'
    old.mkdir(parents=True)
    write_random_checkpoint(old, step=80)
    shutil.copytree(old, new)
    shutil.rmtree(tmp_path / 'a')
    result = run_in_process('cifar10_eval.py', f'--data_dir={data_dir}', f'--checkpoint_dir={new}',
                            f'--eval_dir={tmp_path / "eval"}', '--run_once', '--num_examples=100')
    assert result.returncode == 0, result.stderr
    assert re.search(r'precision @ 1 = \d\.\d{3}', result.stdout)
    result = run_in_process('cifar10_predict.py', f'--checkpoint_dir={new}', '--json=true',
                            str(image_file))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)['checkpoint'] == str(new / 'model.ckpt-80')
    export_dir = tmp_path / 'export'
    result = run_in_process('cifar10_export.py', f'--checkpoint_dir={new}',
                            f'--export_dir={export_dir}')
    assert result.returncode == 0, result.stderr
    assert os.listdir(export_dir) == ['80']


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / 'image.png'
    pixels = np.random.RandomState(0).randint(0, 256, (32, 32, 3)).astype(np.uint8)
    path.write_bytes(tf.io.encode_png(pixels).numpy())
    return path


# --- one trainer per directory --------------------------------------------------

def test_lock_is_exclusive_until_released(tmp_path):
    with checkpoints.lock_train_dir(str(tmp_path)):
        assert (tmp_path / checkpoints.LOCK_FILE).read_text().split()[0] == str(os.getpid())
        with pytest.raises(checkpoints.DirectoryLocked) as e:
            checkpoints.lock_train_dir(str(tmp_path))
        assert str(e.value) == (
            f'--train_dir={tmp_path} is in use by another trainer (pid {os.getpid()} '
            f'on {os.uname().nodename}); stop it, or train into another --train_dir')
    checkpoints.lock_train_dir(str(tmp_path)).release()


_HOLDER = ('import sys, time\n'
           'from cifar10.training import checkpoints\n'
           'lock = checkpoints.lock_train_dir(sys.argv[1])\n'
           'print("locked", flush=True)\n'
           'time.sleep(%d)\n' % TIMEOUT_SECS)


@pytest.mark.slow
def test_second_trainer_is_refused_and_writes_nothing(data_dir, tmp_path):
    train_dir = tmp_path / 'train'
    train_dir.mkdir()
    write_constant_checkpoint(train_dir, step=5, predicted_class=0)
    # A process that takes the directory's lock and sleeps.
    holder = subprocess.Popen([sys.executable, '-c', _HOLDER, str(train_dir)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=known_env())
    with killed_after(holder):
        assert holder.stdout.readline() == 'locked\n'
        before = {n: (train_dir / n).stat().st_mtime_ns for n in os.listdir(train_dir)}
        for script in ('cifar10_train.py', 'cifar10_multi_gpu_train.py'):
            result = run_in_process(script, f'--data_dir={data_dir}', f'--train_dir={train_dir}',
                                    '--max_steps=8', *FAST_TRAIN_FLAGS)
            assert result.returncode == 1
            assert result.stderr.splitlines() == [
                f'error: --train_dir={train_dir} is in use by another trainer (pid '
                f'{holder.pid} on {os.uname().nodename}); stop it, or train into '
                'another --train_dir']
            assert result.stdout == ''
            after = {n: (train_dir / n).stat().st_mtime_ns for n in os.listdir(train_dir)}
            assert after == before
        # Readers take no lock.
        result = run_in_process('cifar10_eval.py', f'--data_dir={data_dir}',
                                f'--checkpoint_dir={train_dir}', f'--eval_dir={tmp_path / "e"}',
                                '--run_once', '--num_examples=100')
        assert result.returncode == 0, result.stderr
        # A SIGKILLed holder leaves no lock behind.
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=TIMEOUT_SECS)
        checkpoints.lock_train_dir(str(train_dir)).release()


@pytest.mark.slow
def test_running_trainer_holds_its_directory(data_dir, tmp_path):
    train_dir = tmp_path / 'train'
    first = subprocess.Popen(
        [sys.executable, '-u', os.path.join('cifar10', 'cifar10_train.py'),
         f'--data_dir={data_dir}', f'--train_dir={train_dir}', '--max_steps=1000000',
         '--log_frequency=1', *FAST_TRAIN_FLAGS],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=known_env())
    with killed_after(first):
        # Wait until it trains.
        for line in first.stdout:
            if ': step ' in line:
                break
        assert ': step ' in line
        # A bounded run: were it not refused, it would end (and the
        # assertion show why) instead of training until the timeout.
        result = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                                f'--train_dir={train_dir}', '--max_steps=2',
                                *FAST_TRAIN_FLAGS)
        assert result.returncode == 1, (first.poll(), result.stdout, result.stderr)
        assert result.stderr.splitlines() == [
            f'error: --train_dir={train_dir} is in use by another trainer (pid '
            f'{first.pid} on {os.uname().nodename}); stop it, or train into another '
            '--train_dir']
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=TIMEOUT_SECS)
    assert first.returncode == 0, err
    assert 'SIGTERM received' in out or 'SIGTERM received' in err
    # Only the first trainer's event file is there.
    events = [n for n in os.listdir(train_dir) if n.startswith('events.out.tfevents')]
    assert len(events) == 1


# --- damaged checkpoints and a full disk -----------------------------------------

def test_a_damaged_newest_checkpoint_names_the_whole_one_and_the_way_on(tmp_path, capsys):
    train_dir = tmp_path / 'train'
    _toy_training(train_dir, max_steps=6)
    # The newest data file cut short, as a crash during a copy leaves it.
    data = train_dir / 'model.ckpt-6.data-00000-of-00001'
    data.write_bytes(data.read_bytes()[:len(data.read_bytes()) // 2])
    with pytest.raises(checkpoints.DataError) as e:
        _toy_training(train_dir, max_steps=10)
    message = str(e.value)
    assert '\n' not in message
    assert message.startswith(f'{train_dir / "model.ckpt-6"}: cannot restore this checkpoint (')
    assert message.endswith(
        f'The newest whole checkpoint is {train_dir / "model.ckpt-4"} (step 4): move the '
        f'files model.ckpt-6.* out of {train_dir} (they are not deleted) and run the same '
        'command to continue from it.')
    # Nothing was deleted or written.
    assert sorted(p.name for p in train_dir.glob('model.ckpt-6.*')) == [
        'model.ckpt-6.data-00000-of-00001', 'model.ckpt-6.index', 'model.ckpt-6.meta']
    # Doing as it says continues from step 4.
    aside = tmp_path / 'aside'
    aside.mkdir()
    for path in train_dir.glob('model.ckpt-6.*'):
        shutil.move(path, aside / path.name)
    capsys.readouterr()
    _toy_training(train_dir, max_steps=10)
    out = capsys.readouterr().out
    assert f'Resuming from checkpoint {train_dir / "model.ckpt-4"} at step 4.' in out
    assert checkpoints.checkpoint_step(checkpoints.latest_checkpoint(str(train_dir))) == 10
    # With no whole checkpoint left, it says so.
    for path in train_dir.glob('model.ckpt-*.data-*'):
        path.write_bytes(b'')
    newest = checkpoints.latest_checkpoint(str(train_dir))
    with pytest.raises(checkpoints.DataError,
                       match=re.escape(f'No other checkpoint in {train_dir} can be read.')):
        checkpoints.checkpoint_step(newest)


def test_disk_full_messages_name_the_file_and_the_whole_checkpoint(tmp_path):
    _toy_training(tmp_path, max_steps=4)
    error = tf.errors.ResourceExhaustedError(
        None, None, "Graph execution error:\n\nNode: 'save/SaveV2'\n"
        f'{tmp_path}/model.ckpt-6.data-00000-of-00001.tempstate612; No space left on device\n'
        '\t [[{{node save/SaveV2}}]]')
    assert str(checkpoints.disk_full(error, str(tmp_path), 'worker 0: ')) == (
        f'worker 0: no space left on device while writing {tmp_path}/model.ckpt-6; the '
        f'newest whole checkpoint is {tmp_path}/model.ckpt-4 (step 4); free some space '
        'and run the same command to resume')
    error = OSError(28, 'No space left on device', str(tmp_path / 'checkpoint'))
    assert str(checkpoints.disk_full(error, str(tmp_path / 'empty'))) == (
        f'no space left on device while writing {tmp_path / "checkpoint"}; no whole '
        f'checkpoint is in {tmp_path / "empty"} yet; free some space and run the same '
        'command to resume')
    # Running out of memory, also a ResourceExhaustedError, is not a full disk.
    oom = tf.errors.ResourceExhaustedError(None, None, 'OOM when allocating tensor')
    assert checkpoints.disk_full(oom, str(tmp_path)) is None
    assert checkpoints.disk_full(ValueError('shape mismatch'), str(tmp_path)) is None


def _can_mount_a_small_disk(path):
    """Whether this process may mount a tmpfs in a mount namespace of its
    own (root, or a kernel that lets users make namespaces)."""
    try:
        result = subprocess.run(
            ['unshare', '--mount', '--map-root-user', 'sh', '-c',
             f'mount -t tmpfs -o size=1m tmpfs {path} && touch {path}/x'],
            capture_output=True, timeout=TIMEOUT_SECS, env=known_env())
    except OSError:
        return False
    return result.returncode == 0


@pytest.mark.slow
def test_a_full_disk_stops_training_with_what_to_do(data_dir, tmp_path):
    """Training into a 16 MB disk: the checkpoint of step 0 fits, the next
    one does not."""
    disk = tmp_path / 'disk'
    disk.mkdir()
    if not _can_mount_a_small_disk(disk):
        pytest.skip('this machine lets no test process mount a small disk (tmpfs in a '
                    'mount namespace of its own), so a full disk cannot be made')
    train_dir = disk / 'train'
    command = [sys.executable, os.path.join(REPO, 'cifar10', 'cifar10_train.py'),
               f'--data_dir={data_dir}', f'--train_dir={train_dir}', '--max_steps=30',
               '--save_checkpoint_steps=10', *FAST_TRAIN_FLAGS]
    # The disk lives as long as the trainer, in the trainer's namespace; the
    # script lists what the trainer left on it.
    script = (f'mount -t tmpfs -o size=16m tmpfs {disk} && "$@"; status=$?; '
              f'ls {train_dir}; exit $status')
    result = subprocess.run(['unshare', '--mount', '--map-root-user', 'sh', '-c', script,
                             'sh', *command], capture_output=True, text=True,
                            timeout=TIMEOUT_SECS, env=known_env())
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.splitlines()[-1] == (
        f'error: no space left on device while writing {train_dir}/model.ckpt-10; the '
        f'newest whole checkpoint is {train_dir}/model.ckpt-0 (step 0); free some space '
        'and run the same command to resume')
    assert 'model.ckpt-0.index' in result.stdout.split()
