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
"""The data: where it comes from, how it is checked, read and distorted.

  datasets      the data sets --dataset names: layout, sizes, files, classes
  download      download, checksum and safe extraction of a release
  record_files  the record files: names, checks, decoding (every pipeline)
  transforms    the distortions and evaluation preprocessing, a batch at a time
  tf_data       the tf.data pipeline, and each worker's share of the files
  image_files   reading image files of any kind into square RGB images
  image_headers what an image file's header says: size, EXIF orientation
  image_folders class folders of your own images into a data set

The tutorial's own queue pipeline is cifar10_input, beside the scripts.
"""
