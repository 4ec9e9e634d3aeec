"""Custom Keras layers that saved models refer to by name, so loaders (04 --image, 08) know them.

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


@keras.saving.register_keras_serializable(package="dl_for_everyone")
class HeadTailOutput(keras.layers.Layer):
    """Log-probabilities of every vocabulary entry through a two-level softmax (09).

    The vocabulary is sorted by frequency. Its first `head` entries and one extra "rare" entry
    share a softmax; a rarer character gets p(rare) × its share in a second softmax over the rare
    ones alone. The probabilities are exact and sum to 1. While training, call(x, targets) gives
    each position's loss and runs the second softmax only where the next character is rare (9% of
    Tang-poem characters with head 1500): most of a flat softmax's work over 8,000 scores is skipped.
    Scores come from `embedding`'s own table (weight tying) or, without one, from a table of its own.
    head ≥ vocab_size: one plain softmax over the whole vocabulary.
    """

    def __init__(self, vocab_size, head, embedding=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.head, self.embedding = vocab_size, min(head, vocab_size), embedding
        self.split = self.head < vocab_size  # else there are no rare characters, and no "rare" entry

    def build(self, input_shape):
        width = input_shape[-1]
        if self.embedding is None:
            self.table = self.add_weight(shape=(self.vocab_size, width), initializer="glorot_uniform", name="table")
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")
        if self.split:  # the "rare" entry's vector and bias
            self.rare = self.add_weight(shape=(width,), initializer="zeros", name="rare")
            self.rare_bias = self.add_weight(shape=(), initializer="zeros", name="rare_bias")

    def _table(self, dtype):
        table = self.table if self.embedding is None else self.embedding.embeddings
        return keras.ops.cast(table, dtype)

    def _head_log_probs(self, x):  # [..., head + 1]: the head characters, then "rare" (if split)
        table, head = self._table(x.dtype), self.head
        scores = keras.ops.matmul(x, keras.ops.transpose(table[:head])) + keras.ops.cast(self.bias[:head], x.dtype)
        if self.split:
            rare = keras.ops.matmul(x, keras.ops.cast(self.rare, x.dtype)[:, None]) + keras.ops.cast(self.rare_bias, x.dtype)
            scores = keras.ops.concatenate([scores, rare], axis=-1)
        return tf.nn.log_softmax(tf.cast(scores, tf.float32))  # (float32 even under mixed bfloat16)

    def _tail_log_probs(self, x):  # [..., vocab - head]: each rare character's share among the rare ones
        scores = (keras.ops.matmul(x, keras.ops.transpose(self._table(x.dtype)[self.head:]))
                  + keras.ops.cast(self.bias[self.head:], x.dtype))
        return tf.nn.log_softmax(tf.cast(scores, tf.float32))

    def call(self, x, targets=None):
        head = self._head_log_probs(x)
        if targets is None:  # every entry's log-probability (for sampling, and for saved models)
            if not self.split:
                return head
            return keras.ops.concatenate([head[..., :-1], head[..., -1:] + self._tail_log_probs(x)], axis=-1)
        targets = tf.cast(targets, tf.int32)
        loss = -tf.gather(head, tf.minimum(targets, self.head), batch_dims=len(targets.shape))
        if not self.split:
            return loss
        where = tf.where(targets >= self.head)  # only these positions pay for the second softmax
        tail = self._tail_log_probs(tf.gather_nd(x, where))
        tail_loss = -tf.gather(tail, tf.gather_nd(targets, where) - self.head, batch_dims=1)
        return tf.tensor_scatter_nd_add(loss, where, tail_loss)  # per position: −log p(next character)

    def compute_output_shape(self, shape):
        return (*shape[:-1], self.vocab_size)

    def get_config(self):  # (a tied layer is saved untied, with a copy of the table: see poem_writer.export_model)
        return {**super().get_config(), "vocab_size": self.vocab_size, "head": self.head}


@keras.saving.register_keras_serializable(package="dl_for_everyone")
class ShiftOnlyBatchNorm(keras.layers.Layer):
    """Batch normalization with a learned shift and no learned scale (07's default network).

    The next layer is a convolution or a max-pool, which rescale anyway, so a scale weight adds
    nothing but an extra way to drift. One fused TensorFlow op: on a CPU it measured 10% faster
    per training step than keras.layers.BatchNormalization(scale=False) in this network.
    """

    def __init__(self, momentum=0.6, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.beta = self.add_weight(shape=channels, initializer="zeros", name="beta")
        # (autocast off, aggregation mean: float32 under mixed precision; averaged over replicas)
        self.moving_mean = self.add_weight(shape=channels, initializer="zeros", trainable=False,
                                           name="moving_mean", autocast=False, aggregation="mean")
        self.moving_variance = self.add_weight(shape=channels, initializer="ones", trainable=False,
                                               name="moving_variance", autocast=False, aggregation="mean")

    def call(self, x, training=None):
        beta = tf.cast(self.beta, tf.float32)  # the op wants float32 statistics, also for bfloat16 pixels
        ones = tf.ones_like(beta)
        if training:  # normalize with this batch's statistics; the running averages move towards them
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, ones, beta, mean=self.moving_mean, variance=self.moving_variance,
                epsilon=self.epsilon, is_training=True, exponential_avg_factor=1 - self.momentum)
            self.moving_mean.assign(mean)
            self.moving_variance.assign(variance)
            return y
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, ones, beta, mean=self.moving_mean,
                                                   variance=self.moving_variance, epsilon=self.epsilon,
                                                   is_training=False)
        return y

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}
