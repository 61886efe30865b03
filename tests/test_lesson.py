"""The lesson (docs/tutorial.md and the numbered pages after it,
docs/lesson-2-*.md, ...) says what the code does: its layer table is what
the model builds, each Python snippet, run alone in a fresh Python, prints
what its page shows and nothing on stderr, the notebook made from the
pages is up to date and prints the same in a Jupyter kernel, its table of
longer runs is the measurements of docs/learning.md, its decay table is
what the trainer's averages do, and the script that draws its figures
works on a real (short) run's files.

A renamed summary tag, flag, layer or function fails here, not in a
learner's terminal.
"""

import base64
import code
import contextlib
import glob
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
import tensorflow as tf

from cifar10.model.layer_sizes import LAYERS, layer_sizes
from cifar10.model.network import Network

from conftest import FAST_TRAIN_FLAGS, REPO, TIMEOUT_SECS, known_env, run_in_process

LESSON = os.path.join(REPO, 'docs', 'tutorial.md')
# The lesson's pages in their order: tutorial.md, then lesson-2-*.md, ...
PAGES = [LESSON, *sorted(glob.glob(os.path.join(REPO, 'docs', 'lesson-[0-9]*.md')))]
SVG = '{http://www.w3.org/2000/svg}'


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def _lesson_text():
    """All the lesson's pages, one after another."""
    return '\n'.join(_read(page) for page in PAGES)


