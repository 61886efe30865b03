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
"""Draws every figure of the lesson (docs/tutorial.md and the docs/lesson-*.md
pages after it) from the data, from the project's code and from a real
run's event files.

    python scripts/lesson_figures.py --train_dir /tmp/lesson/train \\
        --eval_dir /tmp/lesson/eval --eval_raw_dir /tmp/lesson/eval_raw

reads the training records in --data_dir and the event files that
cifar10_train.py and two cifar10_eval.py runs (one with
--use_moving_averages=false) wrote, and writes SVG files to --out
(docs/figures): the images, their distortions, the learning-rate schedule,
the moving averages' decay, the loss, averaged against raw precision, the
layers' sparsity and the confusion matrix. Each figure of the run carries
a caption naming it: its last step, the date of that step, and this
machine (the run's own, when the figures are made where it trained;
--machine says another). The two figures computed from the code alone
(the schedule and the decay) can be drawn without a run
(--computed_only). The plots
and pictures are drawn here in plain SVG, the pictures as PNG inside it
(the project's PNG writer): no plotting library is needed.
"""

import argparse
import base64
import datetime
import glob
import html
import math
import os
import platform
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The figures, by file name, in the lesson's order.
FIGURES = ('images.svg', 'distortions.svg', 'learning-rate.svg', 'moving-average.svg',
           'loss.svg', 'precision.svg', 'sparsity.svg', 'confusion.svg')
# The figures computed from the project's code alone, without a run.
COMPUTED_FIGURES = ('learning-rate.svg', 'moving-average.svg')
# The summary tags the figures read (as the trainer and evaluator write them).
LOSS_TAGS = ('total_loss (raw)', 'total_loss')
PRECISION_TAG = 'Precision @ 1'
CONFUSION_TAG = 'Confusion matrix'
# The layers with a ReLU (softmax_linear has none: its sparsity stays 0).
SPARSITY_TAGS = tuple(f'{layer}/{layer}/sparsity' for layer in
                      ('conv1', 'conv2', 'local3', 'local4'))
COLOURS = ('#1f5fa8', '#d0602a', '#2e8b57', '#8e44ad', '#7f7f7f')
# A standardized image is shown as 128 + 48 x its values, clipped: the mean
# grey, two and a half standard deviations either side in range.
STANDARDIZED_SCALE = 48.0


# --- The run ---------------------------------------------------------------

def read_scalars(log_dir, tags):
    """{tag: [(step, value), ...]} of the scalar summaries in a folder's
    event files, sorted by step (a step written twice keeps its last value).

    A run still writing its file ends in a partial record: reading stops
    there, as TensorBoard's does.
    """
    events = read_events(log_dir, tags)
    return {tag: sorted(events[tag].items()) for tag in tags}


def read_events(log_dir, tags):
    """{tag: {step: value}}: a float for a scalar, PNG bytes for an image,
    and under the key None {step: wall time} of every event with a step."""
    import tensorflow as tf
    found = {tag: {} for tag in tags}
    found[None] = {}
    paths = sorted(glob.glob(os.path.join(log_dir, 'events.out.tfevents.*')))
    if not paths:
        sys.exit(f'error: no event files in {log_dir} (give the folder a trainer '
                 'or evaluator wrote to)')
    for path in paths:
        try:
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    if value.tag in found:
                        kind = value.WhichOneof('value')
                        found[value.tag][event.step] = (
                            value.image.encoded_image_string if kind == 'image'
                            else value.simple_value)
                if event.step:
                    found[None][event.step] = event.wall_time
        except tf.errors.DataLossError:
            pass  # The partial last record of a file being written.
    missing = [tag for tag in tags if not found[tag]]
    if missing:
        sys.exit(f'error: {log_dir} has no summaries tagged {", ".join(missing)}')
    return found


