"""Benchmark: 09_poem_rnn.py's default against the previous default (until 2026-12-02), side by side.

The previous default is the same network with one plain softmax over all 8,310 characters, in
float32, for 8 epochs at lr 3e-3: `--head 100000 --precision float32 --epochs 8 --lr 3e-3` rebuilds it, but for
the warm-up (a quarter epoch since 2026-12-06, 42 steps; it was 67). Each run
is a fresh process in its own temporary train dir, alternating (new seed s, old seed s, ...).

  --minutes M (default): train each for M minutes; print 09's own characters per second over its
                         last 20 steps (training only: no compile, no validation) and the ratio of the medians.
  --full:                train each to the end of its schedule; print minutes and the final
                         validation loss (939 held-out poems), medians and spread.

Run (a benchmark, not a test; a few minutes per run, --full ≈20 min for a new run, ≈1 hour for an old one):
  TFDEMOS_DATA_DIR=../shared/data python bench/poem_speed.py --seeds 42 1 2 --minutes 2.5
  TFDEMOS_DATA_DIR=../shared/data python bench/poem_speed.py --seeds 42 1 2 --full --variants new
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"new": [], "old": ["--head", "100000", "--precision", "float32", "--epochs", "8", "--lr", "3e-3"]}
BATCH, SEQ_LEN = 256, 64  # 09's defaults (the characters of one step)


def run(variant, seed, minutes, full):
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, str(ROOT / "09_poem_rnn.py"), *VARIANTS[variant], "--seed", str(seed),
                   "--train-dir", f"{tmp}/model", "--out-dir", tmp, "--sample-every", "150" if full else "20"]
        if not full:
            command += ["--minutes", str(minutes)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
        results = Path(tmp, "09_poem_rnn.json")
        if done.returncode != 0 or not results.exists():
            sys.exit(f"{variant} seed {seed} failed or stopped before step 20 (try more --minutes):\n"
                     f"{done.stderr[-2000:]}")
        result = json.loads(results.read_text(encoding="utf-8"))
    # --full: over the whole run (compile and validation included); else 09's own figure (see above)
    result["chars_per_s"] = (result["step"] * BATCH * SEQ_LEN / (result["minutes"] * 60) if full
                             else result["chars_per_second"])
    return result


def spread(values, fmt):
    return f"median {fmt.format(statistics.median(values))} (range {fmt.format(min(values))}–{fmt.format(max(values))})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["new", "old"])
    args = parser.parse_args()
    results = {variant: [] for variant in args.variants}
    for seed in args.seeds:
        for variant in args.variants:
            r = run(variant, seed, args.minutes, args.full)
            results[variant].append(r)
            print(f"{variant} seed {seed}: {r['step']}/{r['total_steps']} steps in {r['minutes']:.1f} min, "
                  f"{r['chars_per_s']:,.0f} chars/s, validation loss {r['validation_loss']:.3f} nats/char", flush=True)
    for variant, rs in results.items():
        print(f"{variant}: {spread([r['chars_per_s'] for r in rs], '{:,.0f}')} chars/s; "
              f"{spread([r['minutes'] for r in rs], '{:.1f}')} min; "
              f"validation loss {spread([r['validation_loss'] for r in rs], '{:.3f}')}")
    if len(results) == 2:
        speed = {v: statistics.median(r["chars_per_s"] for r in rs) for v, rs in results.items()}
        steps = {v: rs[0]["total_steps"] for v, rs in results.items()}
        print(f"new/old characters per second: {speed['new'] / speed['old']:.2f}x; a whole default run would take "
              f"{steps['new'] * BATCH * SEQ_LEN / speed['new'] / 60:.1f} min (new) vs "
              f"{steps['old'] * BATCH * SEQ_LEN / speed['old'] / 60:.1f} min (old) at these speeds")


if __name__ == "__main__":
    main()
