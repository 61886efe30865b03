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
"""Reads image files of any kind into square RGB images, one way for all.

The converter (cifar10_convert_images) and prediction (cifar10_predict)
both read images through here, so that a photo is prepared for a trained
network exactly as the training images were.

- Formats: JPEG, PNG, BMP and GIF (its first frame), recognised by their
  first bytes, not by the file's name: a PNG named ``.jpg`` is read as a
  PNG. Grey, palette and transparent images become RGB (an alpha channel
  is dropped: the colours stored under it are kept).
- JPEG is decoded with the accurate integer DCT, so that a 32x32 JPEG
  converts to the pixels every careful decoder gives. A JPEG is turned
  upright as its EXIF orientation says (a phone's portrait photo is
  stored lying on its side, with a tag saying how to turn it), before it
  is cropped or resized.
- Size limit: the width and height are read from the file's header
  (image_headers) before anything is decoded, and an image of more than
  ``max_pixels`` pixels is refused, so that a small file claiming a huge
  image cannot exhaust the memory. A GIF is judged by its frames, as
  TensorFlow decodes them (every frame, each at its own size, then a
  canvas as large as the largest), not by the screen size in its header.
- Size (``resize``, see RESIZE_MODES): 'crop' takes the centred square and
  resizes it; 'pad' resizes the whole image to fit and pads it with black
  (letterbox); 'stretch' resizes the whole image to the square, changing
  its proportions. An image already of the size is taken as it is.
- Resizing is bilinear with antialiasing: shrinking a photo to 32x32 then
  averages every source pixel under each output pixel (a plain bilinear
  resize would sample only 4 of them, and small textures would alias into
  noise), and enlarging a small image interpolates smoothly. Values are
  rounded back to uint8.

Everything runs TensorFlow ops; nothing happens at import time.
"""

import contextlib
import dataclasses
import os
import sys
import time

import numpy as np
import tensorflow as tf

from cifar10.data import image_headers
from cifar10.data.datasets import RESIZE_MODES
from cifar10.runtime.errors import op_error_summary

# File names that are meant to be images. A file with another name is read
# as an image only if its first bytes say it is one.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.bmp', '.gif')
FORMATS = ('JPEG', 'PNG', 'BMP', 'GIF')
# Enough of a file's start to tell its format.
HEAD_BYTES = 8
# Folders that archivers add beside the data (macOS zips), never classes.
JUNK_FOLDERS = ('__MACOSX',)


class ImageError(Exception):
    """A file cannot be read as an image; the message says why."""


def image_format(head):
    """Names the format of a file from its first bytes.

    Args:
      head: The file's first HEAD_BYTES bytes (or all of a shorter file).

    Returns:
      One of FORMATS, or None for anything else (including empty files).
    """
    if head.startswith(b'\xff\xd8\xff'):
        return 'JPEG'
    if head.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'PNG'
    if head.startswith(b'BM'):
        return 'BMP'
    if head.startswith((b'GIF87a', b'GIF89a')):
        return 'GIF'
    return None


def is_hidden(name):
    """Whether a file or folder name is hidden (or an archiver's junk)."""
    return name.startswith('.') or name in JUNK_FOLDERS


def has_image_name(path):
    """Whether a file's name says it is an image (IMAGE_EXTENSIONS)."""
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def read_head(path):
    """The first HEAD_BYTES bytes of a file.

    Raises:
      OSError: if the file cannot be read.
    """
    with open(path, 'rb') as f:
        return f.read(HEAD_BYTES)


def is_image_file(path):
    """Whether a file is to be read as an image: by its name, else by its
    first bytes. An unreadable file counts (its reading error is named)."""
    if has_image_name(path):
        return True
    try:
        return image_format(read_head(path)) is not None
    except OSError:
        return True


def files_in(folder):
    """The image files in a folder and its subfolders, sorted.

    Hidden files and folders are skipped, and so are files that are not
    images (see is_image_file) and special files (pipes, devices).

    Returns:
      (images, others): the image files' paths and the other files'.
    """
    images, others = [], []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not is_hidden(d)]
        for name in filenames:
            if not is_hidden(name):
                path = os.path.join(dirpath, name)
                # Pipes, sockets and devices are never opened (a pipe would
                # block the read for ever); a broken link is read, so that
                # its error is named.
                regular = os.path.isfile(path) or not os.path.exists(path)
                (images if regular and is_image_file(path) else others).append(path)
    return sorted(images), sorted(others)


