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

Plain Python on the file's first bytes (a JPEG's header is walked segment
by segment, skipping what lies between); nothing runs at import time.
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

# JPEG start-of-frame markers (the ones holding the image's size): C0-CF
# but for DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM, RST0-7, SOI, EOI.
_STANDALONE_MARKERS = frozenset([0x01, *range(0xD0, 0xDA)])


class HeaderError(Exception):
    """The header cannot be read; the message says why."""


@dataclasses.dataclass(frozen=True)
class Header:
    """What an image file's header says.

    Attributes:
      format: 'JPEG', 'PNG', 'BMP' or 'GIF'.
      width, height: The stored image's size in pixels.
      orientation: The EXIF orientation (1-8; 1 for anything but a JPEG
        that says otherwise).
    """
    format: str
    width: int
    height: int
    orientation: int = 1

    @property
    def pixels(self):
        return self.width * self.height


def read_header(f, fmt):
    """Reads the header of an open image file.

    Args:
      f: The file, opened for binary reading, at its start.
      fmt: Its format, from its first bytes (image_files.image_format).

    Returns:
      A Header.

    Raises:
      HeaderError: if the file ends inside its header or the header makes
        no sense.
    """
    if fmt == 'JPEG':
        return _jpeg_header(f)
    head = f.read(32)
    if fmt == 'PNG':
        # The IHDR chunk comes first: length, type, width, height.
        if len(head) < 24 or head[12:16] != b'IHDR':
            raise HeaderError('PNG without its IHDR header')
        width, height = struct.unpack('>II', head[16:24])
    elif fmt == 'GIF':
        if len(head) < 10:
            raise HeaderError('GIF cut short in its header')
        width, height = struct.unpack('<HH', head[6:10])
    elif fmt == 'BMP':
        if len(head) < 26:
            raise HeaderError('BMP cut short in its header')
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
        raise HeaderError('JPEG without its start marker')
    orientation = 1
    while True:
        byte = f.read(1)
        if not byte:
            raise HeaderError('JPEG ends before its size is given')
        if byte != b'\xff':
            continue  # Stray bytes between segments: decoders skip them too.
        marker = f.read(1)
        while marker == b'\xff':  # Fill bytes.
            marker = f.read(1)
        if not marker:
            raise HeaderError('JPEG ends before its size is given')
        code = marker[0]
        if code in _STANDALONE_MARKERS or code == 0x00:
            continue
        if code == 0xDA:
            raise HeaderError('JPEG whose image data starts before its size is given')
        length = f.read(2)
        if len(length) < 2:
            raise HeaderError('JPEG ends before its size is given')
        (size,) = struct.unpack('>H', length)
        if size < 2:
            raise HeaderError('JPEG with a malformed segment')
        if code in _SOF_MARKERS:
            frame = f.read(5)
            if len(frame) < 5:
                raise HeaderError('JPEG ends before its size is given')
            height, width = struct.unpack('>HH', frame[1:5])
            if not height or not width:
                raise HeaderError(f'JPEG whose header gives its size as '
                                  f'{width} x {height}')
            return Header('JPEG', width, height, orientation)
        if code == 0xE1:  # APP1: EXIF, among others.
            data = f.read(size - 2)
            if data.startswith(b'Exif\x00\x00'):
                orientation = exif_orientation(data[6:])
        else:
            f.seek(size - 2, 1)


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
