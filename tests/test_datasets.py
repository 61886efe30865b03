"""CIFAR-100 and SVHN (--dataset): layouts, validation, obtaining the data,
the SVHN converter, and training, evaluation, prediction and export on
files in their official formats."""

import importlib.util
import os
import tarfile

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10_eval
from cifar10 import cifar10_export
from cifar10 import cifar10_input
from cifar10 import cifar10_predict
from cifar10.data import datasets
from cifar10.data import download
from cifar10.data import record_files
from cifar10.runtime.errors import DataError
from conftest import REPO, FAST_TRAIN_FLAGS, run_in_process

tf1 = tf.compat.v1

FINE_NAMES = [f'thing_{i}' for i in range(100)]
COARSE_NAMES = [f'group_{i}' for i in range(20)]


def _images(count, seed):
    """Random images [count, 32, 32, 3] and their record pixels."""
    # Drawn as bytes: as int64 the 99,289 SVHN images took 2.4 GB and 4 s.
    images = np.random.RandomState(seed).randint(0, 256, (count, 32, 32, 3), dtype=np.uint8)
    return images, images.transpose(0, 3, 1, 2).reshape(count, -1)


def _cifar100_records(count, seed):
    fine = np.random.RandomState(seed).randint(0, 100, count).astype(np.uint8)
    images, pixels = _images(count, seed)
    records = np.concatenate([(fine // 5)[:, None], fine[:, None], pixels], axis=1)
    return records, images


def _write_cifar100(root, counts=None):
    folder = os.path.join(root, 'cifar-100-binary')
    os.makedirs(folder, exist_ok=True)
    counts = counts or {'train.bin': 50000, 'test.bin': 10000}
    for seed, (name, count) in enumerate(counts.items()):
        _cifar100_records(count, seed)[0].tofile(os.path.join(folder, name))
    for name, names in (('fine_label_names.txt', FINE_NAMES),
                        ('coarse_label_names.txt', COARSE_NAMES)):
        with open(os.path.join(folder, name), 'w') as f:
            f.write('\n'.join(names) + '\n')
    return folder


def _write_svhn(root):
    folder = os.path.join(root, 'svhn-bin')
    os.makedirs(folder, exist_ok=True)
    for seed, (name, count) in enumerate((('train.bin', 73257), ('test.bin', 26032))):
        labels = np.arange(count) % 10
        # Each digit a colour of its own, so that a few steps learn something.
        images, pixels = _images(count, seed)
        pixels = pixels // 2 + (labels * 12).astype(np.uint8)[:, None]  # at most 235
        np.concatenate([labels[:, None].astype(np.uint8), pixels], axis=1).tofile(
            os.path.join(folder, name))
    return folder


@pytest.fixture(scope='module')
def cifar100_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('cifar100'))
    _write_cifar100(root)
    return root


@pytest.fixture(scope='module')
def svhn_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('svhn'))
    _write_svhn(root)
    return root


# --- layouts and validation --------------------------------------------------

def test_dataset_descriptions():
    assert datasets.CIFAR10.record_bytes == 3073 and datasets.CIFAR10.num_train == 50000
    fine, coarse = datasets.get('cifar100'), datasets.get('cifar100', 'coarse')
    assert (fine.record_bytes, fine.num_classes, fine.label_byte) == (3074, 100, 1)
    assert (coarse.num_classes, coarse.label_byte) == (20, 0)
    assert fine.describe() == 'CIFAR-100 (fine labels, 100 classes)'
    svhn = datasets.get('svhn')
    assert (svhn.record_bytes, svhn.num_train, svhn.num_test) == (3073, 73257, 26032)
    assert svhn.class_names == tuple('0123456789')
    with pytest.raises(ValueError):
        datasets.get('mnist')


def test_cifar100_records_decode_with_fine_or_coarse_labels(tmp_path):
    folder = _write_cifar100(str(tmp_path), {'test.bin': 10000})
    records, images = _cifar100_records(10000, 0)
    for dataset, byte in ((datasets.CIFAR100_FINE, 1), (datasets.CIFAR100_COARSE, 0)):
        with tf.Graph().as_default():
            batch, labels, count = cifar10_input.inputs('test', folder, 20, dataset)
            with tf1.Session() as sess:
                sess.run(tf1.local_variables_initializer())
                coord = tf1.train.Coordinator()
                threads = tf1.train.start_queue_runners(sess, coord)
                got_images, got_labels = sess.run([batch, labels])
                coord.request_stop()
                coord.join(threads)
        assert count == 10000
        np.testing.assert_array_equal(got_labels, records[:20, byte])
    # The image bytes follow both label bytes: the central crop, standardized.
    crop = images[:20, 4:28, 4:28, :].astype(np.float64)
    mean = crop.mean(axis=(1, 2, 3), keepdims=True)
    std = np.maximum(crop.std(axis=(1, 2, 3), keepdims=True), 1 / np.sqrt(24 * 24 * 3))
    np.testing.assert_allclose(got_images, (crop - mean) / std, atol=1e-4)
    assert datasets.CIFAR100_FINE.class_names_in(folder) == FINE_NAMES
    assert datasets.CIFAR100_COARSE.class_names_in(folder) == COARSE_NAMES


def test_validation_knows_each_dataset(tmp_path):
    validate = record_files.validate_data_files
    fine = datasets.CIFAR100_FINE
    path = str(tmp_path / 'train.bin')
    np.zeros((3, 3073), np.uint8).tofile(path)
    with pytest.raises(DataError, match='9,219 bytes is not a whole number of 3,074-byte '
                                        'CIFAR-100 records'):
        validate([path], fine)
    records, _ = _cifar100_records(100, 1)
    records.tofile(path)
    with pytest.raises(DataError, match='holds 100 records, the official file holds 50,000'):
        validate([path], fine)
    other = str(tmp_path / 'mine.bin')
    records[7, 0] = 20
    records.tofile(other)
    with pytest.raises(DataError, match='record 7 has coarse label 20, expected 0-19 '
                                        r'\(corrupt file, or not CIFAR-100 data\)'):
        validate([other], fine)
    records[7, 0], records[9, 1] = 3, 100
    records.tofile(other)
    with pytest.raises(DataError, match='record 9 has fine label 100, expected 0-99'):
        validate([other], fine)
    svhn = str(tmp_path / 'test.bin')
    np.zeros((26031, 3073), np.uint8).tofile(svhn)
    with pytest.raises(DataError, match='holds 26,031 records, the official file holds 26,032'):
        validate([svhn], datasets.SVHN)
    labelled = np.zeros((4, 3073), np.uint8)
    labelled[2, 0] = 10  # SVHN's own label for the digit 0, not converted.
    labelled.tofile(other)
    with pytest.raises(DataError, match=r'record 2 has label 10, expected 0-9 \(corrupt '
                                        'file, or not SVHN data\\)'):
        validate([other], datasets.SVHN)


def test_cifar100_tarball_is_extracted_and_checked(tmp_path):
    source = tmp_path / 'src'
    _write_cifar100(str(source), {'train.bin': 5, 'test.bin': 5})
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    with tarfile.open(data_dir / 'cifar-100-binary.tar.gz', 'w:gz') as tar:
        tar.add(source / 'cifar-100-binary', arcname='cifar-100-binary')
    dataset = datasets.CIFAR100_FINE
    # A placed tarball is used (with a warning, as its MD5 is not the
    # official one) and extracted into cifar-100-binary/.
    download.maybe_download_and_extract(str(data_dir), dataset=dataset)
    folder = data_dir / 'cifar-100-binary'
    assert sorted(os.listdir(folder)) == ['coarse_label_names.txt',
                                          'fine_label_names.txt', 'test.bin', 'train.bin']
    # Its files are short of the official sizes: named, nothing re-extracted.
    with pytest.raises(DataError) as e:
        download.maybe_download_and_extract(str(data_dir), dataset=dataset)
    assert 'train.bin is cut short (15,370 of 153,700,000 bytes)' in str(e.value)

    other = tmp_path / 'other'
    other.mkdir()
    os.remove(source / 'cifar-100-binary' / 'test.bin')
    with tarfile.open(other / 'cifar-100-binary.tar.gz', 'w:gz') as tar:
        tar.add(source / 'cifar-100-binary', arcname='cifar-100-binary')
    with pytest.raises(DataError, match='archive lacks cifar-100-binary/test.bin; it is '
                                        'not the CIFAR-100 binary release'):
        download.maybe_download_and_extract(str(other), dataset=dataset)
    assert not (other / 'cifar-100-binary').exists()


def test_missing_svhn_points_to_the_converter(tmp_path):
    with pytest.raises(DataError) as e:
        download.maybe_download_and_extract(str(tmp_path), dataset=datasets.SVHN)
    assert str(e.value) == (
        f'{tmp_path}: no SVHN data (svhn-bin/ is missing); convert the official '
        'train_32x32.mat and test_32x32.mat with "python scripts/svhn_to_binary.py '
        f'--data_dir {tmp_path}" (after pip install .[svhn])')


# --- the SVHN converter ------------------------------------------------------

def _converter():
    spec = importlib.util.spec_from_file_location(
        'svhn_to_binary', os.path.join(REPO, 'scripts', 'svhn_to_binary.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_mat(path, images, labels):
    from scipy.io import savemat
    # The official layout: X is height x width x channel x image, y is N x 1.
    savemat(path, {'X': np.transpose(images, (1, 2, 3, 0)),
                   'y': labels.reshape(-1, 1).astype(np.uint8)})


def test_svhn_converter_writes_cifar10_records(tmp_path, capsys):
    pytest.importorskip('scipy')
    converter = _converter()
    mats = tmp_path / 'mats'
    mats.mkdir()
    train_images, _ = _images(12, 5)
    train_labels = np.array([10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 3])
    _write_mat(mats / 'train_32x32.mat', train_images, train_labels)
    test_images, _ = _images(3, 6)
    _write_mat(mats / 'test_32x32.mat', test_images, np.array([10, 10, 7]))
    data_dir = tmp_path / 'data'
    assert converter.main([f'--data_dir={data_dir}', f'--mat_dir={mats}',
                           '--no_download']) == 0
    out, err = capsys.readouterr()
    assert out.strip() == (f'Wrote {data_dir}/svhn-bin: train.bin (12 records), '
                           'test.bin (3 records)')
    # Small files: the trainer would refuse them, and the converter says so.
    assert 'holds 12 images, the official file 73,257' in err
    records = np.fromfile(data_dir / 'svhn-bin' / 'train.bin', np.uint8).reshape(-1, 3073)
    np.testing.assert_array_equal(records[:, 0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 3])
    # Red plane, then green, then blue, each row by row.
    np.testing.assert_array_equal(records[4, 1:1025].reshape(32, 32), train_images[4, :, :, 0])
    np.testing.assert_array_equal(records[4, 2049:].reshape(32, 32), train_images[4, :, :, 2])
    test = np.fromfile(data_dir / 'svhn-bin' / 'test.bin', np.uint8).reshape(-1, 3073)
    np.testing.assert_array_equal(test[:, 0], [0, 0, 7])
    # Converting again would overwrite the user's folder: refused.
    assert converter.main([f'--data_dir={data_dir}', f'--mat_dir={mats}',
                           '--no_download']) == 1
    assert capsys.readouterr().err.strip() == (
        f'error: {data_dir}/svhn-bin exists already; remove it to convert again')


@pytest.mark.parametrize('problem, message', [
    ('label', 'image 1 has label 11, expected 1-10'),
    ('shape', 'X is uint8 of shape (32, 32, 4), expected uint8 32 x 32 x 3 x N'),
    ('garbage', 'not a readable MATLAB file'),
    ('missing', 'train_32x32.mat not found; download it from '
                'http://ufldl.stanford.edu/housenumbers/train_32x32.mat'),
])
def test_svhn_converter_refuses_bad_files(tmp_path, capsys, problem, message):
    pytest.importorskip('scipy')
    from scipy.io import savemat
    converter = _converter()
    mat = tmp_path / 'train_32x32.mat'
    images, _ = _images(3, 7)
    if problem == 'label':
        _write_mat(mat, images, np.array([1, 11, 2]))
    elif problem == 'shape':
        savemat(mat, {'X': np.zeros((32, 32, 4), np.uint8), 'y': np.ones((1, 1))})
    elif problem == 'garbage':
        mat.write_bytes(b'not a MATLAB file at all' * 10)
    _write_mat(tmp_path / 'test_32x32.mat', images, np.array([1, 2, 3]))
    data_dir = tmp_path / 'data'
    assert converter.main([f'--data_dir={data_dir}', f'--mat_dir={tmp_path}',
                           '--no_download']) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: ') and message in err[0], err
    # Nothing half-made is left behind.
    assert not (data_dir / 'svhn-bin').exists()
    assert [p for p in os.listdir(data_dir) if p.startswith('.svhn')] == []


# --- training, evaluation, prediction and export ---------------------------

def _train(data_dir, train_dir, *flags):
    result = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                            f'--train_dir={train_dir}', '--max_steps=4',
                            '--log_frequency=2', *FAST_TRAIN_FLAGS, *flags)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.slow
def test_cifar100_trains_evaluates_predicts_and_exports(cifar100_dir, tmp_path, capsys):
    train_dir = tmp_path / 'train'
    lines = _train(cifar100_dir, train_dir, '--dataset=cifar100')
    assert lines[0] == ('Training the tutorial model (1,085,668 parameters) on '
                        'CIFAR-100 (fine labels, 100 classes).')
    assert lines.pop(1).startswith('CPU kernels: ')
    assert lines[1] == 'Training input: queue runners (FixedLengthRecordReader, a batch at a time, shuffle queue).'
    assert lines[2] == 'Filling queue with 250 CIFAR images before starting to train.'
    assert lines[-1].startswith('Stopped at step 4 (reached --max_steps=4)')

    flags = [f'--checkpoint_dir={train_dir}', f'--data_dir={cifar100_dir}',
             '--dataset=cifar100']
    args = cifar10_eval.parse_args(flags + ['--run_once', '--num_examples=300',
                                            f'--eval_dir={tmp_path / "eval"}'])
    assert cifar10_eval.evaluate(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out.pop(0) == 'Evaluation input: queue runners (FixedLengthRecordReader, files in order).'
    assert out[0] == ('Evaluating the tutorial model (1,085,668 parameters) on '
                      'CIFAR-100 (fine labels, 100 classes), test data.')
    assert out.pop(1).startswith('CPU kernels: ')
    table = [line.split() for line in out[3:103]]
    assert [row[0] for row in table] == FINE_NAMES
    assert sum(int(row[3]) for row in table) == 300
    assert any(line.startswith('Most frequent confusions (the 100x100 matrix') for line in out)

    record = os.path.join(cifar100_dir, 'cifar-100-binary', 'test.bin')
    args = cifar10_predict.parse_args(flags + ['--json', '--top_k=100', f'{record}:3'])
    assert cifar10_predict.predict(args) == 0
    import json
    result = json.loads(capsys.readouterr().out)
    assert result['dataset'] == 'CIFAR-100 (fine labels, 100 classes)'
    entry = result['results'][0]
    fine = _cifar100_records(10000, 1)[0][3, 1]
    assert entry['label'] == FINE_NAMES[fine]
    assert sorted(p['class'] for p in entry['predictions']) == sorted(FINE_NAMES)
    with pytest.raises(SystemExit):
        cifar10_predict.parse_args(flags + ['--top_k=101', record + ':0'])

    ckpt = tf1.train.latest_checkpoint(str(train_dir))
    dest = cifar10_export.export(ckpt, str(tmp_path / 'export'),
                                 cifar10_predict.flags.network_from_flags(args),
                                 FINE_NAMES)
    with open(os.path.join(dest, 'assets.extra', 'class_names.txt')) as f:
        assert f.read().splitlines() == FINE_NAMES
    with tf.Graph().as_default(), tf1.Session() as sess:
        meta = tf1.saved_model.loader.load(sess, ['serve'], dest)
        outputs = meta.signature_def['serving_default'].outputs
        assert [d.size for d in outputs['probabilities'].tensor_shape.dim] == [-1, 100]

    # The coarse labels make another network, which the checkpoint is not.
    args = cifar10_eval.parse_args(flags + ['--cifar100_label=coarse', '--run_once',
                                            f'--eval_dir={tmp_path / "eval2"}'])
    with pytest.raises(DataError, match='classifies into 100 classes, but this run has 20'):
        cifar10_eval.evaluate(args)


@pytest.mark.slow
def test_svhn_trains_the_local_model_and_evaluates(svhn_dir, tmp_path, capsys):
    train_dir = tmp_path / 'train'
    lines = _train(svhn_dir, train_dir, '--dataset=svhn', '--model=local')
    assert lines[0] == ('Training the local model (1,116,490 parameters) on SVHN '
                        '(10 classes).')
    assert lines.pop(1).startswith('CPU kernels: ')
    assert lines[1] == 'Training input: queue runners (FixedLengthRecordReader, a batch at a time, shuffle queue).'
    assert lines[2].startswith('Filling queue with 366 SVHN images')
    flags = [f'--checkpoint_dir={train_dir}', f'--data_dir={svhn_dir}',
             '--dataset=svhn', '--run_once', '--num_examples=200',
             f'--eval_dir={tmp_path / "eval"}']
    assert cifar10_eval.evaluate(cifar10_eval.parse_args(flags + ['--model=local'])) == 0
    out = capsys.readouterr().out.splitlines()
    assert out.pop(0) == 'Evaluation input: queue runners (FixedLengthRecordReader, files in order).'
    assert out[0] == ('Evaluating the local model (1,116,490 parameters) on SVHN '
                      '(10 classes), test data.')
    assert out.pop(1).startswith('CPU kernels: ')
    assert [line.split()[0] for line in out[3:13]] == list('0123456789')
    assert all(int(line.split()[3]) == 20 for line in out[3:13])
    # The same checkpoint evaluated as the tutorial model: refused in one line.
    with pytest.raises(DataError) as e:
        cifar10_eval.evaluate(cifar10_eval.parse_args(flags))
    ckpt = tf1.train.latest_checkpoint(str(train_dir))
    assert str(e.value) == (f'{ckpt} holds the local model, but this run builds the '
                            'tutorial model (--model=tutorial); pass --model=local to use it')
    # And resuming it as the tutorial model is refused before any step.
    result = run_in_process('cifar10_train.py', f'--data_dir={svhn_dir}',
                            f'--train_dir={train_dir}', '--dataset=svhn', '--max_steps=8',
                            *FAST_TRAIN_FLAGS)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f'error: {e.value}'
    assert tf1.train.latest_checkpoint(str(train_dir)) == ckpt
