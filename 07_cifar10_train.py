"""07 · CIFAR-10 训练 / Train on CIFAR-10, the official tutorial redone (文章 六.1)

What it shows
  The article ran TensorFlow's official CIFAR-10 tutorial (cifar10_train.py): hours on a GPU
  for ~86%. Three versions here, all reading the official binary data, writing checkpoints as
  they go, resuming where they stopped (Ctrl-C saves first):
  --model airbench  (default) Keller Jordan's airbench93 recipe, rebuilt in Keras: a first layer
                    that whitens 2×2 patches (set from the data, never trained), three small
                    conv blocks, identity-started convolutions, frozen BN scales with fast BN
                    shifts, a triangular learning rate, label smoothing, a lookahead average of
                    the weights, alternating flips: each ingredient is commented where it is used.
  --model resnet    a small residual network, 28 epochs: a plain modern recipe, without airbench's tricks.
  --model tutorial  the article's own network and recipe (TF1 tutorial: 24×24 crops, brightness
                    and contrast distortion, conv 5×5·64 ×2 with LRN, FC 384 → 192 → 10, plain
                    SGD at 0.1, batch 128), rebuilt in Keras 3.
  Evaluate with 08_cifar10_eval.py (it reads any of them), also while this is running.

Run / 运行
  python 07_cifar10_train.py                    默认配置，2 核 CPU 约 15 分钟 / default run (≈15 min on a 2-core CPU)
  python 07_cifar10_train.py --without lookahead --train-dir outputs/no_lookahead
                                                去掉 lookahead 会差多少？/ what does it buy?
  python 07_cifar10_train.py --width 256 --epochs 10 --train-dir outputs/cifar10_wide
                                                airbench94 的网络宽度 / airbench94's shape
  python 07_cifar10_train.py --model tutorial --train-dir outputs/cifar10_tutorial
                                                文章里的官方教程网络 / the article's tutorial network
  python 07_cifar10_train.py --epochs 2         快速看一眼；--minutes 30 练 30 分钟就停
                                                a quick look; --minutes 30 stops after 30 min
  tensorboard --logdir outputs/cifar10_train    损失和学习率曲线 / loss and learning-rate curves
  python 08_cifar10_eval.py                     最新检查点的准确率 / accuracy of the latest checkpoint

Expected / 预期结果
  约 15 分钟后，用 08（带测试时增强）测得测试准确率 ≈89%
  ≈89% test accuracy with 08's test-time augmentation after ≈15 min (airbench reports 93.0%)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import json
import time
from pathlib import Path

RECIPES = {  # each model's own defaults; a flag given on the command line overrides them
    "airbench": dict(epochs=11, batch_size=1024, lr=1.5, width=128),  # airbench93's recipe (below)
    "resnet": dict(epochs=28, batch_size=256, lr=0.2, width=48),
    "tutorial": dict(epochs=100, batch_size=128, lr=0.1, width=None),  # the tutorial: constant 0.1, batch 128
}
parser = common.make_parser(__doc__)
parser.add_argument("--model", choices=list(RECIPES), default="airbench",
                    help="airbench：CPU 上最快；resnet：小型残差网络；tutorial：文章跑的 TF1 官方教程 / "
                         "airbench: fastest on a CPU; resnet: a small residual network; "
                         "tutorial: the TF1 tutorial the article ran")
parser.add_argument("--train-dir", default=str(common.SCRIPTS_DIR / "outputs" / "cifar10_train"),
                    help="检查点、TensorBoard 日志和模型描述写到这里 / "
                         "checkpoints, TensorBoard logs and the model description go here")
parser.add_argument("--epochs", type=common.positive_float, default=None,
                    help="整个学习率计划的长度（轮）；默认 11（airbench）、28（resnet）、100（tutorial）/ "
                         "length of the whole schedule; default 11 (airbench), 28 (resnet), 100 (tutorial)")
parser.add_argument("--steps", type=common.positive_int, default=None,
                    help="练这么多步就停（优先于 --epochs）/ stop after this many steps (overrides --epochs)")
parser.add_argument("--minutes", type=common.positive_float, default=None,
                    help="所有运行累计练这么多分钟就停（并保存）/ "
                         "stop (and save) after this many minutes of training in all runs")
parser.add_argument("--batch-size", type=common.positive_int, default=None,
                    help="每批图片数；默认 1024（airbench）、256（resnet）、128（tutorial）/ "
                         "images per batch; default 1024 (airbench), 256 (resnet), 128 (tutorial)")
parser.add_argument("--lr", type=common.positive_float, default=None,
                    help="SGD 的最高学习率；默认 1.5（airbench）、0.2（resnet）、0.1（tutorial）/ "
                         "peak SGD learning rate; default 1.5 (airbench), 0.2 (resnet), 0.1 (tutorial)")
parser.add_argument("--width", type=common.at_least(2), default=None,
                    help="airbench：第 2、3 块的通道数（默认 128；256 加 --epochs 10 就是 airbench94：更准，慢一倍）；"
                         "resnet：第一块的通道数（默认 48）/ airbench: channels of blocks 2 and 3 (default 128; "
                         "256 with --epochs 10 is airbench94: more accurate, 2x slower); "
                         "resnet: channels of the first block (default 48)")
parser.add_argument("--without", nargs="+", default=[], metavar="PART",
                    choices=["whitening", "dirac", "bias-lr", "lookahead", "alternating-flip", "label-smoothing"],
                    help="airbench：去掉配方里的某几部分，看每一部分的作用（README 里有对比表）/ "
                         "airbench: leave parts of the recipe out, to see what each buys (README: the "
                         "ablation table): whitening dirac bias-lr lookahead alternating-flip label-smoothing")
parser.add_argument("--save-every", type=common.positive_int, default=200,
                    help="每 N 步保存一个检查点 / checkpoint every N steps")
parser.add_argument("--keep-every-min", type=common.positive_float, default=10,
                    help="除了最后 3 个，每隔这么多分钟再留一个检查点（画时间曲线用）/ "
                         "besides the last 3, keep one checkpoint per this many minutes (for time curves)")
parser.add_argument("--log-every", type=common.positive_int, default=20,
                    help="每 N 步打印一行日志 / print a log line every N steps")
parser.add_argument("--max-train", type=common.positive_int, default=None,
                    help="只用前 N 张训练图片（快速试一试）/ use only N training images (quick tries)")
parser.add_argument("--fresh", action="store_true",
                    help="删除旧的检查点，从头开始 / delete old checkpoints and start over")
parser.add_argument("--strategy", choices=["default", "mirrored"], default="default",
                    help="mirrored：用 tf.distribute.MirroredStrategy 分到所有 GPU（或 CPU）上 / "
                         "mirrored: tf.distribute.MirroredStrategy over all GPUs (or the CPU)")
parser.add_argument("--jit", choices=["on", "off"], default="off",
                    help="用 XLA 编译训练步（在 CPU 上反而更慢）/ "
                         "XLA-compile the training step (slower on a CPU)")
common.add_common_args(parser)
args = common.parse_args(parser)
recipe = {key: getattr(args, key) or default for key, default in RECIPES[args.model].items()}

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import numpy as np  # noqa: E402

from common.augment import windows  # noqa: E402
from common.layers import (LocalResponseNormalization, PerImageStandardization,  # noqa: E402
                           ShiftOnlyBatchNorm, TrainRandomCropEvalCenterCrop)

common.set_seed(args.seed)
train_dir = Path(args.train_dir)
# --fresh clears the old run; a checkpoint cut short by a kill is removed (common/training.py).
run = common.ResumableRun(train_dir, fresh=args.fresh, run_files=["model.json", "normalization.json",
                                                                  "settings.json"])
settings = {"model": args.model, "width": recipe["width"], "without": sorted(args.without)}
resuming = run.has_checkpoint()
if resuming:  # checked before anything is written: the checkpoints must fit this network
    try:
        saved = json.loads((train_dir / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {"model": "resnet"}  # a run of an older version: compared through model.json below
    def as_flag(name, value):  # "--width 8", "--without lookahead", "no --without"
        if isinstance(value, list):
            return f"--{name} {' '.join(value)}" if value else f"no --{name}"
        return f"--{name} {value}"

    for name, value in saved.items():
        if settings.get(name, [] if isinstance(value, list) else None) != value:
            old, new = as_flag(name, value), as_flag(name, settings.get(name))
            common.fail(f"{train_dir} 里的检查点是用 {old} 训练的，这次是 {new}。\n"
                        f"the checkpoints in {train_dir} were trained with {old}, not {new}: "
                        f"continue with {old}, or start over with --fresh")

# %% 1. 准备数据 / Data: the official binary files through tf.data, with augmentation
files = common.cifar10_files(args.data_dir)
norm_path = train_dir / "normalization.json"
n_train = min(args.max_train or 50_000, sum(Path(f).stat().st_size for f in files["train"])
              // common.datasets.CIFAR10_RECORD_BYTES)
if args.model == "tutorial":
    # 08 computes (x/255 - mean)/std: with these values the tutorial model gets raw 0-255 pixels
    # and standardizes each image itself, as the tutorial did.
    mean, std = [0.0, 0.0, 0.0], [1 / 255] * 3
elif resuming and norm_path.is_file():  # keep what 08 uses: the run's first statistics
    norm = json.loads(norm_path.read_text(encoding="utf-8"))
    mean, std = norm["mean"], norm["std"]
else:  # channel mean/std of the training images, saved for 08 so it scales test images the same way
    train_images, _ = common.read_cifar10_bin(files["train"])
    train_images = train_images[:args.max_train].reshape(-1, 3)
    mean, std = list(train_images.mean(axis=0) / 255), list(train_images.std(axis=0) / 255)
    del train_images


def augment(image, label):
    if args.model == "tutorial":  # the tutorial's distortions (its 24×24 random crop is in the model)
        image = tf.image.random_flip_left_right(tf.cast(image, tf.float32))
        image = tf.image.random_brightness(image, max_delta=63)
        return tf.image.random_contrast(image, lower=0.2, upper=1.8), label
    # Random crop with 4 pixels of padding, and a horizontal flip: new images every epoch.
    image = tf.image.random_flip_left_right(image)
    image = tf.pad(image, [[4, 4], [4, 4], [0, 0]], mode="REFLECT")
    return tf.image.random_crop(image, [32, 32, 3]), label


def normalize(images, labels):
    return (tf.cast(images, tf.float32) / 255 - mean) / std, labels


steps_per_epoch = n_train // recipe["batch_size"]
if steps_per_epoch == 0:
    common.fail(f"只有 {n_train} 张训练图片，少于 --batch-size {recipe['batch_size']} / only {n_train} training "
                f"images for batch size {recipe['batch_size']}: use a smaller --batch-size")
total_steps = args.steps or int(recipe["epochs"] * steps_per_epoch)


def airbench_batches(images, labels, batch_size, first_step, seed, random_flips=False):
    """Batch after batch from `first_step` on, each a function of (seed, step) alone: a resumed
    run sees exactly the batches an uninterrupted one would have seen.

    Augmentation: every image moved by up to 2 pixels (reflected at the border), and mirrored in
    alternate epochs: a fixed random half of the images in even epochs, the other half in odd
    ones, so each image is seen both ways every two epochs (random flips repeat a view half the time).
    """
    padded = tf.constant(np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect"))
    labels = tf.constant(labels.astype(np.int32))
    flipped_in_even_epochs = tf.constant(np.random.default_rng(seed).random(len(images)) < 0.5)

    def batch(step):
        epoch, index = step // steps_per_epoch, step % steps_per_epoch
        order = tf.random.experimental.stateless_shuffle(tf.range(len(images)), seed=[seed, epoch])
        chosen = order[index * batch_size:(index + 1) * batch_size]
        shifts = tf.random.stateless_uniform([batch_size, 2], seed=[seed + 1, step], maxval=5, dtype=tf.int64)
        # Each image its own 32×32 window of 36×36, cut in float32 (exact for 0-255): oneDNN logs an
        # error for a uint8 Transpose, which windows() uses.
        x = windows(tf.cast(tf.gather(padded, chosen), tf.float32), shifts, 32, 32)
        mirror = tf.not_equal(tf.gather(flipped_in_even_epochs, chosen), epoch % 2 == 1)
        if random_flips:  # --without alternating-flip: each image mirrored or not at random, every time
            mirror = tf.random.stateless_uniform([batch_size], seed=[seed + 2, step]) < 0.5
        x = tf.where(mirror[:, None, None, None], tf.reverse(x, axis=[2]), x)
        return normalize(x, tf.gather(labels, chosen))

    return (tf.data.Dataset.range(first_step, total_steps)
            .map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


if args.model == "airbench":  # the whole training set in memory as uint8 (150 MB)
    train_images, train_labels = common.read_cifar10_bin(files["train"])
    train_images, train_labels = train_images[:n_train], train_labels[:n_train]
else:
    records = common.cifar10_dataset(files["train"])
    if args.max_train:
        records = records.take(args.max_train)
    train_data = (records.cache()  # decoded uint8 images stay in memory (150 MB) after epoch 1
                  .shuffle(n_train, seed=args.seed)
                  .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
                  .batch(recipe["batch_size"], drop_remainder=True)
                  .map(normalize, num_parallel_calls=tf.data.AUTOTUNE)
                  .prefetch(tf.data.AUTOTUNE))


# %% 2. 模型 / Model: airbench's network (default), the tutorial's, and a small ResNet
def airbench_model(width):
    """airbench93/94 (Keller Jordan, github.com/KellerJordan/cifar10-airbench) rebuilt in Keras.

    A 2×2 convolution that whitens the pixels (set from the data, below), then three blocks of
    conv → max-pool → BN → GELU → conv → BN → GELU at widths 64, `width`, `width`; the strongest
    response of each channel; 10 logits, scaled down by 9 so that early steps stay gentle.
    """
    # PyTorch's default start, which the recipe was tuned with: uniform within ±1/√(inputs).
    start = keras.initializers.VarianceScaling(1 / 3, mode="fan_in", distribution="uniform")
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(24, 2, name="whiten")(inputs)  # 31×31: 12 decorrelated directions, ± each
    x = keras.layers.Activation("gelu")(x)
    for filters in (64, width, width):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=start)(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Activation("gelu")(ShiftOnlyBatchNorm(momentum=0.6)(x))
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=start)(x)
        x = keras.layers.Activation("gelu")(ShiftOnlyBatchNorm(momentum=0.6)(x))
    x = keras.layers.GlobalMaxPooling2D()(x)
    x = keras.layers.Dense(10, use_bias=False, kernel_initializer=start)(x)
    return keras.Model(inputs, keras.layers.Rescaling(1 / 9)(x), name="cifar10_airbench")


def set_airbench_start(model, images, without=(), eps=5e-4):
    """Two parts of airbench's start that a Keras initializer cannot express.

    Whitening: the 2×2×3 = 12 numbers of every 2×2 patch are correlated (neighbouring pixels look
    alike). The eigenvectors of their covariance, each divided by √(its eigenvalue), give filters
    whose outputs are uncorrelated with variance 1: the first layer hands on independent signals.
    Identity (Dirac) start: in each 3×3 convolution the first filters pass their input channel
    through unchanged, so the deep net starts out close to a shallow one and trains like one early.
    """
    if "whitening" not in without:
        patches = tf.image.extract_patches(images, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
        patches = patches.numpy().reshape(-1, 12).astype(np.float64)  # row, column, channel: the kernel's order
        eigenvalues, eigenvectors = np.linalg.eigh(patches.T @ patches / len(patches))
        filters = eigenvectors / np.sqrt(eigenvalues + eps)
        model.get_layer("whiten").kernel.assign(np.concatenate([filters, -filters], axis=1).reshape(2, 2, 3, 24))
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and layer.name != "whiten" and "dirac" not in without:
            kernel = layer.kernel.numpy()
            passed = np.arange(min(kernel.shape[2:]))  # channels that pass through: min(inputs, filters)
            kernel[:, :, :, passed] = 0
            kernel[1, 1, passed, passed] = 1
            layer.kernel.assign(kernel)


def tutorial_model():
    """The TF1 tutorial's cifar10.py network, layer by layer (truncated-normal starts as there)."""
    def start(stddev):
        return keras.initializers.TruncatedNormal(stddev=stddev)
    decay = keras.regularizers.L2(0.004 / 2)  # its weight decay 0.004 · tf.nn.l2_loss (which halves)
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        TrainRandomCropEvalCenterCrop(24),  # random 24×24 crops to train, the centre to test
        PerImageStandardization(),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=start(5e-2)),
        keras.layers.MaxPooling2D(3, strides=2, padding="same"),
        LocalResponseNormalization(),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu", kernel_initializer=start(5e-2),
                            bias_initializer=keras.initializers.Constant(0.1)),
        LocalResponseNormalization(),
        keras.layers.MaxPooling2D(3, strides=2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(384, activation="relu", kernel_regularizer=decay, kernel_initializer=start(0.04),
                           bias_initializer=keras.initializers.Constant(0.1)),
        keras.layers.Dense(192, activation="relu", kernel_regularizer=decay, kernel_initializer=start(0.04),
                           bias_initializer=keras.initializers.Constant(0.1)),
        keras.layers.Dense(10, kernel_initializer=start(1 / 192)),  # logits
    ], name="cifar10_tutorial")


