"""07's trained CIFAR-10 network, read the way 08 (evaluation) and 10 (the web app) both need it.

    model = read_network(train_dir)                 # model.json: the network 07 built
    step, minutes = restore(model, checkpoint_path)  # every weight from the checkpoint, checked
    x = scaled_as_trained(train_dir, pixels)        # raw 0-255 pixels (older runs: scaled here)
    probabilities = average_over_views(predict, x, "flip-shift")  # test-time augmentation

It imports TensorFlow: import it after the flags.
"""
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import layers  # noqa: F401  (registers the layers of 07's tutorial model for model.json)
from .checkpoints import restore_every_weight
from .errors import fail

CLASSES_ZH = {"airplane": "飞机", "automobile": "汽车", "bird": "鸟", "cat": "猫", "deer": "鹿",
              "dog": "狗", "frog": "青蛙", "horse": "马", "ship": "船", "truck": "卡车"}


def read_network(train_dir):
    """The network as 07 described it in model.json (it scales raw pixels itself); no weights yet.
    07's ShiftOnlyBatchNorm is read as Keras's BatchNormalization(scale=False): the same arithmetic
    and the same weights (shift, moving mean, moving variance), without 07's code."""
    train_dir = Path(train_dir)
    try:
        config = json.loads((train_dir / "model.json").read_text(encoding="utf-8"))
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "ShiftOnlyBatchNorm":
                layer.update(module="keras.layers", class_name="BatchNormalization", registered_name=None)
                layer["config"].update(center=True, scale=False)
        return keras.models.model_from_json(json.dumps(config))
    except FileNotFoundError:
        fail(f"还没有训练好的模型，请先运行 07 / no trained model in {train_dir}: run 07_cifar10_train.py first (or pass --train-dir)")
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        fail(f"模型描述文件已损坏 / {train_dir}/model.json is damaged ({error}); run 07 with --fresh")


def scaled_as_trained(train_dir, pixels):
    """Raw pixels, unless the run is from an older 07, which scaled them outside the model."""
    norm_path = Path(train_dir) / "normalization.json"
    if not norm_path.is_file():
        return pixels
    try:
        norm = json.loads(norm_path.read_text(encoding="utf-8"))
        return (pixels / 255 - np.array(norm["mean"], np.float32)) / np.array(norm["std"], np.float32)
    except (ValueError, TypeError, KeyError) as error:
        fail(f"{norm_path} 已损坏 / is damaged ({error}); run 07 with --fresh")


def restore(model, checkpoint_path):
    """Load the checkpoint's weights into `model`; return (step, minutes of training)."""
    train_seconds = tf.Variable(0.0, dtype=tf.float64)
    checkpoint = tf.train.Checkpoint(model=model, train_seconds=train_seconds)
    restore_every_weight(checkpoint, checkpoint_path, "delete it or run 07 with --fresh", partial=True)
    return int(checkpoint_path.rsplit("-", 1)[-1]), float(train_seconds.numpy()) / 60


def tta_views(x, tta):
    """[(images, weight), ...]: the views of a batch `x` whose predictions are averaged."""
    # The mirror image, and the image moved by a pixel, are equally good views of the same object.
    views = {"none": [(x, 1)], "flip": [(x, 0.5), (x[:, :, ::-1], 0.5)]}.get(tta)
    if views is None:  # flip-shift: the padded copy (120 MB for the test set) only when it is used
        padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
        views = [(x, 0.25), (x[:, :, ::-1], 0.25)] + [
            (view, 0.125) for moved in (padded[:, :32, :32], padded[:, 2:, 2:]) for view in (moved, moved[:, :, ::-1])]
    return views


def average_over_views(predict, x, tta):
    """Class probabilities of each image in `x`, averaged over its views; predict(images) → logits."""
    return sum(weight * tf.nn.softmax(predict(view)).numpy() for view, weight in tta_views(x, tta))
