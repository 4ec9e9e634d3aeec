"""Benchmark: time to 99.0% MNIST test accuracy, 04_mnist_cnn.py vs. the peer recipe.

The peer recipe is keras-io's "Simple MNIST convnet", re-implemented here from its published
facts: Conv2D 32 3×3 ReLU → MaxPool 2 → Conv2D 64 3×3 ReLU → MaxPool 2 → Flatten →
Dropout 0.5 → Dense 10 softmax; Adam (default settings); batch 128; 15 epochs;
validation_split 0.1 (so it trains on the first 54,000 images); inputs / 255.

Both run in fresh processes on the same machine, alternating (04 seed 1, peer seed 1, 04 seed 2,
...). Both train in one fit() call; after every epoch a callback measures the test accuracy (not
counted as training time). Printed for each run: seconds of training until the test accuracy
first reached 99.0%, final accuracy; then medians with their spread, and the ratio of medians.

Run (a benchmark, not a test; ≈12 minutes on a 2-core CPU):
  TFDEMOS_DATA_DIR=../shared/data python bench/mnist_speed.py --runs 3 --peer-runs 3
  ... --runs 3 --peer-runs 0 --args --batchnorm       (a variant of 04 alone)
  ... --runs 3 --peer-runs 0 --args "--epochs 30 --tta"   (also prints the 5-view accuracy)
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.99


def peer_recipe(seed, data_dir):
    """Train the keras-io convnet; print one JSON line per epoch."""
    sys.path.insert(0, str(ROOT))
    import common
    import keras
    from common.epoch_report import EpochReport
    common.set_seed(seed)
    (x_train, y_train), (x_test, y_test) = common.load_mnist(data_dir)
    x_train = x_train[..., None].astype("float32") / 255
    x_test = x_test[..., None].astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    keep = int(len(x_train) * 0.9)  # validation_split=0.1 holds out the last 10%
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    # One fit() call, as keras-io does: measured 2026-11-30, fifteen separate fit(epochs=1) calls
    # (this bench until then) cost the peer ≈0.6 s more per epoch (139.0 s vs 129.8 s, seed 1).
    report = EpochReport(x_test, y_test)  # the same timing code as 04's (evaluation excluded)
    model.fit(x_train[:keep], y_train[:keep], batch_size=128, epochs=15, verbose=0, callbacks=[report])
    for epoch, (accuracy, seconds) in enumerate(zip(report.curve, report.seconds)):
        print(json.dumps({"epoch": epoch + 1, "accuracy": accuracy, "time": seconds}), flush=True)


def run_process(command):
    """Run a command; return its standard output."""
    result = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-3000:]}")
    return result.stdout


def run_ours(seed, data, extra):
    """04_mnist_cnn.py once; [(epoch, accuracy, training seconds), ...] from its results JSON."""
    out = ROOT / "outputs" / "bench" / f"mnist_seed{seed}"
    run_process([sys.executable, "04_mnist_cnn.py", "--seed", str(seed), "--out-dir", str(out), *data, *extra])
    model = extra[extra.index("--model") + 1] if "--model" in extra[:-1] else "fast"
    name = "04_mnist_cnn" if model == "fast" else f"04_mnist_cnn_{model}"
    results = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    if results.get("tta_accuracy") is not None:  # --tta in --args: the 5-view accuracy at the end
        print(f"  04 with 5 views at the end (--tta): {results['tta_accuracy']:.4f}", flush=True)
    return [(i + 1, acc, t) for i, (acc, t) in enumerate(zip(results["curve"], results["seconds"]))]


def run_peer(seed, data):
    """The peer recipe in a fresh process; it prints one JSON line per epoch."""
    rows = [json.loads(line) for line in run_process([sys.executable, __file__, "--peer", str(seed), *data])
            .splitlines() if line.startswith("{")]
    return [(row["epoch"], row["accuracy"], row["time"]) for row in rows]


def summarize(name, epochs):
    reached = next((t for _, acc, t in epochs if acc >= TARGET), None)
    final = epochs[-1][1]
    shown = f"{reached:.1f} s" if reached is not None else "not reached"
    print(f"  {name}: 99.0% after {shown}; final {final:.4f} after {len(epochs)} epochs "
          f"({epochs[-1][2]:.1f} s)", flush=True)
    return reached, final


def args_with_equals(argv):
    """["--args", "--tta"] → ["--args=--tta"]: argparse would take a lone "--tta" for a flag of
    its own and stop with "expected one argument"."""
    joined = []
    for item in argv:
        if joined and joined[-1] == "--args":
            joined[-1] = f"--args={item}"
        else:
            joined.append(item)
    return joined


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of 04_mnist_cnn.py (seeds 1..N)")
    parser.add_argument("--peer-runs", type=int, default=1, help="runs of the peer recipe")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--args", default="", metavar="'FLAGS'",
                        help="extra flags for 04_mnist_cnn.py, e.g. --args='--batchnorm'")
    parser.add_argument("--peer", type=int, metavar="SEED", help=argparse.SUPPRESS)
    args = parser.parse_args(args_with_equals(sys.argv[1:]))
    if args.peer is not None:
        return peer_recipe(args.peer, args.data_dir)

    data = ["--data-dir", args.data_dir] if args.data_dir else []
    ours_name = f"04_mnist_cnn.py {args.args}".strip()
    ours, peers = [], []
    # Side by side: the runs alternate (04, peer, 04, peer, ...), so a machine that slows down or
    # speeds up during the benchmark affects both recipes alike.
    for seed in range(1, max(args.runs, args.peer_runs) + 1):
        if seed <= args.runs:
            print(f"{ours_name}, seed {seed}", flush=True)
            ours.append(summarize("04", run_ours(seed, data, args.args.split())))
        if seed <= args.peer_runs:
            print(f"peer recipe (keras-io Simple MNIST convnet), seed {seed}", flush=True)
            peers.append(summarize("peer", run_peer(seed, data)))

    def median_time(runs):
        if not runs:
            return None
        times = [t for t, _ in runs if t is not None]
        return statistics.median(times) if len(times) == len(runs) else None

    ours_t, peer_t = median_time(ours), median_time(peers)
    print("\n| recipe | runs | median s to 99.0% (spread) | final accuracy (median, spread) |")
    print("|---|---|---|---|")
    for name, runs, t in ((ours_name, ours, ours_t),
                          ("keras-io Simple MNIST convnet", peers, peer_t)):
        if not runs:
            continue
        shown = "not reached in every run"
        if t is not None:
            shown = f"{t:.1f} ({min(s for s, _ in runs):.1f}-{max(s for s, _ in runs):.1f})"
        finals = [f for _, f in runs]
        print(f"| {name} | {len(runs)} | {shown} | {statistics.median(finals):.4f} "
              f"({min(finals):.4f}-{max(finals):.4f}) |")
    if ours_t and peer_t:
        print(f"\nspeed-up to 99.0%: {peer_t / ours_t:.2f}x")


if __name__ == "__main__":
    main()
