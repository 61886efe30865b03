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
"""Evaluation for CIFAR-10.

Restores the moving averages of the model's variables (or, with
--use_moving_averages=false, the raw variables) from the newest checkpoint
in --checkpoint_dir and classifies exactly --num_examples examples of
--eval_data, each seen once.

Usage:
  python cifar10_eval.py             # evaluate each new checkpoint once
  python cifar10_eval.py --run_once  # evaluate the newest one and exit

Prints ``<datetime>: precision @ 1 = 0.xxx``, then per-class precision,
recall, ROC AUC and average precision (each class against the rest, scored
by its softmax probability) and the confusion matrix, all from the same one
pass, and writes them to --eval_dir at the checkpoint's global step
("Precision @ 1", scalars per class, the confusion matrix as an image, and
a precision-recall curve per class for TensorBoard's PR-curves dashboard).
--model and --dataset say which network, and how many classes, the
checkpoints hold.
"""

import importlib
import sys

if __name__ == '__main__':
    # The package on sys.path, TensorFlow imported quietly (script_setup).
    importlib.import_module(
        'cifar10.runtime.script_setup' if __package__ else 'runtime.script_setup').prepare()

import concurrent.futures
import dataclasses
import threading
import time
from datetime import datetime

import numpy as np
import tensorflow as tf

from cifar10 import cifar10
from cifar10.data import datasets
from cifar10.data import tf_data
from cifar10.metrics import scores
from cifar10.metrics import summaries
from cifar10.runtime import cli
from cifar10.runtime import kernels
from cifar10.runtime import session
from cifar10.training import checkpoints
from cifar10.training import flags

tf1 = tf.compat.v1

# How often watch mode looks for a new checkpoint.
_POLL_SECS = 1.0

# One batch's forward pass leaves the cores idle 7-10% of the time (where
# fewer ops than cores can run, and between runs); a second batch run at
# the same time fills most of that: 76 batches took 1.26-1.37 s instead of
# 1.38-1.47 s on two cores. Three or four were no faster than two.
DEFAULT_CONCURRENT_BATCHES = 2


# The tutorial's --num_examples.
DEFAULT_NUM_EXAMPLES = 10000


def parse_args(argv):
    """Parses the evaluator's command line.

    Args:
      argv: Arguments without the program name.

    Returns:
      An argparse.Namespace.
    """
    parser = flags.new_parser('Evaluate CIFAR-10 checkpoints.')
    parser.add_argument('--eval_dir', default=None,
                        help='Directory where to write event logs (default: '
                             '/tmp/cifar10_eval for CIFAR-10, else '
                             '--checkpoint_dir with _eval added).')
    parser.add_argument('--eval_data', default='test',
                        choices=('test', 'train_eval'),
                        help="Evaluate on the test file or on the training files.")
    parser.add_argument('--checkpoint_dir', default='/tmp/cifar10_train',
                        help='Directory where to read model checkpoints.')
    parser.add_argument('--eval_interval_secs', type=flags.positive_float,
                        default=300,
                        help='In watch mode, least time between the starts of '
                             'two evaluations.')
    parser.add_argument('--num_examples', type=flags.positive_int,
                        default=None,
                        help="Number of examples to run (default: the "
                             "tutorial's 10,000; with --dataset=custom, every "
                             'record of --eval_data).')
    flags.add_bool_flag(parser, 'run_once', False,
                        'Whether to run eval only once.')
    flags.add_dataset_flags(parser)
    flags.add_model_flag(parser)
    flags.add_input_pipeline_flag(
        parser, cifar10.EVAL_INPUT_PIPELINES,
        'How the records are read: queue runners (queues) or tf.data '
        '(tf_data); both count every record exactly once, with the same '
        'preprocessing.')
    parser.add_argument('--batch_size', type=flags.positive_int,
                        default=128, help='Number of images per batch.')
    parser.add_argument('--concurrent_batches', type=flags.positive_int,
                        default=DEFAULT_CONCURRENT_BATCHES,
                        help='Batches evaluated at the same time, each by its '
                             'own session run; results do not depend on it.')
    flags.add_session_flags(parser)
    flags.add_bool_flag(parser, 'use_moving_averages', True,
                        'Restore the moving averages of the weights, '
                        'as the tutorial does; false evaluates the raw '
                        'trained weights.')
    flags.add_bool_flag(parser, 'use_fp16', False,
                        'Evaluate in fp16 (for checkpoints trained with '
                        '--use_fp16).')
    args = parser.parse_args(argv)
    if args.eval_dir is None:
        args.eval_dir = flags.output_folder(args, '/tmp/cifar10_eval', '_eval')
    return args


