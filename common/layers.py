"""Custom Keras layers that saved models refer to by name, so loaders (04 --image, 08, 10) know them.

Importing this module registers them; it imports TensorFlow, so import it after the flags.
"""
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="dl_for_everyone")
class SpaceToDepth(keras.layers.Layer):
    """28×28×1 → 14×14×4: each 2×2 block of pixels becomes 4 channels of one position. 04 now
    builds it from Keras's own Reshape and Permute (its saved model loads in plain Keras); this
    stays registered so that models saved by 04 before 2026-12-04 still load here."""

    def call(self, x):
        return tf.nn.space_to_depth(x, 2)

    def compute_output_shape(self, shape):
        return (shape[0], shape[1] // 2, shape[2] // 2, shape[3] * 4)


# The official TensorFlow 1 CIFAR-10 tutorial's network (07 --model tutorial) as layers, so that
# 08 can rebuild it from model.json like any other model.
@keras.saving.register_keras_serializable(package="dl_for_everyone")
class TrainRandomCropEvalCenterCrop(keras.layers.Layer):
    """While training: a random size×size crop of each image. Otherwise: the central crop."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, images, training=None):
        if training:
            channels = tf.shape(images)[-1]
            return tf.map_fn(lambda image: tf.image.random_crop(image, [self.size, self.size, channels]), images)
        return tf.image.resize_with_crop_or_pad(images, self.size, self.size)

    def compute_output_shape(self, shape):
        return (shape[0], self.size, self.size, shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(package="dl_for_everyone")
class PerImageStandardization(keras.layers.Layer):
    """Each image to mean 0 and standard deviation 1 over all its pixels (tf.image's op)."""

    def call(self, images):
        return tf.image.per_image_standardization(images)


@keras.saving.register_keras_serializable(package="dl_for_everyone")
class LocalResponseNormalization(keras.layers.Layer):
    """The tutorial's LRN: depth_radius 4, bias 1, alpha 0.001/9, beta 0.75."""

    def call(self, x):
        return tf.nn.local_response_normalization(x, depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)


def cifar10_tutorial_network(width=None, mean=None, std=None):
    """07 --model tutorial: the TF1 tutorial's cifar10.py network, layer by layer. It takes raw
    pixels and standardizes each image itself (so 07's width and channel statistics go unused)."""
    def start(stddev):
        return keras.initializers.TruncatedNormal(stddev=stddev)
    decay = keras.regularizers.L2(0.004 / 2)  # its weight decay 0.004 · tf.nn.l2_loss (which halves)
    bias = keras.initializers.Constant(0.1)
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        TrainRandomCropEvalCenterCrop(24),  # random 24×24 crops to train, the centre to test
        PerImageStandardization(),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=start(5e-2)),
        keras.layers.MaxPooling2D(3, strides=2, padding="same"),
        LocalResponseNormalization(),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=start(5e-2),
                            bias_initializer=bias),
        LocalResponseNormalization(),
        keras.layers.MaxPooling2D(3, strides=2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(384, activation="relu", kernel_regularizer=decay, kernel_initializer=start(0.04),
                           bias_initializer=bias),
        keras.layers.Dense(192, activation="relu", kernel_regularizer=decay, kernel_initializer=start(0.04),
                           bias_initializer=bias),
        keras.layers.Dense(10, kernel_initializer=start(1 / 192)),  # logits
    ], name="cifar10_tutorial")
