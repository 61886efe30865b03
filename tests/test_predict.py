"""Tests of cifar10_predict.py and cifar10_export.py."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_eval
from cifar10 import cifar10_export
from cifar10 import cifar10_predict
from cifar10.metrics import scores

from conftest import (TIMEOUT_SECS, known_env, run_in_process, run_script,
                      write_random_checkpoint)
from image_writers import exif_jpeg, gif_frames_bytes, lzw_solid, png_header_only

tf1 = tf.compat.v1


@pytest.fixture(scope='module')
def checkpoint_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt')
    write_random_checkpoint(path, step=42, seed=0)
    return path


@pytest.fixture(scope='module')
def image_files(synthetic_data, tmp_path_factory):
    """The first test records written as PNG and JPEG, plus odd files."""
    _, images, _ = synthetic_data[1]['test_batch.bin']
    folder = tmp_path_factory.mktemp('images')
    files = {}
    for i in range(4):
        files[f'png{i}'] = folder / f'record{i}.png'
        files[f'png{i}'].write_bytes(tf.io.encode_png(images[i]).numpy())
    files['jpeg'] = folder / 'record0.jpg'
    files['jpeg'].write_bytes(tf.io.encode_jpeg(images[0], quality=90).numpy())
    big = np.kron(images[1], np.ones((3, 2, 1), np.uint8))  # 96x64
    files['big'] = folder / 'big.png'
    files['big'].write_bytes(tf.io.encode_png(big).numpy())
    grey = images[2].mean(axis=2, keepdims=True).astype(np.uint8)
    files['grey'] = folder / 'grey.png'
    files['grey'].write_bytes(tf.io.encode_png(grey).numpy())
    files['text'] = folder / 'notes.png'
    files['text'].write_text('not an image')
    return files


def test_predictions_are_normalized():
    with tf.Graph().as_default():
        tf1.set_random_seed(1)
        raw = tf.random.uniform([5, 32, 32, 3], 0, 255)
        probabilities, classes = cifar10.predictions(raw)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            probs, cls = sess.run([probabilities, classes])
    assert probs.shape == (5, 10) and np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(cls, probs.argmax(axis=1))


@pytest.mark.slow
def test_predict_files_and_records(checkpoint_dir, image_files, data_dir):
    record_file = os.path.join(data_dir, 'cifar-10-batches-bin', 'test_batch.bin')
    # As a process: nothing on its stderr, TensorFlow's lines included.
    result = run_script('cifar10_predict.py', f'--checkpoint_dir={checkpoint_dir}',
                        f'--data_dir={data_dir}', '--json', '--top_k=10',
                        str(image_files['png0']), str(image_files['png1']),
                        str(image_files['jpeg']), str(image_files['big']),
                        str(image_files['grey']), f'{record_file}:0-19')
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    out = json.loads(result.stdout)
    assert out['checkpoint'].endswith('model.ckpt-42') and out['errors'] == []
    results = out['results']
    assert [r['input'] for r in results][5:] == [f'{record_file}:{i}' for i in range(20)]
    for r in results:
        probs = [p['probability'] for p in r['predictions']]
        assert len(probs) == 10 and probs == sorted(probs, reverse=True)
        assert sum(probs) == pytest.approx(1.0, abs=1e-5)
    assert [r['label'] for r in results[5:]] == [cifar10.cifar10_input.CLASS_NAMES[i % 10]
                                                 for i in range(20)]

    def by_class(r):
        return {p['class']: p['probability'] for p in r['predictions']}
    # A lossless PNG of a record is classified exactly as the record itself.
    for png, record in ((results[0], results[5]), (results[1], results[6])):
        for name, prob in by_class(record).items():
            assert by_class(png)[name] == pytest.approx(prob, abs=1e-6)
    # Weights are random: the images do not all get the same answer.
    assert len({r['predictions'][0]['class'] for r in results}) > 1


def test_predict_text_output_and_bad_files(checkpoint_dir, image_files, data_dir, tmp_path):
    record_file = os.path.join(data_dir, 'cifar-10-batches-bin', 'test_batch.bin')
    missing = tmp_path / 'missing.png'
    result = run_in_process('cifar10_predict.py', f'--checkpoint_dir={checkpoint_dir}',
                            f'--data_dir={data_dir}', str(image_files['text']),
                            str(image_files['png0']), str(missing), f'{record_file}:10000')
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'error: {image_files["text"]}: not a JPEG, PNG, BMP or GIF image',
        f'error: {missing}: No such file or directory',
        f'error: {record_file}: record 10000 not within 0-9999']
    lines = result.stdout.splitlines()
    assert lines[0].startswith('Classifying with the tutorial model (1,068,298 '
                               'parameters) for CIFAR-10 (10 classes), '
                               f'{checkpoint_dir}')
    assert lines[0].endswith(':')
    assert len(lines) == 2 and lines[1].startswith(f'{image_files["png0"]}: ')
    assert len(lines[1].split(', ')) == 3  # top 3 by default


def test_predict_refuses_large_images_and_turns_photos_upright(checkpoint_dir, image_files,
                                                               data_dir, tmp_path):
    bomb = tmp_path / 'bomb.png'
    bomb.write_bytes(png_header_only(20000, 20000))
    # A JPEG stored turned counter-clockwise, tagged to be turned back:
    # classified as the upright JPEG is.
    upright = tf.io.decode_jpeg(image_files['jpeg'].read_bytes()).numpy()
    turned = tmp_path / 'turned.jpg'
    turned.write_bytes(exif_jpeg(tf.io.encode_jpeg(np.rot90(upright, 1), quality=100)
                                 .numpy(), 6))
    plain = tmp_path / 'plain.jpg'
    plain.write_bytes(tf.io.encode_jpeg(upright, quality=100).numpy())
    untagged = tmp_path / 'untagged.jpg'
    untagged.write_bytes(tf.io.encode_jpeg(np.rot90(upright, 1), quality=100).numpy())
    # GIFs: a frame far larger than its screen (its data holds 5 pixels: it
    # is refused unread), a cut one, and a huge screen with a small frame.
    frame_bomb = tmp_path / 'frame.gif'
    frame_bomb.write_bytes(gif_frames_bytes((16, 16), [(46000, 46000, lzw_solid(5))]))
    cut = tmp_path / 'cut.gif'
    cut.write_bytes(gif_frames_bytes((8, 8), [(8, 8)])[:-1])
    screen = tmp_path / 'screen.gif'
    screen.write_bytes(gif_frames_bytes((40000, 40000), [(1, 1)]))
    result = run_in_process('cifar10_predict.py', f'--checkpoint_dir={checkpoint_dir}',
                            f'--data_dir={data_dir}', '--json', '--top_k=10', str(bomb),
                            str(frame_bomb), str(cut), str(turned), str(plain),
                            str(untagged), str(screen))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'error: {bomb}: 20,000 x 20,000 pixels is above the limit of 50,000,000 '
        '(--max_image_pixels raises it); not decoded',
        f'error: {frame_bomb}: 46,000 x 46,000 pixels (GIF frame 1) is above the limit '
        'of 50,000,000 (--max_image_pixels raises it); not decoded',
        f'error: {cut}: damaged or truncated GIF (it ends after frame 1, without its '
        'trailer)']
    results = json.loads(result.stdout)['results']
    assert [r['input'] for r in results] == [str(turned), str(plain), str(untagged),
                                             str(screen)]
    turned_result, plain_result, untagged_result = [
        {p['class']: p['probability'] for p in r['predictions']}
        for r in results[:3]]
    assert turned_result.keys() == plain_result.keys()
    for name, probability in plain_result.items():
        assert abs(turned_result[name] - probability) < 0.01, name
    # Without its tag the same pixels are classified otherwise.
    assert max(abs(untagged_result[name] - p) for name, p in plain_result.items()) > 0.02
    # The limit is a flag; a limit of 0 is a usage error.
    result = run_in_process('cifar10_predict.py', f'--checkpoint_dir={checkpoint_dir}',
                            f'--data_dir={data_dir}', '--max_image_pixels=100',
                            str(plain))
    assert result.returncode == 1
    assert result.stderr.strip() == (f'error: {plain}: 32 x 32 pixels is above the limit '
                                     'of 100 (--max_image_pixels raises it); not decoded')
    result = run_in_process('cifar10_predict.py', '--max_image_pixels=0', str(plain))
    assert result.returncode == 2 and '--max_image_pixels' in result.stderr


def test_predict_without_checkpoint(tmp_path, image_files):
    result = run_in_process('cifar10_predict.py', f'--checkpoint_dir={tmp_path}',
                            str(image_files['png0']))
    assert result.returncode == 1
    assert result.stderr.strip() == f'error: no checkpoint found in {tmp_path}'


def test_predict_agrees_with_evaluation(checkpoint_dir, synthetic_data, tmp_path):
    data_dir, contents = synthetic_data
    labels, images, _ = contents['test_batch.bin']
    ckpt = tf1.train.latest_checkpoint(str(checkpoint_dir))
    probabilities = cifar10_predict.classify(images[:200].astype(np.float32), ckpt)
    expected = scores.confusion_matrix(labels[:200], probabilities.argmax(axis=1))
    evaluator = cifar10_eval.Evaluator('test', data_dir, 64, 200, str(tmp_path))
    try:
        result = evaluator.evaluate(ckpt)
    finally:
        evaluator.close()
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.global_step == 42


@pytest.mark.slow
def test_export_loads_in_fresh_process_and_matches_predict(checkpoint_dir, synthetic_data,
                                                           tmp_path):
    _, images, _ = synthetic_data[1]['test_batch.bin']
    result = run_in_process('cifar10_export.py', f'--checkpoint_dir={checkpoint_dir}',
                            f'--export_dir={tmp_path / "model"}')
    assert result.returncode == 0, result.stderr
    export_dir = tmp_path / 'model' / '42'
    assert f'Exported {export_dir}' in result.stdout
    assert sorted(os.listdir(tmp_path / 'model')) == ['42']
    np.save(tmp_path / 'images.npy', images[:6])
    code = (
        'import json, sys, numpy as np, tensorflow as tf\n'
        f'model = tf.saved_model.load({str(export_dir)!r})\n'
        'serve = model.signatures["serving_default"]\n'
        f'out = serve(images=tf.constant(np.load({str(tmp_path / "images.npy")!r})))\n'
        'print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}))\n')
    loaded = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=TIMEOUT_SECS, env=known_env(TF_CPP_MIN_LOG_LEVEL='3'))
    assert loaded.returncode == 0, loaded.stderr
    served = json.loads(loaded.stdout.strip().splitlines()[-1])
    ckpt = tf1.train.latest_checkpoint(str(checkpoint_dir))
    expected = cifar10_predict.classify(images[:6].astype(np.float32), ckpt)
    np.testing.assert_allclose(served['probabilities'], expected, atol=1e-6)
    assert served['classes'] == expected.argmax(axis=1).tolist()

    # A second export of the same step refuses to overwrite it.
    again = run_in_process('cifar10_export.py', f'--checkpoint_dir={checkpoint_dir}',
                           f'--export_dir={tmp_path / "model"}')
    assert again.returncode == 1
    assert again.stderr.strip() == (f'error: {export_dir} exists already; remove it or '
                                    'choose another --export_dir')


def test_export_signature(checkpoint_dir, tmp_path):
    ckpt = tf1.train.latest_checkpoint(str(checkpoint_dir))
    path = cifar10_export.export(ckpt, str(tmp_path))
    with tf.Graph().as_default():
        with tf1.Session() as sess:
            meta = tf1.saved_model.loader.load(sess, ['serve'], path)
    signature = meta.signature_def['serving_default']
    assert signature.method_name == 'tensorflow/serving/predict'
    assert set(signature.inputs) == {'images'}
    assert set(signature.outputs) == {'probabilities', 'classes'}
    assert signature.inputs['images'].dtype == tf.uint8.as_datatype_enum
    dims = [d.size for d in signature.inputs['images'].tensor_shape.dim]
    assert dims == [-1, 32, 32, 3]