@dataclasses.dataclass
class EvalResult:
    """What one evaluation found.

    Attributes:
      precision: Fraction of examples whose top-1 prediction is right.
      global_step: The checkpoint's global step.
      confusion: [C, C] counts (C classes), rows true classes, columns
        predicted classes.
      roc_auc: [C] ROC AUC of each class against the rest (NaN if
        undefined).
      average_precision: [C] average precision of each class.
    """
    precision: float
    global_step: int
    confusion: np.ndarray
    roc_auc: np.ndarray
    average_precision: np.ndarray


class Evaluator:
    """The evaluation graph, built once and run once per checkpoint."""

    def __init__(self, eval_data, data_dir, batch_size, num_examples,
                 eval_dir, config=None, use_fp16=False,
                 use_moving_averages=True,
                 concurrent_batches=DEFAULT_CONCURRENT_BATCHES,
                 network=cifar10.Network(), dataset=datasets.CIFAR10,
                 pipeline='queues'):
        """Builds the graph.

        Args:
          eval_data: 'test' or 'train_eval'.
          data_dir: The CIFAR-10 data directory.
          batch_size: Examples per batch.
          num_examples: Examples to evaluate; capped at the records there are.
          eval_dir: Directory for the summaries.
          config: A tf.compat.v1.ConfigProto for the sessions.
          use_fp16: Build the model in float16.
          use_moving_averages: Restore the moving averages of the weights
            (as the tutorial does); False restores the raw trained weights.
          concurrent_batches: Batches evaluated at the same time.
          network: The cifar10.Network the checkpoints hold.
          dataset: The data set (a datasets.Dataset).
          pipeline: 'queues' or 'tf_data' (cifar10.inputs).

        Raises:
          DataError: if a data file is missing or malformed.
        """
        self.graph = tf.Graph()
        self._config = config
        self._batch_size = batch_size
        self._concurrent_batches = concurrent_batches
        with self.graph.as_default():
            with tf.device('/cpu:0'):
                images, labels, num_records = cifar10.inputs(
                    eval_data, data_dir, batch_size, use_fp16=use_fp16,
                    dataset=dataset, pipeline=pipeline)
            if num_examples > num_records:
                print(f'warning: --num_examples={num_examples} but the '
                      f'{eval_data} data holds {num_records} records; '
                      f'evaluating each of them once.', file=sys.stderr)
                num_examples = num_records
            self.num_examples = num_examples
            self.class_names = dataset.class_names_in(dataset.folder(data_dir))
            logits = network.logits(images)
            # Top-1 predictions, class probabilities and the labels feed
            # every metric: precision @ 1, per-class figures, the confusion
            # matrix and the ranking figures and curves, in one pass.
            self._fetches = [
                labels, tf.argmax(logits, axis=1, output_type=tf.int32),
                tf.nn.softmax(tf.cast(logits, tf.float32))]
            self._saver = cifar10.restoring_saver(use_moving_averages)
            self._summary_op = tf1.summary.merge_all()
            # The queues' epoch counter, or the tf.data iterator.
            self._init_local = tf.group(
                tf1.local_variables_initializer(),
                *tf1.get_collection(tf_data.INITIALIZERS))
            self._writer = tf1.summary.FileWriter(eval_dir, self.graph)
            self.graph.finalize()

    def close(self):
        self._writer.close()

    def evaluate(self, checkpoint_path):
        """Evaluates one checkpoint, prints and records the results.

        Args:
          checkpoint_path: Checkpoint prefix to restore.

        Returns:
          An EvalResult.

        Raises:
          CheckpointGone: if the checkpoint's files are gone.
          DataError: if the checkpoint is damaged or from another model.
        """
        with self.graph.as_default():
            cifar10.check_checkpoint_fits(checkpoint_path)
        with tf1.Session(graph=self.graph, config=self._config) as sess:
            sess.run(self._init_local)
            global_step = checkpoints.restore_checkpoint(
                self._saver, sess, checkpoint_path)
            coord = tf1.train.Coordinator()
            threads = tf1.train.start_queue_runners(sess=sess, coord=coord)
            try:
                (labels, predictions, probabilities), summary = _collect(
                    sess, self._fetches, self._summary_op, self.num_examples,
                    self._batch_size, self._concurrent_batches)
            finally:
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=10)
        result = _results(labels, predictions, probabilities, global_step,
                          self.class_names)
        self._writer.add_summary(
            _summaries(result, summary, self.class_names, labels, probabilities),
            result.global_step)
        self._writer.flush()
        return result


