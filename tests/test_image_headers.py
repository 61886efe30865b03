"""Tests of what image files say before they are decoded: the size in each
format's header, the pixel limit, and a JPEG's EXIF orientation.

Every file is written here: TensorFlow's PNG and JPEG encoders, the BMP
and GIF writers of image_writers, and EXIF segments put together by hand.
"""

import io
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10_convert_images
from cifar10.data import image_files
from cifar10.data import image_headers

from image_writers import bmp_bytes, exif_jpeg, gif_bytes, png_header_only


def _png(image):
    return tf.io.encode_png(np.asarray(image, np.uint8)).numpy()


def _jpeg(image, quality=100):
    return tf.io.encode_jpeg(np.asarray(image, np.uint8), quality=quality).numpy()


def _header(data):
    return image_headers.read_header(
        io.BytesIO(data), image_files.image_format(data[:image_files.HEAD_BYTES]))


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def test_sizes_are_read_from_each_formats_header():
    image = np.zeros((37, 53, 3), np.uint8)
    for data, fmt in ((_png(image), 'PNG'), (_jpeg(image), 'JPEG'),
                      (bmp_bytes(image), 'BMP'),
                      (gif_bytes([np.zeros((37, 53), np.uint8)],
                                 np.zeros((256, 3), np.uint8)), 'GIF')):
        header = _header(data)
        assert (header.format, header.width, header.height, header.orientation) == (
            fmt, 53, 37, 1), fmt
    # A JPEG whose size comes after large segments, and an EXIF one.
    header = _header(exif_jpeg(_jpeg(image), 6, padding=60000))
    assert (header.width, header.height, header.orientation) == (53, 37, 6)


@pytest.mark.parametrize('byte_order', ['MM', 'II'])
def test_exif_orientation_in_either_byte_order_and_bad_tags(byte_order):
    jpeg = _jpeg(np.zeros((8, 8, 3), np.uint8))
    for value in range(1, 9):
        assert _header(exif_jpeg(jpeg, value, byte_order)).orientation == value
    # Values outside 1-8 mean nothing: the image is taken as stored.
    for value in (0, 9, 300):
        assert _header(exif_jpeg(jpeg, value, byte_order)).orientation == 1


