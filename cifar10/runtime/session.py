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
"""How the scripts' sessions are configured.

Thread pools, placement, allocator and XLA settings, and the defaults that
follow the device (batch splits, the LRN gradient).
"""

import os

import tensorflow as tf

tf1 = tf.compat.v1


def session_config(log_device_placement=False, intra_op_threads=0,
                   inter_op_threads=0, xla=False, bfc_allocator=True):
    """Returns the session settings every script uses.

    Soft placement lets graphs that ask for devices this machine lacks run
    on what it has. The thread pools default to TensorFlow's own choice
    from the machine's core count, which measured as fast as any fixed
    setting on the 2-core machines here (see docs/performance.md).

    Args:
      log_device_placement: Log the device each op runs on.
      intra_op_threads: Threads within one op; 0 for one per core.
      inter_op_threads: Ops run concurrently; 0 for TensorFlow's choice.
      xla: Turn on XLA auto-clustering (global JIT).
      bfc_allocator: Use TensorFlow's BFC allocator for CPU tensors. It is
        chosen once per process, when the first session starts, from the
        environment variable TF_CPU_ALLOCATOR_USE_BFC, which this sets.

    Returns:
      A tf.compat.v1.ConfigProto.
    """
    os.environ['TF_CPU_ALLOCATOR_USE_BFC'] = 'true' if bfc_allocator else 'false'
    config = tf1.ConfigProto(allow_soft_placement=True,
                             log_device_placement=log_device_placement,
                             intra_op_parallelism_threads=intra_op_threads,
                             inter_op_parallelism_threads=inter_op_threads)
    if xla:
        config.graph_options.optimizer_options.global_jit_level = (
            tf1.OptimizerOptions.ON_1)
    return config


def visible_gpus():
    """Returns how many GPUs TensorFlow sees."""
    return len(tf.config.list_physical_devices('GPU'))


def default_batch_splits(num_cores=None, num_gpus=None):
    """How many parts cifar10_train.py splits each batch into by default.

    One batch's ops form a chain that keeps a multi-core CPU's cores busy
    only ~93% of a step here; two half-batches side by side fill the gaps
    (model step +4% on 2 cores, see docs/performance.md). On a GPU, halves
    would only make its kernels smaller.

    Args:
      num_cores: CPU cores; None to ask the machine.
      num_gpus: GPUs; None to ask TensorFlow.

    Returns:
      2 on a CPU-only machine with at least 2 cores, else 1.
    """
    if num_cores is None:
        num_cores = os.cpu_count() or 1
    if num_gpus is None:
        num_gpus = visible_gpus()
    return 2 if num_gpus == 0 and num_cores >= 2 else 1


def default_lrn_gradient(num_gpus=None):
    """How the trainers compute the LRN gradients by default.

    On a CPU the banded matrix products ('matmul') train faster than
    TensorFlow's LRN op and LRNGrad kernel (see docs/performance.md); on a
    GPU those kernels (cuDNN's) are the known-good choice, and nothing here
    measured the matrix products there.

    Args:
      num_gpus: GPUs; None to ask TensorFlow.

    Returns:
      'builtin' with a GPU visible, else 'matmul' (one of
      cifar10.LRN_GRADIENTS).
    """
    if num_gpus is None:
        num_gpus = visible_gpus()
    return 'builtin' if num_gpus > 0 else 'matmul'


def session_config_from_flags(args):
    """session_config() with the knobs of add_session_flags."""
    return session_config(args.log_device_placement, args.intra_op_threads,
                          args.inter_op_threads, args.xla, args.bfc_allocator)
