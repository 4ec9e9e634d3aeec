"""Latency of one prediction (a batch of one) with each way an application can run 04's and 07's model.

For the digit (04) and the photo (07) models: Keras's `model.predict(x)`, Keras's `model(x)`, the
exported SavedModel's serving_default signature, and the LiteRT files (float32, int8) in
TensorFlow's LiteRT interpreter. The ways take turns call by call (the same machine moments for
all), after a warm-up, on the test images (the data 04 and 07 trained on); each answer is compared
with Keras's.

Run (a benchmark, not a test: nothing else busy on the machine), after
`python 04_mnist_cnn.py --export` and `python 08_cifar10_eval.py --export`:
  TFDEMOS_DATA_DIR=<data folder> python bench/export_latency.py          300 calls per way and model
  ... --out-dir DIR --count 1000
"""
import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import common  # noqa: E402  (flags, the test images; TensorFlow without its start-up noise)

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--out-dir", type=Path, default=ROOT / "outputs", help="where 04 and 08 wrote their models")
parser.add_argument("--data-dir", help="MNIST and CIFAR-10 (default: $TFDEMOS_DATA_DIR, else data/)")
parser.add_argument("--count", type=common.positive_int, default=300, help="timed calls per way and model")
parser.add_argument("--models", nargs="+", choices=["digit", "photo"], default=["digit", "photo"],
                    help="which models: digit (04), photo (07, exported by 08)")
parser.add_argument("--threads", type=int, default=0, help="LiteRT interpreter threads (0: its default)")
args = parser.parse_args()

common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from common.quiet import native_output_filtered  # noqa: E402

# name: (the Keras model, whether it takes 0-1 and answers logits, export folder, file name, input shape)
MODELS = {"digit (04)": ("04_mnist_cnn.keras", True, "04_mnist_cnn_export", "mnist_cnn",
                        lambda: common.load_mnist(args.data_dir)[1][0][..., None]),
          "photo (07)": ("cifar10_model.keras", False, "cifar10_export", "cifar10",
                         lambda: common.read_cifar10_bin(common.cifar10_files(args.data_dir)["test"])[0])}


def litert_runner(path):
    with warnings.catch_warnings(), native_output_filtered():  # (its notice about ai-edge-litert)
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=args.threads or None)
        runner = interpreter.get_signature_runner()
    return lambda x: runner(pixels=x)["output_0"]


print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU, "
      f"{args.count} calls of one picture per way; milliseconds per call")
print(f"{'model':<11} {'way':<28} {'median':>8} {'p95':>8}  largest difference from Keras")
for label, (keras_file, scaled, export_name, name, test_images) in MODELS.items():
    if label.split()[0] not in args.models:
        continue
    export = args.out_dir / export_name
    if not (args.out_dir / keras_file).is_file() or not export.is_dir():
        sys.exit(f"{label}: no {args.out_dir / keras_file} or {export}: run the script with --export first")
    model = keras.models.load_model(args.out_dir / keras_file)
    serve = tf.saved_model.load(str(export / "saved_model" / name / "1")).signatures["serving_default"]
    before, after = ((lambda x: x / 255), keras.ops.softmax) if scaled else ((lambda x: x), (lambda p: p))
    ways = {  # each returns probabilities for one picture
        "Keras model.predict(x)": lambda x: after(model.predict(before(x), verbose=0)),
        "Keras model(x)": lambda x: after(model(before(x))),
        "SavedModel serving_default": lambda x: serve(pixels=tf.constant(x))["output_0"],
        f"LiteRT {name}.tflite": litert_runner(export / f"{name}.tflite"),
        f"LiteRT {name}_int8.tflite": litert_runner(export / f"{name}_int8.tflite"),
    }
    images = test_images()
    pictures = images[np.arange(args.count + 20) % len(images), None].astype(np.float32)  # batches of one
    times = {way: [] for way in ways}
    differences = dict.fromkeys(ways, 0.0)
    for i, x in enumerate(pictures):
        reference = None
        for way, predict in ways.items():
            start = time.perf_counter()
            answer = np.asarray(predict(x))
            took = time.perf_counter() - start
            reference = answer if reference is None else reference
            differences[way] = max(differences[way], float(np.abs(answer - reference).max()))
            if i >= 20:  # the first calls trace, compile and allocate
                times[way].append(took * 1000)
    for way, ms in times.items():
        p95 = sorted(ms)[int(0.95 * (len(ms) - 1))]
        print(f"{label:<11} {way:<28} {statistics.median(ms):8.3f} {p95:8.3f}  {differences[way]:.1e}")