def resnet_model(width):
    """A small ResNet: a stem, then three blocks of conv → max-pool → BN → ReLU + a residual conv pair.

    Widths `width`, 2·width, 4·width at 32, 16 and 8 pixels; global max-pool; one dense layer.
    """
    def conv_bn(x, filters):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        return keras.layers.ReLU()(keras.layers.BatchNormalization(momentum=0.9)(x))

    def block(x, filters):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.ReLU()(keras.layers.BatchNormalization(momentum=0.9)(x))
        shortcut = x
        x = conv_bn(conv_bn(x, filters), filters)
        return keras.layers.Add()([x, shortcut])

    inputs = keras.Input((32, 32, 3))
    x = conv_bn(inputs, width // 2)
    for filters in (width, 2 * width, 4 * width):
        x = block(x, filters)
    x = keras.layers.GlobalMaxPooling2D()(x)
    outputs = keras.layers.Dense(10)(x)  # logits
    return keras.Model(inputs, outputs, name="cifar10_resnet")


strategy = tf.distribute.MirroredStrategy() if args.strategy == "mirrored" else tf.distribute.get_strategy()
with strategy.scope():
    model = {"airbench": airbench_model, "resnet": resnet_model}.get(args.model, lambda _: tutorial_model())(
        recipe["width"])
model_json_path = train_dir / "model.json"
if (resuming and model_json_path.is_file()
        and model_json_path.read_text(encoding="utf-8") != model.to_json()):
    common.fail(f"{train_dir} 里的检查点属于另一个网络（--width 不同？）/ the checkpoints in {train_dir} belong "
                f"to another network (a different --width?): use the old flags, or start over with --fresh")
# 08 rebuilds the net from model.json and scales images with normalization.json.
common.write_text(model_json_path, model.to_json())
common.write_json(norm_path, {"mean": [float(v) for v in mean], "std": [float(v) for v in std]})
common.write_json(train_dir / "settings.json", settings)
if args.model == "airbench" and not resuming:
    set_airbench_start(model, normalize(train_images[:5000], None)[0], args.without)


# %% 3. 损失函数与优化器 / Loss and optimizer
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Rises linearly to the peak over the first 15% of steps, then falls linearly to 0."""

    def __init__(self, peak, total_steps):
        self.peak, self.total, self.warmup = peak, total_steps, max(1, int(0.15 * total_steps))

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rise = self.peak * step / self.warmup
        fall = self.peak * tf.maximum(0.0, (self.total - step) / max(1, self.total - self.warmup))
        return tf.where(step < self.warmup, rise, fall)


class Triangle(keras.optimizers.schedules.LearningRateSchedule):
    """airbench's schedule: from 20% of the peak up to the peak at 23% of the steps, down to 7% at the end."""

    def __init__(self, peak, total_steps):
        self.peak, self.total, self.top = peak, total_steps, max(1, int(0.23 * total_steps))

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rise = 0.2 + 0.8 * step / self.top
        fall = 1 - 0.93 * (step - self.top) / max(1, self.total - self.top)
        return self.peak * tf.where(step < self.top, rise, tf.maximum(0.07, fall))


with strategy.scope():
    if args.model == "airbench":
        # airbench's "11.5 per 1024 images" for a summed loss, momentum-normalized, is 1.5 for
        # our mean loss; its weight decay becomes 0.0153 / 11.5 of each weight added to its gradient.
        optimizer = keras.optimizers.SGD(Triangle(recipe["lr"], total_steps), momentum=0.85, nesterov=True)
        smoothing = 0.0 if "label-smoothing" in args.without else 0.2
        loss_object = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing,
                                                           reduction="none")
    elif args.model == "tutorial":  # plain SGD at a constant rate, plain cross-entropy
        optimizer = keras.optimizers.SGD(recipe["lr"])
        loss_object = keras.losses.CategoricalCrossentropy(from_logits=True, reduction="none")
    else:
        optimizer = keras.optimizers.SGD(WarmupLinearDecay(recipe["lr"], total_steps), momentum=0.9,
                                         nesterov=True, weight_decay=5e-4)
        # Label smoothing: aim at 0.82 for the right class instead of 1, so the net stays less sure.
        loss_object = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2,
                                                           reduction="none")
    optimizer.build(model.trainable_variables)
    # airbench's lookahead: a slow average of all weights that the net is pulled back to (section 4).
    averaged = tf.Module()
    averaged.weights = [tf.Variable(w, trainable=False) for w in model.weights] if args.model == "airbench" else []
