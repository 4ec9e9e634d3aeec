"""07 train / 08 eval on a tiny CIFAR-10-format binary set: checkpoints, resume, watch, Ctrl-C."""
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run_script, write_tiny_cifar10

TINY = ["--batch-size", 32, "--width", 8, "--log-every", 1, "--jit", "off"]


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    data_dir, _ = write_tiny_cifar10(root / "data", per_file=60)
    env = {"TFDEMOS_CACHE_DIR": str(root / "cache")}
    return data_dir, root, env


def train(cifar, train_dir, *extra):
    data_dir, root, env = cifar
    return run_script("07_cifar10_train.py", "--data-dir", data_dir, "--train-dir", train_dir,
                      *TINY, *extra, env=env)


def evaluate(cifar, train_dir, *extra):
    data_dir, root, env = cifar
    return run_script("08_cifar10_eval.py", "--data-dir", data_dir, "--train-dir", train_dir,
                      "--out-dir", root / "out", *extra, env=env)


def test_train_resume_fresh_and_evaluate(cifar, tmp_path):
    first = train(cifar, tmp_path, "--steps", 3, "--save-every", 2)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "starting fresh" in first.stdout
    assert re.search(r"step 3, loss = [\d.]+ \([\d.]+ examples/sec; [\d.]+ sec/batch\)", first.stdout)
    assert (tmp_path / "checkpoint").exists() and list(tmp_path.glob("ckpt-3.index"))
    assert list(tmp_path.glob("events.out.tfevents*"))  # TensorBoard scalars

    second = train(cifar, tmp_path, "--steps", 6)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resumed from" in second.stdout and "at step 3" in second.stdout
    assert "step 4, loss" in second.stdout and "step 1, loss" not in second.stdout
    assert "trained to step 6" in second.stdout

    result = evaluate(cifar, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"step 6: accuracy @ 1 = [01]\.\d{3}", result.stdout)
    assert "airplane" in result.stdout
    out = cifar[1] / "out"
    assert (out / "08_cifar10_confusion.png").exists() and (out / "08_cifar10_examples.png").exists()

    fresh = train(cifar, tmp_path, "--steps", 2, "--fresh")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "starting fresh" in fresh.stdout and "trained to step 2" in fresh.stdout


def test_eval_without_or_with_corrupt_checkpoint_exits_2(cifar, tmp_path):
    result = evaluate(cifar, tmp_path / "empty")
    assert result.returncode == 2 and "run 07_cifar10_train.py first" in result.stderr
    assert train(cifar, tmp_path, "--steps", 1).returncode == 0
    for data_file in tmp_path.glob("ckpt-1.data-*"):
        data_file.write_bytes(b"\0garbage" * 10)
    result = evaluate(cifar, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr[-2000:]
    assert "could not be read" in result.stderr and "Traceback" not in result.stderr


def test_watch_evaluates_new_checkpoints_then_stops(cifar, tmp_path):
    data_dir, root, env = cifar
    assert train(cifar, tmp_path, "--steps", 1).returncode == 0
    import os
    watcher = subprocess.Popen(
        [sys.executable, str(ROOT / "08_cifar10_eval.py"), "--data-dir", str(data_dir), "--train-dir",
         str(tmp_path), "--out-dir", str(root / "out"), "--watch", "--interval", "0.5", "--max-evals", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        env=dict(os.environ, **env))
    assert train(cifar, tmp_path, "--steps", 2).returncode == 0
    stdout, stderr = watcher.communicate(timeout=240)
    assert watcher.returncode == 0, stderr[-3000:]
    assert "step 1: accuracy @ 1" in stdout and "step 2: accuracy @ 1" in stdout


def test_mirrored_strategy_runs_on_cpu(cifar, tmp_path):
    result = train(cifar, tmp_path, "--steps", 2, "--strategy", "mirrored")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained to step 2" in result.stdout


def test_ctrl_c_saves_a_usable_checkpoint(cifar, tmp_path):
    data_dir, root, env = cifar
    import os
    trainer = subprocess.Popen(
        [sys.executable, str(ROOT / "07_cifar10_train.py"), "--data-dir", str(data_dir), "--train-dir",
         str(tmp_path), *map(str, TINY), "--steps", "100000", "--save-every", "100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        env=dict(os.environ, PYTHONUNBUFFERED="1", **env))
    deadline = time.time() + 180
    for line in trainer.stdout:
        if re.search(r"step 2, loss", line) or time.time() > deadline:
            break
    trainer.send_signal(signal.SIGINT)
    stdout, stderr = trainer.communicate(timeout=120)
    assert trainer.returncode == 130, stderr[-3000:]
    assert "interrupted by Ctrl-C" in stdout
    step = int(re.search(r"trained to step (\d+)", stdout).group(1))
    result = evaluate(cifar, tmp_path)
    assert result.returncode == 0 and f"step {step}: accuracy" in result.stdout
