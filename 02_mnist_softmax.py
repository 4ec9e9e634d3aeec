"""02 · MNIST 手写数字：softmax 回归 / MNIST with softmax regression (文章 四.1-5)

What it shows
  The article's first real model, written out by hand: W (784×10) and b (10) start at zero,
  y = softmax(x·W + b), cross-entropy loss, plain gradient descent on small batches.
  First it prints one test digit as the article's 28×28 grid of numbers and its one-hot label
  (文章 四.1). Every 50 steps it prints the test accuracy, like the article. Then it prints the
  ten probabilities for a digit the model hesitates on ("9 还是 8?", 文章 四.2), y for a few
  test images and a slice of W (文章 四.5: in TF2 tensors print directly, no feed_dict), and
  draws each digit's column of W as a 28×28 "evidence" map.

Run / 运行
  python 02_mnist_softmax.py                 约 10 秒，MNIST 只下载一次
                                             ≈10 s on a laptop CPU, MNIST downloaded once
  python 02_mnist_softmax.py --article       完全按文章：学习率 0.01，500 步、每步 50 张，损失按批求和
                                             exactly the article's settings: learning rate 0.01,
                                             500 steps of 50 images, loss summed over the batch
  python 02_mnist_softmax.py --naive-loss    文章手写的损失 / the article's hand-written -Σ y'·log(y)

Expected / 预期结果
  测试准确率 0.92xx（文章：0.9252）；--article 的结果见 docs/benchmarks.md
  test accuracy: 0.92xx (article: 0.9252); --article: see docs/benchmarks.en.md (measured)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import time

import numpy as np

# The default trains longer than the article, with the loss averaged over the batch (so the
# learning rate does not depend on the batch size).
ARTICLE = dict(lr=0.01, steps=500, batch_size=50, loss_sum=True)
parser = common.make_parser(__doc__)
parser.add_argument("--steps", type=common.positive_int, default=5000,
                    help="训练步数（每步一批 --batch-size 张图） / training steps (batches of --batch-size)")
parser.add_argument("--batch-size", type=common.positive_int, default=100,
                    help="每批的图片数 / images per batch")
parser.add_argument("--lr", type=common.positive_float, default=0.5,
                    help="梯度下降的学习率 / gradient descent learning rate")
parser.add_argument("--article", action="store_true",
                    help="按文章原样：学习率 0.01，500 步、每步 50 张，损失按批求和 / "
                         "the article's settings: lr 0.01, 500 steps of 50, loss summed over the batch")
parser.add_argument("--eval-every", type=common.positive_int, default=50,
                    help="每 N 步打印一次测试准确率 / print test accuracy every N steps")
parser.add_argument("--naive-loss", action="store_true",
                    help="用文章手写的 -Σ y'·log(y)，不用数值稳定的函数 / "
                         "use the hand-written -sum(y_true * log(softmax)) instead of the stable op")
common.add_common_args(parser)
args = common.parse_args(parser)
settings = dict(lr=args.lr, steps=args.steps, batch_size=args.batch_size, loss_sum=False)
if args.article:
    settings.update(ARTICLE)

# %% 1. 准备数据 / Data (文章 四.1)
# 28×28 images flattened to 784 numbers in [0, 1], labels one-hot.
(x_train, y_train), (x_test, y_test) = common.load_mnist(args.data_dir)
x_train = x_train.reshape(-1, 784).astype(np.float32) / 255
x_test = x_test.reshape(-1, 784).astype(np.float32) / 255
y_train_onehot = np.eye(10, dtype=np.float32)[y_train]
y_test_onehot = np.eye(10, dtype=np.float32)[y_test]
print(f"训练图片 / train images {x_train.shape}，测试图片 / test images {x_test.shape}")
print("第 0 张测试图片在计算机眼里的样子（像素值 ×100，文章 四.1 的 28×28 数字矩阵）：")
print("test image 0 as the computer sees it (pixel values ×100):")
for row in x_test[0].reshape(28, 28):
    print(" ".join(f"{round(v * 99):2d}" if v > 0 else " ." for v in row))
print(f"它的标签 {y_test[0]} 写成 one-hot 向量 / its label {y_test[0]} as a one-hot vector: "
      f"{y_test_onehot[0].astype(int)}")
print(f"  （one-hot：10 个数，只有下标 {y_test[0]} 处是 1，其余都是 0 / "
      f"one-hot: ten numbers, a 1 at index {y_test[0]}, 0 elsewhere）")

# TensorFlow comes after the flags and the data (--help, typos and a damaged file answer at
# once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

common.set_seed(args.seed)
plt = common.plt_headless()

# %% 2. 模型 / Model (文章 四.2): y = softmax(x·W + b), everything starts at zero
W = tf.Variable(tf.zeros([784, 10]), name="W")
b = tf.Variable(tf.zeros([10]), name="b")


def logits_of(x):
    return tf.matmul(x, W) + b


# %% 3. 损失函数 / Loss (文章 四.3): cross-entropy between the true one-hot y' and the prediction y
def naive_cross_entropy(y_true, logits):
    # The article's -Σ y'·log(y): when a probability underflows to 0, log(0) = -inf and
    # 0 · -inf = NaN. It works for a while, then the NaN guard below stops it.
    y = tf.nn.softmax(logits)
    return -tf.reduce_sum(y_true * tf.math.log(y), axis=1)


def stable_cross_entropy(y_true, logits):
    # The same quantity computed from the logits with the log-sum-exp trick: never log(0).
    return tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=logits)


per_image_loss = naive_cross_entropy if args.naive_loss else stable_cross_entropy
# The article sums the loss over the batch (tf.reduce_sum); we average it. A sum over 50 images
# with lr 0.01 takes the same steps as a mean with lr 0.5.
reduce_batch = tf.reduce_sum if settings["loss_sum"] else tf.reduce_mean


# %% 4. 训练 / Train (文章 四.4): W ← W - lr·∂loss/∂W on shuffled batches
@tf.function
def train_step(x, y_true, lr):
    with tf.GradientTape() as tape:
        loss = reduce_batch(per_image_loss(y_true, logits_of(x)))
    dW, db = tape.gradient(loss, [W, b])
    W.assign_sub(lr * dW)
    b.assign_sub(lr * db)
    return loss


@tf.function
def accuracy(x, labels):
    predicted = tf.argmax(logits_of(x), axis=1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(predicted == labels, tf.float32))


guard = common.NanGuard(hint="（去掉 --naive-loss 再试 / try without --naive-loss）" if args.naive_loss else "")
lr, batch_size = tf.constant(settings["lr"]), settings["batch_size"]
test_labels = tf.constant(y_test, tf.int32)
if batch_size > len(x_train):
    common.fail(f"--batch-size {batch_size} 大于训练图片数 {len(x_train)} / is larger than the "
                f"{len(x_train)} training images")
print(f"训练：{settings['steps']} 步，每步 {batch_size} 张图，学习率 {settings['lr']:g}，"
      f"损失在一批内{'求和' if settings['loss_sum'] else '取平均'}")
print(f"training: {settings['steps']} steps of {batch_size} images, learning rate {settings['lr']:g}, "
      f"loss {'summed' if settings['loss_sum'] else 'averaged'} over the batch")
order = np.random.permutation(len(x_train))
history, start = [], time.time()
for step in range(1, settings["steps"] + 1):  # a NaN stops here with the guard's message (exit 1)
    first = (step - 1) * batch_size % len(x_train)
    if first + batch_size > len(x_train):  # new epoch: reshuffle
        order, first = np.random.permutation(len(x_train)), 0
    rows = order[first:first + batch_size]
    loss = train_step(x_train[rows], y_train_onehot[rows], lr)
    guard.check(step, loss, rows=(first, first + batch_size))
    if step % args.eval_every == 0 or step == settings["steps"]:
        acc = float(accuracy(x_test, test_labels))
        history.append((step, acc))
        print(f"第 {step:5d} 步 / step  损失 loss {float(loss):.4f}  测试准确率 / test accuracy {acc:.4f}")
train_seconds = time.time() - start
print(f"训练 {settings['steps']} 步，用时 {train_seconds:.1f} 秒 / "
      f"trained {settings['steps']} steps in {train_seconds:.1f} s")

# %% 5. 验证 / Verify (文章 四.2, 四.5): probabilities, W, pictures
probabilities = tf.nn.softmax(logits_of(x_test)).numpy()
np.set_printoptions(precision=3, suppress=True)
unsure = int(np.argmin(np.where(probabilities.max(axis=1) > 0.3, probabilities.max(axis=1), 1.0)))
ranked = np.argsort(probabilities[unsure])[::-1]
print(f"模型拿不准的一张图（第 {unsure} 张测试图片，标签 {y_test[unsure]}；文章：是 9 还是 8？）："
      f"{ranked[0]} 还是 {ranked[1]}？")
print(f"a digit the model hesitates on (test image {unsure}, label {y_test[unsure]}): "
      f"{ranked[0]} or {ranked[1]}?")
print("  它给 0-9 每个数字的概率 / its probability for each digit:")
print("  " + ", ".join(f"{d}: {probabilities[unsure, d]:.1%}" for d in range(10)))
print("前 3 张测试图片的 y（10 个概率） / y (ten probabilities) for the first 3 test images:")
for i in range(3):
    print(f"  图 {i}（标签 {y_test[i]}） / image {i} (label {y_test[i]}): y = {probabilities[i]}")
print("W[300:303]：中心附近 3 个像素，每个数字一个权重 / 3 pixels near the centre, one weight per digit:")
print(W[300:303].numpy())

out = common.output_dir(args.out_dir)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(*zip(*history))
ax.set_xlabel("training step")
ax.set_ylabel("test accuracy")
ax.set_ylim(0.8, 1.0)
ax.grid(True)
common.save_figure(fig, "02_mnist_softmax_curve", out)

fig, axes = plt.subplots(2, 5, figsize=(10, 4.5))
for digit, ax in enumerate(axes.flat):
    evidence = W[:, digit].numpy().reshape(28, 28)
    limit = np.abs(evidence).max() or 1
    ax.imshow(evidence, cmap="RdBu_r", vmin=-limit, vmax=limit)  # red: evidence for, blue: against
    ax.set_title(str(digit))
    ax.axis("off")
common.save_figure(fig, "02_mnist_softmax_weights", out)

# The same model as a Keras layer, so it can be saved and reloaded like the others.
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
model.layers[0].set_weights([W.numpy(), b.numpy()])
common.save_keras_model(model, out / "02_mnist_softmax.keras")
print(f"已保存模型 / saved model: {out / '02_mnist_softmax.keras'}")
test_accuracy = float(accuracy(x_test, test_labels))
common.save_results("02_mnist_softmax", out, test_accuracy=test_accuracy, train_seconds=train_seconds,
                    curve=history, seed=args.seed, article=args.article, naive_loss=args.naive_loss, **settings)
print(f"测试准确率 / test accuracy: {test_accuracy:.4f}")