def machine():
    """This machine in a phrase: '2 vCPU AMD EPYC (AVX2, no AVX-512)'."""
    from cifar10.model import precision
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            for line in f:
                if line.lower().startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    flags = precision.cpu_flags()
    if 'avx512f' in flags:
        isa = 'AVX-512' + (' and AVX512_BF16' if 'avx512_bf16' in flags else '')
    elif flags:
        isa = ('AVX2, ' if 'avx2' in flags else '') + 'no AVX-512'
    else:
        isa = platform.machine()
    return f'{os.cpu_count()} vCPU {model} ({isa})'


def run_caption(events, host):
    """'a run of 10,000 steps, 2026-12-04, MACHINE': the trainer's last step
    and its date (UTC), from {step: wall time} of its events."""
    step = max(events)
    day = datetime.datetime.fromtimestamp(events[step], datetime.timezone.utc)
    return f'a run of {step:,} steps, {day:%Y-%m-%d}, {host}'


# --- SVG -------------------------------------------------------------------

def _text(x, y, words, size=12, anchor='start', weight='normal', rotate=None):
    turn = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ''
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}"{turn}>{html.escape(words)}</text>')


def _svg(width, height, body, title, caption):
    """A whole SVG document: white ground, title on top, caption below
    (wrapped to the width)."""
    width = max(width, 8 * len(title) + 20)
    lines, line = [], ''
    for word in caption.split():
        if line and 6 * len(line + ' ' + word) > width - 16:
            lines.append(line)
            line = word
        else:
            line = f'{line} {word}'.strip()
    lines.append(line)
    height += 14 * (len(lines) - 1)
    return '\n'.join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<title>{html.escape(title)}</title>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        _text(width / 2, 20, title, 14, 'middle', 'bold'),
        *body,
        *(_text(8, height - 8 - 14 * (len(lines) - 1 - i), words, 10)
          for i, words in enumerate(lines)),
        '</svg>', ''])


def _ticks(low, high, count=5):
    """Round tick values covering [low, high]."""
    raw = (high - low) / count or 1.0
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _label(value):
    return f'{value:,.0f}' if abs(value) >= 10000 else f'{value:g}'


def line_plot(title, series, x_label, y_label, caption, log_y=False, marks=(),
              y_range=None, legend='top'):
    """An SVG line plot.

    Args:
      title: Its title.
      series: [(label, [(x, y), ...]), ...], one line each.
      x_label, y_label: The axes' names.
      caption: The line under the plot (where the data came from).
      log_y: A logarithmic y axis (decades as ticks).
      marks: [(x, label), ...]: dashed vertical lines.
      y_range: (low, high), or None to fit the data.
      legend: 'top' or 'bottom': the right-hand corner the legend sits in
        (the one the lines leave free).

    Returns:
      The SVG document as a string.
    """
    width, height = 680, 400
    left, right, top, bottom = 70, 40, 34, 76
    xs = [x for _, points in series for x, _ in points] + [x for x, _ in marks]
    ys = [y for _, points in series for _, y in points]
    x_low, x_high = min(xs), max(xs)
    if y_range:
        y_low, y_high = y_range
    elif log_y:
        y_low = 10 ** math.floor(math.log10(min(ys)))
        y_high = 10 ** math.ceil(math.log10(max(ys)))
    else:
        ticks = _ticks(min(ys), max(ys))
        y_low, y_high = min(ticks[0], min(ys)), max(ticks[-1], max(ys))

    def sx(x):
        return left + (x - x_low) / ((x_high - x_low) or 1) * (width - left - right)

    def sy(y):
        if log_y:
            y, low, high = math.log10(y), math.log10(y_low), math.log10(y_high)
        else:
            low, high = y_low, y_high
        return height - bottom - (y - low) / ((high - low) or 1) * (height - top - bottom)

    body = [f'<rect x="{left}" y="{top}" width="{width - left - right}" '
            f'height="{height - top - bottom}" fill="none" stroke="#999"/>']
    y_ticks = ([10 ** e for e in range(round(math.log10(y_low)),
                                       round(math.log10(y_high)) + 1)]
               if log_y else [t for t in _ticks(y_low, y_high) if y_low <= t <= y_high])
    for y in y_ticks:
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{sy(y):.1f}" '
                    f'y2="{sy(y):.1f}" stroke="#e4e4e4"/>')
        body.append(_text(left - 6, sy(y) + 4, _label(y), 11, 'end'))
    for x in _ticks(x_low, x_high):
        if x_low <= x <= x_high:
            body.append(_text(sx(x), height - bottom + 16, _label(x), 11, 'middle'))
    for i, (x, label) in enumerate(marks):
        body.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{top}" '
                    f'y2="{height - bottom}" stroke="#b03030" stroke-dasharray="4 3"/>')
        body.append(_text(sx(x) + 4, height - bottom - 8 - 16 * i, label, 11))
    box_top = (top + 4 if legend == 'top'
               else height - bottom - 8 - 16 * len(series))
    body.append(f'<rect x="{width - right - 196}" y="{box_top}" width="190" '
                f'height="{16 * len(series) + 4}" fill="white" fill-opacity="0.85"/>')
    for i, (label, points) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        path = ' '.join(f'{sx(x):.1f},{sy(y):.1f}' for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                    'stroke-width="1.6"/>')
        legend_y = box_top + 12 + 16 * i
        body.append(f'<line x1="{width - right - 190}" x2="{width - right - 170}" '
                    f'y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{colour}" '
                    'stroke-width="2"/>')
        body.append(_text(width - right - 164, legend_y, label, 11))
    body.append(_text((left + width - right) / 2, height - bottom + 34, x_label, 12,
                      'middle'))
    body.append(_text(18, (top + height - bottom) / 2, y_label, 12, 'middle',
                      rotate=-90))
    return _svg(width, height, body, title, caption)


