"""08 · CIFAR-10 评估 / Evaluate CIFAR-10 checkpoints (文章 六.1, cifar10_eval.py)

What it shows
  Restores the newest checkpoint that 07_cifar10_train.py wrote and measures it on all 10,000
  test images: overall accuracy, accuracy per class, a confusion matrix and a grid of test
  images with predicted / true labels (PNG). Test-time augmentation: each image is also seen
  mirrored, and both moved one pixel up-left and down-right (6 views, airbench's choice), and
  the predictions averaged (--tta flip: 2 views; --tta none: the image alone).

Run
  python 08_cifar10_eval.py                     evaluate the latest checkpoint once
  python 08_cifar10_eval.py --watch --cpu       evaluate each new checkpoint while 07 trains
                                                (--cpu keeps it off the trainer's GPU)
Expected
  step 528: accuracy @ 1 = 0.89x (07's default run)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import argparse
import json
import os
import time
from pathlib import Path

from common import fail

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--train-dir", default=None, help="where 07 writes checkpoints (default outputs/cifar10_train)")
parser.add_argument("--watch", action="store_true", help="evaluate every new checkpoint until Ctrl-C")
parser.add_argument("--interval", type=common.positive_float, default=60, help="with --watch: seconds between looks")
parser.add_argument("--max-evals", type=common.positive_int, default=None, help="with --watch: stop after N evaluations")
parser.add_argument("--cpu", action="store_true", help="hide GPUs (leave them to the trainer)")
parser.add_argument("--checkpoint", default=None, help="evaluate this checkpoint (ckpt-N path) instead of the latest")
parser.add_argument("--tta", choices=["none", "flip", "flip-shift"], default="flip-shift",
                    help="test-time augmentation: flip-shift (6 views, default), flip (2), none")
parser.add_argument("--no-tta", action="store_const", const="none", dest="tta", help="same as --tta none")
parser.add_argument("--max-test", type=common.positive_int, default=None, help="use only N test images (quick tries)")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out-dir", default=None)
args = parser.parse_args()
if args.cpu:
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # must happen before TensorFlow starts

import numpy as np  # noqa: E402

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402

import common.layers  # noqa: E402,F401  (registers the layers of 07's tutorial model for model.json)
import tensorflow as tf  # noqa: E402

train_dir = Path(args.train_dir or common.SCRIPTS_DIR / "outputs" / "cifar10_train")
out = common.output_dir(args.out_dir)


# %% 1. 模型与测试数据 / The model as 07 described it, and the test set scaled as 07 scaled its
#    training images. Read once, and only after a checkpoint is known to exist.
def prepare():
    try:
        model = keras.models.model_from_json((train_dir / "model.json").read_text(encoding="utf-8"))
        norm = json.loads((train_dir / "normalization.json").read_text(encoding="utf-8"))
        mean, std = np.array(norm["mean"], np.float32), np.array(norm["std"], np.float32)
    except FileNotFoundError:
        fail(f"还没有训练好的模型，请先运行 07 / no trained model in {train_dir}: run 07_cifar10_train.py first (or pass --train-dir)")
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        fail(f"模型描述文件已损坏 / {train_dir}/model.json or normalization.json is damaged ({error}); run 07 with --fresh")
    files = common.cifar10_files(args.data_dir)
    images, labels = common.read_cifar10_bin(files["test"])
    images, labels = images[:args.max_test], labels[:args.max_test].astype(np.int64)
    return model, images, labels, (images.astype(np.float32) / 255 - mean) / std


# %% 2. 评估 / Evaluate one checkpoint: accuracy, per class, confusion matrix, examples
def evaluate(model, test_images, test_labels, x, checkpoint_path):
    train_seconds = tf.Variable(0.0, dtype=tf.float64)
    checkpoint = tf.train.Checkpoint(model=model, train_seconds=train_seconds)
    try:
        # Every weight of the model must come from the file (a silent partial restore would evaluate noise).
        checkpoint.restore(checkpoint_path).expect_partial().assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError, IndexError, KeyError, RuntimeError) as error:
        fail(f"检查点读不出来 / checkpoint {checkpoint_path} could not be read ({type(error).__name__}: "
             f"{str(error).splitlines()[0][:200]}); delete it or run 07 with --fresh")
    step = int(checkpoint_path.rsplit("-", 1)[-1])
    # The mirror image, and the image moved by a pixel, are equally good views of the same object.
    views = {"none": [(x, 1)], "flip": [(x, 0.5), (x[:, :, ::-1], 0.5)]}.get(args.tta)
    if views is None:  # flip-shift: the padded copy (120 MB for the test set) only when it is used
        padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
        views = [(x, 0.25), (x[:, :, ::-1], 0.25)] + [
            (view, 0.125) for moved in (padded[:, :32, :32], padded[:, 2:, 2:]) for view in (moved, moved[:, :, ::-1])]
    probabilities = sum(weight * tf.nn.softmax(model.predict(view, batch_size=500, verbose=0)).numpy()
                        for view, weight in views)
    predicted = probabilities.argmax(axis=1)
    accuracy = float((predicted == test_labels).mean())
    print(f"{time.strftime('%H:%M:%S')}: step {step}: accuracy @ 1 = {accuracy:.3f} "
          f"({len(test_labels):,} test images, TTA {args.tta}; "
          f"{float(train_seconds.numpy()) / 60:.1f} min of training)", flush=True)

    # Per-class accuracy table and confusion matrix: which classes get mixed up.
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (test_labels, predicted), 1)
    print("class        accuracy")
    per_class = {}
    for i, name in enumerate(common.CIFAR10_CLASSES):
        total = confusion[i].sum()
        per_class[name] = float(confusion[i, i] / total) if total else None
        print(f"  {name:<10} {confusion[i, i] / total:.3f}" if total else f"  {name:<10} -")
    common.save_results("08_cifar10_eval", out, step=step, accuracy=accuracy, per_class=per_class,
                        minutes=float(train_seconds.numpy()) / 60, test_images=len(test_labels),
                        tta=args.tta, checkpoint=checkpoint_path, confusion=confusion)
    plt = common.plt_headless()
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(10), common.CIFAR10_CLASSES, rotation=60)
    ax.set_yticks(range(10), common.CIFAR10_CLASSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (r, c), count in np.ndenumerate(confusion):
        ax.text(c, r, count, ha="center", va="center", fontsize=7,
                color="white" if count > confusion.max() / 2 else "black")
    ax.set_title(f"CIFAR-10 confusion matrix, step {step}, accuracy {accuracy:.3f}")
    common.save_figure(fig, "08_cifar10_confusion", out)

    fig, axes = plt.subplots(4, 6, figsize=(9, 7))
    for i, ax in enumerate(axes.flat):
        if i >= len(test_labels):
            ax.axis("off")
            continue
        ax.imshow(test_images[i])
        right = predicted[i] == test_labels[i]
        ax.set_title(f"{common.CIFAR10_CLASSES[predicted[i]]}\n(true: {common.CIFAR10_CLASSES[test_labels[i]]})",
                     fontsize=8, color="green" if right else "red")
        ax.axis("off")
    common.save_figure(fig, "08_cifar10_examples", out)
    return accuracy


# %% 3. 一次，或每个新检查点 / Once, or every new checkpoint (--watch)
def latest():
    # `checkpoint` is rewritten only after a checkpoint's files are complete: never half-written.
    return tf.train.latest_checkpoint(str(train_dir))


if not args.watch:
    path = args.checkpoint or latest()
    if args.checkpoint and not (Path(path + ".index").is_file() and path.rsplit("-", 1)[-1].isdigit()):
        fail(f"--checkpoint {path}: 不是检查点 / not a checkpoint (expected a path like "
             f"{train_dir / 'ckpt-600'}, with a ckpt-600.index file beside it)")
    if path is None:
        fail(f"还没有检查点，请先运行 07 / no checkpoint in {train_dir} yet: run 07_cifar10_train.py first (or pass --train-dir)")
    evaluate(*prepare(), path)
    raise SystemExit(0)

print(f"watching {train_dir} every {args.interval:g} s (Ctrl-C to stop)", flush=True)
seen, evaluations, prepared = None, 0, None
try:
    while args.max_evals is None or evaluations < args.max_evals:
        path = latest()
        if path is not None and path != seen:
            prepared = prepared or prepare()
            evaluate(*prepared, path)
            seen, evaluations = path, evaluations + 1
            continue
        time.sleep(args.interval)
except KeyboardInterrupt:
    print("stopped (Ctrl-C)")
    raise SystemExit(130)
