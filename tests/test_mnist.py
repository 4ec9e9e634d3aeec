"""02, 03, 04 end to end on a tiny MNIST-format data set; real accuracy when real data is there."""
import importlib.util
import json
import os
import re
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import common
from conftest import ROOT, run_outside_repo, run_script, write_tiny_mnist

REAL_DATA = os.environ.get("TFDEMOS_DATA_DIR")
HAS_REAL_MNIST = bool(REAL_DATA) and (Path(REAL_DATA) / "mnist" / "train-images-idx3-ubyte.gz").exists()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    return write_tiny_mnist(root / "data"), root / "out"


def accuracy_of(stdout, out=None, name=None):
    """The printed line (for people) and, where given, the results JSON (for programs) agree."""
    match = re.search(r"^测试准确率 / test accuracy: ([\d.]+)$", stdout, re.M)
    assert match, stdout[-2000:]
    if out is not None:
        results = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert abs(results["test_accuracy"] - float(match.group(1))) < 1e-4
        return results["test_accuracy"]
    return float(match.group(1))


def test_02_softmax_tiny(tiny):
    data, out = tiny
    result = run_script("02_mnist_softmax.py", "--data-dir", data, "--out-dir", out,
                        "--steps", 30, "--eval-every", 10, "--batch-size", 50)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"第\s+10 步 / step .*测试准确率 / test accuracy", result.stdout)
    assert "图 0（标签" in result.stdout and "image 0 (label" in result.stdout and "W[300:303]" in result.stdout
    assert re.search(r"one-hot 向量 / its label \d as a one-hot vector: \[[01 ]+\]", result.stdout)
    assert "模型拿不准的一张图" in result.stdout and "hesitates on" in result.stdout
    assert 0 <= accuracy_of(result.stdout, out, "02_mnist_softmax") <= 1
    for name in ("02_mnist_softmax_curve.png", "02_mnist_softmax_weights.png", "02_mnist_softmax.keras"):
        assert (out / name).stat().st_size > 0


@pytest.mark.slow
def test_02_article_settings(tiny, tmp_path):
    data, _ = tiny
    result = run_script("02_mnist_softmax.py", "--data-dir", data, "--out-dir", tmp_path, "--article")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "500 steps of 50 images, learning rate 0.01, loss summed over the batch" in result.stdout
    results = json.loads((tmp_path / "02_mnist_softmax.json").read_text(encoding="utf-8"))
    assert (results["lr"], results["steps"], results["batch_size"], results["loss_sum"]) == (0.01, 500, 50, True)
    assert results["curve"][-1] == [500, results["test_accuracy"]]


def test_02_naive_loss_nan_is_caught(tiny):
    data, out = tiny
    # A huge learning rate drives some softmax output to exactly 0: log(0) -> NaN.
    result = run_script("02_mnist_softmax.py", "--data-dir", data, "--out-dir", out,
                        "--steps", 200, "--naive-loss", "--lr", 1e4)
    assert result.returncode == 1
    assert re.search(r"NaN guard: loss is (nan|inf) at step \d+, batch = rows \d+", result.stderr)
    assert "without --naive-loss" in result.stderr


def test_03_mlp_tiny(tiny):
    data, out = tiny
    result = run_script("03_mnist_mlp.py", "--data-dir", data, "--out-dir", out, "--epochs", 2,
                        "--hidden", 32)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "第 2 轮 / epoch 2（第" in result.stdout
    assert 0 <= accuracy_of(result.stdout, out, "03_mnist_mlp") <= 1
    assert (out / "03_mnist_mlp.keras").exists() and (out / "03_mnist_mlp_curve.png").exists()


def _digit_picture(path, dark_on_light, size=(300, 420)):
    background, ink = (235, 20) if dark_on_light else (15, 240)
    picture = Image.new("L", size, background)
    draw = ImageDraw.Draw(picture)
    draw.line([(90, 90), (210, 90), (130, 330)], fill=ink, width=24)  # a "7"
    picture.save(path)


