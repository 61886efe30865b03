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
"""What the evaluator writes for TensorBoard beyond precision @ 1.

The per-class scalars (precision, recall, ROC AUC, average precision), the
confusion matrix as a picture (encoded as PNG here, with the standard
library's zlib), and the data of the precision-recall curves plugin, all
from the figures of scores. Plain numpy: nothing here builds a graph.
"""

import struct
import zlib

import numpy as np

from cifar10.metrics import scores


def confusion_image(confusion, cell=None):
    """Draws the confusion matrix as an RGB picture for TensorBoard.

    Each cell is a ``cell`` x ``cell`` square whose darkness is the fraction
    of the true class (row) predicted as the column's class, from white (0)
    to dark blue (1); the diagonal then shows each class's recall.

    Args:
      confusion: A [C, C] array from confusion_matrix.
      cell: Side of a cell in pixels; None for 24 with 10 classes, smaller
        with more (the picture stays about 240 to 400 pixels wide).

    Returns:
      A uint8 [C * cell, C * cell, 3] array.
    """
    confusion = np.asarray(confusion, np.float64)
    if cell is None:
        cell = max(4, 240 // len(confusion))
    rows = confusion.sum(axis=1, keepdims=True)
    fraction = np.divide(confusion, rows, out=np.zeros_like(confusion),
                         where=rows > 0)
    white = np.array([255.0, 255.0, 255.0])
    blue = np.array([8.0, 48.0, 107.0])
    colours = white + fraction[..., None] * (blue - white)
    image = np.repeat(np.repeat(colours, cell, axis=0), cell, axis=1)
    # Thin grey grid lines between cells.
    image[::cell, :, :] = 200
    image[:, ::cell, :] = 200
    return np.round(image).astype(np.uint8)


def encode_png(image):
    """Encodes an RGB picture as PNG bytes.

    The evaluator's graph is finalized and its session closed by the time
    the picture exists; TensorFlow's encode_png would start the eager
    runtime for this one call (~40 ms, 1% of an evaluation). A PNG is a
    signature and three chunks around zlib-compressed rows.

    Args:
      image: A uint8 [H, W, 3] array.

    Returns:
      The PNG file's bytes (8-bit RGB, no filtering).
    """
    image = np.ascontiguousarray(image, np.uint8)
    height, width, channels = image.shape
    if channels != 3:
        raise ValueError(f'expected an RGB image, got {channels} channels')
    # Each row starts with its filter type, 0 (none).
    rows = np.zeros((height, 1 + width * 3), np.uint8)
    rows[:, 1:] = image.reshape(height, width * 3)

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) +
            chunk(b'IDAT', zlib.compress(rows.tobytes(), 6)) +
            chunk(b'IEND', b''))


def summary_values(confusion, class_names, auc=None, ap=None):
    """Returns (tag, value) pairs of the per-class scalars for TensorBoard.

    Args:
      confusion: A [C, C] array from confusion_matrix.
      class_names: C class names.
      auc, ap: Per-class ROC AUC and average precision, or None; undefined
        (NaN) figures are left out.
    """
    precision, recall = scores.per_class(confusion)
    values = []
    for i, name in enumerate(class_names):
        values.append((f'Precision per class/{name}', float(precision[i])))
        values.append((f'Recall per class/{name}', float(recall[i])))
        for tag, figures in (('ROC AUC', auc), ('Average precision', ap)):
            if figures is not None and np.isfinite(figures[i]):
                values.append((f'{tag} per class/{name}', float(figures[i])))
    for tag, figures in (('ROC AUC (class mean)', auc),
                         ('Average precision (class mean)', ap)):
        if figures is not None and np.isfinite(figures).any():
            values.append((tag, scores.finite_mean(figures)))
    return values


# TensorBoard's PR-curves dashboard: its plugin name, and thresholds
# i / (n - 1) for i = 0..n-1.
PR_CURVES_PLUGIN = 'pr_curves'
PR_CURVE_THRESHOLDS = 201
# Keeps a count of zero from dividing, as TensorBoard's own summaries do.
_MINIMUM_COUNT = 1e-7


def pr_curve(is_positive, probabilities, num_thresholds=PR_CURVE_THRESHOLDS):
    """The data of a TensorBoard precision-recall curve for one class.

    At threshold t_i = i / (num_thresholds - 1), an example is called
    positive when its score is at least t_i.

    Args:
      is_positive: Boolean array, whether each example is of the class.
      probabilities: Float array of the class's scores in [0, 1]
        (clipped to it).
      num_thresholds: Number of thresholds, at least 2.

    Returns:
      A float32 [6, num_thresholds] array, rows true positives, false
      positives, true negatives, false negatives, precision and recall:
      the tensor the PR-curves dashboard reads.
    """
    is_positive = np.asarray(is_positive, bool)
    probabilities = np.clip(np.asarray(probabilities, np.float64), 0.0, 1.0)
    # Bucket b holds the scores in [t_b, t_{b+1}); a score of 1 the last.
    buckets = np.floor(probabilities * (num_thresholds - 1)).astype(np.int64)
    pos = np.bincount(buckets[is_positive], minlength=num_thresholds)
    neg = np.bincount(buckets[~is_positive], minlength=num_thresholds)
    # Counts at or above each threshold: sums from the top bucket down.
    tp = np.cumsum(pos[::-1])[::-1].astype(np.float64)
    fp = np.cumsum(neg[::-1])[::-1].astype(np.float64)
    fn = is_positive.sum() - tp
    tn = (~is_positive).sum() - fp
    precision = tp / np.maximum(_MINIMUM_COUNT, tp + fp)
    recall = tp / np.maximum(_MINIMUM_COUNT, tp + fn)
    return np.stack([tp, fp, tn, fn, precision, recall]).astype(np.float32)


def pr_curve_plugin_content(num_thresholds=PR_CURVE_THRESHOLDS):
    """The PR-curves plugin's metadata content, serialized.

    It is TensorBoard's PrCurvePluginData message: version (field 1, 0,
    which proto3 leaves out) and num_thresholds (field 2, a varint),
    written by hand so that tensorboard need not be installed.
    """
    value, encoded = int(num_thresholds), bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        encoded.append(byte | (0x80 if value else 0))
        if not value:
            break
    return b'\x10' + bytes(encoded)
