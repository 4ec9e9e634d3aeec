"""Shared test helpers: run a demo script as a user would, write tiny data sets in real formats,
train each tiny model once per test run, and the two tiers.

Tiers: `python -m pytest -q` runs the fast tier (every script's main path and its bad-input
messages, a few minutes); tests marked `slow` (the longer trainings, several workers, the browser,
notebooks, benches, real-data accuracy) run with `-m slow`, and everything with `--full`.
"""
import gzip
import json
import shutil
import http.server
import io
import os
import re
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# What TensorFlow, Keras or a library prints that a reader should never see: absl's C++ log lines
# ("E0000 00:00:1733 ... oneDNN ..."), their preamble, and Python warnings raised inside a package.
LIBRARY_NOISE = re.compile(r"^([EWIF]\d{4} \d\d:\d\d:\d\d|WARNING: All log messages|WARNING:absl"
                           r"|.*(site-packages|dist-packages).*Warning\b)", re.MULTILINE)


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help="run both tiers: the fast one and the tests marked slow")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the full tier (python -m pytest -q -m slow, or --full for both)")


def pytest_collection_modifyitems(config, items):
    """Without --full or an explicit -m, leave out the slow tier (deselected, not skipped)."""
    if config.getoption("--full") or config.option.markexpr:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def run_script(script, *args, env=None, timeout=300, cwd=None):
    """Run `python SCRIPT ARGS` in a fresh process as a reader would (TensorFlow's log level left
    at the scripts' own default); return the CompletedProcess (text, UTF-8). Every run, on every
    test, must be free of library noise on stderr."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1")
    full_env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    for key, value in (env or {}).items():  # None: remove the variable
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    result = subprocess.run([sys.executable, str(ROOT / script), *map(str, args)],
                            capture_output=True, text=True, encoding="utf-8", errors="replace",
                            env=full_env, timeout=timeout, cwd=cwd or ROOT)
    if not full_env.get("TFDEMOS_DEBUG"):
        noise = LIBRARY_NOISE.findall(result.stderr)
        assert not noise, f"{script}: library noise on stderr:\n{result.stderr[-3000:]}"
    return result


def run_outside_repo(code, *args, cwd):
    """`python -I -c CODE ARGS` in the folder `cwd`: a Python that cannot see this repository
    (isolated mode: no PYTHONPATH, no script folder on sys.path), as a reader's own program runs.
    Returns its stdout; the run must succeed."""
    result = subprocess.run([sys.executable, "-I", "-c", code, *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, encoding="utf-8", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# A reader's own program, for run_outside_repo: the probabilities of the batch in x.npy from each
# format a script exports. Arguments: the .keras, the SavedModel folder, its input's name, the .tflite.
PREDICT_WITH_EACH_FORMAT = """\
import json, sys, numpy as np, keras, tensorflow as tf
x = np.load('x.npy')
from_keras = keras.models.load_model(sys.argv[1]).predict(x, verbose=0)
served = tf.saved_model.load(sys.argv[2]).signatures['serving_default'](**{sys.argv[3]: tf.constant(x)})['output_0']
lite = tf.lite.Interpreter(model_path=sys.argv[4])
lite.resize_tensor_input(lite.get_input_details()[0]['index'], x.shape)
lite.allocate_tensors()
lite.set_tensor(lite.get_input_details()[0]['index'], x)
lite.invoke()
from_lite = lite.get_tensor(lite.get_output_details()[0]['index'])
print(json.dumps([from_keras.tolist(), served.numpy().tolist(), from_lite.tolist()]))
"""


def write_idx_gz(path, array, magic):
    array = np.asarray(array, dtype=np.uint8)
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def synthetic_digits(n, seed=0):
    """n 28×28 images of 10 easy-to-tell patterns (a bar whose position is the digit), + noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
    for i, label in enumerate(labels):
        row = 3 + 2 * int(label)
        images[i, row:row + 2, 4:24] = 255
    return images, labels


def write_tiny_mnist(folder, n_train=300, n_test=100):
    folder = Path(folder) / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = synthetic_digits(n, seed)
        write_idx_gz(folder / f"{split}-images-idx3-ubyte.gz", images, 2051)
        write_idx_gz(folder / f"{split}-labels-idx1-ubyte.gz", labels, 2049)
    return folder.parent


