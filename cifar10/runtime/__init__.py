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
"""What every part runs on: the one-line errors, the session and its devices,
and how a script starts and ends.

  errors        the errors the scripts report in one line
  session       session settings, and the defaults that follow the device
  cli           running a script: quiet TensorFlow import, exit status,
                signals; the console scripts
  kernels       which CPU kernels TensorFlow runs (--onednn), chosen
                before it loads
  script_setup  what a script does first when it runs as a program
"""
