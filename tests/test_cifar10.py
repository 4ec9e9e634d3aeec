"""07 train / 08 eval on a tiny CIFAR-10-format binary set: checkpoints, resume, watch, Ctrl-C."""
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import common

from conftest import CIFAR_TINY as TINY
from conftest import LIBRARY_NOISE, PREDICT_WITH_EACH_FORMAT, ROOT, copy_of, run_outside_repo, run_script


@pytest.fixture(scope="module")
def cifar(cifar_run, tmp_path_factory):
    """The tiny CIFAR-10 of conftest.cifar_run (already unpacked into its cache), and a folder for 08's output."""
    data_dir, env, _, _ = cifar_run
    return data_dir, tmp_path_factory.mktemp("cifar"), env


def results_dir(train_dir):
    """Where 07's results JSON goes: beside its train dir, never into the project's outputs/."""
    return f"{train_dir}_out"


def train(cifar, train_dir, *extra):
    data_dir, root, env = cifar
    return run_script("07_cifar10_train.py", "--data-dir", data_dir, "--train-dir", train_dir,
                      "--out-dir", results_dir(train_dir), *TINY, *extra, env=env)


def start_trainer(spawn, cifar, train_dir, *extra):
    """07 in the background, training 'forever' (until a test stops it)."""
    import os
    data_dir, _, env = cifar
    return spawn(
        [sys.executable, str(ROOT / "07_cifar10_train.py"), "--data-dir", str(data_dir), "--train-dir",
         str(train_dir), "--out-dir", results_dir(train_dir), *map(str, TINY), "--steps", "100000", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        env=dict(os.environ, PYTHONUNBUFFERED="1", **env))


def evaluate(cifar, train_dir, *extra):
    data_dir, root, env = cifar
    return run_script("08_cifar10_eval.py", "--data-dir", data_dir, "--train-dir", train_dir,
                      "--out-dir", root / "out", *extra, env=env)


def test_train_resume_fresh_and_evaluate(cifar, cifar_run, tmp_path):
    first = cifar_run[3]  # 07 --steps 3 --save-every 2, trained once per test run (conftest.py)
    tmp_path = copy_of(cifar_run[2], tmp_path / "train")
    assert "starting fresh" in first.stdout
    from common import cpu_has_bfloat16  # the default (auto): bfloat16 where this CPU has it
    assert f"{'bfloat16' if cpu_has_bfloat16() else 'float32'} 运算 / arithmetic" in first.stdout
    assert re.search(r"第 3 步 / step 3, loss = [\d.]+ \([\d.]+ examples/sec; [\d.]+ sec/batch\)", first.stdout)
    assert (tmp_path / "checkpoint").exists() and list(tmp_path.glob("ckpt-3.index"))
    assert list(tmp_path.glob("events.out.tfevents*"))  # TensorBoard scalars

    second = train(cifar, tmp_path, "--steps", 6)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resumed from" in second.stdout and "at step 3" in second.stdout
    assert "第 4 步 / step 4, loss" in second.stdout and "step 1, loss" not in second.stdout
    assert "trained to step 6" in second.stdout

    result = evaluate(cifar, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"第 6 步 / step 6: 准确率 / accuracy @ 1 = [01]\.\d{3}", result.stdout)
    assert "airplane" in result.stdout
    out = cifar[1] / "out"
    assert (out / "08_cifar10_confusion.png").exists() and (out / "08_cifar10_examples.png").exists()

    fresh = train(cifar, tmp_path, "--steps", 2, "--fresh")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "starting fresh" in fresh.stdout and "trained to step 2" in fresh.stdout


def test_eval_without_or_with_corrupt_checkpoint_exits_2(cifar, cifar_run, tmp_path):
    result = evaluate(cifar, tmp_path / "empty")
    assert result.returncode == 2 and "run 07_cifar10_train.py first" in result.stderr
    tmp_path = copy_of(cifar_run[2], tmp_path / "train")  # trained to step 3
    for data_file in tmp_path.glob("ckpt-3.data-*"):
        data_file.write_bytes(b"\0garbage" * 10)
    result = evaluate(cifar, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr[-2000:]
    assert "could not be read" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_watch_evaluates_new_checkpoints_then_stops(cifar, tmp_path, spawn):
    """08 --watch evaluates the newest checkpoint, then each new one. The second training starts
    only once the watcher has reported the first, so the test never depends on which is faster."""
    data_dir, root, env = cifar
    assert train(cifar, tmp_path, "--steps", 1).returncode == 0
    import os
    watcher = spawn(
        [sys.executable, str(ROOT / "08_cifar10_eval.py"), "--data-dir", str(data_dir), "--train-dir",
         str(tmp_path), "--out-dir", str(root / "out"), "--watch", "--interval", "0.5", "--max-evals", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        env=dict(os.environ, **env))
    seen = []
    for line in watcher.stdout:
        seen.append(line)
        if "第 1 步 / step 1: 准确率 / accuracy @ 1" in line:
            break
    assert seen and "第 1 步" in seen[-1], "".join(seen)[-3000:]
    assert train(cifar, tmp_path, "--steps", 2).returncode == 0
    stdout, stderr = watcher.communicate(timeout=240)
    assert watcher.returncode == 0, stderr[-3000:]
    assert "第 2 步 / step 2: 准确率 / accuracy @ 1" in stdout


@pytest.mark.slow
def test_mirrored_strategy_runs_on_cpu(cifar, tmp_path):
    result = train(cifar, tmp_path, "--steps", 2, "--strategy", "mirrored")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained to step 2" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("stop, name, code", [(signal.SIGINT, "Ctrl-C", 130), (signal.SIGTERM, "SIGTERM", 143)])
def test_ctrl_c_or_sigterm_saves_a_usable_checkpoint(cifar, tmp_path, spawn, stop, name, code):
    """Ctrl-C, and SIGTERM (an IDE's stop button, `docker stop`), save the step reached before exiting."""
    trainer = start_trainer(spawn, cifar, tmp_path, "--save-every", "100000")
    deadline = time.time() + 180
    for line in trainer.stdout:
        if "第 2 步 / step 2, loss" in line or time.time() > deadline:
            break
    trainer.send_signal(stop)
    stdout, stderr = trainer.communicate(timeout=120)
    assert trainer.returncode == code, stderr[-3000:]
    assert f"收到 {name}" in stdout and f"interrupted by {name}" in stdout and "Traceback" not in stderr
    trained = json.loads((Path(results_dir(tmp_path)) / "07_cifar10_train.json").read_text(encoding="utf-8"))
    step = trained["step"]
    assert trained["interrupted"] and step >= 2 and f"trained to step {step} in" in stdout
    result = evaluate(cifar, tmp_path)
    assert result.returncode == 0 and f"第 {step} 步 / step {step}: 准确率 / accuracy" in result.stdout


@pytest.mark.slow
def test_kill_during_save_then_resume_other_width_and_fresh(cifar, tmp_path, spawn):
    """kill -9 while saving, a normal run, 08, a resume with other flags, --fresh: all behave."""
    trainer = start_trainer(spawn, cifar, tmp_path, "--save-every", "1")
    saves, deadline = 0, time.time() + 180
    for line in trainer.stdout:
        saves += "saved checkpoint" in line
        if saves >= 2 or time.time() > deadline:
            break
    trainer.kill()  # SIGKILL: no handler runs, wherever it is
    trainer.communicate(timeout=60)
    # What a kill in the middle of TensorFlow's save leaves behind (killing at exactly that
    # instant cannot be timed reliably, so it is laid down by hand, as TF names it):
    leftover = tmp_path / "ckpt-999_temp"
    leftover.mkdir()
    (leftover / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0" * 100)
    model_json = (tmp_path / "model.json").read_bytes()

    again = train(cifar, tmp_path, "--steps", 6, "--save-every", 3, "--max-train", 200)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "removed an unfinished checkpoint" in again.stdout and "resumed from" in again.stdout
    assert not leftover.exists()
    assert again.stdout.count("ckpt-6 (") == 1  # the last step is saved once, not twice
    assert (tmp_path / "model.json").read_bytes() == model_json  # its pixel statistics too: all the training images

    result = evaluate(cifar, tmp_path)
    assert result.returncode == 0 and "第 6 步 / step 6: 准确率 / accuracy" in result.stdout, result.stderr[-2000:]

    other = train(cifar, tmp_path, "--steps", 8, "--width", 16)
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert "--width 8" in other.stderr and "--fresh" in other.stderr
    assert (tmp_path / "model.json").read_bytes() == model_json  # nothing was rewritten
    assert evaluate(cifar, tmp_path).returncode == 0

    leftover.mkdir()
    fresh = train(cifar, tmp_path, "--steps", 1, "--width", 16, "--fresh")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "starting fresh" in fresh.stdout and not leftover.exists()
    assert sorted(p.name for p in tmp_path.glob("ckpt-*.index")) == ["ckpt-1.index"]
    result = evaluate(cifar, tmp_path)
    assert result.returncode == 0 and "第 1 步 / step 1: 准确率 / accuracy" in result.stdout


@pytest.mark.slow
def test_08_exports_a_plain_keras_model_a_saved_model_and_litert_files(cifar, cifar_run, tmp_path):
    """08 --export: 07's network with Keras's own BatchNormalization (the same numbers as its
    ShiftOnlyBatchNorm: tests/test_copy_out.py), taking pixels 0-255 and answering probabilities; loaded with
    its SavedModel and LiteRT files by a Python that cannot see this repository."""
    import keras
    import numpy as np
    from common.cifar10_model import read_network, restore
    import tensorflow as tf
    result = evaluate(cifar, cifar_run[2], "--export", "--tta", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    out = cifar[1] / "out"
    results = json.loads((out / "08_cifar10_export.json").read_text(encoding="utf-8"))
    int8 = results["cifar10_int8.tflite"]
    assert int8["kb"] < results["cifar10.tflite"]["kb"] / 2 and 0 <= int8["accuracy"] <= 1
    assert f"cifar10_int8.tflite：{int8['kb']:,.0f} KB，准确率 / accuracy {int8['accuracy']:.4f}" in result.stdout
    images, _ = common.read_cifar10_bin(common.cifar10_files(cifar[0])["test"])
    np.save(tmp_path / "x.npy", images[:20].astype(np.float32))
    export = out / "cifar10_export"
    fresh = run_outside_repo(PREDICT_WITH_EACH_FORMAT, out / "cifar10_model.keras",
                             export / "saved_model" / "cifar10" / "1", "pixels", export / "cifar10.tflite", cwd=tmp_path)
    from_keras, served, lite = (np.array(p) for p in json.loads(fresh.splitlines()[-1]))
    # 07's network as 08 evaluates it (common/cifar10_model.py), in float32: the same probabilities
    original = read_network(cifar_run[2])
    config = original.get_config()
    for layer in config["layers"]:
        layer["config"]["dtype"] = "float32"
    original = keras.Model.from_config(config)
    restore(original, tf.train.latest_checkpoint(str(cifar_run[2])))
    expected = tf.nn.softmax(original(np.load(tmp_path / "x.npy"))).numpy()
    for probabilities in (from_keras, served, lite):
        np.testing.assert_allclose(probabilities, expected, atol=1e-4)
    assert not [p for p in export.rglob(".*")]  # no temporary folder or file left
    watch = evaluate(cifar, cifar_run[2], "--export", "--watch")
    assert watch.returncode == 2 and "--export and --watch" in watch.stderr


@pytest.mark.slow
def test_tutorial_model_trains_resumes_and_evaluates(cifar, tmp_path):
    """07 --model tutorial: the TF1 tutorial's net, resumable, read by 08 through model.json."""
    first = train(cifar, tmp_path, "--model", "tutorial", "--steps", 2)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "model cifar10_tutorial" in first.stdout
    again = train(cifar, tmp_path, "--model", "tutorial", "--steps", 4)
    assert again.returncode == 0 and "at step 2" in again.stdout, again.stderr[-3000:]
    wrong = train(cifar, tmp_path, "--steps", 6)  # the default model on the tutorial's checkpoints
    assert wrong.returncode == 2 and "--model tutorial" in wrong.stderr and "Traceback" not in wrong.stderr
    result = evaluate(cifar, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = cifar[1] / "out"
    results = json.loads((out / "08_cifar10_eval.json").read_text(encoding="utf-8"))
    assert results["step"] == 4 and 0 <= results["accuracy"] <= 1 and results["tta"] == "flip-shift"
    assert f"第 4 步 / step 4: 准确率 / accuracy @ 1 = {results['accuracy']:.3f}" in result.stdout


@pytest.mark.slow
def test_airbench_resume_repeats_the_same_run_and_keeps_the_whitening_fixed(cifar, tmp_path, spawn):
    """The default model: a run stopped by Ctrl-C and resumed (across the start of the lookahead
    in the 4th epoch) ends exactly like one that went straight through; the whitening filters
    never change, their bias learns in the first 3 epochs only (9 steps per epoch here)."""
    import tensorflow as tf
    flags = ["--steps", 40, "--lr", 0.2, "--save-every", 1, "--keep-every-min", 1e-6]  # keep every step
    straight = train(cifar, tmp_path / "straight", *flags)
    assert straight.returncode == 0, straight.stderr[-3000:]
    reader = {step: tf.train.load_checkpoint(str(tmp_path / "straight" / f"ckpt-{step}")) for step in (9, 18, 29, 40)}
    shapes = {name: shape for name, shape in reader[9].get_variable_to_shape_map().items()
              if name.startswith("optimizer/_trainable_variables/")}  # the model's weights, once
    kernel = next(name for name, shape in shapes.items() if shape == [2, 2, 3, 24])
    bias = next(name for name, shape in shapes.items() if shape == [24])

    def change(name, first, last):  # (the lookahead's averaging rounds the last bit of a frozen weight)
        return abs(reader[last].get_tensor(name) - reader[first].get_tensor(name)).max()
    assert max(change(kernel, 9, step) for step in reader) < 1e-6
    assert change(bias, 9, 18) > 1e-4  # epoch 2: the bias learns
    assert change(bias, 29, 40) < 1e-6  # epoch 4 on: frozen

    trainer = start_trainer(spawn, cifar, tmp_path / "parts", *map(str, flags))
    for line in trainer.stdout:
        if "第 20 步 / step 20, loss" in line:
            break
    trainer.send_signal(signal.SIGINT)
    trainer.communicate(timeout=120)
    assert trainer.returncode == 130
    resumed = train(cifar, tmp_path / "parts", *flags)
    assert resumed.returncode == 0 and "resumed from" in resumed.stdout, resumed.stderr[-3000:]
    final_loss = re.compile(r"第 40 步 / step 40, loss = ([\d.]+)")
    assert final_loss.search(straight.stdout).group(1) == final_loss.search(resumed.stdout).group(1)
    assert float(final_loss.search(straight.stdout).group(1)) < 2.25  # it learned: not stuck at ln 10
    result = evaluate(cifar, tmp_path / "parts", "--tta", "flip")
    assert result.returncode == 0 and "TTA flip，" in result.stdout, result.stderr[-2000:]


@pytest.mark.slow
def test_airbench_without_its_parts_trains_and_refuses_a_mixed_resume(cifar, tmp_path):
    """--without (the README's ablation table): every part can be left out; a resume must leave
    out the same parts, or it would mix two recipes in one run."""
    every_part = ["whitening", "dirac", "bias-lr", "lookahead", "alternating-flip", "label-smoothing"]
    result = train(cifar, tmp_path, "--steps", 32, "--without", *every_part)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained to step 32" in result.stdout
    mixed = train(cifar, tmp_path, "--steps", 40, "--without", "lookahead")
    assert mixed.returncode == 2 and "Traceback" not in mixed.stderr
    assert "--without " + " ".join(sorted(every_part)) in mixed.stderr and "--fresh" in mixed.stderr
    unknown = train(cifar, tmp_path, "--without", "dropout")
    assert unknown.returncode == 2 and "--without" in unknown.stderr and "Traceback" not in unknown.stderr


def free_ports(count):
    import socket
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(spawn, cifar, train_dir, ports, *extra):
    """Two 07 processes on 127.0.0.1 forming one MultiWorkerMirroredStrategy cluster."""
    import os
    data_dir, _, env = cifar
    workers = ",".join(f"127.0.0.1:{port}" for port in ports)
    return [spawn(
        [sys.executable, str(ROOT / "07_cifar10_train.py"), "--data-dir", str(data_dir), "--train-dir",
         str(train_dir), "--out-dir", results_dir(train_dir), *map(str, TINY), "--workers", workers,
         "--worker-index", str(index), *map(str, extra)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",  # (each unpacks the data itself)
        env=dict(os.environ, PYTHONUNBUFFERED="1", TFDEMOS_CACHE_DIR=f"{env['TFDEMOS_CACHE_DIR']}-{index}"))
        for index in range(len(ports))]


def finish(processes, timeout=300):
    outputs = [p.communicate(timeout=timeout) for p in processes]
    for _, err in outputs:  # as run_script checks: no library noise for a reader to wade through
        assert not LIBRARY_NOISE.findall(err), err[-3000:]
    return [(p.returncode, out, err) for p, (out, err) in zip(processes, outputs)]


@pytest.mark.slow
def test_two_workers_on_localhost_train_resume_and_08_reads_the_chief(cifar, tmp_path, spawn):
    """--workers: two processes train as one (MultiWorkerMirroredStrategy); the chief's folder
    holds the run, worker 1 keeps its own copy of the same weights; both resume; a stop on one
    worker stops both at the same step."""
    ports = free_ports(2)
    for code, out, err in finish(start_workers(spawn, cifar, tmp_path, ports, "--steps", 3, "--save-every", 2)):
        assert code == 0, err[-3000:]
        assert "worker" in out and "of 2" in out and "trained to step 3" in out and "Traceback" not in err
    assert list(tmp_path.glob("ckpt-3.index")) and list((tmp_path / "worker-1").glob("ckpt-3.index"))

    chief, other = evaluate(cifar, tmp_path, "--tta", "none"), evaluate(cifar, tmp_path / "worker-1", "--tta", "none")
    assert chief.returncode == 0 and other.returncode == 0, chief.stderr[-2000:] + other.stderr[-2000:]
    accuracy = re.compile(r"第 3 步 / step 3: 准确率 / accuracy @ 1 = [01]\.\d{3}")
    assert accuracy.search(chief.stdout).group(0) == accuracy.search(other.stdout).group(0)  # the same weights

    # Resume; SIGTERM to worker 1 alone (one machine's `docker stop`) stops both at one step, saved.
    workers = start_workers(spawn, cifar, tmp_path, ports, "--steps", 100000, "--save-every", 100000)
    deadline = time.time() + 240
    for line in workers[1].stdout:
        if "第 5 步 / step 5, loss" in line or time.time() > deadline:
            break
    workers[1].send_signal(signal.SIGTERM)
    (code0, out0, err0), (code1, out1, err1) = finish(workers)
    assert "resumed from" in out0 and "at step 3" in out0 and "Traceback" not in err0 + err1
    assert code1 == 143 and code0 == 0, err0[-2000:] + err1[-2000:]
    steps = [re.search(r"trained to step (\d+)", out).group(1) for out in (out0, out1)]
    assert steps[0] == steps[1] and int(steps[0]) >= 5
    assert list(tmp_path.glob(f"ckpt-{steps[0]}.index")) and list((tmp_path / "worker-1").glob(f"ckpt-{steps[0]}.index"))


def test_bad_cluster_flags_exit_2(cifar, tmp_path):
    import socket
    for flags, expected in ((["--workers", "nonsense", "--worker-index", 0], "not host:port"),
                            (["--workers", "127.0.0.1:1,127.0.0.1:2"], "--worker-index"),
                            (["--worker-index", 1], "needs --workers"),
                            (["--workers", "127.0.0.1:1,127.0.0.1:2", "--worker-index", 0, "--strategy", "mirrored"],
                             "leave the flag out")):
        result = train(cifar, tmp_path, "--steps", 1, *flags)
        assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    bad = run_script("07_cifar10_train.py", "--data-dir", cifar[0], "--train-dir", tmp_path, "--steps", 1,
                     env=dict(cifar[2], TF_CONFIG="{not json"))
    assert bad.returncode == 2 and "TF_CONFIG" in bad.stderr and "Traceback" not in bad.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = train(cifar, tmp_path, "--steps", 1, "--workers", f"127.0.0.1:{port},127.0.0.1:{free_ports(1)[0]}",
                       "--worker-index", 0)
    assert result.returncode == 2 and "in use" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_bfloat16_trains_08_evaluates_and_a_resume_keeps_the_arithmetic(cifar, tmp_path):
    result = train(cifar, tmp_path, "--steps", 2, "--precision", "bfloat16")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "bfloat16 运算 / arithmetic" in result.stdout
    loss = float(re.search(r"第 2 步 / step 2, loss = ([\d.]+)", result.stdout).group(1))
    assert 1 < loss < 3  # near ln 10 = 2.30 after two steps: the float32 loss of bfloat16 logits
    evaluated = evaluate(cifar, tmp_path, "--tta", "none")
    assert evaluated.returncode == 0 and "第 2 步 / step 2: 准确率 / accuracy" in evaluated.stdout, evaluated.stderr[-2000:]
    # The default (auto) resumes in what the run started with, whatever this CPU has; a change is refused.
    resumed = train(cifar, tmp_path, "--steps", 3)
    assert resumed.returncode == 0 and "bfloat16 运算 / arithmetic" in resumed.stdout, resumed.stderr[-3000:]
    other = train(cifar, tmp_path, "--steps", 4, "--precision", "float32")
    assert other.returncode == 2 and "--precision" in other.stderr and "Traceback" not in other.stderr, other.stderr
    assert not list(tmp_path.glob("ckpt-4.index"))
    in_float32 = tmp_path / "float32"
    for steps in (1, 2):  # started in float32, resumed with the default
        again = train(cifar, in_float32, "--steps", steps, *(["--precision", "float32"] if steps == 1 else []))
        assert again.returncode == 0 and "float32 运算 / arithmetic" in again.stdout, again.stderr[-3000:]
    assert list(in_float32.glob("ckpt-2.index"))


@pytest.mark.slow
def test_a_worker_waiting_for_the_others_stops_on_ctrl_c(cifar, tmp_path, spawn):
    """A worker whose partner never starts waits, and says so; Ctrl-C ends the wait (exit 130)."""
    worker = start_workers(spawn, cifar, tmp_path, free_ports(2), "--steps", 1)[0]
    deadline = time.time() + 120
    for line in worker.stdout:
        if "waiting until every worker has started" in line or time.time() > deadline:
            break
    time.sleep(1)
    worker.send_signal(signal.SIGINT)
    (code, _, err), = finish([worker], timeout=30)
    assert code == 130 and "Traceback" not in err, err[-2000:]
