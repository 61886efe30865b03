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
"""Measures the speed and memory of the CIFAR-10 port and prints a table.

    python scripts/benchmark.py [--data_dir /tmp/cifar10_data] [--only input,model]

Rows (each measured in a fresh child process, medians over timed windows
after a warm-up):
  input   the training input pipeline alone: distorted images/sec, and the
          time from starting the queues to the first batch;
  bound   the machine's matrix-product rate (TensorFlow matmul of 2048 x
          2048, in float32 and, for mixed_bfloat16 settings, bfloat16; the
          best window, not the median: the most the machine does) and
          the bound it sets on training: no program can train faster than
          that rate in multiply-adds/sec over the multiply-adds of one
          training example (forward, filter gradients and input gradients,
          from the model's layer sizes); every training row (model,
          train, keras) then says its fraction of the bound of its
          precision, and the eval row its fraction of the forward
          pass's bound; one core's rate beside it (a child pinned to
          one core) shows whether other programs had the others;
  model   one training step alone on a constant in-memory batch, with the
          trainer's session settings: the ceiling for end-to-end training;
  train   end-to-end training through cifar10_train.py itself: examples/sec
          from its progress lines, wall time, peak memory, and the precision
          @ 1 of the checkpoint it wrote; with the model row too, the ratio
          to the model step measured just before and just after the run;
  keras   the same model and recipe written for Keras 3 and trained by
          model.fit (scripts/keras_reference.py), measured as the train row,
          one run per precision of --settings, alternating with the train
          row's runs (--rounds of them); the train rows then say their ratio
          to it: what a user would pick instead, on the same machine;
  eval    cifar10_eval.py --run_once on the checkpoint the train row wrote,
          against a stand-in for the original tutorial's evaluation
          (child_eval_original), in alternating runs: median wall time
          (TensorFlow start-up included), images/sec, peak memory.

Each row is measured for every training setting of --settings (input
pipeline / LRN gradient / batch splits / CPU allocator / precision, the
last two optional): by default the
trainer's own (queues/matmul/auto/bfc, auto being its default
--batch_splits) and the original tutorial's way (per_image/builtin/1/default:
TensorFlow's default allocator), so one run gives the ratio. The allocator
is chosen once per process: the model row, which times several settings in
one process, uses the first setting's.

--model picks the network every row trains and evaluates (the tutorial's,
or the locally connected one; the keras row has the tutorial's only, and a
run of all rows with --model=local leaves it out), and --dataset the data
(any the scripts read: with --dataset=custom, --data_dir is the
converter's output, and the model row's batch has its crop size and class
count). Without --data_dir,
synthetic CIFAR-10 files in the official record format are written to a
temporary folder (the figures are then about speed only).
Every row prints the command line that reproduces it.
"""

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = ('input', 'bound', 'model', 'train', 'keras', 'eval')
# Steps per progress line of the training rows (cifar10_train.py
# --log_frequency); their speed is the median of these windows.
TRAIN_WINDOW = 50
KERAS_WEIGHTS = 'keras.weights.h5'
# Images per batch of the keras row's evaluation: cifar10_eval.py's default
# --batch_size, with which the eval and train rows evaluate.
EVAL_BATCH_SIZE = 128


# ----------------------------------------------------------------------------
# Measurements run inside a child process (``--child NAME``); each prints
# one JSON line.

