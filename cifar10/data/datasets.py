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
"""The data sets the scripts read (--dataset), described once.

Every data set here is stored as CIFAR-10's binary release is: fixed-length
records of some label bytes followed by a 32x32 RGB image, plane by plane
(1,024 red, 1,024 green, 1,024 blue bytes, each plane row by row).

- cifar10: 1 label byte (0-9); five training files and one test file of
  10,000 records each, in ``cifar-10-batches-bin/``.
- cifar100: 2 label bytes, coarse (0-19) then fine (0-99); ``train.bin``
  (50,000) and ``test.bin`` (10,000) in ``cifar-100-binary/``.
  --cifar100_label picks which byte is the label.
- svhn: the cropped digits, converted from the official ``.mat`` files by
  scripts/svhn_to_binary.py into CIFAR-10's 1-label-byte layout, class c
  being the digit c; ``train.bin`` (73,257) and ``test.bin`` (26,032) in
  ``svhn-bin/``.
- custom: your own images, converted from class folders by
  cifar10_convert_images.py into the same layout, at any square image
  size, with 1 label byte (2, big-endian, with more than 256 classes).
  Its ``dataset.json`` (the manifest) gives the classes, the image size
  and the files with their record counts; --data_dir is the converter's
  output folder itself.

Nothing here touches TensorFlow, and only custom() reads a file (the
manifest); the readers (cifar10_input, record_files) and the download
take a Dataset.
"""

import dataclasses
import json
import os

from cifar10.runtime.errors import DataError


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One data set's layout, files and classes.

    Attributes:
      name: The --dataset value ('cifar10', 'cifar100', 'svhn').
      title: How messages name it ('CIFAR-100').
      labels: Which labels, where a data set has several ('fine'), else ''.
      label_bytes: Bytes before the pixels in each record.
      label_byte: Which of them is the label.
      label_limits: For each label byte, the number of values it may take
        (a byte at or over its limit marks a corrupt file).
      class_names: The names of the classes, in label order; a names file
        in the data folder, if usable, overrides them (see class_names_in).
      names_file: That file's name in the extracted folder, or None.
      extracted_dir: The folder, inside --data_dir, holding the files.
      train_files: {file name: records in the official file} for training.
      test_files: The same for the test data.
      url: Where the release's tarball is downloaded from (None: not
        downloadable as a tarball; see missing_hint).
      md5: The tarball's MD5.
      size: The tarball's size in bytes, or None if not known.
      missing_hint: What to tell a user whose data folder lacks the files.
      image_size: Side of the square images in the records (32).
      label_width: How many of the label bytes, from label_byte on, make
        the label (big-endian): 1, or 2 for a custom data set of more than
        256 classes.
      resize: How images of another size are brought to image_size (see
        RESIZE_MODES): the converter's choice for a custom
        data set, so that prediction prepares files as it did.
      detail: Said after the title in describe() ('in /data/flowers').
      record_format: 'fixed' (fixed-length records, as above) or
        'tfrecord' (TFRecord files of tf.train.Example, see TFRECORD_KEYS;
        a custom data set converted with --format=tfrecord).
      file_bytes: {file name: size in bytes} where the manifest says (a
        custom data set), else None (sizes follow from record_bytes).
    """
    name: str
    title: str
    labels: str
    label_bytes: int
    label_byte: int
    label_limits: tuple
    class_names: tuple
    names_file: str | None
    extracted_dir: str
    train_files: dict
    test_files: dict
    url: str | None = None
    md5: str | None = None
    size: int | None = None
    missing_hint: str | None = None
    image_size: int = 32
    label_width: int = 1
    resize: str = 'stretch'
    detail: str = ''
    record_format: str = 'fixed'
    file_bytes: dict | None = None

    @property
    def image_bytes(self):
        """Pixel bytes per record (3,072 at 32x32)."""
        return self.image_size * self.image_size * 3

    @property
    def record_bytes(self):
        """Bytes per record: the label bytes and the pixel bytes."""
        return self.label_bytes + self.image_bytes

    @property
    def crop_size(self):
        """Side of the crops the network sees: 3/4 of the image, as the
        tutorial's 24 of 32 (48 of 64)."""
        return self.image_size * 3 // 4

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def num_train(self):
        """Records in the official training files (one epoch)."""
        return sum(self.train_files.values())

    @property
    def num_test(self):
        return sum(self.test_files.values())

    @property
    def official_records(self):
        """{file name: record count} of every official file."""
        return {**self.train_files, **self.test_files}

    def describe(self):
        """The data set in a phrase: 'CIFAR-100 (fine labels, 100 classes)'."""
        labels = f'{self.labels} labels, ' if self.labels else ''
        size = (f', {self.image_size}x{self.image_size} images'
                if self.image_size != 32 else '')
        detail = f' {self.detail}' if self.detail else ''
        return f'{self.title}{detail} ({labels}{self.num_classes} classes{size})'

    def folder(self, data_dir):
        """The folder holding the binary files, inside ``data_dir``."""
        return os.path.join(data_dir, self.extracted_dir)

    def class_names_in(self, folder):
        """Returns the class names, from the names file when it is usable.

        Args:
          folder: The extracted folder (see folder()).

        Returns:
          A list of num_classes names: the non-empty lines of the names
          file if it has exactly that many, else class_names.
        """
        if self.names_file:
            try:
                with open(os.path.join(folder, self.names_file),
                          encoding='utf-8') as f:
                    names = [line.strip() for line in f if line.strip()]
            except (OSError, UnicodeDecodeError):
                names = []
            if len(names) == self.num_classes:
                return names
        return list(self.class_names)


