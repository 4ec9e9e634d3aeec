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
import argparse
import json
import signal
import sys
import time
from pathlib import Path


import common
import keras
import tensorflow as tf

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--train-dir", default=str(common.SCRIPTS_DIR / "outputs" / "cifar10_train"),
                    help="checkpoints, TensorBoard logs and the model description go here")
parser.add_argument("--epochs", type=float, default=28, help="length of the whole schedule")
parser.add_argument("--steps", type=int, default=None, help="stop after this many steps (overrides --epochs)")
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--lr", type=float, default=0.2, help="peak SGD learning rate (Nesterov momentum 0.9)")
parser.add_argument("--width", type=int, default=48, help="channels of the first block (doubles per block)")
parser.add_argument("--save-every", type=int, default=200, help="checkpoint every N steps")
parser.add_argument("--keep-every-min", type=float, default=10,
                    help="besides the last 3, keep one checkpoint per this many minutes (for time curves)")
parser.add_argument("--log-every", type=int, default=20, help="print a log line every N steps")
parser.add_argument("--max-train", type=int, default=None, help="use only N training images (quick tries)")
parser.add_argument("--fresh", action="store_true", help="delete old checkpoints and start over")
parser.add_argument("--strategy", choices=["default", "mirrored"], default="default",
                    help="mirrored: tf.distribute.MirroredStrategy over all GPUs (or the CPU)")
parser.add_argument("--jit", choices=["on", "off"], default="off",
                    help="XLA-compile the training step (measured 1.7x slower for this net on a 2-core CPU)")
common.add_common_args(parser)
args = parser.parse_args()
common.set_seed(args.seed)
train_dir = Path(args.train_dir)
if args.fresh and train_dir.exists():
    for old in list(train_dir.glob("ckpt-*")) + [train_dir / "checkpoint"]:
        old.unlink(missing_ok=True)
    print(f"--fresh: removed old checkpoints in {train_dir}")
train_dir.mkdir(parents=True, exist_ok=True)

# ---------------------------------------------------------------- 1. data (official binary format)
files = common.cifar10_files(args.data_dir)
train_images, _ = common.read_cifar10_bin(files["train"])
if args.max_train:
    train_images = train_images[:args.max_train]
n_train = len(train_images)
# Channel mean/std of the training set, saved for 08 so evaluation scales images the same way.
mean = train_images.reshape(-1, 3).mean(axis=0) / 255
std = train_images.reshape(-1, 3).std(axis=0) / 255
(train_dir / "normalization.json").write_text(
    json.dumps({"mean": mean.tolist(), "std": std.tolist()}), encoding="utf-8")
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
    sys.exit(f"error: only {n_train} training images for batch size {args.batch_size}")
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
(train_dir / "model.json").write_text(model.to_json(), encoding="utf-8")  # 08 rebuilds the net from this

# ---------------------------------------------------------------- checkpoints and resume
train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)  # across resumes; 08 reports it
checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, train_seconds=train_seconds)
manager = tf.train.CheckpointManager(checkpoint, train_dir, max_to_keep=3,
                                     keep_checkpoint_every_n_hours=args.keep_every_min / 60)
if manager.latest_checkpoint:
    checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    print(f"resumed from {manager.latest_checkpoint} at step {int(optimizer.iterations.numpy())}")
else:
    print(f"starting fresh in {train_dir}")


def save(reason):
    step = int(optimizer.iterations.numpy())
    train_seconds.assign(seconds_before + time.time() - start)
    # The checkpoint files are written first and the `checkpoint` index last, so 08 never
    # picks up a half-written checkpoint.
    path = manager.save(checkpoint_number=step)
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
    sys.exit(0)
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
            try:
                guard.check(step, loss, rows=(batch * args.batch_size, (batch + 1) * args.batch_size))
            except common.NanLossError as error:
                print(f"model diverged: {error}", file=sys.stderr)
                sys.exit(1)
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
sys.exit(130 if interrupted else 0)
