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
"""What the training scripts share.

  loop          the one training loop and its hooks, for every trainer
  flags         the command-line flags the scripts share
  checkpoints   finding, reading and restoring checkpoints; the train_dir lock
  fine_tuning   starting a run from another model's fitting variables
"""
