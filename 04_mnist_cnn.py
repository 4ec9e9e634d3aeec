"""04 · MNIST 卷积神经网络 / MNIST with a convolutional network (文章 四, "99%+, but slow")

What it shows
  A convolutional net looks at small patches (strokes, corners) instead of single pixels.
  Two versions of the lesson:
  --model article   the CNN the article points to (TensorFlow's official cnn_mnist tutorial:
                    conv 5×5·32 → pool → conv 5×5·64 → pool → dense 1024 → dropout → 10),
                    trained the plain way (Adam, fixed learning rate, batches of 100).
  --model fast      (default) the same idea made fast for a laptop CPU: convolutions on a 14×14
                    grid, few filters where they cost most, warm-up + cosine learning rate, one
                    in-memory data stream, every image moved by up to 2 pixels each time it is
                    seen (augmentation), and weight averaging (EMA). Each trick says why beside
                    it below; their measured effects are in docs/benchmarks.md.
  After every epoch it prints the test accuracy and the seconds spent training so far. Then it
  can read your own handwriting (section 6).

Run / 运行
  python 04_mnist_cnn.py                            训练并保存模型，约 1 分钟 / train and save (≈1 min)
  python 04_mnist_cnn.py --model article            文章的网络 / the article's network
  python 04_mnist_cnn.py --epochs 30 --tta          训练更久，再对每张测试图的 5 个视角取平均
                                                    / longer, then 5 views of each test image
  python 04_mnist_cnn.py --image my_digit.png       识别你自己写的数字（PNG/JPG，手机照片也行）
                                                    / read digits in your own pictures

Expected / 预期结果
  15 轮后测试准确率约 0.994，第 2 轮就到 99.0%
  test accuracy ≈0.994 after 15 epochs; 99.0% first reached after epoch 2
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import numpy as np

# Each model's own recipe; a flag given on the command line overrides it.
RECIPES = {
    # fast: 240 divides the 60,000 images, and bigger batches mean fewer (costly) steps on a CPU.
    # filters: few (16) in the first convolution, which sees 4x the positions of the second, so
    # its filters cost most; shift 2 (not 1) makes up for the smaller net's final accuracy.
    "fast": dict(epochs=15, batch_size=240, lr=0.008, shift=2, filters=(16, 48)),
    # article: the tutorial's batch and filters; Adam's usual rate
    "article": dict(epochs=3, batch_size=100, lr=0.001, shift=0, filters=(32, 64)),
}
parser = common.make_parser(__doc__)
parser.add_argument("--model", choices=list(RECIPES), default="fast",
                    help="fast：为 CPU 调过的网络；article：官方 cnn_mnist 教程的网络 / "
                         "fast: the CPU-tuned net; article: the official cnn_mnist tutorial net")
parser.add_argument("--epochs", type=common.positive_int, default=None,
                    help="训练几轮（默认 fast 15、article 3） / passes over the data (default: 15 fast, 3 article)")
parser.add_argument("--batch-size", type=common.positive_int, default=None,
                    help="每批的图片数（默认 fast 240、article 100） / images per batch (default: 240 fast, 100 article)")
parser.add_argument("--lr", type=common.positive_float, default=None,
                    help="Adam 的最大学习率（默认 fast 0.008、article 0.001） / "
                         "peak Adam learning rate (default: 0.008 fast, 0.001 article)")
parser.add_argument("--shift", type=common.nonnegative_int, default=None, metavar="PIXELS",
                    help="仅 fast：每次用到一张训练图时随机平移最多几个像素（默认 2，0 关闭） / fast model: move "
                         "each training image by up to this many pixels, anew each time (default 2; 0: off)")
parser.add_argument("--filters", type=common.positive_int, nargs=2, default=None, metavar=("FIRST", "SECOND"),
                    help="两层卷积各有几个卷积核（默认 fast 16 48、article 32 64） / "
                         "filters of the two convolutions (default: 16 48 fast, 32 64 article)")
parser.add_argument("--max-train", type=common.positive_int, default=None,
                    help="只用前 N 张训练图片（快速试一试；默认全部） / "
                         "use only N training images (quick tries; default: all)")
parser.add_argument("--image", nargs="+", metavar="PATH",
                    help="识别这些图片里的数字 / predict the digit in these pictures")
parser.add_argument("--batchnorm", action="store_true",
                    help="仅 fast：每层卷积后加 BatchNorm（在 CPU 上更慢） / "
                         "fast model: BatchNorm after each convolution (slower on a CPU)")
parser.add_argument("--tta", action="store_true",
                    help="最后再把每张测试图原样和上下左右各移 1 像素，5 个预测取平均（测试时增强） / at the end, also "
                         "test each image as it is and moved 1 pixel up, down, left, right, averaging the 5")
parser.add_argument("--retrain", action="store_true",
                    help="已有保存的模型也重新训练 / train even if a saved model exists")
common.add_common_args(parser)
args = common.parse_args(parser)
recipe = {key: default if getattr(args, key) is None else getattr(args, key)
          for key, default in RECIPES[args.model].items()}
if args.model == "article" and recipe["shift"]:
    common.fail("--shift 只用于默认的 fast 模型（--model article 按文章原样训练，不做数据增强）。\n"
                "--shift works with the default fast model only (--model article trains the "
                "article's way, without augmentation)")

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from common.augment import random_shift  # noqa: E402  (section 1: augmentation)
from common.digits import predict_images  # noqa: E402  (section 6: your own pictures)
from common.epoch_report import EpochReport  # noqa: E402  (section 4: accuracy and seconds per epoch)
from common.layers import SpaceToDepth  # noqa: E402  (registered: saved fast models refer to it)

common.set_seed(args.seed)
out = common.output_dir(args.out_dir)
name = "04_mnist_cnn" if args.model == "fast" else "04_mnist_cnn_article"
model_path = out / f"{name}.keras"
if args.image and model_path.exists() and not args.retrain:  # only reading pictures: section 6
    try:
        model = keras.models.load_model(model_path)
    except Exception as error:  # zero bytes, cut short, another program's file: all say the same
        common.fail(f"保存的模型已损坏：{model_path}\n用 --retrain 重新训练（约 1 分钟）。\n"
                    f"the saved model is damaged ({type(error).__name__}); train it again with "
                    f"--retrain (about a minute)")
    print(f"使用已保存的模型 / using saved model {model_path}")
    raise SystemExit(2 if predict_images(model, args.image) else 0)


# %% 1. 准备数据 / Data: pixels in [0, 1], shape 28×28×1 (one gray channel)
(x_train, y_train), (x_test, y_test) = common.load_mnist(args.data_dir)
x_train = x_train[:args.max_train, :, :, None].astype(np.float32) / 255
y_train = y_train[:args.max_train].astype(np.int32)
x_test = x_test[:, :, :, None].astype(np.float32) / 255
epochs, batch_size, lr, shift = recipe["epochs"], recipe["batch_size"], recipe["lr"], recipe["shift"]
filters = tuple(recipe["filters"])
steps_per_epoch = max(1, len(x_train) // batch_size)  # fast: 60,000 / 240 = 250
if args.model == "fast":
    # All images stay in memory as one tensor; tf.data shuffles only the image *numbers* and
    # gathers each batch by number, as one endless stream (fit() on NumPy arrays would rebuild its
    # pipeline every epoch, seconds each time on a small CPU).
    images, labels, count = tf.constant(x_train), tf.constant(y_train), len(x_train)
    # Augmentation: each time an image is used it moves by up to `shift` pixels (common/augment.py):
    # the net learns that a stroke moved a little is the same stroke.
    batches = (tf.data.Dataset.range(count).shuffle(count).repeat()  # a new order every pass
               .batch(batch_size)
               .map(lambda numbers: (random_shift(tf.gather(images, numbers), shift),
                                     tf.gather(labels, numbers)))
               .prefetch(4))  # a fixed small buffer: AUTOTUNE made fit() wait seconds before returning


# %% 2. 模型 / Model: the article's CNN, and the fast one
def article_model(filters=(32, 64)):
    """TensorFlow's official cnn_mnist tutorial network, the one the article points to."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(filters[0], 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),                      # 14×14
        keras.layers.Conv2D(filters[1], 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),                      # 7×7
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dropout(0.4),
        keras.layers.Dense(10),                            # logits
    ], name="mnist_cnn_article")