def _tf(scripts_kernels=True):
    """Imports TensorFlow in a child, with the CPU kernels the scripts run by
    default (--onednn: runtime/kernels.py) unless ``scripts_kernels`` is
    False: TensorFlow's own choice, as the original tutorial's code and a
    Keras user get."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    sys.path.insert(0, REPO)
    if scripts_kernels:
        from cifar10.runtime import kernels
        kernels.choose_before_tensorflow(argv=[])
    import tensorflow as tf
    tf.get_logger().setLevel('ERROR')
    return tf


def _dataset(args):
    """The --dataset of a child (it has imported the package)."""
    from cifar10.data import datasets
    return datasets.get(args.dataset, args.cifar100_label, args.data_dir)


def child_input(args):
    """Input pipeline alone: distorted images/sec and time to first batch."""
    tf = _tf()
    from cifar10 import cifar10
    from cifar10.runtime import session
    tf1 = tf.compat.v1
    with tf.Graph().as_default():
        with tf.device('/cpu:0'):
            images, labels = cifar10.distorted_inputs(
                args.data_dir, args.batch_size, dataset=_dataset(args),
                **_input_kwargs(args))
        with tf1.Session(config=session.session_config(**_session_kwargs(args))) as sess:
            coord = tf1.train.Coordinator()
            start = time.perf_counter()
            threads = tf1.train.start_queue_runners(sess=sess, coord=coord)
            sess.run([images, labels])
            first = time.perf_counter() - start
            rates = _windows(lambda: sess.run([images, labels]), args.batch_size,
                             warmup=20, steps=50, windows=args.windows)
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    return {'rate': statistics.median(rates), 'rates': rates, 'first_batch_s': first}


def child_model(args):
    """One training step on a constant batch: the model-only ceiling.

    The step is cifar10_train.py's (build_train_op). With several model
    settings (LRN gradient / batch splits) in --settings, each gets its own
    graph and session and their timed windows alternate, so that the ratio
    between them is not swayed by what else the machine does meanwhile.
    """
    tf = _tf()
    import numpy as np
    from cifar10 import cifar10
    from cifar10 import cifar10_train
    from cifar10.runtime import session
    tf1 = tf.compat.v1
    dataset = _dataset(args)
    crop = dataset.crop_size
    rng = np.random.RandomState(0)
    images_value = rng.randn(args.batch_size, crop, crop, 3).astype(np.float32)
    labels_value = rng.randint(0, dataset.num_classes,
                               args.batch_size).astype(np.int32)
    sessions = {}
    splits_used = {}
    for model in _unique(_model_setting(s) for s in args.settings_list):
        lrn_gradient, splits, policy = model.split('/')
        splits = (session.default_batch_splits() if splits == 'auto'
                  else int(splits))
        splits_used[model] = splits
        with tf.Graph().as_default():
            global_step = tf1.train.get_or_create_global_step()
            train_op, loss, _ = cifar10_train.build_train_op(
                tf.constant(images_value), tf.constant(labels_value),
                global_step, args.batch_size, splits,
                cifar10.Network(model=args.model, lrn_gradient=lrn_gradient,
                                num_classes=dataset.num_classes,
                                image_size=crop, precision=policy))
            sess = tf1.Session(config=session.session_config(
                **_session_kwargs(args)))
            sess.run(tf1.global_variables_initializer())
            sessions[model] = (sess, [train_op, loss])
    for sess, fetches in sessions.values():  # Warm-up.
        for _ in range(20):
            sess.run(fetches)
    rates = {g: [] for g in sessions}
    for _ in range(args.windows):
        for g, (sess, fetches) in sessions.items():
            rates[g] += _windows(lambda: sess.run(fetches), args.batch_size,
                                 warmup=0, steps=20, windows=1)
    for sess, _ in sessions.values():
        sess.close()
    return {g: {'rate': statistics.median(r), 'rates': r, 'splits': splits_used[g]}
            for g, r in rates.items()}


def child_eval_original(args):
    """Evaluation the original tutorial's way, as a stand-in to compare with.

    The original is not on this machine, so this rebuilds its evaluation
    from the facts in SPEC with this port's own pieces: one record per
    reader op, crop and standardization per image, a plain batch queue
    filled by 16 threads (capacity 40% of the 10,000 images plus three
    batches), whole batches counted until there are at least 10,000
    predictions (79 batches of 128: 10,112), then the merged summaries run
    once more on a further batch. The interpreter exits as usual
    (cifar10_eval.py skips the final garbage collection), with the CPU
    kernels TensorFlow chooses by itself, as the original's did.
    """
    tf = _tf(scripts_kernels=False)
    import numpy as np
    from cifar10 import cifar10
    from cifar10 import cifar10_input
    from cifar10.data import record_files
    from cifar10.data import transforms
    tf1 = tf.compat.v1
    dataset = _dataset(args)
    examples = (dataset.num_test if dataset.name == 'custom'
                else cifar10_input.NUM_EXAMPLES_PER_EPOCH_FOR_EVAL)
    crop = dataset.crop_size
    with tf.Graph().as_default() as graph:
        with tf.device('/cpu:0'):
            filenames = record_files.eval_filenames(
                'test', dataset.folder(args.data_dir), dataset)
            record = cifar10_input.read_cifar10(
                tf1.train.string_input_producer(filenames), dataset)
            image = transforms.eval_image(tf.cast(record.uint8image, tf.float32),
                                          crop)
            image.set_shape([crop, crop, 3])
            record.label.set_shape([1])
            images, labels = tf1.train.batch(
                [image, record.label], batch_size=args.batch_size, num_threads=16,
                capacity=(int(examples * cifar10_input.MIN_FRACTION_OF_EXAMPLES_IN_QUEUE)
                          + 3 * args.batch_size))
            tf1.summary.image('images', images)
        logits = cifar10.inference(images, model=args.model,
                                   num_classes=dataset.num_classes)
        correct = tf1.nn.in_top_k(logits, tf.reshape(labels, [-1]), 1)
        saver = cifar10.restoring_saver(True)
        summary_op = tf1.summary.merge_all()
        writer = tf1.summary.FileWriter(args.eval_dir, graph)
        with tf1.Session() as sess:
            saver.restore(sess, tf1.train.latest_checkpoint(args.checkpoint_dir))
            coord = tf1.train.Coordinator()
            threads = tf1.train.start_queue_runners(sess=sess, coord=coord)
            batches = -(-examples // args.batch_size)
            true_count = sum(int(np.sum(sess.run(correct))) for _ in range(batches))
            precision = true_count / (batches * args.batch_size)
            summary = tf1.Summary()
            summary.ParseFromString(sess.run(summary_op))
            summary.value.add(tag='Precision @ 1', simple_value=precision)
            writer.add_summary(summary, 0)
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
        writer.close()
    return {'precision': precision}


# The matrix products the bound is measured on: n x n by n x n.
MATMUL_SIZE = 2048
# The type a precision policy computes its products in.
PRODUCT_DTYPES = {'float32': 'float32', 'mixed_bfloat16': 'bfloat16'}
# A timed window of matrix products lasts about this long (at least one
# product), whatever the machine's speed.
MATMUL_WINDOW_SECS = 0.5


def training_multiply_adds(sizes):
    """Multiply-adds of one training example, from a network's layer sizes.

    Every product of a weight with an input in the forward pass has two
    counterparts in the backward pass: one for the weight's gradient and
    one for the input's. The bottom layer's inputs are the images, whose
    gradient nothing needs, so its input gradients are not computed.

    Args:
      sizes: The network's layer_sizes.layer_sizes(), bottom to top.

    Returns:
      (forward, filter_gradients, input_gradients), ints; a training
      example costs their sum.
    """
    forward = sum(size.multiply_adds for size in sizes)
    bottom = next((size.multiply_adds for size in sizes if size.multiply_adds), 0)
    return forward, forward, forward - bottom


def bound_examples_per_sec(gflops, multiply_adds):
    """The most examples/sec a machine doing ``gflops`` GFLOP/s of matrix
    products (2 flops a multiply-add) can train at ``multiply_adds`` per
    example."""
    return gflops * 1e9 / 2 / multiply_adds


def _matmul_gflops(tf, dtypes, windows):
    """The best GFLOP/s of MATMUL_SIZE-square matrix products in each
    dtype, over ``windows`` timed windows.

    The best, not the median: the bound is what the machine can do, and on
    a shared machine a window is only ever slowed by other work. The
    operands are variables (constants would be folded away when the
    graph is optimized) and only the product's op is run, so no output is
    copied out; the dtypes' timed windows alternate, each about
    MATMUL_WINDOW_SECS long.
    """
    tf1 = tf.compat.v1
    n = MATMUL_SIZE
    products = {}
    with tf.Graph().as_default():
        for dtype in dtypes:
            a, b = (tf1.Variable(tf.cast(tf.random.normal([n, n]), dtype))
                    for _ in range(2))
            products[dtype] = tf.matmul(a, b).op
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            runs = {}
            for dtype, product in products.items():
                sess.run(product)  # Warm-up; then one timed product sizes a window.
                start = time.perf_counter()
                sess.run(product)
                runs[dtype] = max(1, round(MATMUL_WINDOW_SECS
                                           / (time.perf_counter() - start)))
            rates = {dtype: [] for dtype in dtypes}
            for _ in range(windows):
                for dtype, product in products.items():
                    # A product's GFLOP as the "batch": the window's rate
                    # comes out in GFLOP/s.
                    rates[dtype] += _windows(lambda: sess.run(product), 2 * n ** 3 / 1e9,
                                             warmup=0, steps=runs[dtype], windows=1)
    return {dtype: max(r) for dtype, r in rates.items()}


def child_bound(args):
    """The matrix-product rate in each precision of --settings, and the
    multiply-adds of one training example of --model.

    The CPU kernels are those the scripts run by default (--onednn).
    """
    tf = _tf()
    from cifar10 import cifar10
    from cifar10.model import layer_sizes
    dataset = _dataset(args)
    sizes = layer_sizes.layer_sizes(cifar10.Network(
        model=args.model, num_classes=dataset.num_classes,
        image_size=dataset.crop_size))
    policies = _unique(_precision(s) for s in args.settings_list)
    rates = _matmul_gflops(tf, [PRODUCT_DTYPES[p] for p in policies], args.windows)
    return {'gflops': {p: rates[PRODUCT_DTYPES[p]] for p in policies},
            'cores': len(_cores()),
            'multiply_adds': training_multiply_adds(sizes)}


def _cores():
    """The cores this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def child_bound_one_core(args):
    """The matrix-product rate of the first precision of --settings on one
    core: the process is pinned to it before TensorFlow loads, so that
    every thread pool (TensorFlow's and oneDNN's) sees one core. None
    where a process cannot be pinned (not Linux)."""
    if not hasattr(os, 'sched_setaffinity'):
        return {'gflops': None}
    os.sched_setaffinity(0, _cores()[:1])
    tf = _tf()
    dtype = PRODUCT_DTYPES[_precision(args.settings_list[0])]
    return {'gflops': _matmul_gflops(tf, [dtype], args.windows)[dtype]}


