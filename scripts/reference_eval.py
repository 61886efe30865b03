#!/usr/bin/env python3
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
"""An independent check of cifar10_eval.py: the same evaluation in numpy.

Reads a checkpoint's moving-average weights and the binary test records
directly, runs the network's forward pass in float64 numpy (no TensorFlow
ops; the tutorial model or, told by the checkpoint's shapes, the locally
connected one), and prints precision @ 1 over the first --num_examples
records (10,000 by default; every test record of a custom data set):

    python scripts/reference_eval.py --checkpoint_dir /tmp/cifar10_train
    python scripts/reference_eval.py --dataset=custom --data_dir=DIR ...

Any --dataset works: the record layout (label bytes, image size) is the
data set's, and the crop is 3/4 of its image size, centred, as evaluation's.

TensorFlow is used only to read the checkpoint file (and the framing and
Example protos of TFRecord files); the data files are checked with the
package's own validation (cifar10_input) before reading.
"""

import argparse
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_averaged_weights(checkpoint_path):
    """Returns {'conv1/weights': array, ...} from the averaged (shadow) values."""
    import tensorflow as tf
    reader = tf.train.load_checkpoint(checkpoint_path)
    weights = {}
    for layer in ('conv1', 'conv2', 'local3', 'local4', 'softmax_linear'):
        for kind in ('weights', 'biases'):
            name = f'{layer}/{kind}'
            weights[name] = reader.get_tensor(
                name + '/ExponentialMovingAverage').astype(np.float64)
    return weights


def read_records(paths, limit, dataset):
    """Returns (images [n,S,S,3] uint8, labels [n]) of the first records."""
    size = dataset.image_size
    if dataset.record_format == 'tfrecord':
        # TensorFlow reads the files' framing and the Example protos only.
        import tensorflow as tf
        images, labels = [], []
        for path in paths:
            for serialized in tf.compat.v1.io.tf_record_iterator(path):
                feature = tf.train.Example.FromString(serialized).features.feature
                images.append(np.frombuffer(feature['image_raw'].bytes_list.value[0],
                                            np.uint8).reshape(size, size, 3))
                labels.append(feature['label'].int64_list.value[0])
        return np.stack(images)[:limit], np.array(labels, np.int64)[:limit]
    records = np.concatenate([np.fromfile(p, np.uint8).reshape(-1, dataset.record_bytes)
                              for p in paths])[:limit]
    images = records[:, dataset.label_bytes:].reshape(-1, 3, size, size).transpose(0, 2, 3, 1)
    labels = records[:, dataset.label_byte].astype(np.int64)
    if dataset.label_width == 2:
        labels = labels * 256 + records[:, dataset.label_byte + 1]
    return images, labels


def preprocess(images, crop):
    """Central crop (24x24 of 32x32) and per-image standardization."""
    start = (images.shape[1] - crop) // 2
    x = images[:, start:start + crop, start:start + crop, :].astype(np.float64)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = np.maximum(x.std(axis=(1, 2, 3), keepdims=True), 1.0 / np.sqrt(crop * crop * 3))
    return (x - mean) / std


def conv_same(x, kernel, bias):
    """5x5 stride-1 SAME convolution, bias and ReLU."""
    k = kernel.shape[0]
    pad = k // 2
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))
    out = np.einsum('nhwcij,ijco->nhwo', windows, kernel, optimize=True)
    return np.maximum(out + bias, 0.0)


