"""Tests of metrics (scores and summaries): confusion matrix, per-class figures, report."""

import numpy as np
import pytest

from cifar10.data import datasets
from cifar10.metrics import scores
from cifar10.metrics import summaries


def test_confusion_matrix_counts_pairs():
    labels = [0, 0, 1, 2, 2, 2]
    predictions = [0, 1, 1, 2, 0, 2]
    confusion = scores.confusion_matrix(labels, predictions, num_classes=3)
    np.testing.assert_array_equal(confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_per_class_precision_and_recall():
    confusion = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    precision, recall = scores.per_class(confusion)
    np.testing.assert_allclose(precision, [1 / 2, 1 / 2, 2 / 2])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 1, 2 / 3])
    # A class never predicted and never present: 0.0, not NaN.
    precision, recall = scores.per_class(np.array([[2, 0], [0, 0]]))
    np.testing.assert_array_equal(precision, [1.0, 0.0])
    np.testing.assert_array_equal(recall, [1.0, 0.0])


def test_report_against_random_predictions():
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 10, 1000)
    predictions = np.where(rng.rand(1000) < 0.6, labels, rng.randint(0, 10, 1000))
    confusion = scores.confusion_matrix(labels, predictions)
    assert confusion.sum() == 1000
    assert np.trace(confusion) == np.sum(labels == predictions)
    names = [f'class{i}' for i in range(10)]
    text = scores.format_report(confusion, names).splitlines()
    row = text[1 + 3].split()
    assert row[0] == 'class3'
    assert float(row[1]) == round(np.mean(labels[predictions == 3] == 3), 3)
    assert float(row[2]) == round(np.mean(predictions[labels == 3] == 3), 3)
    assert int(row[3]) == np.sum(labels == 3)
    assert text[13].startswith('Confusion matrix')
    matrix_row = text[15 + 3].split()
    assert matrix_row[0] == 'class3'
    assert [int(v) for v in matrix_row[1:]] == list(confusion[3])
    tags = dict(summaries.summary_values(confusion, names))
    assert abs(tags['Recall per class/class3'] - float(row[2])) < 5e-4
    assert abs(tags['Precision per class/class3'] - float(row[1])) < 5e-4


def test_confusion_image_shades_by_row_fraction():
    confusion = np.array([[3, 1], [0, 4]])
    image = summaries.confusion_image(confusion, cell=4)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    # Cell (0, 0) is 75% of its row, cell (0, 1) 25%: darker than it;
    # cell (1, 0) is empty: white.
    assert image[2, 2, 0] < image[2, 6, 0] < 255
    assert tuple(image[6, 2]) == (255, 255, 255)
    assert tuple(image[6, 6]) == (8, 48, 107)


def test_class_names_from_meta_file(tmp_path):
    assert datasets.CIFAR10.class_names_in(str(tmp_path))[0] == 'airplane'
    (tmp_path / 'batches.meta.txt').write_text('\n'.join(f'c{i}' for i in range(10)) + '\n\n')
    assert datasets.CIFAR10.class_names_in(str(tmp_path)) == [f'c{i}' for i in range(10)]
    (tmp_path / 'batches.meta.txt').write_text('only\ntwo\n')
    assert datasets.CIFAR10.class_names_in(str(tmp_path))[9] == 'truck'


def test_encode_png_decodes_to_the_same_pixels():
    import tensorflow as tf
    image = np.random.RandomState(0).randint(0, 256, (7, 11, 3)).astype(np.uint8)
    data = summaries.encode_png(image)
    assert data.startswith(b'\x89PNG\r\n\x1a\n')
    decoded = tf.io.decode_png(data, channels=0).numpy()
    assert decoded.shape == (7, 11, 3)
    np.testing.assert_array_equal(decoded, image)
    # The evaluator's own picture round-trips too.
    picture = summaries.confusion_image(np.array([[3, 1], [0, 4]]))
    np.testing.assert_array_equal(
        tf.io.decode_png(summaries.encode_png(picture)).numpy(), picture)
    with pytest.raises(ValueError, match='RGB'):
        summaries.encode_png(np.zeros((2, 2, 4), np.uint8))


# ROC AUC and average precision on cases whose answers are known by hand.
# Scores 0.8 (positive), 0.4 (negative), 0.35 (positive), 0.1 (negative):
# of the 4 (positive, negative) pairs, 3 are ordered right, so the AUC is
# 0.75; the thresholds 0.8 and 0.35 reach recall 1/2 at precision 1 and
# recall 1 at precision 2/3, so AP = 0.5 * 1 + 0.5 * 2/3 = 5/6.
HAND_POSITIVE = [False, False, True, True]
HAND_SCORES = [0.1, 0.4, 0.35, 0.8]