run.restore(optimizer, max_to_keep=3, keep_every_minutes=args.keep_every_min, model=model, lookahead=averaged)

trained = {True: model.trainable_variables, False: model.trainable_variables}  # {in the first 3 epochs: ...}
if args.model == "airbench" and "whitening" not in args.without:
    whiten = model.get_layer("whiten")
    # The whitening filters stay as computed from the data; their bias learns in the first 3 epochs only.
    trained[False] = [v for v in model.trainable_variables if v.path not in (whiten.kernel.path, whiten.bias.path)]
    trained[True] = trained[False] + [whiten.bias]
# BN shifts learn 64× faster than other weights (their decay stays the same): they are few, and
# with the scale frozen they alone decide where each channel's GELU bends.
fast = {layer.beta.path for layer in model.layers
        if isinstance(layer, ShiftOnlyBatchNorm) and "bias-lr" not in args.without}


# %% 4. 训练 / Train: Ctrl-C saves a checkpoint, then exits; running again resumes
@tf.function(jit_compile=args.jit == "on")
def replica_step(images, labels, early):
    variables = trained[early]
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        per_example = loss_object(tf.one_hot(labels, 10), logits)
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=recipe["batch_size"])
        if model.losses:  # the tutorial's weight decay on its dense layers
            loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
    gradients = tape.gradient(loss, variables)
    if args.model == "airbench":  # BN shifts 64× faster; weight decay added to the gradient
        gradients = [gradient * (64.0 if v.path in fast else 1.0) + (0.0153 / 11.5) * v
                     for gradient, v in zip(gradients, variables)]
    optimizer.apply_gradients(zip(gradients, variables))
    return loss


