"""Writers of image files in the formats the converter reads, for tests.

TensorFlow encodes PNG and JPEG only; BMP and GIF are written here by hand
from their published layouts, so that the tests need no imaging library.
"""

import struct
import zlib

import numpy as np


def bmp_bytes(image):
    """A 24-bit uncompressed BMP of an [H, W, 3] uint8 RGB image."""
    height, width, _ = image.shape
    row_bytes = (width * 3 + 3) // 4 * 4  # Rows are padded to 4 bytes.
    pixels = bytearray()
    for row in image[::-1]:  # Bottom-up, blue-green-red.
        line = row[:, ::-1].tobytes()
        pixels += line + b'\0' * (row_bytes - len(line))
    header = struct.pack('<IiiHHIIiiII', 40, width, height, 1, 24, 0,
                         len(pixels), 2835, 2835, 0, 0)
    size = 14 + len(header) + len(pixels)
    return (b'BM' + struct.pack('<IHHI', size, 0, 0, 14 + len(header))
            + header + bytes(pixels))


def _lzw_uncompressed(indices):
    """GIF LZW data for 8-bit indices, without compression.

    Every pixel is sent as its own 9-bit code, and a clear code every 128
    pixels keeps the decoder's table (and so the code width) from growing.
    """
    clear, end = 256, 257
    codes = []
    for start in range(0, len(indices), 128):
        codes.append(clear)
        codes.extend(int(i) for i in indices[start:start + 128])
    codes.append(end)
    out = _pack_codes([(code, 9) for code in codes])
    blocks = bytearray([8])  # LZW minimum code size.
    for start in range(0, len(out), 255):
        chunk = out[start:start + 255]
        blocks += bytes([len(chunk)]) + chunk
    return bytes(blocks + b'\0')


def gif_bytes(frames, palette):
    """A GIF of palette-index frames.

    Args:
      frames: A list of [H, W] uint8 arrays of palette indices.
      palette: A [256, 3] uint8 array of RGB colours.
    """
    height, width = frames[0].shape
    out = bytearray(b'GIF89a')
    out += struct.pack('<HHBBB', width, height, 0xF7, 0, 0)
    out += np.asarray(palette, np.uint8).tobytes()
    for frame in frames:
        out += b'\x21\xF9\x04\x00\x0A\x00\x00\x00'  # Graphic control: 0.1 s.
        out += b'\x2C' + struct.pack('<HHHHB', 0, 0, width, height, 0)
        out += _lzw_uncompressed(np.asarray(frame, np.uint8).reshape(-1))
    return bytes(out + b'\x3B')


def _pack_codes(codes):
    """Packs (code, width in bits) pairs into bytes, least significant bit
    first, as GIF's LZW data is."""
    bits, nbits, out = 0, 0, bytearray()
    for code, width in codes:
        bits |= code << nbits
        nbits += width
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8
    if nbits:
        out.append(bits & 0xFF)
    return bytes(out)


def _sub_blocks(data):
    """Data as GIF sub-blocks: a length byte (up to 255) before each piece,
    a zero length at the end."""
    blocks = bytearray()
    for start in range(0, len(data), 255):
        chunk = data[start:start + 255]
        blocks += bytes([len(chunk)]) + chunk
    return bytes(blocks + b'\0')


def lzw_solid(pixels, index=1):
    """GIF LZW data (code size 8, then sub-blocks) for pixels of one colour.

    A run of one colour compresses well: the n-th code after a clear code
    stands for a run of n pixels (code 256 + n, the entry the code before
    added), so 3,800 codes (5 KB) give 7.2 million pixels. The decoder
    widens its codes from 9 bits as its table grows (after 255, 767 and
    1,791 codes); a clear code starts the table again before it is full.

    Args:
      pixels: How many pixels the data holds; fewer than a frame claims
        makes a frame whose data ends early (a decoder fails on it).
      index: The palette index of every pixel (0-255).
    """
    clear, end = 256, 257
    codes, width, left = [], 9, pixels
    while left > 0:
        codes.append((clear, width))
        width = 9
        count = 0
        while left > 0 and count < 3800:
            count += 1
            run = min(count, left)
            codes.append((index if run == 1 else 256 + run, width))
            left -= run
            if 258 + count > (1 << width) and width < 12:
                width += 1
    codes.append((end, width))
    return bytes([8]) + _sub_blocks(_pack_codes(codes))


