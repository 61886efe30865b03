"""Tests of what image files say before they are decoded: the size in each
format's header (a GIF's from its frames, walked to its end), the pixel
limit, damaged files, and a JPEG's EXIF orientation.

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

from image_writers import (bmp_bytes, exif_jpeg, gif_bytes, gif_frames_bytes,
                           lzw_solid, png_header_only)


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
    with pytest.raises(image_headers.HeaderError, match='^no IHDR header at its start$'):
        _header(png[:12])
    with pytest.raises(image_headers.HeaderError, match='^it ends before its size is given$'):
        _header(jpeg[:20])
    with pytest.raises(image_headers.HeaderError, match='^it ends inside its header$'):
        _header(bmp_bytes(np.zeros((4, 4, 3), np.uint8))[:20])


def _refusal(tmp_path, data, max_pixels=image_headers.DEFAULT_MAX_PIXELS):
    """The reason load_image and decode_files give for a file; the same."""
    path = tmp_path / 'file'
    path.write_bytes(data)
    decoded = image_files.decode_files([str(path)], 32, 'crop', max_pixels=max_pixels)
    with pytest.raises(image_files.ImageError) as e:
        image_files.load_image(str(path), 32, 'crop', max_pixels)
    assert decoded.errors == {0: str(e.value)}
    return str(e.value)


def test_damaged_files_are_named_with_their_format_from_their_content(tmp_path):
    image = np.random.RandomState(0).randint(0, 256, (40, 40, 3)).astype(np.uint8)
    png, jpeg = _png(image), _jpeg(image)
    # Cut in their headers: read_header names the place.
    assert _refusal(tmp_path, png[:12]) == (
        'damaged or truncated PNG (no IHDR header at its start)')
    assert _refusal(tmp_path, jpeg[:20]) == (
        'damaged or truncated JPEG (it ends before its size is given)')
    # Cut in their data: TensorFlow fails, in its own words (for JPEG
    # 'Invalid JPEG data or crop window'), which are not passed on.
    for data, fmt in ((png[:len(png) // 2], 'PNG'), (jpeg[:len(jpeg) // 2], 'JPEG'),
                      (jpeg[:-2], 'JPEG')):
        assert _refusal(tmp_path, data) == (
            f'damaged or truncated {fmt} (its image data cannot be decoded)')
    # The format is the content's: a GIF whose frame data is bad.
    bad_lzw = bytes([8, 3, 0xFF, 0xFF, 0xFF, 0])
    assert _refusal(tmp_path, gif_frames_bytes((4, 4), [(4, 4, bad_lzw)])) == (
        'damaged or truncated GIF (its image data cannot be decoded)')
    # TensorFlow's BMP reader says which of its rules a file breaks.
    assert _refusal(tmp_path, bmp_bytes(image)[:1000]).startswith(
        'damaged, truncated or unsupported BMP (Input size should match')


def test_a_jpegs_walk_to_its_size_is_bounded(tmp_path, monkeypatch):
    # A start of frame claiming 13,008 x 13,008 (three components).
    sof = (b'\xff\xc0\x00\x11\x08\x32\xd0\x32\xd0\x03'
           b'\x01\x11\x00\x02\x11\x00\x03\x11\x00')
    limit = (' is above the limit of 50,000,000 (--max_image_pixels raises it); '
             'not decoded')
    # Stray bytes and fill bytes before it are skipped, wherever it lies.
    comment = b'\xff\xfe\x00\x02'
    start = b'\xff\xd8' + comment
    for padding in (b'\x00' * 3, b'\x00' * 2_000_000, b'\xff' * 2_000_000):
        assert _refusal(tmp_path, start + padding + sof) == (
            '13,008 x 13,008 pixels' + limit), len(padding)
    # Segments before its size are read up to a cap: here 4, no more.
    monkeypatch.setattr(image_headers, 'MAX_JPEG_SEGMENTS', 4)
    assert _refusal(tmp_path, start + comment * 3 + sof) == (
        '13,008 x 13,008 pixels' + limit)
    assert _refusal(tmp_path, start + comment * 4 + sof) == (
        'JPEG of more than 4 segments before its size: too many to check; not decoded')


# Screens and frames of generated GIFs: (width, height) each.
GIF_LAYOUTS = {
    'a frame larger than its screen': ((4, 4), [(8, 8)]),
    'a huge screen, a small frame': ((40000, 40000), [(1, 1)]),
    'a wide frame and a tall one': ((16, 16), [(5, 2), (2, 7)]),
    'five frames': ((3, 3), [(3, 3)] * 5),
    'frames of three sizes': ((9, 9), [(9, 9), (20, 3), (1, 1)]),
}


@pytest.mark.parametrize('name', sorted(GIF_LAYOUTS))
def test_a_gifs_size_is_what_tensorflow_decodes(name):
    # TensorFlow ignores the screen: it decodes every frame at its own size
    # and the first on a canvas of the widest frame's width and the tallest
    # frame's height.
    screen, frames = GIF_LAYOUTS[name]
    data = gif_frames_bytes(screen, frames)
    header = _header(data)
    assert header.frames == tuple(frames)
    assert header.frame_pixels == sum(w * h for w, h in frames)
    decoded = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
    assert decoded.shape == (header.height, header.width, 3)
    assert tf.io.decode_gif(data).shape == (len(frames), header.height, header.width, 3)
    # The first frame's colour (palette index 1) where it lies.
    width, height = frames[0]
    assert (decoded[:height, :width] == (1, 254, 7)).all()


def test_a_gifs_frames_are_held_to_the_pixel_limit(tmp_path):
    # Frames whose data holds 5 pixels: a decoder would fail on each, so a
    # size message shows the file was refused before decoding.
    tiny = lzw_solid(5)
    limit = ' is above the limit of 1,000 (--max_image_pixels raises it); not decoded'
    # A frame larger than its screen: judged by the frame.
    assert _refusal(tmp_path, gif_frames_bytes((16, 16), [(8, 8), (40, 30, tiny)]),
                    1000) == '40 x 30 pixels (GIF frame 2)' + limit
    assert _refusal(tmp_path, gif_frames_bytes((16, 16), [(46000, 46000, tiny)])) == (
        '46,000 x 46,000 pixels (GIF frame 1) is above the limit of 50,000,000 '
        '(--max_image_pixels raises it); not decoded')
    # Frames each under the limit, all together above it.
    assert _refusal(tmp_path, gif_frames_bytes((30, 30), [(30, 30, tiny)] * 2),
                    1000) == '2 GIF frames of 1,800 pixels in all' + limit
    # Frames under the limit whose canvas is above it.
    assert _refusal(tmp_path, gif_frames_bytes((4, 4), [(40, 2, tiny), (2, 40, tiny)]),
                    1000) == '40 x 40 pixels (the canvas its GIF frames are decoded on)' + limit
    # At the limit, all is decoded: 10 frames of 10 x 10, the first kept.
    decoded = image_files.decode_files(
        [_saved(tmp_path, gif_frames_bytes((10, 10), [(10, 10)] * 10))], 32, 'crop',
        max_pixels=1000)
    assert decoded.errors == {}
    assert (decoded.images[0] == (1, 254, 7)).all()


def _saved(tmp_path, data, name='saved.gif'):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_gif_with_a_huge_screen_and_a_small_frame_is_read(tmp_path):
    # Its header once said 40,000 x 40,000; it decodes to 1 x 1.
    image = image_files.load_image(
        _saved(tmp_path, gif_frames_bytes((40000, 40000), [(1, 1)])), 8, 'crop')
    assert image.shape == (8, 8, 3) and (image == (1, 254, 7)).all()


def test_damaged_and_truncated_gifs_are_named(tmp_path):
    good = gif_frames_bytes((4, 4), [(4, 4), (4, 4)])
    frames_end = len(good) - 1  # Where the trailer is.
    unknown = good[:frames_end] + b'\x99' + good[frames_end:]
    cases = {
        good[:10]: 'it ends inside its header',
        good[:100]: 'it ends inside its colour table',
        good[:13 + 768 + 5]: 'it ends inside an extension block',
        good[:13 + 768 + 8 + 6]: 'it ends inside frame 1',
        good[:frames_end - 3]: 'it ends inside frame 2',
        good[:frames_end]: 'it ends after frame 2, without its trailer',
        good[:13 + 768] + b'\x3B': 'no frame in it',
        good[:13 + 768]: 'it ends before its first frame',
        unknown: 'a block of unknown kind 0x99 after frame 2',
        gif_frames_bytes((4, 4), [(4, 4), (0, 4, lzw_solid(1))]):
            'frame 2 has a size of 0 x 4',
    }
    for data, why in cases.items():
        assert _refusal(tmp_path, data) == f'damaged or truncated GIF ({why})', why
    # A frame whose sub-block lengths run past the end: no hang.
    assert _refusal(tmp_path, good[:13 + 768 + 8 + 10] + b'\xff' * 3) == (
        'damaged or truncated GIF (it ends inside frame 1)')


def test_a_gifs_walk_is_bounded(tmp_path, monkeypatch):
    # A million blocks are read, no more: here one frame's data in
    # sub-blocks of one byte (2 MB).
    many = bytes([8]) + b'\x01\x00' * image_headers.MAX_GIF_BLOCKS + b'\x00'
    assert _refusal(tmp_path, gif_frames_bytes((4, 4), [(4, 4, many)])) == (
        'GIF of more than 1,000,000 blocks: too many to check; not decoded')
    monkeypatch.setattr(image_headers, 'MAX_GIF_FRAMES', 3)
    assert _refusal(tmp_path, gif_frames_bytes((4, 4), [(1, 1)] * 4)) == (
        'GIF of more than 3 frames: too many to check; not decoded')
    assert image_files.decode_files(
        [_saved(tmp_path, gif_frames_bytes((4, 4), [(1, 1)] * 3))], 8, 'crop').errors == {}


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


def _two_classes_of_pngs(src):
    """Six good 32x32 PNGs in each of src/apple and src/banana."""
    for label, name in enumerate(('apple', 'banana')):
        for i in range(6):
            _write(str(src / name / f'{i}.png'),
                   _png(np.full((32, 32, 3), 60 + 100 * label + i, np.uint8)))


def test_converter_counts_a_large_image_as_a_bad_file(tmp_path, capsys):
    src, out = tmp_path / 'src', tmp_path / 'out'
    _two_classes_of_pngs(src)
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


def test_converter_refuses_hostile_gifs_and_writes_nothing(tmp_path, capsys):
    src, out = tmp_path / 'src', tmp_path / 'out'
    _two_classes_of_pngs(src)
    tiny = lzw_solid(5)
    hostile = {
        os.path.join('apple', 'frame.gif'): (
            gif_frames_bytes((16, 16), [(100, 100, tiny)]),
            '100 x 100 pixels (GIF frame 1) is above the limit of 5,000 '
            '(--max_image_pixels raises it); not decoded'),
        os.path.join('apple', 'frames.gif'): (
            gif_frames_bytes((30, 30), [(30, 30, tiny)] * 6),
            '6 GIF frames of 5,400 pixels in all is above the limit of 5,000 '
            '(--max_image_pixels raises it); not decoded'),
        os.path.join('banana', 'cut.gif'): (
            gif_frames_bytes((8, 8), [(8, 8)])[:-4],
            'damaged or truncated GIF (it ends inside frame 1)'),
    }
    for name, (data, _) in hostile.items():
        _write(str(src / name), data)
    # Its screen is above the limit, its one frame is not: converted.
    _write(str(src / 'banana' / 'screen.gif'), gif_frames_bytes((40000, 40000), [(1, 1)]))
    argv = [str(src), '--out', str(out), '--max_image_pixels=5000']
    assert cifar10_convert_images.convert(cifar10_convert_images.parse_args(argv)) == 1
    err = capsys.readouterr().err.splitlines()
    assert sorted(err[:-1]) == sorted(f'error: {src / name}: {why}'
                                      for name, (_, why) in hostile.items())
    assert err[-1] == ('error: 3 problems; nothing was written (--skip_bad leaves '
                       'out the bad files)')
    assert not out.exists()
    args = cifar10_convert_images.parse_args(argv + ['--skip_bad'])
    assert cifar10_convert_images.convert(args) == 0
    with open(out / 'dataset.json') as f:
        manifest = json.load(f)
    assert {s['file']: s['reason'] for s in manifest['skipped']} == {
        name: why for name, (_, why) in hostile.items()}
    assert manifest['counts_per_class']['train']['banana'] + \
        manifest['counts_per_class']['test']['banana'] == 7


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
