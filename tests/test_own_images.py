"""Tests of your own images: reading image files, the converter, and
--dataset=custom through training, evaluation, prediction and export.

Every image is written at run time, in each format the converter reads
(PNG, JPEG, BMP, GIF; grey, palette and alpha too; odd sizes). The images
are learnable: each class has its own colour (conftest.class_colours).
"""

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_convert_images
from cifar10 import cifar10_eval
from cifar10 import cifar10_export
from cifar10 import cifar10_input
from cifar10 import cifar10_predict
from cifar10 import cifar10_train
from cifar10.data import datasets
from cifar10.data import image_files
from cifar10.data import image_folders
from cifar10.runtime.errors import DataError

from conftest import (FAST_TRAIN_FLAGS, REPO, TIMEOUT_SECS, class_colours,
                      killed_after, known_env, run_in_process)
from image_writers import bmp_bytes, gif_bytes, palette_png_bytes

tf1 = tf.compat.v1


def _png(image):
    return tf.io.encode_png(np.asarray(image, np.uint8)).numpy()


def _jpeg(image):
    return tf.io.encode_jpeg(np.asarray(image, np.uint8), quality=95).numpy()


def _class_image(label, seed, height=32, width=32):
    """A learnable image of a class: its colour with some noise."""
    rng = np.random.RandomState(seed)
    colour = class_colours()[label].astype(np.int64)
    noise = rng.randint(0, 64, size=(height, width, 3))
    return np.clip(colour * 3 // 4 + noise, 0, 255).astype(np.uint8)


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def _convert(*argv):
    """Runs the converter in this process; returns its exit status."""
    return cifar10_convert_images.convert(cifar10_convert_images.parse_args(
        [str(a) for a in argv]))


def _make_folders(root, classes=('apple', 'banana', 'cherry'), count=10,
                  size=32, writer=_png, seed=0):
    """Writes SRC/<class>/i.png images of each class; returns {path: image}."""
    written = {}
    for label, name in enumerate(classes):
        for i in range(count):
            image = _class_image(label, seed=seed + 100 * label + i, height=size,
                                 width=size)
            path = os.path.join(root, name, f'{i:03d}.png')
            _write(path, writer(image))
            written[path] = image
    return written


def _records(path, manifest):
    size = manifest['image_size']
    data = np.fromfile(path, np.uint8).reshape(-1, manifest['record_bytes'])
    lb = manifest['label_bytes']
    labels = data[:, 0].astype(np.int64)
    if lb == 2:
        labels = labels * 256 + data[:, 1]
    images = data[:, lb:].reshape(-1, 3, size, size).transpose(0, 2, 3, 1)
    return images, labels


def _manifest(out):
    with open(os.path.join(out, 'dataset.json'), encoding='utf-8') as f:
        return json.load(f)


def _leftovers(parent, name):
    """Temporary folders the converter may have left beside its output."""
    return [n for n in os.listdir(parent) if n.startswith(f'.{name}.')]


# --- reading image files ---------------------------------------------------

def test_every_format_is_read_by_content(tmp_path):
    rng = np.random.RandomState(0)
    image = rng.randint(0, 256, (23, 37, 3)).astype(np.uint8)
    palette = rng.randint(0, 256, (256, 3)).astype(np.uint8)
    frames = [rng.randint(0, 256, (23, 37)).astype(np.uint8) for _ in range(2)]
    grey = rng.randint(0, 256, (23, 37, 1)).astype(np.uint8)
    alpha = np.concatenate([image, np.full((23, 37, 1), 7, np.uint8)], axis=2)
    lossless = {
        'a.png': (_png(image), image),
        'b.bmp': (bmp_bytes(image), image),
        'c.gif': (gif_bytes(frames, palette), palette[frames[0]]),  # first frame
        'd.png': (palette_png_bytes(frames[1], palette), palette[frames[1]]),
        'e.png': (_png(grey), np.repeat(grey, 3, axis=2)),
        'f.png': (_png(alpha), image),  # alpha dropped, colours kept
        'png-named.jpg': (_png(image), image),
        'no_extension': (bmp_bytes(image), image),
    }
    for name, (data, expected) in lossless.items():
        _write(str(tmp_path / name), data)
        # Already of the asked size (not square: stretch to 37 is a no-op
        # only for square images, so ask for each side via the exact path).
        got = image_files.load_image(str(tmp_path / name), 37, 'stretch')
        assert got.shape == (37, 37, 3) and got.dtype == np.uint8
        want = tf.image.resize(expected, [37, 37], antialias=True).numpy()
        np.testing.assert_array_equal(got, np.clip(np.round(want), 0, 255).astype(np.uint8))
    # A square image of the asked size is taken exactly as it is.
    square = rng.randint(0, 256, (16, 16, 3)).astype(np.uint8)
    for name, data in (('s.png', _png(square)), ('s.bmp', bmp_bytes(square))):
        _write(str(tmp_path / name), data)
        for mode in datasets.RESIZE_MODES:
            np.testing.assert_array_equal(
                image_files.load_image(str(tmp_path / name), 16, mode), square)
    # JPEG: decoded with the accurate DCT, as the shared export's script does.
    _write(str(tmp_path / 'j.jpeg'), _jpeg(square))
    np.testing.assert_array_equal(
        image_files.load_image(str(tmp_path / 'j.jpeg'), 16, 'crop'),
        tf.io.decode_jpeg(_jpeg(square), dct_method='INTEGER_ACCURATE').numpy())


def test_resize_modes_crop_pad_and_stretch(tmp_path):
    # 20 rows x 60 columns: a red, a green and a blue third.
    image = np.zeros((20, 60, 3), np.uint8)
    image[:, :20, 0] = image[:, 20:40, 1] = image[:, 40:, 2] = 255
    path = str(tmp_path / 'wide.png')
    _write(path, _png(image))
    crop = image_files.load_image(path, 10, 'crop')
    np.testing.assert_array_equal(crop, np.broadcast_to([0, 255, 0], (10, 10, 3)))
    pad = image_files.load_image(path, 12, 'pad')
    # 60x20 fits 12 wide as 4 rows high, centred between black bands.
    assert np.all(pad[:4] == 0) and np.all(pad[-4:] == 0)
    np.testing.assert_array_equal(pad[5, 0], [255, 0, 0])
    np.testing.assert_array_equal(pad[5, -1], [0, 0, 255])
    stretch = image_files.load_image(path, 12, 'stretch')
    for row in stretch:
        np.testing.assert_array_equal(row[0], [255, 0, 0])
        np.testing.assert_array_equal(row[6], [0, 255, 0])
        np.testing.assert_array_equal(row[-1], [0, 0, 255])


def test_decode_files_names_each_bad_file_and_reads_the_rest(tmp_path):
    image = _class_image(0, seed=1)
    good = _png(image)
    files = {
        'good.png': good,
        'empty.png': b'',
        'truncated.png': good[:len(good) // 2],
        'truncated.jpg': _jpeg(image)[:300],
        'text.jpg': b'hello, not an image at all',
        'corrupt.gif': b'GIF89a' + b'\x00' * 40,
        'good.bmp': bmp_bytes(image),
    }
    paths = []
    for name, data in files.items():
        paths.append(str(tmp_path / name))
        _write(paths[-1], data)
    paths.append(str(tmp_path / 'missing.png'))
    done = []
    decoded = image_files.decode_files(paths, 32, 'crop', progress=done.append)
    reasons = {os.path.basename(paths[i]): why for i, why in decoded.errors.items()}
    assert set(reasons) == {'empty.png', 'truncated.png', 'truncated.jpg',
                            'text.jpg', 'corrupt.gif', 'missing.png'}
    assert reasons['empty.png'] == 'empty file'
    assert reasons['truncated.png'] == ('damaged or truncated PNG (its image data '
                                        'cannot be decoded)')
    assert reasons['truncated.jpg'] == ('damaged or truncated JPEG (its image data '
                                        'cannot be decoded)')
    assert reasons['corrupt.gif'] == ('damaged or truncated GIF (a block of unknown '
                                      'kind 0x00 before its first frame)')
    assert reasons['text.jpg'] == 'not a JPEG, PNG, BMP or GIF image'
    assert reasons['missing.png'] == 'No such file or directory'
    np.testing.assert_array_equal(decoded.images[0], image)
    np.testing.assert_array_equal(decoded.images[6], image)
    assert decoded.fingerprints[0] != decoded.fingerprints[6]
    assert done == sorted(done) and done[-1] == len(paths)


# --- the converter ---------------------------------------------------------

def test_converts_class_folders_into_records_and_manifest(tmp_path, capsys):
    src, out = tmp_path / 'src', tmp_path / 'out'
    written = _make_folders(str(src))
    # Images in a subfolder of a class belong to it; hidden files and
    # folders are skipped; other files are counted, never read.
    nested = _class_image(2, seed=999)
    _write(str(src / 'cherry' / 'more' / 'deep.png'), _png(nested))
    written[str(src / 'cherry' / 'more' / 'deep.png')] = nested
    _write(str(src / 'apple' / '.DS_Store'), b'\0garbage')
    _write(str(src / '.hidden' / 'x.png'), b'not read')
    _write(str(src / 'banana' / 'notes.txt'), b'bananas are yellow')
    _write(str(src / 'README'), b'my photos')
    assert _convert(src, '--out', out, '--test_fraction=0.2') == 0
    stdout = capsys.readouterr().out
    assert 'Wrote' in stdout and '25 training images (1 file) and 6 test images of 3 classes' in stdout
    assert 'Left out 2 other files (not images), such as README.' in stdout
    assert sorted(os.listdir(out)) == ['classes.txt', 'data_batch_1.bin',
                                       'dataset.json', 'test_batch.bin']
    manifest = _manifest(out)
    assert manifest['format_version'] == 1 and manifest['image_size'] == 32
    assert manifest['label_bytes'] == 1 and manifest['record_bytes'] == 3073
    assert manifest['classes'] == ['apple', 'banana', 'cherry']
    assert (tmp_path / 'out' / 'classes.txt').read_text().splitlines() == manifest['classes']
    assert manifest['counts'] == {'train': 25, 'test': 6}
    assert manifest['counts_per_class'] == {
        'train': {'apple': 8, 'banana': 8, 'cherry': 9},
        'test': {'apple': 2, 'banana': 2, 'cherry': 2}}
    assert sorted(manifest['other_files']) == ['README', os.path.join('banana', 'notes.txt')]
    assert manifest['skipped'] == [] and manifest['leaked_test_images'] == 0
    assert manifest['options']['resize'] == 'crop' and manifest['options']['seed'] == 0
    for split in ('train', 'test'):
        for entry in manifest['files'][split]:
            data = (out / entry['name']).read_bytes()
            assert entry['bytes'] == len(data) == entry['records'] * 3073
            import hashlib
            assert entry['sha256'] == hashlib.sha256(data).hexdigest()
    # Every image is in exactly one record, with its class's label.
    seen = []
    for name in ('data_batch_1.bin', 'test_batch.bin'):
        images, labels = _records(str(out / name), manifest)
        seen += [(bytes(image), int(label)) for image, label in zip(images, labels)]
    names = manifest['classes']
    expected = sorted((bytes(image), names.index(os.path.relpath(path, src).split(os.sep)[0]))
                      for path, image in written.items())
    assert sorted(seen) == expected
    # The training records are shuffled, not grouped by class.
    _, labels = _records(str(out / 'data_batch_1.bin'), manifest)
    assert list(labels) != sorted(labels)
    assert datasets.custom(str(out)).describe() == f'custom in {out} (3 classes)'


def test_split_is_reproducible_and_follows_the_seed(tmp_path):
    src = tmp_path / 'src'
    _make_folders(str(src), count=20)
    tests = {}
    for name, seed in (('a', 0), ('b', 0), ('c', 7)):
        assert _convert(src, '--out', tmp_path / name, f'--seed={seed}') == 0
        tests[name] = (tmp_path / name / 'test_batch.bin').read_bytes()
        assert _manifest(tmp_path / name)['counts'] == {'train': 54, 'test': 6}
    assert tests['a'] == tests['b']
    assert sorted(_records(str(tmp_path / 'a' / 'test_batch.bin'), _manifest(tmp_path / 'a'))[0].tobytes()) != \
        sorted(_records(str(tmp_path / 'c' / 'test_batch.bin'), _manifest(tmp_path / 'c'))[0].tobytes())
    # A class's split does not depend on the other classes.
    image_list = [image_folders.Image(f'{c}{i}', f'{c}/{i}', label, None)
                  for label, c in enumerate('xy') for i in range(10)]
    image_folders.split(image_list, ['x', 'y'], 0.3, seed=0)
    alone = [image_folders.Image(f'y{i}', f'y/{i}', 0, None) for i in range(10)]
    image_folders.split(alone, ['y'], 0.3, seed=0)
    assert [i.split for i in image_list[10:]] == [i.split for i in alone]


def test_train_and_test_folders_are_taken_as_given_and_classes_chosen(tmp_path, capsys):
    src = tmp_path / 'src'
    _make_folders(str(src / 'train'), classes=('ant', 'bee', 'cat'), count=4)
    _make_folders(str(src / 'test'), classes=('ant', 'bee', 'cat'), count=2)
    assert _convert(src, '--out', tmp_path / 'out', '--classes=cat,ant') == 0
    assert 'Left out 1 class folder not in --classes: bee.' in capsys.readouterr().out
    manifest = _manifest(tmp_path / 'out')
    assert manifest['classes'] == ['cat', 'ant']
    assert manifest['options']['layout'] == 'split'
    assert manifest['counts_per_class'] == {'train': {'cat': 4, 'ant': 4},
                                            'test': {'cat': 2, 'ant': 2}}
    _, labels = _records(str(tmp_path / 'out' / 'test_batch.bin'), manifest)
    assert sorted(labels) == [0, 0, 1, 1]


def test_bad_input_is_all_listed_and_nothing_is_written(tmp_path, capsys):
    src, out = tmp_path / 'src', tmp_path / 'out'
    _make_folders(str(src), count=6)
    good = _png(_class_image(0, seed=5))
    bad = {
        'apple/empty.png': b'',
        'apple/cut.png': good[:len(good) // 3],
        'banana/words.jpg': b'a text file named as a photo',
        'cherry/sub/broken.gif': b'GIF89a\x10\x00\x10\x00',
    }
    for name, data in bad.items():
        _write(str(src / name), data)
    os.makedirs(src / 'durian')  # a class folder without images
    _write(str(src / 'durian' / 'list.txt'), b'no images here')
    assert _convert(src, '--out', out) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == 'error: 5 problems; nothing was written (--skip_bad leaves out the bad files)'
    problems = err[:-1]
    assert f'error: {src / "durian"}: class folder without images' in problems
    assert f'error: {src / "apple" / "empty.png"}: empty file' in problems
    assert (f'error: {src / "apple" / "cut.png"}: damaged or truncated PNG '
            '(its image data cannot be decoded)') in problems
    assert f'error: {src / "banana" / "words.jpg"}: not a JPEG, PNG, BMP or GIF image' in problems
    assert (f'error: {src / "cherry" / "sub" / "broken.gif"}: damaged or truncated '
            'GIF (it ends inside its header)') in problems
    assert not out.exists() and _leftovers(tmp_path, 'out') == []

    # --skip_bad writes the rest and lists what it left out; the folder
    # without images is still a problem.
    assert _convert(src, '--out', out, '--skip_bad') == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "error: 1 problem; nothing was written", err
    assert _convert(src, '--out', out, '--skip_bad', '--classes=apple,banana,cherry') == 0
    assert 'Skipped 4 files that could not be read' in capsys.readouterr().out
    manifest = _manifest(out)
    assert sorted(s['file'] for s in manifest['skipped']) == sorted(
        os.path.join(*name.split('/')) for name in bad)
    assert manifest['counts']['train'] + manifest['counts']['test'] == 18


def test_many_problems_are_cut_at_twenty_lines(tmp_path, capsys):
    src = tmp_path / 'src'
    _make_folders(str(src), count=10)
    for i in range(25):
        _write(str(src / 'apple' / f'bad{i:02d}.jpg'), b'')
    assert _convert(src, '--out', tmp_path / 'out') == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 22
    assert err[20] == 'error: ... and 5 more'
    assert err[21].startswith('error: 25 problems; nothing was written')


@pytest.mark.parametrize('classes, count, fraction, message', [
    (('only',), 5, 0.2, '1 class folder (only); a classifier needs at least 2'),
    ((), 5, 0.2, '0 class folders (none); a classifier needs at least 2'),
    (('a', 'b'), 2, 0.1, "class 'a' has no test images: --test_fraction=0.1 of "
                         'its 2 images leaves none'),
    (('a', 'b'), 2, 0.9, "class 'a' has no training images"),
])
def test_too_few_classes_or_images_are_refused(tmp_path, capsys, classes, count,
                                               fraction, message):
    src = tmp_path / 'src'
    os.makedirs(src)
    _make_folders(str(src), classes=classes, count=count)
    assert _convert(src, '--out', tmp_path / 'out', f'--test_fraction={fraction}') == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_existing_output_is_refused_unless_overwrite(tmp_path, capsys):
    src, out = tmp_path / 'src', tmp_path / 'out'
    _make_folders(str(src), count=5)
    os.makedirs(out)
    (out / 'mine.txt').write_text('keep me')
    with pytest.raises(DataError, match='exists already; pass --overwrite'):
        _convert(src, '--out', out)
    assert (out / 'mine.txt').read_text() == 'keep me'
    assert _convert(src, '--out', out, '--overwrite') == 0
    assert 'mine.txt' not in os.listdir(out) and (out / 'dataset.json').exists()
    assert _leftovers(tmp_path, 'out') == []
    with pytest.raises(DataError, match='overlap'):
        _convert(src, '--out', src / 'converted')


def test_an_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    src, out = tmp_path / 'src', tmp_path / 'out'
    _make_folders(str(src), count=5)
    calls = []

    def interrupted(folder, name, data):
        calls.append(name)
        raise KeyboardInterrupt

    monkeypatch.setattr(image_folders, '_write', interrupted)
    with pytest.raises(KeyboardInterrupt):
        _convert(src, '--out', out)
    assert calls and not out.exists() and _leftovers(tmp_path, 'out') == []


@pytest.mark.slow
def test_sigterm_while_converting_leaves_nothing(tmp_path):
    src, out = tmp_path / 'src', tmp_path / 'out'
    _make_folders(str(src), count=4)
    # A photo of 36 megapixels takes a while to decode and shrink: the
    # signal arrives while the converter works on it.
    _write(str(src / 'apple' / 'huge.png'), _png(np.zeros((6000, 6000, 3), np.uint8)))
    # A named pipe is a special file: never opened (it would block).
    os.mkfifo(src / 'apple' / 'pipe.png')
    proc = subprocess.Popen(
        [sys.executable, os.path.join('cifar10', 'cifar10_convert_images.py'),
         str(src), '--out', str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=known_env(TF_CPP_MIN_LOG_LEVEL='3'))
    with killed_after(proc):
        assert proc.stdout.readline().startswith('Reading 13 images of 3 classes')
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT_SECS) == 130
        assert proc.stderr.read().strip().splitlines()[-1] == 'interrupted'
    assert not out.exists() and _leftovers(tmp_path, 'out') == []


def test_test_images_equal_to_training_images_are_a_warning(tmp_path, capsys):
    src = tmp_path / 'src'
    _make_folders(str(src / 'train'), count=4)
    _make_folders(str(src / 'test'), count=2, seed=50)
    # The test set's first apple is also in the training set, renamed.
    _write(str(src / 'train' / 'apple' / 'copy.png'),
           (src / 'test' / 'apple' / '000.png').read_bytes())
    assert _convert(src, '--out', tmp_path / 'out') == 0
    err = capsys.readouterr().err
    assert 'warning: 1 test image is byte-identical to training images (leaked test data' in err
    assert _manifest(tmp_path / 'out')['leaked_test_images'] == 1


@pytest.mark.slow
def test_more_than_256_classes_get_two_label_bytes(tmp_path, capsys):
    src = tmp_path / 'src'
    tiny = np.zeros((8, 8, 3), np.uint8)
    names = [f'c{i:03d}' for i in range(300)]
    for i, name in enumerate(names):
        tiny[0, 0] = [i % 256, i // 256, 7]
        for split in ('train', 'test'):
            _write(str(src / split / name / 'x.bmp'), bmp_bytes(tiny))
    assert _convert(src, '--out', tmp_path / 'out', '--image_size=8') == 0
    manifest = _manifest(tmp_path / 'out')
    assert manifest['label_bytes'] == 2 and manifest['record_bytes'] == 2 + 192
    images, labels = _records(str(tmp_path / 'out' / 'test_batch.bin'), manifest)
    # The label is big-endian, and each image carries its class's number.
    np.testing.assert_array_equal(labels, images[:, 0, 0, 0] + 256 * images[:, 0, 0, 1].astype(int))
    assert sorted(labels) == list(range(300))
    # The reader decodes the same labels.
    dataset = datasets.custom(str(tmp_path / 'out'))
    assert (dataset.label_width, dataset.num_classes, dataset.crop_size) == (2, 300, 6)
    with tf.Graph().as_default():
        batch_images, batch_labels, count = cifar10_input.inputs(
            'test', dataset.folder(str(tmp_path / 'out')), 300, dataset)
        with tf1.Session() as sess:
            sess.run(tf1.local_variables_initializer())
            coord = tf1.train.Coordinator()
            threads = tf1.train.start_queue_runners(sess, coord)
            got_images, got = sess.run([batch_images, batch_labels])
            coord.request_stop()
            coord.join(threads)
    assert count == 300 and got_images.shape == (300, 6, 6, 3)
    np.testing.assert_array_equal(got, labels)


@pytest.mark.parametrize('argv, message', [
    (['--image_size=4'], '--image_size: expected an integer from 8 to 512, got 4'),
    (['--test_fraction=0'], '--test_fraction: expected a number between 0 and 1'),
    (['--resize=zoom'], "--resize: invalid choice: 'zoom'"),
    (['--classes=a,,b'], '--classes: expected distinct comma-separated'),
    ([], 'the following arguments are required: --out'),
])
def test_bad_flags_are_one_line_usage_errors(argv, message, tmp_path, capsys):
    out = [] if not argv else ['--out', str(tmp_path / 'o')]
    with pytest.raises(SystemExit) as exit_info:
        cifar10_convert_images.parse_args([str(tmp_path), *out, *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.splitlines()[-1]


def test_an_image_folder_as_data_dir_gets_a_hint_that_works(tmp_path):
    images = tmp_path / 'shapes'
    _make_folders(str(images), count=6)
    with pytest.raises(DataError) as e:
        datasets.custom(str(images))
    out = f'{images}_dataset'
    assert str(e.value) == (
        f'{images}: no dataset.json, so not a converted data set; if it holds your image '
        f'folders, convert them first with "python cifar10/cifar10_convert_images.py '
        f'{images} --out {out}" and pass --data_dir={out}')
    # The command, pasted (from the repository root), makes the data set.
    command = re.search(r'"python (\S+) (.*)"', str(e.value))
    assert os.path.isfile(os.path.join(REPO, command.group(1)))
    assert _convert(*command.group(2).split()) == 0
    assert datasets.custom(out).num_classes == 3


def test_manifest_problems_are_one_line(tmp_path):
    with pytest.raises(DataError, match=r'no dataset.json, so not a converted data set; '
                                        r'convert your image folders first'):
        datasets.custom(str(tmp_path))
    (tmp_path / 'dataset.json').write_text('{"format": "cifar10-custom-images"')
    with pytest.raises(DataError, match='cannot be read'):
        datasets.custom(str(tmp_path))
    (tmp_path / 'dataset.json').write_text('{"format": "something else"}')
    with pytest.raises(DataError, match='not a manifest this version reads'):
        datasets.custom(str(tmp_path))


# --- --dataset=custom in every script ---------------------------------------

@pytest.fixture(scope='module')
def custom48(tmp_path_factory):
    """A converted data set of 48x48 images (3 classes, mixed formats and
    sizes), and a model trained on it for a few steps."""
    root = tmp_path_factory.mktemp('custom48')
    src = root / 'src'
    writers = (_png, bmp_bytes, _jpeg)
    for label, name in enumerate(('red', 'green', 'blue')):
        for i in range(40):
            size = (48, 48) if i % 2 else (60 + i, 50)
            image = _class_image(label, seed=1000 * label + i, height=size[0],
                                 width=size[1])
            _write(str(src / name / f'{i}.img'), writers[i % 3](image))
    data = root / 'data'
    result = run_in_process('cifar10_convert_images.py', str(src), '--out', str(data),
                            '--image_size=48', '--test_fraction=0.25')
    assert result.returncode == 0, result.stderr
    train_dir = root / 'train'
    # Five steps: at batch 16 and the recipe's learning rate, this larger
    # model's loss jumps past 20, or training diverges, in about 1 of 15
    # runs of 30 steps (with either allocator, either precision; see
    # docs/tests.md); in 80 runs of five steps it stayed under 12.
    result = run_in_process('cifar10_train.py', '--dataset=custom', f'--data_dir={data}',
                            f'--train_dir={train_dir}', '--max_steps=5',
                            '--log_frequency=1', *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stderr
    return src, data, train_dir, result.stdout.splitlines()


@pytest.mark.slow
def test_custom_data_trains_at_image_size_48(custom48):
    _, data, train_dir, lines = custom48
    assert lines[0] == (f'Training the tutorial model (2,172,867 parameters, 36x36 '
                        f'crops) on custom in {data} (3 classes, 48x48 images).')
    assert lines[1].startswith('CPU kernels: ')
    lines = lines[:1] + lines[2:]
    assert lines[1] == ('Training input: queue runners (FixedLengthRecordReader, a '
                        'batch at a time, shuffle queue).')
    assert lines[2].startswith('Filling queue with 0 custom images')
    losses = [float(line.split('loss = ')[1].split()[0]) for line in lines
              if 'loss = ' in line]
    # Finite and of the right size (three classes' cross entropy and the
    # weight decay of the larger local3); a few steps at the recipe's
    # learning rate are too noisy to show learning on these images.
    assert len(losses) == 4 and all(1.0 < loss < 20.0 for loss in losses), losses
    assert lines[-1].startswith('Stopped at step 5 (reached --max_steps=5)')
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(train_dir)))
    # 48x48 images, 36x36 crops, pooled twice to 9x9x64.
    assert reader.get_variable_to_shape_map()['local3/weights'] == [9 * 9 * 64, 384]
    assert reader.get_variable_to_shape_map()['softmax_linear/biases'] == [3]


@pytest.mark.slow
def test_custom_eval_counts_exactly_the_test_records(custom48, tmp_path, capsys):
    _, data, train_dir, _ = custom48
    args = cifar10_eval.parse_args([
        '--dataset=custom', f'--data_dir={data}', f'--checkpoint_dir={train_dir}',
        f'--eval_dir={tmp_path}', '--run_once', '--batch_size=16'])
    assert cifar10_eval.evaluate(args) == 0
    out = capsys.readouterr()
    assert 'warning' not in out.err
    lines = out.out.splitlines()
    assert lines.pop(0) == ('Evaluation input: queue runners (FixedLengthRecordReader, '
                            'files in order).')
    assert lines[0] == ('Evaluating the tutorial model (2,172,867 parameters, 36x36 '
                        f'crops) on custom in {data} (3 classes, 48x48 images), test data.')
    assert lines.pop(1).startswith('CPU kernels: ')
    table = {line.split()[0]: line.split() for line in lines[3:7]}
    assert [int(table[c][3]) for c in ('red', 'green', 'blue')] == [10, 10, 10]
    assert table['all'][2] == '30'
    precision = float(lines[1].split('= ')[1])
    # The numpy reference computes the same on the same records.
    sys.path.insert(0, os.path.join(REPO, 'scripts'))
    try:
        import reference_eval
    finally:
        sys.path.pop(0)
    dataset = datasets.custom(str(data))
    reference, count = reference_eval.precision(
        tf.train.latest_checkpoint(str(train_dir)), [str(data / 'test_batch.bin')],
        None, dataset)
    assert count == 30 and abs(reference - precision) <= 0.0005


@pytest.mark.slow
def test_custom_predict_on_a_folder_and_export(custom48, tmp_path):
    src, data, train_dir, _ = custom48
    photos = tmp_path / 'photos'
    big = _class_image(1, seed=5, height=300, width=200)
    _write(str(photos / 'garden' / 'leaf.jpg'), _jpeg(big))
    _write(str(photos / 'sky.png'), _png(_class_image(2, seed=6, height=48, width=48)))
    _write(str(photos / 'broken.png'), b'\x89PNG\r\n\x1a\nrest is missing')
    _write(str(photos / '.hidden.png'), b'skipped')
    _write(str(photos / 'notes.txt'), b'skipped too')
    result = run_in_process('cifar10_predict.py', '--dataset=custom', f'--data_dir={data}',
                            f'--checkpoint_dir={train_dir}', '--json', '--top_k=2',
                            str(photos), str(src / 'red' / '1.img'))
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith(
        f'error: {photos / "broken.png"}: damaged or truncated PNG (')
    out = json.loads(result.stdout)
    assert [r['input'] for r in out['results']] == [
        str(photos / 'garden' / 'leaf.jpg'), str(photos / 'sky.png'),
        str(src / 'red' / '1.img')]
    for r in out['results']:
        assert len(r['predictions']) == 2
        assert {p['class'] for p in r['predictions']} <= {'red', 'green', 'blue'}
    assert out['errors'][0]['input'] == str(photos / 'broken.png')
    # The folder's images are resized as the converter resized them.
    dataset = datasets.custom(str(data))
    probs = cifar10_predict.classify(
        np.stack([image_files.load_image(str(photos / 'garden' / 'leaf.jpg'), 48,
                                         'crop').astype(np.float32)]),
        tf.train.latest_checkpoint(str(train_dir)),
        cifar10.Network(num_classes=3, image_size=36))
    top = out['results'][0]['predictions'][0]
    assert top['probability'] == pytest.approx(float(probs.max()), abs=1e-6)

    dest = cifar10_export.export(tf.train.latest_checkpoint(str(train_dir)),
                                 str(tmp_path / 'export'),
                                 cifar10.Network(num_classes=3, image_size=36),
                                 dataset.class_names, dataset.image_size)
    with tf.Graph().as_default(), tf1.Session() as sess:
        meta = tf1.saved_model.loader.load(sess, ['serve'], dest)
        inputs = meta.signature_def['serving_default'].inputs
        assert [d.size for d in inputs['images'].tensor_shape.dim] == [-1, 48, 48, 3]


@pytest.mark.slow
def test_custom_checkpoint_of_another_size_or_class_count_is_refused(custom48, tmp_path):
    src, data, train_dir, _ = custom48
    # The same images at 32x32: same classes, another image size.
    other = tmp_path / 'at32'
    assert _convert(src, '--out', other, '--test_fraction=0.25') == 0
    result = run_in_process('cifar10_eval.py', '--dataset=custom', f'--data_dir={other}',
                            f'--checkpoint_dir={train_dir}', f'--eval_dir={tmp_path}',
                            '--run_once')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].endswith(
        'was trained on crops of 33-36 pixels, but this run builds the network '
        "for crops of 21-24 (its --dataset's image size); pass the data set it "
        'was trained on')
    # Two of the classes: another class count.
    fewer = tmp_path / 'fewer'
    assert _convert(src, '--out', fewer, '--classes=red,blue', '--image_size=48') == 0
    result = run_in_process('cifar10_predict.py', '--dataset=custom', f'--data_dir={fewer}',
                            f'--checkpoint_dir={train_dir}', str(src / 'red' / '1.img'))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].endswith(
        'classifies into 3 classes, but this run has 2 (its --dataset); pass the '
        'data set it was trained on')


@pytest.mark.parametrize('damage, message', [
    ('truncate', 'data_batch_1.bin is cut short'),
    ('grow', 'data_batch_1.bin has 19,216 bytes, dataset.json says 18,015'),
    ('remove', 'data_batch_1.bin is missing'),
])
def test_custom_files_are_checked_against_the_manifest(tmp_path, damage, message):
    src, data = tmp_path / 'src', tmp_path / 'data'
    _make_folders(str(src), count=6, size=20)
    assert _convert(src, '--out', data, '--image_size=20') == 0
    path = data / 'data_batch_1.bin'
    if damage == 'truncate':
        path.write_bytes(path.read_bytes()[:-5])
    elif damage == 'grow':
        path.write_bytes(path.read_bytes() + b'\0' * 1201)  # one record more
    else:
        path.unlink()
    args = cifar10_train.parse_args(['--dataset=custom', f'--data_dir={data}',
                                     f'--train_dir={tmp_path / "train"}',
                                     '--max_steps=1'])
    with pytest.raises(DataError) as error:
        cifar10_train.train(args)
    line = str(error.value)
    assert '\n' not in line and message in line
    assert 'convert your images again' in line
    assert not (tmp_path / 'train').exists()


def test_odd_names_links_and_half_layouts(tmp_path, capsys):
    src = tmp_path / 'src'
    _make_folders(str(src), classes=('a', 'b'), count=5)
    # A folder and a file whose names are not UTF-8.
    odd = os.fsencode(str(src)) + b'/caf\xe9'
    os.makedirs(odd)
    for i in range(5):
        with open(odd + b'/x\xff%d.png' % i, 'wb') as f:
            f.write(_png(_class_image(2, seed=70 + i)))
    # A link to nowhere, named as an image: named as unreadable.
    os.symlink(str(tmp_path / 'gone.png'), src / 'a' / 'link.png')
    assert _convert(src, '--out', tmp_path / 'out', '--test_fraction=0.2') == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f'error: {src / "a" / "link.png"}: No such file or directory'
    assert _convert(src, '--out', tmp_path / 'out', '--test_fraction=0.2',
                    '--skip_bad') == 0
    manifest = _manifest(tmp_path / 'out')
    assert manifest['classes'] == ['a', 'b', 'caf\ufffd']
    assert (tmp_path / 'out' / 'classes.txt').read_text(encoding='utf-8') == 'a\nb\ncaf\ufffd\n'
    assert manifest['counts'] == {'train': 12, 'test': 3}
    # train/ without test/ is a class folder named train, with a hint.
    half = tmp_path / 'half'
    _make_folders(str(half / 'train'), classes=('a', 'b'), count=2)
    assert _convert(half, '--out', tmp_path / 'out2') == 1
    assert ('a classifier needs at least 2, one folder of images per class '
            '(train/ without test/: the split layout needs both)') in capsys.readouterr().err


def test_progress_shows_each_count_once():
    """The converter's progress: the end, reported by the decoding loop and
    again when decoding is done, is one line, not two."""
    import io
    out = io.StringIO()
    progress = image_files.Progress(10, out, quiet_secs=0.0, every_secs=0.0)
    for done in (4, 10, 10):
        progress(done)
    lines = out.getvalue().splitlines()
    assert [line.split(' (')[0] for line in lines] == ['4 of 10 images', '10 of 10 images']
