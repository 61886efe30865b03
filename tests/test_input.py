"""Tests of cifar10_input: decoding, preprocessing and data validation."""

import os

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10_input

from cifar10.data import record_files

from cifar10.data import transforms
from cifar10.runtime.errors import DataError

from conftest import make_records

tf1 = tf.compat.v1


def _run_queue(fetches, steps, session_hook=None):
    """Runs fetches ``steps`` times with queue runners started."""
    results = []
    with tf1.Session() as sess:
        sess.run([tf1.global_variables_initializer(),
                  tf1.local_variables_initializer()])
        coord = tf1.train.Coordinator()
        threads = tf1.train.start_queue_runners(sess=sess, coord=coord)
        try:
            for _ in range(steps):
                results.append(sess.run(fetches))
        finally:
            coord.request_stop()
            coord.join(threads)
    return results


def _standardize(images):
    """Per-image standardization in numpy: (x - mean) / max(std, 1/sqrt(N))."""
    images = images.astype(np.float64)
    axes = tuple(range(1, images.ndim))
    n = np.prod(images.shape[1:])
    mean = images.mean(axis=axes, keepdims=True)
    std = np.maximum(images.std(axis=axes, keepdims=True), 1.0 / np.sqrt(n))
    return (images - mean) / std


def test_read_cifar10_decodes_label_and_pixels_exactly(tmp_path):
    labels = np.array([3, 0, 9, 7, 1], dtype=np.uint8)
    images, data = make_records(labels, seed=5)
    path = tmp_path / 'records.bin'
    path.write_bytes(data)
    with tf.Graph().as_default():
        queue = tf1.train.string_input_producer([str(path)], shuffle=False)
        record = cifar10_input.read_cifar10(queue)
        out = _run_queue([record.label, record.uint8image], len(labels))
    for i, (label, image) in enumerate(out):
        assert label.shape == (1,) and label.dtype == np.int32
        assert label[0] == labels[i]
        assert image.dtype == np.uint8 and image.shape == (32, 32, 3)
        np.testing.assert_array_equal(image, images[i])


def test_eval_inputs_match_per_image_crop_and_standardization(data_dir, synthetic_data):
    labels, images, _ = synthetic_data[1]['test_batch.bin']
    with tf.Graph().as_default():
        batch_images, batch_labels, num_records = cifar10_input.inputs(
            'test', os.path.join(data_dir, 'cifar-10-batches-bin'), 50)
        assert num_records == 10000
        out = _run_queue([batch_images, batch_labels], 2)
    got_images = np.concatenate([o[0] for o in out])
    got_labels = np.concatenate([o[1] for o in out])
    # Records come out in file order, each once.
    np.testing.assert_array_equal(got_labels, labels[:100])
    expected = _standardize(images[:100, 4:28, 4:28, :])
    assert got_images.shape == (100, 24, 24, 3)
    np.testing.assert_allclose(got_images, expected, atol=1e-4)