def fast_model(filters=(16, 48), batchnorm=False):
    """Cheap layers at full resolution, few of them where the image is small."""
    def conv_relu(count):
        if batchnorm:  # about 2x slower on a small CPU, so off by default
            return [keras.layers.Conv2D(count, 3, padding="same", use_bias=False),
                    keras.layers.BatchNormalization(momentum=0.9), keras.layers.ReLU()]
        return [keras.layers.Conv2D(count, 3, padding="same", activation="relu")]

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        SpaceToDepth(),  # no pixel lost, but every later layer works on a quarter of the positions
        *conv_relu(filters[0]),
        keras.layers.MaxPooling2D(2),  # 7×7
        *conv_relu(filters[1]),
        keras.layers.MaxPooling2D(2, padding="same"),  # 4×4 (7 is odd: "same" keeps the edge)
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu"),  # 256 (not 128) and dropout 0.25 (not 0.5):
        keras.layers.Dropout(0.25),                   # learns faster in the first epochs
        keras.layers.Dense(10),  # logits
    ], name="mnist_cnn")


# %% 3. 损失函数与优化器 / Loss and optimizer: cross-entropy on the logits, Adam
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
if args.model == "article":  # the plain way: a fixed learning rate
    model = article_model(filters)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss)
else:
    model = fast_model(filters, args.batchnorm)
    # A short warm-up (2% of the steps) lets Adam take a high peak rate safely; then a cosine to 0.
    steps = epochs * steps_per_epoch
    warmup = max(1, int(0.02 * steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=lr / 20, decay_steps=max(1, steps - warmup), alpha=0.0,
        warmup_target=lr, warmup_steps=warmup)
    # steps_per_execution: up to 20 steps per call from Python (per-call overhead dominates a small
    # model on 2 cores); fit() runs whole groups, so the group must divide an epoch (250 = 25 × 10).
    group = next(size for size in range(20, 0, -1) if steps_per_epoch % size == 0)
    # use_ema: evaluate and save the average of the weights over ≈100 steps, steadier than the
    # last step's, so 99.0% comes epochs sooner. (XLA's jit_compile was slower here: not used.)
    model.compile(optimizer=keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=0.99), loss=loss,
                  steps_per_execution=group)
