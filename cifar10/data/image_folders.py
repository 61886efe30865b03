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
"""Folders of images, one per class, and the data set written from them.

Finding the images (scan), splitting them into training and test images
(split), checking that every class keeps images on both sides
(count_problems) and writing the records with their manifest, all or
nothing (write_dataset). cifar10_convert_images runs these in order; the
decoding itself is image_files'.

Two layouts are read, as Keras's image_dataset_from_directory and
torchvision's ImageFolder read them:
  SRC/<class>/...                        split here (--test_fraction);
  SRC/train/<class>/..., SRC/test/<class>/...   split as given.
Images in subfolders of a class folder belong to the class. Hidden files
and folders (and macOS's __MACOSX) are skipped.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import zlib

import numpy as np
import tensorflow as tf

from cifar10.data import datasets
from cifar10.data import image_files
from cifar10.runtime.errors import DataError

SPLITS = ('train', 'test')
# Two big-endian label bytes number at most this many classes.
MAX_CLASSES = 65536


def printable(text):
    """A file or folder name as text that can be printed and stored.

    Names that are not valid UTF-8 come from os functions with their bad
    bytes as lone surrogates, which no UTF-8 stream accepts; they become
    U+FFFD. Only messages and the manifest see this form.
    """
    return text.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')


@dataclasses.dataclass
class Image:
    """One image file of a class.

    Attributes:
      path: Its path.
      name: Its path relative to the source folder (as messages say it).
      label: Its class's index.
      split: 'train' or 'test', or None until split() decides.
    """
    path: str
    name: str
    label: int
    split: str | None


@dataclasses.dataclass
class Source:
    """What scan() found in a source folder.

    Attributes:
      root: The source folder.
      layout: 'folders' (SRC/<class>/) or 'split' (SRC/train/, SRC/test/).
      classes: The class names, in label order.
      images: The candidate image files (Image), each class's sorted by name.
      other_files: Names of files that are not images, left alone.
      unused_folders: Folders of classes not asked for (--classes).
      problems: What is wrong with the folders themselves.
    """
    root: str
    layout: str
    classes: list
    images: list
    other_files: list
    unused_folders: list
    problems: list


def _visible(folder):
    """The non-hidden entries of a folder, sorted."""
    return sorted(name for name in os.listdir(folder)
                  if not image_files.is_hidden(name))


def scan(root, classes=None):
    """Finds the classes and their image files in a source folder.

    Args:
      root: The source folder, in either layout.
      classes: None for every class folder, sorted by name; else the class
        names to take, in this order (a subset of the folders).

    Returns:
      A Source.

    Raises:
      DataError: if root is not a readable folder.
    """
    if not os.path.isdir(root):
        raise DataError(f'{root}: no such folder')
    try:
        top = _visible(root)
    except OSError as e:
        raise DataError(f'{root}: cannot be read ({e.strerror})') from None
    split_layout = all(os.path.isdir(os.path.join(root, s)) for s in SPLITS)
    layout = 'split' if split_layout else 'folders'
    parents = ({s: os.path.join(root, s) for s in SPLITS} if split_layout
               else {None: root})
    other_files, problems = [], []
    folders = {}  # split -> names of class folders
    for split, parent in parents.items():
        names = []
        for name in _visible(parent):
            path = os.path.join(parent, name)
            if os.path.isdir(path):
                names.append(name)
            else:
                other_files.append(os.path.relpath(path, root))
        folders[split] = names
    if split_layout:
        other_files += [name for name in top if name not in SPLITS]
    found = sorted(set().union(*folders.values()))
    unused = []
    if classes is None:
        classes = found
    else:
        for name in classes:
            for split, parent in parents.items():
                if name not in folders[split]:
                    problems.append(f'{os.path.join(parent, name)}: no such class '
                                    'folder (--classes)')
        unused = [name for name in found if name not in classes]
    if len(classes) < 2:
        half = [s for s in SPLITS if s in classes]
        hint = (f' ({half[0]}/ without {"test" if half[0] == "train" else "train"}/: '
                'the split layout needs both)' if half else '')
        problems.append(f'{root}: {len(classes)} class folder'
                        f'{"" if len(classes) == 1 else "s"} '
                        f'({", ".join(classes) or "none"}); a classifier needs '
                        f'at least 2, one folder of images per class{hint}')
    if len(classes) > MAX_CLASSES:
        problems.append(f'{root}: {len(classes):,} classes; at most '
                        f'{MAX_CLASSES:,} fit the records\' two label bytes')
    images = []
    for label, name in enumerate(classes):
        for split, parent in parents.items():
            folder = os.path.join(parent, name)
            if not os.path.isdir(folder):
                continue
            found, others = image_files.files_in(folder)
            images += [Image(path, os.path.relpath(path, root), label, split)
                       for path in found]
            other_files += [os.path.relpath(path, root) for path in others]
            if not found:
                problems.append(f'{folder}: class folder without images')
    return Source(root, layout, list(classes), images, other_files, unused,
                  problems)


def split(images, classes, test_fraction, seed):
    """Assigns each image without a split to training or test, per class.

    Each class gives round(n * test_fraction) of its n images to the test
    set, drawn by a generator seeded with ``seed`` and the class's name: the
    same files and seed always give the same split, whatever the other
    classes.

    Args:
      images: Image entries; those whose split is None are assigned.
      classes: The class names.
      test_fraction: The fraction of each class for testing.
      seed: The seed.
    """
    by_class = {}
    for image in images:
        if image.split is None:
            by_class.setdefault(image.label, []).append(image)
    for label, members in by_class.items():
        key = zlib.crc32(os.fsencode(classes[label]))
        rng = np.random.default_rng([seed, key])
        test = int(len(members) * test_fraction + 0.5)
        order = rng.permutation(len(members))
        for rank, index in enumerate(order):
            members[index].split = 'test' if rank < test else 'train'


def count_problems(images, classes, layout, test_fraction):
    """Says which classes have no training or no test images.

    Args:
      images: The (split) Image entries that will be written.
      classes: The class names.
      layout: The source's layout.
      test_fraction: The fraction asked for (in the message).

    Returns:
      A list of one-line problems.
    """
    counts = np.zeros([len(classes), 2], int)
    for image in images:
        counts[image.label, SPLITS.index(image.split)] += 1
    problems = []
    for label, name in enumerate(classes):
        train, test = counts[label]
        if train + test == 0:
            continue  # Said already: a folder without (readable) images.
        for side, count in (('training', train), ('test', test)):
            if count:
                continue
            if layout == 'split':
                problems.append(f'class {name!r} has no {side} images '
                                f'(in {"train" if side == "training" else "test"}/{name}/)')
            else:
                problems.append(
                    f'class {name!r} has no {side} images: --test_fraction='
                    f'{test_fraction:g} of its {train + test} images leaves '
                    'none; add images or change --test_fraction')
    return problems


def leaked_duplicates(images, fingerprints):
    """Finds test images whose file is byte-identical to a training image's.

    Args:
      images: The Image entries.
      fingerprints: [len(images)] fingerprints of the files' bytes.

    Returns:
      A list of (test name, training name) pairs, one per leaked test image.
    """
    train = {}
    for image, fingerprint in zip(images, fingerprints):
        if image.split == 'train':
            train.setdefault(int(fingerprint), []).append(image)
    pairs = []
    for image, fingerprint in zip(images, fingerprints):
        if image.split != 'test':
            continue
        # Equal fingerprints almost always mean equal bytes; make sure.
        digest = None
        for other in train.get(int(fingerprint), ()):
            digest = digest or _sha256_file(image.path)
            if _sha256_file(other.path) == digest:
                pairs.append((image.name, other.name))
                break
    return pairs


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def records(images, labels, label_bytes, order=None):
    """The fixed-length records of images.

    Args:
      images: [M, size, size, 3] uint8.
      labels: [M] class indices.
      label_bytes: 1, or 2 (big-endian) for more than 256 classes.
      order: Which images, in which order (N indices); None for all.

    Returns:
      [N, label_bytes + 3 * size * size] uint8: the label, then the red,
      green and blue planes, each row by row.
    """
    if order is None:
        order = np.arange(len(images))
    count, size = len(order), images.shape[1]
    out = np.empty([count, label_bytes + 3 * size * size], np.uint8)
    labels = np.asarray(labels, np.int64)[order]
    if label_bytes == 2:
        out[:, 0] = labels // 256
        out[:, 1] = labels % 256
    else:
        out[:, 0] = labels
    # One gather and one strided copy, straight into the records.
    out[:, label_bytes:].reshape(count, 3, size, size)[...] = (
        images[order].transpose(0, 3, 1, 2))
    return out


def _write(folder, name, data):
    """Writes a C-contiguous array's bytes to a file; returns its manifest
    entry's size and hash."""
    view = memoryview(data).cast('B')
    with open(os.path.join(folder, name), 'wb') as f:
        f.write(view)
    return {'bytes': view.nbytes, 'sha256': hashlib.sha256(view).hexdigest()}


