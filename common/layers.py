"""Custom Keras layers that saved models refer to by name, so loaders (04 --image, 08) know them.

Importing this module registers them; it imports TensorFlow, so import it after the flags.
"""
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="dl_for_everyone")
class SpaceToDepth(keras.layers.Layer):
    """28×28×1 → 14×14×4: each 2×2 block of pixels becomes 4 channels of one position (04)."""

    def call(self, x):
        return tf.nn.space_to_depth(x, 2)

    def compute_output_shape(self, shape):
        return (shape[0], shape[1] // 2, shape[2] // 2, shape[3] * 4)