def max_pool_same(x):
    """3x3 max pooling, stride 2, SAME padding (extra padding at the end)."""
    n, h, w, c = x.shape
    out_h, out_w = -(-h // 2), -(-w // 2)
    pad_h = max((out_h - 1) * 2 + 3 - h, 0)
    pad_w = max((out_w - 1) * 2 + 3 - w, 0)
    padded = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2),
                        (pad_w // 2, pad_w - pad_w // 2), (0, 0)),
                    constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    return windows[:, ::2, ::2].max(axis=(-2, -1))[:, :out_h, :out_w]


def lrn(x, radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75):
    """Local response normalization across channels."""
    sq = np.pad(x * x, ((0, 0), (0, 0), (0, 0), (radius, radius)))
    sums = sum(sq[..., i:i + x.shape[-1]] for i in range(2 * radius + 1))
    return x / (bias + alpha * sums) ** beta


def locally_connected(x, weights, bias):
    """3x3 locally connected layer (zero padding 1, stride 1), bias, ReLU.

    weights: [H, W, 3, 3, in, out], one filter per output position.
    """
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    # [n, H, W, in, 3, 3]: each position's window.
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    out = np.einsum('nijcab,ijabco->nijo', windows, weights, optimize=True)
    return np.maximum(out + bias, 0.0)


def logits(x, w):
    """The network's forward pass: the tutorial model, or the locally
    connected one (--model=local) when local3's weights say so."""
    x = conv_same(x, w['conv1/weights'], w['conv1/biases'])
    x = lrn(max_pool_same(x))
    x = conv_same(x, w['conv2/weights'], w['conv2/biases'])
    x = max_pool_same(lrn(x))
    if w['local3/weights'].ndim == 6:
        x = locally_connected(x, w['local3/weights'], w['local3/biases'])
        x = locally_connected(x, w['local4/weights'], w['local4/biases'])
        return x.reshape(len(x), -1) @ w['softmax_linear/weights'] + w['softmax_linear/biases']
    x = x.reshape(len(x), -1)
    x = np.maximum(x @ w['local3/weights'] + w['local3/biases'], 0.0)
    x = np.maximum(x @ w['local4/weights'] + w['local4/biases'], 0.0)
    return x @ w['softmax_linear/weights'] + w['softmax_linear/biases']


def precision(checkpoint_path, paths, num_examples, dataset=None, chunk=500):
    """Returns (precision @ 1, examples) over the first num_examples records
    of the files of ``dataset`` (a datasets.Dataset; None for CIFAR-10)."""
    if dataset is None:
        from cifar10.data import datasets
        dataset = datasets.CIFAR10
    weights = load_averaged_weights(checkpoint_path)
    images, labels = read_records(paths, num_examples, dataset)
    crop = dataset.image_size * 3 // 4
    correct = 0
    for start in range(0, len(labels), chunk):
        out = logits(preprocess(images[start:start + chunk], crop), weights)
        correct += int(np.sum(out.argmax(axis=1) == labels[start:start + chunk]))
    return correct / len(labels), len(labels)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint_dir', default='/tmp/cifar10_train')
    parser.add_argument('--checkpoint', help='checkpoint prefix (default: newest)')
    parser.add_argument('--data_dir', default='/tmp/cifar10_data')
    parser.add_argument('--eval_data', default='test', choices=('test', 'train_eval'))
    parser.add_argument('--dataset', default='cifar10',
                        choices=('cifar10', 'cifar100', 'svhn', 'custom'))
    parser.add_argument('--cifar100_label', default='fine', choices=('fine', 'coarse'))
    parser.add_argument('--num_examples', type=int, default=None)
    args = parser.parse_args(argv)
    if args.num_examples is not None and args.num_examples <= 0:
        parser.error(f'--num_examples must be > 0, got {args.num_examples}')
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    import tensorflow as tf
    path = args.checkpoint or tf.train.latest_checkpoint(args.checkpoint_dir)
    if not path:
        sys.exit(f'error: no checkpoint found in {args.checkpoint_dir}')
    sys.path.insert(0, REPO)
    from cifar10.data import datasets
    from cifar10.data import record_files
    from cifar10.runtime.errors import DataError
    try:
        dataset = datasets.get(args.dataset, args.cifar100_label, args.data_dir)
        paths = record_files.eval_filenames(
            args.eval_data, dataset.folder(args.data_dir), dataset)
        num_records = record_files.validate_data_files(paths, dataset)
    except DataError as e:
        sys.exit(f'error: {e}')
    num_examples = args.num_examples or (
        num_records if args.dataset == 'custom' else 10000)
    try:
        value, count = precision(path, paths, num_examples, dataset)
    except (tf.errors.OpError, KeyError, ValueError) as e:
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        sys.exit(f'error: cannot evaluate {path}: {message}')
    print(f'{path}: reference precision @ 1 = {value:.4f} over {count} examples')


if __name__ == '__main__':
    main()
