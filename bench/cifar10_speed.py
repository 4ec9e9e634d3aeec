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
  ... --skip-train --runs-dir OTHER/outputs/bench_cifar10 --every-nth 2
                                           evaluate another checkout's runs, every 2nd kept checkpoint

Also printed: the arithmetic the training did per second (multiply-adds of the convolutions and
the dense layer, counted from the network, × 3 for the backward pass), against the CPU's peak in
the arithmetic the run used (07's default: bfloat16 where the CPU has it, else float32).
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


def evaluate_all(train_dir, data, every_nth=1):
    """[(training minutes, step, accuracy)] for every (`every_nth`, and the last) kept checkpoint,
    read from 08's results JSON."""
    sys.path.insert(0, str(ROOT))
    import common
    curve = []
    kept = sorted(train_dir.glob("ckpt-*.index"), key=lambda p: int(p.stem.split("-")[1]))
    for index in [p for i, p in enumerate(kept) if (len(kept) - 1 - i) % every_nth == 0]:
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


def training_flops_per_image(train_dir):
    """Floating-point operations of one training image: 2 per multiply-add of every convolution and
    dense layer, forward; backward twice that (gradients of inputs and of weights), except for a
    first layer whose kernel is frozen (airbench's whitening: no gradient to compute below it).
    Elementwise work (BN, GELU, pooling) is left out: small next to these."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import common  # noqa: F401  (quiet TensorFlow; custom layers registered)
    from common.cifar10_model import read_network
    model = read_network(train_dir)
    total = 0
    for layer in model.layers:
        if isinstance(layer.output, list) or not hasattr(layer, "kernel"):
            continue
        kernel, outputs = layer.kernel.shape, layer.output.shape
        multiply_adds = int(np.prod(kernel)) * int(np.prod(outputs[1:-1]))  # × output positions (1 for dense)
        total += 2 * multiply_adds * (1 if layer.name == "whiten" else 3)
    return total


def run_precision(train_dir):
    """'bfloat16' or 'float32': the arithmetic a run trained in (07's own reading of its model.json)."""
    sys.path.insert(0, str(ROOT))
    from common.training import trained_precision
    return trained_precision(train_dir)


def cpu_peak_flops(precision="float32"):
    """(FLOP/s or None, how it was worked out): cores × clock × operations per cycle and core.

    float32 per cycle: two fused multiply-add units of 512 bits (16 float32 × 2 operations each) on
    AVX-512 Intel server cores; AMD Zen 4 (family 25) runs AVX-512 on 256-bit units, like AVX2
    cores with two FMA units: 32. bfloat16 with AVX512_BF16 (VDPBF16PS: two bfloat16 products
    per float32 lane) twice that; AMX tiles are not modelled. The clock is the one /proc/cpuinfo
    reports (a VM may boost)."""
    import os
    import re
    info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace") if Path("/proc/cpuinfo").exists() else ""
    flags = set(re.search(r"^flags\s*:(.*)$", info, re.M).group(1).split()) if "flags" in info else set()
    mhz = float(re.search(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M).group(1)) if "cpu MHz" in info else None
    family = re.search(r"^cpu family\s*:\s*(\d+)", info, re.M)
    amd = "AuthenticAMD" in info
    per_cycle = (64 if "avx512f" in flags and not (amd and family and int(family.group(1)) <= 25)
                 else 32 if "fma" in flags else 16)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if mhz is None:
        return None, "unknown CPU clock"
    if precision == "bfloat16":
        if "amx_bf16" in flags:
            return None, "AMX tiles: peak not modelled"
        if "avx512_bf16" not in flags:
            return None, "no bfloat16 arithmetic in this CPU"
        per_cycle *= 2
    return (cores * mhz * 1e6 * per_cycle,
            f"{cores} cores × {mhz / 1000:.2f} GHz × {per_cycle} {precision} FLOP/cycle")


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
    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR,
                        help="where the runs are (another checkout's outputs/bench_cifar10, with --skip-train)")
    parser.add_argument("--every-nth", type=int, default=1, help="evaluate every n-th kept checkpoint (and the last)")
    args = parser.parse_args()

    data = ["--data-dir", args.data_dir] if args.data_dir else []
    results, extra = [], args.args.split()
    for model in args.models:
        for seed in args.seeds:
            train_dir = args.runs_dir / "-".join([model, *[flag.strip("-") for flag in extra], f"seed{seed}"])
            if not args.skip_train:
                budget = ["--minutes", str(args.minutes)] if args.minutes else []
                # Checkpoints every 24 steps; the manager keeps one per --eval-every minutes of them.
                run([sys.executable, "07_cifar10_train.py", "--model", model, "--fresh", "--seed", str(seed),
                     "--train-dir", str(train_dir), "--save-every", "24", "--keep-every-min", str(args.eval_every),
                     "--log-every", "100", *budget, *extra, *data])
            curve = evaluate_all(train_dir, data, args.every_nth)
            minutes, step = curve[-1][0], curve[-1][1]
            batch = int(extra[extra.index("--batch-size") + 1]) if "--batch-size" in extra else \
                128 if model == "tutorial" else 1024
            flops = training_flops_per_image(train_dir) * step * batch / (minutes * 60)
            results.append({"model": model, "args": args.args, "seed": seed, "curve": curve, "flops_per_second": flops,
                            "precision": run_precision(train_dir),
                            "minutes_to": {f"{t:.0%}": minutes_to(curve, t) for t in TARGETS}})

    print("\n## Each run: training minutes → test accuracy (08, 6-view TTA)")
    for r in results:
        points = ", ".join(f"{m:.1f} → {a:.4f}" for m, _, a in r["curve"])
        print(f"- {' '.join([r['model'], r['args']]).strip()} seed {r['seed']}: {points}")
    peaks = {precision: cpu_peak_flops(precision) for precision in sorted({r["precision"] for r in results})}
    for precision, (peak, how) in peaks.items():
        print(f"\nCPU peak ({precision}): {peak / 1e9:.0f} GFLOP/s = {how}" if peak else f"\nCPU peak ({precision}): {how}")
    print("(at the clock the system reports: a VM may show its base clock, so a share near or over 100% means the "
          "cores run faster, or the library needs fewer operations than counted, e.g. Winograd convolutions)")
    print("\n| model (precision) | seeds | final accuracy | training minutes | minutes to 86% | to 90% | to 93% "
          "| GFLOP/s (of the peak in its arithmetic) |")
    print("|---|---|---|---|---|---|---|---|")
    for model in args.models:
        runs = [r for r in results if r["model"] == model]
        finals = [r["curve"][-1][2] for r in runs]
        final_text = f"{statistics.median(finals):.4f}" + (f" ({min(finals):.4f}-{max(finals):.4f})" if len(finals) > 1 else "")
        minutes = spread([r["curve"][-1][0] for r in runs])
        reach = [spread([r["minutes_to"][f"{t:.0%}"] for r in runs]) for t in TARGETS]
        rate = statistics.median(r["flops_per_second"] for r in runs)
        precision = "+".join(sorted({r["precision"] for r in runs}))
        peak = peaks[runs[0]["precision"]][0] if "+" not in precision else None
        share = f" ({rate / peak:.0%})" if peak else ""
        print(f"| {' '.join([model, *extra])} ({precision}) | {' '.join(str(r['seed']) for r in runs)} | {final_text} | {minutes} | "
              + " | ".join(reach) + f" | {rate / 1e9:.1f}{share} |")
    out = ROOT / "outputs" / "bench" / "cifar10_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(json.dumps(results, indent=1), encoding="utf-8")
    temporary.replace(out)
    print(f"\nsaved {out}")


if __name__ == "__main__":
    main()