CIFAR10_CLASS_NAMES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                       'frog', 'horse', 'ship', 'truck')

CIFAR10 = Dataset(
    name='cifar10', title='CIFAR-10', labels='', label_bytes=1, label_byte=0,
    label_limits=(10,), class_names=CIFAR10_CLASS_NAMES,
    names_file='batches.meta.txt', extracted_dir='cifar-10-batches-bin',
    train_files={f'data_batch_{i}.bin': 10000 for i in range(1, 6)},
    test_files={'test_batch.bin': 10000},
    url='https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5='c32a1d4ab5d03f1284b67883e8d87530', size=170052171)

_CIFAR100 = dict(
    label_bytes=2, label_limits=(20, 100), extracted_dir='cifar-100-binary',
    train_files={'train.bin': 50000}, test_files={'test.bin': 10000},
    url='https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5='03b5dce01913d631647c71ecec9e9cb8')

# Without the names files, classes are called by their label.
CIFAR100_FINE = Dataset(
    name='cifar100', title='CIFAR-100', labels='fine', label_byte=1,
    class_names=tuple(f'fine_{i}' for i in range(100)),
    names_file='fine_label_names.txt', **_CIFAR100)

CIFAR100_COARSE = Dataset(
    name='cifar100', title='CIFAR-100', labels='coarse', label_byte=0,
    class_names=tuple(f'coarse_{i}' for i in range(20)),
    names_file='coarse_label_names.txt', **_CIFAR100)

SVHN = Dataset(
    name='svhn', title='SVHN', labels='', label_bytes=1, label_byte=0,
    label_limits=(10,), class_names=tuple(str(d) for d in range(10)),
    names_file=None, extracted_dir='svhn-bin',
    train_files={'train.bin': 73257}, test_files={'test.bin': 26032},
    missing_hint=('convert the official train_32x32.mat and test_32x32.mat '
                  'with "python scripts/svhn_to_binary.py --data_dir DATA_DIR" '
                  '(after pip install .[svhn])'))

NAMES = ('cifar10', 'cifar100', 'svhn', 'custom')
CIFAR100_LABELS = ('fine', 'coarse')

# The converter's manifest, in the custom data set's folder.
MANIFEST = 'dataset.json'
MANIFEST_FORMAT = 'cifar10-custom-images'
MANIFEST_VERSION = 1
CLASSES_FILE = 'classes.txt'
# The records' file names: training records in files of at most this many
# records (as CIFAR-10's five), the test records in one file.
CUSTOM_TRAIN_FILE = 'data_batch_{}.bin'
CUSTOM_TEST_FILE = 'test_batch.bin'
RECORDS_PER_CUSTOM_TRAIN_FILE = 10000
MIN_IMAGE_SIZE = 8
MAX_IMAGE_SIZE = 512
RESIZE_MODES = ('crop', 'pad', 'stretch')
# How the records are stored (the converter's --format): fixed-length
# records, or TFRecord files of tf.train.Example with the keys of
# TFRECORD_KEYS (SPEC, "TFRecords"), about TFRECORDS_PER_SHARD per file.
RECORD_FORMATS = ('fixed', 'tfrecord')
FORMAT_FLAGS = {'records': 'fixed', 'tfrecord': 'tfrecord'}
TFRECORD_KEYS = ('image_raw', 'label', 'height', 'width')
TFRECORDS_PER_SHARD = 1000
TFRECORD_FILE = '{split}-{index:05d}-of-{count:05d}.tfrecord'


def label_bytes_for(num_classes):
    """Label bytes of a custom record: 1, or 2 above 256 classes."""
    return 1 if num_classes <= 256 else 2


def _convert_hint(data_dir):
    """How to make a data set for --data_dir, as a command that works
    when pasted: an image folder itself is the converter's source, and the
    data set goes beside it."""
    command = 'python cifar10/cifar10_convert_images.py'
    try:
        folders = [e for e in os.scandir(data_dir) if e.is_dir()]
    except OSError:
        folders = []
    if folders:  # Class folders (or train/ and test/): images, not a data set.
        out = os.path.normpath(data_dir) + '_dataset'
        return (f'if it holds your image folders, convert them first with '
                f'"{command} {data_dir} --out {out}" and pass --data_dir={out}')
    return f'convert your image folders first with "{command} SRC --out {data_dir}"'


def custom(data_dir):
    """The custom data set the converter wrote into ``data_dir``.

    Args:
      data_dir: The converter's output folder (holding dataset.json).

    Returns:
      A Dataset whose classes, image size, label bytes and files (with
      their record counts) are the manifest's; its folder is data_dir.

    Raises:
      DataError: if the manifest is missing, unreadable or not the
        converter's (one line naming it).
    """
    path = os.path.join(data_dir, MANIFEST)
    hint = _convert_hint(data_dir)
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise DataError(f'{data_dir}: no {MANIFEST}, so not a converted data '
                        f'set; {hint}') from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        reason = getattr(e, 'strerror', None) or e
        raise DataError(f'{path}: cannot be read ({reason}); {hint}') from None
    try:
        return _from_manifest(manifest, data_dir)
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f'{path}: not a manifest this version reads ({e}); '
                        f'{hint}') from None


def _from_manifest(manifest, data_dir):
    """Builds the Dataset of a parsed manifest (see custom)."""
    if manifest.get('format') != MANIFEST_FORMAT:
        raise ValueError(f'format is {manifest.get("format")!r}')
    if manifest['format_version'] != MANIFEST_VERSION:
        raise ValueError(f'format_version {manifest["format_version"]}')
    classes = [str(name) for name in manifest['classes']]
    size = int(manifest['image_size'])
    label_bytes = int(manifest['label_bytes'])
    if len(classes) < 2 or label_bytes != label_bytes_for(len(classes)):
        raise ValueError(f'{len(classes)} classes in {label_bytes} label bytes')
    if not MIN_IMAGE_SIZE <= size <= MAX_IMAGE_SIZE:
        raise ValueError(f'image_size {size}')
    resize = manifest['options']['resize']
    if resize not in RESIZE_MODES:
        raise ValueError(f'resize {resize!r}')
    files = {split: {entry['name']: int(entry['records'])
                     for entry in manifest['files'][split]}
             for split in ('train', 'test')}
    record_format = manifest.get('record_format', 'fixed')
    if record_format not in RECORD_FORMATS:
        raise ValueError(f'record_format {record_format!r}')
    if not files['train'] or not files['test']:
        raise ValueError('no training or no test files')
    return Dataset(
        name='custom', title='custom', labels='', label_bytes=label_bytes,
        label_byte=0, label_limits=(len(classes),), class_names=tuple(classes),
        names_file=None, extracted_dir='', train_files=files['train'],
        test_files=files['test'],
        missing_hint=('convert your images again with cifar10_convert_images.py '
                      f'(--out {data_dir} --overwrite)'),
        image_size=size, label_width=label_bytes, resize=resize,
        detail=f'in {data_dir}' + (', TFRecords' if record_format == 'tfrecord' else ''),
        record_format=record_format,
        file_bytes={entry['name']: int(entry['bytes'])
                    for split in ('train', 'test') for entry in manifest['files'][split]})


def get(name, cifar100_label='fine', data_dir=None):
    """Returns the Dataset a --dataset (and --cifar100_label) value names.

    Args:
      name: One of NAMES.
      cifar100_label: 'fine' (100 classes) or 'coarse' (20); CIFAR-100 only.
      data_dir: The data folder; read for 'custom' (see custom()).

    Raises:
      ValueError: for an unknown name or label kind.
      DataError: for a custom data set without a usable manifest.
    """
    if name == 'custom':
        return custom(data_dir)
    if name == 'cifar10':
        return CIFAR10
    if name == 'svhn':
        return SVHN
    if name == 'cifar100':
        if cifar100_label not in CIFAR100_LABELS:
            raise ValueError(f'cifar100_label must be one of {CIFAR100_LABELS}, '
                             f'not {cifar100_label!r}')
        return CIFAR100_FINE if cifar100_label == 'fine' else CIFAR100_COARSE
    raise ValueError(f'dataset must be one of {NAMES}, not {name!r}')


def from_flags(args):
    """The Dataset of parsed --dataset, --cifar100_label and --data_dir."""
    return get(args.dataset, args.cifar100_label, args.data_dir)
