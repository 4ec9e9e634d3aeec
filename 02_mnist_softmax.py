"""02 · MNIST 手写数字：softmax 回归 / MNIST with softmax regression (文章 四.1-5)

What it shows
  The article's first real model, written out by hand: W (784×10) and b (10) start at zero,
  y = softmax(x·W + b), cross-entropy loss, plain gradient descent on batches of 100.
  Every 50 steps it prints the test accuracy, like the article. It then prints y for a few
  test images and a slice of W (文章 四.5: in TF2 tensors print directly, no feed_dict), and
  draws each digit's column of W as a 28×28 "evidence" map.

Run
  python 02_mnist_softmax.py                 (≈10 s on a laptop CPU, MNIST downloaded once)
  python 02_mnist_softmax.py --naive-loss    the article's hand-written -Σ y'·log(y)

Expected
  test accuracy: 0.92xx (article: 0.9252)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import argparse
import time

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--steps", type=common.positive_int, default=5000,
                    help="training steps (batches of --batch-size)")
parser.add_argument("--batch-size", type=common.positive_int, default=100)
parser.add_argument("--lr", type=common.positive_float, default=0.5, help="gradient descent learning rate")
parser.add_argument("--eval-every", type=common.positive_int, default=50, help="print test accuracy every N steps")
parser.add_argument("--naive-loss", action="store_true",
                    help="use the hand-written -sum(y_true * log(softmax)) instead of the stable op")
common.add_common_args(parser)
args = parser.parse_args()

import keras  # noqa: E402  (after the flags: --help and typos answer at once)
import tensorflow as tf  # noqa: E402

common.set_seed(args.seed)
plt = common.plt_headless()

# 1. Data (文章 四.1): 28×28 images flattened to 784 numbers in [0, 1], labels one-hot.
(x_train, y_train), (x_test, y_test) = common.load_mnist(args.data_dir)
x_train = x_train.reshape(-1, 784).astype(np.float32) / 255
x_test = x_test.reshape(-1, 784).astype(np.float32) / 255
y_train_onehot = np.eye(10, dtype=np.float32)[y_train]
y_test_onehot = np.eye(10, dtype=np.float32)[y_test]
print(f"train images {x_train.shape}, test images {x_test.shape}")

# 2. Model (文章 四.2): y = softmax(x·W + b), everything starts at zero.
W = tf.Variable(tf.zeros([784, 10]), name="W")
b = tf.Variable(tf.zeros([10]), name="b")


def logits_of(x):
    return tf.matmul(x, W) + b


# 3. Loss (文章 四.3 损失函数): cross-entropy between the true one-hot y' and the prediction y.
def naive_cross_entropy(y_true, logits):
    # The article's -Σ y'·log(y): when a probability underflows to 0, log(0) = -inf and
    # 0 · -inf = NaN. It works for a while, then the NaN guard below stops it.
    y = tf.nn.softmax(logits)
    return tf.reduce_mean(-tf.reduce_sum(y_true * tf.math.log(y), axis=1))


def stable_cross_entropy(y_true, logits):
    # The same quantity computed from the logits with the log-sum-exp trick: never log(0).
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=logits))


loss_fn = naive_cross_entropy if args.naive_loss else stable_cross_entropy


# 4. One gradient-descent step (文章 四.4 训练): W ← W - lr·∂loss/∂W.
@tf.function
def train_step(x, y_true, lr):
    with tf.GradientTape() as tape:
        loss = loss_fn(y_true, logits_of(x))
    dW, db = tape.gradient(loss, [W, b])
    W.assign_sub(lr * dW)
    b.assign_sub(lr * db)
    return loss


@tf.function
def accuracy(x, labels):
    predicted = tf.argmax(logits_of(x), axis=1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(predicted == labels, tf.float32))


# 5. Train: shuffled batches of 100, test accuracy every 50 steps (文章 四.4).
guard = common.NanGuard(hint="(try without --naive-loss)" if args.naive_loss else "")
lr = tf.constant(args.lr)
test_labels = tf.constant(y_test, tf.int32)
order = np.random.permutation(len(x_train))
if args.batch_size > len(x_train):
    common.fail(f"--batch-size {args.batch_size} 大于训练图片数 {len(x_train)} / is larger than the "
                f"{len(x_train)} training images")
history, start = [], time.time()
for step in range(1, args.steps + 1):  # a NaN stops here with the guard's message (exit 1)
    first = (step - 1) * args.batch_size % len(x_train)
    if first + args.batch_size > len(x_train):  # new epoch: reshuffle
        order, first = np.random.permutation(len(x_train)), 0
    rows = order[first:first + args.batch_size]
    loss = train_step(x_train[rows], y_train_onehot[rows], lr)
    guard.check(step, loss, rows=(first, first + args.batch_size))
    if step % args.eval_every == 0 or step == args.steps:
        acc = float(accuracy(x_test, test_labels))
        history.append((step, acc))
        print(f"step {step:5d}  loss {float(loss):.4f}  test accuracy {acc:.4f}")
print(f"trained {args.steps} steps in {time.time() - start:.1f} s")

# 6. Look inside (文章 四.5 打印变量): tensors print directly in TF2.
probabilities = tf.nn.softmax(logits_of(x_test[:3]))
np.set_printoptions(precision=3, suppress=True)
for i in range(3):
    print(f"image {i} (label {y_test[i]}): y = {probabilities[i].numpy()}")
print("W[300:303] (3 pixels near the centre, one weight per digit):")
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
print(f"saved model: {out / '02_mnist_softmax.keras'}")
print(f"test accuracy: {float(accuracy(x_test, test_labels)):.4f}")
