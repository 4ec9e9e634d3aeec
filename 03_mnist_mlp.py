"""03 · MNIST 前馈神经网络 / MNIST with a feed-forward network (文章 四, "97%")

What it shows
  The step after softmax regression: hidden layers with ReLU between the pixels and the
  softmax, written with Keras 3. Dropout keeps the net from memorising the training set;
  the learning rate falls smoothly (cosine) so the last epochs polish the weights.

Run / 运行
  python 03_mnist_mlp.py                     半分钟左右 / about half a minute on a 2-core CPU

Expected / 预期结果
  测试准确率 0.98xx（文章的前馈网络：97%）
  test accuracy: 0.98xx (the article's feed-forward version: 97%)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import math
import time

import numpy as np

parser = common.make_parser(__doc__)
parser.add_argument("--epochs", type=common.positive_int, default=8,
                    help="训练几轮（每轮用完全部训练图片一次） / passes over the training images")
parser.add_argument("--batch-size", type=common.positive_int, default=128, help="每批的图片数 / images per batch")
parser.add_argument("--lr", type=common.positive_float, default=2e-3,
                    help="Adam 的最大学习率（之后按余弦下降） / peak Adam learning rate (then cosine decay)")
parser.add_argument("--hidden", type=common.positive_int, default=512,
                    help="两个隐藏层各有多少个单元 / units in each of the two hidden layers")
parser.add_argument("--max-train", type=common.positive_int, default=None,
                    help="只用前 N 张训练图片（快速试一试；默认全部） / "
                         "use only N training images (quick tries; default: all)")
common.add_common_args(parser)
args = common.parse_args(parser)

# %% 1. 准备数据 / Data: pixels scaled to [0, 1] (unscaled 0-255 inputs are the classic cause of NaN)
(x_train, y_train), (x_test, y_test) = common.load_mnist(args.data_dir)
x_train = x_train[:args.max_train].reshape(-1, 784).astype(np.float32) / 255
y_train = y_train[:args.max_train]
x_test = x_test.reshape(-1, 784).astype(np.float32) / 255

# TensorFlow comes after the flags and the data (--help, typos and a damaged file answer at
# once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402

common.set_seed(args.seed)
plt = common.plt_headless()

# %% 2. 模型 / Model: 784 → 512 → 512 → 10. Each hidden layer is many softmax-regression-like units
#    followed by ReLU, which lets the net combine simple strokes into digit shapes.
model = keras.Sequential([
    keras.Input((784,)),
    keras.layers.Dense(args.hidden, activation="relu"),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(args.hidden, activation="relu"),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(10),  # logits; softmax is inside the loss (numerically stable)
])

# %% 3. 损失函数与优化器 / Loss and optimizer: cross-entropy on integer labels, Adam with cosine decay
steps_per_epoch = int(np.ceil(len(x_train) / args.batch_size))
schedule = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=args.epochs * steps_per_epoch)
model.compile(optimizer=keras.optimizers.Adam(schedule),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"],
              # fewer Python round trips per batch: faster on small CPUs (at most one pass over the
              # smaller set: Keras 3.3 runs out of data otherwise)
              steps_per_execution=min(10, steps_per_epoch, math.ceil(len(x_test) / args.batch_size)))


# %% 4. 训练 / Train, printing the test accuracy after every epoch (文章: "每 50 步打印一次准确率")
class PrintTestAccuracy(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print(f"第 {epoch + 1} 轮 / epoch {epoch + 1}（第 {(epoch + 1) * steps_per_epoch} 步 / step）："
              f"损失 loss {logs['loss']:.4f}  测试准确率 / test accuracy {logs['val_accuracy']:.4f}", flush=True)


# A NaN loss stops training with where and why (exit 1); Keras's own keras.callbacks.TerminateOnNaN() just stops.
nan_guard = common.NanGuardCallback(args.batch_size)
start = time.time()
history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                    validation_data=(x_test, y_test), verbose=0, callbacks=[PrintTestAccuracy(), nan_guard])
train_seconds = time.time() - start
print(f"训练 {args.epochs} 轮，用时 {train_seconds:.1f} 秒 / trained {args.epochs} epochs in {train_seconds:.1f} s")

# %% 5. 验证 / Verify: curve, a few predictions, saved model, final accuracy
out = common.output_dir(args.out_dir)
fig, ax = plt.subplots(figsize=(6, 3.5))
epochs = range(1, args.epochs + 1)
ax.plot(epochs, history.history["accuracy"], label="train (with dropout)")
ax.plot(epochs, history.history["val_accuracy"], label="test")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy")
ax.legend()
ax.grid(True)
common.save_figure(fig, "03_mnist_mlp_curve", out)

probabilities = keras.ops.softmax(model.predict(x_test[:3], verbose=0)).numpy()
for i in range(3):
    print(f"第 {i} 张测试图片（标签 {y_test[i]}）/ image {i} (label {y_test[i]}): "
          f"预测 / predicted {probabilities[i].argmax()} ({probabilities[i].max():.1%})")
common.save_keras_model(model, out / "03_mnist_mlp.keras")
print(f"已保存模型 / saved model: {out / '03_mnist_mlp.keras'}")
_, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
common.save_results("03_mnist_mlp", out, test_accuracy=test_accuracy, curve=history.history["val_accuracy"],
                    train_seconds=train_seconds, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    hidden=args.hidden, seed=args.seed)
print(f"测试准确率 / test accuracy: {test_accuracy:.4f}")