@tf.function
def train_step(images, labels, early):
    losses = strategy.run(replica_step, args=(images, labels, early))
    return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)


@tf.function
def lookahead(decay):
    """Average ← decay · average + (1 − decay) · weights, then weights ← average."""
    for average, weight in zip(averaged.weights, model.weights):
        average.assign(decay * average + (1 - decay) * weight)
        weight.assign(average)


def after_step(step):
    """airbench's lookahead, from epoch 4 on: every 5 steps, and at the end of each epoch."""
    started = step // 5 * 5 > 3 * steps_per_epoch  # the first update (from the 4th epoch on) only copies
    if step % 5 == 0 and started:
        lookahead(tf.constant(0.0 if step - 5 <= 3 * steps_per_epoch else 0.95 ** 5 * (step / total_steps) ** 3))
    if step % steps_per_epoch == 0 and started:
        lookahead(tf.constant(1.0))


guard = common.NanGuard()
summary = tf.summary.create_file_writer(str(train_dir))
if run.step >= total_steps:
    print(f"已经练完 {total_steps} 步中的 {run.step} 步：用 --fresh 从头开始，或加大 --epochs / "
          f"already trained {run.step} of {total_steps} steps; use --fresh to start over or raise --epochs")
    raise SystemExit(0)
batch_size = recipe["batch_size"]
print(f"训练图片 / training images: {n_train:,}，每批 / batch {batch_size}，每轮 / steps per epoch "
      f"{steps_per_epoch}，训练步 / training steps {run.step}..{total_steps}")
