"""Every fault a beginner can cause ends in one clear message and the right exit code (issue #11).

Each case runs the real script in a fresh process, as a user would: exit code 2 for bad input,
1 for a NaN, 130 for Ctrl-C; the message names the flag/file; never a "Traceback".
"""
import errno
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import common
from common import errors, files
from conftest import ROOT, run_script, write_tiny_cifar10, write_tiny_mnist

OFFLINE = {"TFDEMOS_OFFLINE": "1"}


def assert_clear_failure(result, *fragments, code=2):
    assert result.returncode == code, (result.returncode, result.stdout[-1500:], result.stderr[-1500:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr[-2000:])


# ---------------------------------------------------------------- numeric flags (argparse, fast)
BAD_FLAGS = [
    ("01_linear_fit.py", "--steps", "-1"), ("02_mnist_softmax.py", "--steps", "-1"),
    ("06_age_gt5.py", "--steps", "-1"), ("03_mnist_mlp.py", "--epochs", "0"),
    ("04_mnist_cnn.py", "--epochs", "-1"), ("05_membership.py", "--epochs", "0"),
    ("07_cifar10_train.py", "--epochs", "0"), ("09_poem_rnn.py", "--epochs", "-1"),
    ("02_mnist_softmax.py", "--batch-size", "0"), ("03_mnist_mlp.py", "--batch-size", "0"),
    ("04_mnist_cnn.py", "--batch-size", "0"), ("05_membership.py", "--batch-size", "0"),
    ("07_cifar10_train.py", "--batch-size", "0"), ("09_poem_rnn.py", "--batch-size", "0"),
    ("02_mnist_softmax.py", "--eval-every", "0"), ("07_cifar10_train.py", "--save-every", "0"),
    ("09_poem_rnn.py", "--seq-len", "0"), ("05_membership.py", "--rows", "5"),
    ("06_age_gt5.py", "--train-size", "0"), ("05_membership.py", "--test-split", "0"),
    ("05_membership.py", "--test-split", "1"), ("05_membership.py", "--test-split", "2"),
    ("05_membership.py", "--test-split", "nan"), ("08_cifar10_eval.py", "--max-test", "0"),
    ("08_cifar10_eval.py", "--max-test", "-3"), ("08_cifar10_eval.py", "--interval", "-1"),
    ("01_linear_fit.py", "--seed", "-1"), ("04_mnist_cnn.py", "--seed", str(2 ** 32)),
    ("09_poem_rnn.py", "--temperature", "nan"), ("09_poem_rnn.py", "--temperature", "-1"),
    ("09_poem_rnn.py", "--top-k", "-1"), ("09_poem_rnn.py", "--generate", "0"),
    ("09_poem_rnn.py", "--generate", "-2"), ("02_mnist_softmax.py", "--lr", "inf"),
    ("07_cifar10_train.py", "--width", "1"), ("09_poem_rnn.py", "--forms", "5,x"),
    ("03_mnist_mlp.py", "--max-train", "0"), ("07_cifar10_train.py", "--steps", "abc"),
    ("04_mnist_cnn.py", "--shift", "-1"),
]


@pytest.mark.parametrize("script, flag, value", BAD_FLAGS)
def test_bad_number_is_refused_before_anything_runs(tmp_path, script, flag, value):
    result = run_script(script, flag, value, "--out-dir", tmp_path / "out", timeout=60)
    assert_clear_failure(result, flag)
    assert not (tmp_path / "out").exists()  # nothing trained, nothing saved over a good model



@pytest.mark.parametrize("script, args, chinese, english", [
    ("04_mnist_cnn.py", ["--epohcs", "3"], "不认识的参数", "你是想写 --epochs 吗？/ did you mean --epochs?"),
    ("09_poem_rnn.py", ["--genrate", "3", "--stat", "春"], "不认识的参数", "did you mean --generate?\n  --stat：你是想写 --start 吗？/ did you mean --start?"),
    ("07_cifar10_train.py", ["--model", "resnet"], "参数 --model 只能取列出的值之一", "invalid choice: 'resnet'"),
    ("05_membership.py", ["--csv"], "参数 --csv 后面要写一个值", "expected one argument"),
    ("02_mnist_softmax.py", ["--lr", "x"], "参数 --lr：需要一个数", "argument --lr: expected a number"),
])
def test_a_mistyped_flag_is_answered_chinese_first_with_the_nearest_flag(tmp_path, script, args, chinese, english):
    result = run_script(script, *args, "--out-dir", tmp_path / "out", timeout=60)
    assert_clear_failure(result, english)
    assert f"错误 / error: {chinese}" in result.stderr and result.stderr.index(chinese) < result.stderr.index(english)
    assert not (tmp_path / "out").exists()

@pytest.mark.parametrize("values", [("0", "32"), ("32",), ("32", "x")])
def test_04_filters_needs_two_positive_counts(tmp_path, values):
    result = run_script("04_mnist_cnn.py", "--filters", *values, "--out-dir", tmp_path / "out", timeout=60)
    assert_clear_failure(result, "--filters")
    assert not (tmp_path / "out").exists()


def test_article_model_refuses_augmentation(tmp_path):
    result = run_script("04_mnist_cnn.py", "--model", "article", "--shift", "1", "--out-dir", tmp_path / "out",
                        timeout=60)
    assert_clear_failure(result, "--shift", "--model article")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- missing or damaged data
def slow(*values):
    """A case of the full tier; the fast tier keeps one case of the same kind through the real
    script and checks every case's message in-process (the same loader, no new process)."""
    return pytest.param(*values, marks=pytest.mark.slow)


def user_error(function, *args):
    """The one message (exit 2) a script would print for what `function(*args)` raises."""
    with pytest.raises(common.UserError) as info:
        function(*args)
    code, message = errors.message_for(info.value)
    assert code == 2
    return message


@pytest.mark.parametrize("script, missing", [
    ("02_mnist_softmax.py", "train-images-idx3-ubyte.gz"), slow("03_mnist_mlp.py", "train-images-idx3-ubyte.gz"),
    slow("04_mnist_cnn.py", "train-images-idx3-ubyte.gz"), slow("07_cifar10_train.py", "cifar-10-binary.tar.gz"),
    slow("09_poem_rnn.py", "poet.tang.0.json"),
])
def test_empty_data_dir_without_network(tmp_path, script, missing):
    result = run_script(script, "--data-dir", tmp_path / "empty", "--out-dir", tmp_path / "out",
                        *(["--train-dir", tmp_path / "train"] if script[:2] in ("07", "09") else []),
                        env=dict(OFFLINE, TFDEMOS_CACHE_DIR=str(tmp_path / "cache")))
    assert_clear_failure(result, missing, "TFDEMOS_OFFLINE", "--data-dir")


@pytest.mark.parametrize("load, missing", [
    (common.load_mnist, "train-images-idx3-ubyte.gz"), (common.cifar10_files, "cifar-10-binary.tar.gz"),
    (common.load_tang_poems, "poet.tang.0.json"),
])
def test_empty_data_dir_without_network_in_process(tmp_path, monkeypatch, load, missing):
    monkeypatch.setenv("TFDEMOS_OFFLINE", "1")
    monkeypatch.setenv("TFDEMOS_CACHE_DIR", str(tmp_path / "cache"))
    message = user_error(load, tmp_path / "empty")
    assert missing in message and "TFDEMOS_OFFLINE" in message and "--data-dir" in message


def test_debug_switch_shows_the_traceback(tmp_path):
    result = run_script("02_mnist_softmax.py", "--data-dir", tmp_path, env=dict(OFFLINE, TFDEMOS_DEBUG="1"))
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "DownloadError" in result.stderr


DAMAGED_MNIST = [
    ("truncated", "not a complete gzip file"),
    ("zero bytes", "IDX magic number is None"),
    ("wrong magic", "IDX magic number is 2049, expected 2051"),
    ("folder", "is a folder"),
]


def damage_mnist(data, damage):
    images = data / "mnist" / "train-images-idx3-ubyte.gz"
    if damage == "truncated":
        images.write_bytes(images.read_bytes()[:-200])
    elif damage == "zero bytes":
        images.write_bytes(b"")
    elif damage == "wrong magic":
        images.write_bytes((data / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes())
    else:
        images.unlink()
        images.mkdir()


@pytest.mark.parametrize("damage, expected", [DAMAGED_MNIST[0], *(slow(*case) for case in DAMAGED_MNIST[1:])])
def test_damaged_mnist_file(tmp_path, damage, expected):
    data = write_tiny_mnist(tmp_path / "data")
    damage_mnist(data, damage)
    result = run_script("02_mnist_softmax.py", "--data-dir", data, "--out-dir", tmp_path / "out", "--steps", 2)
    assert_clear_failure(result, expected, "train-images-idx3-ubyte.gz")


@pytest.mark.parametrize("damage, expected", DAMAGED_MNIST)
def test_damaged_mnist_file_in_process(tmp_path, damage, expected):
    data = write_tiny_mnist(tmp_path / "data")
    damage_mnist(data, damage)
    message = user_error(common.load_mnist, data)
    assert expected in message and "train-images-idx3-ubyte.gz" in message


def test_truncated_cifar_archive(tmp_path):
    data, _ = write_tiny_cifar10(tmp_path / "data", per_file=20)
    archive = data / "cifar10" / "cifar-10-binary.tar.gz"
    archive.write_bytes(archive.read_bytes()[:3000])
    env = {"TFDEMOS_CACHE_DIR": str(tmp_path / "cache")}
    result = run_script("07_cifar10_train.py", "--data-dir", data, "--train-dir", tmp_path / "t", "--steps", 1,
                        env=env)
    assert_clear_failure(result, "is damaged", "delete it")
    assert not (tmp_path / "t" / "model.json").exists()


def unsafe_cifar_archive(tmp_path):
    """A cifar-10-binary.tar.gz whose member would land outside the folder it is unpacked into."""
    import io
    import tarfile
    data = tmp_path / "data"
    (data / "cifar10").mkdir(parents=True)
    with tarfile.open(data / "cifar10" / "cifar-10-binary.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("../../evil.bin")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    return data


def test_unsafe_cifar_archive_in_process(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDEMOS_CACHE_DIR", str(tmp_path / "cache"))
    assert "unsafe member path" in user_error(common.cifar10_files, unsafe_cifar_archive(tmp_path))
    assert not (tmp_path / "evil.bin").exists()


@pytest.mark.slow
def test_unsafe_cifar_archive(tmp_path):
    data = unsafe_cifar_archive(tmp_path)
    result = run_script("07_cifar10_train.py", "--data-dir", data, "--train-dir", tmp_path / "t", "--steps", 1,
                        env={"TFDEMOS_CACHE_DIR": str(tmp_path / "cache")})
    assert_clear_failure(result, "unsafe member path")
    assert not (tmp_path / "evil.bin").exists()


def test_unwritable_cache_never_calls_a_good_archive_damaged(tmp_path):
    data, _ = write_tiny_cifar10(tmp_path / "data", per_file=20)
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    env = {"TFDEMOS_CACHE_DIR": str(tmp_path / "a-file" / "cache")}  # cannot be created
    result = run_script("07_cifar10_train.py", "--data-dir", data, "--train-dir", tmp_path / "t", "--steps", 1,
                        env=env)
    assert_clear_failure(result, "cache")
    assert "damaged" not in result.stderr and "delete" not in result.stderr


UNPACK = "import common, sys; print(len(common.cifar10_files(sys.argv[1])['train']))"


def test_programs_unpacking_one_cache_at_once_all_get_one_good_copy(tmp_path):
    """Two first runs started together (07 in two terminals, 07 and 08) unpack CIFAR-10 into one
    empty cache; another had died half-way before. Each ends with the one good copy, none says
    "damaged"."""
    import tarfile
    data, records = write_tiny_cifar10(tmp_path / "data", per_file=400)
    cache = tmp_path / "cache"
    half = cache / "cifar10" / "cifar-10-batches-bin"  # what a program killed while unpacking left
    half.mkdir(parents=True)
    (half / "data_batch_1.bin").write_bytes(b"\0" * 100)
    (cache / "cifar10" / ".extracting-killed").mkdir()
    env = dict(os.environ, TFDEMOS_CACHE_DIR=str(cache))
    programs = [subprocess.Popen([sys.executable, "-c", UNPACK, str(data)], cwd=ROOT, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    for program in programs:
        out, err = program.communicate(timeout=120)
        assert program.returncode == 0 and out.strip().endswith("5"), err[-2000:]
        assert "damaged" not in out + err
    for name, (labels, planes) in records.items():  # byte for byte what the archive holds
        expected = b"".join(bytes([l]) + p.tobytes() for l, p in zip(labels, planes))
        assert (half / name).read_bytes() == expected, name
    assert not list((cache / "cifar10").glob(".extracting*"))
    with tarfile.open(data / "cifar10" / "cifar-10-binary.tar.gz") as tar:
        assert len(tar.getmembers()) == 6


def test_read_only_destination_keeps_the_archive(tmp_path, monkeypatch):
    """A folder we may not write (EACCES/EROFS): the archive is fine, and the message says keep it."""
    data, _ = write_tiny_cifar10(tmp_path / "data", per_file=5)
    archive = data / "cifar10" / "cifar-10-binary.tar.gz"

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "cache"))
    monkeypatch.setattr("tarfile.TarFile.extractall", read_only)
    with pytest.raises(common.UserError) as info:
        common.safe_extract_tar(archive, tmp_path / "cache")
    message = str(info.value)
    assert "keep it" in message and "damaged" not in message and "TFDEMOS_CACHE_DIR" in message
    assert archive.exists()


# ---------------------------------------------------------------- the poem corpus
def _poem_folder(root, first_file):
    folder = root / "tang-poems"
    folder.mkdir(parents=True)
    good = json.dumps([{"title": "t", "author": "a", "paragraphs": ["白日依山盡，黃河入海流。"]}], ensure_ascii=False)
    for n in range(0, 58000, 1000):
        (folder / f"poet.tang.{n}.json").write_text(good, encoding="utf-8")
    first = folder / "poet.tang.0.json"
    if isinstance(first_file, bytes):
        first.write_bytes(first_file)
    else:
        first.unlink()
        first.mkdir()
    return root


BROKEN_POEMS = [
    (b"[{\"paragraphs\": [", "not valid JSON"),
    (json.dumps([{"paragraphs": ["春風吹柳綠，花落水中流。"]}], ensure_ascii=False).encode("gbk"), "not UTF-8"),
    (b"{\"paragraphs\": []}", "expected a JSON list of poems"),
    (b"[{\"paragraphs\": 5}]", "must be a list of lines"),
    (None, "is a folder"),
]


@pytest.mark.parametrize("content, expected", BROKEN_POEMS)
def test_broken_poem_files_in_process(tmp_path, content, expected):
    message = user_error(common.load_tang_poems, _poem_folder(tmp_path / "data", content))
    assert expected in message and "poet.tang.0.json" in message


@pytest.mark.parametrize("content, expected", [BROKEN_POEMS[0], *(slow(*case) for case in BROKEN_POEMS[1:])])
def test_broken_poem_files(tmp_path, content, expected):
    data = _poem_folder(tmp_path / "data", content)
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", tmp_path / "t")
    assert_clear_failure(result, expected, "poet.tang.0.json")


def test_poem_file_with_bom_is_read(tmp_path):
    data = _poem_folder(tmp_path / "data", b"\xef\xbb\xbf" + json.dumps([{"paragraphs": ["a，b。"]}]).encode())
    poems = common.load_tang_poems(data)
    assert poems[0]["paragraphs"] == ["a，b。"] and len(poems) == 58


def test_corpus_folder_and_generate_without_model(tmp_path):
    result = run_script("09_poem_rnn.py", "--corpus", tmp_path, "--train-dir", tmp_path / "t")
    assert_clear_failure(result, "is a folder")

    started = time.time()
    result = run_script("09_poem_rnn.py", "--generate", 3, "--train-dir", tmp_path / "t")
    assert_clear_failure(result, "no trained model", "python 09_poem_rnn.py")
    assert time.time() - started < 60 and not list((tmp_path / "t").glob("ckpt-*"))  # nothing trained


def test_poem_download_is_pinned_and_checked():
    checksums = common.datasets.tang_checksums()
    assert len(checksums) == 58 and all(len(v) == 64 for v in checksums.values())
    assert all("@2.0.1/" in url for url in common.datasets.TANG_MIRRORS)


# ---------------------------------------------------------------- downloads: size and time caps
def test_download_size_and_time_caps(http_root, tmp_path):
    www, base = http_root
    (www / "big.bin").write_bytes(b"x" * 200_000)
    with pytest.raises(common.DownloadError, match="more than the 1,000 expected"):
        common.fetch("big.bin", [base + "big.bin"], tmp_path / "a", max_bytes=1000)
    with pytest.raises(common.DownloadError, match="took longer than"):
        common.fetch("big.bin", [base + "big.bin"], tmp_path / "b", max_seconds=1e-9)
    assert not list((tmp_path / "a").iterdir()) and not list((tmp_path / "b").iterdir())


# ---------------------------------------------------------------- safe writes
def test_failed_replace_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "model.json"
    files.write_text(target, "good")

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(common.UserError) as info:
        files.write_text(target, "new")
    assert "disk full" in str(info.value) and "previous file is unchanged" in str(info.value)
    assert target.read_text(encoding="utf-8") == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]  # no temp file left


def test_half_written_keras_model_never_replaces_the_good_one(tmp_path):
    class FailingModel:
        def save(self, path):
            with open(path, "wb") as f:
                f.write(b"PK half a zip")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
    target = tmp_path / "04_mnist_cnn.keras"
    target.write_bytes(b"the good model")
    with pytest.raises(common.UserError, match="disk full"):
        files.save_keras_model(FailingModel(), target)
    assert target.read_bytes() == b"the good model"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_unexpected_errors_and_missing_packages_are_explained():
    code, message = errors.message_for(ValueError("boom"))
    assert code == 1 and "traceback above" in message and "ValueError: boom" in message
    code, message = errors.message_for(ModuleNotFoundError("No module named 'keras'", name="keras"))
    assert code == 2 and "pip install -r requirements.txt" in message
    code, message = errors.message_for(PermissionError(errno.EACCES, "Permission denied", "/x/y"))
    assert code == 2 and "/x/y" in message and "permission" in message


def test_an_error_in_the_readers_own_edit_shows_its_line(tmp_path):
    """A reader changes a lesson and makes a mistake: the traceback names their file and line,
    then one bilingual line says what to do (exit 1). Bad input stays one line (above)."""
    import shutil
    shutil.copytree(ROOT / "common", tmp_path / "common", ignore=shutil.ignore_patterns("__pycache__"))
    lines = (ROOT / "01_linear_fit.py").read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("args = ")) + 1
    lines.insert(at, "house_prices = {'area': 81.5}['price']  # the reader's own edit, with a slip")
    (tmp_path / "01_linear_fit.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(tmp_path / "01_linear_fit.py"), "--out-dir", str(tmp_path / "out")],
                            capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" in result.stderr and f'01_linear_fit.py", line {at + 1}' in result.stderr
    assert "KeyError: 'price'" in result.stderr and "if it is code you changed, fix that line" in result.stderr
    assert "代码出错" in result.stderr



def test_a_tensorflow_error_in_the_readers_edit_says_what_tensorflow_said(tmp_path):
    """A copy of 03 whose last layer has 9 outputs for 10 digits: TensorFlow's graph error comes as
    its own words (the label out of range) and the reader's line, not 60 lines of its op's stack."""
    import shutil
    shutil.copytree(ROOT / "common", tmp_path / "common", ignore=shutil.ignore_patterns("__pycache__"))
    source = (ROOT / "03_mnist_mlp.py").read_text(encoding="utf-8")
    assert source.count("keras.layers.Dense(10") == 1
    (tmp_path / "my_03.py").write_text(source.replace("keras.layers.Dense(10", "keras.layers.Dense(9"), encoding="utf-8")
    data = write_tiny_mnist(tmp_path / "data")
    result = subprocess.run([sys.executable, str(tmp_path / "my_03.py"), "--epochs", "1", "--data-dir", str(data),
                             "--out-dir", str(tmp_path / "out")],  # on the CPU: a GPU's kernel gives NaN, not this error
                            capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, timeout=120,
                            env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
    assert result.returncode == 1, result.stderr[-2000:]
    fit = next(i for i, line in enumerate(source.splitlines(), 1) if "model.fit(" in line)
    assert "Traceback" in result.stderr and f'my_03.py", line {fit}' in result.stderr
    assert f"my_03.py 第 {fit} 行 / line {fit}: history = model.fit(" in result.stderr
    assert "InvalidArgumentError: Received a label value of 9 which is outside the valid range of [0, 9)" in result.stderr
    assert "Detected at node" not in result.stderr and len(result.stderr.splitlines()) < 30, result.stderr

# ---------------------------------------------------------------- Ctrl-C during start-up
def test_ctrl_c_during_start_up_is_one_line_and_130(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # A suite started in the background (nohup, `&`) passes an *ignored* SIGINT on to its children,
    # and Python keeps it ignored: give the script the ordinary Ctrl-C a user's terminal gives.
    ordinary_ctrl_c = (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if os.name == "posix" else None
    process = subprocess.Popen([sys.executable, str(ROOT / "01_linear_fit.py"), "--out-dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT,
                               preexec_fn=ordinary_ctrl_c)
    time.sleep(1.0)  # TensorFlow is still being imported
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    err = err.decode("utf-8", "replace")
    assert process.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err


def test_gzip_damage_advice_is_not_given_for_a_folder(tmp_path):
    (tmp_path / "x.gz").mkdir()
    with pytest.raises(common.UserError) as info:
        common.datasets.read_idx_gz(tmp_path / "x.gz", 2051)
    assert "delete" not in str(info.value)
    path = tmp_path / "y.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"\0" * 100)
    path.write_bytes(path.read_bytes()[:15])
    with pytest.raises(common.DataError, match="delete it"):
        common.datasets.read_idx_gz(path, 2051)


def test_safe_writes_make_ordinary_files(tmp_path):
    old = os.umask(0o022)
    try:
        files.write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644  # not mkstemp's owner-only 0o600
