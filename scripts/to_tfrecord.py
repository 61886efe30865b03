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
"""Writes any data set the project reads as TFRecord files.

    python scripts/to_tfrecord.py --dataset=cifar10 --data_dir=/tmp/cifar10_data --out=/tmp/cifar10_tfrecord
    python cifar10/cifar10_train.py --dataset=custom --data_dir=/tmp/cifar10_tfrecord --input_pipeline=tf_data

Reads the training and test records of --dataset (cifar10, cifar100, svhn,
or a custom data set of fixed-length records) and writes them, with the
same split, classes and image size, as shards of about 1,000
tf.train.Example records (SPEC's keys: image_raw, label, height, width),
with the converter's dataset.json (listing each shard with its SHA-256)
and classes.txt: a custom data set in TFRecord format, which both input
pipelines read with --dataset=custom. The records are written in an order
shuffled with --seed, all or nothing, through a temporary folder.
"""

import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', default='cifar10',
                        choices=('cifar10', 'cifar100', 'svhn', 'custom'))
    parser.add_argument('--cifar100_label', default='fine', choices=('fine', 'coarse'))
    parser.add_argument('--data_dir', default='/tmp/cifar10_data')
    parser.add_argument('--out', required=True, help='Folder to write.')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true')
    args = parser.parse_args(argv)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    sys.path.insert(0, REPO)
    from cifar10.runtime.cli import import_tensorflow_quietly
    import_tensorflow_quietly()
    import numpy as np
    from cifar10.data import datasets
    from cifar10.data import image_folders
    from cifar10.data import record_files
    from cifar10.runtime.errors import DataError

    try:
        dataset = datasets.get(args.dataset, args.cifar100_label, args.data_dir)
        if dataset.record_format != 'fixed':
            raise DataError(f'{args.data_dir} holds TFRecords already')
        folder = dataset.folder(args.data_dir)
        size = dataset.image_size
        images, labels, splits = [], [], {}
        for split, eval_data in (('train', 'train_eval'), ('test', 'test')):
            paths = record_files.eval_filenames(eval_data, folder, dataset)
            record_files.validate_data_files(paths, dataset)
            start = sum(len(x) for x in labels)
            for path in paths:
                data = np.fromfile(path, np.uint8).reshape(-1, dataset.record_bytes)
                label = data[:, dataset.label_byte].astype(np.int64)
                if dataset.label_width == 2:
                    label = label * 256 + data[:, dataset.label_byte + 1]
                images.append(data[:, dataset.label_bytes:]
                              .reshape(-1, 3, size, size).transpose(0, 2, 3, 1))
                labels.append(label)
            end = sum(len(x) for x in labels)
            splits[split] = list(range(start, end))
        names = dataset.class_names_in(folder)
        manifest = image_folders.write_dataset(
            args.out, np.concatenate(images), np.concatenate(labels), splits,
            names, {'options': {'source': os.path.abspath(folder),
                                'dataset': dataset.describe(),
                                'resize': dataset.resize, 'seed': args.seed,
                                'format': 'tfrecord'},
                    'skipped': [], 'other_files': []},
            overwrite=args.overwrite, seed=args.seed, record_format='tfrecord')
    except DataError as e:
        sys.exit(f'error: {e}')
    files = manifest['files']
    print(f'Wrote {os.path.abspath(args.out)}: {manifest["counts"]["train"]:,} training '
          f'records in {len(files["train"])} shards and {manifest["counts"]["test"]:,} '
          f'test records in {len(files["test"])} shards of {dataset.describe()}; '
          f'train on it with --dataset=custom --data_dir={os.path.abspath(args.out)}')


if __name__ == '__main__':
    main()
