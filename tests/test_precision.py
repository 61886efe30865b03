"""Tests of mixed precision (--precision=mixed_bfloat16)."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf

from cifar10 import cifar10
from cifar10 import cifar10_eval
from cifar10 import cifar10_train
from cifar10.model import layers
from cifar10.model import precision

from conftest import FAST_TRAIN_FLAGS, run_in_process, run_script

tf1 = tf.compat.v1

# The ops whose type the policy decides, by what they compute.
PRODUCTS = ('Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MatMul',
            'BatchMatMulV2')
KEPT_FLOAT32 = ('MaxPool', 'MaxPoolGrad', 'LRN', 'Relu', 'ReluGrad', 'BiasAdd',
                'BiasAddGrad', 'SparseSoftmaxCrossEntropyWithLogits', 'L2Loss',
                'ResourceApplyGradientDescent')


def _train_graph(policy, model='tutorial', splits=1, batch=16):
    rng = np.random.RandomState(0)
    images = tf.constant(rng.randn(batch, 24, 24, 3).astype(np.float32))
    labels = tf.constant(rng.randint(0, 10, batch).astype(np.int32))
    global_step = tf1.train.get_or_create_global_step()
    return cifar10_train.build_train_op(
        images, labels, global_step, batch, splits,
        cifar10.Network(model=model, precision=policy))


def _op_types(graph, where=lambda name: True):
    """{op type: set of the dtypes of its 'T' attribute} over the graph's
    ops whose name ``where`` accepts."""
    types = {}
    for op in graph.get_operations():
        try:
            dtype = op.get_attr('T')
        except ValueError:
            continue
        if isinstance(dtype, list) or not where(op.name):
            continue
        types.setdefault(op.type, set()).add(tf.as_dtype(dtype).name)
    return types


def _in_lrn(name):
    return 'norm1' in name or 'norm2' in name


def _in_conv_forward(name):
    """The forward ops of conv1 and conv2 (not their gradients)."""
    return re.match(r'(tower_\d+/)?conv[12]/', name) is not None


def _in_pool1(name):
    """pool1 and its gradient, which under mixed precision run on conv1's
    bfloat16 output (precision.conv2d_bias_relu_max_pool)."""
    return re.match(r'(tower_\d+/)?pool1$', name) is not None or (
        'gradients' in name and '/conv1/' in name and 'MaxPoolGrad' in name)


def _skip_unless_bfloat16_runs():
    """Skips a test that runs bfloat16 products where they cannot run:
    where oneDNN is handed them but capped below AVX-512, it fails to
    create the convolution. (Everywhere else they run, if slowly.)"""
    support = precision.bfloat16_support()
    if not precision.runs_here(support):
        pytest.skip(f'{support[1]} cannot compute bfloat16 convolutions: '
                    'oneDNN is capped below AVX-512')


@pytest.mark.parametrize('model, splits', [('tutorial', 1), ('local', 2)])
def test_products_in_bfloat16_everything_else_float32(model, splits):
    # Two splits: the towers of the multi-GPU trainer (and --batch_splits).
    with tf.Graph().as_default() as graph:
        train_op, loss, _ = _train_graph('mixed_bfloat16', model, splits)
        types = _op_types(graph, lambda name: not _in_lrn(name)
                          and not _in_conv_forward(name) and not _in_pool1(name))
        # conv1's max pooling, forward and backward, is bfloat16: it only
        # picks and routes the convolution's bfloat16 values.
        pool1 = _op_types(graph, _in_pool1)
        assert pool1 == {'MaxPool': {'bfloat16'}, 'MaxPoolGrad': {'bfloat16'}}, pool1
        # A convolution's bias and ReLU are fused into it, in bfloat16, in
        # the forward pass; their gradients are float32 (see below).
        conv_forward = _op_types(graph, _in_conv_forward)
        assert (conv_forward['Conv2D'] == conv_forward['BiasAdd']
                == conv_forward['Relu'] == {'bfloat16'}), conv_forward
        for op in PRODUCTS:
            if op in types:
                assert types[op] == {'bfloat16'}, (op, types[op])
        assert {'Conv2DBackpropInput', 'Conv2DBackpropFilter'} <= set(types)
        assert ('MatMul' if model == 'tutorial' else 'BatchMatMulV2') in types
        for op in KEPT_FLOAT32:
            assert types.get(op, {'float32'}) == {'float32'}, (op, types.get(op))
        # The local response normalizations are float32 throughout (their
        # window sums are float32 products: in bfloat16 the casts cost
        # more than the products gain).
        lrn = _op_types(graph, _in_lrn)
        assert 'MatMul' in lrn and all(t == {'float32'} for t in lrn.values()), lrn
        # Every variable, moving average and loss stays float32.
        assert {v.dtype.base_dtype for v in tf1.global_variables()} <= {tf.float32, tf.int64}
        assert loss.dtype == tf.float32
        # Casts: each product's two operands in, its result out (and their
        # gradients back); the LRN gradient's products stay float32.
        casts = [op for op in graph.get_operations() if op.type == 'Cast']
        assert casts and all({op.get_attr('SrcT'), op.get_attr('DstT')}
                             <= {tf.float32, tf.bfloat16, tf.int32, tf.int64}
                             for op in casts)
    with tf.Graph().as_default() as graph:
        _train_graph('float32', model)
        assert 'bfloat16' not in {t for ts in _op_types(graph).values() for t in ts}


def test_pool1_stays_float32_where_a_gpu_is_visible(monkeypatch):
    # Measured on CPUs only; on a GPU the graph stays what it was.
    real = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, 'list_physical_devices',
                        lambda kind=None: ['GPU:0'] if kind == 'GPU' else real(kind))
    with tf.Graph().as_default() as graph:
        _train_graph('mixed_bfloat16')
        types = _op_types(graph)
        assert types['MaxPool'] == types['MaxPoolGrad'] == {'float32'}


def test_pooling_conv1_in_bfloat16_changes_no_value_and_little_gradient():
    """precision.conv2d_bias_relu_max_pool against the convolution and the
    pooling built apart (the float32 graph, and under mixed precision the
    pooling of the float32 cast), on the same weights."""
    _skip_unless_bfloat16_runs()
    rng = np.random.RandomState(2)
    pool = lambda x: layers.max_pool(x, None)
    with tf.Graph().as_default():
        x = tf.constant(rng.randn(8, 24, 24, 3).astype(np.float32))
        kernel = tf1.Variable(0.05 * rng.randn(5, 5, 3, 64).astype(np.float32))
        biases = tf1.Variable(0.1 * rng.randn(64).astype(np.float32))
        upstream = tf.constant(rng.randn(8, 12, 12, 64).astype(np.float32))
        results = {}
        for way, policy in (('apart', 'mixed_bfloat16'), ('together', 'mixed_bfloat16'),
                            ('float32', 'float32')):
            if way == 'apart':
                activation = precision.conv2d_bias_relu(x, kernel, biases, 'SAME', way, policy)
                pooled = pool(activation)
            else:
                activation, pooled = precision.conv2d_bias_relu_max_pool(
                    x, kernel, biases, 'SAME', way, pool, policy)
            results[way] = [activation, pooled] + tf.gradients(
                tf.reduce_sum(pooled * upstream), [kernel, biases])
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            results = sess.run(results)
    apart, together, exact = results['apart'], results['together'], results['float32']
    # Max pooling picks values: pooling the bfloat16 output and casting is
    # pooling the cast, to the bit; so is the activation summarized.
    np.testing.assert_array_equal(together[0], apart[0])
    np.testing.assert_array_equal(together[1], apart[1])
    # The bias gradient: the masked pooled gradient's sum, in float32 both
    # ways (measured: 4.8e-7 of the largest apart).
    np.testing.assert_allclose(together[3], apart[3], rtol=0, atol=1e-4 * np.abs(apart[3]).max())
    # The kernel gradient: bfloat16 either way; the two agree to bfloat16's
    # rounding (measured: 3.3e-3 of the largest; a gradient routed or
    # masked wrongly is off by its own size), and are as far from the
    # float32 graph's, whose activations round differently (measured:
    # 0.143 and 0.143).
    scale = np.abs(exact[2]).max()
    assert np.abs(together[2] - apart[2]).max() < 2e-2 * scale
    assert np.abs(together[2] - exact[2]).max() < 0.3 * scale
    assert np.abs(apart[2] - exact[2]).max() < 0.3 * scale


def test_mixed_loss_and_update_are_close_to_float32():
    """Same weights, same batch: bfloat16 products round to 8 bits of
    mantissa, so the loss agrees to 1% and each update points the same way."""
    _skip_unless_bfloat16_runs()
    initial, results = None, {}
    for policy in precision.POLICIES:
        with tf.Graph().as_default():
            train_op, loss, _ = _train_graph(policy, batch=32)
            variables = {v.op.name: v for v in tf1.trainable_variables()}
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                if initial is None:
                    initial = sess.run(variables)
                else:
                    for name, var in variables.items():
                        var.load(initial[name], sess)
                first = sess.run(loss)
                sess.run(train_op)
                results[policy] = (first, sess.run(variables))
    loss32, vars32 = results['float32']
    loss16, vars16 = results['mixed_bfloat16']
    assert loss16 == pytest.approx(loss32, rel=0.01)
    for name, start in initial.items():
        update32 = vars32[name] - start
        update16 = vars16[name] - start
        # The direction of each variable's update (measured: cosines
        # 0.990-1.000; a wrong type or cast would give no agreement).
        cosine = (update16 * update32).sum() / np.sqrt(
            (update16 ** 2).sum() * (update32 ** 2).sum())
        assert cosine > 0.97, (name, cosine)


def test_a_few_mixed_steps_lower_the_loss():
    _skip_unless_bfloat16_runs()
    rng = np.random.RandomState(1)
    colours = rng.randn(10, 1, 1, 3).astype(np.float32)
    labels = rng.randint(0, 10, 64).astype(np.int32)
    images = colours[labels] + 0.3 * rng.randn(64, 24, 24, 3).astype(np.float32)
    with tf.Graph().as_default():
        tf1.set_random_seed(0)
        global_step = tf1.train.get_or_create_global_step()
        logits = cifar10.inference(tf.constant(images), precision='mixed_bfloat16')
        total = cifar10.loss(logits, tf.constant(labels))
        cross_entropy = tf1.get_default_graph().get_tensor_by_name('cross_entropy:0')
        opt = tf1.train.GradientDescentOptimizer(0.03)
        step = opt.minimize(total, global_step)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            before = sess.run(cross_entropy)
            for _ in range(30):
                sess.run(step)
            after = sess.run(cross_entropy)
    # Measured over graph seeds 0-9 (this test's is 0: 0.315): after ends at
    # 0.27-0.36 of before (2026-12-06, AVX512_BF16).
    assert after < 0.5 * before


def test_bfloat16_support_follows_the_device():
    support = precision.bfloat16_support
    cpu = dict(capabilities=[], isa='', onednn=True)
    avx512 = {'avx2', 'avx512f', 'avx512bw'}
    assert support(flags=avx512 | {'avx512_bf16'}, **cpu) == (
        'native', 'this CPU (AVX512_BF16)')
    assert support(flags=avx512 | {'amx_bf16', 'amx_tile'}, **cpu)[0] == 'native'
    assert support(flags={'fp', 'asimd', 'bf16'}, **cpu)[0] == 'native'  # Arm
    assert support(flags=avx512, **cpu) == (
        'emulated', 'this CPU (no AVX512_BF16, AMX or BF16)')
    assert support(flags={'fp', 'asimd'}, **cpu) == ('emulated', 'this CPU (no BF16)')
    assert support(flags=set(), **cpu) == (  # the system does not say
        'emulated', 'this CPU (its features unlisted)')
    # Without AVX-512, TensorFlow keeps bfloat16 products out of oneDNN
    # (oneDNN on or off) and computes them in its generic kernels; with
    # oneDNN off (TF_ENABLE_ONEDNN_OPTS=0, or by default on a CPU without
    # AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX) on any CPU.
    for onednn in (True, False):
        assert support(flags={'avx2', 'fma', 'avx_vnni'}, capabilities=[], isa='',
                       onednn=onednn) == ('generic', 'this CPU (no AVX-512)')
    assert support(flags=avx512 | {'avx512_bf16'}, capabilities=[], isa='',
                   onednn=False) == ('generic', "this CPU (TensorFlow's oneDNN kernels off)")
    # AVX-NE-CONVERT without AVX-512: oneDNN gets them, and converts only.
    assert support(flags={'avx2', 'avx_vnni', 'avx_ne_convert'}, **cpu) == (
        'emulated', 'this CPU (no AVX512_BF16, AMX or BF16)')
    # ONEDNN_MAX_CPU_ISA caps what oneDNN uses (not what TensorFlow hands it).
    assert support(flags=avx512 | {'avx512_bf16'}, capabilities=[], onednn=True,
                   isa='avx512_core') == ('emulated',
                                          'this CPU (ONEDNN_MAX_CPU_ISA=AVX512_CORE)')
    assert support(flags=avx512 | {'avx512_bf16'}, capabilities=[], onednn=True,
                   isa='AVX2') == ('none', 'this CPU (ONEDNN_MAX_CPU_ISA=AVX2)')
    assert precision.runs_here(('generic', 'x')) and not precision.runs_here(('none', 'x'))
    # With GPUs the products run there: every one must be Ampere or newer.
    assert support(flags=set(), capabilities=[(8, 0), (9, 0)], isa='') == (
        'native', 'the GPUs')
    assert support(flags={'avx512_bf16'}, capabilities=[(8, 6), (7, 5)], isa='') == (
        'emulated', 'GPU 1 (compute capability 7.5)')


def test_onednn_enabled_is_what_tensorflow_reports():
    from tensorflow.python.framework import test_util
    assert precision.onednn_enabled() == bool(test_util.IsMklEnabled())


def test_trainers_warn_or_refuse_by_the_device():
    assert precision.check_device('float32', ('none', 'x')) == (None, None)
    assert precision.check_device('float32', ('generic', 'x')) == (None, None)
    assert precision.check_device('mixed_bfloat16', ('native', 'x')) == (None, None)
    error, warning = precision.check_device(
        'mixed_bfloat16', ('emulated', 'this CPU (no AVX512_BF16, AMX or BF16)'))
    assert error is None and '\n' not in warning
    assert warning == ('warning: this CPU (no AVX512_BF16, AMX or BF16) has no native '
                       'bfloat16 arithmetic: --precision=mixed_bfloat16 is emulated '
                       'there, and a training step takes about 2.5x as long as in '
                       'float32 (measured); use --precision=float32')
    error, warning = precision.check_device('mixed_bfloat16',
                                            ('generic', 'this CPU (no AVX-512)'))
    assert warning is None and error == (
        "this CPU (no AVX-512) has no fast bfloat16 products: TensorFlow's generic "
        'kernels compute them about 10x slower than float32 (measured); use '
        '--precision=float32')
    error, warning = precision.check_device(
        'mixed_bfloat16', ('none', 'this CPU (ONEDNN_MAX_CPU_ISA=AVX2)'))
    assert warning is None and error == (
        "this CPU (ONEDNN_MAX_CPU_ISA=AVX2) has no bfloat16 convolutions in "
        "TensorFlow's CPU kernels (oneDNN needs AVX-512); use --precision=float32")


def _refusal(support):
    error, _ = precision.check_device('mixed_bfloat16', support)
    return error


@pytest.mark.parametrize('setting, support', [
    # A CPU with AVX-512 made to look like one without, for oneDNN.
    ('ONEDNN_MAX_CPU_ISA=AVX2', dict(isa='AVX2')),
    # TensorFlow's generic kernels, as on a CPU without AVX-512.
    ('TF_ENABLE_ONEDNN_OPTS=0', dict(onednn=False))])
@pytest.mark.slow
def test_a_trainer_without_usable_bfloat16_refuses_in_one_line(data_dir, tmp_path,
                                                               setting, support):
    """Whatever this machine is, these settings leave it no usable bfloat16
    (a CPU without AVX-512 refuses for that first); the trainer's process
    says so in one line, exits 1 and writes nothing."""
    expected = _refusal(precision.bfloat16_support(**support))
    assert expected is not None
    name, value = setting.split('=')
    result = run_script('cifar10_train.py', f'--data_dir={data_dir}',
                        f'--train_dir={tmp_path / "train"}', '--max_steps=1',
                        '--precision=mixed_bfloat16', env={name: value})
    assert result.returncode == 1
    assert result.stderr == f'error: {expected}\n'
    assert result.stdout == ''
    assert not (tmp_path / 'train').exists()


@pytest.mark.slow
def test_mixed_checkpoints_are_float32_and_read_both_ways(data_dir, tmp_path, capsys):
    train_dir = tmp_path / 'train'

    def run(steps, policy):
        return run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                              f'--train_dir={train_dir}', f'--max_steps={steps}',
                              '--log_frequency=2', f'--precision={policy}',
                              *FAST_TRAIN_FLAGS)

    def train(steps, policy):
        result = run(steps, policy)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    support = precision.bfloat16_support()
    refusal = _refusal(support)
    if refusal:
        # This device's answer: one line, exit 1, nothing written.
        result = run(3, 'mixed_bfloat16')
        assert (result.returncode, result.stdout) == (1, '')
        assert result.stderr == f'error: {refusal}\n'
        assert not train_dir.exists()
        pytest.skip(f'{support[1]}: the trainers refuse --precision=mixed_bfloat16 '
                    'here, so there is no mixed checkpoint to read')
    lines = train(3, 'mixed_bfloat16')
    assert lines[0] == ('Training the tutorial model (1,068,298 parameters, '
                        'mixed_bfloat16) on CIFAR-10 (10 classes).')
    reader = tf.train.load_checkpoint(str(train_dir / 'model.ckpt-3'))
    dtypes = reader.get_variable_to_dtype_map()
    assert len(dtypes) == 25
    assert set(dtypes.values()) == {tf.float32, tf.int64}
    # A float32 run resumes it, and a mixed one resumes that.
    lines = train(5, 'float32')
    assert not any(line.startswith('No checkpoint') for line in lines)
    assert lines[-1].startswith('Stopped at step 5 (reached --max_steps=5)')
    lines = train(7, 'mixed_bfloat16')
    assert lines[-1].startswith('Stopped at step 7 (reached --max_steps=7)')
    # The float32 evaluator reads the mixed checkpoint.
    args = cifar10_eval.parse_args([
        f'--data_dir={data_dir}', f'--checkpoint_dir={train_dir}',
        f'--eval_dir={tmp_path / "eval"}', '--run_once', '--num_examples=200'])
    assert cifar10_eval.evaluate(args) == 0
    out = capsys.readouterr().out
    assert 'precision @ 1 = ' in out


def test_precision_flags_are_checked(capsys):
    args = cifar10_train.parse_args(['--precision=mixed_bfloat16'])
    assert args.precision == 'mixed_bfloat16'
    assert cifar10_train.parse_args([]).precision == 'float32'
    for argv, message in (
            (['--precision=bfloat16'], "argument --precision: invalid choice: 'bfloat16'"),
            (['--precision=mixed_bfloat16', '--use_fp16'],
             '--use_fp16 (the whole model in float16) and --precision=mixed_bfloat16 '
             'exclude each other')):
        with pytest.raises(SystemExit) as exit_info:
            cifar10_train.parse_args(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err.splitlines()[-1]


def test_trace_summary_sums_op_times_by_type_and_layer(tmp_path, capsys):
    """scripts/trace_summary.py, which chose the ops, on a trace written by
    hand in the Chrome format the trainers' --trace_step writes."""
    import json
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), 'scripts'))
    try:
        import trace_summary
    finally:
        sys.path.pop(0)
    events = [
        {'ph': 'X', 'dur': 2000, 'args': {'op': 'Conv2D', 'name': 'tower_0/conv1/Conv2D'}},
        {'ph': 'X', 'dur': 3000, 'args': {'op': 'Conv2D', 'name': 'tower_1/conv2/Conv2D'}},
        {'ph': 'X', 'dur': 500, 'args': {
            'op': 'Conv2DBackpropFilter',
            'name': 'tower_1/gradients/tower_1/conv2/Conv2D_grad/Conv2DBackpropFilter'}},
        {'ph': 'X', 'dur': 250, 'args': {'op': 'Cast', 'name': 'tower_0/conv2/Cast'}},
        {'ph': 'M', 'name': 'process_name', 'args': {'name': 'CPU'}},
    ]
    path = tmp_path / 'timeline-step-3.json'
    path.write_text(json.dumps({'traceEvents': events}))
    by_op, by_layer = trace_summary.summarize(str(path))
    assert by_op == {'Conv2D': 5.0, 'Conv2DBackpropFilter': 0.5, 'Cast': 0.25}
    assert by_layer == {'conv1': 2.0, 'conv2': 3.75}
    trace_summary.main([str(path), '--top', '2'])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f'{path}: 5.8 ms of op time'
    assert out[1].split() == ['5.00', 'Conv2D'] and len(out) == 4