def test_04_cnn_trains_and_reads_pictures(mnist_cnn, tmp_path):
    data, out, result = mnist_cnn  # 04 --epochs 2, trained once per test run (conftest.py)
    assert re.search(r"^第 2 轮 / epoch 2：测试准确率 / test accuracy [\d.]+，训练用时 / training time [\d.]+ s$",
                     result.stdout, re.M)
    accuracy_of(result.stdout, out, "04_mnist_cnn")
    assert (out / "04_mnist_cnn.keras").exists() and (out / "04_mnist_cnn_curve.png").exists()

    _digit_picture(tmp_path / "dark_on_light.png", True)
    _digit_picture(tmp_path / "light_on_dark.jpg", False, size=(640, 480))
    (tmp_path / "notes.png").write_text("not really a picture", encoding="utf-8")
    Image.new("RGB", (200, 200), (250, 250, 250)).save(tmp_path / "blank.png")
    # What drawing apps export: black ink on a *transparent* background (all pixels RGB 0).
    ink = Image.new("L", (300, 420), 0)
    ImageDraw.Draw(ink).line([(90, 90), (210, 90), (130, 330)], fill=255, width=24)
    transparent = Image.new("RGBA", (300, 420), (0, 0, 0, 0))
    transparent.putalpha(ink)
    transparent.save(tmp_path / "transparent.png")
    _png_header_only(tmp_path / "huge.png", 20000, 20000)
    pictures = ["dark_on_light.png", "light_on_dark.jpg", "notes.png", "blank.png", "transparent.png",
                "huge.png", "missing.png"]
    result = run_script("04_mnist_cnn.py", "--data-dir", data, "--out-dir", out,
                        "--image", *[tmp_path / p for p in pictures])
    assert result.returncode == 2  # four pictures could not be read
    assert "使用已保存的模型 / using saved model" in result.stdout and "Traceback" not in result.stderr
    line = r": (\d) \(([\d.]+)%\), (\d) \([\d.]+%\), (\d) \([\d.]+%\)$"
    dark = re.search("dark_on_light.png" + line, result.stdout, re.M)
    light = re.search("light_on_dark.jpg" + line, result.stdout, re.M)
    clear = re.search("transparent.png" + line, result.stdout, re.M)
    assert dark and light and clear, result.stdout + result.stderr
    assert dark.group(1) == light.group(1)  # inverted pictures are read the same way
    assert re.search(r"notes.png: .*not an image file", result.stderr)
    assert re.search(r"blank.png: .*the picture looks blank", result.stderr)
    assert re.search(r"huge.png: .*picture too large", result.stderr)
    assert re.search(r"missing.png: .*file not found", result.stderr)


def test_04_model_loads_in_plain_keras_without_this_repository(mnist_cnn, tmp_path):
    """A reader's own program, notebook or service: keras.models.load_model in a fresh Python that
    has never seen this repository (another folder, no PYTHONPATH) gives 04's own test figures."""
    import numpy as np
    data, out, _ = mnist_cnn
    (_, _), (images, labels) = common.load_mnist(data)
    np.save(tmp_path / "images.npy", images[..., None])
    np.save(tmp_path / "labels.npy", labels)
    code = ("import sys, numpy as np, keras\n"
            "assert not any('common' in name.split('.')[0] for name in sys.modules)\n"
            "model = keras.models.load_model(sys.argv[1])\n"
            "x, y = np.load('images.npy').astype('float32') / 255, np.load('labels.npy')\n"
            "padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])\n"
            "views = [padded[:, 1 + a:29 + a, 1 + b:29 + b] for a, b in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))]\n"
            "p = sum(keras.ops.convert_to_numpy(keras.ops.softmax(model.predict(v, verbose=0))) for v in views)\n"
            "print(float((p.argmax(1) == y).mean()))\n")
    fresh = run_outside_repo(code, out / "04_mnist_cnn.keras", cwd=tmp_path)
    results = json.loads((out / "04_mnist_cnn.json").read_text(encoding="utf-8"))
    assert float(fresh.split()[-1]) == pytest.approx(results["tta_accuracy"], abs=1e-9)


