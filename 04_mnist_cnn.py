"""04 · MNIST 卷积神经网络 / MNIST with a convolutional network (文章 四, "99%+, but slow")

What it shows
  A convolutional net looks at small patches (strokes, corners) instead of single pixels.
  Two recipes, one row each of the RECIPES table below (--model):
  article   the CNN the article points to (TensorFlow's official cnn_mnist tutorial: conv 5×5·32 →
            pool → conv 5×5·64 → pool → dense 1024 → dropout → 10), trained the plain way (Adam,
            fixed learning rate, batches of 100).
  fast      (default) the same idea made fast for a laptop CPU: convolutions on a 14×14 grid, few
            filters where they cost most, warm-up + cosine learning rate, every image moved by up to
            2 pixels each time it is seen (augmentation), weight averaging (EMA). Each knob says why
            beside it; measured effects, and what was tried and dropped: docs/benchmarks.md.
  After every epoch it prints the test accuracy and the seconds spent training so far; then it
  can read your own handwriting (section 8).

Run / 运行
  python 04_mnist_cnn.py                            训练并保存模型，约 1–2 分钟 / train and save (≈1-2 min)
  python 04_mnist_cnn.py --model article            文章的网络 / the article's network
  python 04_mnist_cnn.py --epochs 30                训练更久（最后照常用每张测试图的 5 个视角）
                                                    / train longer (then, as always, 5 views of each test image)
  python 04_mnist_cnn.py --image my_digit.png       识别你自己写的数字（PNG/JPG，手机照片也行）
                                                    / read digits in your own pictures

Expected / 预期结果
  15 轮后测试准确率约 0.995（5 个视角取平均；只看原图约 0.994），第 2 轮就到 99.0%
  test accuracy ≈0.995 after 15 epochs (5 views averaged; one view ≈0.994); 99.0% after epoch 2
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import argparse
import os

import numpy as np

# %% 0. 配方 / The recipes: every knob in one table; a flag (--epochs, --lr, ...) overrides one
FAST = dict(
    network="fast",  # fast_model below: 3×3 convolutions on a 14×14 grid
    filters=(16, 48),  # few in the first convolution: it sees 4x the positions of the second, so its filters cost most
    dense=256, dropout=0.25,  # 256 (not 128) and dropout 0.25 (not 0.5): learns faster in the first epochs
    batchnorm=False,  # --batchnorm: BatchNorm after each convolution, slower on a small CPU
    epochs=15,  # 99.0% comes after 2; the longer cosine ends higher (Expected, above)
    batch_size=240,  # divides the 60,000 images; bigger batches mean fewer (costly) steps on a CPU
    lr=0.008,  # Adam's peak rate: high, which the warm-up makes safe
    schedule="cosine", warmup=0.02, warmup_from=20,  # climb from lr/20 to lr in 2% of the steps, then a cosine to 0
    use_ema=True, ema_momentum=0.99,  # test and save the weights' average over ≈100 steps: steadier than the last
    shift=2,  # move each image by up to 2 pixels, anew each time (2, not 1: makes up for the small net)
    steps_per_call=20,  # up to 20 steps per call from Python: per-call overhead dominates a small model on 2 cores
    stream=True,  # batches from one in-memory tf.data stream (section 1), not NumPy arrays given to fit()
    prefetch=4,  # batches made ahead; a fixed small buffer, as AUTOTUNE made fit() return late
    tta=True,  # at the end, also ask about 5 views of each test image (section 6): +0.03-0.17 points, 1 s
)
RECIPES = {
    "fast": FAST,
    # article: the tutorial's net, filters and batch; Adam's usual rate, fixed; no augmentation, no EMA
    "article": dict(FAST, network="article", filters=(32, 64), dense=1024, dropout=0.4, epochs=3, batch_size=100,
                    lr=0.001, schedule="constant", use_ema=False, shift=0, stream=False, steps_per_call=1, tta=False),
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
parser.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                    help="最后再把每张测试图原样和上下左右各移 1 像素，5 个预测取平均（测试时增强；fast 默认开，"
                         "--no-tta 关） / at the end, also test each image as it is and moved 1 pixel up, down, left, "
                         "right, averaging the 5 (default: on for fast, off for article)")
parser.add_argument("--export", action="store_true",
                    help="训练后再导出给应用程序用：SavedModel（TF Serving 的目录结构）、LiteRT/TFLite（float32 和 int8）"
                         " / after training, also export for applications: a SavedModel (TF Serving's layout) and "
                         "LiteRT/TFLite files (float32 and int8)")
parser.add_argument("--retrain", action="store_true",
                    help="已有保存的模型也重新训练 / train even if a saved model exists")
common.add_common_args(parser)
args = common.parse_args(parser)
recipe = dict(RECIPES[args.model])
recipe.update({knob: getattr(args, knob) for knob in ("epochs", "batch_size", "lr", "shift", "filters", "batchnorm", "tta")
               if getattr(args, knob) is not None})
name = "04_mnist_cnn" if args.model == "fast" else "04_mnist_cnn_article"  # each recipe keeps its own files
if recipe["shift"] and not RECIPES[args.model]["shift"]:  # a recipe without augmentation keeps it off
    common.fail("--shift 只用于默认的 fast 模型（--model article 按文章原样训练，不做数据增强）。\n"
                "--shift works with the default fast model only (--model article trains the "
                "article's way, without augmentation)")

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from common.augment import random_shift  # noqa: E402  (section 1: augmentation)
from common.digits import predict_images  # noqa: E402  (section 8: your own pictures)
from common.epoch_report import EpochReport  # noqa: E402  (section 4: accuracy and seconds per epoch)
from common.export import export_for_apps, litert_predict  # noqa: E402  (section 8: SavedModel, LiteRT)
import common.layers  # noqa: E402,F401  (models saved by an older 04 refer to its SpaceToDepth layer)

common.set_seed(args.seed)
out = common.output_dir(args.out_dir)
model_path = out / f"{name}.keras"
if args.image and model_path.exists() and not args.retrain:  # only reading pictures: section 8
    model = common.load_keras_model(model_path, "用 --retrain 重新训练（约 1–2 分钟） / train it again with --retrain (1-2 min)")
    print(f"使用已保存的模型 / using saved model {model_path}")
    raise SystemExit(2 if predict_images(model, args.image) else 0)
if args.image:  # a missing picture is said now, not after a minute of training
    if [path for path in args.image if not os.path.isfile(path)]:
        common.fail("找不到图片，请检查路径 / picture not found, check the path: "
                    + ", ".join(path for path in args.image if not os.path.isfile(path)))
    if not model_path.exists():  # (--retrain: asked for)
        print(f"还没有训练好的模型 {model_path}：先训练（约 1–2 分钟），再识别你的图片 / no trained model yet: "
              f"training first (1-2 min), then reading your pictures")

# %% 1. 准备数据 / Data: pixels in [0, 1], shape 28×28×1 (one gray channel)
(x_train, y_train), (x_test, y_test) = common.load_mnist(args.data_dir)
x_train = x_train[:args.max_train, :, :, None].astype(np.float32) / 255
y_train = y_train[:args.max_train].astype(np.int32)
x_test = x_test[:, :, :, None].astype(np.float32) / 255
epochs, batch_size = recipe["epochs"], recipe["batch_size"]
steps_per_epoch = max(1, len(x_train) // batch_size)  # fast: 60,000 / 240 = 250
if recipe["stream"]:
    # All images stay in memory as one tensor; tf.data shuffles only the image *numbers* and gathers
    # each batch by number, as one endless stream (fit() on NumPy arrays rebuilds its pipeline every epoch).
    images, labels, count = tf.constant(x_train), tf.constant(y_train), len(x_train)
    # Augmentation: each time an image is used it moves by up to `shift` pixels (common/augment.py):
    # the net learns that a stroke moved a little is the same stroke.
    batches = (tf.data.Dataset.range(count).shuffle(count).repeat()  # a new order every pass
               .batch(batch_size)
               .map(lambda numbers: (random_shift(tf.gather(images, numbers), recipe["shift"]),
                                     tf.gather(labels, numbers)))
               .prefetch(recipe["prefetch"]))
    data = dict(x=batches, steps_per_epoch=steps_per_epoch, shuffle=False)  # (shuffled already)
else:  # the article's way: the arrays themselves, which fit() shuffles every epoch
    data = dict(x=x_train, y=y_train, batch_size=batch_size)


# %% 2. 模型 / Model: the article's CNN, and the fast one
def article_model(filters, dense, dropout):
    """TensorFlow's official cnn_mnist tutorial network, the one the article points to."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(filters[0], 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),                      # 14×14
        keras.layers.Conv2D(filters[1], 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),                      # 7×7
        keras.layers.Flatten(),
        keras.layers.Dense(dense, activation="relu"),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(10),                            # logits
    ], name="mnist_cnn_article")