def _table(text, first_header):
    """The rows (lists of cells) of the markdown table whose first header
    cell is ``first_header``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f'| {first_header} |'):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith('|'):
                    break
                rows.append([cell.strip() for cell in row.strip('|').split('|')])
            return rows
    raise AssertionError(f'no table headed "{first_header}"')


# --- the model's sizes ---------------------------------------------------------

def test_layer_sizes_count_the_tutorial_model():
    sizes = {layer.name: layer for layer in layer_sizes()}
    assert list(sizes) == list(LAYERS)
    assert sum(layer.parameters for layer in sizes.values()) == 1068298
    # By hand: a 5x5x3 kernel per output value of conv1 at each of 24x24
    # positions; fully connected layers use each weight once.
    assert sizes['conv1'].multiply_adds == 24 * 24 * 64 * (5 * 5 * 3)
    assert sizes['conv2'].multiply_adds == 12 * 12 * 64 * (5 * 5 * 64)
    assert sizes['local3'].multiply_adds == 6 * 6 * 64 * 384
    assert sizes['softmax_linear'].multiply_adds == 192 * 10
    assert sizes['conv1'].parameters == 5 * 5 * 3 * 64 + 64
    assert sizes['pool2'].output_shape == (6, 6, 64)
    assert sizes['local4'].output_shape == (192,)
    assert sizes['norm1'].parameters == sizes['norm1'].multiply_adds == 0


def test_layer_sizes_follow_the_network_asked_for():
    local = {layer.name: layer for layer in layer_sizes(Network(model='local'))}
    assert sum(layer.parameters for layer in local.values()) == 1116490
    # Locally connected: each of the 6x6 positions has its own 3x3x64x32.
    assert local['local3'].multiply_adds == 6 * 6 * 3 * 3 * 64 * 32
    assert local['local3'].output_shape == (6, 6, 32)
    hundred = layer_sizes(Network(num_classes=100))
    assert hundred[-1].output_shape == (100,) and hundred[-1].parameters == 192 * 100 + 100


def test_the_lessons_layer_table_is_what_the_code_builds():
    rows = _table(_read(LESSON), 'layer')
    sizes = layer_sizes()
    assert [row[0] for row in rows] == [*LAYERS, '**total**']
    for row, layer in zip(rows, sizes):
        assert row[1] == 'x'.join(str(d) for d in layer.output_shape), row
        assert row[2] == f'{layer.parameters:,}', row
        assert row[3] == f'{layer.multiply_adds:,}', row
    assert rows[-1][2] == f'**{sum(layer.parameters for layer in sizes):,}**'
    assert rows[-1][3] == f'**{sum(layer.multiply_adds for layer in sizes):,}**'


# --- the first-run table -------------------------------------------------------

FIRST_RUN_HEADER = 'steps'
FIRST_RUN_STEPS = ['10,000', '25,000', '50,000', '100,000']


def test_the_first_run_table_is_learnings_measurements():
    """README and the lesson show the same steps -> precision -> time rows:
    the 10,000-step row is Learning's undisturbed first run, the longer
    rows' precision its 100,000-step run, and their times the first run's
    wall time at the same pace."""
    learning = _read(os.path.join(REPO, 'docs', 'learning.md'))
    first = {row[0]: row for row in _table(learning, 'first run')}
    seconds = {p: float(first[p][1].removesuffix(' s')) for p in first}
    long_run = {}
    for row in _table(learning, 'step'):
        # step | averaged | raw | numpy | wall | mixed "a / r / n" | mixed wall
        long_run[row[0]] = [row[1].replace('**', ''),
                            row[5].replace('**', '').split(' / ')[0]]
    readme = _table(_read(os.path.join(REPO, 'README.md')), FIRST_RUN_HEADER)
    lesson = _table(_read(os.path.join(REPO, 'docs', 'lesson-3-training.md')),
                    FIRST_RUN_HEADER)
    assert readme == lesson
    assert [row[0] for row in lesson] == FIRST_RUN_STEPS
    assert lesson[0] == [
        '10,000', first['float32'][4],
        f'{seconds["float32"] / 60:.1f} min (measured)',
        first['mixed_bfloat16'][4],
        f'{seconds["mixed_bfloat16"] / 60:.1f} min (measured)']
    for row in lesson[1:]:
        times = [f'about {round(seconds[p] * int(row[0].replace(",", "")) / 10000 / 60)} min'
                 for p in ('float32', 'mixed_bfloat16')]
        assert row[1:] == [long_run[row[0]][0], times[0], long_run[row[0]][1],
                           times[1]], row


# --- a short real run, for the snippets and the figures --------------------------

@pytest.fixture(scope='module')
def short_run(synthetic_data, tmp_path_factory):
    """A 12-step training run with summaries every 4 steps, and its last
    checkpoint evaluated with the averaged and with the raw weights."""
    root = tmp_path_factory.mktemp('lesson')
    data_dir = synthetic_data[0]
    dirs = {name: str(root / name) for name in ('train', 'eval', 'eval_raw')}
    result = run_in_process('cifar10_train.py', f'--data_dir={data_dir}',
                            f'--train_dir={dirs["train"]}', '--max_steps=12',
                            '--save_summaries_steps=4', '--save_checkpoint_steps=6',
                            *FAST_TRAIN_FLAGS)
    assert result.returncode == 0, result.stderr
    for name, averages in (('eval', 'true'), ('eval_raw', 'false')):
        result = run_in_process('cifar10_eval.py', f'--data_dir={data_dir}',
                                f'--checkpoint_dir={dirs["train"]}',
                                f'--eval_dir={dirs[name]}', '--run_once',
                                '--num_examples=256', f'--use_moving_averages={averages}')
        assert result.returncode == 0, result.stderr
    return data_dir, dirs


def _snippets(text):
    """(code, expected output) of each ```python block, the output being
    the ```output block right after it (None if there is none)."""
    blocks = re.findall(r'```(\w+)\n(.*?)```', text, re.S)
    found = []
    for i, (kind, body) in enumerate(blocks):
        if kind == 'python':
            after = blocks[i + 1] if i + 1 < len(blocks) else ('', '')
            found.append((body, after[1] if after[0] == 'output' else None))
    return found


# Runs the snippets given as JSON on stdin, each in a namespace of its own,
# in one process, as a learner pastes them into one Python session; prints
# each one's output (or its traceback) as JSON. What the snippets print is
# caught in Python; anything on the process's stderr (TensorFlow's C++ log
# lines, Python warnings) is left there for the test to see.
SNIPPET_RUNNER = """
import contextlib, io, json, sys, traceback
results = []
for code, name in json.load(sys.stdin):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, name, 'exec'), {'__name__': '__main__'})
    except BaseException:
        out.write(traceback.format_exc())
    results.append(out.getvalue())
