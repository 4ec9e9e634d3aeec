"""Benchmark: CIFAR-10 test accuracy against training minutes, for each of 07's models and seeds.

Each run is 07_cifar10_train.py itself (fresh, one seed), keeping a checkpoint every
--eval-every minutes of training; then every kept checkpoint is evaluated by 08_cifar10_eval.py
on all 10,000 test images (its default test-time augmentation, 6 views; the minutes are
training minutes, read from the checkpoint). Printed: each run's curve, the minutes at which it
first reached 86% (the official tutorial's figure), 90% and 93%, and per model the median and
range over the seeds. Everything also goes to outputs/bench/cifar10_speed.json.

Runs one after the other (never two at once: they would share the CPU and slow each other).

Run (a benchmark, not a test):
  TFDEMOS_DATA_DIR=../shared/data python bench/cifar10_speed.py                 airbench, seeds 1 2 3 (≈1 h)
  TFDEMOS_DATA_DIR=../shared/data python bench/cifar10_speed.py --models tutorial --seeds 1 --minutes 16
  ... --args "--epochs 8" --seeds 1       more flags for 07 (the runs are named after them)
  ... --skip-train                         evaluate the runs already in outputs/bench_cifar10 again
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS_DIR = ROOT / "outputs" / "bench_cifar10"
TARGETS = (0.86, 0.90, 0.93)


def run(command):
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, text=True, encoding="utf-8", capture_output=True)
    if result.returncode != 0:
        sys.exit(f"failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def evaluate_all(train_dir, data):
    """[(training minutes, step, accuracy)] for every kept checkpoint, read from 08's results JSON."""
    sys.path.insert(0, str(ROOT))
    import common
    curve = []
    for index in sorted(train_dir.glob("ckpt-*.index"), key=lambda p: int(p.stem.split("-")[1])):
        run([sys.executable, "08_cifar10_eval.py", "--train-dir", str(train_dir), "--checkpoint",
             str(index.with_suffix("")), "--out-dir", str(ROOT / "outputs" / "bench"), *data])
        result = common.load_results(ROOT / "outputs" / "bench" / "08_cifar10_eval.json")
        curve.append((result["minutes"], result["step"], result["accuracy"]))
        print(f"  {train_dir.name}: {curve[-1][0]:5.1f} min, step {curve[-1][1]}: accuracy {curve[-1][2]:.4f}",
              flush=True)
    if not curve:
        sys.exit(f"no checkpoints in {train_dir}")
    return curve


def minutes_to(curve, target):
    return next((minutes for minutes, _, accuracy in curve if accuracy >= target), None)


def spread(values):
    """'median (min-max)' of the seeds that got there, and how many did not."""
    reached = [v for v in values if v is not None]
    if not reached:
        return "not reached"
    text = f"{statistics.median(reached):.1f}" + (f" ({min(reached):.1f}-{max(reached):.1f})" if len(reached) > 1 else "")
    return text + (f", {len(values) - len(reached)} of {len(values)} not reached" if len(reached) < len(values) else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["airbench"], choices=["airbench", "airbench94", "tutorial"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop each run after this many training minutes (default: its full schedule; "
                             "the tutorial's 100 epochs take hours, so give it a budget)")
    parser.add_argument("--eval-every", type=float, default=2, help="training minutes between kept checkpoints")
    parser.add_argument("--args", default="", help='more flags for 07, e.g. "--epochs 8" or "--without lookahead"')
    parser.add_argument("--skip-train", action="store_true", help="evaluate the runs already there")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    data = ["--data-dir", args.data_dir] if args.data_dir else []
    results, extra = [], args.args.split()
    for model in args.models:
        for seed in args.seeds:
            train_dir = RUNS_DIR / "-".join([model, *[flag.strip("-") for flag in extra], f"seed{seed}"])
            if not args.skip_train:
                budget = ["--minutes", str(args.minutes)] if args.minutes else []
                # Checkpoints every 24 steps; the manager keeps one per --eval-every minutes of them.
                run([sys.executable, "07_cifar10_train.py", "--model", model, "--fresh", "--seed", str(seed),
                     "--train-dir", str(train_dir), "--save-every", "24", "--keep-every-min", str(args.eval_every),
                     "--log-every", "100", *budget, *extra, *data])
            curve = evaluate_all(train_dir, data)
            results.append({"model": model, "args": args.args, "seed": seed, "curve": curve,
                            "minutes_to": {f"{t:.0%}": minutes_to(curve, t) for t in TARGETS}})

    print("\n## Each run: training minutes → test accuracy (08, 6-view TTA)")
    for r in results:
        points = ", ".join(f"{m:.1f} → {a:.4f}" for m, _, a in r["curve"])
        print(f"- {' '.join([r['model'], r['args']]).strip()} seed {r['seed']}: {points}")
    print("\n| model | seeds | final accuracy | training minutes | minutes to 86% | to 90% | to 93% |")
    print("|---|---|---|---|---|---|---|")
    for model in args.models:
        runs = [r for r in results if r["model"] == model]
        finals = [r["curve"][-1][2] for r in runs]
        final_text = f"{statistics.median(finals):.4f}" + (f" ({min(finals):.4f}-{max(finals):.4f})" if len(finals) > 1 else "")
        minutes = spread([r["curve"][-1][0] for r in runs])
        reach = [spread([r["minutes_to"][f"{t:.0%}"] for r in runs]) for t in TARGETS]
        print(f"| {' '.join([model, *extra])} | {' '.join(str(r['seed']) for r in runs)} | {final_text} | {minutes} | "
              + " | ".join(reach) + " |")
    out = ROOT / "outputs" / "bench" / "cifar10_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(json.dumps(results, indent=1), encoding="utf-8")
    temporary.replace(out)
    print(f"\nsaved {out}")


if __name__ == "__main__":
    main()
