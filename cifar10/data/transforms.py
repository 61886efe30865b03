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
"""The training distortions and the evaluation preprocessing, a batch at a time.

The tutorial distorts one image per op (cifar10_input.distort_image): a
random 24x24 crop of the 32x32 image, a random left-right flip, a random
brightness change, a random contrast change, then standardization to zero
mean and unit variance. The functions here do the same math on a whole
batch in a handful of ops: each image draws its own parameters from the
same distributions (distortion_params), crop and flip are one gather each
and exact on uint8 pixels (crop_and_flip), and brightness, contrast and
standardization work on the batch tensor (adjust_colors). The batch queues
(cifar10_input.distorted_inputs_batched) and the tf.data pipeline (tf_data)
both call them, in the same order: crop and flip as records are read
(read_time_distortions), colors after the shuffle (batch_time_distortions).

Nothing runs at import time.
"""

import tensorflow as tf

from cifar10.data import datasets

CIFAR10 = datasets.CIFAR10

# The distortions' ranges, the tutorial's.
MAX_BRIGHTNESS_DELTA = 63
CONTRAST_LOWER = 0.2
CONTRAST_UPPER = 1.8


def eval_image(images, crop_size=CIFAR10.crop_size):
    """Prepares images for evaluation: central crop and standardization.

    Args:
      images: A [32, 32, 3] or [N, 32, 32, 3] float32 tensor (or another
        square size).
      crop_size: Side of the crop (3/4 of the image's).

    Returns:
      The central crop_size x crop_size crop of each image, standardized
      per image to zero mean and unit variance.
    """
    cropped = tf.image.resize_with_crop_or_pad(images, crop_size, crop_size)
    return tf.image.per_image_standardization(cropped)


def distortion_params(batch_size, image_size=CIFAR10.image_size,
                      crop_size=CIFAR10.crop_size):
    """Draws the random distortion parameters of a batch, one set per image.

    The distributions are those of the per-image ops distort_image uses:
    crop offsets uniform over 0..8 (image_size - crop_size) in each
    direction (tf.image.random_crop),
    a left-right flip with probability 1/2 (random_flip_left_right), a
    brightness delta uniform in [-63, 63) (random_brightness) and a contrast
    factor uniform in [0.2, 1.8) (random_contrast).

    Args:
      batch_size: Number of images (an int or a scalar int32 tensor).
      image_size: Side of the images.
      crop_size: Side of the crops.

    Returns:
      A dict of [batch_size] tensors: offset_y, offset_x (int32), flip
      (bool), delta and contrast (float32).
    """
    max_offset = image_size - crop_size
    return {
        'offset_y': tf.random.uniform([batch_size], 0, max_offset + 1, tf.int32),
        'offset_x': tf.random.uniform([batch_size], 0, max_offset + 1, tf.int32),
        'flip': tf.random.uniform([batch_size]) < 0.5,
        'delta': tf.random.uniform([batch_size], -MAX_BRIGHTNESS_DELTA,
                                   MAX_BRIGHTNESS_DELTA),
        'contrast': tf.random.uniform([batch_size], CONTRAST_LOWER,
                                      CONTRAST_UPPER),
    }


def crop_and_flip(images, params, crop_size=CIFAR10.crop_size):
    """Crops each image of a batch at its own offset and flips it if asked.

    Only moves pixels, so it is exact in any dtype; the batch pipeline does
    it on the uint8 images as they are read (see distorted_inputs_batched).

    Args:
      images: A [N, 32, 32, 3] tensor (or another square size).
      params: A dict of distortion_params(N); uses offset_y, offset_x and
        flip.
      crop_size: Side of the crops.

    Returns:
      A [N, crop_size, crop_size, 3] tensor of the same dtype.
    """
    span = tf.range(crop_size)
    rows = params['offset_y'][:, None] + span
    # A flipped crop reads its window's columns right to left.
    cols = params['offset_x'][:, None] + tf.where(
        params['flip'][:, None], crop_size - 1 - span, span)
    cropped = tf.gather(images, rows, axis=1, batch_dims=1)
    return tf.gather(cropped, cols, axis=2, batch_dims=1)


def adjust_colors(images, params):
    """Brightness, contrast and standardization of a batch of crops.

    Args:
      images: A [N, crop, crop, 3] tensor of pixel values 0-255 (uint8 or
        float32).
      params: A dict of distortion_params(N); uses delta and contrast.

    Returns:
      A float32 tensor of the same shape.
    """
    brightened = (tf.cast(images, tf.float32)
                  + params['delta'][:, None, None, None])
    # Contrast scales each channel around its own mean, as adjust_contrast.
    means = tf.reduce_mean(brightened, axis=[1, 2], keepdims=True)
    contrasted = ((brightened - means) * params['contrast'][:, None, None, None]
                  + means)
    return tf.image.per_image_standardization(contrasted)


def distort_batch(images, params, crop_size=CIFAR10.crop_size):
    """Applies the training distortions to a whole batch at once.

    The same math as distort_image, image by image, but a handful of ops per
    batch instead of a dozen per image: crop and flip are one gather each
    (crop_and_flip), and brightness, contrast and standardization work on
    the batch tensor (adjust_colors).

    Args:
      images: A [N, 32, 32, 3] tensor of pixel values 0-255, uint8 or
        float32 (exact either way: crop and flip only move pixels).
      params: The dict of distortion_params(N).
      crop_size: Side of the crops.

    Returns:
      A [N, crop_size, crop_size, 3] float32 tensor.
    """
    return adjust_colors(crop_and_flip(images, params, crop_size), params)


def read_time_distortions(images, dataset, params_fn=None):
    """The distortions applied to records as they are read: each image's
    random crop and flip, on the uint8 pixels (crop_and_flip).

    Args:
      images: [N, size, size, 3] uint8 images of ``dataset``.
      dataset: The data set (image and crop sizes).
      params_fn: As distortion_params (None means it).

    Returns:
      [N, crop, crop, 3] uint8 crops.
    """
    params_fn = params_fn or distortion_params
    crop = dataset.crop_size
    return crop_and_flip(
        images, params_fn(tf.shape(images)[0], dataset.image_size, crop), crop)


def batch_time_distortions(crops, batch_size, dataset, params_fn=None):
    """The distortions applied to each shuffled batch: brightness, contrast
    and standardization (adjust_colors).

    Args:
      crops: [batch_size, crop, crop, 3] uint8 crops.
      batch_size: The batch size.
      dataset: The data set.
      params_fn: As distortion_params (None means it).

    Returns:
      [batch_size, crop, crop, 3] float32 images.
    """
    params_fn = params_fn or distortion_params
    return adjust_colors(crops, params_fn(batch_size, dataset.image_size,
                                          dataset.crop_size))


def eval_batch(images, dataset):
    """Evaluation preprocessing of [N, size, size, 3] uint8 images: the
    central crop and standardization (eval_image), float32 out."""
    crop = dataset.crop_size
    out = eval_image(tf.cast(images, tf.float32), crop)
    out.set_shape([None, crop, crop, 3])
    return out
