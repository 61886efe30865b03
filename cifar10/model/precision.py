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
"""Mixed precision (--precision): which ops compute in bfloat16, and where
that pays.

Two policies, named as Keras names them:
- 'float32': everything in float32, the tutorial's.
- 'mixed_bfloat16': the convolutions and matrix products, forward and
  backward, compute in bfloat16 (8 bits of mantissa, float32's range);
  everything else stays float32: the variables, their moving averages and
  so the checkpoints (interchangeable with float32 runs and the
  original's), the local response normalizations, pool2, the loss,
  softmax and weight decay, and the optimizer. Each product casts its two
  operands to bfloat16 and its result back to float32; the gradient of
  each cast is the opposite cast, so the products' gradients are bfloat16
  products too and every gradient that reaches a variable is float32. A
  convolution's bias and ReLU are fused into it, in bfloat16, forward;
  their gradients are float32 (conv2d_bias_relu); the other layers'
  biases and ReLUs are float32. On a CPU, pool1 pools conv1's bfloat16
  output, and its gradient is routed in bfloat16
  (conv2d_bias_relu_max_pool): max pooling only picks values, so this
  changes no value forward.

Why not more in bfloat16: TensorFlow's LRN kernels have no bfloat16
version, and its own automatic rewrite, which puts every pooling in
bfloat16, measured slower (docs/design-notes.md); keeping the element-wise
work in float32 costs one cast of each product's output and of its
gradient.

Why only where the processor has it: bfloat16 products are fast on
processors with native bfloat16 arithmetic (x86 with AVX512_BF16 or AMX,
recent Arm with BF16; NVIDIA GPUs from Ampere, compute capability 8.0, on;
TPUs). Elsewhere oneDNN emulates them with AVX-512, and training is slower
than in float32; without AVX-512 (or with oneDNN off) TensorFlow computes
them in its generic kernels, ten times slower than float32
(bfloat16_support decides; the trainers warn, or refuse).
"""

import os

import tensorflow as tf

from cifar10.runtime import session
from cifar10.runtime.kernels import cpu_flags
from cifar10.runtime.kernels import onednn_enabled

POLICIES = ('float32', 'mixed_bfloat16')
DEFAULT_POLICY = 'float32'

# CPU feature flags (as Linux's /proc/cpuinfo names them) that give native
# bfloat16 arithmetic to oneDNN's products.
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')
# NVIDIA GPUs compute in bfloat16 from Ampere on.
BF16_GPU_CAPABILITY = (8, 0)


def check(policy):
    """Raises ValueError for a name not in POLICIES."""
    if policy not in POLICIES:
        raise ValueError(f'precision must be one of {POLICIES}, not {policy!r}')


def _in_bfloat16(policy, *tensors):
    """Whether a product of these tensors computes in bfloat16."""
    check(policy)
    # A float16 model (--use_fp16) keeps its own type.
    return policy == 'mixed_bfloat16' and all(t.dtype == tf.float32 for t in tensors)


def conv2d_bias_relu(inputs, kernel, biases, padding, name,
                     policy=DEFAULT_POLICY):
    """relu(conv2d(inputs, kernel) + biases), stride 1, in the policy's type
    for the convolution, returned in the inputs' type.

    Under mixed_bfloat16 the forward pass is one bfloat16 convolution with
    its bias and ReLU fused in (oneDNN adds them to its float32 sums before
    rounding the result once to bfloat16); the backward pass takes the
    ReLU's and the bias's gradients in float32, where TensorFlow's CPU
    kernels are fast, and only the convolution's two gradients in
    bfloat16. The bias and ReLU would otherwise be two float32 ops of their
    own on the convolution's output: this way the mixed training step ran
    1.03x as fast (docs/design-notes.md).

    Args:
      inputs: [batch, H, W, C] float tensor.
      kernel: The filter variable (float32 under both policies).
      biases: The bias variable, [out channels].
      padding: As tf.nn.conv2d's.
      name: The name of the result.
      policy: One of POLICIES.

    Returns:
      The activations, [batch, H', W', out channels].
    """
    if not _in_bfloat16(policy, inputs, kernel):
        return tf.nn.relu(tf.nn.bias_add(
            tf.nn.conv2d(inputs, kernel, 1, padding=padding), biases),
            name=name)

    @tf.custom_gradient
    def fused(x, k, b):
        x16, k16, y16 = _bfloat16_conv2d_bias_relu(x, k, b, padding)
        y = tf.cast(y16, tf.float32)

        def grad(dy):
            dz = tf.raw_ops.ReluGrad(gradients=dy, features=y)
            dx, dk = _conv2d_gradients(x16, k16, tf.cast(dz, tf.bfloat16), padding)
            return dx, dk, tf.raw_ops.BiasAddGrad(out_backprop=dz)

        return y, grad

    return tf.identity(fused(inputs, kernel, biases), name=name)


