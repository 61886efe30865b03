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
"""Writes the lesson as a Jupyter notebook, made from the lesson's pages.

    python scripts/lesson_notebook.py            # writes docs/lesson.ipynb
    python scripts/lesson_notebook.py --check    # fails if it is out of date

The pages (docs/tutorial.md, then docs/lesson-2-*.md, docs/lesson-3-*.md,
...) are the only source: their text becomes markdown cells, each Python
snippet a code cell, and the output shown under a snippet is left out (the
notebook prints it when run). The notebook is plain JSON in the nbformat 4
layout, written here without the notebook packages, with the same bytes
for the same pages.
"""

import argparse
import glob
import json
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(REPO, 'docs')
NOTEBOOK = os.path.join(DOCS, 'lesson.ipynb')

# What the notebook says first, before the pages.
PREFACE = """\
*This notebook is made from the lesson's pages (`docs/tutorial.md`,
`docs/lesson-2-graph-mode.md`, ...) by `scripts/lesson_notebook.py`; edit
the pages, not the notebook.*

Run its code cells in order, in a kernel whose Python has this project
installed (the set-up of the README does that). The cells print what the
pages show. The shell commands, in the text, run in a terminal from the
repository root, as on the pages. The cells of pages 3 and 4 that read a
checkpoint need the quick first run of page 1 done first.
"""


def lesson_pages(docs_dir=DOCS):
    """The lesson's pages in their order: tutorial.md, then the numbered
    lesson-N-*.md pages by their number."""
    numbered = glob.glob(os.path.join(docs_dir, 'lesson-[0-9]*.md'))
    numbered.sort(key=lambda path: int(re.match(r'lesson-(\d+)', os.path.basename(path))[1]))
    return [os.path.join(docs_dir, 'tutorial.md'), *numbered]


def page_cells(text):
    """Splits a page into cells: [('markdown' or 'code', source)].

    Each fenced ```python block is a code cell; the ```output block after it
    is dropped; everything else, other fenced blocks included, is markdown.
    """
    cells, markdown = [], []
    pieces = re.split(r'^```(\w*)\n(.*?)^```\n?', text, flags=re.S | re.M)
    # re.split with two groups: text, kind, body, text, kind, body, ..., text
    for i in range(0, len(pieces), 3):
        markdown.append(pieces[i])
        if i + 1 >= len(pieces):
            break
        kind, body = pieces[i + 1], pieces[i + 2]
        if kind == 'python':
            cells.append(('markdown', ''.join(markdown)))
            markdown = []
            cells.append(('code', body))
        elif kind != 'output':
            markdown.append(f'```{kind}\n{body}```\n')
    cells.append(('markdown', ''.join(markdown)))
    return [(kind, source.strip('\n')) for kind, source in cells if source.strip()]


def _lines(source):
    """A cell's source as nbformat stores it: lines with their newlines."""
    lines = source.split('\n')
    return [line + '\n' for line in lines[:-1]] + [lines[-1]]


def build_notebook(pages):
    """The notebook (a dict in the nbformat 4.5 layout) of the pages."""
    cells = [('markdown', PREFACE.strip('\n'))]
    for page in pages:
        with open(page, encoding='utf-8') as f:
            cells += page_cells(f.read())
    notebook_cells = []
    for i, (kind, source) in enumerate(cells):
        cell = {'cell_type': kind, 'id': f'cell-{i}', 'metadata': {},
                'source': _lines(source)}
        if kind == 'code':
            cell.update(execution_count=None, outputs=[])
        notebook_cells.append(cell)
    return {
        'cells': notebook_cells,
        'metadata': {
            'kernelspec': {'display_name': 'Python 3', 'language': 'python',
                           'name': 'python3'},
            'language_info': {'name': 'python'},
        },
        'nbformat': 4,
        'nbformat_minor': 5,
    }


def notebook_text(pages):
    """The notebook file's text: JSON, one space of indent, as Jupyter
    writes it, so that saving it unchanged from Jupyter changes little."""
    return json.dumps(build_notebook(pages), indent=1, ensure_ascii=False) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Writes the lesson's pages as a Jupyter notebook.")
    parser.add_argument('--out', default=NOTEBOOK,
                        help='Where the notebook goes (default: docs/lesson.ipynb).')
    parser.add_argument('--check', action='store_true',
                        help='Write nothing; exit with 1 if --out is not what the '
                             'pages make now.')
    args = parser.parse_args(argv)
    text = notebook_text(lesson_pages())
    if args.check:
        try:
            with open(args.out, encoding='utf-8') as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            sys.exit(f'error: {args.out} is not what the lesson\'s pages make; '
                     'run python scripts/lesson_notebook.py')
        print(f'{args.out} is up to date.')
        return
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(text)
    print(args.out)


if __name__ == '__main__':
    main()
