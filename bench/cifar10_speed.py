"""Benchmark: CIFAR-10 test accuracy against training time, 07_cifar10_train.py vs. the old tutorial.

The old recipe is TensorFlow 1's official CIFAR-10 tutorial (cifar10.py), re-implemented from its
published facts: 24×24 random crops, random flip, random brightness (max delta 63) and contrast
(0.2-1.8), per-image standardization; conv 5×5 64 → max-pool 3×3/2 → LRN → conv 5×5 64 → LRN →
max-pool 3×3/2 → FC 384 → FC 192 → 10 (weight decay 0.004 on the FC layers); plain SGD, batch
128, learning rate 0.1 (×0.1 every 350 epochs, i.e. never within an hour). Evaluation: central
24×24 crop, per-image standardization.

Steps (one after the other, same machine):
  1. 07_cifar10_train.py with its default settings into outputs/bench_cifar10 (fresh); it keeps
     one checkpoint every 10 minutes, and each is evaluated afterwards with 08 (flip TTA).
  2. The old recipe for the same number of training minutes (or --old-minutes), its test
     accuracy measured every --eval-every minutes (evaluation time not counted).
  3. A table: both accuracy curves side by side (each at its own measurement minutes), and
     minutes to reach 80%.

Run (a benchmark, not a test; takes 2× the training time, ≈2 hours on a 2-core CPU):
  TFDEMOS_DATA_DIR=../shared/data python bench/cifar10_speed.py
  TFDEMOS_DATA_DIR=../shared/data python bench/cifar10_speed.py --skip-07 --old-minutes 20
"""
import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "outputs" / "bench_cifar10"


def old_recipe(minutes, eval_every, data_dir, seed, log_path):
    """Train the TF1 tutorial's net for `minutes`; append JSON lines (minutes, step, accuracy)."""
    sys.path.insert(0, str(ROOT))
    import common
    import keras
    import tensorflow as tf
    common.set_seed(seed)
    files = common.cifar10_files(data_dir)
    test_x, test_y = common.read_cifar10_bin(files["test"])
    test_x = tf.image.per_image_standardization(tf.image.resize_with_crop_or_pad(test_x, 24, 24))

    def distort(image, label):
        image = tf.image.random_crop(tf.cast(image, tf.float32), [24, 24, 3])
        image = tf.image.random_flip_left_right(image)
        image = tf.image.random_brightness(image, max_delta=63)
        image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
        return tf.image.per_image_standardization(image), label

    data = (common.cifar10_dataset(files["train"]).cache().shuffle(50000, seed=seed).repeat()
            .map(distort, num_parallel_calls=tf.data.AUTOTUNE).batch(128).prefetch(tf.data.AUTOTUNE))

    def lrn(x):
        return tf.nn.local_response_normalization(x, depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)

    decay = keras.regularizers.L2(0.004 / 2)  # TF1's tf.nn.l2_loss has a factor 1/2
    model = keras.Sequential([
        keras.Input((24, 24, 3)),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu",
                            kernel_initializer=keras.initializers.TruncatedNormal(stddev=5e-2)),
        keras.layers.MaxPooling2D(3, strides=2, padding="same"),
        keras.layers.Lambda(lrn),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu", bias_initializer=keras.initializers.Constant(0.1),
                            kernel_initializer=keras.initializers.TruncatedNormal(stddev=5e-2)),
        keras.layers.Lambda(lrn),
        keras.layers.MaxPooling2D(3, strides=2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(384, activation="relu", kernel_regularizer=decay,
                           kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.04),
                           bias_initializer=keras.initializers.Constant(0.1)),
        keras.layers.Dense(192, activation="relu", kernel_regularizer=decay,
                           kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.04),
                           bias_initializer=keras.initializers.Constant(0.1)),
        keras.layers.Dense(10, kernel_initializer=keras.initializers.TruncatedNormal(stddev=1 / 192)),
    ])
    optimizer = keras.optimizers.SGD(0.1)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step_fn(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True)) + tf.add_n(model.losses)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    trained, next_eval, step = 0.0, eval_every * 60, 0
    iterator = iter(data)
    with open(log_path, "w", encoding="utf-8") as log:
        while trained < minutes * 60:
            start = time.perf_counter()
            for _ in range(50):
                step_fn(*next(iterator))
                step += 1
            trained += time.perf_counter() - start
            if trained >= next_eval or trained >= minutes * 60:
                predicted = model.predict(test_x, batch_size=1000, verbose=0).argmax(axis=1)
                accuracy = float((predicted == test_y).mean())
                row = {"minutes": trained / 60, "step": step, "accuracy": accuracy}
                print(f"  old recipe: {trained / 60:5.1f} min, step {step}: accuracy {accuracy:.4f}", flush=True)
                log.write(json.dumps(row) + "\n")
                log.flush()
                next_eval += eval_every * 60


