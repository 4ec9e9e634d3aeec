"""Benchmark: seconds per training step of 09's network on random data, by output layout and precision.

Only the step is timed (no corpus, no validation): 8 steps after 3 warm-up steps, batch 256 × 64
characters, vocabulary 8,310 as for the Tang poems, targets drawn from a Zipf-like law so the share
of rare characters is near the real one. --head 100000 is one plain softmax (the previous default).

Run (a benchmark, not a test; ≈1 minute per setting on a 2-core CPU):
  python bench/poem_step_profile.py --head 100000 1500 --precision float32 bfloat16
"""
import argparse
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOCAB, SEQ_LEN = 8310, 64


def profile(head, precision, batch):
    import keras
    import numpy as np
    import tensorflow as tf
    from common.lessons import from_script
    HeadTailOutput = from_script("09_poem_rnn.py", "HeadTailOutput", keras=keras, tf=tf)  # 09's own layer
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    characters = keras.Input((None,), dtype="int32")
    embed = keras.layers.Embedding(VOCAB, 256)
    x = keras.layers.Dropout(0.2)(embed(characters))
    x = keras.layers.Dropout(0.2)(keras.layers.GRU(512, return_sequences=True)(x))
    features = keras.Model(characters, keras.layers.Dense(256)(x))
    scores = HeadTailOutput(VOCAB, head, embed)
    model = keras.Model(characters, scores(features.output))
    optimizer = keras.optimizers.Adam(1e-3, clipnorm=1.0)
    optimizer.build(model.trainable_variables)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(scores(features(x, training=True), targets=y))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    rng = np.random.default_rng(0)
    p = 1 / np.arange(1, VOCAB + 1) ** 1.1
    data = rng.choice(VOCAB, size=(11, batch, SEQ_LEN + 1), p=p / p.sum()).astype(np.int32)
    for i in range(3):
        float(step(data[i, :, :-1], data[i, :, 1:]))
    start = time.perf_counter()
    for i in range(3, 11):
        float(step(data[i, :, :-1], data[i, :, 1:]))
    seconds = (time.perf_counter() - start) / 8
    rare = (data >= head).mean()
    print(f"head {head:>6} {precision:>8} batch {batch}: {seconds:.3f} s/step, "
          f"{batch * SEQ_LEN / seconds:,.0f} chars/s (rare targets {rare:.1%})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", type=int, nargs="+", default=[100000, 1500])
    parser.add_argument("--precision", nargs="+", choices=["float32", "bfloat16"], default=["float32", "bfloat16"])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # (internal: one setting, in a fresh process)
    args = parser.parse_args()
    if args.one:
        sys.path.insert(0, str(ROOT))
        import common
        common.load_tensorflow_quietly()
        return profile(int(args.one[0]), args.one[1], args.batch)
    import subprocess
    for head, precision in itertools.product(args.head, args.precision):  # each in a fresh process
        subprocess.run([sys.executable, __file__, "--one", str(head), precision, "--batch", str(args.batch)],
                       check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


if __name__ == "__main__":
    main()