def _tfrecord_shards(tmp, split_name, images, labels, order):
    """Writes one split as TFRecord shards of about TFRECORDS_PER_SHARD
    tf.train.Example records; returns their manifest entries."""
    per = datasets.TFRECORDS_PER_SHARD
    count = max(1, -(-len(order) // per))
    entries = []
    for index in range(count):
        name = datasets.TFRECORD_FILE.format(split=split_name, index=index,
                                             count=count)
        chunk = order[index * per:(index + 1) * per]
        with tf.io.TFRecordWriter(os.path.join(tmp, name)) as writer:
            for i in chunk:
                writer.write(tfrecord_example(images[i], labels[i]))
        entries.append({'name': name, 'records': len(chunk),
                        'bytes': os.path.getsize(os.path.join(tmp, name)),
                        'sha256': _sha256_file(os.path.join(tmp, name))})
    return entries


def tfrecord_example(image, label):
    """One image as a serialized tf.train.Example with SPEC's keys:
    image_raw (H x W x 3 uint8, row by row, channels last), label, height,
    width."""
    height, width = image.shape[:2]

    def ints(value):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
    return tf.train.Example(features=tf.train.Features(feature={
        'image_raw': tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[np.ascontiguousarray(image, np.uint8).tobytes()])),
        'label': ints(label), 'height': ints(height), 'width': ints(width),
    })).SerializeToString()