def run(command):
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, text=True, encoding="utf-8", capture_output=True)
    if result.returncode != 0:
        sys.exit(f"failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-07", action="store_true", help="reuse an earlier 07 run in outputs/bench_cifar10")
    parser.add_argument("--old-minutes", type=float, default=None, help="old recipe budget (default: 07's time)")
    parser.add_argument("--eval-every", type=float, default=10, help="minutes between old-recipe evaluations")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--old", nargs=2, metavar=("MINUTES", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.old:
        return old_recipe(float(args.old[0]), args.eval_every, args.data_dir, args.seed, args.old[1])

    data = ["--data-dir", args.data_dir] if args.data_dir else []
    if not args.skip_07:
        run([sys.executable, "07_cifar10_train.py", "--fresh", "--train-dir", str(TRAIN_DIR), *data])
    ours = []
    for index in sorted(TRAIN_DIR.glob("ckpt-*.index"), key=lambda p: int(p.stem.split("-")[1])):
        out = run([sys.executable, "08_cifar10_eval.py", "--train-dir", str(TRAIN_DIR), "--checkpoint",
                   str(index.with_suffix("")), "--out-dir", str(ROOT / "outputs" / "bench"), *data])
        match = re.search(r"step (\d+): accuracy @ 1 = ([\d.]+) .*?([\d.]+) min of training", out)
        ours.append((float(match[3]), int(match[1]), float(match[2])))
        print(f"  07: {ours[-1][0]:5.1f} min, step {ours[-1][1]}: accuracy {ours[-1][2]:.3f}", flush=True)
    if not ours:
        sys.exit(f"no checkpoints in {TRAIN_DIR}")

    minutes = args.old_minutes or ours[-1][0]
    log = ROOT / "outputs" / "bench" / "cifar10_old_recipe.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, __file__, "--old", str(minutes), str(log), "--eval-every",
                    str(args.eval_every), "--seed", str(args.seed), *data], cwd=ROOT, check=True)
    old = [(row["minutes"], row["step"], row["accuracy"])
           for row in map(json.loads, log.read_text(encoding="utf-8").splitlines())]

    def time_to(curve, target=0.80):
        return next((f"{m:.1f} min" for m, _, acc in curve if acc >= target), "not reached")

    # Each column keeps its own measurement times: 07's checkpoints and the old recipe's
    # evaluations do not fall on the same minutes.
    print("\n| 07_cifar10_train.py: minutes → accuracy | old TF1 recipe: minutes → accuracy |")
    print("|---|---|")
    for i in range(max(len(ours), len(old))):
        cells = [f"{c[i][0]:.1f} → {c[i][2]:.3f}" if i < len(c) else "" for c in (ours, old)]
        print(f"| {cells[0]} | {cells[1]} |")
    print(f"| 80% first reached: {time_to(ours)} | 80% first reached: {time_to(old)} |")


if __name__ == "__main__":
    main()
