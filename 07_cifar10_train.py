"""07 · CIFAR-10 训练 / Train on CIFAR-10, the official tutorial redone (文章 六.1)

What it shows
  The article ran TensorFlow's official CIFAR-10 tutorial (cifar10_train.py): hours on a GPU
  for ~86%. Here the default recipe is Keller Jordan's airbench93, rebuilt in Keras: a first
  layer that whitens 2×2 patches (set from the data, never trained), three small conv blocks,
  identity-started convolutions, frozen BN scales with fast BN shifts, a triangular learning
  rate, label smoothing, a lookahead average of the weights, alternating flips. Every knob is one
  line of RECIPES below; the other recipes are rows of the same table, run by the same code:
  --model airbench94  airbench94's width (256) and length (10 epochs): more accurate, 2x slower
  --model tutorial    the article's own network and recipe (TF1 tutorial: 24×24 crops, brightness
                      and contrast, conv 5×5·64 ×2 with LRN, FC 384 → 192 → 10, SGD at 0.1, batch 128)
  It writes checkpoints as it goes and resumes where it stopped (Ctrl-C or SIGTERM saves first);
  08_cifar10_eval.py evaluates them, also while this is running.

Run / 运行
  python 07_cifar10_train.py                    默认配方，2 核 bf16 CPU 约 8–15 分钟 / default (≈8-15 min on 2 bf16 cores)
  python 07_cifar10_train.py --without lookahead --train-dir outputs/no_lookahead
                                                去掉 lookahead 会差多少？/ what does it buy?
  python 07_cifar10_train.py --model tutorial --train-dir outputs/cifar10_tutorial
                                                文章里的官方教程网络 / the article's tutorial network
  python 07_cifar10_train.py --epochs 2         快速看一眼；--minutes 30 练 30 分钟就停
                                                a quick look; --minutes 30 stops after 30 min
  几台机器一起练：docs/multi_machine.md / several machines as one: docs/multi_machine.md
  tensorboard --logdir outputs/cifar10_train    损失和学习率曲线 / loss and learning-rate curves
  python 08_cifar10_eval.py                     最新检查点的准确率 / accuracy of the latest checkpoint

Expected / 预期结果
  训练结束后，用 08（带测试时增强）测得测试准确率 ≈89%
  ≈89% test accuracy with 08's test-time augmentation at the end (airbench reports 93.0%)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import time
from pathlib import Path

from common.cluster import add_flags as add_cluster_flags, cluster_from_flags

# %% 0. 配方 / The recipes: every knob in one table; a flag (--epochs, --lr, ...) overrides one
AIRBENCH = dict(
    network="airbench", width=128,  # channels of blocks 2 and 3 (block 1 has 64)
    epochs=11, batch_size=1024,
    lr=1.5,  # peak; airbench's "11.5 per 1024 images" for a summed, momentum-normalized loss
    schedule=[(0, 0.2), (0.23, 1.0), (1, 0.07)],  # (share of the steps, share of the peak): a triangle
    momentum=0.85, nesterov=True,
    weight_decay=0.0153 / 11.5,  # × each weight, added to its gradient (airbench's 0.0153 for lr 11.5)
    label_smoothing=0.2,  # aim at 0.82 for the right class instead of 1: the net stays less sure
    bn_shift_lr=64,  # BN shifts learn 64× faster: with the scale frozen they alone place each GELU's bend
    whitening=True,  # first layer: fixed filters that decorrelate 2×2 patches (set from the data)
    whiten_bias_epochs=3,  # ... whose bias learns in the first 3 epochs only
    dirac=True,  # 3×3 convolutions start as the identity: the deep net starts out like a shallow one
    lookahead=True,  # from epoch 4, every 5 steps: weights ← a slow average of themselves
    shift=2, flip="alternating",  # move each image ≤2 pixels; mirror each in every other epoch
    brightness=0, contrast=None,
    precision="auto",  # bfloat16 arithmetic where the CPU has it and no GPU trains: 1.3x faster, as accurate
)
RECIPES = {
    "airbench": AIRBENCH,
    "airbench94": dict(AIRBENCH, width=256, epochs=10),  # its shape; the rest as airbench93
    "tutorial": dict(AIRBENCH, network="tutorial", width=None, epochs=100, batch_size=128, lr=0.1,
                     schedule=[(0, 1.0), (1, 1.0)], momentum=0.0, nesterov=False, weight_decay=0.0,
                     label_smoothing=0.0, bn_shift_lr=1, whitening=False, whiten_bias_epochs=0, dirac=False,
                     lookahead=False, shift=0, flip="random", brightness=63, contrast=(0.2, 1.8),
                     precision="float32"),  # (bfloat16 unmeasured for this network)
}
WITHOUT = {"whitening": dict(whitening=False, whiten_bias_epochs=0), "dirac": dict(dirac=False),
           "bias-lr": dict(bn_shift_lr=1), "lookahead": dict(lookahead=False),
           "alternating-flip": dict(flip="random"), "label-smoothing": dict(label_smoothing=0.0)}

parser = common.make_parser(__doc__)
parser.add_argument("--model", choices=list(RECIPES), default="airbench",
                    help="配方（见上面的 RECIPES 表）/ the recipe (a row of RECIPES above)")
parser.add_argument("--train-dir", default=str(common.SCRIPTS_DIR / "outputs" / "cifar10_train"),
                    help="检查点和 TensorBoard 日志写到这里 / checkpoints and TensorBoard logs go here")
parser.add_argument("--epochs", type=common.positive_float,
                    help="整个学习率计划的长度（轮；默认按配方）/ length of the whole schedule (default: the recipe's)")
parser.add_argument("--steps", type=common.positive_int,
                    help="练这么多步就停（优先于 --epochs）/ stop after this many steps (overrides --epochs)")
parser.add_argument("--minutes", type=common.positive_float,
                    help="所有运行累计练这么多分钟就停（并保存）/ stop (and save) after this many minutes in all runs")
parser.add_argument("--batch-size", type=common.positive_int,
                    help="每批图片数（默认按配方）/ images per batch (default: the recipe's)")
parser.add_argument("--lr", type=common.positive_float,
                    help="SGD 的最高学习率（默认按配方）/ peak SGD learning rate (default: the recipe's)")
parser.add_argument("--width", type=common.at_least(2),
                    help="airbench：第 2、3 块的通道数 / airbench: channels of blocks 2 and 3")
parser.add_argument("--without", nargs="+", default=[], metavar="PART", choices=list(WITHOUT),
                    help="去掉配方里的某几部分，看每一部分的作用 / leave parts of the recipe out, to see "
                         "what each buys: " + " ".join(WITHOUT))
parser.add_argument("--save-every", type=common.positive_int, default=200, help="每 N 步保存一个检查点 / checkpoint every N steps")
parser.add_argument("--keep-every-min", type=common.positive_float, default=10,
                    help="除了最后 3 个，每隔这么多分钟再留一个检查点（画时间曲线用）/ "
                         "besides the last 3, keep one checkpoint per this many minutes (for time curves)")
parser.add_argument("--log-every", type=common.positive_int, default=20, help="每 N 步打印一行日志 / print a log line every N steps")
parser.add_argument("--max-train", type=common.positive_int,
                    help="只用前 N 张训练图片（快速试一试）/ use only N training images (quick tries)")
parser.add_argument("--fresh", action="store_true", help="删除旧的检查点，从头开始 / delete old checkpoints and start over")
add_cluster_flags(parser)  # --strategy, --workers, --worker-index (common/cluster.py)
parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"],
                    help="bfloat16：用 16 位计算（权重仍是 32 位；要 CPU 支持 AVX512_BF16 或 AMX）；auto（airbench 的默认）："
                         "CPU 支持又没有 GPU 时就用 / bfloat16: 16-bit arithmetic, weights kept in 32 (needs AVX512_BF16 "
                         "or AMX on a CPU); auto (airbench's default): where the CPU has it and no GPU trains")
parser.add_argument("--jit", choices=["on", "off"], default="off",
                    help="用 XLA 编译训练步（在 CPU 上反而更慢）/ XLA-compile the training step (slower on a CPU)")
common.add_common_args(parser)
args = common.parse_args(parser)
hyp = dict(RECIPES[args.model])
hyp.update({key: getattr(args, key) for key in ("epochs", "batch_size", "lr", "width", "precision")
            if getattr(args, key) is not None})
for part in args.without:
    hyp.update(WITHOUT[part])
cluster = cluster_from_flags(args)  # None: one machine (docs/multi_machine.md: several machines)

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import numpy as np  # noqa: E402

from common.augment import windows  # noqa: E402
from common.cluster import leave_together, make_strategy, on_any_worker, per_replica, require_same_everywhere  # noqa: E402
from common.layers import cifar10_tutorial_network  # noqa: E402

# %% 在哪里算、怎么算 / Where and how: every multi-machine and precision choice is made here
# One machine by default; --strategy mirrored: every GPU here; --workers or TF_CONFIG: several
# machines (MultiWorkerMirroredStrategy, which must exist before anything else in TF). On one
# machine `strategy` is TensorFlow's default: its scope() and run() change nothing below.
strategy, worker = make_strategy(args.strategy, cluster)
common.set_seed(args.seed)
# Worker 0 (the chief) writes the run 08 evaluates; each other worker keeps its own copy, to resume.
train_dir = Path(args.train_dir) / (f"worker-{worker}" if worker else "")
# --fresh clears the old run; a checkpoint cut short by a kill is removed (common/training.py).
run = common.ResumableRun(train_dir, fresh=args.fresh,
                          run_files=["model.json", "settings.json", "normalization.json"])  # (the last: older runs)
# The checkpoints must fit this network: refused before anything is written.
run.require_same_settings({"model": args.model, "width": hyp["width"], "without": sorted(args.without)})
if hyp["precision"] == "auto":  # a resumed run keeps the arithmetic it was started with
    hyp["precision"] = run.trained_precision() or ("bfloat16" if common.use_bfloat16("auto") else "float32")
keras.mixed_precision.set_global_policy("mixed_bfloat16" if hyp["precision"] == "bfloat16" else "float32")
if hyp["batch_size"] % strategy.num_replicas_in_sync:
    common.fail(f"--batch-size {hyp['batch_size']} 要能被 {strategy.num_replicas_in_sync} 个副本整除 / must be "
                f"a multiple of the {strategy.num_replicas_in_sync} replicas: each takes an equal share of a batch")

# %% 1. 准备数据 / Data: the official binary files, all in memory as uint8 (150 MB)
files = common.cifar10_files(args.data_dir)
all_images, all_labels = common.read_cifar10_bin(files["train"])
train_images, train_labels = all_images[:args.max_train], all_labels[:args.max_train]
# Channel mean and spread of all training pixels: the model's first layer scales by them.
pixel_mean, pixel_std = all_images.reshape(-1, 3).mean(axis=0), all_images.reshape(-1, 3).std(axis=0)
steps_per_epoch = len(train_images) // hyp["batch_size"]
if steps_per_epoch == 0:
    common.fail(f"只有 {len(train_images)} 张训练图片，少于 --batch-size {hyp['batch_size']} / only "
                f"{len(train_images)} training images for batch size {hyp['batch_size']}: use a smaller --batch-size")
total_steps = args.steps or int(hyp["epochs"] * steps_per_epoch)


def make_batches(images, labels, hyp, steps_per_epoch, seed):
    """batch(step): the step's images and labels, a function of (seed, step) alone, so a resumed
    run sees exactly the batches an uninterrupted one would have seen.

    Augmentation: each image moved by up to `shift` pixels (reflected at the border); mirrored
    at random, or in alternate epochs (a fixed random half of the images in even epochs, the other
    half in odd ones: each image is seen both ways every two epochs); the tutorial's brightness and
    contrast changes. Pixels stay 0-255: the model scales them itself.
    """
    pad, batch_size = hyp["shift"], hyp["batch_size"]
    padded = tf.constant(np.pad(images, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="reflect"))
    labels = tf.constant(labels.astype(np.int32))
    flipped_in_even_epochs = tf.constant(np.random.default_rng(seed).random(len(images)) < 0.5)

    def batch(step):
        epoch, index = step // steps_per_epoch, step % steps_per_epoch
        order = tf.random.experimental.stateless_shuffle(tf.range(len(images)), seed=[seed, epoch])
        chosen = order[index * batch_size:(index + 1) * batch_size]
        shifts = tf.random.stateless_uniform([batch_size, 2], seed=[seed + 1, step], maxval=2 * pad + 1,
                                             dtype=tf.int64)
        # Cut in float32 (exact for 0-255): oneDNN logs an error for a uint8 Transpose, which windows() uses.
        x = windows(tf.cast(tf.gather(padded, chosen), tf.float32), shifts, 32, 32)
        if hyp["flip"] == "alternating":
            mirror = tf.not_equal(tf.gather(flipped_in_even_epochs, chosen), epoch % 2 == 1)
        else:
            mirror = tf.random.stateless_uniform([batch_size], seed=[seed + 2, step]) < 0.5
        x = tf.where(mirror[:, None, None, None], tf.reverse(x, axis=[2]), x)
        if hyp["brightness"]:  # the tutorial's: add one random amount to all pixels of an image ...
            x += tf.random.stateless_uniform([batch_size, 1, 1, 1], [seed + 3, step], -1, 1) * hyp["brightness"]
        if hyp["contrast"]:  # ... and stretch its distance from its own mean colour by a random factor
            low, high = hyp["contrast"]
            mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
            x = mean + (x - mean) * tf.random.stateless_uniform([batch_size, 1, 1, 1], [seed + 4, step], low, high)
        return x, tf.gather(labels, chosen)

    return batch


# %% 2. 模型 / Model: airbench's network (default), or the tutorial's
@keras.saving.register_keras_serializable(package="dl_for_everyone")  # (its name in model.json)
class ShiftOnlyBatchNorm(keras.layers.Layer):
    """Batch normalization with a learned shift and no learned scale: the next layer (GELU, then a
    convolution or max-pool) rescales anyway. The same arithmetic as Keras's
    BatchNormalization(scale=False, epsilon=1e-5), which 08 and 10 use to read the checkpoints;
    this one fused TensorFlow op measured 10% faster per training step on a CPU."""

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
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, tf.ones_like(beta), beta, mean=self.moving_mean, variance=self.moving_variance, epsilon=self.epsilon,
            is_training=bool(training), exponential_avg_factor=1 - self.momentum)
        if training:  # normalized with this batch's statistics; the running averages move towards them
            self.moving_mean.assign(mean)
            self.moving_variance.assign(variance)
        return y

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


# PyTorch's default start, which airbench was tuned with: uniform within ±1/√(inputs).
TORCH_START = keras.initializers.VarianceScaling(1 / 3, mode="fan_in", distribution="uniform")


def scale_pixels(inputs, mean, std):
    """(pixel − channel mean) / channel spread, inside the model: 08 and the app feed raw pixels."""
    return keras.layers.Normalization(mean=list(mean), variance=list(np.square(std)), name="scale")(inputs)


def airbench_model(width, mean, std):
    """airbench93/94 (Keller Jordan, github.com/KellerJordan/cifar10-airbench) rebuilt in Keras.

    A 2×2 convolution that whitens the pixels (set from the data, below), then three blocks of
    conv → max-pool → BN → GELU → conv → BN → GELU at widths 64, `width`, `width`; the strongest
    response of each channel; 10 logits, scaled down by 9 so that early steps stay gentle.
    """
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(24, 2, name="whiten")(scale_pixels(inputs, mean, std))  # 12 directions, ± each
    x = keras.layers.Activation("gelu")(x)
    for filters in (64, width, width):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=TORCH_START)(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Activation("gelu")(ShiftOnlyBatchNorm(momentum=0.6)(x))
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=TORCH_START)(x)
        x = keras.layers.Activation("gelu")(ShiftOnlyBatchNorm(momentum=0.6)(x))
    x = keras.layers.GlobalMaxPooling2D()(x)
    x = keras.layers.Dense(10, use_bias=False, kernel_initializer=TORCH_START)(x)
    return keras.Model(inputs, keras.layers.Rescaling(1 / 9)(x), name="cifar10_airbench")


def set_airbench_start(model, images, whitening, dirac, eps=5e-4):
    """Two parts of airbench's start that a Keras initializer cannot express.

    Whitening: the 2×2×3 = 12 numbers of every 2×2 patch are correlated (neighbouring pixels look
    alike). The eigenvectors of their covariance, each divided by √(its eigenvalue), give filters
    whose outputs are uncorrelated with variance 1: the first layer hands on independent signals.
    Identity (Dirac) start: in each 3×3 convolution the first filters pass their input channel
    through unchanged, so the deep net starts out close to a shallow one and trains like one early.
    """
    if whitening:
        scaled = model.get_layer("scale")(tf.cast(images, tf.float32))
        patches = tf.image.extract_patches(scaled, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
        patches = patches.numpy().reshape(-1, 12).astype(np.float64)  # row, column, channel: the kernel's order
        eigenvalues, eigenvectors = np.linalg.eigh(patches.T @ patches / len(patches))
        filters = eigenvectors / np.sqrt(eigenvalues + eps)
        model.get_layer("whiten").kernel.assign(np.concatenate([filters, -filters], axis=1).reshape(2, 2, 3, 24))
    for layer in model.layers:
        if dirac and isinstance(layer, keras.layers.Conv2D) and layer.name != "whiten":
            kernel = layer.kernel.numpy()
            passed = np.arange(min(kernel.shape[2:]))  # channels that pass through: min(inputs, filters)
            kernel[:, :, :, passed] = 0
            kernel[1, 1, passed, passed] = 1
            layer.kernel.assign(kernel)


# The tutorial's network lives beside its layers (LRN, per-image standardization) in common/layers.py.
NETWORKS = {"airbench": airbench_model, "tutorial": cifar10_tutorial_network}
with strategy.scope():
    model = NETWORKS[hyp["network"]](hyp["width"], pixel_mean, pixel_std)
run.require_same_model(model)  # 08 rebuilds the network from the model.json this writes
if not run.has_checkpoint():
    set_airbench_start(model, train_images[:5000], hyp["whitening"], hyp["dirac"])


# %% 3. 损失函数与优化器 / Loss and optimizer
class PiecewiseLinear(keras.optimizers.schedules.LearningRateSchedule):
    """The peak rate times a broken line through (share of the steps, share of the peak) points."""

    def __init__(self, peak, total_steps, points):
        self.peak = peak
        self.points = [(max(1, int(share * total_steps)) if share else 0, value) for share, value in points]

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        value = tf.constant(self.points[-1][1], tf.float32)  # after the last point: stay there
        for (x0, y0), (x1, y1) in reversed(list(zip(self.points, self.points[1:]))):
            value = tf.where(step < x1, y0 + (y1 - y0) * (step - x0) / max(1, x1 - x0), value)
        return self.peak * value


with strategy.scope():
    optimizer = keras.optimizers.SGD(PiecewiseLinear(hyp["lr"], total_steps, hyp["schedule"]),
                                     momentum=hyp["momentum"], nesterov=hyp["nesterov"])
    loss_object = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=hyp["label_smoothing"],
                                                       reduction="none")
    optimizer.build(model.trainable_variables)
    averaged = tf.Module()  # the lookahead's slow average of all weights (section 4)
    averaged.weights = [tf.Variable(w, trainable=False) for w in model.weights] if hyp["lookahead"] else []
run.restore(optimizer, max_to_keep=3, keep_every_minutes=args.keep_every_min, model=model, lookahead=averaged)

trained = {True: model.trainable_variables, False: model.trainable_variables}  # {in the first epochs: ...}
if hyp["whitening"]:  # the whitening filters stay as computed; their bias learns in the first epochs only
    whiten = model.get_layer("whiten")
    trained[False] = [v for v in model.trainable_variables if v.path not in (whiten.kernel.path, whiten.bias.path)]
    trained[True] = trained[False] + [whiten.bias]
lr_factor = {layer.beta.path: hyp["bn_shift_lr"] for layer in model.layers
             if isinstance(layer, ShiftOnlyBatchNorm) and hyp["bn_shift_lr"] != 1}


# %% 4. 训练 / Train: Ctrl-C or SIGTERM saves a checkpoint, then exits; running again resumes
# A hand-written loop, not fit(): the whitening bias stops learning after 3 epochs (another variable
# list) and the lookahead acts between steps; Keras's BackupAndRestore resumes only at an epoch's start.
@tf.function(jit_compile=args.jit == "on")
def replica_step(images, labels, early):
    variables = trained[early]
    with tf.GradientTape() as tape:
        logits = tf.cast(model(images, training=True), tf.float32)  # (a no-op in float32)
        per_example = loss_object(tf.one_hot(labels, 10), logits)
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=hyp["batch_size"])
        if model.losses:  # the tutorial's weight decay on its dense layers
            loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
    gradients = tape.gradient(loss, variables)
    # (Decided while tracing: a recipe without them gets no extra ops in its step.)
    if lr_factor or hyp["weight_decay"]:  # the decay ÷ replicas: their gradients are summed
        decay = hyp["weight_decay"] / strategy.num_replicas_in_sync
        gradients = [gradient * lr_factor.get(v.path, 1.0) + decay * v for gradient, v in zip(gradients, variables)]
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


def after_step(step, steps_per_epoch, total_steps):
    """airbench's lookahead, from epoch 4 on: every 5 steps, and at the end of each epoch."""
    started = step // 5 * 5 > 3 * steps_per_epoch  # the first update (from the 4th epoch on) only copies
    if step % 5 == 0 and started:
        lookahead(tf.constant(0.0 if step - 5 <= 3 * steps_per_epoch else 0.95 ** 5 * (step / total_steps) ** 3))
    if step % steps_per_epoch == 0 and started:
        lookahead(tf.constant(1.0))


