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
"""The networks and what they are built of.

  layers         variables, convolutions, fully and locally connected
                 layers, pooling, and their summaries
  lrn            local response normalization and its gradients
  architectures  the two networks' layer stacks (tutorial, local)
  network        Network (which model, classes, crop size, precision),
                 parameter counts, which network a checkpoint holds
  precision      mixed precision: products in bfloat16, where the CPU has it

The tutorial's inference() and loss() are in cifar10, beside the scripts.
"""
