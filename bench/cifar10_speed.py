"""Benchmark: CIFAR-10 test accuracy against training time, 07's default vs. the article's tutorial.

Both recipes are trained by 07_cifar10_train.py itself: the default (--model resnet) and
TensorFlow 1's official tutorial network and recipe (--model tutorial; its facts are in 07).

Steps (one after the other, same machine):
  1. 07 with its default settings into outputs/bench_cifar10 (fresh); it keeps one checkpoint
     every 10 minutes.
  2. 07 --model tutorial into outputs/bench_cifar10_tutorial for the same number of training
     minutes (or --old-minutes), keeping one checkpoint every --eval-every minutes.
  3. Every kept checkpoint of both is evaluated with 08 (flip TTA, as 08 does by default; the
     minutes are training minutes, read from the checkpoint). A table: both curves side by
     side (each at its own minutes), and minutes to reach 80%.

Run (a benchmark, not a test; takes 2× the training time, ≈2 hours on a 2-core CPU):
  TFDEMOS_DATA_DIR=../shared/data python bench/cifar10_speed.py
  TFDEMOS_DATA_DIR=../shared/data python bench/cifar10_speed.py --skip-07 --old-minutes 20
"""
import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "outputs" / "bench_cifar10"
TUTORIAL_DIR = ROOT / "outputs" / "bench_cifar10_tutorial"


def run(command):
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, text=True, encoding="utf-8", capture_output=True)
    if result.returncode != 0:
        sys.exit(f"failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def evaluate_all(train_dir, data):
    """(training minutes, step, accuracy) for every kept checkpoint, read from 08's results JSON."""
    sys.path.insert(0, str(ROOT))
    import common
    curve = []
    for index in sorted(train_dir.glob("ckpt-*.index"), key=lambda p: int(p.stem.split("-")[1])):
        run([sys.executable, "08_cifar10_eval.py", "--train-dir", str(train_dir), "--checkpoint",
             str(index.with_suffix("")), "--out-dir", str(ROOT / "outputs" / "bench"), *data])
        result = common.load_results(ROOT / "outputs" / "bench" / "08_cifar10_eval.json")
        curve.append((result["minutes"], result["step"], result["accuracy"]))
        print(f"  {train_dir.name}: {curve[-1][0]:5.1f} min, step {curve[-1][1]}: accuracy {curve[-1][2]:.3f}",
              flush=True)
    if not curve:
        sys.exit(f"no checkpoints in {train_dir}")
    return curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-07", action="store_true", help="reuse an earlier default run in outputs/bench_cifar10")
    parser.add_argument("--skip-tutorial", action="store_true", help="reuse an earlier tutorial run")
    parser.add_argument("--old-minutes", type=float, default=None, help="tutorial budget (default: 07's time)")
    parser.add_argument("--eval-every", type=float, default=10, help="minutes between kept tutorial checkpoints")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    data = ["--data-dir", args.data_dir] if args.data_dir else []
    if not args.skip_07:
        run([sys.executable, "07_cifar10_train.py", "--fresh", "--train-dir", str(TRAIN_DIR),
             "--seed", str(args.seed), *data])
    ours = evaluate_all(TRAIN_DIR, data)
    if not args.skip_tutorial:
        minutes = args.old_minutes or ours[-1][0]
        run([sys.executable, "07_cifar10_train.py", "--model", "tutorial", "--fresh", "--train-dir",
             str(TUTORIAL_DIR), "--minutes", str(minutes), "--epochs", "10000", "--keep-every-min",
             str(args.eval_every), "--seed", str(args.seed), *data])
    old = evaluate_all(TUTORIAL_DIR, data)

    def time_to(curve, target=0.80):
        return next((f"{m:.1f} min" for m, _, acc in curve if acc >= target), "not reached")

    # Each column keeps its own measurement times: the two runs' checkpoints do not fall on the
    # same minutes.
    print("\n| 07 default (resnet): minutes → accuracy | 07 --model tutorial: minutes → accuracy |")
    print("|---|---|")
    for i in range(max(len(ours), len(old))):
        cells = [f"{c[i][0]:.1f} → {c[i][2]:.3f}" if i < len(c) else "" for c in (ours, old)]
        print(f"| {cells[0]} | {cells[1]} |")
    print(f"| 80% first reached: {time_to(ours)} | 80% first reached: {time_to(old)} |")


if __name__ == "__main__":
    main()
