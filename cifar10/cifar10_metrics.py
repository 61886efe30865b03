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
"""Evaluation metrics beyond precision @ 1: per-class figures and confusion.

Everything here is plain numpy (and the standard library's zlib for the
confusion-matrix picture) on the predictions the evaluator collects in its
one pass over the data.
"""

import os
import struct
import zlib

import numpy as np

from cifar10.cifar10_input import CLASS_NAMES, NUM_CLASSES

META_FILE = 'batches.meta.txt'


def read_class_names(bin_dir):
    """Returns the class names, from batches.meta.txt when it is usable.

    Args:
      bin_dir: The folder holding the binary files (cifar-10-batches-bin).

    Returns:
      A list of NUM_CLASSES names: the non-empty lines of batches.meta.txt
      if it has exactly that many, else the CIFAR-10 names.
    """
    try:
        with open(os.path.join(bin_dir, META_FILE), encoding='utf-8') as f:
            names = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError):
        return list(CLASS_NAMES)
    return names if len(names) == NUM_CLASSES else list(CLASS_NAMES)


def confusion_matrix(labels, predictions, num_classes=NUM_CLASSES):
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


def format_report(confusion, class_names):
    """Formats per-class figures and the confusion matrix as a text table.

    Args:
      confusion: A [C, C] array from confusion_matrix.
      class_names: C class names.

    Returns:
      A multi-line string.
    """
    precision, recall = per_class(confusion)
    total = int(confusion.sum())
    name_width = max(len(n) for n in class_names)
    lines = [f'{"class":<{name_width}}  precision  recall  examples']
    for i, name in enumerate(class_names):
        lines.append(f'{name:<{name_width}}  {precision[i]:9.3f}  '
                     f'{recall[i]:6.3f}  {int(confusion[i].sum()):8d}')
    lines.append(f'{"all":<{name_width}}  {np.trace(confusion) / total:9.3f}  '
                 f'{"":6}  {total:8d}')
    lines.append('')
    lines.append('Confusion matrix (rows: true class, columns: predicted class):')
    width = max(6, len(str(int(confusion.max()))) + 1)
    header = ''.join(f'{n[:width - 1]:>{width}}' for n in class_names)
    lines.append(f'{"":<{name_width}}{header}')
    for i, name in enumerate(class_names):
        row = ''.join(f'{int(v):>{width}d}' for v in confusion[i])
        lines.append(f'{name:<{name_width}}{row}')
    return '\n'.join(lines)


def confusion_image(confusion, cell=24):
    """Draws the confusion matrix as an RGB picture for TensorBoard.

    Each cell is a ``cell`` x ``cell`` square whose darkness is the fraction
    of the true class (row) predicted as the column's class, from white (0)
    to dark blue (1); the diagonal then shows each class's recall.

    Args:
      confusion: A [C, C] array from confusion_matrix.
      cell: Side of a cell in pixels.

    Returns:
      A uint8 [C * cell, C * cell, 3] array.
    """
    confusion = np.asarray(confusion, np.float64)
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


def summary_values(confusion, class_names):
    """Returns (tag, value) pairs of the per-class scalars for TensorBoard.

    Args:
      confusion: A [C, C] array from confusion_matrix.
      class_names: C class names.
    """
    precision, recall = per_class(confusion)
    values = []
    for i, name in enumerate(class_names):
        values.append((f'Precision per class/{name}', float(precision[i])))
        values.append((f'Recall per class/{name}', float(recall[i])))
    return values
