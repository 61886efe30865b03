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
"""Obtains the CIFAR-10 binary release: download, verification, extraction.

The same care applies to every data set (datasets): CIFAR-100's binary
release is handled exactly as CIFAR-10's; SVHN, which has no binary
release, is made by scripts/svhn_to_binary.py, and a folder without it gets
an error saying so.

``maybe_download_and_extract`` does as little as it can:
  1. the extracted files are already in the data folder: nothing at all;
  2. the extracted folder is there but files are missing or cut short: an
     error naming them (the folder is the user's: nothing is downloaded or
     extracted over it);
  3. the tarball is there (downloaded earlier or placed by hand): extract it;
  4. otherwise: download it, verify size and MD5, then extract it.

Downloads go to a temporary file that is renamed into place only once it is
complete and verified; extraction goes to a temporary folder that is renamed
into place only once every member is out. An interruption at any point leaves
either nothing or a complete file behind.
"""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

from cifar10.data import datasets
from cifar10.data.record_files import RECORD_BYTES, RECORDS_PER_OFFICIAL_FILE
from cifar10.runtime.errors import DataError

CIFAR10 = datasets.CIFAR10
DATA_URL = CIFAR10.url
DATA_SIZE = CIFAR10.size
DATA_MD5 = CIFAR10.md5
EXTRACTED_DIR = CIFAR10.extracted_dir
REQUIRED_FILES = tuple(CIFAR10.official_records)
OFFICIAL_FILE_BYTES = RECORDS_PER_OFFICIAL_FILE * RECORD_BYTES  # 30,730,000

_CHUNK = 1 << 20
_TIMEOUT_SECS = 60


def _manual_hint(data_dir, url, dataset=CIFAR10):
    return (f'to work offline, place {os.path.basename(url)} (from {url}) or '
            f'its extracted {dataset.extracted_dir}/ folder in {data_dir}')


def _md5(path):
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _progress(filename, done, total, stream):
    if total:
        stream.write(f'\r>> Downloading {filename} '
                     f'{100.0 * done / total:5.1f}% ({done:,} of {total:,} bytes)')
    else:
        stream.write(f'\r>> Downloading {filename} {done:,} bytes')
    stream.flush()


def download(url, dest, expected_size=None, expected_md5=None,
             progress=True):
    """Downloads ``url`` to ``dest`` through a temporary file.

    Args:
      url: The URL to fetch.
      dest: Final path of the file.
      expected_size: Size in bytes the file must have, or None.
      expected_md5: Hex MD5 digest the file must have, or None.
      progress: Show a progress line on stderr.

    Raises:
      DataError: if the download fails or the file does not verify; no
        file is left behind.
    """
    filename = os.path.basename(dest)
    fd, tmp = tempfile.mkstemp(prefix=f'.{filename}.', suffix='.part',
                               dir=os.path.dirname(dest) or '.')
    stream = sys.stderr
    try:
        with os.fdopen(fd, 'wb') as out:
            digest = hashlib.md5()
            done = 0
            with urllib.request.urlopen(url, timeout=_TIMEOUT_SECS) as response:
                total = int(response.headers.get('Content-Length') or 0)
                last = 0.0
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    now = time.monotonic()
                    if progress and now - last > 0.2:
                        _progress(filename, done, total, stream)
                        last = now
            if progress:
                _progress(filename, done, total, stream)
                stream.write('\n')
        if total and done != total:
            raise DataError(f'download of {url} ended after {done:,} of '
                            f'{total:,} bytes')
        if expected_size is not None and done != expected_size:
            raise DataError(f'download of {url} has {done:,} bytes, expected '
                            f'{expected_size:,}')
        if expected_md5 is not None and digest.hexdigest() != expected_md5:
            raise DataError(f'download of {url} has MD5 {digest.hexdigest()}, '
                            f'expected {expected_md5}')
        os.replace(tmp, dest)
    except (OSError, urllib.error.URLError, ValueError) as e:
        # http.client.IncompleteRead and socket errors are OSErrors too.
        reason = getattr(e, 'reason', None) or e
        raise DataError(f'download of {url} failed: {reason}') from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _checked_members(tar, archive):
    """Returns the archive's members, refusing any that could escape.

    Absolute paths, '..' components, links and special files are refused:
    a tarball from the network (or placed by hand) must not write outside
    the data folder.
    """
    members = []
    for member in tar.getmembers():
        name = member.name
        parts = name.replace('\\', '/').split('/')
        if os.path.isabs(name) or '..' in parts:
            raise DataError(f'{archive}: refusing member {name!r} that would '
                            'land outside the data folder')
        if not (member.isfile() or member.isdir()):
            raise DataError(f'{archive}: refusing member {name!r}, which is a '
                            'link or special file')
        members.append(member)
    return members


