"""04 · MNIST 卷积神经网络 / MNIST with a convolutional network (文章 四, "99%+, but slow")

What it shows
  A convolutional net that looks at small patches (strokes, corners) instead of single pixels,
  trained fast on a laptop CPU: the convolutions work on a 14×14 grid instead of 28×28, the
  learning rate warms up and then decays (warmup + cosine), the data is fed as one in-memory
  stream, and what is evaluated and saved is the average of the weights over the last ~100
  steps (EMA), steadier than the last step's. After every epoch it prints the test accuracy and
  the seconds spent training so far. Then it can read your own handwriting:

Run
  python 04_mnist_cnn.py                            train (≈70 s on a 2-core CPU), save model
  python 04_mnist_cnn.py --image my_digit.png       predict digits in your own pictures
                                                    (PNG/JPG, any size, a phone photo works)
Expected
  test accuracy: ≈0.994 after 15 epochs; 99.0% first reached after 12-14 s of training
  (README: bench/mnist_speed.py compares it with the keras-io convnet)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import argparse
import sys
import time
from pathlib import Path

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=common.positive_int, default=15)
parser.add_argument("--batch-size", type=common.positive_int, default=125,
                    help="125 divides the 60,000 images exactly")
parser.add_argument("--lr", type=common.positive_float, default=0.003, help="peak Adam learning rate")
parser.add_argument("--max-train", type=common.positive_int, default=None,
                    help="use only N training images (quick tries)")
parser.add_argument("--image", nargs="+", metavar="PATH", help="predict the digit in these pictures")
parser.add_argument("--batchnorm", action="store_true", help="BatchNorm after each convolution (slower on a CPU)")
parser.add_argument("--retrain", action="store_true", help="train even if a saved model exists")
common.add_common_args(parser)
args = parser.parse_args()

import keras  # noqa: E402  (after the flags: --help and typos answer at once)
import tensorflow as tf  # noqa: E402

common.set_seed(args.seed)
out = common.output_dir(args.out_dir)
model_path = out / "04_mnist_cnn.keras"


# ---------------------------------------------------------------- the model
@keras.saving.register_keras_serializable(package="dl_for_everyone")
class SpaceToDepth(keras.layers.Layer):
    """28×28×1 → 14×14×4: each 2×2 block of pixels becomes 4 channels of one position."""

    def call(self, x):
        return tf.nn.space_to_depth(x, 2)

    def compute_output_shape(self, shape):
        return (shape[0], shape[1] // 2, shape[2] // 2, shape[3] * 4)


def build_model(batchnorm=False):
    """Cheap layers at full resolution, the width where the image is small.

    space_to_depth turns 28×28×1 into 14×14×4 (each 2×2 block becomes 4 channels): no pixel is
    lost, but every later layer works on a quarter of the positions, which is where a CPU spends
    its time. `batchnorm=True` puts BatchNormalization after each convolution: the textbook
    choice, but on a 2-core CPU it made training twice as slow (107 s instead of 55 s for 15
    epochs) and 99.0% came after 24 s instead of 13 s (README, MNIST section).
    """
    def conv_relu(filters):
        if batchnorm:
            return [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                    keras.layers.BatchNormalization(momentum=0.9),
                    keras.layers.ReLU()]
        return [keras.layers.Conv2D(filters, 3, padding="same", activation="relu")]

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        SpaceToDepth(),
        *conv_relu(32),
        keras.layers.MaxPooling2D(2),  # 7×7
        *conv_relu(64),
        keras.layers.MaxPooling2D(2, padding="same"),  # 4×4 (7 is odd: "same" keeps the edge)
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),  # logits
    ], name="mnist_cnn")


class EpochReport(keras.callbacks.Callback):
    """After each epoch: test accuracy and the seconds spent training so far (evaluation excluded)."""

    def __init__(self, x_test, y_test):
        super().__init__()
        self.x_test, self.y_test, self.curve = x_test, y_test, []

    def on_train_begin(self, logs=None):
        self.start, self.evaluating = time.perf_counter(), 0.0

    def on_epoch_end(self, epoch, logs=None):
        started = time.perf_counter()
        training_time = started - self.start - self.evaluating
        predicted = self.model.predict(self.x_test, batch_size=1000, verbose=0).argmax(axis=1)
        accuracy = float((predicted == self.y_test).mean())
        self.curve.append(accuracy)
        print(f"epoch {epoch + 1}: test accuracy {accuracy:.4f}, training time {training_time:.1f} s",
              flush=True)
        self.evaluating += time.perf_counter() - started


def train():
    # 1. Data: the whole training set stays in memory as one tensor; tf.data shuffles only the
    #    image *numbers* and gathers each batch by number. One endless stream serves every
    #    epoch, so nothing is rebuilt between epochs (measured: fit() on numpy arrays builds a
    #    new pipeline each epoch, which here cost ≈3.5 s at the start of about every second
    #    epoch).
    (x_train, y_train), (x_test, y_test) = common.load_mnist(args.data_dir)
    images = tf.constant(x_train[:args.max_train, :, :, None].astype(np.float32) / 255)
    labels = tf.constant(y_train[:args.max_train].astype(np.int32))
    x_test = x_test[:, :, :, None].astype(np.float32) / 255
    count = len(images)
    #    prefetch(4): the next batches are ready while this one trains (prefetch(AUTOTUNE) made
    #    the program wait 2-8 s after the last epoch here before fit() returned).
    batches = (tf.data.Dataset.range(count).shuffle(count).repeat()  # a new order every pass
               .batch(args.batch_size)
               .map(lambda numbers: (tf.gather(images, numbers), tf.gather(labels, numbers)))
               .prefetch(4))
    steps_per_epoch = max(1, count // args.batch_size)  # 60,000 / 125 = 480

    # 2. Model, 3. loss and optimizer: Adam; the learning rate warms up for the first 10% of
    #    the steps, then follows a cosine down to 0.
    model = build_model(args.batchnorm)
    steps = args.epochs * steps_per_epoch
    warmup = max(1, int(0.1 * steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=args.lr / 20, decay_steps=steps - warmup, alpha=0.0,
        warmup_target=args.lr, warmup_steps=warmup)
    #    use_ema: the optimizer also keeps an exponential moving average of the weights (about
    #    the last 100 steps). The average is steadier than the latest, noisy step, so it is
    #    what gets evaluated after each epoch and saved at the end (README: 99% sooner).
    #    steps_per_execution: TF runs up to 20 steps per call from Python (per-call overhead is
    #    large for a small model on 2 cores); fit() runs whole groups, so the group must divide
    #    an epoch (480 = 24 × 20).
    group = next(size for size in range(20, 0, -1) if steps_per_epoch % size == 0)
    model.compile(optimizer=keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=0.99),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  steps_per_execution=group)  # measured: XLA (jit_compile) was slower
    print(f"model: {model.count_params():,} parameters; {args.epochs} epochs of "
          f"{steps_per_epoch} batches of {args.batch_size} images")

    # 4. Train.
    report = EpochReport(x_test, y_test)
    model.fit(batches, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
              shuffle=False,  # the stream is shuffled already; fit() would only warn
              verbose=0, callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True),  # before report
                                    report, common.NanGuardCallback(args.batch_size)])
    curve = report.curve

    # 5. Verify and save.
    plt = common.plt_headless()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, args.epochs + 1), curve, marker="o")
    ax.axhline(0.99, color="gray", linestyle="--", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.grid(True)
    common.save_figure(fig, "04_mnist_cnn_curve", out)
    common.save_keras_model(model, model_path)
    print(f"saved model: {model_path}")
    print(f"test accuracy: {curve[-1]:.4f}")
    return model


# ---------------------------------------------------------------- your own digits
def prepare_digit(path):
    """Turn any picture of one digit into a 28×28 MNIST-style array in [0, 1].

    The steps follow how MNIST itself was made: white ink on black, the digit scaled to fit a
    20×20 box (aspect ratio kept), then placed so its centre of mass is the image centre.
    Raises ValueError with a readable message for non-images and blank pictures.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(path) as picture:
            picture = ImageOps.exif_transpose(picture)  # phone photos store rotation separately
            if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                # Drawing apps export ink on a transparent background: put it on white paper.
                paper = Image.new("RGBA", picture.size, "white")
                picture = Image.alpha_composite(paper, picture.convert("RGBA"))
            gray = np.asarray(picture.convert("L"), dtype=np.float32)
    except FileNotFoundError:
        raise ValueError("找不到文件 / file not found")
    except IsADirectoryError:
        raise ValueError("这是文件夹，不是图片 / this is a folder, not a picture")
    except Image.DecompressionBombError as error:
        raise ValueError(f"图片太大，请缩小到几百像素宽再试 / picture too large; shrink it to a few "
                         f"hundred pixels and try again ({error})")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"不是图片文件（应为 PNG/JPG）/ not an image file (PNG/JPG expected): {error}")

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:  # light paper: invert so the ink is bright, as in MNIST
        gray = 255 - gray
    ink = np.clip(gray - np.median(border if np.median(border) <= 127 else 255 - border), 0, None)
    if ink.max() < 40:  # less than ~15% contrast anywhere: nothing written
        raise ValueError("图片里好像没有数字 / the picture looks blank (no digit found); use dark ink "
                         "on light paper or light on dark, with the digit filling a good part of it")
    ink = ink / ink.max()
    ink[ink < 0.25] = 0  # paper texture and shadows are not ink

    rows, cols = np.nonzero(ink)
    digit = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = digit.shape
    scale = 20 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    digit = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float32) / 255

    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    canvas[top:top + size[1], left:left + size[0]] = digit
    total = canvas.sum()
    centre_row = (canvas.sum(axis=1) * np.arange(28)).sum() / total
    centre_col = (canvas.sum(axis=0) * np.arange(28)).sum() / total
    shift = (int(round(13.5 - centre_row)), int(round(13.5 - centre_col)))
    return np.roll(canvas, shift, axis=(0, 1))