# On an idle machine all N cores do nearly N times one core's products
# (2 cores: 1.9-2x here, 2026-12-06); below this fraction of N the bound
# row says the machine was busy.
BUSY_SCALING = 0.75


def busy_warning(all_cores, one_core, cores):
    """A sentence for the bound row when the matrix products on all cores
    ran at less than BUSY_SCALING x cores times one core's, or ''.

    Other programs on the cores slow the all-cores windows far more than
    the one-core ones; the bound then comes out low and every fraction of
    it high (a bound measured beside one other busy program is about one
    core's).
    """
    if cores < 2 or all_cores >= BUSY_SCALING * cores * one_core:
        return ''
    return (f'; WARNING: {cores} cores ran only '
            f'{all_cores / one_core:.2f}x one core\'s '
            f'{one_core:,.1f} GFLOP/s: other programs were using them, so '
            'this bound is too low and the fractions of it too high; '
            'measure on an idle machine')


def child_keras(args):
    """Trains scripts/keras_reference.py's model with fit for --train_steps
    steps in the first setting's precision; its step times give windows as
    the trainer's progress lines do. The weights go to --checkpoint_dir."""
    _tf(scripts_kernels=False)
    import keras_reference
    dataset = _dataset(args)
    model, times = keras_reference.train(
        args.data_dir, dataset, args.batch_size, args.train_steps,
        _precision(args.settings_list[0]), window=TRAIN_WINDOW)
    model.save_weights(os.path.join(args.checkpoint_dir, KERAS_WEIGHTS))
    return {'rates': keras_reference.window_rates(
        times, args.batch_size, TRAIN_WINDOW, args.train_steps // 4)}


def child_keras_eval(args):
    """Precision @ 1 of the weights child_keras wrote, on the test files, in
    batches of EVAL_BATCH_SIZE as cifar10_eval.py reads them (the training
    batch size plays no part in an evaluation; a small one would only make
    it slower, a call of the model per batch)."""
    _tf(scripts_kernels=False)
    import keras_reference
    dataset = _dataset(args)
    model = keras_reference.build_model(dataset.num_classes, dataset.crop_size,
                                        _precision(args.settings_list[0]))
    model.load_weights(os.path.join(args.checkpoint_dir, KERAS_WEIGHTS))
    return {'precision': keras_reference.precision_at_1(
        model, args.data_dir, dataset, EVAL_BATCH_SIZE)}


def _pipeline(setting):
    """'queues/matmul/2/bfc' -> 'queues'."""
    return setting.split('/')[0]


def _model_setting(setting):
    """'queues/matmul/2/bfc/float32' -> 'matmul/2/float32': what of a setting
    shapes the step."""
    parts = setting.split('/')
    return '/'.join(parts[1:3] + [_precision(setting)])


def _allocator(setting):
    """'queues/matmul/2/bfc' -> 'bfc'."""
    return setting.split('/')[3]


def _precision(setting):
    """'queues/matmul/2/bfc/mixed_bfloat16' -> 'mixed_bfloat16' (float32 when
    the setting does not say)."""
    parts = setting.split('/')
    return parts[4] if len(parts) > 4 else 'float32'


def _full_setting(pipeline, model, allocator):
    """The setting of an input pipeline, a _model_setting and an allocator."""
    lrn_gradient, splits, policy = model.split('/')
    return f'{pipeline}/{lrn_gradient}/{splits}/{allocator}/{policy}'


def _windows(run, batch_size, warmup, steps, windows):
    for _ in range(warmup):
        run()
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(steps):
            run()
        rates.append(steps * batch_size / (time.perf_counter() - start))
    return rates


def _input_kwargs(args):
    return {'pipeline': _pipeline(args.settings_list[0])}


def _session_kwargs(args):
    return {'bfc_allocator': _allocator(args.settings_list[0]) == 'bfc'}


# ----------------------------------------------------------------------------
# The parent: runs the children and the scripts, prints the table.

def _run_measured(cmd):
    """Runs a command; returns (stdout, wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, text=True)
        # wait4 (not wait) returns the resource usage of this child alone.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        # The last line of the child's error output is its error message (or
        # a traceback's exception line); the rest is TensorFlow's start-up.
        lines = [line for line in stderr.splitlines() if line.strip()]
        sys.exit(f'benchmark: {shlex.join(cmd)} failed ({proc.returncode}): '
                 f'{lines[-1] if lines else "no error output"}')
    return stdout, wall, usage.ru_maxrss / 1024.0


def _child_cmd(name, args, setting):
    return [sys.executable, os.path.abspath(__file__), '--child', name,
            f'--data_dir={args.data_dir}', f'--batch_size={args.batch_size}',
            f'--windows={args.windows}', f'--settings={setting}',
            f'--model={args.model}'] + _dataset_flags(args)


def _dataset_flags(args):
    """The --dataset flags every script and child gets."""
    flags = [f'--dataset={args.dataset}']
    if args.dataset == 'cifar100':
        flags.append(f'--cifar100_label={args.cifar100_label}')
    return flags


def _user_cmd(name, args, setting):
    data = f' --data_dir={args.user_data_dir}' if args.user_data_dir else ''
    model = f' --model={args.model}' if args.model != 'tutorial' else ''
    dataset = (' ' + ' '.join(_dataset_flags(args))
               if args.dataset != 'cifar10' else '')
    rounds = (f' --rounds {args.rounds}'
              if name in ('train', 'keras') and args.rounds > 1 else '')
    return (f'python scripts/benchmark.py --only {name} --settings '
            f'{setting}{data}{model}{dataset}{rounds}')


def run_child(name, args, setting, **flags):
    cmd = _child_cmd(name, args, setting) + [f'--{k}={v}' for k, v in flags.items()]
    out, wall, rss = _run_measured(cmd)
    result = json.loads(out.strip().splitlines()[-1])
    result.update(wall_s=wall, peak_mb=rss)
    return result


PROGRESS = re.compile(r': step (\d+), loss = [\d.naninf]+ \(([\d.]+) examples/sec')


def run_train(args, train_dir, setting):
    pipeline, lrn_gradient, splits, allocator = setting.split('/')[:4]
    cmd = [sys.executable, os.path.join('cifar10', 'cifar10_train.py'),
           f'--data_dir={args.data_dir}', f'--train_dir={train_dir}',
           f'--max_steps={args.train_steps}', f'--log_frequency={TRAIN_WINDOW}',
           f'--batch_size={args.batch_size}', f'--input_pipeline={pipeline}',
           f'--lrn_gradient={lrn_gradient}', f'--model={args.model}',
           f'--precision={_precision(setting)}',
           *_dataset_flags(args)]
    if splits != 'auto':
        cmd.append(f'--batch_splits={splits}')
    if allocator != 'bfc':
        cmd.append('--bfc_allocator=false')
    out, wall, rss = _run_measured(cmd)
    rates = [float(m.group(2)) for m in map(PROGRESS.search, out.splitlines())
             if m and int(m.group(1)) > args.train_steps // 4]
    # None when the run was too short for a window (the eval row needs only
    # the checkpoint).
    return {'rate': statistics.median(rates) if rates else None, 'rates': rates,
            'wall_s': wall, 'peak_mb': rss}


def run_eval(args, train_dir, eval_dir):
    """One cifar10_eval.py --run_once: wall seconds, peak MB, precision."""
    cmd = [sys.executable, os.path.join('cifar10', 'cifar10_eval.py'),
           f'--data_dir={args.data_dir}', f'--checkpoint_dir={train_dir}',
           f'--eval_dir={eval_dir}', '--run_once', f'--model={args.model}',
           *_dataset_flags(args)]
    if _pipeline(args.settings_list[0]) == 'tf_data':
        cmd.append('--input_pipeline=tf_data')
    if args.dataset != 'custom':
        cmd.append('--num_examples=10000')
    out, wall, rss = _run_measured(cmd)
    precision = float(re.search(r'precision @ 1 = ([\d.]+)', out).group(1))
    return {'wall_s': wall, 'peak_mb': rss, 'precision': precision}


def compare_eval(args, train_dir, tmp):
    """Our evaluation against the original-style stand-in, runs alternating.

    Each of --eval_runs rounds runs cifar10_eval.py, the stand-in
    (child_eval_original) and two processes that only import TensorFlow,
    one as the scripts do (cli.import_tensorflow_quietly) and one with a
    plain ``import tensorflow`` as the stand-in does (each import timed
    inside its process: the wall time would add start-up and exit).
    Returns the medians of each, and the median of the rounds' ratios of
    our wall time to the stand-in's.
    """
    timed = ('import sys, time; sys.path.insert(0, {repo!r}); '
             'start = time.perf_counter(); {statement}; '
             'print(time.perf_counter() - start)')
    import_cmds = {
        'import': timed.format(repo=REPO, statement=(
            'from cifar10.runtime.cli import import_tensorflow_quietly; '
            'import_tensorflow_quietly()')),
        'plain_import': timed.format(repo=REPO, statement='import tensorflow')}
    ours, original = [], []
    imports = {name: [] for name in import_cmds}
    for _ in range(args.eval_runs):
        ours.append(run_eval(args, train_dir, os.path.join(tmp, 'eval')))
        original.append(run_child('eval_original', args, 'per_image/builtin',
                                  checkpoint_dir=train_dir,
                                  eval_dir=os.path.join(tmp, 'eval-original')))
        for name, code in import_cmds.items():
            out, _, rss = _run_measured([sys.executable, '-c', code])
            imports[name].append({'wall_s': float(out.strip().splitlines()[-1]),
                                  'peak_mb': rss})

    def median(runs, key):
        return statistics.median(r[key] for r in runs)
    result = {name: {'wall_s': median(runs, 'wall_s'),
                     'walls': [r['wall_s'] for r in runs],
                     'peak_mb': median(runs, 'peak_mb'),
                     'precision': runs[0].get('precision')}
              for name, runs in [('ours', ours), ('original', original),
                                 *imports.items()]}
    # A round's two runs are seconds apart, so their ratio is less swayed by
    # the machine's drift than the ratio of the two medians.
    result['paired_ratio'] = statistics.median(
        a['wall_s'] / b['wall_s'] for a, b in zip(ours, original))
    return result


def bound_rows(args, table):
    """Measures the matrix-product rate of each precision of --settings and
    adds a row each with the bound it sets on training.

    Returns:
      ({precision: the bound on training in examples/sec}, the bound on
      evaluation in float32: images/sec of the forward pass alone).
    """
    policies = _unique(_precision(s) for s in args.settings_list)
    setting = ','.join(f'queues/matmul/auto/bfc/{p}' for p in policies)
    r = run_child('bound', args, setting)
    # One core's rate too: on an idle machine all cores do nearly cores
    # times as much; much less means other programs had some of them.
    one_core = run_child('bound_one_core', args, setting)['gflops']
    forward, filters, inputs = r['multiply_adds']
    total = forward + filters + inputs
    bounds = {}
    for policy in policies:
        gflops = r['gflops'][policy]
        bounds[policy] = bound_examples_per_sec(gflops, total)
        dtype = PRODUCT_DTYPES[policy]
        table.append((
            f'matrix products and the bound on training ({policy})',
            f'{gflops:,.1f} GFLOP/s (TensorFlow matmul of {MATMUL_SIZE} x '
            f'{MATMUL_SIZE} in {dtype}, best of {args.windows} '
            f'window{"s" if args.windows > 1 else ""}'
            + (f'; one core: {one_core:,.1f}'
               if policy == policies[0] and one_core else '')
            + f') = {gflops / 2:,.2f} billion multiply-adds/sec, over {total:,} per '
            f'training example (forward {forward:,}, filter gradients '
            f'{filters:,}, input gradients {inputs:,}): at most '
            f'{bounds[policy]:,.0f} examples/sec'
            + (busy_warning(gflops, one_core, r['cores'])
               if policy == policies[0] and one_core else ''),
            _user_cmd('bound', args, setting)))
    eval_bound = bound_examples_per_sec(r['gflops'].get('float32', 0.0), forward)
    return bounds, eval_bound


def model_rows(args, table, bounds):
    """The model row: the training step alone of each model setting of
    --settings (one process, alternating windows), with the ratio to the
    first and, with the bound row, the fraction of the bound."""
    settings = args.settings_list
    # The input pipeline plays no part in the model step.
    models = _unique(_model_setting(s) for s in settings)
    setting = ','.join(_full_setting('queues', m, _allocator(settings[0]))
                       for m in models)
    r = run_child('model', args, setting)

    def name(m):
        splits = r[m]['splits']
        policy = m.split('/')[2]
        return (f'{m.split("/")[0]} LRN gradient, '
                + (f'batch in {splits} parts' if splits > 1 else 'whole batch')
                + (f', {policy}' if policy != 'float32' else ''))
    for m in models:
        rate = r[m]['rate']
        first = r[models[0]]['rate'] if m != models[0] else None
        versus = _versus(rate, [
            (f'the {name(models[0])}', first, 'alternating windows, one process'),
            _of_bound(bounds, m.split('/')[2])])
        table.append((f'model step alone (constant batch; {name(m)})',
                      f'{rate:,.0f} examples/sec{versus}',
                      _user_cmd('model', args, setting)))


def _of_bound(bounds, policy):
    """The bound of a precision, for _versus (None without the bound row)."""
    bound = bounds.get(policy)
    return ('the bound', bound, f'{bound:,.0f} examples/sec' if bound else '')


def _eval_of_bound(ours, original, bound):
    """' = 0.41x the bound on evaluation (...)' for the eval row: both
    evaluations' images/sec after their import of TensorFlow against the
    forward pass's bound ('' without the bound row)."""
    if not bound:
        return ''
    return (f' = {ours / bound:.2f}x the bound on evaluation ({bound:,.0f} '
            f'images/sec: the forward pass alone, float32), against the '
            f'original-style evaluation\'s {original:,.0f} images/sec after '
            f'its import = {original / bound:.2f}x')


def _training_run(args, rows, setting, train_dir, tmp):
    """One run of cifar10_train.py for the train row (see training_rows):
    its windows, wall, memory, the model step alone just before and after
    (with the model row), and its checkpoint's precision (with the train
    row)."""
    model = _model_setting(setting)
    # The machine's speed drifts over minutes: the ceiling this run is held
    # against is measured just before and just after.
    bracket = 'model' in rows and 'train' in rows
    ceiling = _full_setting('queues', model, _allocator(setting))
    before = run_child('model', args, ceiling)[model]['rate'] if bracket else None
    r = run_train(args, train_dir, setting)
    r['ceiling'] = ((before, run_child('model', args, ceiling)[model]['rate'])
                    if bracket else None)
    if 'train' in rows:
        # Precision at equal steps rules out a faster but different
        # algorithm.
        r['precision'] = run_eval(args, train_dir, os.path.join(tmp, 'eval'))['precision']
    return r


def _keras_run(args, policy, keras_dir):
    """One run of the keras row: child_keras, then child_keras_eval on the
    weights it wrote."""
    os.makedirs(keras_dir)
    setting = f'queues/matmul/auto/bfc/{policy}'
    r = run_child('keras', args, setting, checkpoint_dir=keras_dir,
                  train_steps=args.train_steps)
    r['precision'] = run_child('keras_eval', args, setting,
                               checkpoint_dir=keras_dir)['precision']
    return r


def _pooled(runs):
    """The figures of one row over its runs: the median of all their
    windows, and each run's wall, memory and precision, comma-separated."""
    def each(key, form):
        return ', '.join(format(r[key], form) for r in runs)
    return {'rate': statistics.median(w for r in runs for w in r['rates']),
            'wall': each('wall_s', '.1f'), 'peak': each('peak_mb', ',.0f'),
            'precision': each('precision', '.3f')}


def _versus(rate, ratios):
    """' = 0.77x the bound (...), 1.31x Keras 3 fit (...)' for the
    (what, reference rate, detail) of ``ratios`` that are known."""
    parts = [f'{rate / ref:.2f}x {what} ({detail})' for what, ref, detail in ratios
             if ref is not None]
    return ' = ' + ', '.join(parts) if parts else ''


def _run_rounds(args, rows, tmp):
    """The runs of the train and keras rows, in alternating rounds: each
    round trains every setting with cifar10_train.py, then the Keras
    reference in each precision, each run from an empty folder. With the
    eval row and no train row, one run of the first setting, for its
    checkpoint.

    Returns:
      (runs, keras_runs, first_dirs): {setting: [run]}, {precision: [run]},
      and the first setting's train folder of each round.
    """
    settings = args.settings_list
    trained = settings if 'train' in rows else settings[:1] if 'eval' in rows else []
    policies = _unique(_precision(s) for s in settings) if 'keras' in rows else []
    rounds = args.rounds if 'train' in rows or 'keras' in rows else 1
    runs = {s: [] for s in trained}
    keras_runs = {p: [] for p in policies}
    first_dirs = []
    for i in range(rounds):
        for setting in trained if i == 0 or 'train' in rows else []:
            train_dir = os.path.join(tmp, f'train-{i}-' + setting.replace('/', '-'))
            runs[setting].append(_training_run(args, rows, setting, train_dir, tmp))
            if setting == settings[0]:
                first_dirs.append(train_dir)
        for policy in policies:
            keras_runs[policy].append(
                _keras_run(args, policy, os.path.join(tmp, f'keras-{i}-{policy}')))
    return runs, keras_runs, first_dirs


def training_rows(args, rows, tmp, table, bounds):
    """Runs the train and keras rows (_run_rounds) and adds them to the table.

    Args:
      args: The parsed flags (settings_list too).
      rows: The rows to run.
      tmp: A folder for the runs' checkpoints.
      table: The table, to append rows to.
      bounds: {precision: bound in examples/sec}, empty without the bound
        row.

    Returns:
      The train folders of the first setting, one per round (the eval row
      evaluates the first).
    """
    runs, keras_runs, first_dirs = _run_rounds(args, rows, tmp)
    windows = (f'median of {TRAIN_WINDOW}-step windows after step '
               f'{args.train_steps // 4}'
               + (f' of {args.rounds} runs' if args.rounds > 1 else ''))
    keras = {p: _pooled(r)['rate'] for p, r in keras_runs.items()}
    for setting in args.settings_list if 'train' in rows else []:
        policy = _precision(setting)
        pooled = _pooled(runs[setting])
        ceilings = [r['ceiling'] for r in runs[setting] if r['ceiling']]
        ceiling = (statistics.mean(c for pair in ceilings for c in pair)
                   if ceilings else None)
        ratios = [
            ('the model step alone', ceiling,
             ', '.join(f'{b:,.0f}' for b, _ in ceilings) + ' and '
             + ', '.join(f'{a:,.0f}' for _, a in ceilings)
             + f' just before and after {"each" if len(ceilings) > 1 else "this"} run'),
            _of_bound(bounds, policy),
            ('Keras 3 fit', keras.get(policy), f'{keras.get(policy) or 0:,.0f} examples/sec')]
        table.append((f'end-to-end training ({setting}), {args.train_steps} steps',
                      f'{pooled["rate"]:,.0f} examples/sec, {windows}'
                      f'{_versus(pooled["rate"], ratios)}; {pooled["wall"]} s wall; '
                      f'peak memory {pooled["peak"]} MB; precision @ 1 '
                      f'{pooled["precision"]}',
                      _user_cmd('train', args, setting)))
    for policy, policy_runs in keras_runs.items():
        pooled = _pooled(policy_runs)
        table.append((f'Keras 3 fit, the same model and recipe ({policy}), '
                      f'{args.train_steps} steps',
                      f'{pooled["rate"]:,.0f} examples/sec, {windows}'
                      f'{_versus(pooled["rate"], [_of_bound(bounds, policy)])}; '
                      f'{pooled["wall"]} s wall; peak memory {pooled["peak"]} MB; '
                      f'precision @ 1 {pooled["precision"]} (raw weights)',
                      _user_cmd('keras', args, f'queues/matmul/auto/bfc/{policy}')))
    return first_dirs


def write_synthetic_data(root):
    """Writes six official-layout files of random records (labels 0-9)."""
    import numpy as np
    folder = os.path.join(root, 'cifar-10-batches-bin')
    os.makedirs(folder)
    rng = np.random.RandomState(0)
    names = [f'data_batch_{i}.bin' for i in range(1, 6)] + ['test_batch.bin']
    for name in names:
        # Random bytes straight from the generator: randint would build
        # 30 million int64s per file first.
        records = np.frombuffer(rng.bytes(10000 * 3073), np.uint8).reshape(10000, 3073).copy()
        records[:, 0] %= 10
        records.tofile(os.path.join(folder, name))


def _positive_int(text):
    """argparse type: an integer > 0 (the parent never imports TensorFlow)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f'expected an integer > 0, got {text!r}')
    return value


def _unique(items):
    return list(dict.fromkeys(items))


def select_rows(only, model):
    """The rows a run measures.

    Args:
      only: --only's value (None: every row).
      model: --model's value.

    Returns:
      (rows, note): the row names, in ROWS's order, and a line to print
      about a row left out (or None).

    Raises:
      ValueError: for an unknown row, or the keras row asked for with a
        model it does not build.
    """
    asked = (list(ROWS) if only is None
             else [r.strip() for r in only.split(',') if r.strip()])
    unknown = set(asked) - set(ROWS)
    if unknown:
        raise ValueError(f'unknown rows: {", ".join(sorted(unknown))}')
    rows = [r for r in ROWS if r in asked]
    if 'keras' in rows and model != 'tutorial':
        why = f"the keras row trains the tutorial's model only, not --model={model}"
        if only is not None:
            raise ValueError(why)
        rows.remove('keras')
        return rows, f'(no keras row: {why[len("the keras row "):]})'
    return rows, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data_dir', default=None,
                        help='CIFAR-10 data directory (default: synthetic data).')
    parser.add_argument('--only', default=None,
                        help=f'Comma-separated rows to run, of {", ".join(ROWS)} '
                             '(default: all).')
    parser.add_argument('--batch_size', type=_positive_int, default=128)
    parser.add_argument('--windows', type=_positive_int, default=7,
                        help='Timed windows per in-process row.')
    parser.add_argument('--train_steps', type=_positive_int, default=600,
                        help='Steps of each run of the train and keras rows.')
    parser.add_argument('--rounds', type=_positive_int, default=1,
                        help='Alternating rounds of the train and keras rows: '
                             'each round trains every setting, then the Keras '
                             'reference in each precision; a row gives the median '
                             'of all its runs\' windows.')
    parser.add_argument('--settings',
                        default='queues/matmul/auto/bfc,per_image/builtin/1/default',
                        help='Comma-separated training settings to measure, each '
                             'INPUT_PIPELINE/LRN_GRADIENT[/BATCH_SPLITS[/ALLOCATOR'
                             '[/PRECISION]]] (see cifar10_train.py --help; '
                             'BATCH_SPLITS auto, ALLOCATOR bfc and PRECISION '
                             'float32, the defaults, are the trainer\'s own; '
                             'ALLOCATOR default is TensorFlow\'s, PRECISION '
                             'mixed_bfloat16 the mixed one); the eval row uses '
                             'the first.')
    parser.add_argument('--model', choices=('tutorial', 'local'), default='tutorial',
                        help='The network to train and evaluate (cifar10_train.py '
                             '--model).')
    parser.add_argument('--dataset', choices=('cifar10', 'cifar100', 'svhn', 'custom'),
                        default='cifar10',
                        help='The data set (cifar10_train.py --dataset); all but '
                             'cifar10 need --data_dir.')
    parser.add_argument('--cifar100_label', choices=('fine', 'coarse'),
                        default='fine')
    parser.add_argument('--eval_runs', type=_positive_int, default=5,
                        help='Alternating runs of our evaluation and the '
                             'original-style one, for the eval row.')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--checkpoint_dir', help=argparse.SUPPRESS)
    parser.add_argument('--eval_dir', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = []
    for setting in (x.strip() for x in args.settings.split(',') if x.strip()):
        parts = setting.split('/')
        parts += ['auto', 'bfc', 'float32'][max(len(parts) - 2, 0):]
        if (len(parts) != 5 or parts[0] not in ('batch', 'queues', 'per_image', 'tf_data')
                or parts[1] not in ('matmul', 'builtin')
                or not (parts[2] == 'auto' or parts[2].isdigit() and int(parts[2]) > 0)
                or parts[3] not in ('bfc', 'default')
                or parts[4] not in ('float32', 'mixed_bfloat16')):
            parser.error(f'bad setting {setting!r}: expected INPUT_PIPELINE/'
                         'LRN_GRADIENT[/BATCH_SPLITS[/ALLOCATOR[/PRECISION]]], as '
                         'queues/matmul/auto/bfc, per_image/builtin/1/default, '
                         'tf_data/matmul or queues/matmul/auto/bfc/mixed_bfloat16')
        if parts[2] != 'auto' and args.batch_size % int(parts[2]):
            parser.error(f'bad setting {setting!r}: --batch_size={args.batch_size} '
                         f'does not split into {parts[2]} equal parts')
        settings.append('/'.join(parts))
    settings = _unique(settings)
    args.settings_list = settings

    if args.child:
        children = {'input': child_input, 'model': child_model,
                    'bound': child_bound, 'bound_one_core': child_bound_one_core,
                    'keras': child_keras,
                    'keras_eval': child_keras_eval,
                    'eval_original': child_eval_original}
        print(json.dumps(children[args.child](args)))
        return
    try:
        rows, note = select_rows(args.only, args.model)
    except ValueError as e:
        parser.error(str(e))
    if note:
        print(note)
    if ('train' in rows or 'keras' in rows) and args.train_steps < TRAIN_WINDOW:
        parser.error(f'--train_steps={args.train_steps} leaves no {TRAIN_WINDOW}-step '
                     'window for the train and keras rows to time (they need at '
                     f'least {TRAIN_WINDOW})')

    needs = {'cifar10': 'cifar-10-batches-bin', 'cifar100': 'cifar-100-binary',
             'svhn': 'svhn-bin', 'custom': 'dataset.json'}[args.dataset]
    if args.data_dir is None and args.dataset != 'cifar10':
        parser.error(f'--dataset={args.dataset} needs --data_dir')
    if args.data_dir is not None and not os.path.exists(
            os.path.join(args.data_dir, needs)):
        what = needs if args.dataset == 'custom' else f'{needs} folder'
        parser.error(f'--data_dir={args.data_dir} holds no {what} '
                     '(see docs/data.md)')
    args.user_data_dir = args.data_dir
    with tempfile.TemporaryDirectory(prefix='cifar10-bench-') as tmp:
        if args.data_dir is None:
            args.data_dir = os.path.join(tmp, 'data')
            write_synthetic_data(args.data_dir)
            print(f'(synthetic data in {args.data_dir})')
        table = []
        if 'input' in rows:
            # The model settings play no part in the input pipeline.
            for setting in _unique(f'{_pipeline(s)}/matmul/1/{_allocator(s)}'
                                   for s in settings):
                r = run_child('input', args, setting)
                table.append((f'input pipeline alone ({_pipeline(setting)})',
                              f'{r["rate"]:,.0f} distorted images/sec; first batch '
                              f'{r["first_batch_s"]:.2f} s after the queues start',
                              _user_cmd('input', args, setting)))
        bounds, eval_bound = (bound_rows(args, table) if 'bound' in rows
                              else ({}, None))
        if 'model' in rows:
            model_rows(args, table, bounds)
        train_dirs = training_rows(args, rows, tmp, table, bounds)
        if 'eval' in rows:
            r = compare_eval(args, train_dirs[0], tmp)
            ours, original = r['ours'], r['original']
            after_import = ours['wall_s'] - r['import']['wall_s']
            original_after = original['wall_s'] - r['plain_import']['wall_s']
            table.append((
                'evaluation, 10,000 images',
                f'{ours["wall_s"]:.2f} s wall = {ours["wall_s"] / original["wall_s"]:.2f}x '
                f'the original-style evaluation\'s {original["wall_s"]:.2f} s (medians '
                f'of {args.eval_runs} alternating runs: '
                f'{", ".join(f"{w:.2f}" for w in ours["walls"])} vs '
                f'{", ".join(f"{w:.2f}" for w in original["walls"])}; median of the '
                f'rounds\' ratios {r["paired_ratio"]:.2f}x); importing '
                f'TensorFlow {r["import"]["wall_s"]:.2f} s of it (a plain import: '
                f'{r["plain_import"]["wall_s"]:.2f} s), then '
                f'{10000 / after_import:,.0f} images/sec'
                f'{_eval_of_bound(10000 / after_import, 10000 / original_after, eval_bound)}'
                '; peak memory '
                f'{ours["peak_mb"]:,.0f} MB vs {original["peak_mb"]:,.0f} MB '
                f'(TensorFlow alone {r["import"]["peak_mb"]:,.0f} MB); precision @ 1 '
                f'{ours["precision"]:.3f} vs {original["precision"]:.3f}',
                _user_cmd('eval', args, settings[0])))
    print()
    print('| what | measured | command |')
    print('| --- | --- | --- |')
    for what, figure, cmd in table:
        print(f'| {what} | {figure} | `{cmd}` |')


if __name__ == '__main__':
    # Started by a process that asked for it (the test suite), end with it.
    sys.path.insert(0, REPO)
    from cifar10.runtime.cli import end_with_parent
    end_with_parent()
    main()
