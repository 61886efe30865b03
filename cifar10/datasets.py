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

Nothing here touches files or TensorFlow; the readers (cifar10_input) and
the download (cifar10_data) take a Dataset.
"""

import dataclasses
import os

IMAGE_BYTES = 32 * 32 * 3


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

    @property
    def record_bytes(self):
        """Bytes per record: the label bytes and the 3,072 pixel bytes."""
        return self.label_bytes + IMAGE_BYTES

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
        return f'{self.title} ({labels}{self.num_classes} classes)'

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

NAMES = ('cifar10', 'cifar100', 'svhn')
CIFAR100_LABELS = ('fine', 'coarse')


def get(name, cifar100_label='fine'):
    """Returns the Dataset a --dataset (and --cifar100_label) value names.

    Args:
      name: One of NAMES.
      cifar100_label: 'fine' (100 classes) or 'coarse' (20); CIFAR-100 only.

    Raises:
      ValueError: for an unknown name or label kind.
    """
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
    """The Dataset of parsed --dataset and --cifar100_label flags."""
    return get(args.dataset, args.cifar100_label)
