"""07 · CIFAR-10 训练 / Train on CIFAR-10, the official tutorial redone (文章 六.1)

What it shows
  The article ran TensorFlow's official CIFAR-10 tutorial (cifar10_train.py): hours on a GPU
  for ~86%. This is the same job for a laptop CPU: the official binary data through tf.data,
  a small residual BatchNorm network, a warm-up + linearly decaying learning rate, label
  smoothing. It writes checkpoints as it goes; run it again and it resumes where it stopped
  (Ctrl-C saves first). Evaluate with 08_cifar10_eval.py, also while this is running.

Run
  python 07_cifar10_train.py                    default run (≈45 min on a 2-core CPU)
  python 07_cifar10_train.py --epochs 2         a quick look
  tensorboard --logdir outputs/cifar10_train    loss and learning-rate curves
  python 08_cifar10_eval.py                     accuracy of the latest checkpoint

Expected
  ≈89% test accuracy with 08's flip TTA (README: 0.891 measured after the default run)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import argparse
import json
import signal
import time
from pathlib import Path

from common import checkpoints

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--train-dir", default=str(common.SCRIPTS_DIR / "outputs" / "cifar10_train"),
                    help="checkpoints, TensorBoard logs and the model description go here")
parser.add_argument("--epochs", type=common.positive_float, default=28, help="length of the whole schedule")
parser.add_argument("--steps", type=common.positive_int, default=None,
                    help="stop after this many steps (overrides --epochs)")
parser.add_argument("--batch-size", type=common.positive_int, default=256)
parser.add_argument("--lr", type=common.positive_float, default=0.2,
                    help="peak SGD learning rate (Nesterov momentum 0.9)")
parser.add_argument("--width", type=common.at_least(2), default=48,
                    help="channels of the first block (doubles per block)")
parser.add_argument("--save-every", type=common.positive_int, default=200, help="checkpoint every N steps")
parser.add_argument("--keep-every-min", type=common.positive_float, default=10,
                    help="besides the last 3, keep one checkpoint per this many minutes (for time curves)")
parser.add_argument("--log-every", type=common.positive_int, default=20, help="print a log line every N steps")
parser.add_argument("--max-train", type=common.positive_int, default=None,
                    help="use only N training images (quick tries)")
parser.add_argument("--fresh", action="store_true", help="delete old checkpoints and start over")
parser.add_argument("--strategy", choices=["default", "mirrored"], default="default",
                    help="mirrored: tf.distribute.MirroredStrategy over all GPUs (or the CPU)")
parser.add_argument("--jit", choices=["on", "off"], default="off",
                    help="XLA-compile the training step (measured 1.7x slower for this net on a 2-core CPU)")
common.add_common_args(parser)
args = parser.parse_args()

import keras  # noqa: E402  (after the flags: --help and typos answer at once)
import tensorflow as tf  # noqa: E402

common.set_seed(args.seed)
train_dir = Path(args.train_dir)
RUN_FILES = ["model.json", "normalization.json", "settings.json"]  # what 08 needs besides checkpoints
if args.fresh:
    checkpoints.clear(train_dir, also=RUN_FILES)
    print(f"--fresh: removed old checkpoints in {train_dir}")
common.output_dir(train_dir)
if checkpoints.remove_unfinished(train_dir):
    print(f"removed an unfinished checkpoint (a run was stopped while saving) in {train_dir}")
resuming = tf.train.latest_checkpoint(str(train_dir)) is not None
settings = {"width": args.width}
if resuming:  # check before anything is written: the checkpoints must fit the network we build
    try:
        saved = json.loads((train_dir / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = None  # a run of an older version: compared through model.json below
    for name, value in (saved or {}).items():
        if settings.get(name) != value:
            common.fail(f"{train_dir} 里的检查点是用 --{name} {value} 训练的，这次是 {settings.get(name)}。\n"
                        f"the checkpoints in {train_dir} were trained with --{name} {value}, not "
                        f"{settings.get(name)}: continue with --{name} {value}, or start over with --fresh")

# ---------------------------------------------------------------- 1. data (official binary format)
files = common.cifar10_files(args.data_dir)
norm_path = train_dir / "normalization.json"
if resuming and norm_path.is_file():  # keep what 08 uses: the statistics of the run's first start
    norm = json.loads(norm_path.read_text(encoding="utf-8"))
    mean, std = norm["mean"], norm["std"]
    n_train = min(args.max_train or 50_000, sum(Path(f).stat().st_size for f in files["train"])
                  // common.datasets.CIFAR10_RECORD_BYTES)
else:
    train_images, _ = common.read_cifar10_bin(files["train"])
    if args.max_train:
        train_images = train_images[:args.max_train]
    n_train = len(train_images)
    # Channel mean/std of the training set, saved for 08 so evaluation scales images the same way.
    mean = train_images.reshape(-1, 3).mean(axis=0) / 255
    std = train_images.reshape(-1, 3).std(axis=0) / 255
    del train_images


def augment(image, label):
    # Random crop with 4 pixels of padding, and a horizontal flip: the net sees new images every epoch.
    image = tf.image.random_flip_left_right(image)
    image = tf.pad(image, [[4, 4], [4, 4], [0, 0]], mode="REFLECT")
    return tf.image.random_crop(image, [32, 32, 3]), label


def normalize(images, labels):
    return (tf.cast(images, tf.float32) / 255 - mean) / std, labels


records = common.cifar10_dataset(files["train"])
if args.max_train:
    records = records.take(args.max_train)
train_data = (records.cache()  # decoded uint8 images stay in memory (150 MB) after epoch 1
              .shuffle(n_train, seed=args.seed)
              .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
              .batch(args.batch_size, drop_remainder=True)
              .map(normalize, num_parallel_calls=tf.data.AUTOTUNE)
              .prefetch(tf.data.AUTOTUNE))
steps_per_epoch = n_train // args.batch_size
if steps_per_epoch == 0:
    common.fail(f"只有 {n_train} 张训练图片，少于 --batch-size {args.batch_size} / only {n_train} training "
                f"images for batch size {args.batch_size}: use a smaller --batch-size")
total_steps = args.steps or int(args.epochs * steps_per_epoch)


# ---------------------------------------------------------------- 2. model
def build_model(width):
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
    model = build_model(args.width)
    warmup = max(1, int(0.15 * total_steps))

    # ------------------------------------------------------------ 3. loss and optimizer
    class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
        """Rises linearly to the peak over the first 15% of steps, then falls linearly to 0."""

        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            rise = args.lr * step / warmup
            fall = args.lr * tf.maximum(0.0, (total_steps - step) / max(1, total_steps - warmup))
            return tf.where(step < warmup, rise, fall)

    optimizer = keras.optimizers.SGD(WarmupLinearDecay(), momentum=0.9, nesterov=True, weight_decay=5e-4)
    optimizer.build(model.trainable_variables)
    loss_object = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2,
                                                       reduction="none")
model_json_path = train_dir / "model.json"
if resuming and model_json_path.is_file() and model_json_path.read_text(encoding="utf-8") != model.to_json():
    common.fail(f"{train_dir} 里的检查点属于另一个网络（--width 不同？）/ the checkpoints in {train_dir} belong "
                f"to another network (a different --width?): use the old flags, or start over with --fresh")
# 08 rebuilds the net from model.json and scales images with normalization.json.
common.write_text(model_json_path, model.to_json())
common.write_json(norm_path, {"mean": [float(v) for v in mean], "std": [float(v) for v in std]})
common.write_json(train_dir / "settings.json", settings)

# ---------------------------------------------------------------- checkpoints and resume
train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)  # across resumes; 08 reports it
checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, train_seconds=train_seconds)
manager = tf.train.CheckpointManager(checkpoint, train_dir, max_to_keep=3,
                                     keep_checkpoint_every_n_hours=args.keep_every_min / 60)
if manager.latest_checkpoint:
    try:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError) as error:
        common.fail(f"检查点 {manager.latest_checkpoint} 读不出来或不属于这个网络 / cannot restore it "
                    f"({type(error).__name__}); start over with --fresh")
    print(f"resumed from {manager.latest_checkpoint} at step {int(optimizer.iterations.numpy())}")
else:
    print(f"starting fresh in {train_dir}")
save_checkpoint = checkpoints.SaveOnce(manager, resumed_step=int(optimizer.iterations.numpy()))


def save(reason):
    step = int(optimizer.iterations.numpy())
    train_seconds.assign(seconds_before + time.time() - start)
    # The checkpoint files are written first and the `checkpoint` index last, so 08 never
    # picks up a half-written checkpoint; a step already saved is not written again.
    path = save_checkpoint(step)
    if path:
        print(f"saved checkpoint {path} ({reason})", flush=True)


# ---------------------------------------------------------------- 4. training step
@tf.function(jit_compile=args.jit == "on")
def replica_step(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        per_example = loss_object(tf.one_hot(labels, 10), logits)
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=args.batch_size)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


@tf.function
def train_step(images, labels):
    losses = strategy.run(replica_step, args=(images, labels))
    return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)


# ---------------------------------------------------------------- 5. train (Ctrl-C saves, then exits)
interrupted = []
signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
guard = common.NanGuard()
summary = tf.summary.create_file_writer(str(train_dir))
step = int(optimizer.iterations.numpy())
if step >= total_steps:
    print(f"already trained {step} of {total_steps} steps; use --fresh to start over or raise --epochs")
    raise SystemExit(0)
print(f"{n_train:,} training images, batch {args.batch_size}, {steps_per_epoch} steps per epoch, "
      f"training steps {step}..{total_steps}; model {model.count_params():,} parameters")

epoch_data = strategy.experimental_distribute_dataset(train_data)
start, last_log, seconds_before = time.time(), time.time(), float(train_seconds.numpy())
skip = step % steps_per_epoch  # resume in the middle of an epoch: skip the batches it already saw
with summary.as_default():
    while step < total_steps and not interrupted:
        for images, labels in (epoch_data if skip == 0 else
                               strategy.experimental_distribute_dataset(train_data.skip(skip))):
            loss = train_step(images, labels)
            step += 1
            batch = (step - 1) % steps_per_epoch
            # A NaN stops here with the guard's message (exit 1); the last good checkpoint stays.
            guard.check(step, loss, rows=(batch * args.batch_size, (batch + 1) * args.batch_size))
            if step % args.log_every == 0 or step == total_steps:
                seconds = (time.time() - last_log) / args.log_every
                print(f"{time.strftime('%H:%M:%S')}: step {step}, loss = {float(loss):.3f} "
                      f"({args.batch_size / seconds:.1f} examples/sec; {seconds:.3f} sec/batch)", flush=True)
                tf.summary.scalar("loss", loss, step=step)
                tf.summary.scalar("learning_rate", optimizer.learning_rate, step=step)
                tf.summary.scalar("examples_per_sec", args.batch_size / seconds, step=step)
                last_log = time.time()
            if step % args.save_every == 0:
                save("every %d steps" % args.save_every)
            if step >= total_steps or interrupted:
                break
        skip = 0

save("interrupted by Ctrl-C" if interrupted else "end of training")
minutes = (time.time() - start) / 60
print(f"trained to step {step} in {minutes:.1f} min ({train_seconds.numpy() / 60:.1f} min in all runs)"
      + ("; run again to resume" if interrupted else f"; evaluate with: python 08_cifar10_eval.py --train-dir {train_dir}"))
raise SystemExit(130 if interrupted else 0)