def extract(archive, data_dir, dataset=CIFAR10):
    """Extracts the CIFAR-10 tarball into ``data_dir`` safely and atomically.

    Members go into a temporary folder inside ``data_dir`` first; only when
    all of them are out is ``cifar-10-batches-bin`` moved into place.
    An existing ``cifar-10-batches-bin`` (say, one another run extracted
    meanwhile) is left as it is: nothing is extracted over it.

    Args:
      archive: Path to the .tar.gz file.
      data_dir: Folder to extract into.
      dataset: Whose tarball it is (a datasets.Dataset): its folder
        (``cifar-100-binary`` for CIFAR-100) and files.

    Raises:
      DataError: if the archive is corrupt, unsafe or lacks the data files.
    """
    tmp = tempfile.mkdtemp(prefix='.extract.', dir=data_dir)
    try:
        try:
            with tarfile.open(archive, 'r:*') as tar:
                members = _checked_members(tar, archive)
                kwargs = {'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}
                tar.extractall(tmp, members=members, **kwargs)
        except (tarfile.TarError, EOFError, OSError, ValueError) as e:
            raise DataError(f'{archive}: corrupt or unreadable archive ({e}); '
                            f'delete it and retry, or '
                            f'{_manual_hint(data_dir, dataset.url, dataset)}') from None
        src = os.path.join(tmp, dataset.extracted_dir)
        missing = [f for f in dataset.official_records
                   if not os.path.isfile(os.path.join(src, f))]
        if missing:
            raise DataError(f'{archive}: archive lacks {dataset.extracted_dir}/'
                            f'{missing[0]}; it is not the {dataset.title} '
                            'binary release')
        dest = dataset.folder(data_dir)
        if not os.path.exists(dest):
            os.replace(src, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def is_extracted(data_dir, dataset=CIFAR10):
    """Returns whether all the binary files (six for CIFAR-10) are in
    ``data_dir``."""
    folder = dataset.folder(data_dir)
    return all(os.path.isfile(os.path.join(folder, f))
               for f in dataset.official_records)


def folder_problems(folder, dataset=CIFAR10):
    """Says what is wrong with an extracted data folder, file by file.

    Args:
      folder: A ``cifar-10-batches-bin`` folder (or the folder of
        ``dataset``).
      dataset: The data set (a datasets.Dataset).

    Returns:
      A list of phrases ('data_batch_3.bin is missing', 'test_batch.bin is
      cut short (1,000 of 30,730,000 bytes)'), empty if all six files are
      there at their full size. Files that are too long or hold bad
      records are left to record_files.validate_data_files.
    """
    problems = []
    for name, records in dataset.official_records.items():
        path = os.path.join(folder, name)
        full = (dataset.file_bytes[name] if dataset.file_bytes
                else records * dataset.record_bytes)
        if not os.path.isfile(path):
            problems.append(f'{name} is missing')
        elif os.path.getsize(path) < full:
            problems.append(f'{name} is cut short ({os.path.getsize(path):,} '
                            f'of {full:,} bytes)')
        elif dataset.file_bytes and os.path.getsize(path) != full:
            # Sizes from a manifest are exact: longer is wrong too.
            problems.append(f'{name} has {os.path.getsize(path):,} bytes, '
                            f'{datasets.MANIFEST} says {full:,}')
    return problems


def maybe_download_and_extract(data_dir, url=None, expected_size=None,
                               expected_md5=None, progress=True,
                               dataset=CIFAR10):
    """Makes sure the extracted binary files are in ``data_dir``.

    Args:
      data_dir: The data folder (created if missing).
      url: Where to download the tarball from (None: the dataset's).
      expected_size: Size the tarball must have, in bytes (None: the
        dataset's, if known).
      expected_md5: MD5 the tarball must have (None: the dataset's).
      progress: Show download progress on stderr.
      dataset: The data set (a datasets.Dataset); SVHN has no tarball, and
        its missing files get an error saying how to make them.

    Raises:
      DataError: if the data can be neither found, extracted nor downloaded;
        the message names the URL or file and how to place the data by hand.
    """
    folder = dataset.folder(data_dir)
    if dataset.url is None and url is None:
        # Never downloaded (SVHN, your own images): only checked.
        problems = (folder_problems(folder, dataset) if os.path.isdir(folder)
                    else [f'{dataset.extracted_dir}/ is missing'])
        if problems:
            what = ('the converted data set is damaged' if dataset.name == 'custom'
                    else f'no {dataset.title} data')
            raise DataError(f'{data_dir}: {what} ({", ".join(problems)}); '
                            + dataset.missing_hint.replace('DATA_DIR', data_dir))
        return
    url = url or dataset.url
    expected_size = expected_size or dataset.size
    expected_md5 = expected_md5 or dataset.md5
    archive = os.path.join(data_dir, os.path.basename(url))
    if os.path.isdir(folder):
        problems = folder_problems(folder, dataset)
        if not problems:
            return
        again = (f'{os.path.basename(archive)} is extracted again'
                 if os.path.isfile(archive) else 'the data is downloaded again')
        them = 'it' if len(problems) == 1 else 'them'
        raise DataError(f'{folder}: {", ".join(problems)}; restore {them}, or '
                        f'remove the folder so that {again}')
    try:
        os.makedirs(data_dir, exist_ok=True)
    except OSError as e:
        raise DataError(f'{data_dir}: cannot create data folder ({e.strerror})') from None
    if os.path.isfile(archive):
        md5 = _md5(archive)
        if expected_md5 and md5 != expected_md5:
            # A tarball placed by hand (say, one rebuilt from another copy
            # of the images) is the user's choice; say so, then use it.
            print(f'warning: {archive} has MD5 {md5}, not the official '
                  f'{expected_md5}; using it anyway', file=sys.stderr)
    else:
        try:
            download(url, archive, expected_size, expected_md5, progress)
        except DataError as e:
            raise DataError(f'{e}; {_manual_hint(data_dir, url, dataset)}') from None
        print(f'Successfully downloaded {os.path.basename(archive)} '
              f'{os.path.getsize(archive):,} bytes.')
    extract(archive, data_dir, dataset)