def predict_images(model, paths):
    failed = 0
    for path in paths:
        try:
            digit = prepare_digit(path)
        except ValueError as error:
            print(f"{path}: {error}", file=sys.stderr)
            failed += 1
            continue
        logits = model.predict(digit[None, :, :, None], verbose=0)[0]
        probabilities = tf.nn.softmax(logits).numpy()
        top3 = np.argsort(probabilities)[::-1][:3]
        print(f"{path}: " + ", ".join(f"{d} ({probabilities[d]:.1%})" for d in top3))
    return failed


# ---------------------------------------------------------------- main
if args.image and model_path.exists() and not args.retrain:
    try:
        model = keras.models.load_model(model_path)
    except Exception as error:  # zero bytes, cut short, another program's file: all say the same
        common.fail(f"保存的模型已损坏：{model_path}\n用 --retrain 重新训练（约 1 分钟）。\n"
                    f"the saved model is damaged ({type(error).__name__}); train it again with "
                    f"--retrain (about a minute)")
    print(f"using saved model {model_path}")
else:
    if args.image:
        print(f"no saved model at {model_path}: training one first")
    model = train()  # a NaN stops here with the guard's message (exit 1)

if args.image:
    sys.exit(2 if predict_images(model, [Path(p) for p in args.image]) else 0)
