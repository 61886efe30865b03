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
"""Turns folders of your own images into a data set every script reads.

Usage:
  python cifar10_convert_images.py SRC --out DIR [--image_size=32]
      [--resize=crop|pad|stretch] [--classes=a,b,c] [--test_fraction=0.1]
      [--seed=0] [--skip_bad] [--overwrite]

SRC holds one folder of images per class (SRC/<class>/..., split here into
training and test images), or SRC/train/<class>/... and
SRC/test/<class>/... (split as given). Every file is read and checked
before anything is written: a file that cannot be decoded, a class without
images, fewer than two classes, a class left without test images are all
listed (the first 20, then a count) and nothing is written, unless
--skip_bad leaves the bad files out (they are listed in DIR/dataset.json).
DIR then holds the training records (data_batch_N.bin, 10,000 per file),
the test records (test_batch.bin), classes.txt and dataset.json; train on
it with ``--dataset=custom --data_dir=DIR``. See image_files for how images
are decoded and resized.
"""

import importlib
import os
import sys

if __name__ == '__main__':
    # The package on sys.path, TensorFlow imported quietly (script_setup).
    importlib.import_module(
        'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

import argparse
import signal
import time

import numpy as np

from cifar10.data import datasets
from cifar10.data import image_files
from cifar10.data import image_folders
from cifar10.runtime import cli
from cifar10.runtime.errors import DataError
from cifar10.training import flags

# Problems listed one per line before the rest are counted.
MAX_LISTED_PROBLEMS = 20


def _test_fraction(text):
    """Parses a fraction strictly between 0 and 1."""
    return flags.number(text, float, lambda v: 0.0 < v < 1.0,
                        'between 0 and 1 (exclusive)')


def _image_size(text):
    lo, hi = datasets.MIN_IMAGE_SIZE, datasets.MAX_IMAGE_SIZE
    return flags.number(text, int, lambda v: lo <= v <= hi, f'from {lo} to {hi}')


def _class_list(text):
    names = [name.strip() for name in text.split(',')]
    if not all(names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f'expected distinct comma-separated class folder names, got {text!r}')
    return names


def parse_args(argv):
    """Parses the converter's command line.

    Args:
      argv: Arguments without the program name.

    Returns:
      An argparse.Namespace.
    """
    parser = flags.new_parser(
        'Convert folders of images (one per class) into a data set for '
        '--dataset=custom.')
    parser.add_argument('src', metavar='SRC',
                        help='Folder of class folders (SRC/<class>/...), or '
                             'of train/<class>/ and test/<class>/ folders.')
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='Folder to write the data set to (the --data_dir '
                             'of --dataset=custom).')
    parser.add_argument('--image_size', type=_image_size, default=32,
                        help='Side of the square images written; the network '
                             'sees crops of 3/4 of it (24 of 32).')
    parser.add_argument('--resize', choices=datasets.RESIZE_MODES,
                        default='crop',
                        help='How an image of another size becomes square: '
                             'crop (the centred square, resized), pad (the '
                             'whole image resized to fit, black borders) or '
                             'stretch (the whole image resized to the '
                             'square). Bilinear, antialiased.')
    parser.add_argument('--format', choices=tuple(datasets.FORMAT_FLAGS),
                        default='records',
                        help='records: fixed-length records (data_batch_N.bin, '
                             'test_batch.bin); tfrecord: TFRecord shards of '
                             'about 1,000 tf.train.Example records each '
                             '(image_raw, label, height, width).')
    parser.add_argument('--classes', type=_class_list, default=None,
                        help='Comma-separated class folders to take, in this '
                             'label order (default: every class folder, '
                             'sorted by name).')
    parser.add_argument('--test_fraction', type=_test_fraction, default=0.1,
                        help='Fraction of each class kept for testing, when '
                             'SRC is not already split into train/ and test/.')
    parser.add_argument('--seed', type=flags.non_negative_int, default=0,
                        help='Seed of the split and of the records\' order.')
    flags.add_max_image_pixels_flag(parser)
    flags.add_bool_flag(parser, 'skip_bad', False,
                        'Leave out files that cannot be read as images, and '
                        'list them in dataset.json, instead of writing nothing.')
    flags.add_bool_flag(parser, 'overwrite', False,
                        'Replace DIR if it exists.')
    return parser.parse_args(argv)


def _say(text, stream=None):
    """Prints a line, any undecodable file name in it made printable."""
    print(image_folders.printable(text), file=stream or sys.stdout, flush=True)


