"""01 · 拟合一条直线和一个平面 / Fit a line and a plane (文章 二.2, 三.3)

What it shows
  Part 1 (文章 二.2): house prices. A line f(x) = a·x + b is learned from a few
          (area m², price 万元) points and predicts the price of an 81.5 m² flat.
  Part 2 (文章 三.3): TensorFlow's classic first program. 100 random points on the plane
          y = 0.1·x1 + 0.2·x2 + 0.3; starting from random W and b = 0, gradient descent
          finds W = [0.100, 0.200], b = 0.300.
  Both follow the article's four steps: random start → loss → adjust → repeat.

Run / 运行
  python 01_linear_fit.py            几秒钟 / a few seconds on a laptop CPU

Expected / 预期结果
  第 200 步 W = [0.100, 0.200]，b = 0.300；图片 outputs/01_house_prices.png
  step 200: W = [0.100, 0.200], b = 0.300, and a plot in outputs/01_house_prices.png

TF1 → TF2 (the article's code vs. this file)
  tf.placeholder / feed_dict          → plain tensors, passed as function arguments
  tf.initialize_all_variables()       → gone: a tf.Variable holds its value from creation
  sess = tf.Session(); sess.run(...)  → gone: code runs eagerly; @tf.function compiles a graph
  optimizer.minimize(loss)            → tf.GradientTape records, tape.gradient gives d(loss)/dW
  xrange(201)                         → range(201) (Python 3)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import numpy as np

parser = common.make_parser(__doc__)
parser.add_argument("--steps", type=common.positive_int, default=201,
                    help="第二部分梯度下降的步数 / gradient steps in part 2")
parser.add_argument("--lr", type=common.positive_float, default=0.5,
                    help="第二部分的学习率 / learning rate in part 2")
common.add_common_args(parser, seed=0)
args = common.parse_args(parser)

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import tensorflow as tf  # noqa: E402

common.set_seed(args.seed)
plt = common.plt_headless()

# %% 第一部分：房价与直线 / Part 1: house prices (文章 二.2)
print("== 第一部分：房价 = a × 面积 + b / Part 1: price = a * area + b ==")
area = np.array([50, 58, 65, 72, 80, 88, 93, 101, 110], dtype=np.float32)    # m²
price = np.array([50, 60, 66, 75, 84, 90, 95, 106, 113], dtype=np.float32)  # 万元

# Areas are ~100, so gradients for `a` are ~100x those for `b`; measuring area in
# hundreds of m² keeps both on one scale and plain gradient descent converges quickly.
x100 = tf.constant(area / 100)
a = tf.Variable(0.0)
b = tf.Variable(0.0)


@tf.function
def house_step(lr=tf.constant(0.5)):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(a * x100 + b - price))  # 均方误差
    grad_a, grad_b = tape.gradient(loss, [a, b])
    a.assign_sub(lr * grad_a)
    b.assign_sub(lr * grad_b)
    return loss


for step in range(2000):
    loss = house_step()
a_per_m2 = a.numpy() / 100  # back to 万元 per m²
print(f"学到的直线 / learned: 房价 price = {a_per_m2:.3f} × 面积 area {b.numpy():+.2f}"
      f"   (均方误差 / mean squared error {loss:.2f})")
for known in (50, 93):
    print(f"  {known} m² -> {a_per_m2 * known + b.numpy():.1f} 万")
predicted = a_per_m2 * 81.5 + b.numpy()
print(f"预测 / prediction: 81.5 m² -> {predicted:.1f} 万")

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(area, price, label="known sales")
line_x = np.linspace(45, 115, 2)
ax.plot(line_x, a_per_m2 * line_x + b.numpy(), "g-", label=f"f(x) = {a_per_m2:.3f}x {b.numpy():+.2f}")
ax.scatter([81.5], [predicted], c="red", marker="*", s=200, label=f"81.5 m² -> {predicted:.1f} (10k yuan)")
ax.set_xlabel("area (m²)")
ax.set_ylabel("price (10k yuan)")
ax.legend()
common.save_figure(fig, "01_house_prices", args.out_dir)

# %% 第二部分：TensorFlow 的第一个程序 / Part 2: the plane (文章 三.3)
print("\n== 第二部分：y = W·x + b，TensorFlow 的第一个程序 / Part 2: TensorFlow's first program ==")

# %% 1. 准备数据 / Data: 100 random points (x1, x2) and their y on the plane we want to recover
x_data = np.random.rand(2, 100).astype(np.float32)
y_data = np.dot([0.100, 0.200], x_data) + 0.300

# %% 2. 模型 / Model with a random start (文章: 随机初始化): W ~ uniform(-1, 1), b = 0
W = tf.Variable(tf.random.uniform([1, 2], -1.0, 1.0))
bias = tf.Variable(tf.zeros([1]))


# %% 3-4. 损失与调整 / Loss (mean squared error) and one gradient-descent step, compiled by tf.function
@tf.function
def train_step(lr):
    with tf.GradientTape() as tape:
        y = tf.matmul(W, x_data) + bias
        loss = tf.reduce_mean(tf.square(y - y_data))
    dW, db = tape.gradient(loss, [W, bias])
    W.assign_sub(lr * dW)
    bias.assign_sub(lr * db)
    return loss


# %% 5. 迭代 / Repeat (文章: 迭代), printing like the article: step, W, b
def show(step):
    w1, w2 = W.numpy()[0]
    print(f"第 {step:3d} 步 / step {step:3d}  W = [{w1:.3f}, {w2:.3f}]  b = {bias.numpy()[0]:.3f}")


lr = tf.constant(args.lr)
show(0)
for step in range(1, args.steps):
    loss = train_step(lr)
    if step % 20 == 0:
        show(step)

w1, w2 = W.numpy()[0]
print(f"结果 / final: W = [{w1:.3f}, {w2:.3f}], b = {bias.numpy()[0]:.3f}"
      f"   (目标 / target: W = [0.100, 0.200], b = 0.300)")
common.save_results("01_linear_fit", common.output_dir(args.out_dir), price_per_m2=float(a_per_m2),
                    price_offset=float(b.numpy()), predicted_81_5=float(predicted), W=[float(w1), float(w2)],
                    b=float(bias.numpy()[0]), steps=args.steps, lr=args.lr, seed=args.seed)
