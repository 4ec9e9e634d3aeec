"""08 · CIFAR-10 评估 / Evaluate CIFAR-10 checkpoints (文章 六.1, cifar10_eval.py)

What it shows
  Restores the newest checkpoint that 07_cifar10_train.py wrote and measures it on all 10,000
  test images: overall accuracy, accuracy per class, a confusion matrix and a grid of test
  images with predicted / true labels (PNG). Test-time augmentation: each image is also seen
  mirrored, and both moved one pixel up-left and down-right (6 views, airbench's choice), and
  the predictions averaged (--tta flip: 2 views; --tta none: the image alone).

Run / 运行
  python 08_cifar10_eval.py                     评估最新的检查点一次 / evaluate the latest checkpoint once
  python 08_cifar10_eval.py --export            再把模型导出给应用程序用（.keras、SavedModel、LiteRT）
                                                also export the model for applications (.keras, SavedModel, LiteRT)
  python 08_cifar10_eval.py --watch --cpu       07 训练时，每出一个新检查点就评估一次（--cpu 不占训练用的 GPU）
                                                evaluate each new checkpoint while 07 trains
                                                (--cpu keeps it off the trainer's GPU)

Expected / 预期结果
  第 528 步 / step 528: 准确率 / accuracy @ 1 = 0.89x（07 的默认配置 / 07's default run）
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import os
import time
from pathlib import Path

from common import fail

parser = common.make_parser(__doc__)
parser.add_argument("--train-dir", default=None,
                    help="07 写检查点的文件夹（默认 outputs/cifar10_train）/ "
                         "where 07 writes checkpoints (default: outputs/cifar10_train)")
parser.add_argument("--watch", action="store_true",
                    help="每出一个新检查点就评估一次，直到 Ctrl-C / evaluate every new checkpoint until Ctrl-C")
parser.add_argument("--interval", type=common.positive_float, default=60,
                    help="配合 --watch：每隔几秒看一次 / with --watch: seconds between looks")
parser.add_argument("--max-evals", type=common.positive_int, default=None,
                    help="配合 --watch：评估 N 次后停止 / with --watch: stop after N evaluations")
parser.add_argument("--cpu", action="store_true",
                    help="不用 GPU（留给训练）/ hide GPUs (leave them to the trainer)")
parser.add_argument("--checkpoint", default=None,
                    help="评估这个检查点（ckpt-N 路径），而不是最新的 / "
                         "evaluate this checkpoint (ckpt-N path) instead of the latest")
parser.add_argument("--tta", choices=["none", "flip", "flip-shift"], default="flip-shift",
                    help="测试时增强：flip-shift（6 个视角）、flip（2 个）、none / "
                         "test-time augmentation: flip-shift (6 views), flip (2), none")
parser.add_argument("--no-tta", action="store_const", const="none", dest="tta",
                    help="等于 --tta none / same as --tta none")
parser.add_argument("--export", action="store_true",
                    help="评估后导出：只用 Keras 自带层的 .keras、SavedModel（TF Serving）、LiteRT（float32 和 int8） / "
                         "after evaluating, export: a .keras of Keras's own layers, a SavedModel (TF Serving), "
                         "LiteRT (float32 and int8)")
parser.add_argument("--max-test", type=common.positive_int, default=None,
                    help="只用前 N 张测试图片（快速试一试）/ use only N test images (quick tries)")
parser.add_argument("--data-dir", default=None,
                    help="数据文件夹（默认：环境变量 TFDEMOS_DATA_DIR，否则脚本旁的 data/） / "
                         "data folder (default: $TFDEMOS_DATA_DIR, else data/ beside the scripts)")
parser.add_argument("--out-dir", default=None,
                    help="结果和图片写到这里（默认 outputs/）/ where results and figures go (default: outputs/)")
args = common.parse_args(parser)
if args.export and args.watch:
    parser.error("--export 和 --watch 不能一起用 / --export and --watch do not go together: export once, without --watch")
if args.cpu:
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # must happen before TensorFlow starts

import numpy as np  # noqa: E402

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

# Reading 07's network and checkpoints, and the TTA views: shared with 10_web_app.py.
from common.cifar10_model import CLASSES_ZH, average_over_views, read_network, restore, scaled_as_trained  # noqa: E402

train_dir = Path(args.train_dir or common.SCRIPTS_DIR / "outputs" / "cifar10_train")
out = common.output_dir(args.out_dir)


# %% 1. 模型与测试数据 / The network as 07 described it (it scales raw pixels itself), and the
#    test set. Read once, and only after a checkpoint is known to exist.
def prepare():
    model = read_network(train_dir)
    files = common.cifar10_files(args.data_dir)
    images, labels = common.read_cifar10_bin(files["test"])
    images, labels = images[:args.max_test], labels[:args.max_test].astype(np.int64)
    return model, images, labels, scaled_as_trained(train_dir, images.astype(np.float32))


# %% 2. 评估 / Evaluate one checkpoint: accuracy, per class, confusion matrix, examples
def evaluate(model, test_images, test_labels, x, checkpoint_path):
    step, minutes = restore(model, checkpoint_path)  # every weight, checked (common/cifar10_model.py)
    # Test-time augmentation: the image, mirrored, moved a pixel; their predictions averaged.
    probabilities = average_over_views(lambda view: model.predict(view, batch_size=500, verbose=0), x, args.tta)
    predicted = probabilities.argmax(axis=1)
    accuracy = float((predicted == test_labels).mean())
    print(f"{time.strftime('%H:%M:%S')}: 第 {step} 步 / step {step}: 准确率 / accuracy @ 1 = {accuracy:.3f}"
          f"（{len(test_labels):,} 张测试图片 / test images，TTA {args.tta}，"
          f"训练了 {minutes:.1f} 分钟 / min of training）", flush=True)

    # Per-class accuracy table and confusion matrix: which classes get mixed up.
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (test_labels, predicted), 1)
    print("  类别 / class       准确率 / accuracy")
    per_class = {}
    for i, name in enumerate(common.CIFAR10_CLASSES):
        total = confusion[i].sum()
        per_class[name] = float(confusion[i, i] / total) if total else None
        label = f"{CLASSES_ZH[name]:\u3000<2} {name:<10}"  # an ideographic space pads the one-character names
        print(f"  {label} {confusion[i, i] / total:.3f}" if total else f"  {label} -")
    common.save_results("08_cifar10_eval", out, step=step, accuracy=accuracy, per_class=per_class,
                        minutes=minutes, test_images=len(test_labels),
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
    prepared = prepare()
    evaluate(*prepared, path)
else:  # --watch: evaluate each new checkpoint while 07 trains
    print(f"每 {args.interval:g} 秒查看一次 {train_dir}（Ctrl-C 停止）/ "
          f"watching {train_dir} every {args.interval:g} s (Ctrl-C to stop)", flush=True)
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
        print("已停止 / stopped (Ctrl-C)")
        raise SystemExit(130)


# %% 4. 带走模型 / Take the model home (--export): Keras's own layers, then SavedModel and LiteRT
def float32_copy(model):
    """The same network and weights in float32 (a run in bfloat16 keeps float32 weights): read with
    Keras's own layers only (07's ShiftOnlyBatchNorm as BatchNormalization), it loads without this repository."""
    config = model.get_config()
    for layer in config["layers"]:
        layer["config"]["dtype"] = "float32"
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


if args.export:
    model, test_images, test_labels, _ = prepared
    if (train_dir / "normalization.json").is_file():
        fail(f"{train_dir} 是旧版 07 的训练（在模型外缩放像素）/ is a run of an older 07 (pixels scaled outside "
             f"the model): --export needs a newer run: python 07_cifar10_train.py --fresh")
    export_dir = out / "cifar10_export"
    pixels = keras.Input((32, 32, 3), name="pixels")  # 0-255, RGB: what a photo has
    app_model = keras.Model(pixels, keras.layers.Softmax(name="probabilities")(float32_copy(model)(pixels)))
    common.save_keras_model(app_model, out / "cifar10_model.keras")
    from common.export import export_for_apps, litert_predict
    calibration = common.read_cifar10_bin(common.cifar10_files(args.data_dir)["train"][:1])[0][:500]
    files = export_for_apps(app_model, export_dir, "cifar10", calibration=calibration.astype(np.float32))
    x = test_images.astype(np.float32)
    accuracies = {"cifar10_model.keras": float((app_model.predict(x, batch_size=500, verbose=0).argmax(1) == test_labels).mean())}
    accuracies.update({name: float((litert_predict(tflite, x).argmax(1) == test_labels).mean()) for name, tflite in files.items()})
    print(f"导出 / exported: {out / 'cifar10_model.keras'}（只用 Keras 自带的层 / Keras's own layers only）, "
          f"{export_dir}/saved_model/cifar10/1/, LiteRT files\n"
          f"  只看原图（不做测试时增强）的准确率 / accuracy on the image alone (no TTA), {len(x):,} 张 / images:")
    sizes = {"cifar10_model.keras": (out / "cifar10_model.keras").stat().st_size / 1024,
             **{name: len(tflite) / 1024 for name, tflite in files.items()}}
    for name, accuracy in accuracies.items():
        print(f"  {name}：{sizes[name]:,.0f} KB，准确率 / accuracy {accuracy:.4f}")
    common.save_results("08_cifar10_export", out, test_images=len(x),
                        **{name: dict(kb=sizes[name], accuracy=accuracies[name]) for name in accuracies})
