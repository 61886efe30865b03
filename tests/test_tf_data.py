"""Tests of the tf.data input pipeline and of TFRecords, against the queues."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_convert_images
from cifar10 import cifar10_eval
from cifar10 import cifar10_input
from cifar10 import cifar10_train
from cifar10.data import datasets
from cifar10.data import image_folders
from cifar10.data import record_files
from cifar10.data import tf_data
from cifar10.data import transforms
from cifar10.runtime.errors import DataError

from conftest import class_colours, write_random_checkpoint

tf1 = tf.compat.v1


def _fixed_params(batch_size, image_size, crop_size):
    """Distortion parameters that are the same for every image."""
    return {
        'offset_y': tf.fill([batch_size], 1),
        'offset_x': tf.fill([batch_size], image_size - crop_size - 1),
        'flip': tf.fill([batch_size], True),
        'delta': tf.fill([batch_size], 9.0),
        'contrast': tf.fill([batch_size], 1.4),
    }


def _folders(root, count=12, size=32):
    """Class folders of PNG images (3 classes), each image its own."""
    rng = np.random.RandomState(0)
    colours = class_colours()
    for label, name in enumerate(('a', 'b', 'c')):
        os.makedirs(root / name)
        for i in range(count):
            image = np.clip(colours[label] * 0.7 + rng.randint(0, 80, (size, size, 3)),
                            0, 255).astype(np.uint8)
            (root / name / f'{i}.png').write_bytes(tf.io.encode_png(image).numpy())


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """The same images converted to fixed-length records and to TFRecords."""
    root = tmp_path_factory.mktemp('tfdata')
    _folders(root / 'src')
    out = {}
    for fmt in ('records', 'tfrecord'):
        out[fmt] = root / fmt
        args = cifar10_convert_images.parse_args(
            [str(root / 'src'), '--out', str(out[fmt]), f'--format={fmt}',
             '--test_fraction=0.25'])
        assert cifar10_convert_images.convert(args) == 0
    return out


def _run(tensors, batches, initializers=()):
    with tf1.train.MonitoredSession() as sess:
        for init in initializers:
            sess.run(init)
        return [sess.run(tensors) for _ in range(batches)]


def _all_records(data_dir, dataset):
    """(images, labels) of every training record, decoded by the queues'
    function in a plain session."""
    paths = record_files.train_filenames(str(data_dir), dataset)
    values = []
    for path in paths:
        if dataset.record_format == 'tfrecord':
            values += list(tf1.io.tf_record_iterator(path))
        else:
            data = open(path, 'rb').read()
            values += [data[i:i + dataset.record_bytes]
                       for i in range(0, len(data), dataset.record_bytes)]
    with tf.Graph().as_default(), tf1.Session() as sess:
        return sess.run(record_files.decode_records(tf.constant(values), dataset))


@pytest.mark.parametrize('fmt', ['records', 'tfrecord'])
@pytest.mark.slow
def test_both_pipelines_give_the_same_images_for_the_same_records(converted, fmt):
    data_dir = str(converted[fmt])
    dataset = datasets.custom(data_dir)
    images, labels = _all_records(converted[fmt], dataset)
    # What every record must become under the fixed parameters.
    with tf.Graph().as_default(), tf1.Session() as sess:
        expected = sess.run(transforms.distort_batch(
            tf.constant(images), _fixed_params(len(images), 32, 24), 24))
    drawn = {}
    for name, build in (
            ('queues', lambda: cifar10_input.distorted_inputs_batched(
                data_dir, 9, num_threads=1, min_fraction_of_examples_in_queue=0.2,
                dataset=dataset, params_fn=_fixed_params)),
            ('tf_data', lambda: tf_data.distorted_inputs(
                data_dir, 9, 0.2, dataset, params_fn=_fixed_params, num_gpus=0))):
        with tf.Graph().as_default():
            batches = _run(build(), 12)
        drawn[name] = (np.concatenate([b[0] for b in batches]),
                       np.concatenate([b[1] for b in batches]))
    for name, (got, got_labels) in drawn.items():
        assert got.shape == (108, 24, 24, 3)
        for image, label in zip(got, got_labels):
            # Each drawn image is exactly one record's, with its label.
            distance = np.abs(expected - image).max(axis=(1, 2, 3))
            match = int(np.argmin(distance))
            assert distance[match] < 1e-4, name
            assert labels[match] == label, name
        # 108 draws from 27 records: every record comes up.
        seen = {int(np.argmin(np.abs(expected - image).max(axis=(1, 2, 3))))
                for image in got}
        assert seen == set(range(len(images))), name


def test_tf_data_shuffles_with_a_buffer_as_deep_as_the_queue(converted, capsys):
    dataset = datasets.custom(str(converted['records']))
    with tf.Graph().as_default():
        tf_data.distorted_inputs(str(converted['records']), 9, 0.4, dataset,
                                 num_gpus=0)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        'Training input: tf.data (FixedLengthRecordDataset, parallel map, shuffle '
        'buffer, prefetch).',
        # 40% of the 27 training images, as the queue's min_after_dequeue.
        'Filling the shuffle buffer with 10 images before starting to train.']
    assert record_files.min_queue_examples(0.4, 27) == 10


@pytest.mark.parametrize('num_files', range(1, 8))
@pytest.mark.parametrize('workers', range(1, 5))
def test_shards_are_disjoint_and_cover_the_data(num_files, workers):
    shares = [tf_data.shard_plan(num_files, workers, i) for i in range(workers)]
    if num_files >= workers:
        files = [f for kind, share in shares for f in share]
        assert all(kind == 'files' for kind, _ in shares)
        assert sorted(files) == list(range(num_files))
    else:
        assert shares == [('records', i) for i in range(workers)]


@pytest.mark.parametrize('workers', [2, 3])
def test_each_worker_reads_its_own_records(converted, workers):
    """1 training file (27 records) for 2 or 3 workers: record shards; the
    union is every record once."""
    dataset = datasets.custom(str(converted['tfrecord']))
    paths = record_files.train_filenames(str(converted['tfrecord']), dataset)
    assert len(paths) == 1
    read = []
    for index in range(workers):
        with tf.Graph().as_default():
            files, records = tf_data.records(paths, dataset, (workers, index))
            value = tf1.data.make_one_shot_iterator(records(files).batch(100)).get_next()
            with tf1.Session() as sess:
                read.append(list(sess.run(value)))
    assert sum(len(r) for r in read) == 27
    assert len({v for r in read for v in r}) == 27


def test_gpu_prefetch_rule():
    assert tf_data.prefetch_device(num_gpus=0) is None
    assert tf_data.prefetch_device(num_gpus=1) == '/gpu:0'
    assert tf_data.prefetch_device(num_gpus=4) == '/gpu:0'


@pytest.mark.slow
def test_evaluation_counts_exactly_and_agrees_across_pipelines_and_formats(
        converted, tmp_path, capsys):
    checkpoint = tmp_path / 'ckpt'
    write_random_checkpoint(checkpoint, step=5, seed=2, num_classes=3)
    results = {}
    for fmt in ('records', 'tfrecord'):
        for pipeline in cifar10.EVAL_INPUT_PIPELINES:
            args = cifar10_eval.parse_args([
                '--dataset=custom', f'--data_dir={converted[fmt]}',
                f'--checkpoint_dir={checkpoint}', f'--eval_dir={tmp_path / "e"}',
                '--run_once', '--batch_size=4', f'--input_pipeline={pipeline}'])
            assert cifar10_eval.evaluate(args) == 0
            out = capsys.readouterr().out.splitlines()
            table = {line.split()[0]: line.split() for line in out if line.split()}
            assert table['all'][2] == '9'  # 3 test images of each class
            # After the input, model, kernels and timestamped precision
            # lines: the per-class table and the confusions.
            results[fmt, pipeline] = out[4:]
    first = results['records', 'queues']
    assert all(r == first for r in results.values())


def test_tfrecords_written_by_plain_tensorflow_are_read(converted, tmp_path, capsys):
    """Files written with tf.io.TFRecordWriter by the documented keys and a
    hand-written manifest: both pipelines read them."""
    dataset = datasets.custom(str(converted['records']))
    images, labels = _all_records(converted['records'], dataset)
    folder = tmp_path / 'plain'
    os.makedirs(folder)
    entries = {}
    for split, (start, stop) in (('train', (0, 20)), ('test', (20, 27))):
        name = f'{split}.tfr'
        with tf.io.TFRecordWriter(str(folder / name)) as writer:
            for image, label in zip(images[start:stop], labels[start:stop]):
                feature = {
                    'image_raw': tf.train.Feature(bytes_list=tf.train.BytesList(
                        value=[image.tobytes()])),
                    'label': tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                    'height': tf.train.Feature(int64_list=tf.train.Int64List(value=[32])),
                    'width': tf.train.Feature(int64_list=tf.train.Int64List(value=[32])),
                }
                writer.write(tf.train.Example(features=tf.train.Features(
                    feature=feature)).SerializeToString())
        entries[split] = [{'name': name, 'records': stop - start,
                           'bytes': os.path.getsize(folder / name)}]
    (folder / 'dataset.json').write_text(json.dumps({
        'format': 'cifar10-custom-images', 'format_version': 1, 'image_size': 32,
        'label_bytes': 1, 'record_format': 'tfrecord', 'classes': ['a', 'b', 'c'],
        'files': entries, 'options': {'resize': 'crop'}}))
    plain = datasets.custom(str(folder))
    got_images, got_labels = _all_records(folder, plain)
    np.testing.assert_array_equal(got_images, images[:20])
    np.testing.assert_array_equal(got_labels, labels[:20])
    for pipeline in ('queues', 'tf_data'):
        with tf.Graph().as_default():
            batch, batch_labels, count = cifar10.inputs(
                'test', str(folder), 7, dataset=plain, pipeline=pipeline)
            inits = tf1.get_collection(tf_data.INITIALIZERS)
            with tf1.Session() as sess:
                sess.run([tf1.local_variables_initializer(), *inits])
                coord = tf1.train.Coordinator()
                threads = tf1.train.start_queue_runners(sess, coord)
                got = sess.run(batch_labels)
                coord.request_stop()
                coord.join(threads)
        assert count == 7
        np.testing.assert_array_equal(got, labels[20:27])


def test_the_converter_writes_tfrecords_of_the_same_images(converted):
    fixed = datasets.custom(str(converted['records']))
    records = datasets.custom(str(converted['tfrecord']))
    manifest = json.loads((converted['tfrecord'] / 'dataset.json').read_text())
    assert manifest['record_format'] == 'tfrecord' and manifest['record_bytes'] is None
    assert [f['name'] for f in manifest['files']['train']] == ['train-00000-of-00001.tfrecord']
    import hashlib
    for entry in manifest['files']['train'] + manifest['files']['test']:
        data = (converted['tfrecord'] / entry['name']).read_bytes()
        assert entry['sha256'] == hashlib.sha256(data).hexdigest()
    # The same seed, the same order: record for record the same images.
    a = _all_records(converted['records'], fixed)
    b = _all_records(converted['tfrecord'], records)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    # About 1,000 records a shard.
    assert datasets.TFRECORDS_PER_SHARD == 1000
    order = np.arange(2500)
    images = np.zeros((2500, 8, 8, 3), np.uint8)
    sizes = [e['records'] for e in image_folders._tfrecord_shards(
        str(converted['tfrecord'].parent), 'x', images, order % 3, order)]
    assert sizes == [1000, 1000, 500]


@pytest.mark.parametrize('damage, message', [
    ('checksum', 'corrupt TFRecord file after 0 good records'),
    ('truncate', 'train-00000-of-00001.tfrecord is cut short'),
    ('label', 'record 0 has label [7], expected 0-2'),
])
def test_damaged_tfrecords_are_refused_in_one_line(converted, tmp_path, damage, message):
    import shutil
    folder = tmp_path / 'data'
    shutil.copytree(converted['tfrecord'], folder)
    path = folder / 'train-00000-of-00001.tfrecord'
    data = bytearray(path.read_bytes())
    if damage == 'checksum':
        data[100] ^= 0xFF  # Inside the first record's data.
    elif damage == 'truncate':
        data = data[:-10]
    else:
        first = next(iter(tf1.io.tf_record_iterator(str(path))))
        example = tf.train.Example.FromString(first)
        example.features.feature['label'].int64_list.value[0] = 7
        with tf.io.TFRecordWriter(str(path)) as writer:
            writer.write(example.SerializeToString())
            for rest in list(tf1.io.tf_record_iterator(
                    str(converted['tfrecord'] / path.name)))[1:]:
                writer.write(rest)
        data = bytearray(path.read_bytes())
        manifest = json.loads((folder / 'dataset.json').read_text())
        manifest['files']['train'][0]['bytes'] = len(data)
        (folder / 'dataset.json').write_text(json.dumps(manifest))
    path.write_bytes(bytes(data))
    for pipeline in ('queues', 'tf_data'):
        args = cifar10_train.parse_args([
            '--dataset=custom', f'--data_dir={folder}', f'--train_dir={tmp_path / "t"}',
            '--max_steps=1', f'--input_pipeline={pipeline}'])
        with pytest.raises(DataError) as error:
            cifar10_train.train(args)
        assert '\n' not in str(error.value) and message in str(error.value)
        # Training did not start: no checkpoint, no event file.
        assert not list((tmp_path / 't').glob('*.ckpt*'))
        assert not list((tmp_path / 't').glob('events.*'))


def test_input_pipeline_flags():
    assert cifar10_eval.parse_args([]).input_pipeline == 'queues'
    assert cifar10_eval.parse_args(['--input_pipeline=tf_data']).input_pipeline == 'tf_data'
    with pytest.raises(SystemExit):
        cifar10_eval.parse_args(['--input_pipeline=per_image'])
    assert cifar10_train.parse_args(['--input_pipeline=tf_data']).input_pipeline == 'tf_data'
    with pytest.raises(SystemExit):
        cifar10_train.parse_args(['--input_pipeline=dataset'])
