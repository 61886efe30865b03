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
"""What an image file says about itself before it is decoded.

A small file can claim an enormous image: a PNG of a few hundred
kilobytes may decode to 20,000 x 20,000 pixels, 1.2 GB of RGB. So every
image file a user hands over (the converter's folders, prediction's inputs)
is first read here, from its header alone: its format, its width and
height, and for a JPEG the orientation its EXIF data gives (phones and
cameras store a portrait photo as a landscape one plus a tag saying how to
turn it). image_files refuses an image larger than the pixel limit before
decoding it, and turns a JPEG the way its tag says.

A GIF needs more than its header: its screen size is not what TensorFlow
decodes. TensorFlow (giflib) decodes every frame, each at its own size,
into memory, then draws the first one on a canvas as wide as the widest
frame and as tall as the tallest; the screen size is ignored. So a GIF is
walked block by block to its end (extensions and each frame's compressed
data are skipped by their lengths, never decoded), and its Header gives
the canvas's size and every frame's.

Plain Python on the file's bytes (a JPEG's header is walked segment by
segment, skipping what lies between); nothing runs at import time.
"""

import dataclasses
import struct

# Pixels (width x height) an image may have unless told otherwise: more
# than the photos of phones (12-50 megapixels) and of most cameras, and
# small enough that decoding one (3 bytes a pixel: 150 MB, measured with
# the converter) leaves a few-GB machine room for one file per core.
DEFAULT_MAX_PIXELS = 50_000_000

# EXIF orientation: how the stored pixels are turned to be seen upright.
ORIENTATION_TAG = 0x0112
ORIENTATIONS = {
    1: 'as stored',
    2: 'mirrored left-right',
    3: 'turned 180 degrees',
    4: 'mirrored top-bottom',
    5: 'mirrored along the main diagonal',
    6: 'turned 90 degrees clockwise',
    7: 'mirrored along the other diagonal',
    8: 'turned 90 degrees counter-clockwise',
}

# The most frames and blocks (extensions, image descriptors, sub-blocks of
# data) a GIF's walk reads. Each block takes the walk forward by at least
# one byte, so it always ends; these caps bound its time on a hostile
# file (a million blocks take about a second). Real GIFs stay far below:
# an animation of 10,000 frames plays for minutes, and a million blocks
# hold 255 MB of compressed data.
MAX_GIF_FRAMES = 10_000
MAX_GIF_BLOCKS = 1_000_000
# The most segments a JPEG's walk reads before its size: cameras and
# editors write a dozen or so; this bounds a file of millions of tiny ones.
MAX_JPEG_SEGMENTS = 10_000
# Bytes read at a time when skipping stray bytes between JPEG segments.
_SKIP_CHUNK = 1 << 16

# JPEG start-of-frame markers (the ones holding the image's size): C0-CF
# but for DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM, RST0-7, SOI, EOI.
_STANDALONE_MARKERS = frozenset([0x01, *range(0xD0, 0xDA)])


class HeaderError(Exception):
    """The header cannot be read (the file is damaged or truncated); the
    message says why, without naming the format."""


class TooManyBlocksError(HeaderError):
    """A file has more frames, blocks or segments than the walk reads
    (MAX_GIF_FRAMES, MAX_GIF_BLOCKS, MAX_JPEG_SEGMENTS); it is refused
    without being decoded."""


@dataclasses.dataclass(frozen=True)
class Header:
    """What an image file's header says.

    Attributes:
      format: 'JPEG', 'PNG', 'BMP' or 'GIF'.
      width, height: The size of the image TensorFlow decodes, in pixels:
        the stored image's; a GIF's widest frame's width and tallest
        frame's height (not its screen's).
      orientation: The EXIF orientation (1-8; 1 for anything but a JPEG
        that says otherwise).
      frames: A GIF's frames' sizes, (width, height) each, in order; empty
        for the other formats.
    """
    format: str
    width: int
    height: int
    orientation: int = 1
    frames: tuple = ()

    @property
    def pixels(self):
        """The decoded image's pixels."""
        return self.width * self.height

    @property
    def frame_pixels(self):
        """The pixels of all a GIF's frames (each is decoded and held at
        once); the image's pixels for the other formats."""
        if not self.frames:
            return self.pixels
        return sum(width * height for width, height in self.frames)