def _collect(sess, fetches, summary_op, num_examples, batch_size,
             concurrent_batches):
    """Runs the evaluation batches of one checkpoint.

    The input keeps file order, so the batches handed out are the first
    ones of the file whoever runs them. The whole batches that lie within
    num_examples run several at once, in any order, and the first run to
    start also runs the summaries (their histograms, single-threaded
    kernels, then overlap the other runs' batches instead of holding up
    the first); the batch that runs past num_examples runs alone after
    them, so it is the last one handed out and only its surplus is
    dropped.

    Args:
      sess: The session, with the checkpoint restored and the input running.
      fetches: The labels, predictions and probabilities of a batch.
      summary_op: The graph's summaries, run with one batch.
      num_examples: Examples to collect.
      batch_size: Examples per batch (the last may hold fewer).
      concurrent_batches: Batches run at the same time.

    Returns:
      ([labels, predictions, probabilities] for exactly num_examples
      examples, the serialized summaries).

    Raises:
      DataError: if the input ends before num_examples examples.
    """
    summary = {}
    lock = threading.Lock()

    def run():
        with lock:
            carries_summary = 'value' not in summary
            summary.setdefault('value', None)
        if not carries_summary:
            return tuple(sess.run(fetches))
        *batch, summary['value'] = sess.run(fetches + [summary_op])
        return tuple(batch)

    try:
        batches = _run_concurrently(run, num_examples // batch_size,
                                    concurrent_batches)
        total = sum(len(batch[0]) for batch in batches)
        while total < num_examples:
            batches.append(run())
            total += len(batches[-1][0])
    except tf.errors.OutOfRangeError:
        raise cifar10.DataError(
            f'the input ended before {num_examples} examples') from None
    # Only the last batch can run past num_examples.
    return [np.concatenate([batch[i] for batch in batches])[:num_examples]
            for i in range(len(fetches))], summary['value']


def _results(labels, predictions, probabilities, global_step, class_names):
    """Computes and prints one checkpoint's figures; returns an EvalResult."""
    confusion = scores.confusion_matrix(labels, predictions, len(class_names))
    auc, ap = scores.ranking_metrics(labels, probabilities)
    result = EvalResult(precision=float(np.trace(confusion)) / len(labels),
                        global_step=global_step, confusion=confusion,
                        roc_auc=auc, average_precision=ap)
    print(f'{datetime.now()}: precision @ 1 = {result.precision:.3f}',
          flush=True)
    print(scores.format_report(confusion, class_names, auc, ap), flush=True)
    return result


def _summaries(result, graph_summary, class_names, labels, probabilities):
    """The metrics of one checkpoint as a Summary for TensorBoard: the
    graph's own summaries, precision @ 1, the per-class scalars, a
    precision-recall curve per class and the confusion matrix picture."""
    summary = tf1.Summary()
    summary.ParseFromString(graph_summary)
    summary.value.add(tag='Precision @ 1', simple_value=result.precision)
    for tag, value in summaries.summary_values(
            result.confusion, class_names, result.roc_auc,
            result.average_precision):
        summary.value.add(tag=tag, simple_value=value)
    # One precision-recall curve per class, as the PR-curves dashboard
    # reads them: a [6, thresholds] tensor with the plugin's metadata.
    content = summaries.pr_curve_plugin_content()
    for c, name in enumerate(class_names):
        data = summaries.pr_curve(labels == c, probabilities[:, c])
        summary.value.add(
            tag=f'PR curve/{name}', tensor=tf.make_tensor_proto(data),
            metadata=tf1.SummaryMetadata(
                display_name=f'PR curve/{name}',
                plugin_data=tf1.SummaryMetadata.PluginData(
                    plugin_name=summaries.PR_CURVES_PLUGIN,
                    content=content)))
    image = summaries.confusion_image(result.confusion)
    summary.value.add(tag='Confusion matrix', image=tf1.Summary.Image(
        height=image.shape[0], width=image.shape[1], colorspace=3,
        encoded_image_string=summaries.encode_png(image)))
    return summary


class _Skipped(Exception):
    """A call not made because an earlier one failed."""