def conv2d_bias_relu_max_pool(inputs, kernel, biases, padding, name, pool,
                              policy=DEFAULT_POLICY):
    """conv2d_bias_relu followed by a max pooling, as (activation, pooled).

    In float32, and on a machine with a GPU, this is exactly
    conv2d_bias_relu and then ``pool``. Under mixed_bfloat16 on a CPU the
    pooling, too, runs on the convolution's bfloat16
    output, and only its output, a quarter of the size at stride 2, is
    cast to float32; max pooling only picks values, so the pooled values
    are the same as when pooling the float32 cast. The backward pass
    starts from the pooled gradient: the ReLU's gradient is masked there
    (the value a window passes on is positive exactly where the ReLU let
    it through), the bias's gradient is that masked gradient's sum (each
    window hands its gradient to one position), and the pooling's
    gradient routes it, in bfloat16, to the convolution's two bfloat16
    gradients. On conv1's large output (24 x 24 x 64 an image) this drops
    a float32 cast each way, the float32 ReLU and bias gradients and half
    the bytes of both poolings: the mixed training step ran 1.07-1.09x as
    fast (docs/design-notes.md). Where two pooling windows overlap, their
    gradients meet in bfloat16 rather than float32, a rounding the
    convolution's bfloat16 gradients make anyway.

    Args:
      inputs, kernel, biases, padding, name, policy: as conv2d_bias_relu.
      pool: Builds the max pooling (and names it): a function of a tensor
        returning a MaxPool op's output.

    Returns:
      (activation, pooled): the convolution's activations as
      conv2d_bias_relu returns them (under mixed_bfloat16 a float32 cast
      for the summaries, which the training step itself does not run),
      and their max pooling.
    """
    # Measured on CPUs only: with a GPU visible, the pooling stays float32,
    # as it was there before.
    if not _in_bfloat16(policy, inputs, kernel) or session.visible_gpus():
        activation = conv2d_bias_relu(inputs, kernel, biases, padding, name, policy)
        return activation, pool(activation)
    inner = {}

    @tf.custom_gradient
    def fused(x, k, b):
        x16, k16, y16 = _bfloat16_conv2d_bias_relu(x, k, b, padding)
        pooled16 = pool(y16)
        if pooled16.op.type != 'MaxPool':
            raise ValueError(f'pool must build a MaxPool op, not {pooled16.op.type}')
        pooled = tf.cast(pooled16, tf.float32)
        inner['activation'] = y16

        def grad(dpooled):
            # Positive pooled values are the ReLU's passed ones.
            dpooled = tf.raw_ops.ReluGrad(gradients=dpooled, features=pooled)
            attrs = {key: pooled16.op.get_attr(key)
                     for key in ('ksize', 'strides', 'padding', 'data_format')}
            dz16 = tf.raw_ops.MaxPoolGrad(
                orig_input=y16, orig_output=pooled16,
                grad=tf.cast(dpooled, tf.bfloat16), **attrs)
            dx, dk = _conv2d_gradients(x16, k16, dz16, padding)
            return dx, dk, tf.reduce_sum(dpooled, axis=[0, 1, 2])

        return pooled, grad

    pooled = fused(inputs, kernel, biases)
    activation = tf.cast(inner['activation'], tf.float32, name=name)
    return activation, pooled


