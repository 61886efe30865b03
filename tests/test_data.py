"""Tests of data/download.py: download through a local server, safe extraction."""

import hashlib
import http.server
import io
import os
import tarfile
import threading

import pytest

from cifar10.data import download
from cifar10.runtime.errors import DataError

FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin',
         'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']
# Nothing listens on port 1, so a download from here fails at once (tests
# never touch the network).
_NO_SERVER_URL = 'http://127.0.0.1:1/cifar-10-binary.tar.gz'


def make_tarball(extra=None):
    """A small tarball in the official layout (contents are not real data)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for name in FILES + ['batches.meta.txt']:
            data = name.encode() * 10
            info = tarfile.TarInfo(f'cifar-10-batches-bin/{name}')
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in (extra or []):
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


class _Server:
    """Serves one payload on 127.0.0.1; can drop the connection mid-way."""

    def __init__(self, payload, drop_after=None):
        outer = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                self.send_response(200)
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                if drop_after is None:
                    self.wfile.write(payload)
                else:
                    self.wfile.write(payload[:drop_after])
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(('127.0.0.1', 0), Handler)
        self.url = (f'http://127.0.0.1:{self.httpd.server_address[1]}'
                    '/cifar-10-binary.tar.gz')
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _md5(data):
    return hashlib.md5(data).hexdigest()


def test_download_with_matching_checksum_extracts(tmp_path):
    payload = make_tarball()
    with _Server(payload) as server:
        download.maybe_download_and_extract(
            str(tmp_path), url=server.url, expected_size=len(payload),
            expected_md5=_md5(payload), progress=False)
    assert (tmp_path / 'cifar-10-binary.tar.gz').read_bytes() == payload
    for name in FILES:
        assert (tmp_path / 'cifar-10-batches-bin' / name).read_bytes() == name.encode() * 10
    # Nothing else: no temporary file or folder is left.
    assert sorted(os.listdir(tmp_path)) == ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']


def test_download_with_wrong_checksum_leaves_nothing(tmp_path):
    payload = make_tarball()
    with _Server(payload) as server:
        with pytest.raises(DataError) as err:
            download.maybe_download_and_extract(
                str(tmp_path), url=server.url, expected_size=len(payload),
                expected_md5='0' * 32, progress=False)
    message = str(err.value)
    assert server.url in message and 'MD5' in message
    assert 'place cifar-10-binary.tar.gz' in message
    assert '\n' not in message
    assert os.listdir(tmp_path) == []


def test_download_dropped_midway_leaves_nothing(tmp_path):
    payload = make_tarball() * 20
    with _Server(payload, drop_after=len(payload) // 3) as server:
        with pytest.raises(DataError) as err:
            download.maybe_download_and_extract(
                str(tmp_path), url=server.url, expected_size=len(payload),
                expected_md5=_md5(payload), progress=False)
    assert server.url in str(err.value)
    assert os.listdir(tmp_path) == []


def test_download_refused_connection_names_url(tmp_path):
    with _Server(b'') as server:
        url = server.url
    # The server is closed: the port refuses connections.
    with pytest.raises(DataError, match='download of .*127.0.0.1.* failed'):
        download.maybe_download_and_extract(str(tmp_path / 'd'), url=url,
                                            progress=False)
    assert os.listdir(tmp_path / 'd') == []


def test_download_progress_is_shown(tmp_path, capsys):
    payload = make_tarball()
    with _Server(payload) as server:
        download.maybe_download_and_extract(
            str(tmp_path), url=server.url, expected_size=len(payload),
            expected_md5=_md5(payload))
    err = capsys.readouterr().err
    assert '>> Downloading cifar-10-binary.tar.gz' in err and '100.0%' in err


def _full_size_folder(root):
    """An extracted folder whose six files have the official size (sparse)."""
    folder = root / 'cifar-10-batches-bin'
    folder.mkdir()
    for name in FILES:
        with open(folder / name, 'wb') as f:
            f.truncate(download.OFFICIAL_FILE_BYTES)
    return folder


def test_extracted_data_is_used_without_network(tmp_path):
    _full_size_folder(tmp_path)
    # An unusable URL: any network access would fail.
    download.maybe_download_and_extract(str(tmp_path), url='http://127.0.0.1:1/x.tar.gz')


def test_hand_placed_tarball_with_other_md5_is_used_with_warning(tmp_path, capsys):
    payload = make_tarball()
    (tmp_path / 'cifar-10-binary.tar.gz').write_bytes(payload)
    download.maybe_download_and_extract(str(tmp_path), url=_NO_SERVER_URL)
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith('warning:')]
    assert len(warnings) == 1 and 'not the official' in warnings[0]
    assert download.is_extracted(str(tmp_path))


def _member(name, kind=tarfile.REGTYPE, linkname='', data=b'evil'):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize('member, why', [
    (_member('../escaped.txt'), 'outside'),
    (_member('cifar-10-batches-bin/../../escaped.txt'), 'outside'),
    (_member('/tmp/escaped-absolute.txt'), 'outside'),
    (_member('cifar-10-batches-bin/link', tarfile.SYMTYPE, '/etc/passwd'), 'link'),
    (_member('cifar-10-batches-bin/hard', tarfile.LNKTYPE,
             'cifar-10-batches-bin/test_batch.bin'), 'link'),
])
def test_unsafe_members_are_refused(tmp_path, member, why):
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    (data_dir / 'cifar-10-binary.tar.gz').write_bytes(make_tarball([member]))
    with pytest.raises(DataError, match=why):
        download.maybe_download_and_extract(str(data_dir), url=_NO_SERVER_URL)
    # Nothing extracted, nothing written outside the data folder.
    assert os.listdir(data_dir) == ['cifar-10-binary.tar.gz']
    assert os.listdir(tmp_path) == ['data']
    assert not os.path.exists('/tmp/escaped-absolute.txt')


def test_corrupt_archive_is_reported_and_nothing_extracted(tmp_path):
    payload = make_tarball()
    (tmp_path / 'cifar-10-binary.tar.gz').write_bytes(payload[:len(payload) // 2])
    with pytest.raises(DataError) as err:
        download.maybe_download_and_extract(str(tmp_path), url=_NO_SERVER_URL)
    message = str(err.value)
    assert 'cifar-10-binary.tar.gz: corrupt or unreadable archive' in message
    assert '\n' not in message
    assert os.listdir(tmp_path) == ['cifar-10-binary.tar.gz']


def test_archive_without_data_files_is_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        info = tarfile.TarInfo('something/else.txt')
        info.size = 1
        tar.addfile(info, io.BytesIO(b'x'))
    (tmp_path / 'cifar-10-binary.tar.gz').write_bytes(buf.getvalue())
    with pytest.raises(DataError, match='lacks cifar-10-batches-bin/data_batch_1.bin'):
        download.maybe_download_and_extract(str(tmp_path), url=_NO_SERVER_URL)
    assert os.listdir(tmp_path) == ['cifar-10-binary.tar.gz']


@pytest.mark.parametrize('with_tarball', [True, False])
def test_incomplete_extracted_folder_is_named_not_overwritten(tmp_path, with_tarball):
    folder = _full_size_folder(tmp_path)
    (folder / 'data_batch_3.bin').unlink()
    with open(folder / 'test_batch.bin', 'r+b') as f:
        f.truncate(3073 * 100)
    (folder / 'data_batch_1.bin').write_bytes(b'mine')
    if with_tarball:
        (tmp_path / 'cifar-10-binary.tar.gz').write_bytes(make_tarball())
    before = sorted(os.listdir(folder))
    with pytest.raises(DataError) as e:
        # Any download would fail with another message.
        download.maybe_download_and_extract(str(tmp_path), url=_NO_SERVER_URL)
    again = ('cifar-10-binary.tar.gz is extracted again' if with_tarball
             else 'the data is downloaded again')
    assert str(e.value) == (
        f'{folder}: data_batch_1.bin is cut short (4 of 30,730,000 bytes), '
        'data_batch_3.bin is missing, test_batch.bin is cut short (307,300 of '
        f'30,730,000 bytes); restore them, or remove the folder so that {again}')
    # Nothing was extracted or downloaded over the user's folder.
    assert sorted(os.listdir(folder)) == before
    assert (folder / 'data_batch_1.bin').read_bytes() == b'mine'
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['cifar-10-batches-bin'] + (['cifar-10-binary.tar.gz'] if with_tarball else []))


def test_one_missing_file_says_restore_it(tmp_path):
    folder = _full_size_folder(tmp_path)
    (folder / 'data_batch_3.bin').unlink()
    with pytest.raises(DataError, match=r'cifar-10-batches-bin: data_batch_3\.bin is '
                                        r'missing; restore it, or remove the folder'):
        download.maybe_download_and_extract(str(tmp_path), url=_NO_SERVER_URL)


def test_extraction_leaves_a_folder_that_appeared_meanwhile(tmp_path):
    archive = tmp_path / 'cifar-10-binary.tar.gz'
    archive.write_bytes(make_tarball())
    folder = tmp_path / 'cifar-10-batches-bin'
    folder.mkdir()
    (folder / 'data_batch_1.bin').write_bytes(b'other run')
    download.extract(str(archive), str(tmp_path))
    assert os.listdir(folder) == ['data_batch_1.bin']
    assert sorted(os.listdir(tmp_path)) == ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']