def _run_concurrently(run, count, num_threads):
    """Calls ``run()`` ``count`` times, up to ``num_threads`` calls at once.

    Args:
      run: The function to call.
      count: How many calls.
      num_threads: Most calls in progress at one time.

    Returns:
      The calls' results, in the order the calls were made.

    Raises:
      What the first failed call (in the order made) raised, once the
      calls in progress have returned. Once a call has failed no other
      starts, however late the caller notices: at most num_threads - 1
      calls that were already running finish after it.
    """
    if count == 0:
        return []
    failed = threading.Event()

    def guarded():
        if failed.is_set():
            raise _Skipped()
        try:
            return run()
        except BaseException:
            failed.set()
            raise

    with concurrent.futures.ThreadPoolExecutor(num_threads) as pool:
        futures = [pool.submit(guarded) for _ in range(count)]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def default_num_examples(dataset, eval_data):
    """Examples evaluated without --num_examples: the tutorial's 10,000 (all
    of CIFAR-10's test file), or every record of a custom data set's."""
    if dataset.name == 'custom':
        return dataset.num_test if eval_data == 'test' else dataset.num_train
    return DEFAULT_NUM_EXAMPLES


def evaluate(args):
    """Evaluates once or watches the checkpoint directory.

    Args:
      args: Parsed flags (see parse_args).

    Returns:
      The exit status.
    """
    if args.run_once:
        # Fail before any data handling if there is nothing to evaluate.
        checkpoints.newest_checkpoint(args.checkpoint_dir)
    checkpoints.ensure_directory(args.eval_dir, '--eval_dir',
                                 create=False)
    dataset = datasets.from_flags(args)
    network = flags.network_from_flags(args)
    cifar10.maybe_download_and_extract(args.data_dir, dataset=dataset)
    num_examples = args.num_examples or default_num_examples(dataset,
                                                             args.eval_data)
    evaluator = Evaluator(args.eval_data, args.data_dir, args.batch_size,
                          num_examples, args.eval_dir,
                          session.session_config_from_flags(args),
                          use_fp16=args.use_fp16,
                          use_moving_averages=args.use_moving_averages,
                          concurrent_batches=args.concurrent_batches,
                          network=network, dataset=dataset,
                          pipeline=args.input_pipeline)
    print(f'Evaluating {network.describe()} on {dataset.describe()}, '
          f'{args.eval_data} data.', flush=True)
    print(kernels.describe(requested=args.onednn), flush=True)
    try:
        if args.run_once:
            ckpt = checkpoints.newest_checkpoint(args.checkpoint_dir)
            try:
                evaluator.evaluate(ckpt)
            except checkpoints.CheckpointGone:
                raise cifar10.DataError(f'checkpoint {ckpt} vanished before it '
                                        'could be restored') from None
            return 0
        return _watch(evaluator, args.checkpoint_dir, args.eval_interval_secs)
    finally:
        evaluator.close()


def _watch(evaluator, checkpoint_dir, interval_secs):
    """Evaluates each new checkpoint once, until Ctrl-C or SIGTERM."""
    print(f'Watching {checkpoint_dir} for new checkpoints (Ctrl-C to stop).',
          flush=True)
    last_path = None
    next_start = 0.0
    stopper = cli.GracefulStop(quiet=True)
    with stopper:
        while not stopper.requested:
            now = time.monotonic()
            ckpt = checkpoints.latest_checkpoint(checkpoint_dir)
            if ckpt and ckpt != last_path and now >= next_start:
                next_start = now + interval_secs
                last_path = ckpt
                try:
                    evaluator.evaluate(ckpt)
                except checkpoints.CheckpointGone:
                    # The trainer keeps only its newest checkpoints.
                    print(f'{ckpt} was removed before it could be evaluated; '
                          'waiting for the next checkpoint.', flush=True)
                    continue
                except cifar10.DataError as e:
                    # A damaged checkpoint need not stop the watch: the
                    # trainer's next one may be fine.
                    print(f'error: {e}; waiting for the next checkpoint.',
                          file=sys.stderr, flush=True)
            time.sleep(_POLL_SECS)
    print(f'{stopper.signal_name} received: stopped watching.', flush=True)
    return 0


def main(argv=None):
    """Entry point: parses flags, evaluates, exits with a status."""
    cli.run_main(lambda a: evaluate(parse_args(a)), argv)


if __name__ == '__main__':
    main()