def test_roc_auc_known_answers():
    assert scores.roc_auc(HAND_POSITIVE, HAND_SCORES) == pytest.approx(0.75)
    # Perfectly ordered, reversed, and all tied (each pair counts 1/2).
    assert scores.roc_auc([True, True, False], [0.9, 0.8, 0.1]) == 1.0
    assert scores.roc_auc([True, True, False], [0.1, 0.2, 0.9]) == 0.0
    assert scores.roc_auc([True, False, False, True], [0.5] * 4) == 0.5
    # A tie between one positive and one negative: (1 + 1 + 0.5 + 1) / 4.
    assert scores.roc_auc([True, True, False, False],
                          [0.9, 0.5, 0.5, 0.1]) == pytest.approx(0.875)
    assert np.isnan(scores.roc_auc([False, False], [0.1, 0.2]))
    assert np.isnan(scores.roc_auc([True, True], [0.1, 0.2]))


def test_average_precision_known_answers():
    assert scores.average_precision(HAND_POSITIVE, HAND_SCORES) == pytest.approx(5 / 6)
    assert scores.average_precision([True, False, True], [0.9, 0.1, 0.8]) == 1.0
    # One threshold takes all tied examples: precision is the prevalence.
    assert scores.average_precision([True, False, False, False], [0.3] * 4) == 0.25
    # Positive last: recall 1 only at precision 1/3.
    assert scores.average_precision([False, False, True],
                                    [0.9, 0.8, 0.1]) == pytest.approx(1 / 3)
    assert np.isnan(scores.average_precision([False, False], [0.1, 0.2]))


def test_ranking_metrics_per_class_one_against_the_rest():
    labels = np.array([0, 1, 2, 0])
    probabilities = np.array([[0.7, 0.2, 0.1],
                              [0.2, 0.5, 0.3],
                              [0.1, 0.6, 0.3],
                              [0.4, 0.3, 0.3]])
    auc, ap = scores.ranking_metrics(labels, probabilities)
    # Class 0 scores 0.7, 0.4 on its examples against 0.2, 0.1: separated.
    assert auc[0] == 1.0 and ap[0] == 1.0
    # Class 1: its one example (0.5) below one other (0.6): AUC 2/3, AP 1/2.
    assert auc[1] == pytest.approx(2 / 3) and ap[1] == pytest.approx(0.5)
    # Class 2: 0.3 ties with two of the three others, above one: AUC 2/3;
    # the one threshold 0.3 calls three of them: AP 1/3.
    assert auc[2] == pytest.approx(2 / 3) and ap[2] == pytest.approx(1 / 3)


def test_pr_curve_counts_at_each_threshold():
    data = summaries.pr_curve(HAND_POSITIVE, HAND_SCORES, num_thresholds=5)
    assert data.shape == (6, 5) and data.dtype == np.float32
    tp, fp, tn, fn, precision, recall = data
    # Thresholds 0, .25, .5, .75, 1: scores at or above each are called positive.
    np.testing.assert_array_equal(tp, [2, 2, 1, 1, 0])
    np.testing.assert_array_equal(fp, [2, 1, 0, 0, 0])
    np.testing.assert_array_equal(tn, [0, 1, 2, 2, 2])
    np.testing.assert_array_equal(fn, [0, 0, 1, 1, 2])
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 1, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(recall, [1, 1, 0.5, 0.5, 0], rtol=1e-6)
    # A score of exactly 1 counts at the last threshold.
    assert summaries.pr_curve([True], [1.0], num_thresholds=3)[0, -1] == 1


def test_pr_curve_plugin_content_is_the_proto():
    # PrCurvePluginData: num_thresholds is field 2, a varint (201 takes two
    # bytes: 0xC9 0x01); version 0 is left out.
    assert summaries.pr_curve_plugin_content(201) == b'\x10\xc9\x01'
    assert summaries.pr_curve_plugin_content(5) == b'\x10\x05'


def test_report_with_ranking_columns_and_many_classes():
    confusion = np.zeros((30, 30), np.int64)
    np.fill_diagonal(confusion, 5)
    confusion[3, 7] = 4
    confusion[8, 1] = 2
    names = [f'c{i}' for i in range(30)]
    auc = np.full(30, 0.9)
    auc[2] = np.nan
    report = scores.format_report(confusion, names, auc, np.full(30, 0.8))
    lines = report.splitlines()
    assert lines[0].split() == ['class', 'precision', 'recall', 'examples',
                                'ROC', 'AUC', 'avg', 'precision']
    assert lines[3].split()[-2:] == ['n/a', '0.800']
    assert lines[31].split()[-2:] == ['0.900', '0.800']  # the class means
    # 30 classes: the most frequent confusions instead of the matrix.
    assert lines[33].startswith('Most frequent confusions (the 30x30 matrix')
    assert lines[34:] == ['  c3 taken for c7: 4', '  c8 taken for c1: 2']
    assert summaries.confusion_image(confusion).shape == (240, 240, 3)
