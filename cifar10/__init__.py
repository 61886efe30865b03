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
"""The TensorFlow CIFAR-10 tutorial, ported to TensorFlow 2.x graph mode.

The tutorial, as a learner reads it:
  cifar10        the model: inputs, inference, loss, train, and the
                 recipe's constants
  cifar10_input  the input: binary-record readers, distortions, queues
  cifar10_train  trains on one device
  cifar10_eval   evaluates the moving averages of each new checkpoint
  cifar10_multi_gpu_train  trains with one tower per device

The scripts added since:
  cifar10_distributed_train  a parameter server or worker of a cluster
  cifar10_convert_images     folders of your own images into a data set
  cifar10_predict            classifies image files with a trained model
  cifar10_export             writes a SavedModel for serving

The machinery beneath them, a folder per role:
  data/          data sets, download, record files, distortions, tf.data,
                 your own image files
  model/         layers, LRN, the two networks, mixed precision
  training/      the training loop, flags, checkpoints, fine-tuning
  parallel/      towers, clusters, replicas
  metrics/       per-class figures, ROC and PR, TensorBoard summaries
  runtime/       one-line errors, session and devices, running a script

Importing the package imports nothing else (not even TensorFlow).
"""

__version__ = '1.0.0'
