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
"""The errors the scripts report in one line, and how to word them.

Nothing here imports TensorFlow: ``op_error_summary`` only reads the
message of an error it is given.
"""

import re


class DataError(Exception):
    """Something a run needs is missing or wrong: a data file, the data's
    download, a checkpoint, a directory (or its lock), a task of a cluster.

    The message is one line that names the file (or URL, directory, task)
    and what is wrong with it; the scripts print it and exit with status 1.
    """


def op_error_summary(error):
    """Returns one line saying what a TensorFlow runtime error is about.

    Graph-mode errors carry a multi-line message (``Graph execution
    error:``, the Python stack that defined the op, the node); the line
    that says what went wrong is the first one that is none of those.

    Args:
      error: A tf.errors.OpError.
    """
    for line in str(error.message).splitlines():
        text = re.sub(r'\{\{function_node [^}]*\}\}\s*', '', line.strip())
        # Eager ops end with "[Op:DecodeImage] name:" (the name often empty).
        text = re.sub(r'\s*\[Op:\w+\]( name:.*)?$', '', text)
        if (not text or line[0].isspace() or text.startswith('[[')
                or text.startswith(('Graph execution error', 'Detected at node',
                                    'Node:'))
                # Restore failures preface the cause with boilerplate.
                or text.endswith('Original error:')):
            continue
        return f'{type(error).__name__}: {text}'
    return type(error).__name__


class NanLossError(RuntimeError):
    """The loss became NaN; the last checkpoint is the last good state."""