def _bfloat16_conv2d_bias_relu(x, k, b, padding):
    """(x, k in bfloat16, relu(conv2d(x, k) + b) in bfloat16), stride 1:
    the forward pass oneDNN fuses into one convolution."""
    x16, k16 = tf.cast(x, tf.bfloat16), tf.cast(k, tf.bfloat16)
    y16 = tf.nn.relu(tf.nn.bias_add(
        tf.nn.conv2d(x16, k16, 1, padding=padding), tf.cast(b, tf.bfloat16)))
    return x16, k16, y16


def _conv2d_gradients(x16, k16, dz16, padding):
    """A stride-1 bfloat16 convolution's input and kernel gradients from
    its bfloat16 output gradient, each returned in float32."""
    dx = tf.raw_ops.Conv2DBackpropInput(
        input_sizes=tf.shape(x16), filter=k16, out_backprop=dz16,
        strides=[1, 1, 1, 1], padding=padding)
    dk = tf.raw_ops.Conv2DBackpropFilter(
        input=x16, filter_sizes=tf.shape(k16), out_backprop=dz16,
        strides=[1, 1, 1, 1], padding=padding)
    return tf.cast(dx, tf.float32), tf.cast(dk, tf.float32)


def matmul(a, b, policy=DEFAULT_POLICY):
    """tf.matmul (batched too) computed in the policy's type, returned in
    the operands'."""
    if not _in_bfloat16(policy, a, b):
        return tf.matmul(a, b)
    return tf.cast(tf.matmul(tf.cast(a, tf.bfloat16), tf.cast(b, tf.bfloat16)),
                   tf.float32)


def gpu_capabilities():
    """Compute capabilities ((major, minor)) of the visible GPUs."""
    out = []
    for gpu in tf.config.list_physical_devices('GPU'):
        details = tf.config.experimental.get_device_details(gpu)
        out.append(tuple(details.get('compute_capability') or (0, 0)))
    return out


# ONEDNN_MAX_CPU_ISA values that keep oneDNN below its bfloat16
# instructions (it then emulates them with AVX-512), and those that leave
# it no bfloat16 convolution at all.
_ISA_EMULATED = ('AVX512_CORE', 'AVX512_CORE_VNNI')
_ISA_NONE = ('SSE41', 'AVX', 'AVX2', 'AVX2_VNNI')