def read_header(f, fmt):
    """Reads the header of an open image file.

    Args:
      f: The file, opened for binary reading, at its start.
      fmt: Its format, from its first bytes (image_files.image_format).

    Returns:
      A Header.

    Raises:
      HeaderError: if the file ends inside its header (a GIF: anywhere
        before its trailer) or the header makes no sense.
      TooManyBlocksError: if a GIF has more than MAX_GIF_FRAMES frames or
        MAX_GIF_BLOCKS blocks, or a JPEG more than MAX_JPEG_SEGMENTS
        segments before its size.
    """
    if fmt == 'JPEG':
        return _jpeg_header(f)
    if fmt == 'GIF':
        return _gif_header(f)
    head = f.read(32)
    if fmt == 'PNG':
        # The IHDR chunk comes first: length, type, width, height.
        if len(head) < 24 or head[12:16] != b'IHDR':
            raise HeaderError('no IHDR header at its start')
        width, height = struct.unpack('>II', head[16:24])
    elif fmt == 'BMP':
        if len(head) < 26:
            raise HeaderError('it ends inside its header')
        (info_size,) = struct.unpack('<I', head[14:18])
        if info_size == 12:  # The old OS/2 header: 16-bit sizes.
            width, height = struct.unpack('<HH', head[18:22])
        else:
            width, height = struct.unpack('<ii', head[18:26])
        # A negative height means rows stored top to bottom.
        width, height = abs(width), abs(height)
    else:
        raise ValueError(f'not an image format: {fmt!r}')
    return Header(fmt, width, height)


def _jpeg_header(f):
    """Walks a JPEG's segments up to its start of frame; see read_header."""
    if f.read(2) != b'\xff\xd8':
        raise HeaderError('no start marker')
    orientation = 1
    segments = 0
    while True:
        byte = f.read(1)
        if not byte:
            raise HeaderError('it ends before its size is given')
        if byte != b'\xff':
            # Stray bytes between segments: decoders skip them too, to the
            # next 0xFF (looked for a chunk at a time, not byte by byte).
            _skip_to_ff(f)
            continue
        marker = _after_fill_bytes(f)
        if not marker:
            raise HeaderError('it ends before its size is given')
        code = marker[0]
        segments += 1
        if segments > MAX_JPEG_SEGMENTS and code not in _SOF_MARKERS:
            raise TooManyBlocksError(f'JPEG of more than {MAX_JPEG_SEGMENTS:,} '
                                     'segments before its size: too many to check')
        if code in _STANDALONE_MARKERS or code == 0x00:
            continue
        if code == 0xDA:
            raise HeaderError('its image data starts before its size is given')
        length = f.read(2)
        if len(length) < 2:
            raise HeaderError('it ends before its size is given')
        (size,) = struct.unpack('>H', length)
        if size < 2:
            raise HeaderError('a malformed segment')
        if code in _SOF_MARKERS:
            frame = f.read(5)
            if len(frame) < 5:
                raise HeaderError('it ends before its size is given')
            height, width = struct.unpack('>HH', frame[1:5])
            if not height or not width:
                raise HeaderError(f'its header gives its size as {width} x {height}')
            return Header('JPEG', width, height, orientation)
        if code == 0xE1:  # APP1: EXIF, among others.
            data = f.read(size - 2)
            if data.startswith(b'Exif\x00\x00'):
                orientation = exif_orientation(data[6:])
        else:
            f.seek(size - 2, 1)


def _skip_to_ff(f):
    """Moves an open file to its next 0xFF byte, or to its end."""
    while True:
        chunk = f.read(_SKIP_CHUNK)
        if not chunk:
            return
        found = chunk.find(b'\xff')
        if found >= 0:
            f.seek(found - len(chunk), 1)
            return


def _after_fill_bytes(f):
    """Reads past the 0xFF fill bytes that may pad a JPEG marker, a chunk
    at a time; returns the byte after them (b'' at the end of the file)."""
    while True:
        chunk = f.read(_SKIP_CHUNK)
        rest = chunk.lstrip(b'\xff')
        if rest:
            f.seek(1 - len(rest), 1)
            return rest[:1]
        if not chunk:
            return b''


def _colour_table_bytes(flags):
    """The size of the colour table a GIF's packed flags byte announces
    (bit 7: there is one; bits 0-2: 2 ** (n + 1) colours of 3 bytes)."""
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