def picture(title, image, caption, row_labels=(), column_labels=(), scale=2,
            cell=None):
    """An SVG that shows an RGB picture (as PNG), with labelled rows and
    columns of ``cell`` = (height, width) pixels each."""
    from cifar10.metrics.summaries import encode_png
    png = base64.b64encode(encode_png(image)).decode('ascii')
    left = 90 if row_labels else 10
    top = 34 + (18 if column_labels else 0)
    height, width = image.shape[0] * scale, image.shape[1] * scale
    body = [f'<image x="{left}" y="{top}" width="{width}" height="{height}" '
            f'style="image-rendering:pixelated" href="data:image/png;base64,{png}"/>']
    cell_h, cell_w = ((cell[0] * scale, cell[1] * scale) if cell
                      else (height / max(len(row_labels), 1),
                            width / max(len(column_labels), 1)))
    for i, label in enumerate(row_labels):
        body.append(_text(left - 8, top + (i + 0.5) * cell_h + 4, label, 12, 'end'))
    for i, label in enumerate(column_labels):
        body.append(_text(left + (i + 0.5) * cell_w, top - 6, label, 11, 'middle'))
    return _svg(max(left + width + 10, 420), top + height + 30, body, title, caption)


def confusion_fractions(image, classes):
    """The fraction of each true class (row) given each class (column),
    read back from the evaluator's confusion picture.

    metrics.summaries.confusion_image paints a cell white + fraction x
    (dark blue - white); its red channel, 255 - 247 x fraction, gives the
    fraction back to within half of 1/247 (the picture's rounding).

    Args:
      image: The [C x cell, C x cell, 3] uint8 picture.
      classes: C.

    Returns:
      A [C, C] float array.
    """
    cell = image.shape[0] // classes
    centres = image[cell // 2::cell, cell // 2::cell, 0][:classes, :classes]
    return (255.0 - centres.astype(np.float64)) / (255.0 - 8.0)


def confusion_plot(title, fractions, names, caption):
    """An SVG confusion matrix: a cell per (true, given) class coloured as
    the evaluator colours it, with its percentage of the row written in it,
    the classes' full names, and the colour scale.

    Args:
      title: Its title.
      fractions: [C, C] fractions of each row.
      names: The C class names.
      caption: The line under it.

    Returns:
      The SVG document as a string.
    """
    size = 40
    classes = len(names)
    left, top = 110, 126  # room for the rotated names and, above them, the axis label
    body = [_text(left + classes * size / 2, top - 86, 'given class', 12, 'middle'),
            _text(18, top + classes * size / 2, 'true class', 12, 'middle', rotate=-90)]
    white, blue = np.array([255.0, 255.0, 255.0]), np.array([8.0, 48.0, 107.0])

    def colour(fraction):
        r, g, b = np.round(white + fraction * (blue - white)).astype(int)
        return f'rgb({r},{g},{b})'
    for i, name in enumerate(names):
        body.append(_text(left - 6, top + (i + 0.5) * size + 4, name, 12, 'end'))
        x = left + (i + 0.5) * size + 4
        body.append(_text(x, top - 6, name, 12, 'start', rotate=-60))
        for j in range(classes):
            fraction = float(fractions[i, j])
            body.append(f'<rect x="{left + j * size}" y="{top + i * size}" width="{size}" '
                        f'height="{size}" fill="{colour(fraction)}" stroke="#c8c8c8"/>')
            ink = 'white' if fraction > 0.45 else 'black'
            body.append(_text(left + (j + 0.5) * size, top + (i + 0.5) * size + 4,
                              f'{100 * fraction:.0f}', 11, 'middle').replace(
                                  '<text ', f'<text fill="{ink}" ', 1))
    # The colour scale, 0% to 100% of the row.
    scale_x, scale_w = left + classes * size + 30, 16
    steps = 20
    for k in range(steps):
        fraction = 1 - (k + 0.5) / steps
        body.append(f'<rect x="{scale_x}" y="{top + k * classes * size / steps:.1f}" '
                    f'width="{scale_w}" height="{classes * size / steps + 0.5:.1f}" '
                    f'fill="{colour(fraction)}"/>')
    for label, y in (('100%', top + 4), ('50%', top + classes * size / 2 + 4),
                     ('0%', top + classes * size + 4)):
        body.append(_text(scale_x + scale_w + 4, y, label, 11))
    body.append(_text(scale_x + scale_w / 2, top + classes * size + 22, 'of the row',
                      10, 'middle'))
    return _svg(scale_x + scale_w + 60, top + classes * size + 46, body, title,
                caption)


def _tile(images, gap=2):
    """[rows][columns] of [h, w, 3] uint8 images -> one picture, white gaps,
    each image centred in a cell as large as the largest."""
    cell_h = max(image.shape[0] for row in images for image in row)
    cell_w = max(image.shape[1] for row in images for image in row)
    rows, columns = len(images), max(len(row) for row in images)
    out = np.full((rows * (cell_h + gap) - gap, columns * (cell_w + gap) - gap, 3),
                  255, np.uint8)
    for r, row in enumerate(images):
        for c, image in enumerate(row):
            y = r * (cell_h + gap) + (cell_h - image.shape[0]) // 2
            x = c * (cell_w + gap) + (cell_w - image.shape[1]) // 2
            out[y:y + image.shape[0], x:x + image.shape[1]] = image
    return out, (cell_h + gap, cell_w + gap)


# --- The figures -------------------------------------------------------------

def first_of_each_class(data_dir, per_class):
    """(class names, [class][per_class] images): the first training records
    of each class, in file order."""
    import reference_eval
    from cifar10.data import datasets, record_files
    dataset = datasets.CIFAR10
    folder = dataset.folder(data_dir)
    paths = record_files.train_filenames(folder)
    images, labels = reference_eval.read_records(paths[:1], None, dataset)
    names = dataset.class_names_in(folder)
    return names, [images[labels == k][:per_class] for k in range(len(names))]


def distortion_stages(images, seed):
    """Each image at each step of the training distortions, drawn with the
    project's distortion parameters: [(stage name, [N, h, w, 3] uint8)].

    The steps are those of cifar10_input.distort_image, one at a time so
    that each can be seen; the last is checked against the project's batch
    distortion (transforms.distort_batch) with the same parameters.
    """
    import tensorflow as tf
    from cifar10.data import transforms
    tf.random.set_seed(seed)
    params = transforms.distortion_params(len(images))
    crops = transforms.crop_and_flip(tf.constant(images), params)
    shift = tf.cast(crops, tf.float32) + params['delta'][:, None, None, None]
    contrast = tf.stack([tf.image.adjust_contrast(image, factor)
                         for image, factor in zip(tf.unstack(shift),
                                                  tf.unstack(params['contrast']))])
    standardized = tf.image.per_image_standardization(contrast)
    expected = transforms.distort_batch(tf.constant(images), params)
    if not np.allclose(standardized.numpy(), expected.numpy(), atol=1e-3):
        raise AssertionError('the stages do not add up to transforms.distort_batch')

    def shown(x):
        return np.clip(np.round(x), 0, 255).astype(np.uint8)
    return [('original 32x32', images),
            ('crop 24x24, flip', crops.numpy()),
            ('brightness', shown(shift.numpy())),
            ('contrast', shown(contrast.numpy())),
            ('standardized', shown(128 + STANDARDIZED_SCALE * standardized.numpy()))]


def learning_rate_points(batch_size, last_step):
    """The project's schedule (cifar10.learning_rate) at every step from 0
    to last_step, as [(step, rate)] at its ends and at both sides of each
    change, and the list of steps where it changes."""
    import tensorflow as tf
    from cifar10 import cifar10
    graph = tf.Graph()
    with graph.as_default():
        steps = tf.range(last_step + 1, dtype=tf.int64)
        with tf.compat.v1.Session(graph=graph) as session:
            rates = session.run(cifar10.learning_rate(steps, batch_size))
    if rates.shape != (last_step + 1,):
        raise AssertionError(f'expected one rate per step, got {rates.shape}')
    changes = [int(s) for s in np.flatnonzero(rates[1:] != rates[:-1]) + 1]
    keep = sorted({0, last_step, *changes, *(s - 1 for s in changes)})
    return [(s, float(rates[s])) for s in keep], changes


# The steps the lesson quotes the moving averages' decay at.
DECAY_STEPS = (1000, 10000, 100000)


def average_decays(steps):
    """The decay the trainer's moving averages of the weights apply at each
    of ``steps``, measured on the project's own averages.

    cifar10.variable_averages builds them with the global step as
    num_updates; each update moves an average towards its variable by
    (1 - decay) of the gap. With the average at 1 and the variable at 0,
    one update at global step s leaves the average at exactly the decay of
    step s.

    Args:
      steps: The global steps, ints.

    Returns:
      A list of floats, one decay per step.
    """
    import tensorflow as tf
    from cifar10 import cifar10
    tf1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        global_step = tf1.train.get_or_create_global_step()
        weight = tf1.get_variable('weight', [], initializer=tf1.zeros_initializer())
        averages = cifar10.variable_averages(global_step)
        update = averages.apply([weight])
        average = averages.average(weight)
        step = tf1.placeholder(tf.int64, [])
        reset = [tf1.assign(global_step, step), tf1.assign(average, 1.0)]
        decays = []
        with tf1.Session(graph=graph) as session:
            session.run(tf1.global_variables_initializer())
            for s in steps:
                session.run(reset, {step: s})
                session.run(update)
                decays.append(float(session.run(average)))
    return decays


def average_span_points(last_step, count=400):
    """[(step, 1 / (1 - decay))] of the trainer's moving averages at
    ``count`` + 1 evenly spaced steps from 0 to last_step and at DECAY_STEPS:
    how many of the latest steps the averaged weights stand for."""
    steps = sorted({*(round(i * last_step / count) for i in range(count + 1)),
                    *(s for s in DECAY_STEPS if s <= last_step)})
    return [(s, 1.0 / (1.0 - d)) for s, d in zip(steps, average_decays(steps))]


def computed_figures(host, batch_size=128, schedule_steps=1000000, average_steps=200000):
    """{file name: SVG} of the figures computed from the code alone: the
    learning-rate schedule and the moving averages' decay."""
    day = datetime.datetime.now(datetime.timezone.utc)
    made = f'computed {day:%Y-%m-%d} on {host}'
    points, decays = learning_rate_points(batch_size, schedule_steps)
    marks = [(decays[0], f'first decay: {decays[0]:,}')]
    learning_rate = line_plot(
        f'The learning rate over the steps (batch {batch_size})',
        [('learning rate', points)], 'step', 'learning rate',
        f'From cifar10.learning_rate, the schedule every trainer uses, up to the '
        f'trainer\'s default --max_steps ({schedule_steps:,}): {len(decays)} decays; '
        f'{made}.', log_y=True, marks=marks)
    spans = average_span_points(average_steps)
    # Where min(0.9999, (1 + s) / (10 + s)) reaches 0.9999.
    capped = next(s for s, span in spans if span >= 0.999 / (1 - cifar10_decay()))
    average = line_plot(
        'How many recent steps the averaged weights stand for', [
            ('1 / (1 - decay)', spans)],
        'step', 'steps averaged over, 1 / (1 - decay)',
        f'From cifar10.variable_averages: decay = min({cifar10_decay()}, '
        f'(1 + step) / (10 + step)), measured on its averages; {made}.',
        log_y=True, marks=[(10000, '10,000 steps'), (capped, f'{cifar10_decay()} from ~{capped:,}')],
        legend='bottom')
    return {'learning-rate.svg': learning_rate, 'moving-average.svg': average}


def cifar10_decay():
    """The moving averages' decay, cifar10.MOVING_AVERAGE_DECAY."""
    from cifar10 import cifar10
    return cifar10.MOVING_AVERAGE_DECAY


def write_figures(documents, out):
    """Writes {file name: SVG} to ``out`` in the order of FIGURES; returns
    the paths."""
    os.makedirs(out, exist_ok=True)
    paths = []
    for name in FIGURES:
        if name in documents:
            path = os.path.join(out, name)
            with open(path, 'w', encoding='utf-8') as f:
                f.write(documents[name])
            paths.append(path)
    return paths


def make_figures(data_dir, train_dir, eval_dir, eval_raw_dir, out, host=None,
                 per_class=8, seed=4, batch_size=128, schedule_steps=1000000):
    """Writes every figure to ``out``; returns their paths.

    Args:
      data_dir: The CIFAR-10 data folder (its first training file is drawn).
      train_dir, eval_dir, eval_raw_dir: The event files of the trainer and
        of the evaluators of the averaged and of the raw weights.
      out: The folder the SVG files go to (made if needed).
      host: The machine the run trained on, for the captions; None for this.
      per_class: Images per class in the first figure.
      seed: The seed of the distortions drawn.
      batch_size: The run's batch size, for the learning-rate schedule.
      schedule_steps: How far the schedule is plotted.
    """
    host = host or machine()
    train = read_events(train_dir, LOSS_TAGS + SPARSITY_TAGS)
    run = run_caption(train[None], host)
    averaged = read_events(eval_dir, (PRECISION_TAG, CONFUSION_TAG))
    raw = read_scalars(eval_raw_dir, (PRECISION_TAG,))
    documents = computed_figures(host, batch_size, schedule_steps)

    names, images = first_of_each_class(data_dir, per_class)
    grid, cell = _tile([list(row) for row in images])
    documents['images.svg'] = picture(
        f'The first {per_class} training images of each class', grid,
        f'From {os.path.join(data_dir, "")} (data_batch_1.bin).', names, cell=cell, scale=2)

    firsts = np.stack([row[0] for row in images])
    stages = distortion_stages(firsts, seed)
    grid, cell = _tile([[stage[k] for _, stage in stages] for k in range(len(firsts))])
    documents['distortions.svg'] = picture(
        'One training image of each class, step by step through the distortions',
        grid, f'Random crop, flip, brightness and contrast drawn by the project\'s '
        f'distortion parameters (seed {seed}); standardized shown as 128 + '
        f'{STANDARDIZED_SCALE:g} x value.', names, [name for name, _ in stages],
        cell=cell, scale=3)

    documents['loss.svg'] = line_plot(
        'Total loss while training', [
            ('total_loss (raw)', sorted(train[LOSS_TAGS[0]].items())),
            # The first summary shows the average before its first update:
            # still its starting value, 0.
            ('total_loss (moving average)', sorted(train[LOSS_TAGS[1]].items())[1:])],
        'step', 'cross entropy + weight decay', f'From {run}.')

    documents['precision.svg'] = line_plot(
        'Precision @ 1 on the 10,000 test images', [
            ('moving averages', sorted(averaged[PRECISION_TAG].items())),
            ('raw weights', raw[PRECISION_TAG])],
        'step', 'precision @ 1', f'From {run}; checkpoints evaluated as written.',
        y_range=(0, 1))

    documents['sparsity.svg'] = line_plot(
        'Fraction of zero activations per layer', [
            (tag.split('/')[0], sorted(train[tag].items())) for tag in SPARSITY_TAGS],
        'step', 'sparsity', f'From {run}.', y_range=(0, 1), legend='bottom')

    confusion_step = max(averaged[CONFUSION_TAG])
    import tensorflow as tf
    confusion = tf.io.decode_png(averaged[CONFUSION_TAG][confusion_step]).numpy()
    documents['confusion.svg'] = confusion_plot(
        f'Confusion matrix at step {confusion_step:,}',
        confusion_fractions(confusion[..., :3], len(names)), names,
        f'Each cell: the percentage of the row\'s test images given the column\'s '
        f'class (of 1,000 per class: 15 is about 150 images), rounded; read back '
        f'from the evaluator\'s picture, whose colours hold it to within 0.2 '
        f'points. From {run}.')

    return write_figures(documents, out)


def main(argv=None):
    # The docstring's first paragraph, as one line.
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--data_dir', default='/tmp/cifar10_data',
                        help='The CIFAR-10 data (its training records are drawn).')
    parser.add_argument('--train_dir', default='/tmp/cifar10_train',
                        help='What cifar10_train.py wrote (event files).')
    parser.add_argument('--eval_dir', default='/tmp/cifar10_eval',
                        help='What cifar10_eval.py wrote (event files).')
    parser.add_argument('--eval_raw_dir', default=None,
                        help='What cifar10_eval.py --use_moving_averages=false wrote '
                             '(needed unless --computed_only).')
    parser.add_argument('--computed_only', action='store_true',
                        help='Write only the figures computed from the code '
                             f'({", ".join(COMPUTED_FIGURES)}): no run needed.')
    parser.add_argument('--out', default=os.path.join(REPO, 'docs', 'figures'),
                        help='Where the SVG files go.')
    parser.add_argument('--machine', default=None,
                        help='The machine the run trained on, for the captions '
                             '(default: this one, described from /proc/cpuinfo).')
    args = parser.parse_args(argv)
    if not args.computed_only and args.eval_raw_dir is None:
        parser.error('--eval_raw_dir is needed (or --computed_only)')
    sys.path.insert(0, REPO)
    if args.computed_only:
        paths = write_figures(computed_figures(args.machine or machine()), args.out)
    else:
        paths = make_figures(args.data_dir, args.train_dir, args.eval_dir,
                             args.eval_raw_dir, args.out, args.machine)
    for path in paths:
        print(path)


if __name__ == '__main__':
    # Started by a process that asked for it (the test suite), end with it.
    sys.path.insert(0, REPO)
    from cifar10.runtime.cli import (end_with_parent, import_tensorflow_quietly,
                                     quiet_tensorflow)
    end_with_parent()
    import_tensorflow_quietly()  # TensorFlow's start-up log lines hidden
    quiet_tensorflow()  # and its notice that the event-file reader is deprecated
    main()
