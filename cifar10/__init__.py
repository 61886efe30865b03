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

Modules:
  cifar10        the tutorial's module: inputs, inference, loss, train, and
                 the recipe's constants (the rest importable from it too)
  models         the two networks (tutorial, local)
  layers         the layers they are built of, and their summaries
  lrn            local response normalization and its gradients
  network        Network, parameter counts, which network a checkpoint holds
  cifar10_input  the binary-record reader and input queues
  cifar10_data   download, verification and safe extraction of the data
  datasets       the data sets --dataset names: layout, files, classes
                 (your own images: from the converter's dataset.json)
  image_files    reading image files of any kind into square RGB images
  image_folders  class folders: finding, splitting, writing a data set
  cifar10_convert_images  the script converting your image folders
  precision      mixed precision: products in bfloat16, where it pays
  fine_tuning    starting a run from another model's fitting variables
  cifar10_train  the single-device training script
  cifar10_eval   the evaluation script
  cifar10_multi_gpu_train  the multi-GPU (tower) training script
  cifar10_distributed_train  the distributed (ps and workers) training script
  cluster        cluster specs, TF_CONFIG, reachability
  replicas       placement, updates and shared state of a cluster's workers
  cifar10_towers  model replicas sharing variables, gradients averaged
  cifar10_metrics  per-class figures, confusion matrix, ROC and PR curves
  cifar10_predict  classifies image files with a trained model
  cifar10_export   writes a SavedModel for serving
  errors         the errors the scripts report in one line
  flags          command-line flags the scripts share
  session        session settings and the defaults that follow the device
  checkpoints    finding, reading, restoring checkpoints; the train_dir lock
  training       the one training loop and its hooks, for every trainer
  cli            running a script: quiet import, exit status, signals
  script_setup   what a script does first when run as a program

Importing the package imports nothing else (not even TensorFlow).
"""

__version__ = '1.0.0'
