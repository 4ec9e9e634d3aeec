"""Stop training at the first NaN/Inf with a message that says where and why.

The article checked for NaN with the trick `x != x` (NaN is the only value not equal to
itself). `math.isfinite` does the same and also catches +-Inf, which usually comes
one step before the NaN.
"""
import math

import keras

from .errors import NanLossError

USUAL_CAUSES_ZH = (
    "常见原因：(1) 输入没有归一化（很大的原始数值让 softmax/exp 溢出）→ 先缩放（除以 255、min-max 或 "
    "z-score）；(2) 手写交叉熵 -sum(y*log(y)) 里出现 log(0) → 改用 tf.nn.softmax_cross_entropy_with_logits；"
    "(3) 学习率太大 → 调小 --lr")
USUAL_CAUSES = (
    "usual causes: (1) unscaled inputs (large raw values overflow softmax/exp) -> scale them "
    "(divide by 255, min-max or z-score); (2) log(0) in a hand-written cross-entropy "
    "-sum(y_true*log(y)) -> use tf.nn.softmax_cross_entropy_with_logits; "
    "(3) learning rate too high -> lower --lr")


class NanGuard:
    """For a hand-written training loop: call `check(step, loss, rows=...)` after each step."""

    def __init__(self, hint=""):
        self.hint = hint
        self.last_finite_loss, self.last_finite_step = None, None

    def check(self, step, loss, rows=None):
        loss_value = float(loss)
        if math.isfinite(loss_value):  # the article's `loss != loss`, plus Inf
            self.last_finite_loss, self.last_finite_step = loss_value, step
            return
        raise NanLossError(self.describe(f"loss is {loss_value}", step, rows))

    def describe(self, problem, step, rows):
        where = f"step {step}"
        if rows is not None:
            where += f", batch = rows {rows[0]}..{rows[1] - 1}"
        if self.last_finite_loss is None:
            last = "no finite loss before it"
        else:
            last = f"last finite loss {self.last_finite_loss:.6g} at step {self.last_finite_step}"
        hint = f" {self.hint}" if self.hint else ""
        return (f"NaN 守卫：训练在第 {step} 步出现了 NaN/Inf，已停止。{USUAL_CAUSES_ZH}。\n"
                f"NaN guard: {problem} at {where} ({last}). {USUAL_CAUSES}.{hint}")


class NanGuardCallback(keras.callbacks.Callback):
    """The same guard for `model.fit`: raises NanLossError at the first non-finite batch loss.

    Rows are positions in that epoch's (shuffled) order. With steps_per_execution > 1 Keras
    reports once per group of batches, so the batch named is the last of its group.
    """

    def __init__(self, batch_size, hint=""):
        super().__init__()
        self.guard, self.batch_size, self.epoch = NanGuard(hint=hint), batch_size, 0
        self.global_step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.global_step += 1
        if logs and "loss" in logs:
            rows = (batch * self.batch_size, (batch + 1) * self.batch_size)
            try:
                self.guard.check(f"{self.global_step} (epoch {self.epoch + 1}, batch {batch})",
                                 logs["loss"], rows=rows)
            except NanLossError:
                self.model.stop_training = True
                raise