if run.step >= total_steps:
    print(f"已经练完 {total_steps} 步中的 {run.step} 步：用 --fresh 从头开始，或加大 --epochs / "
          f"already trained {run.step} of {total_steps} steps; use --fresh to start over or raise --epochs")
    raise SystemExit(0)
batch_size, guard, summary = hyp["batch_size"], common.NanGuard(), tf.summary.create_file_writer(str(train_dir))
print(f"训练图片 / training images: {len(train_images):,}，每批 / batch {batch_size}，每轮 / steps per epoch "
      f"{steps_per_epoch}，训练步 / training steps {run.step}..{total_steps}")
print(f"模型 / model {model.name}，{model.count_params():,} 个参数 / parameters，{hyp['precision']} 运算 / arithmetic")
require_same_everywhere(strategy, args.seed, hyp, run.step, total_steps, len(train_images))  # (several machines)
# The steps from run.step on; each replica (GPU, machine) gets its share of every batch (common/cluster.py).
batch = make_batches(train_images, train_labels, hyp, steps_per_epoch, args.seed)
batches = strategy.distribute_datasets_from_function(
    lambda context: per_replica(batch, batch_size, run.step, total_steps, context))
start, last_log, loss = time.time(), time.time(), None
with summary.as_default():
    for images, labels in batches:
        if on_any_worker(strategy, run.stop_requested(args.minutes)):
            break
        loss = train_step(images, labels, run.step < hyp["whiten_bias_epochs"] * steps_per_epoch)
        run.step += 1
        if hyp["lookahead"]:
            after_step(run.step, steps_per_epoch, total_steps)
        index = (run.step - 1) % steps_per_epoch
        # A NaN stops here with the guard's message (exit 1); the last good checkpoint stays.
        guard.check(run.step, loss, rows=(index * batch_size, (index + 1) * batch_size))
        if run.step % args.log_every == 0 or run.step == total_steps:
            seconds = (time.time() - last_log) / args.log_every
            print(f"{time.strftime('%H:%M:%S')}: 第 {run.step} 步 / step {run.step}, loss = {float(loss):.3f} "
                  f"({batch_size / seconds:.1f} examples/sec; {seconds:.3f} sec/batch)", flush=True)
            for name, value in (("loss", loss), ("learning_rate", optimizer.learning_rate),
                                ("examples_per_sec", batch_size / seconds)):
                tf.summary.scalar(name, value, step=run.step)
            last_log = time.time()
        if run.step % args.save_every == 0:
            run.save(f"每 {args.save_every} 步 / every {args.save_every} steps")
interrupted = run.finish()

# %% 5. 记录 / Record: results for programs, a pointer to 08 for people
common.save_results(f"07_cifar10_train{f'_worker{worker}' if worker else ''}", common.output_dir(args.out_dir),
                    model=args.model, step=run.step,
                    total_steps=total_steps, minutes=run.minutes, last_loss=None if loss is None else float(loss),
                    train_dir=train_dir, interrupted=interrupted, seed=args.seed, **hyp)
print(f"训练到第 {run.step} 步：本次 {(time.time() - start) / 60:.1f} 分钟，累计 {run.minutes:.1f} 分钟 / "
      f"trained to step {run.step} in {(time.time() - start) / 60:.1f} min ({run.minutes:.1f} min in all runs)")
leave_together(strategy, worker)  # (several machines: all are done)
if interrupted:  # run.finish() has said how to resume
    raise SystemExit(run.exit_code)  # 130 after Ctrl-C, 143 after SIGTERM
print(f"评估 / evaluate with: python 08_cifar10_eval.py --train-dir {train_dir}")
