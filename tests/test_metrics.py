"""Tests of cifar10_metrics: confusion matrix, per-class figures, report."""

import numpy as np
import pytest

from cifar10 import cifar10_metrics as metrics


def test_confusion_matrix_counts_pairs():
    labels = [0, 0, 1, 2, 2, 2]
    predictions = [0, 1, 1, 2, 0, 2]
    confusion = metrics.confusion_matrix(labels, predictions, num_classes=3)
    np.testing.assert_array_equal(confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_per_class_precision_and_recall():
    confusion = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    precision, recall = metrics.per_class(confusion)
    np.testing.assert_allclose(precision, [1 / 2, 1 / 2, 2 / 2])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 1, 2 / 3])
    # A class never predicted and never present: 0.0, not NaN.
    precision, recall = metrics.per_class(np.array([[2, 0], [0, 0]]))
    np.testing.assert_array_equal(precision, [1.0, 0.0])
    np.testing.assert_array_equal(recall, [1.0, 0.0])


def test_report_against_random_predictions():
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 10, 1000)
    predictions = np.where(rng.rand(1000) < 0.6, labels, rng.randint(0, 10, 1000))
    confusion = metrics.confusion_matrix(labels, predictions)
    assert confusion.sum() == 1000
    assert np.trace(confusion) == np.sum(labels == predictions)
    names = [f'class{i}' for i in range(10)]
    text = metrics.format_report(confusion, names).splitlines()
    row = text[1 + 3].split()
    assert row[0] == 'class3'
    assert float(row[1]) == round(np.mean(labels[predictions == 3] == 3), 3)
    assert float(row[2]) == round(np.mean(predictions[labels == 3] == 3), 3)
    assert int(row[3]) == np.sum(labels == 3)
    assert text[13].startswith('Confusion matrix')
    matrix_row = text[15 + 3].split()
    assert matrix_row[0] == 'class3'
    assert [int(v) for v in matrix_row[1:]] == list(confusion[3])
    tags = dict(metrics.summary_values(confusion, names))
    assert abs(tags['Recall per class/class3'] - float(row[2])) < 5e-4
    assert abs(tags['Precision per class/class3'] - float(row[1])) < 5e-4


def test_confusion_image_shades_by_row_fraction():
    confusion = np.array([[3, 1], [0, 4]])
    image = metrics.confusion_image(confusion, cell=4)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    # Cell (0, 0) is 75% of its row, cell (0, 1) 25%: darker than it;
    # cell (1, 0) is empty: white.
    assert image[2, 2, 0] < image[2, 6, 0] < 255
    assert tuple(image[6, 2]) == (255, 255, 255)
    assert tuple(image[6, 6]) == (8, 48, 107)


def test_class_names_from_meta_file(tmp_path):
    assert metrics.read_class_names(str(tmp_path))[0] == 'airplane'
    (tmp_path / 'batches.meta.txt').write_text('\n'.join(f'c{i}' for i in range(10)) + '\n\n')
    assert metrics.read_class_names(str(tmp_path)) == [f'c{i}' for i in range(10)]
    (tmp_path / 'batches.meta.txt').write_text('only\ntwo\n')
    assert metrics.read_class_names(str(tmp_path))[9] == 'truck'


def test_encode_png_decodes_to_the_same_pixels():
    import tensorflow as tf
    image = np.random.RandomState(0).randint(0, 256, (7, 11, 3)).astype(np.uint8)
    data = metrics.encode_png(image)
    assert data.startswith(b'\x89PNG\r\n\x1a\n')
    decoded = tf.io.decode_png(data, channels=0).numpy()
    assert decoded.shape == (7, 11, 3)
    np.testing.assert_array_equal(decoded, image)
    # The evaluator's own picture round-trips too.
    picture = metrics.confusion_image(np.array([[3, 1], [0, 4]]))
    np.testing.assert_array_equal(
        tf.io.decode_png(metrics.encode_png(picture)).numpy(), picture)
    with pytest.raises(ValueError, match='RGB'):
        metrics.encode_png(np.zeros((2, 2, 4), np.uint8))