def test_eval_inputs_visit_each_record_once_then_end(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    labels = (np.arange(10000) % 10).astype(np.uint8)
    _, data = make_records(labels, seed=2)
    (bin_dir / 'test_batch.bin').write_bytes(data)
    with tf.Graph().as_default():
        images, batch_labels, _ = cifar10_input.inputs('test', str(bin_dir), 3000)
        sizes = []
        with tf1.Session() as sess:
            sess.run(tf1.local_variables_initializer())
            coord = tf1.train.Coordinator()
            threads = tf1.train.start_queue_runners(sess=sess, coord=coord)
            got = []
            with pytest.raises(tf.errors.OutOfRangeError):
                while True:
                    batch = sess.run(batch_labels)
                    sizes.append(len(batch))
                    got.append(batch)
            coord.request_stop()
            coord.join(threads)
    assert sizes == [3000, 3000, 3000, 1000]
    np.testing.assert_array_equal(np.concatenate(got), labels)


@pytest.mark.slow
def test_distort_image_is_an_affine_image_of_a_random_crop():
    # Pixel values encode their position, so the crop offset and flip of
    # each output can be recovered from it.
    rng = np.random.RandomState(0)
    source = rng.uniform(0, 255, size=(32, 32, 3)).astype(np.float32)
    with tf.Graph().as_default():
        out = cifar10_input.distort_image(tf.constant(source))
        assert out.shape.as_list() == [24, 24, 3]
        with tf1.Session() as sess:
            samples = [sess.run(out) for _ in range(200)]
    offsets, flips = set(), set()
    for sample in samples:
        # Standardized: zero mean, unit variance.
        assert abs(sample.mean()) < 1e-4
        assert abs(sample.std() - 1.0) < 1e-3
        best = None
        for dy in range(9):
            for dx in range(9):
                crop = source[dy:dy + 24, dx:dx + 24, :]
                for flip in (False, True):
                    candidate = crop[:, ::-1, :] if flip else crop
                    # Contrast shifts each channel around its own mean, so
                    # compare channel by channel.
                    corr = min(np.corrcoef(candidate[..., c].ravel(),
                                           sample[..., c].ravel())[0, 1]
                               for c in range(3))
                    if best is None or corr > best[0]:
                        best = (corr, dy, dx, flip)
        # Brightness, contrast and standardization are affine in each
        # channel (contrast 0.2-1.8 is positive), so the match is perfect.
        assert best[0] > 0.9999
        offsets.add((best[1], best[2]))
        flips.add(best[3])
    assert flips == {False, True}
    # 200 uniform draws over 81 offsets reach most of them, corners included.
    assert len(offsets) > 60
    assert {dy for dy, _ in offsets} == set(range(9))


def test_distorted_inputs_batches_and_shuffles(data_dir):
    with tf.Graph().as_default():
        images, labels = cifar10_input.distorted_inputs(
            os.path.join(data_dir, 'cifar-10-batches-bin'), 32, num_threads=2,
            min_fraction_of_examples_in_queue=0.004)
        assert images.shape.as_list() == [32, 24, 24, 3]
        assert labels.shape.as_list() == [32]
        out = _run_queue([images, labels], 3)
    all_labels = np.concatenate([o[1] for o in out])
    assert set(all_labels) <= set(range(10))
    # File order of data_batch_1 is a fixed random sequence; a shuffled
    # stream is not a prefix of it.
    first = np.random.RandomState(1).randint(0, 10, 96)
    assert not np.array_equal(all_labels, first)
    for image in np.concatenate([o[0] for o in out]):
        assert abs(image.mean()) < 1e-4


def test_min_queue_examples_follows_fraction():
    assert record_files.min_queue_examples() == 20000
    assert record_files.min_queue_examples(0.1) == 5000


# --- validation ------------------------------------------------------------

def _write(path, data):
    path.write_bytes(data)
    return str(path)


def test_validate_counts_records(tmp_path):
    _, data = make_records(np.zeros(7, dtype=np.uint8), seed=0)
    path = _write(tmp_path / 'mine.bin', data)
    assert record_files.validate_data_files([path, path]) == 14


def test_validate_missing_file(tmp_path):
    path = str(tmp_path / 'nope.bin')
    with pytest.raises(DataError, match=r'nope\.bin: data file not found'):
        record_files.validate_data_files([path])


@pytest.mark.parametrize('size', [0, 3072, 3074, 3073 * 5 + 100])
def test_validate_partial_record(tmp_path, size):
    path = _write(tmp_path / 'part.bin', b'\x01' * size)
    with pytest.raises(DataError, match=r'part\.bin: .*not a whole number of 3,073-byte'):
        record_files.validate_data_files([path])


def test_validate_official_name_needs_10000_records(tmp_path):
    _, data = make_records(np.zeros(9999, dtype=np.uint8), seed=0)
    path = _write(tmp_path / 'data_batch_3.bin', data)
    with pytest.raises(DataError, match=r'data_batch_3\.bin: holds 9,999 records'):
        record_files.validate_data_files([path])


def test_validate_bad_label_names_record(tmp_path):
    labels = np.zeros(20, dtype=np.uint8)
    _, data = make_records(labels, seed=0)
    data = bytearray(data)
    data[17 * 3073] = 200
    path = _write(tmp_path / 'bad.bin', bytes(data))
    with pytest.raises(DataError, match=r'bad\.bin: record 17 has label 200'):
        record_files.validate_data_files([path])


def test_inputs_validate_before_building_queues(tmp_path):
    with tf.Graph().as_default() as graph:
        with pytest.raises(DataError, match='test_batch.bin: data file not found'):
            cifar10_input.inputs('test', str(tmp_path), 10)
        assert not graph.get_collection(tf1.GraphKeys.QUEUE_RUNNERS)


def test_eval_filenames():
    assert record_files.eval_filenames('test', 'd') == [os.path.join('d', 'test_batch.bin')]
    assert len(record_files.eval_filenames('train_eval', 'd')) == 5
    with pytest.raises(ValueError):
        record_files.eval_filenames('validation', 'd')


# --- batch-level training pipeline ------------------------------------------

def test_distort_batch_equals_per_image_ops_with_same_parameters():
    rng = np.random.RandomState(4)
    images = rng.randint(0, 256, size=(6, 32, 32, 3)).astype(np.float32)
    params = {'offset_y': np.array([0, 8, 3, 5, 0, 8], np.int32),
              'offset_x': np.array([0, 8, 7, 1, 8, 0], np.int32),
              'flip': np.array([False, True, True, False, True, False]),
              'delta': np.array([-63.0, 62.9, 0.0, 10.5, -3.0, 30.0], np.float32),
              'contrast': np.array([0.2, 1.79, 1.0, 0.5, 1.3, 0.9], np.float32)}
    with tf.Graph().as_default():
        batch = transforms.distort_batch(
            tf.constant(images), {k: tf.constant(v) for k, v in params.items()})
        # The pipeline passes the raw uint8 images: the same result exactly.
        from_uint8 = transforms.distort_batch(
            tf.constant(images.astype(np.uint8)),
            {k: tf.constant(v) for k, v in params.items()})
        singles = []
        for i in range(6):
            x = tf.image.crop_to_bounding_box(images[i], int(params['offset_y'][i]),
                                              int(params['offset_x'][i]), 24, 24)
            if params['flip'][i]:
                x = tf.image.flip_left_right(x)
            x = tf.image.adjust_brightness(x, params['delta'][i])
            x = tf.image.adjust_contrast(x, params['contrast'][i])
            singles.append(tf.image.per_image_standardization(x))
        with tf1.Session() as sess:
            got, got_uint8, expected = sess.run([batch, from_uint8, tf.stack(singles)])
    assert got.shape == (6, 24, 24, 3)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    np.testing.assert_array_equal(got_uint8, got)


def test_distortion_parameters_follow_the_per_image_distributions():
    with tf.Graph().as_default():
        params = transforms.distortion_params(20000)
        with tf1.Session() as sess:
            p = sess.run(params)
    # Crop offsets: uniform over 0..8 (random_crop), each direction.
    for key in ('offset_y', 'offset_x'):
        counts = np.bincount(p[key], minlength=9)
        assert len(counts) == 9
        assert np.all(np.abs(counts / 20000 - 1 / 9) < 0.015)
    # Flip with probability 1/2 (random_flip_left_right).
    assert abs(p['flip'].mean() - 0.5) < 0.02
    # Brightness delta uniform in [-63, 63) (random_brightness).
    assert p['delta'].min() >= -63 and p['delta'].max() < 63
    assert abs(p['delta'].mean()) < 1.5
    assert abs(p['delta'].std() - 126 / np.sqrt(12)) < 1.0
    # Contrast factor uniform in [0.2, 1.8) (random_contrast).
    assert p['contrast'].min() >= 0.2 and p['contrast'].max() < 1.8
    assert abs(p['contrast'].mean() - 1.0) < 0.02
    assert abs(p['contrast'].std() - 1.6 / np.sqrt(12)) < 0.01


def test_batch_pipeline_shuffles_uint8_crops(data_dir):
    """The shuffle queue holds 24x24 uint8 crops (1,728 bytes an image), not
    32x32 images or float crops: the memory the shuffling depth costs."""
    with tf.Graph().as_default():
        cifar10_input.distorted_inputs_batched(
            os.path.join(data_dir, 'cifar-10-batches-bin'), 16)
        queues = [op for op in tf1.get_default_graph().get_operations()
                  if op.type == 'RandomShuffleQueueV2']
        assert len(queues) == 1
        shapes = [tf.TensorShape(shape).as_list()
                  for shape in queues[0].get_attr('shapes')]
        assert shapes == [[24, 24, 3], []]
        assert queues[0].get_attr('component_types') == [tf.uint8, tf.int32]


def test_batch_and_per_image_pipelines_agree_statistically(data_dir):
    """Both training pipelines, on the same files, give the same
    distribution of per-image statistics that the distortions set."""
    folder = os.path.join(data_dir, 'cifar-10-batches-bin')
    stats = {}
    for name, build in (('batch', cifar10_input.distorted_inputs_batched),
                        ('per_image', cifar10_input.distorted_inputs)):
        with tf.Graph().as_default():
            tf1.set_random_seed(7)
            images, labels = build(folder, 100, num_threads=2,
                                   min_fraction_of_examples_in_queue=0.02)
            out = _run_queue([images, labels], 20)
        x = np.concatenate([o[0] for o in out])
        # Contrast scales the spread between channel means; flips and crops
        # move pixels; standardization fixes mean 0 and std 1.
        channel_means = x.mean(axis=(1, 2))
        stats[name] = {
            'mean': x.mean(axis=(1, 2, 3)), 'std': x.std(axis=(1, 2, 3)),
            'channel_spread': channel_means.std(axis=1),
            'labels': np.concatenate([o[1] for o in out]),
        }
    for name in stats:
        assert np.all(np.abs(stats[name]['mean']) < 1e-4)
        assert np.all(np.abs(stats[name]['std'] - 1) < 1e-3)
    a, b = stats['batch']['channel_spread'], stats['per_image']['channel_spread']
    # 2,000 images each: the spread's quartiles agree within sampling noise
    # (differences up to 0.02 in repeated runs). A contrast range of
    # 0.6-1.4, 0.2-1.0 or 1.0-1.8 in one pipeline moves a quartile by
    # 0.06-0.15 (the weakly coloured classes show it).
    for q in (25, 50, 75):
        assert abs(np.percentile(a, q) - np.percentile(b, q)) < 0.05
    counts_a = np.bincount(stats['batch']['labels'], minlength=10)
    counts_b = np.bincount(stats['per_image']['labels'], minlength=10)
    assert np.all(np.abs(counts_a - counts_b) < 100)


def test_batch_pipeline_keeps_shuffle_depth_in_compact_images(data_dir):
    with tf.Graph().as_default() as graph:
        images, labels = cifar10_input.distorted_inputs_batched(
            os.path.join(data_dir, 'cifar-10-batches-bin'), 128)
        assert images.shape.as_list() == [128, 24, 24, 3]
        assert labels.shape.as_list() == [128]
        queues = [op for op in graph.get_operations() if op.type == 'RandomShuffleQueueV2']
        assert len(queues) == 1
        assert queues[0].get_attr('min_after_dequeue') == 20000
        assert queues[0].get_attr('capacity') == 20000 + 3 * 128
        # The shuffle queue holds uint8 32x32x3 images, not float crops.
        assert [tf.as_dtype(t) for t in queues[0].get_attr('component_types')] == [
            tf.uint8, tf.int32]