def test_04_exports_a_saved_model_and_litert_files_that_take_raw_pixels(mnist_cnn, tmp_path):
    """--export: a SavedModel in TF Serving's NAME/1/ layout whose serving_default takes pixels
    0-255 and answers probabilities, loaded by plain TensorFlow outside this repository; LiteRT
    files in float32 (the same test accuracy as Keras) and int8 (4 times smaller)."""
    import numpy as np
    data, out, result = mnist_cnn
    export = out / "04_mnist_cnn_export"
    assert f"导出 / exported to {export}" in result.stdout
    (_, _), (pixels, labels) = common.load_mnist(data)
    np.save(tmp_path / "pixels.npy", pixels[..., None])
    code = ("import sys, numpy as np, keras, tensorflow as tf\n"  # a reader's program: all three formats
            "x = np.load('pixels.npy').astype(np.float32)\n"
            "serve = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
            "p = serve(pixels=tf.constant(x))['output_0'].numpy()\n"
            "lite = tf.lite.Interpreter(model_path=sys.argv[2]).get_signature_runner()\n"
            "from_keras = keras.ops.softmax(keras.models.load_model(sys.argv[3]).predict(x / 255, verbose=0))\n"
            "assert np.abs(lite(pixels=x)['output_0'] - p).max() <= 1e-4\n"
            "assert np.abs(np.asarray(from_keras) - p).max() <= 1e-4\n"
            "print(' '.join(map(str, p.argmax(axis=1))))\n")
    fresh = run_outside_repo(code, export / "saved_model" / "mnist_cnn" / "1", export / "mnist_cnn.tflite",
                             out / "04_mnist_cnn.keras", cwd=tmp_path)
    served = np.array(fresh.split(), dtype=int)
    results = json.loads((out / "04_mnist_cnn_export.json").read_text(encoding="utf-8"))
    assert (served == labels).mean() == pytest.approx(results["keras_test_accuracy"], abs=1e-9)
    lite, int8 = results["mnist_cnn.tflite"], results["mnist_cnn_int8.tflite"]
    assert lite["test_accuracy"] == pytest.approx(results["keras_test_accuracy"], abs=1e-9)
    assert 0 <= int8["test_accuracy"] <= 1 and int8["kb"] < lite["kb"] / 3
    assert (export / "mnist_cnn.tflite").stat().st_size == round(lite["kb"] * 1024)
    assert not [p for p in export.rglob(".*")]  # no temporary folder or file left
    assert f"mnist_cnn_int8.tflite：{int8['kb']:,.0f} KB，测试准确率 / test accuracy {int8['test_accuracy']:.4f}" in result.stdout



def test_export_latency_bench_times_every_way_and_checks_their_answers(mnist_cnn):
    """bench/export_latency.py on 04's tiny export: a line per way (Keras, SavedModel, LiteRT
    float32 and int8), each answer within reach of Keras's."""
    data, out, _ = mnist_cnn
    result = run_script("bench/export_latency.py", "--out-dir", out, "--data-dir", data, "--models", "digit",
                        "--count", 5)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("digit (04)")]
    assert [row[2:-3] for row in rows] == [["Keras", "model.predict(x)"], ["Keras", "model(x)"],
                                           ["SavedModel", "serving_default"], ["LiteRT", "mnist_cnn.tflite"],
                                           ["LiteRT", "mnist_cnn_int8.tflite"]]
    median, p95, difference = zip(*((float(a), float(b), float(c)) for *_, a, b, c in rows))
    assert all(0 < m <= p for m, p in zip(median, p95)) and max(difference[:4]) < 1e-4 and difference[4] < 0.5

