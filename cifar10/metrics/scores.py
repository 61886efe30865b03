# Copyright 2026 The cifar10 port authors. All Rights Reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Evaluation metrics beyond precision @ 1: per-class figures and confusion,
ROC AUC, average precision and precision-recall curves.

Everything here is plain numpy on the predictions and class probabilities
the evaluator collects in its one pass over the data; summaries turns the
results into what TensorBoard shows.

ROC and precision-recall figures are per class, one class against the
rest, scored by the softmax probability of that class (SPEC, "ROC and
precision-recall curves"):
  - ROC AUC: the area under true-positive rate against false-positive
    rate over all thresholds; equivalently, the probability that a random
    example of the class scores above a random other one, ties counting
    one half (0.5 is chance).
  - Average precision: sum over the distinct scores, from the highest
    down, of (R_n - R_{n-1}) x P_n, P_n and R_n being precision and recall
    when every example scoring at least the n-th threshold is called
    positive.
"""

import numpy as np

from cifar10.data import datasets


def confusion_matrix(labels, predictions, num_classes=datasets.CIFAR10.num_classes):
    """Counts (true class, predicted class) pairs.

    Args:
      labels: Integer array of true classes.
      predictions: Integer array of predicted classes, same length.
      num_classes: Number of classes.

    Returns:
      An int64 [num_classes, num_classes] array; rows are true classes,
      columns predicted classes.
    """
    labels = np.asarray(labels, np.int64)
    predictions = np.asarray(predictions, np.int64)
    flat = np.bincount(labels * num_classes + predictions,
                       minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def per_class(confusion):
    """Per-class precision and recall from a confusion matrix.

    Precision of class c: of the examples predicted c, the fraction that are
    c. Recall of class c: of the examples that are c, the fraction predicted
    c. A class never predicted (or absent) gets 0.0 rather than NaN, so the
    figure can go to TensorBoard.

    Args:
      confusion: A [C, C] array from confusion_matrix.

    Returns:
      (precision, recall): two float arrays of length C.
    """
    confusion = np.asarray(confusion, np.float64)
    correct = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct),
                          where=predicted > 0)
    recall = np.divide(correct, actual, out=np.zeros_like(correct),
                       where=actual > 0)
    return precision, recall


# Classes up to which the report prints the whole confusion matrix; with
# more (CIFAR-100) it lists the most frequent confusions instead.
MAX_PRINTED_MATRIX = 20
PRINTED_CONFUSIONS = 10


def _figure(value, width):
    """A figure for the report, 'n/a' where it is undefined (NaN)."""
    return f'{value:{width}.3f}' if np.isfinite(value) else f'{"n/a":>{width}}'


def finite_mean(values):
    """The mean of the finite values (NaN when there is none)."""
    finite = np.asarray(values)[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float('nan')


def format_report(confusion, class_names, auc=None, ap=None):
    """Formats per-class figures and the confusion matrix as a text table.

    Args:
      confusion: A [C, C] array from confusion_matrix.
      class_names: C class names.
      auc, ap: Per-class ROC AUC and average precision (ranking_metrics),
        or None to leave those columns out.

    Returns:
      A multi-line string.
    """
    precision, recall = per_class(confusion)
    total = int(confusion.sum())
    ranked = auc is not None and ap is not None
    name_width = max(len(n) for n in list(class_names) + ['all'])
    header = f'{"class":<{name_width}}  precision  recall  examples'
    lines = [header + ('  ROC AUC  avg precision' if ranked else '')]
    for i, name in enumerate(class_names):
        line = (f'{name:<{name_width}}  {precision[i]:9.3f}  '
                f'{recall[i]:6.3f}  {int(confusion[i].sum()):8d}')
        if ranked:
            line += f'  {_figure(auc[i], 7)}  {_figure(ap[i], 13)}'
        lines.append(line)
    line = (f'{"all":<{name_width}}  {np.trace(confusion) / total:9.3f}  '
            f'{"":6}  {total:8d}')
    if ranked:
        # The class means (macro averages).
        line += f'  {_figure(finite_mean(auc), 7)}  {_figure(finite_mean(ap), 13)}'
    lines.append(line)
    lines.append('')
    if len(class_names) > MAX_PRINTED_MATRIX:
        lines.append(_top_confusions(confusion, class_names))
        return '\n'.join(lines)
    lines.append('Confusion matrix (rows: true class, columns: predicted class):')
    width = max(6, len(str(int(confusion.max()))) + 1)
    header = ''.join(f'{n[:width - 1]:>{width}}' for n in class_names)
    lines.append(f'{"":<{name_width}}{header}')
    for i, name in enumerate(class_names):
        row = ''.join(f'{int(v):>{width}d}' for v in confusion[i])
        lines.append(f'{name:<{name_width}}{row}')
    return '\n'.join(lines)


def _top_confusions(confusion, class_names, count=PRINTED_CONFUSIONS):
    """The most frequent (true, predicted) mistakes, as report lines."""
    off = np.array(confusion, np.int64)
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind='stable')[:count]
    lines = [f'Most frequent confusions (the {len(class_names)}x'
             f'{len(class_names)} matrix is in TensorBoard):']
    for flat in order:
        true, predicted = divmod(int(flat), off.shape[1])
        if off[true, predicted] == 0:
            break
        lines.append(f'  {class_names[true]} taken for {class_names[predicted]}: '
                     f'{off[true, predicted]}')
    return '\n'.join(lines)


def roc_auc(is_positive, scores):
    """The ROC AUC of one class against the rest.

    Computed exactly from ranks (the Mann-Whitney statistic): each
    (positive, negative) pair counts 1 if the positive scores higher, 1/2
    if they tie.

    Args:
      is_positive: Boolean array, whether each example is of the class.
      scores: Float array, the examples' scores for the class.

    Returns:
      The area, or NaN if there are no positives or no negatives.
    """
    is_positive = np.asarray(is_positive, bool)
    scores = np.asarray(scores, np.float64)
    positives = int(is_positive.sum())
    negatives = len(is_positive) - positives
    if positives == 0 or negatives == 0:
        return float('nan')
    order = np.argsort(scores, kind='mergesort')
    sorted_scores = scores[order]
    # Average rank (1-based) of each run of tied scores.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    ranks = np.empty(len(scores))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    rank_sum = ranks[is_positive].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0)
                 / (positives * negatives))


def average_precision(is_positive, scores):
    """The average precision of one class against the rest.

    Args:
      is_positive: Boolean array, whether each example is of the class.
      scores: Float array, the examples' scores for the class.

    Returns:
      sum_n (R_n - R_{n-1}) P_n over the distinct scores as thresholds,
      highest first (R_0 = 0); NaN if there are no positives.
    """
    is_positive = np.asarray(is_positive, bool)
    scores = np.asarray(scores, np.float64)
    positives = int(is_positive.sum())
    if positives == 0:
        return float('nan')
    order = np.argsort(-scores, kind='mergesort')
    hits = is_positive[order]
    sorted_scores = scores[order]
    # The last example of each run of equal scores: a threshold takes all.
    last = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    tp = np.cumsum(hits)[last]
    called = last + 1
    precision = tp / called
    recall = tp / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def ranking_metrics(labels, probabilities):
    """Per-class ROC AUC and average precision, one class against the rest.

    Args:
      labels: Integer array [N] of true classes.
      probabilities: Float array [N, C] of class probabilities.

    Returns:
      (auc, ap): two float arrays of length C (NaN for a class with no
      examples, or, for the AUC, with nothing but).
    """
    labels = np.asarray(labels, np.int64)
    probabilities = np.asarray(probabilities)
    num_classes = probabilities.shape[1]
    auc = np.array([roc_auc(labels == c, probabilities[:, c])
                    for c in range(num_classes)])
    ap = np.array([average_precision(labels == c, probabilities[:, c])
                   for c in range(num_classes)])
    return auc, ap