print(f"模型 {model.name}：{model.count_params():,} 个参数；{epochs} 轮，每轮 {steps_per_epoch} 批、每批 {batch_size} 张\n"
      f"model {model.name}: {model.count_params():,} parameters; {epochs} epochs of "
      f"{steps_per_epoch} batches of {batch_size} images")

# %% 4. 训练 / Train, with the test accuracy after every epoch (a NaN stops it: exit 1)
report = EpochReport(x_test, y_test)
callbacks = [report, common.NanGuardCallback(batch_size)]
if args.model == "article":
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=callbacks)
else:
    model.fit(batches, epochs=epochs, steps_per_epoch=steps_per_epoch,
              shuffle=False,  # the stream is shuffled already; fit() would only warn
              verbose=0, callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True), *callbacks])

# %% 5. 验证与保存 / Verify and save
plt = common.plt_headless()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, epochs + 1), report.curve, marker="o")
ax.axhline(0.99, color="gray", linestyle="--", linewidth=1)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.grid(True)
common.save_figure(fig, f"{name}_curve", out)
common.save_keras_model(model, model_path)
print(f"已保存模型 / saved model: {model_path}")
first_99 = next((s for s, a in zip(report.seconds, report.curve) if a >= 0.99), None)
tta_accuracy = None
if args.tta:
    # Test-time augmentation: a digit moved by a pixel is still the same digit, so ask the model
    # about 5 views of each test image and average its probabilities (like 08 does for CIFAR-10).
    padded = np.pad(x_test, [(0, 0), (1, 1), (1, 1), (0, 0)])  # zeros around: the moves bring in black
    views = [padded[:, 1 + dy:29 + dy, 1 + dx:29 + dx] for dy, dx in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))]
    probabilities = sum(tf.nn.softmax(model.predict(view, batch_size=1000, verbose=0)).numpy() for view in views)
    tta_accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
common.save_results(name, out, test_accuracy=report.curve[-1], curve=report.curve, seconds=report.seconds,
                    seconds_to_99=first_99, model=args.model, batchnorm=args.batchnorm, seed=args.seed,
                    train_images=len(x_train), tta_accuracy=tta_accuracy, **recipe)
print(f"测试准确率 / test accuracy: {report.curve[-1]:.4f}")
if tta_accuracy is not None:
    print(f"5 个视角平均后的测试准确率 / test accuracy with 5 views (--tta): {tta_accuracy:.4f}")

# %% 6. 你自己的手写数字 / Your own digits (--image): PNG/JPG, any size (common/digits.py)
if args.image:
    raise SystemExit(2 if predict_images(model, args.image) else 0)
