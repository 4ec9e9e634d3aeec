"""Shared test helpers: run a demo script as a user would, write tiny data sets in real formats."""
import gzip
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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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