def fast_model(filters, dense, dropout, batchnorm):
    """Cheap layers at full resolution, few of them where the image is small."""
    def conv_relu(count):
        if batchnorm:  # BatchNorm's own shift does the bias's job: the convolution needs none
            return [keras.layers.Conv2D(count, 3, padding="same", use_bias=False),
                    keras.layers.BatchNormalization(momentum=0.9), keras.layers.ReLU()]
        return [keras.layers.Conv2D(count, 3, padding="same", activation="relu")]

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        # Space to depth: each 2×2 block of pixels becomes 4 channels of one position (28×28×1 →
        # 14×14×4). No pixel lost, but every later layer works on a quarter of the positions.
        keras.layers.Reshape((14, 2, 14, 2, 1)),  # row, row in block, column, column in block
        keras.layers.Permute((1, 3, 2, 4, 5)),     # row, column, then the block's 2×2 pixels
        keras.layers.Reshape((14, 14, 4)),
        *conv_relu(filters[0]),
        keras.layers.MaxPooling2D(2),  # 7×7
        *conv_relu(filters[1]),
        keras.layers.MaxPooling2D(2, padding="same"),  # 4×4 (7 is odd: "same" keeps the edge)
        keras.layers.Flatten(),
        keras.layers.Dense(dense, activation="relu"),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(10),  # logits
    ], name="mnist_cnn")