def write_dataset(out_dir, images, labels, splits, classes, manifest,
                  overwrite, seed=0, record_format='fixed'):
    """Writes the records, classes.txt and dataset.json, all or nothing.

    Everything goes into a temporary folder beside out_dir, which is renamed
    to out_dir only once complete; an interruption or error removes it.

    Args:
      out_dir: The data set's folder (what --data_dir will name).
      images: [M, size, size, 3] uint8, the images.
      labels: [M] their class indices.
      splits: {'train': indices, 'test': indices} of the images to write.
      classes: The class names.
      manifest: The manifest's entries other than the layout, classes,
        counts and files (options, skipped files, ...).
      overwrite: Replace an existing out_dir (else it is refused).
      seed: Seeds the order in which the records are written (shuffled, so
        that a reader that takes the files in order sees mixed classes).
      record_format: 'fixed' (fixed-length records, data_batch_N.bin and
        test_batch.bin) or 'tfrecord' (shards of tf.train.Example).

    Returns:
      The manifest written.

    Raises:
      DataError: if out_dir exists and not overwrite.
    """
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not overwrite:
        raise DataError(f'{out_dir} exists already; pass --overwrite to '
                        'replace it')
    label_bytes = datasets.label_bytes_for(len(classes))
    classes = [printable(name) for name in classes]
    image_size = images.shape[1]
    labels = np.asarray(labels, np.int64)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{os.path.basename(out_dir)}.tmp-', dir=parent)
    try:
        rng = np.random.default_rng(seed)
        files = {}
        counts_per_class = {}
        for split_name in SPLITS:
            order = rng.permutation(np.asarray(splits[split_name], np.int64))
            counts = np.bincount(labels[order], minlength=len(classes))
            counts_per_class[split_name] = {
                name: int(counts[label]) for label, name in enumerate(classes)}
            if record_format == 'tfrecord':
                files[split_name] = _tfrecord_shards(tmp, split_name, images,
                                                     labels, order)
                continue
            data = records(images, labels, label_bytes, order)
            if split_name == 'train':
                size = datasets.RECORDS_PER_CUSTOM_TRAIN_FILE
                chunks = [(datasets.CUSTOM_TRAIN_FILE.format(i + 1),
                           data[start:start + size])
                          for i, start in enumerate(range(0, len(data), size))]
            else:
                chunks = [(datasets.CUSTOM_TEST_FILE, data)]
            files[split_name] = [
                {'name': name, 'records': len(chunk),
                 **_write(tmp, name, chunk)}
                for name, chunk in chunks]
        full = {
            'format': datasets.MANIFEST_FORMAT,
            'format_version': datasets.MANIFEST_VERSION,
            'image_size': image_size,
            'label_bytes': label_bytes,
            'record_format': record_format,
            'record_bytes': (label_bytes + 3 * image_size * image_size
                             if record_format == 'fixed' else None),
            'classes': classes,
            'counts': {s: len(splits[s]) for s in SPLITS},
            'counts_per_class': counts_per_class,
            'files': files,
            **manifest,
        }
        with open(os.path.join(tmp, datasets.CLASSES_FILE), 'w',
                  encoding='utf-8') as f:
            f.write(''.join(f'{name}\n' for name in classes))
        with open(os.path.join(tmp, datasets.MANIFEST), 'w', encoding='utf-8') as f:
            json.dump(full, f, indent=2, ensure_ascii=False)
            f.write('\n')
        os.chmod(tmp, 0o755)
        if os.path.exists(out_dir):
            old = tempfile.mkdtemp(prefix=f'.{os.path.basename(out_dir)}.old-',
                                   dir=parent)
            os.replace(out_dir, os.path.join(old, 'previous'))
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
        return full
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