def _inside(path, folder):
    """Whether path is folder or lies inside it."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def _report(problems, skip_bad):
    """Prints the problems, the first MAX_LISTED_PROBLEMS one per line."""
    for problem in problems[:MAX_LISTED_PROBLEMS]:
        _say(f'error: {problem}', sys.stderr)
    more = len(problems) - MAX_LISTED_PROBLEMS
    if more > 0:
        _say(f'error: ... and {more:,} more', sys.stderr)
    hint = '' if skip_bad else ' (--skip_bad leaves out the bad files)'
    _say(f'error: {len(problems):,} problem{"s" if len(problems) > 1 else ""}'
         f'; nothing was written{hint}', sys.stderr)


def convert(args):
    """Converts, or lists what is wrong and writes nothing.

    Args:
      args: Parsed flags (see parse_args).

    Returns:
      The exit status: 0, or 1 if there were problems.

    Raises:
      DataError: if SRC or --out cannot be used at all.
    """
    out = os.path.abspath(args.out)
    if _inside(out, args.src) or _inside(args.src, out):
        raise DataError(f'--out {args.out} and SRC {args.src} overlap; write '
                        'the data set outside the image folders')
    if os.path.exists(out) and not args.overwrite:
        raise DataError(f'{out} exists already; pass --overwrite to replace it')
    source = image_folders.scan(args.src, args.classes)
    images = source.images
    split = ('train/ and test/ as given' if source.layout == 'split' else
             f'test fraction {args.test_fraction:g}, seed {args.seed}')
    _say(f'Reading {len(images):,} images of {len(source.classes)} classes '
         f'from {args.src} ({split}).')
    start = time.monotonic()
    decoded = image_files.decode_files(
        [image.path for image in images], args.image_size, args.resize,
        progress=image_files.Progress(len(images), sys.stderr),
        max_pixels=args.max_image_pixels)
    seconds = time.monotonic() - start
    bad = [(images[i], why) for i, why in sorted(decoded.errors.items())]
    keep = np.ones(len(images), bool)
    if args.skip_bad:
        keep[[i for i in decoded.errors]] = False
    problems = list(source.problems)
    if args.skip_bad:
        # Classes whose every file was bad have no images left.
        left = np.bincount([img.label for img, k in zip(images, keep) if k],
                           minlength=len(source.classes))
        had = np.bincount([img.label for img in images],
                          minlength=len(source.classes))
        problems += [f'class {name!r}: none of its {had[c]} files could be read'
                     for c, name in enumerate(source.classes)
                     if had[c] and not left[c]]
    else:
        problems += [f'{image.path}: {why}' for image, why in bad]
    kept = [image for image, k in zip(images, keep) if k]
    if source.layout == 'folders':
        # After the bad files are left out, so that each class keeps its
        # share of test images.
        image_folders.split(kept, source.classes, args.test_fraction, args.seed)
    problems += image_folders.count_problems(kept, source.classes,
                                             source.layout, args.test_fraction)
    if problems:
        _report(problems, args.skip_bad)
        return 1
    leaks = image_folders.leaked_duplicates(kept, decoded.fingerprints[keep])
    if leaks:
        _say(f'warning: {len(leaks):,} test image{"s are" if len(leaks) > 1 else " is"} '
             'byte-identical to training images (leaked test data: test '
             f'precision will be too high), such as {leaks[0][0]} = '
             f'{leaks[0][1]}', sys.stderr)
    splits = {name: [i for i, image in enumerate(images)
                     if keep[i] and image.split == name]
              for name in image_folders.SPLITS}
    manifest = image_folders.write_dataset(
        out, decoded.images, [image.label for image in images], splits,
        source.classes, {
            'options': {
                'source': image_folders.printable(os.path.abspath(args.src)),
                'layout': source.layout,
                'image_size': args.image_size,
                'resize': args.resize,
                'classes': (None if args.classes is None else
                            [image_folders.printable(n) for n in args.classes]),
                'test_fraction': (args.test_fraction
                                  if source.layout == 'folders' else None),
                'seed': args.seed,
                'skip_bad': args.skip_bad,
                'format': args.format,
            },
            'skipped': [{'file': image_folders.printable(image.name), 'reason': why}
                        for image, why in bad],
            'other_files': [image_folders.printable(n) for n in source.other_files],
            'unused_class_folders': [image_folders.printable(n)
                                     for n in source.unused_folders],
            'leaked_test_images': len(leaks),
        }, overwrite=args.overwrite, seed=args.seed,
        record_format=datasets.FORMAT_FLAGS[args.format])
    counts = manifest['counts']
    files = len(manifest['files']['train'])
    _say(f'Wrote {out}: {counts["train"]:,} training images '
         f'({files} file{"s" if files != 1 else ""}) and {counts["test"]:,} '
         f'test images of {len(source.classes)} classes, '
         f'{args.image_size}x{args.image_size} ({args.resize}); read in '
         f'{seconds:.1f} s ({len(images) / max(seconds, 1e-9):,.0f} images/sec).')
    if bad:
        _say(f'Skipped {len(bad):,} file{"s" if len(bad) > 1 else ""} that '
             f'could not be read (listed in {datasets.MANIFEST}), such as '
             f'{bad[0][0].name}: {bad[0][1]}.')
    if source.other_files:
        _say(f'Left out {len(source.other_files):,} other file'
             f'{"s" if len(source.other_files) > 1 else ""} (not images), '
             f'such as {source.other_files[0]}.')
    if source.unused_folders:
        _say(f'Left out {len(source.unused_folders)} class folder'
             f'{"s" if len(source.unused_folders) > 1 else ""} not in '
             f'--classes: {", ".join(source.unused_folders)}.')
    _say(f'Train on it with --dataset=custom --data_dir={out}')
    return 0


def _interrupt(signum, frame):
    """SIGTERM, like Ctrl-C, stops the conversion and removes its files."""
    del signum, frame
    raise KeyboardInterrupt


def main(argv=None):
    """Entry point: parses flags, converts, exits with a status."""
    signal.signal(signal.SIGTERM, _interrupt)
    cli.run_main(lambda a: convert(parse_args(a)), argv)


if __name__ == '__main__':
    main()
