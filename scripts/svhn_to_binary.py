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
"""Turns SVHN's cropped-digit .mat files into this project's binary records.

    pip install .[svhn]      # scipy, to read MATLAB files
    python scripts/svhn_to_binary.py --data_dir /tmp/cifar10_data
    python cifar10/cifar10_train.py --dataset=svhn

The official ``train_32x32.mat`` and ``test_32x32.mat`` (MATLAB v5 files
holding ``X``, uint8 32 x 32 x 3 x N, and ``y``, N x 1 labels 1-10 where 10
is the digit 0) are read from --mat_dir, or downloaded there (and checked
against their official size and MD5) when missing. Each becomes
``<data_dir>/svhn-bin/train.bin`` and ``test.bin``: CIFAR-10's 3,073-byte
records, one label byte (the digit itself, 0-9) and the red, green and
blue planes of the image, each row by row. Files are written to a
temporary name and renamed into place when complete; the folder appears
only when both are there.
"""

import argparse
import os
import shutil
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The official files: {split: (file name, URL, size in bytes, MD5, images)}.
BASE_URL = 'http://ufldl.stanford.edu/housenumbers/'
MAT_FILES = {
    'train': ('train_32x32.mat', 182040794, 'e26dedcc434d2e4c54c9b2d4a06d8373', 73257),
    'test': ('test_32x32.mat', 64275384, 'eb5a983be6a315427106f1b164d9cef3', 26032),
}


class ConversionError(Exception):
    """A .mat file cannot be converted; the message says which and why."""


def _loadmat():
    try:
        from scipy.io import loadmat
    except ImportError:
        raise ConversionError('reading .mat files needs scipy: pip install '
                              '.[svhn] (or pip install scipy)') from None
    return loadmat


def read_mat(path):
    """Reads one SVHN .mat file.

    Args:
      path: A train_32x32.mat-like file.

    Returns:
      (images, labels): uint8 [N, 32, 32, 3] images and uint8 [N] digits
      0-9 (the file's label 10 is the digit 0).

    Raises:
      ConversionError: if the file is unreadable or not laid out as SVHN's.
    """
    loadmat = _loadmat()
    try:
        contents = loadmat(path)
    except Exception as e:  # scipy raises several kinds for bad files.
        raise ConversionError(f'{path}: not a readable MATLAB file ({e})') from None
    if 'X' not in contents or 'y' not in contents:
        raise ConversionError(f'{path}: holds no X and y arrays; not an SVHN '
                              'cropped-digits file')
    x, y = contents['X'], contents['y']
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.dtype != np.uint8:
        raise ConversionError(f'{path}: X is {x.dtype} of shape {x.shape}, '
                              'expected uint8 32 x 32 x 3 x N')
    count = x.shape[3]
    if y.size != count:
        raise ConversionError(f'{path}: {y.size} labels for {count} images')
    labels = np.asarray(y).reshape(-1)
    bad = np.flatnonzero((labels < 1) | (labels > 10))
    if bad.size:
        raise ConversionError(f'{path}: image {int(bad[0])} has label '
                              f'{labels[bad[0]]}, expected 1-10')
    images = np.transpose(x, (3, 0, 1, 2))
    return images, (labels % 10).astype(np.uint8)


def to_records(images, labels):
    """Packs images and labels into CIFAR-10's record layout.

    Args:
      images: uint8 [N, 32, 32, 3].
      labels: uint8 [N], 0-9.

    Returns:
      A uint8 [N, 3073] array: the label, then the red, green and blue
      planes, each row by row.
    """
    records = np.empty((len(labels), 1 + 32 * 32 * 3), np.uint8)
    records[:, 0] = labels
    records[:, 1:] = images.transpose(0, 3, 1, 2).reshape(len(labels), -1)
    return records


def _fetch(mat_dir, split, download):
    """Returns the path of a split's .mat file, downloading it if allowed."""
    name, size, md5, _ = MAT_FILES[split]
    path = os.path.join(mat_dir, name)
    if os.path.isfile(path):
        return path
    if not download:
        raise ConversionError(f'{path} not found; download it from '
                              f'{BASE_URL}{name}')
    sys.path.insert(0, REPO)
    from cifar10.data import download
    from cifar10.runtime.errors import DataError
    os.makedirs(mat_dir, exist_ok=True)
    try:
        download.download(BASE_URL + name, path, size, md5)
    except DataError as e:
        raise ConversionError(f'{e}; to work offline, place {name} in '
                              f'{mat_dir}') from None
    return path


def convert(mat_dir, data_dir, download=True):
    """Converts the train and test .mat files into ``data_dir/svhn-bin``.

    Args:
      mat_dir: Where the .mat files are (or are downloaded to).
      data_dir: The data folder; ``svhn-bin`` is made inside it.
      download: Download a missing .mat file.

    Returns:
      {split: records written}.

    Raises:
      ConversionError: if a file is missing, unreadable or malformed, or
        ``svhn-bin`` exists already.
    """
    dest = os.path.join(data_dir, 'svhn-bin')
    if os.path.exists(dest):
        raise ConversionError(f'{dest} exists already; remove it to convert '
                              'again')
    os.makedirs(data_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.svhn-bin.', dir=data_dir)
    counts = {}
    try:
        for split in MAT_FILES:
            path = _fetch(mat_dir, split, download)
            images, labels = read_mat(path)
            official = MAT_FILES[split][3]
            if len(labels) != official:
                print(f'warning: {path} holds {len(labels):,} images, the '
                      f'official file {official:,}; the trainer will refuse '
                      'it', file=sys.stderr)
            to_records(images, labels).tofile(os.path.join(tmp, f'{split}.bin'))
            counts[split] = len(labels)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     allow_abbrev=False)
    parser.add_argument('--data_dir', default='/tmp/cifar10_data',
                        help='The data folder (--data_dir of the scripts); '
                             'svhn-bin/ is written inside it.')
    parser.add_argument('--mat_dir', default=None,
                        help='Where train_32x32.mat and test_32x32.mat are '
                             '(default: --data_dir).')
    parser.add_argument('--no_download', dest='download', action='store_false',
                        help='Fail instead of downloading a missing .mat file.')
    args = parser.parse_args(argv)
    try:
        counts = convert(args.mat_dir or args.data_dir, args.data_dir,
                         args.download)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('interrupted: nothing was written', file=sys.stderr)
        return 130
    dest = os.path.join(args.data_dir, 'svhn-bin')
    print(f'Wrote {dest}: ' + ', '.join(f'{split}.bin ({n:,} records)'
                                        for split, n in counts.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