@pytest.mark.slow
def test_04_still_reads_pictures_with_a_model_saved_by_an_older_04(tmp_path):
    """Before 2026-12-04, 04's model had the project's own SpaceToDepth layer: it still loads."""
    import keras
    from common.layers import SpaceToDepth
    model = keras.Sequential([keras.Input((28, 28, 1)), SpaceToDepth(), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "04_mnist_cnn.keras")
    _digit_picture(tmp_path / "seven.png", True)
    result = run_script("04_mnist_cnn.py", "--out-dir", tmp_path, "--image", tmp_path / "seven.png")
    assert result.returncode == 0 and "使用已保存的模型 / using saved model" in result.stdout, result.stderr[-2000:]
    assert re.search(r"seven.png: \d \([\d.]+%\)", result.stdout), result.stdout


def _png_header_only(path, width, height):
    """A PNG whose header claims width × height pixels (what a decompression bomb looks like)."""
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


@pytest.mark.slow
def test_04_article_model(tiny, tmp_path):
    data, _ = tiny
    result = run_script("04_mnist_cnn.py", "--model", "article", "--data-dir", data, "--out-dir", tmp_path,
                        "--epochs", 1)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "model mnist_cnn_article: 3,274,634 parameters" in result.stdout  # the tutorial's size
    results = json.loads((tmp_path / "04_mnist_cnn_article.json").read_text(encoding="utf-8"))
    assert (results["model"], results["batch_size"], results["lr"]) == ("article", 100, 0.001)
    assert results["tta_accuracy"] is None and "5 views" not in result.stdout  # the article's recipe: no TTA
    _digit_picture(tmp_path / "seven.png", True)
    again = run_script("04_mnist_cnn.py", "--model", "article", "--data-dir", data, "--out-dir", tmp_path,
                       "--image", tmp_path / "seven.png")
    assert again.returncode == 0 and "04_mnist_cnn_article.keras" in again.stdout
    assert not (tmp_path / "04_mnist_cnn.keras").exists()  # the fast model's file is not touched


@pytest.mark.slow
def test_04_filters_flag_sets_both_convolutions_and_tta_scores_five_views(tiny, tmp_path):
    data, _ = tiny
    result = run_script("04_mnist_cnn.py", "--filters", 8, 16, "--epochs", 1, "--data-dir", data,  # (TTA: default)
                        "--out-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    # 4·9·8+8 + 8·9·16+16 + (4·4·16)·256+256 + 256·10+10: both convolutions took the given counts
    assert "model mnist_cnn: 69,826 parameters" in result.stdout
    results = json.loads((tmp_path / "04_mnist_cnn.json").read_text(encoding="utf-8"))
    assert results["filters"] == [8, 16]
    tta = results["tta_accuracy"]
    assert 0 <= tta <= 1 and f"test accuracy with 5 views (--tta): {tta:.4f}" in result.stdout


def test_04_image_without_a_model_says_it_trains_first_and_checks_the_pictures_before(tiny, tmp_path):
    data, _ = tiny
    result = run_script("04_mnist_cnn.py", "--data-dir", data, "--out-dir", tmp_path, "--image", tmp_path / "nope.png")
    assert result.returncode == 2 and "picture not found, check the path" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and not (tmp_path / "04_mnist_cnn.keras").exists()  # no minute lost
    _digit_picture(tmp_path / "seven.png", True)
    result = run_script("04_mnist_cnn.py", "--data-dir", data, "--out-dir", tmp_path, "--epochs", 1,
                        "--image", tmp_path / "seven.png")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "还没有训练好的模型" in result.stdout and "no trained model yet: training first" in result.stdout
    assert re.search(r"seven.png: \d \([\d.]+%\)", result.stdout) and (tmp_path / "04_mnist_cnn.keras").exists()

def test_04_damaged_saved_model_says_retrain(tiny, tmp_path):
    data, _ = tiny
    (tmp_path / "04_mnist_cnn.keras").write_bytes(b"")  # a save cut short
    _digit_picture(tmp_path / "seven.png", True)
    result = run_script("04_mnist_cnn.py", "--data-dir", data, "--out-dir", tmp_path, "--image", tmp_path / "seven.png")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "damaged" in result.stderr and "--retrain" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(not HAS_REAL_MNIST, reason="real MNIST not in TFDEMOS_DATA_DIR")
def test_02_real_mnist_reaches_92_percent(tmp_path):
    result = run_script("02_mnist_softmax.py", "--out-dir", tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert accuracy_of(result.stdout, tmp_path, "02_mnist_softmax") >= 0.92


@pytest.mark.slow
@pytest.mark.skipif(not HAS_REAL_MNIST, reason="real MNIST not in TFDEMOS_DATA_DIR")
def test_03_real_mnist_reaches_98_percent(tmp_path):
    result = run_script("03_mnist_mlp.py", "--out-dir", tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert accuracy_of(result.stdout, tmp_path, "03_mnist_mlp") >= 0.98


def test_mnist_speed_bench_takes_a_lone_flag_after_args():
    spec = importlib.util.spec_from_file_location("mnist_speed", ROOT / "bench" / "mnist_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.args_with_equals(["--runs", "1", "--args", "--tta"]) == ["--runs", "1", "--args=--tta"]
    assert bench.args_with_equals(["--args", "--filters 8 8", "--runs", "2"]) == [
        "--args=--filters 8 8", "--runs", "2"]


@pytest.mark.slow
def test_mnist_speed_bench_alternates_and_times_both_in_one_fit(tiny):
    """bench/mnist_speed.py on tiny data: 04 and the peer take turns, each trains 15 epochs, and
    the summary shows both (the peer learns the 300 synthetic digits; 8-filter 04 in 1 step per
    epoch does not, so there is no ratio)."""
    data, _ = tiny
    result = run_script("bench/mnist_speed.py", "--runs", 2, "--peer-runs", 1, "--data-dir", data,
                        "--args", "--filters 8 8 --tta")
    assert result.returncode == 0, result.stderr[-3000:]
    order = re.findall(r"^(04_mnist_cnn.py --filters 8 8 --tta|peer recipe).*seed (\d)$", result.stdout, re.M)
    assert order == [("04_mnist_cnn.py --filters 8 8 --tta", "1"), ("peer recipe", "1"),
                     ("04_mnist_cnn.py --filters 8 8 --tta", "2")]
    assert len(re.findall(r"; final [\d.]+ after 15 epochs \([\d.]+ s\)$", result.stdout, re.M)) == 3
    assert len(re.findall(r"^  04 with 5 views at the end \(--tta\): [\d.]+$", result.stdout, re.M)) == 2
    assert "| 04_mnist_cnn.py --filters 8 8 --tta | 2 | not reached in every run |" in result.stdout
    assert re.search(r"^\| keras-io Simple MNIST convnet \| 1 \| [\d.]+ \([\d.]+-[\d.]+\) \|", result.stdout, re.M)
    assert "speed-up" not in result.stdout
