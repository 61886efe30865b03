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
"""Sums the op times of Chrome traces that the trainers wrote.

    python cifar10/cifar10_train.py --trace_step=300 --max_steps=300 --train_dir=/tmp/t32
    python scripts/trace_summary.py /tmp/t32/timeline-step-300.json [more traces]

For each trace (``--trace_step`` writes one step's), prints the total op
time and the ops that took most of it, grouped by op type and by layer
(the op's name without any tower_N/ prefix or gradient scope), in ms.
Durations are as the trace records them: with two towers on two cores,
ops overlap, so the total is more than the step's wall time.
"""

import argparse
import collections
import json
import re
import sys


def _layer(name):
    """'tower_1/gradients/tower_1/conv2/Conv2D_grad/Conv2DBackpropFilter' ->
    'conv2'; names outside the layers are kept whole."""
    name = re.sub(r'tower_\d+/', '', name)
    parts = name.split('/')
    if parts[0] == 'gradients':
        parts = parts[1:]
    for layer in ('conv1', 'pool1', 'norm1', 'conv2', 'norm2', 'pool2',
                  'local3', 'local4', 'softmax_linear'):
        if parts and parts[0].startswith(layer):
            return layer
    return parts[0] if parts else name


def summarize(path):
    """Returns ({op type: ms}, {layer: ms}) of one trace."""
    with open(path, encoding='utf-8') as f:
        trace = json.load(f)
    by_op, by_layer = collections.Counter(), collections.Counter()
    for event in trace.get('traceEvents', []):
        if event.get('ph') != 'X':
            continue
        args = event.get('args', {})
        op = args.get('op', event.get('name', '?'))
        name = args.get('name', event.get('name', ''))
        ms = event.get('dur', 0) / 1000.0
        by_op[op] += ms
        by_layer[_layer(name)] += ms
    return by_op, by_layer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('traces', nargs='+', help='timeline-step-N.json files')
    parser.add_argument('--top', type=int, default=15)
    args = parser.parse_args(argv)
    for path in args.traces:
        try:
            by_op, by_layer = summarize(path)
        except (OSError, ValueError) as e:
            sys.exit(f'error: {path}: {e}')
        print(f'{path}: {sum(by_op.values()):.1f} ms of op time')
        for op, ms in by_op.most_common(args.top):
            print(f'  {ms:7.2f}  {op}')
        print('  by layer: ' + ', '.join(f'{layer} {ms:.1f}'
                                         for layer, ms in by_layer.most_common(args.top)))


if __name__ == '__main__':
    main()