def write_tiny_cifar10(folder, per_file=60, seed=0):
    """A cifar-10-binary.tar.gz in the official layout, with `per_file` records per batch."""
    rng = np.random.default_rng(seed)
    folder = Path(folder) / "cifar10"
    folder.mkdir(parents=True, exist_ok=True)
    records = {}
    with tarfile.open(folder / "cifar-10-binary.tar.gz", "w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            labels = rng.integers(0, 10, size=per_file).astype(np.uint8)
            planes = rng.integers(0, 256, size=(per_file, 3, 32, 32)).astype(np.uint8)
            for i, label in enumerate(labels):  # a class-dependent colour so a net can learn it
                planes[i, label % 3] = np.clip(planes[i, label % 3] // 4 + 25 * label, 0, 255)
            data = b"".join(bytes([l]) + p.tobytes() for l, p in zip(labels, planes))
            records[name] = (labels, planes)
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return folder.parent, records


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_root(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yields (folder, base_url)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = lambda *a, **k: _QuietHandler(*a, directory=str(www), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.handle_error = lambda request, address: None  # a client that hangs up early is a test case
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def dead_url():
    """A 127.0.0.1 port with nothing listening: connection refused at once."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"


# ---------------------------------------------------------------- tiny Tang poems (09)
LINES = ["春風吹柳綠", "花落水中流", "明月照山高", "秋雲過遠樓", "白日依山盡", "黃河入海流",
         "欲窮千里目", "更上一層樓", "江水向東去", "青山不老秋", "夜深人未歸", "孤舟月下遊"]


def tang_folder(root):
    """58 poet.tang.N.json files holding a few dozen short regular poems (plus ones to be cleaned out)."""
    folder = root / "tang-poems"
    folder.mkdir(parents=True)
    poems = []
    for i in range(48):
        a, b, c, d = (LINES[(i + k * 5) % len(LINES)] for k in range(4))
        poems.append({"author": "無名", "title": f"詩{i}", "paragraphs": [f"{a}，{b}。", f"{c}，{d}。"]})
    poems.append({"author": "x", "title": "damaged", "paragraphs": ["春風□柳綠，花落水中流。"]})
    poems.append({"author": "x", "title": "irregular", "paragraphs": ["春風吹，花落水中流。"]})
    for n in range(0, 58000, 1000):
        chunk = poems if n == 0 else []
        (folder / f"poet.tang.{n}.json").write_text(json.dumps(chunk, ensure_ascii=False), encoding="utf-8")
    return root


# Tests of a locale-independent UTF-8 program: no LANG, no PYTHONIOENCODING.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": None, "PYTHONUTF8": None}
QUICK = ["--batch-size", 4, "--seq-len", 16, "--units", 32, "--embedding", 16, "--epochs", 3,
         "--sample-every", 10, "--head", 20]  # (--head 20: two thirds of the tiny vocabulary are "rare")


# ---------------------------------------------------------------- processes a test starts
@pytest.fixture
def spawn():
    """spawn(args, **popen_kwargs) → Popen; whatever is still running when the test ends, pass or
    fail, is killed and reaped, so no test leaves a process behind."""
    started = []

    def start(args, **kwargs):
        process = subprocess.Popen(args, **kwargs)
        started.append(process)
        return process
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        try:
            process.communicate(timeout=30)
        except (subprocess.TimeoutExpired, ValueError):
            pass


# ---------------------------------------------------------------- tiny models, trained once a run
def copy_of(folder, to):
    """A private copy of a shared trained folder, for a test that changes it."""
    return Path(shutil.copytree(folder, to))


@pytest.fixture(scope="session")
def mnist_cnn(tmp_path_factory):
    """Tiny MNIST, and 04's default model trained on it for 2 epochs and exported (--export):
    (data dir, out dir, run)."""
    root = tmp_path_factory.mktemp("mnist_cnn")
    data = write_tiny_mnist(root / "data")
    result = run_script("04_mnist_cnn.py", "--data-dir", data, "--out-dir", root / "out", "--epochs", 2, "--export")
    assert result.returncode == 0, result.stderr[-2000:]
    return data, root / "out", result


# 07 on tiny data: small, no XLA (compiling would cost more than the steps).
CIFAR_TINY = ["--batch-size", 32, "--width", 8, "--log-every", 1, "--jit", "off"]


@pytest.fixture(scope="session")
def cifar_run(tmp_path_factory):
    """Tiny CIFAR-10, and 07's default model trained on it for 3 steps (checkpoints at 2 and 3):
    (data dir, its cache env, train dir, run). Tests that change the train dir use copy_of."""
    root = tmp_path_factory.mktemp("cifar_run")
    data, _ = write_tiny_cifar10(root / "data", per_file=60)
    env = {"TFDEMOS_CACHE_DIR": str(root / "cache")}
    train_dir = root / "train"
    result = run_script("07_cifar10_train.py", "--data-dir", data, "--train-dir", train_dir, "--out-dir",
                        f"{train_dir}_out", *CIFAR_TINY, "--steps", 3, "--save-every", 2, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return data, env, train_dir, result


@pytest.fixture(scope="session")
def poem_model(tmp_path_factory):
    """Tiny Tang corpus, and 09 trained on it with QUICK (C locale): (data dir, train dir, run)."""
    root = tmp_path_factory.mktemp("poems")
    data = tang_folder(root / "data")
    train_dir = root / "model"
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, *QUICK,
                        "--out-dir", root / "out", env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    return data, train_dir, result


@pytest.fixture(scope="session")
def membership_run(tmp_path_factory):
    """05 on its generated stand-in (1,500 rows, 5 epochs), with --export: (its folder, the run).
    The stand-in CSV goes to the folder's cache/ (common/paths.py), the model to out/."""
    folder = tmp_path_factory.mktemp("membership")
    result = run_script("05_membership.py", "--out-dir", folder / "out", "--rows", 1500, "--epochs", 5, "--export",
                        env={"TFDEMOS_CACHE_DIR": str(folder / "cache")})
    assert result.returncode == 0, result.stderr[-2000:]
    return folder, result