class _GifWalk:
    """Reads a GIF's blocks in order, counting them against the caps."""

    def __init__(self, f):
        self._f = f
        self._blocks = 0

    def read(self, count, where):
        """The next count bytes; HeaderError naming where if the file ends
        first."""
        data = self._f.read(count)
        if len(data) < count:
            raise HeaderError(f'it ends inside {where}')
        return data

    def count_block(self):
        """Counts one more block; TooManyBlocksError past MAX_GIF_BLOCKS."""
        self._blocks += 1
        if self._blocks > MAX_GIF_BLOCKS:
            raise TooManyBlocksError(
                f'GIF of more than {MAX_GIF_BLOCKS:,} blocks: too many to check')

    def skip_sub_blocks(self, where):
        """Skips a chain of data sub-blocks (a length byte, that many
        bytes; a zero length ends the chain), by their lengths."""
        while True:
            self.count_block()
            (length,) = self.read(1, where)
            if not length:
                return
            # Seeking past the end is allowed: the next read names it.
            self._f.seek(length, 1)


def _gif_header(f):
    """Walks a GIF's blocks to its trailer; see read_header and the module
    docstring.

    The layout: 'GIF87a' or 'GIF89a'; the screen (width, height, flags,
    background, aspect) and its colour table; then blocks, each starting
    with a byte: 0x21 an extension (a label, then sub-blocks), 0x2C a frame
    (left, top, width, height, flags, its own colour table, the LZW code
    size, then sub-blocks of compressed data), 0x3B the trailer, the end.
    """
    walk = _GifWalk(f)
    screen = walk.read(13, 'its header')
    walk.read(_colour_table_bytes(screen[10]), 'its colour table')
    frames = []
    while True:
        walk.count_block()
        kind = f.read(1)
        if not kind:
            if frames:
                raise HeaderError(f'it ends after frame {len(frames)}, '
                                  'without its trailer')
            raise HeaderError('it ends before its first frame')
        (kind,) = kind
        if kind == 0x3B:
            break
        if kind == 0x21:
            walk.read(1, 'an extension block')
            walk.skip_sub_blocks('an extension block')
        elif kind == 0x2C:
            number = len(frames) + 1
            if number > MAX_GIF_FRAMES:
                raise TooManyBlocksError(
                    f'GIF of more than {MAX_GIF_FRAMES:,} frames: too many to check')
            where = f'frame {number}'
            descriptor = walk.read(9, where)
            width, height = struct.unpack('<HH', descriptor[4:8])
            if not width or not height:
                raise HeaderError(f'frame {number} has a size of {width} x {height}')
            walk.read(_colour_table_bytes(descriptor[8]), where)
            walk.read(1, where)  # The LZW minimum code size.
            walk.skip_sub_blocks(where)
            frames.append((width, height))
        else:
            where = f'after frame {len(frames)}' if frames else 'before its first frame'
            raise HeaderError(f'a block of unknown kind 0x{kind:02X} {where}')
    if not frames:
        raise HeaderError('no frame in it')
    return Header('GIF', max(w for w, _ in frames), max(h for _, h in frames),
                  frames=tuple(frames))


def exif_orientation(tiff):
    """The orientation (1-8) in EXIF data; 1 where it is missing or bad.

    Args:
      tiff: The EXIF data after its 'Exif\\0\\0' prefix: a TIFF header
        (byte order, 42, offset of the first directory), then directories
        of 12-byte entries (tag, type, count, value).
    """
    if len(tiff) < 8 or tiff[:2] not in (b'II', b'MM'):
        return 1
    order = '<' if tiff[:2] == b'II' else '>'
    (offset,) = struct.unpack(order + 'I', tiff[4:8])
    if offset + 2 > len(tiff):
        return 1
    (count,) = struct.unpack(order + 'H', tiff[offset:offset + 2])
    for i in range(count):
        start = offset + 2 + 12 * i
        entry = tiff[start:start + 12]
        if len(entry) < 12:
            return 1
        tag, kind = struct.unpack(order + 'HH', entry[:4])
        if tag == ORIENTATION_TAG:
            if kind != 3:  # SHORT
                return 1
            (value,) = struct.unpack(order + 'H', entry[8:10])
            return value if value in ORIENTATIONS else 1
    return 1