sys.stdout.write(json.dumps(results))
"""


def run_snippets(snippets, replacements):
    """Runs (code, page) snippets in a fresh Python process from the
    repository root, each path of ``replacements`` swapped for the test's.

    Returns:
      (what each snippet printed, the process's stderr).
    """
    jobs = []
    for code, page in snippets:
        for old, new in replacements.items():
            code = code.replace(repr(old), repr(new))
        jobs.append((code, os.path.relpath(page, REPO)))
    result = subprocess.run([sys.executable, '-c', SNIPPET_RUNNER], input=json.dumps(jobs),
                            cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_SECS,
                            env=known_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def lesson_snippets():
    """(code, expected output, page) of every snippet of the lesson's pages."""
    return [(code, expected, page) for page in PAGES
            for code, expected in _snippets(_read(page))]


class _ParsingConsole(code.InteractiveConsole):
    """The interactive interpreter's reading of pasted lines, without
    running them: records the syntax errors it would show."""

    def __init__(self):
        super().__init__()
        self.errors = []

    def runcode(self, compiled):
        pass

    def showsyntaxerror(self, filename=None, **kwargs):
        self.errors.append(sys.exc_info()[1])


def test_the_snippets_can_be_pasted_into_the_interpreter():
    """The interactive interpreter ends a block at a blank line and wants
    one before the next statement: each snippet pasted there, line by line,
    reads without a syntax error."""
    for snippet, _, page in lesson_snippets():
        console = _ParsingConsole()
        for line in snippet.split('\n') + ['']:
            console.push(line)
        assert console.errors == [], (page, snippet)


@pytest.mark.slow
def test_the_lessons_snippets_print_what_the_page_shows(short_run):
    """Each snippet runs as a learner runs it, alone in a fresh Python (the
    data and checkpoint folders of the first run are the short run's here),
    prints the page's output, and nothing else: no TensorFlow log lines,
    no warnings, on stdout or stderr. (TensorFlow says some things once
    per process, so each snippet gets a process of its own; the notebook
    test runs them all in one.)"""
    data_dir, dirs = short_run
    snippets = lesson_snippets()
    assert len(snippets) >= 5
    for code, expected, page in snippets:
        assert expected is not None, f'no output block after:\n{code}'
        (printed,), stderr = run_snippets(
            [(code, page)],
            {'/tmp/cifar10_train': dirs['train'], '/tmp/cifar10_data': data_dir})
        assert stderr == '', (page, code)
        assert printed == expected, (page, code)


# --- the notebook ---------------------------------------------------------------

NOTEBOOK = os.path.join(REPO, 'docs', 'lesson.ipynb')


def test_the_notebook_is_made_from_the_pages():
    """docs/lesson.ipynb is what scripts/lesson_notebook.py makes of the
    pages now: no copy edited by hand, none left behind by a page's change."""
    result = subprocess.run([sys.executable, os.path.join('scripts', 'lesson_notebook.py'),
                             '--check'], cwd=REPO, capture_output=True, text=True,
                            timeout=TIMEOUT_SECS, env=known_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout == f'{NOTEBOOK} is up to date.\n'


def test_a_stale_notebook_is_named(tmp_path):
    stale = tmp_path / 'lesson.ipynb'
    stale.write_text('{}', encoding='utf-8')
    result = subprocess.run([sys.executable, os.path.join('scripts', 'lesson_notebook.py'),
                             '--check', '--out', str(stale)], cwd=REPO, capture_output=True,
                            text=True, timeout=TIMEOUT_SECS, env=known_env())
    assert result.returncode == 1
    assert result.stderr == (f"error: {stale} is not what the lesson's pages make; "
                             'run python scripts/lesson_notebook.py\n')


@pytest.mark.slow
def test_the_notebook_runs_in_a_kernel_and_prints_the_pages_output(short_run, tmp_path):
    """The notebook, run cell by cell in a Jupyter kernel as a user runs
    it, prints under each code cell the output its page shows, and nothing
    on stderr."""
    import nbformat
    from nbclient import NotebookClient
    data_dir, dirs = short_run
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == 'code']
    snippets = lesson_snippets()
    assert [cell.source for cell in code] == [snippet.strip('\n') for snippet, _, _ in snippets]
    for cell in code:
        for old, new in (('/tmp/cifar10_train', dirs['train']), ('/tmp/cifar10_data', data_dir)):
            cell.source = cell.source.replace(repr(old), repr(new))
    NotebookClient(notebook, timeout=TIMEOUT_SECS, kernel_name='python3',
                   resources={'metadata': {'path': str(tmp_path)}}).execute()
    for cell, (_, expected, page) in zip(code, snippets):
        streams = {}
        for output in cell.outputs:
            assert output.output_type == 'stream', (page, cell.source, output)
            streams[output.name] = streams.get(output.name, '') + output.text
        assert streams.get('stderr', '') == '', (page, cell.source)
        assert streams.get('stdout', '') == expected, (page, cell.source)


# --- the figures ----------------------------------------------------------------

@pytest.fixture
def lesson_figures(monkeypatch):
    """scripts/lesson_figures.py as a module."""
    monkeypatch.setattr(sys, 'path', [os.path.join(REPO, 'scripts'), *sys.path])
    import lesson_figures
    return lesson_figures


def _pictures(root):
    """The PNG pictures an SVG holds, decoded."""
    pictures = []
    for image in root.iter(SVG + 'image'):
        data = image.get('href').split('base64,', 1)[1]
        pictures.append(tf.io.decode_png(base64.b64decode(data)).numpy())
    return pictures


def test_the_figures_are_drawn_from_a_runs_files(short_run, lesson_figures, tmp_path):
    data_dir, dirs = short_run
    out = tmp_path / 'figures'
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        lesson_figures.main(['--data_dir', data_dir, '--train_dir', dirs['train'],
                             '--eval_dir', dirs['eval'], '--eval_raw_dir', dirs['eval_raw'],
                             '--out', str(out)])
    written = sorted(os.listdir(out))
    assert written == sorted(lesson_figures.FIGURES)
    assert printed.getvalue().split() == [str(out / name) for name in lesson_figures.FIGURES]
    # Every figure the lesson shows is one the script makes, and back.
    shown = re.findall(r'\]\(figures/([\w.-]+)\)', _lesson_text())
    assert sorted(shown) == written

    roots = {name: ElementTree.parse(out / name).getroot() for name in written}
    texts = {name: ' '.join(t.text or '' for t in root.iter(SVG + 'text'))
             for name, root in roots.items()}
    for name in ('loss.svg', 'precision.svg', 'sparsity.svg', 'confusion.svg'):
        assert '12 steps' in texts[name], (name, texts[name])
        assert re.search(r'\d{4}-\d\d-\d\d', texts[name]), name
        assert 'vCPU' in texts[name], name

    def lines(name):
        return [[tuple(map(float, p.split(','))) for p in line.get('points').split()]
                for line in roots[name].iter(SVG + 'polyline')]
    # Summaries every 4 steps of 12 (the trainer writes them after steps 1,
    # 5 and 9); the average without its first value, its starting 0.
    raw_loss, average_loss = lines('loss.svg')
    assert len(raw_loss) == 3 and len(average_loss) == 2
    assert len(lines('sparsity.svg')) == 4
    assert len(lines('precision.svg')) == 2  # averaged and raw, one point each
    rate = lines('learning-rate.svg')[0]
    assert len(rate) >= 2 and 'first decay: 136,718' in texts['learning-rate.svg']
    assert '1,000,000' in texts['learning-rate.svg'] and '7 decays' in texts['learning-rate.svg']
    span, = lines('moving-average.svg')
    assert len(span) == 401  # 400 intervals; the quoted steps fall on them
    assert '0.9999 from ~90,000' in texts['moving-average.svg']
    for name in ('learning-rate.svg', 'moving-average.svg'):
        assert re.search(r'computed \d{4}-\d\d-\d\d on \d+ vCPU', texts[name]), name

    grid, = _pictures(roots['images.svg'])
    # 10 classes by 8 images of 32x32, 2-pixel gaps.
    assert grid.shape == (10 * 34 - 2, 8 * 34 - 2, 3)
    stages, = _pictures(roots['distortions.svg'])
    assert stages.shape == (10 * 34 - 2, 5 * 34 - 2, 3)
    # A cell per (true, given) class with its percentage, and the scale.
    cells = [t.text for t in roots['confusion.svg'].iter(SVG + 'text')
             if t.text and t.text.isdigit()]
    assert len(cells) == 100
    assert {'0%', '50%', '100%'} <= set(texts['confusion.svg'].split())
    for name in ('images.svg', 'distortions.svg', 'confusion.svg'):
        assert 'airplane' in texts[name] and 'truck' in texts[name]


def test_the_learning_rate_decays_where_the_lesson_says(lesson_figures):
    points, decays = lesson_figures.learning_rate_points(128, 300000)
    assert decays == [136718, 273436]
    rates = dict(points)
    assert rates[0] == pytest.approx(0.1) and rates[136717] == pytest.approx(0.1)
    assert rates[136718] == pytest.approx(0.01) and rates[300000] == pytest.approx(0.001)
    assert '136,718' in _lesson_text() and '273,436' in _lesson_text()


def test_the_confusion_cells_are_read_back_from_the_evaluators_picture(lesson_figures):
    from cifar10.metrics.summaries import confusion_image
    counts = np.random.RandomState(0).randint(0, 200, (10, 10))
    np.fill_diagonal(counts, 600)
    fractions = lesson_figures.confusion_fractions(confusion_image(counts), 10)
    exact = counts / counts.sum(axis=1, keepdims=True)
    # The picture rounds each colour to an integer: half of 1/247.
    assert np.abs(fractions - exact).max() <= 0.5 / 247 + 1e-9
    svg = lesson_figures.confusion_plot('t', exact, [f'class {i}' for i in range(10)], 'c')
    root = ElementTree.fromstring(svg)
    written = [t.text for t in root.iter(SVG + 'text')]
    assert 'class 9' in written
    assert f'{100 * exact[0, 0]:.0f}' in written


def test_the_averages_decay_as_the_lesson_says(lesson_figures):
    """The trainer's averages use min(0.9999, (1 + s) / (10 + s)) at step
    s, and the lesson's table gives that decay and 1 / (1 - decay) at the
    steps it quotes."""
    steps = (0, 1, *lesson_figures.DECAY_STEPS, 500000)
    measured = lesson_figures.average_decays(steps)
    for step, decay in zip(steps, measured):
        assert decay == pytest.approx(min(0.9999, (1 + step) / (10 + step)), rel=1e-6)
    table = {row[0]: row[1:] for row in _table(_lesson_text(), 'step')
             if row[0] in ('1,000', '10,000', '100,000')}
    assert table == {'1,000': ['0.99109', '112 steps'],
                     '10,000': ['0.99910', '1,112 steps'],
                     '100,000': ['0.9999', '10,000 steps']}
    # 0.9999 from step 89,990 on: (1 + s) / (10 + s) >= 0.9999 from there.
    assert (1 + 89990) / (10 + 89990) >= 0.9999 > (1 + 89989) / (10 + 89989)
    assert 'step 89,990' in _lesson_text()


def test_the_computed_figures_need_no_run(lesson_figures, tmp_path):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        lesson_figures.main(['--computed_only', '--out', str(tmp_path)])
    assert sorted(os.listdir(tmp_path)) == sorted(lesson_figures.COMPUTED_FIGURES)
    assert printed.getvalue().split() == [str(tmp_path / name)
                                          for name in lesson_figures.COMPUTED_FIGURES]


def test_the_figures_name_a_missing_summary(short_run, lesson_figures, tmp_path):
    """A folder without the summaries a figure needs (the evaluator's given
    as the trainer's) ends in one line naming them."""
    data_dir, dirs = short_run
    with pytest.raises(SystemExit) as stop:
        lesson_figures.main(['--data_dir', data_dir, '--train_dir', dirs['eval'],
                             '--eval_dir', dirs['eval'], '--eval_raw_dir', dirs['eval_raw'],
                             '--out', str(tmp_path)])
    assert str(stop.value).startswith(f'error: {dirs["eval"]} has no summaries tagged '
                                      'total_loss (raw), total_loss')
    assert not np.any([name.endswith('.svg') for name in os.listdir(tmp_path)])


def test_the_caption_names_the_runs_last_step_date_and_machine(lesson_figures):
    # {step: wall time}: step 12 written at 1971-01-01 00:00 UTC.
    events = {1: 0.0, 12: 365 * 86400.0}
    assert (lesson_figures.run_caption(events, 'a 64-core box')
            == 'a run of 12 steps, 1971-01-01, a 64-core box')
    assert re.fullmatch(r'\d+ vCPU .+ \(.+\)', lesson_figures.machine())


def test_standardization_undoes_the_brightness_distortion():
    """The lesson says so: adding one amount to every value moves the mean
    only, which standardization removes (contrast it does not undo)."""
    from cifar10.data import transforms
    images = tf.constant(np.random.RandomState(0).randint(0, 256, (8, 24, 24, 3)),
                         tf.uint8)
    params = transforms.distortion_params(8)
    no_brightness = dict(params, delta=tf.zeros([8]))
    no_contrast = dict(params, contrast=tf.ones([8]))
    distorted = transforms.adjust_colors(images, params).numpy()
    assert np.abs(params['delta'].numpy()).max() > 1
    assert np.allclose(distorted, transforms.adjust_colors(images, no_brightness).numpy(),
                       atol=1e-5)
    assert not np.allclose(distorted, transforms.adjust_colors(images, no_contrast).numpy(),
                           atol=1e-2)
