"""Test accuracy after every epoch, and training seconds with the evaluation left out (04 and
bench/mnist_speed.py's peer: both recipes are timed by this one piece of code).

It imports Keras, so import it after the flags.
"""
import time

import keras


class EpochReport(keras.callbacks.Callback):
    """After each epoch: test accuracy and the seconds spent training so far (evaluation excluded)."""

    def __init__(self, x_test, y_test):
        super().__init__()
        self.x_test, self.y_test, self.curve, self.seconds = x_test, y_test, [], []

    def on_train_begin(self, logs=None):
        self.start, self.evaluating = time.perf_counter(), 0.0

    def on_epoch_end(self, epoch, logs=None):
        started = time.perf_counter()
        training_time = started - self.start - self.evaluating
        predicted = self.model.predict(self.x_test, batch_size=1000, verbose=0).argmax(axis=1)
        accuracy = float((predicted == self.y_test).mean())
        self.curve.append(accuracy)
        self.seconds.append(training_time)
        print(f"第 {epoch + 1} 轮 / epoch {epoch + 1}：测试准确率 / test accuracy {accuracy:.4f}，"
              f"训练用时 / training time {training_time:.1f} s", flush=True)
        self.evaluating += time.perf_counter() - started