if recipe["network"] == "fast":
    model = fast_model(recipe["filters"], recipe["dense"], recipe["dropout"], recipe["batchnorm"])
else:  # the tutorial's net as it is: --batchnorm is for the fast net only
    model = article_model(recipe["filters"], recipe["dense"], recipe["dropout"])


# %% 3. 损失函数与优化器 / Loss and optimizer: cross-entropy on the logits, Adam
# Learning rate: fixed (the article), or a short warm-up (a high peak is then safe) and a cosine to 0.
steps, lr = epochs * steps_per_epoch, recipe["lr"]
warmup = max(1, int(recipe["warmup"] * steps))
rate = lr if recipe["schedule"] == "constant" else keras.optimizers.schedules.CosineDecay(
    initial_learning_rate=lr / recipe["warmup_from"], decay_steps=max(1, steps - warmup), alpha=0.0,
    warmup_target=lr, warmup_steps=warmup)
# fit() runs whole groups of steps per call, so a group must divide an epoch (250 = 25 × 10).
group = next(size for size in range(recipe["steps_per_call"], 0, -1) if steps_per_epoch % size == 0)
model.compile(optimizer=keras.optimizers.Adam(rate, use_ema=recipe["use_ema"], ema_momentum=recipe["ema_momentum"]),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), steps_per_execution=group)
print(f"模型 {model.name}：{model.count_params():,} 个参数；{epochs} 轮，每轮 {steps_per_epoch} 批、每批 {batch_size} 张\n"
      f"model {model.name}: {model.count_params():,} parameters; {epochs} epochs of "
      f"{steps_per_epoch} batches of {batch_size} images")