def test_headers_cut_short_are_named():
    png = _png(np.zeros((4, 4, 3), np.uint8))
    jpeg = _jpeg(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(image_headers.HeaderError, match='PNG without its IHDR header'):
        _header(png[:12])
    with pytest.raises(image_headers.HeaderError, match='JPEG ends before its size'):
        _header(jpeg[:20])
    with pytest.raises(image_headers.HeaderError, match='BMP cut short'):
        _header(bmp_bytes(np.zeros((4, 4, 3), np.uint8))[:20])


def test_an_image_above_the_pixel_limit_is_refused_before_decoding(tmp_path):
    # 20,000 x 20,000 pixels claimed by 57 bytes: decoding it would need
    # 1.2 GB; its data is empty, so a decoder would fail otherwise.
    bomb = tmp_path / 'bomb.png'
    bomb.write_bytes(png_header_only(20000, 20000))
    ok = tmp_path / 'ok.png'
    ok.write_bytes(_png(np.full((40, 40, 3), 200, np.uint8)))
    expected = ('20,000 x 20,000 pixels is above the limit of 50,000,000 '
                '(--max_image_pixels raises it); not decoded')
    with pytest.raises(image_files.ImageError) as e:
        image_files.load_image(str(bomb), 32, 'crop')
    assert str(e.value) == expected
    decoded = image_files.decode_files([str(ok), str(bomb)], 32, 'crop')
    assert decoded.errors == {1: expected}
    assert (decoded.images[0] == 200).all()
    # The limit is the caller's: 40 x 40 is above 1,599 and not above 1,600.
    decoded = image_files.decode_files([str(ok)], 32, 'crop', max_pixels=1599)
    assert decoded.errors == {0: '40 x 40 pixels is above the limit of 1,599 '
                                 '(--max_image_pixels raises it); not decoded'}
    assert image_files.decode_files([str(ok)], 32, 'crop',
                                    max_pixels=1600).errors == {}


def test_converter_counts_a_large_image_as_a_bad_file(tmp_path, capsys):
    src, out = tmp_path / 'src', tmp_path / 'out'
    for label, name in enumerate(('apple', 'banana')):
        for i in range(6):
            _write(str(src / name / f'{i}.png'),
                   _png(np.full((32, 32, 3), 60 + 100 * label + i, np.uint8)))
    _write(str(src / 'apple' / 'huge.png'), png_header_only(30000, 20000))
    _write(str(src / 'banana' / 'large.png'),
           _png(np.full((100, 100, 3), 9, np.uint8)))
    argv = [str(src), '--out', str(out), '--max_image_pixels=5000']
    args = cifar10_convert_images.parse_args(argv)
    assert cifar10_convert_images.convert(args) == 1
    err = capsys.readouterr().err.splitlines()
    assert (f'error: {src / "apple" / "huge.png"}: 30,000 x 20,000 pixels is above the '
            'limit of 5,000 (--max_image_pixels raises it); not decoded') in err
    assert (f'error: {src / "banana" / "large.png"}: 100 x 100 pixels is above the '
            'limit of 5,000 (--max_image_pixels raises it); not decoded') in err
    assert not out.exists()
    args = cifar10_convert_images.parse_args(argv + ['--skip_bad'])
    assert cifar10_convert_images.convert(args) == 0
    with open(out / 'dataset.json') as f:
        skipped = {s['file']: s['reason'] for s in json.load(f)['skipped']}
    assert sorted(skipped) == [os.path.join('apple', 'huge.png'),
                               os.path.join('banana', 'large.png')]
    assert skipped[os.path.join('apple', 'huge.png')].startswith('30,000 x 20,000 pixels')


def _upright():
    """A 48 x 32 (portrait) picture of six flat 16 x 16 blocks, no two
    alike and none equal to its mirror images: any wrong turn shows."""
    colours = np.array([[[230, 30, 30], [30, 200, 40]],
                        [[20, 40, 220], [240, 220, 30]],
                        [[200, 40, 210], [30, 210, 220]]], np.uint8)
    return np.kron(colours, np.ones((16, 16, 1), np.uint8))


# How a camera stores an upright picture, for each EXIF orientation: the
# inverse of the turn the tag asks of a viewer (numpy's rot90 turns
# counter-clockwise).
STORED = {
    1: lambda u: u,
    2: lambda u: u[:, ::-1],
    3: lambda u: np.rot90(u, 2),
    4: lambda u: u[::-1],
    5: lambda u: np.transpose(u, (1, 0, 2)),
    6: lambda u: np.rot90(u, 1),
    7: lambda u: np.rot90(u, 1)[:, ::-1],
    8: lambda u: np.rot90(u, -1),
}


@pytest.mark.parametrize('mode', ['stretch', 'crop'])
def test_every_exif_orientation_is_turned_upright(tmp_path, mode):
    upright = _upright()
    plain = tmp_path / 'upright.jpg'
    plain.write_bytes(_jpeg(upright))
    expected = image_files.load_image(str(plain), 24, mode).astype(int)
    paths = []
    for orientation, store in STORED.items():
        stored = np.ascontiguousarray(store(upright))
        assert stored.shape[:2] == ((48, 32) if orientation <= 4 else (32, 48))
        path = tmp_path / f'o{orientation}.jpg'
        path.write_bytes(exif_jpeg(_jpeg(stored), orientation,
                                   'MM' if orientation % 2 else 'II'))
        paths.append(str(path))
        got = image_files.load_image(str(path), 24, mode).astype(int)
        assert np.abs(got - expected).max() <= 6, orientation
        if orientation > 1:
            # The same pixels taken as stored are far from upright.
            as_stored = tmp_path / f'as_stored{orientation}.jpg'
            as_stored.write_bytes(_jpeg(stored))
            wrong = image_files.load_image(str(as_stored), 24, mode).astype(int)
            assert np.abs(wrong - expected).mean() > 20, orientation
    # The converter's and prediction's path: all at once, in parallel.
    decoded = image_files.decode_files(paths, 24, mode)
    assert decoded.errors == {}
    assert np.abs(decoded.images.astype(int) - expected).max() <= 6