def _to_uint8(image):
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def resize(image, size, mode):
    """Brings an RGB image to size x size, as RESIZE_MODES describe.

    Args:
      image: An [H, W, 3] uint8 tensor.
      size: The side of the result.
      mode: One of RESIZE_MODES.

    Returns:
      A [size, size, 3] uint8 tensor.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f'resize must be one of {RESIZE_MODES}, not {mode!r}')
    shape = tf.shape(image)
    height, width = shape[0], shape[1]

    def resized():
        if mode == 'pad':
            return _to_uint8(tf.image.resize_with_pad(image, size, size,
                                                      antialias=True))
        source = image
        if mode == 'crop':
            side = tf.minimum(height, width)
            source = tf.image.crop_to_bounding_box(
                image, (height - side) // 2, (width - side) // 2, side, side)
        return _to_uint8(tf.image.resize(source, [size, size], antialias=True))

    out = tf.cond(tf.logical_and(tf.equal(height, size), tf.equal(width, size)),
                  lambda: image, resized)
    out.set_shape([size, size, 3])
    return out


def orient(image, orientation):
    """Turns a decoded image upright, as its EXIF orientation says.

    Args:
      image: An [H, W, 3] tensor, as stored.
      orientation: A scalar int32 tensor, 1-8 (image_headers.ORIENTATIONS).

    Returns:
      The image as it is meant to be seen ([W, H, 3] for 5-8).
    """
    def transposed():
        return tf.transpose(image, [1, 0, 2])

    branches = [
        lambda: image,                           # 1: as stored
        lambda: image[:, ::-1],                  # 2: mirrored left-right
        lambda: image[::-1, ::-1],               # 3: turned 180 degrees
        lambda: image[::-1],                     # 4: mirrored top-bottom
        transposed,                              # 5: main diagonal
        lambda: transposed()[:, ::-1],           # 6: 90 degrees clockwise
        lambda: transposed()[::-1, ::-1],        # 7: other diagonal
        lambda: transposed()[::-1],              # 8: 90 counter-clockwise
    ]
    return tf.switch_case(tf.clip_by_value(orientation, 1, 8) - 1, branches)


def decode(data, size, mode, orientation=1):
    """Decodes the bytes of an image file, turns it upright and resizes it.

    The caller checks the format (image_format of the returned head):
    TensorFlow also decodes formats other than FORMATS (WebP, say, in some
    versions), which are refused, as they are not decoded the same way by
    every version.

    Args:
      data: A scalar string tensor, the whole file.
      size: The side of the result.
      mode: One of RESIZE_MODES.
      orientation: The EXIF orientation (1 for none), applied before the
        resize: a scalar int32 tensor or an int.

    Returns:
      (image, head): the [size, size, 3] uint8 image, and the file's first
      HEAD_BYTES bytes. A file that is not an image, or a corrupt one,
      fails with TensorFlow's InvalidArgumentError.
    """
    head = tf.strings.substr(data, 0, HEAD_BYTES)
    image = tf.cond(
        tf.equal(tf.strings.substr(head, 0, 3), b'\xff\xd8\xff'),
        lambda: tf.io.decode_jpeg(data, channels=3,
                                  dct_method='INTEGER_ACCURATE'),
        lambda: tf.io.decode_image(data, channels=3, expand_animations=False))
    image.set_shape([None, None, 3])
    image = orient(image, tf.cast(orientation, tf.int32))
    image.set_shape([None, None, 3])
    return resize(image, size, mode), head


def _reason(error, fmt):
    """Says in a phrase why TensorFlow could not decode a file.

    Args:
      error: The tf.errors.OpError of the decoding.
      fmt: The format its content names (image_format), not its name's.
    """
    if isinstance(error, tf.errors.ResourceExhaustedError):
        return f'{fmt} too large to decode in the memory left'
    if fmt == 'BMP':
        # TensorFlow reads only some BMPs (8, 24 or 32 bits a pixel, the
        # file exactly as long as its rows) and says which rule a file
        # breaks: worth passing on.
        summary = op_error_summary(error).split(': ', 1)[-1]
        return f'damaged, truncated or unsupported BMP ({summary})'
    # The header was read (check_header), so its data is what fails. Not
    # TensorFlow's words: for JPEG they blame a crop window nobody asked for.
    return f'damaged or truncated {fmt} (its image data cannot be decoded)'


def check_header(path, max_pixels=image_headers.DEFAULT_MAX_PIXELS):
    """Reads an image file's header and checks its size, before decoding.

    The limit is on what TensorFlow will hold: the decoded image's pixels
    and, for a GIF, each frame's and all its frames' together (every frame
    is decoded, each at its own size, before the first is kept).

    Args:
      path: The file.
      max_pixels: Most pixels (width x height) an image may have.

    Returns:
      Its image_headers.Header.

    Raises:
      ImageError: if the file cannot be read, is empty, is not a JPEG,
        PNG, BMP or GIF image, is damaged or truncated before its image
        data (for a GIF: anywhere), or holds more than max_pixels pixels.
    """
    try:
        with open(path, 'rb') as f:
            head = f.read(HEAD_BYTES)
            fmt = image_format(head)
            if not head:
                raise ImageError('empty file')
            if fmt is None:
                raise ImageError('not a JPEG, PNG, BMP or GIF image')
            f.seek(0)
            header = image_headers.read_header(f, fmt)
    except OSError as e:
        raise ImageError(e.strerror or str(e)) from None
    except image_headers.TooManyBlocksError as e:
        raise ImageError(f'{e}; not decoded') from None
    except image_headers.HeaderError as e:
        raise ImageError(f'damaged or truncated {fmt} ({e})') from None
    too_large = _too_large(header, max_pixels)
    if too_large:
        raise ImageError(f'{too_large} is above the limit of {max_pixels:,} '
                         '(--max_image_pixels raises it); not decoded')
    return header


def _too_large(header, max_pixels):
    """What in an image is above the pixel limit, or None.

    Returns:
      None, or the phrase naming it: '20,000 x 20,000 pixels', and for a
      GIF which frame, its frames' canvas, or all its frames together.
    """
    for number, (width, height) in enumerate(header.frames, 1):
        if width * height > max_pixels:
            return f'{width:,} x {height:,} pixels (GIF frame {number})'
    if header.pixels > max_pixels:
        if header.frames:
            # Frames of 5 x 2 and 2 x 7 are drawn on a canvas of 5 x 7.
            return (f'{header.width:,} x {header.height:,} pixels (the canvas '
                    'its GIF frames are decoded on)')
        return f'{header.width:,} x {header.height:,} pixels'
    if header.frame_pixels > max_pixels:
        return (f'{len(header.frames):,} GIF frames of '
                f'{header.frame_pixels:,} pixels in all')
    return None


def load_image(path, size, mode, max_pixels=image_headers.DEFAULT_MAX_PIXELS):
    """Reads one image file, as the converter would.

    Args:
      path: The file.
      size: The side of the result.
      mode: One of RESIZE_MODES.
      max_pixels: Most pixels (width x height) an image may have.

    Returns:
      A [size, size, 3] uint8 numpy array.

    Raises:
      ImageError: if the file cannot be read, is empty, is not a JPEG,
        PNG, BMP or GIF image, is damaged or too large (check_header), or
        cannot be decoded.
    """
    header = check_header(path, max_pixels)
    fmt = header.format
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise ImageError(e.strerror or str(e)) from None
    try:
        image, _ = decode(tf.constant(data), size, mode, header.orientation)
        return image.numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.ResourceExhaustedError) as e:
        raise ImageError(_reason(e, fmt)) from None


@contextlib.contextmanager
def _native_messages_hidden():
    """Hides what C libraries print on stderr while images are decoded.

    libjpeg prints "Improper call to JPEG library in state 201" straight to
    file descriptor 2 for each corrupt JPEG, beside the one line that names
    the file. Unless TF_CPP_MIN_LOG_LEVEL asks for TensorFlow's messages
    (below 3; the scripts set 3 by default), descriptor 2 points at
    /dev/null inside this block; ``shown()`` gives it back for a moment, to
    print progress.

    Yields:
      shown: a context manager under which stderr is the real one.
    """
    if os.environ.get('TF_CPP_MIN_LOG_LEVEL', '0') != '3':
        yield contextlib.nullcontext
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)

    @contextlib.contextmanager
    def shown():
        os.dup2(saved, 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(devnull, 2)

    try:
        os.dup2(devnull, 2)
        yield shown
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@dataclasses.dataclass
class Decoded:
    """What decode_files found.

    Attributes:
      images: [N, size, size, 3] uint8, the files' images in their order
        (black where a file failed).
      fingerprints: [N] uint64, a 64-bit fingerprint of each file's bytes
        (equal bytes, equal fingerprints), for finding duplicates.
      errors: {index: why} for each file that could not be read as an
        image.
    """
    images: np.ndarray
    fingerprints: np.ndarray
    errors: dict


def decode_files(paths, size, mode, progress=None, batch_size=256,
                 max_pixels=image_headers.DEFAULT_MAX_PIXELS):
    """Reads many image files, in parallel on every core.

    Each file's header is read first (check_header): a file that is not an
    image, or whose header is unreadable or claims more than max_pixels
    pixels, is an error without being decoded. The others are read and
    decoded by a tf.data pipeline whose map runs as many files at once as
    there are cores. A file that fails there is dropped from the pipeline
    (ignore_errors) and read again alone, which gives the reason; so one
    bad file neither stops the others nor goes unnamed.

    Args:
      paths: The files.
      size: The side of the images.
      mode: One of RESIZE_MODES.
      progress: None, or a function called with the number of files done
        after each batch (the files that failed count at the end).
      batch_size: Files handed back to Python at a time.
      max_pixels: Most pixels (width x height) an image may have.

    Returns:
      A Decoded.
    """
    count = len(paths)
    images = np.zeros([count, size, size, 3], np.uint8)
    fingerprints = np.zeros([count], np.uint64)
    heads = [None] * count  # None: failed in the pipeline
    errors = {}
    checked = []  # (index, orientation) of the files to decode
    for index, path in enumerate(paths):
        try:
            checked.append((index, check_header(path, max_pixels).orientation))
        except ImageError as e:
            errors[index] = str(e)
    with _native_messages_hidden() as shown:
        done = len(errors)
        for index, image, head, fingerprint in _batches(paths, checked, size,
                                                        mode, batch_size):
            images[index] = image
            fingerprints[index] = fingerprint
            for i, h in zip(index, head):
                heads[i] = h
            done += len(index)
            if progress:
                with shown():
                    progress(done)
        for index, head in enumerate(heads):
            if index in errors:
                continue
            if head is None:
                # Failed in the pipeline: read alone, for the reason.
                try:
                    images[index] = load_image(paths[index], size, mode,
                                               max_pixels)
                    errors[index] = 'could not be decoded with the others'
                except ImageError as e:
                    errors[index] = str(e)
            elif image_format(head) is None:
                errors[index] = 'not a JPEG, PNG, BMP or GIF image'
    if progress and count:
        progress(count)
    return Decoded(images, fingerprints, errors)


def _batches(paths, checked, size, mode, batch_size):
    """decode_files' pipeline: yields (indices, images, heads, fingerprints)
    of the files that decoded, batch by batch, in no particular order.

    Args:
      paths: All the files.
      checked: (index, orientation) of the files to decode.
      size, mode, batch_size: As decode_files.
    """
    if not checked:
        return

    def read(index, path, orientation):
        data = tf.io.read_file(path)
        image, head = decode(data, size, mode, orientation)
        fingerprint = tf.fingerprint(tf.reshape(data, [1]))[0]
        return index, image, head, fingerprint

    indices = [index for index, _ in checked]
    # As bytes: a file name need not be valid UTF-8.
    pipeline = (tf.data.Dataset.from_tensor_slices(
                    (tf.constant(indices, tf.int64),
                     [os.fsencode(paths[i]) for i in indices],
                     tf.constant([o for _, o in checked], tf.int32)))
                .map(read, num_parallel_calls=tf.data.AUTOTUNE,
                     deterministic=False)
                .ignore_errors()
                .batch(batch_size)
                .prefetch(2))
    for index, image, head, fingerprint in pipeline.as_numpy_iterator():
        # Fingerprints come as 8 bytes each; one uint64 is the same key.
        yield (index, image, head,
               np.ascontiguousarray(fingerprint).view(np.uint64)[:, 0])


class Progress:
    """Prints 'images done, images/sec, time left' while a long job runs.

    Nothing is printed for the first ``quiet_secs``, so short jobs stay
    silent; after that a line at most every ``every_secs`` (on a terminal
    the line rewrites itself), and a final one at the end. A count already
    shown is not shown again (the end is reported by more than one caller).
    """

    def __init__(self, total, stream, what='images', quiet_secs=2.0,
                 every_secs=1.0):
        self._total = total
        self._stream = stream
        self._what = what
        self._quiet = quiet_secs
        self._every = every_secs
        self._start = time.monotonic()
        self._last = None
        self._shown = None
        self._tty = getattr(stream, 'isatty', lambda: False)()

    def __call__(self, done):
        now = time.monotonic()
        elapsed = now - self._start
        if elapsed < self._quiet or done == self._shown or (
                self._last and now - self._last < self._every and done < self._total):
            return
        self._last, self._shown = now, done
        rate = done / elapsed if elapsed else 0.0
        left = (self._total - done) / rate if rate else 0.0
        line = (f'{done:,} of {self._total:,} {self._what} '
                f'({rate:,.0f} {self._what}/sec, {left:.0f} s left)')
        if self._tty:
            end = '\n' if done >= self._total else ''
            self._stream.write(f'\r{line}{end}')
        else:
            self._stream.write(line + '\n')
        self._stream.flush()