def gif_frames_bytes(screen, frames, trailer=True):
    """A GIF whose screen and frames have the sizes given, each frame of one
    colour: the files a GIF's header check is tried on.

    Args:
      screen: (width, height) of the logical screen.
      frames: (width, height) of each frame, or (width, height, data) with
        data the frame's LZW data (lzw_solid(5) for a frame claiming more
        pixels than it holds); each frame is at the screen's top left and
        follows a graphic control extension.
      trailer: False leaves out the trailer byte, as a cut file would.

    Returns:
      The file's bytes. Palette index i is the colour (i, 255 - i, 7).
    """
    palette = np.stack([np.arange(256), 255 - np.arange(256),
                        np.full(256, 7)], axis=1).astype(np.uint8)
    out = bytearray(b'GIF89a')
    out += struct.pack('<HHBBB', screen[0], screen[1], 0xF7, 0, 0)
    out += palette.tobytes()
    for number, frame in enumerate(frames):
        width, height = frame[:2]
        data = frame[2] if len(frame) > 2 else lzw_solid(width * height,
                                                          1 + number % 255)
        out += b'\x21\xF9\x04\x00\x0A\x00\x00\x00'  # Graphic control: 0.1 s.
        out += b'\x2C' + struct.pack('<HHHHB', 0, 0, width, height, 0)
        out += data
    return bytes(out + (b'\x3B' if trailer else b''))


def _png_chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))


def palette_png_bytes(indices, palette):
    """An 8-bit palette PNG (colour type 3) of [H, W] palette indices.

    Args:
      indices: [H, W] uint8 indices into the palette.
      palette: [K, 3] uint8 RGB colours.
    """
    height, width = indices.shape
    header = struct.pack('>IIBBBBB', width, height, 8, 3, 0, 0, 0)
    rows = b''.join(b'\0' + row.tobytes() for row in np.asarray(indices, np.uint8))
    return (b'\x89PNG\r\n\x1a\n' + _png_chunk(b'IHDR', header)
            + _png_chunk(b'PLTE', np.asarray(palette, np.uint8).tobytes())
            + _png_chunk(b'IDAT', zlib.compress(rows))
            + _png_chunk(b'IEND', b''))


def exif_jpeg(jpeg, orientation, byte_order='MM', padding=0):
    """A JPEG with an EXIF segment giving its orientation.

    Args:
      jpeg: A JPEG file's bytes (without EXIF).
      orientation: The EXIF orientation tag's value (1-8, or anything for
        a bad tag).
      byte_order: 'MM' (big-endian, as most cameras) or 'II'.
      padding: Bytes of an APP2 segment put before the EXIF one, so that
        the header is not all in the file's first bytes.
    """
    order = '>' if byte_order == 'MM' else '<'
    # TIFF header, then one directory of one entry: tag 0x0112, type SHORT,
    # count 1, the value left-aligned in the 4-byte field; no next directory.
    tiff = (byte_order.encode() + struct.pack(order + 'HI', 42, 8)
            + struct.pack(order + 'H', 1)
            + struct.pack(order + 'HHIH2x', 0x0112, 3, 1, orientation)
            + struct.pack(order + 'I', 0))
    exif = b'Exif\0\0' + tiff
    segments = b''
    if padding:
        segments += b'\xff\xe2' + struct.pack('>H', padding + 2) + b'\0' * padding
    segments += b'\xff\xe1' + struct.pack('>H', len(exif) + 2) + exif
    assert jpeg[:2] == b'\xff\xd8'
    return jpeg[:2] + segments + jpeg[2:]


def png_header_only(width, height):
    """The signature and IHDR chunk of a PNG claiming width x height RGB
    pixels, followed by an empty IDAT and IEND: small, and undecodable."""
    return (b'\x89PNG\r\n\x1a\n'
            + _png_chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + _png_chunk(b'IDAT', zlib.compress(b''))
            + _png_chunk(b'IEND', b''))