print(f"模型 / model {model.name}，{model.count_params():,} 个参数 / parameters")

if args.model == "airbench":  # one stream of batches from this step to the end
    train_data = airbench_batches(train_images, train_labels, batch_size, run.step, args.seed,
                                  random_flips="alternating-flip" in args.without)
epoch_data = strategy.experimental_distribute_dataset(train_data)
start, last_log, loss = time.time(), time.time(), None
# Resume in the middle of an epoch: skip the batches it already saw.
skip = 0 if args.model == "airbench" else run.step % steps_per_epoch
with summary.as_default():
    while run.step < total_steps and not run.stop_requested(args.minutes):
        for images, labels in (epoch_data if skip == 0 else
                               strategy.experimental_distribute_dataset(train_data.skip(skip))):
            loss = train_step(images, labels, args.model == "airbench" and run.step < 3 * steps_per_epoch)
            run.step += 1
            if args.model == "airbench" and "lookahead" not in args.without:
                after_step(run.step)
            batch = (run.step - 1) % steps_per_epoch
            # A NaN stops here with the guard's message (exit 1); the last good checkpoint stays.
            guard.check(run.step, loss, rows=(batch * batch_size, (batch + 1) * batch_size))
            if run.step % args.log_every == 0 or run.step == total_steps:
                seconds = (time.time() - last_log) / args.log_every
                print(f"{time.strftime('%H:%M:%S')}: 第 {run.step} 步 / step {run.step}, loss = {float(loss):.3f} "
                      f"({batch_size / seconds:.1f} examples/sec; {seconds:.3f} sec/batch)", flush=True)
                tf.summary.scalar("loss", loss, step=run.step)
                tf.summary.scalar("learning_rate", optimizer.learning_rate, step=run.step)
                tf.summary.scalar("examples_per_sec", batch_size / seconds, step=run.step)
                last_log = time.time()
            if run.step % args.save_every == 0:
                run.save(f"每 {args.save_every} 步 / every {args.save_every} steps")
            if run.step >= total_steps or run.stop_requested(args.minutes):
                break
        skip = 0
interrupted = run.finish()

# %% 5. 记录 / Record: results for programs, a pointer to 08 for people
common.save_results("07_cifar10_train", common.output_dir(args.out_dir), model=args.model, step=run.step,
                    total_steps=total_steps, minutes=run.minutes, last_loss=None if loss is None else float(loss),
                    train_dir=train_dir, interrupted=interrupted, seed=args.seed, **recipe)
minutes = (time.time() - start) / 60
print(f"训练到第 {run.step} 步：本次 {minutes:.1f} 分钟，累计 {run.minutes:.1f} 分钟 / "
      f"trained to step {run.step} in {minutes:.1f} min ({run.minutes:.1f} min in all runs)")
if not interrupted:  # (after Ctrl-C, run.finish() has said how to resume)
    print(f"评估 / evaluate with: python 08_cifar10_eval.py --train-dir {train_dir}")
if interrupted:
    raise SystemExit(run.exit_code)  # 130 after Ctrl-C, 143 after SIGTERM