# %% 4. 训练 / Train, with the test accuracy after every epoch (a NaN stops it: exit 1)
report = EpochReport(x_test, y_test)  # test accuracy, and seconds of training without the tests (common/)
nan_guard = common.NanGuardCallback(batch_size)  # where and why; Keras's own keras.callbacks.TerminateOnNaN() just stops
# With EMA, each epoch's test (and the saved model) uses the averaged weights: swap them in first.
swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if recipe["use_ema"] else []
model.fit(**data, epochs=epochs, verbose=0, callbacks=[*swap, report, nan_guard])

# %% 5. 验证与保存 / Verify and save
plt = common.plt_headless()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, epochs + 1), report.curve, marker="o")
ax.axhline(0.99, color="gray", linestyle="--", linewidth=1)
ax.set(xlabel="epoch", ylabel="test accuracy")
ax.grid(True)
common.save_figure(fig, f"{name}_curve", out)
common.save_keras_model(model, model_path)
print(f"已保存模型 / saved model: {model_path}")
print(f"测试准确率 / test accuracy: {report.curve[-1]:.4f}")

# %% 6. 测试时增强 / Test-time augmentation (--tta): a digit moved by a pixel is still the same
# digit, so ask the model about 5 views of each test image and average its probabilities (as 08 does)
tta_accuracy = None
if recipe["tta"]:
    padded = np.pad(x_test, [(0, 0), (1, 1), (1, 1), (0, 0)])  # zeros around: the moves bring in black
    views = [padded[:, 1 + dy:29 + dy, 1 + dx:29 + dx] for dy, dx in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))]
    probabilities = sum(tf.nn.softmax(model.predict(view, batch_size=1000, verbose=0)).numpy() for view in views)
    tta_accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
    print(f"5 个视角平均后的测试准确率 / test accuracy with 5 views (--tta): {tta_accuracy:.4f}")

# %% 7. 结果 / Results for programs (outputs/04_mnist_cnn.json): the curve, the seconds, the recipe
first_99 = next((s for s, a in zip(report.seconds, report.curve) if a >= 0.99), None)
common.save_results(name, out, test_accuracy=report.curve[-1], curve=report.curve, seconds=report.seconds,
                    seconds_to_99=first_99, model=args.model, seed=args.seed, train_images=len(x_train),
                    tta_accuracy=tta_accuracy, **recipe)

# %% 8. 带走模型 / Take the model home (--export): for a server, a phone, another language
# The exported model takes what an application has, pixels 0-255 (28×28×1, light ink on black),
# and answers ten probabilities: the scaling and the softmax travel inside it.
if args.export:
    pixels = keras.Input((28, 28, 1), name="pixels")
    app_model = keras.Model(pixels, keras.layers.Softmax(name="probabilities")(model(keras.layers.Rescaling(1 / 255)(pixels))))
    export_dir = out / f"{name}_export"
    calibration = x_train[np.random.default_rng(args.seed).choice(len(x_train), min(500, len(x_train)), replace=False)]
    files = export_for_apps(app_model, export_dir, "mnist_cnn", calibration=calibration * 255)  # (common/export.py)
    print(f"导出 / exported to {export_dir}:\n  saved_model/mnist_cnn/1/  (TF Serving, tf.saved_model.load)")
    exported = {}
    for file_name, tflite in files.items():
        kb = len(tflite) / 1024
        accuracy = float((litert_predict(tflite, x_test * 255).argmax(axis=1) == y_test).mean())
        print(f"  {file_name}：{kb:,.0f} KB，测试准确率 / test accuracy {accuracy:.4f}")
        exported[file_name] = dict(kb=kb, test_accuracy=accuracy)
    common.save_results(f"{name}_export", out, keras_test_accuracy=report.curve[-1], **exported)

# %% 9. 你自己的手写数字 / Your own digits (--image): PNG/JPG, any size (common/digits.py)
if args.image:
    raise SystemExit(2 if predict_images(model, args.image) else 0)