def bfloat16_support(flags=None, capabilities=None, isa=None, onednn=None):
    """Decides how this machine computes bfloat16 products.

    With a GPU visible, the products run there: native if every GPU is
    Ampere (compute capability 8.0) or newer. On an x86 CPU, which kernels
    compute them decides:
    - oneDNN, which TensorFlow gives bfloat16 products only on a CPU with
      AVX-512 (or AVX-NE-CONVERT): 'native' with one of BF16_CPU_FLAGS; 'emulated' with
      AVX-512 alone (measured here with the bfloat16 instructions turned
      off: a training step takes 2.5x as long as in float32); 'none' when
      ONEDNN_MAX_CPU_ISA caps oneDNN below AVX-512 (TensorFlow still hands
      it the products, and it fails to create the convolution).
    - TensorFlow's generic kernels, without AVX-512 or with oneDNN off:
      'generic', they compute but slowly (measured here with oneDNN off:
      0.10x the speed of float32).
    An Arm CPU is native with BF16, else emulated. A CPU whose flags the
    system does not list (macOS, Windows) counts as emulated: it may run,
    slowly.

    Args:
      flags: The CPU's feature flags (None: cpu_flags()).
      capabilities: The GPUs' compute capabilities (None: ask TensorFlow).
      isa: ONEDNN_MAX_CPU_ISA, which caps oneDNN's instructions (None: the
        environment's).
      onednn: Whether TensorFlow's oneDNN kernels are on (None:
        onednn_enabled()).

    Returns:
      (support, device): 'native', 'emulated', 'generic' or 'none', and the
      device in a phrase for messages ('this CPU (AVX512_BF16)').
    """
    if capabilities is None:
        capabilities = gpu_capabilities()
    if capabilities:
        old = [(i, c) for i, c in enumerate(capabilities)
               if tuple(c) < BF16_GPU_CAPABILITY]
        if old:
            index, (major, minor) = old[0]
            return 'emulated', f'GPU {index} (compute capability {major}.{minor})'
        return 'native', 'the GPUs'
    if flags is None:
        flags = cpu_flags()
    if not flags:
        return 'emulated', 'this CPU (its features unlisted)'
    native = [f for f in BF16_CPU_FLAGS if f in flags]
    if 'asimd' in flags:  # Arm
        if native:
            return 'native', f'this CPU ({", ".join(f.upper() for f in native)})'
        return 'emulated', 'this CPU (no BF16)'
    # TensorFlow hands oneDNN bfloat16 products on these only (its
    # IsBF16SupportedByOneDNNOnThisCPU).
    if 'avx512f' not in flags and 'avx_ne_convert' not in flags:
        return 'generic', 'this CPU (no AVX-512)'
    if onednn is None:
        onednn = onednn_enabled()
    if not onednn:
        return 'generic', "this CPU (TensorFlow's oneDNN kernels off)"
    if isa is None:
        isa = os.environ.get('ONEDNN_MAX_CPU_ISA', '')
    isa = isa.upper()
    if isa in _ISA_NONE:
        return 'none', f'this CPU (ONEDNN_MAX_CPU_ISA={isa})'
    if native and isa not in _ISA_EMULATED:
        return 'native', f'this CPU ({", ".join(f.upper() for f in native)})'
    if isa in _ISA_EMULATED:
        return 'emulated', f'this CPU (ONEDNN_MAX_CPU_ISA={isa})'
    return 'emulated', 'this CPU (no AVX512_BF16, AMX or BF16)'


# The training step's time with emulated bfloat16 against float32, as
# measured (docs/mixed-precision.md): 3,182 against 1,284 examples/sec.
EMULATED_SLOWDOWN = 2.5
# The model step's speed in TensorFlow's generic kernels, mixed_bfloat16
# against float32 (oneDNN off; docs/mixed-precision.md): 114 against 1,119
# examples/sec.
GENERIC_SLOWDOWN = 10


def runs_here(support=None):
    """Whether bfloat16 products compute on this machine at all (slowly or
    not): False only where oneDNN is handed them and cannot.

    Args:
      support: bfloat16_support()'s answer (None: ask it).
    """
    state, _ = support if support is not None else bfloat16_support()
    return state != 'none'


def check_device(policy, support=None):
    """What a trainer says about the policy on this machine.

    Args:
      policy: One of POLICIES.
      support: bfloat16_support()'s answer (None: ask it).

    Returns:
      (error, warning): a one-line reason to refuse the run, or a one-line
      warning; each None when there is nothing to say.
    """
    check(policy)
    if policy != 'mixed_bfloat16':
        return None, None
    state, device = support if support is not None else bfloat16_support()
    if state == 'none':
        return (f'{device} has no bfloat16 convolutions in TensorFlow\'s CPU '
                'kernels (oneDNN needs AVX-512); use --precision=float32'), None
    if state == 'generic':
        return (f'{device} has no fast bfloat16 products: TensorFlow\'s generic '
                f'kernels compute them about {GENERIC_SLOWDOWN}x slower than '
                'float32 (measured); use --precision=float32'), None
    if state == 'emulated':
        return None, (f'warning: {device} has no native bfloat16 arithmetic: '
                      '--precision=mixed_bfloat16 is emulated there, and a '
                      f'training step takes about {EMULATED_SLOWDOWN:g}x as long '
                      'as in float32 (measured); use --precision=float32')
    return None, None
