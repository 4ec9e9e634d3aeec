"""06 · 年龄大于 5 吗？/ Is the age greater than 5? (文章 六.2)

What it shows
  The article's toy rule, learned rather than programmed: 6,000 samples [year, 1] with
  year drawn uniformly from 0-10, label [0, 0, 1] if year > 5 else [0, 1, 0] (the article's
  three-class one-hot; class 0 is never used). Softmax regression finds the rule; we print
  where the two class scores cross (the learned threshold, ≈ 5) and a few predictions.

Run / 运行
  python 06_age_gt5.py               几秒钟 / a few seconds on a laptop CPU

Expected / 预期结果
  学到的分界点 ≈ 5.00，1,000 个新样本上测试准确率 1.0000
  learned threshold ≈ 5.00 and test accuracy 1.0000 on 1,000 fresh samples
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import numpy as np

parser = common.make_parser(__doc__)
parser.add_argument("--steps", type=common.positive_int, default=20000,
                    help="训练步数（每步用全部训练样本） / full-batch training steps")
parser.add_argument("--lr", type=common.positive_float, default=0.1, help="Adam 的学习率 / Adam learning rate")
parser.add_argument("--train-size", type=common.positive_int, default=6000,
                    help="训练样本数 / training samples")
parser.add_argument("--test-size", type=common.positive_int, default=1000,
                    help="测试样本数（新抽的，训练时没见过） / fresh test samples")
common.add_common_args(parser, seed=0)
args = common.parse_args(parser)

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import tensorflow as tf  # noqa: E402

common.set_seed(args.seed)


# %% 1. 准备数据 / Data (文章 六.2): [year, 1] and the one-hot label of "year > 5"
def make_samples(n):
    year = np.random.uniform(0, 10, size=n).astype(np.float32)
    # The constant 1 is the article's second feature. It duplicates the bias b (1·w is just
    # another bias), so it adds nothing; we keep it to match the article.
    x = np.stack([year, np.ones_like(year)], axis=1)
    y = np.zeros((n, 3), dtype=np.float32)
    y[np.arange(n), np.where(year > 5, 2, 1)] = 1
    return x, y


x_train, y_train = make_samples(args.train_size)
x_test, y_test = make_samples(args.test_size)
print(f"训练集 / train {x_train.shape}，测试集 / test {x_test.shape}")
print(f"第一个样本 / first sample: [年份 year, 1] = [{x_train[0, 0]:.2f}, 1] -> "
      f"one-hot 标签 / label {y_train[0].astype(int).tolist()}"
      f"  ({'> 5：第 2 类 / class 2' if y_train[0, 2] else '≤ 5：第 1 类 / class 1'}；第 0 类不用 / class 0 unused)")

# %% 2. 模型 / Model: softmax regression, y = softmax(x·W + b)
W = tf.Variable(tf.zeros([2, 3]))
b = tf.Variable(tf.zeros([3]))
optimizer = tf.keras.optimizers.Adam(args.lr)
guard = common.NanGuard()


# %% 3. 损失函数 / Loss (stable cross-entropy on logits) and the training steps. The points nearest to 5
# decide the threshold and pull on it ever more weakly, so it takes many cheap steps: we run
# `n` of them inside one compiled graph (tf.function turns the Python loop into a graph loop).
@tf.function
def train_steps(x, y, n):
    loss = tf.constant(0.0)
    for _ in tf.range(n):
        with tf.GradientTape() as tape:
            logits = tf.matmul(x, W) + b
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
    return loss


def accuracy(x, y):
    predicted = tf.argmax(tf.matmul(x, W) + b, axis=1)
    return float(tf.reduce_mean(tf.cast(predicted == tf.argmax(y, axis=1), tf.float32)))


# %% 4. 训练 / Train on the whole training set at once (it is tiny)
chunk = 1000
for step in range(chunk, args.steps + chunk, chunk):
    loss = train_steps(x_train, y_train, tf.constant(min(chunk, args.steps - step + chunk)))
    guard.check(step, loss)
    if step % (4 * chunk) == 0 or step == chunk:
        print(f"第 {step:5d} 步 / step  损失 loss {float(loss):.5f}  "
              f"训练准确率 / train accuracy {accuracy(x_train, y_train):.4f}")

# %% 5. 验证 / Verify: where do the scores of class 1 (≤ 5) and class 2 (> 5) cross?
# score2 - score1 = year·(W[0,2]-W[0,1]) + 1·(W[1,2]-W[1,1]) + (b2-b1) = 0
w, c = W.numpy(), b.numpy()
threshold = -((w[1, 2] - w[1, 1]) + (c[2] - c[1])) / (w[0, 2] - w[0, 1])
print(f"学到的分界点 / learned threshold: year = {threshold:.3f}（规则是 5 / the rule says 5）")

probabilities = tf.nn.softmax(tf.matmul(x_test, W) + b).numpy()
for i in range(5):
    year = x_test[i, 0]
    print(f"  年份 year {year:5.2f}: P(≤5) = {probabilities[i, 1]:.3f}, P(>5) = {probabilities[i, 2]:.3f}"
          f"  -> {'> 5' if probabilities[i, 2] > probabilities[i, 1] else '≤ 5'}")
test_accuracy = accuracy(x_test, y_test)
common.save_results("06_age_gt5", common.output_dir(args.out_dir), test_accuracy=test_accuracy,
                    threshold=float(threshold), steps=args.steps, lr=args.lr, seed=args.seed)
print(f"测试准确率 / test accuracy: {test_accuracy:.4f}")
