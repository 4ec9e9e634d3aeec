"""01 and 06 end to end, as a user runs them; every script's --help without TensorFlow."""
import json
import re
import sys

import pytest

from conftest import ROOT, run_script

SCRIPTS = sorted(p.name for p in ROOT.glob("0[1-9]_*.py"))


def test_01_linear_fit(tmp_path):
    result = run_script("01_linear_fit.py", "--out-dir", tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": None})
    assert result.returncode == 0, result.stderr[-2000:]
    for noise in ("E0000", "I0000", "cuInit", "absl::InitializeLog", "oneDNN", "cudart"):  # a quiet start
        assert noise not in result.stderr, result.stderr[-2000:]
    assert "第 200 步 / step 200  W = [0.100, 0.200]  b = 0.300" in result.stdout
    assert re.search(r"81\.5 m² -> \d+\.\d 万", result.stdout)
    assert (tmp_path / "01_house_prices.png").stat().st_size > 1000
    results = json.loads((tmp_path / "01_linear_fit.json").read_text(encoding="utf-8"))
    assert [round(w, 3) for w in results["W"]] == [0.1, 0.2] and round(results["b"], 3) == 0.3


@pytest.mark.parametrize("steps", [pytest.param(None, marks=pytest.mark.slow), 2000])  # the default: 20,000
def test_06_age_gt5(tmp_path, steps):
    result = run_script("06_age_gt5.py", "--out-dir", tmp_path, *(["--steps", steps] if steps else []))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "测试准确率 / test accuracy: 1.0000" in result.stdout
    threshold = float(re.search(r"学到的分界点 / learned threshold: year = ([\d.]+)", result.stdout).group(1))
    assert abs(threshold - 5) < 0.05
    results = json.loads((tmp_path / "06_age_gt5.json").read_text(encoding="utf-8"))
    assert results["test_accuracy"] == 1.0 and abs(results["threshold"] - threshold) < 1e-3


def test_import_common_does_not_load_tensorflow():
    import subprocess
    code = "import sys, common; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_answers_without_tensorflow(script, tmp_path):
    """--help must not wait for TensorFlow: here importing it fails, and --help still works."""
    for name in ("tensorflow", "keras"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('imported too early')\n", encoding="utf-8")
    result = run_script(script, "--help", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage:" in result.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_is_bilingual_with_defaults_and_examples(script):
    """Every flag has a Chinese and an English explanation; defaults show; Run / Expected follow."""
    text = run_script(script, "--help").stdout
    options, examples = text.split("参数 / options:")[1].split("Run / 运行")
    blocks = re.split(r"\n(?=  -)", options.strip())
    assert len(blocks) >= 4, options
    for block in blocks:
        flag = block.split()[0]
        assert re.search(r"[\u4e00-\u9fff]", block) and re.search(r"/\s+[A-Za-z]", block), f"{script} {flag}: {block}"
    assert "（默认 / default: " in options
    assert "Expected / 预期结果" in examples and f"python {script}" in examples


def test_quiet_loader_keeps_real_warnings(capfd):
    import os
    from common import quiet
    with quiet.native_output_filtered():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"a real warning from a native library\n")
        print("a Python warning", file=sys.stderr)
    err = capfd.readouterr().err
    assert "a real warning from a native library" in err and "a Python warning" in err
    assert "absl::InitializeLog" not in err


def test_versions_outside_the_tested_range(capsys):
    from common import UserError
    from common.quiet import check_versions
    check_versions({"TensorFlow": "2.21.0", "Keras": "3.15.1"})
    check_versions({"TensorFlow": "2.16.2", "Keras": "3.3.3"})
    assert capsys.readouterr().err == ""  # the tested range: not a word
    check_versions({"TensorFlow": "2.22.0rc1", "Keras": "3.15.1"})
    note = capsys.readouterr().err
    assert note.count("\n") == 1 and "newer than tested" in note and "requirements-lock.txt" in note
    for old in ({"TensorFlow": "2.15.1", "Keras": "2.15.0"}, {"TensorFlow": "2.21.0", "Keras": "2.15.0"},
                {"TensorFlow": "2.13.0", "Keras": "3.15.1"}):
        with pytest.raises(UserError, match="too old.*pip install -r requirements-lock.txt"):
            check_versions(old)


def test_keras_2_is_refused_with_what_to_install(tmp_path):
    """A reader whose environment has TensorFlow 2.15 with Keras 2 (what `pip install tensorflow`
    gave until 2024): one clear message, exit 2, before anything runs."""
    for name, version in (("tensorflow", "2.15.1"), ("keras", "2.15.0")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"__version__ = {version!r}\n", encoding="utf-8")
    result = run_script("01_linear_fit.py", "--out-dir", tmp_path / "out", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "TensorFlow 2.15.1 / Keras 2.15.0 is too old" in result.stderr
    assert "pip install -r requirements-lock.txt" in result.stderr and not (tmp_path / "out").exists()


def test_requirements_name_the_tested_range():
    """requirements.txt, -cpu and -base bound TensorFlow and Keras to what common/quiet.py calls
    tested, and the TensorFlow and Keras running these tests are inside it."""
    import keras
    import tensorflow as tf
    from common.quiet import TESTED, _major_minor
    (tf_low, tf_high), (keras_low, keras_high) = TESTED["TensorFlow"], TESTED["Keras"]
    tf_range = f">={tf_low[0]}.{tf_low[1]},<{tf_high[0]}.{tf_high[1] + 1}"
    texts = {name: (ROOT / name).read_text(encoding="utf-8") for name in
             ("requirements.txt", "requirements-cpu.txt", "requirements-base.txt")}
    assert f"\ntensorflow{tf_range}\n" in texts["requirements.txt"]
    assert f"\ntensorflow-cpu{tf_range}\n" in texts["requirements-cpu.txt"]
    assert f"\nkeras>={keras_low[0]}.{keras_low[1]},<{keras_high[0]}.{keras_high[1] + 1}\n" in texts["requirements-base.txt"]
    assert tf_low <= _major_minor(tf.__version__) <= tf_high and keras_low <= _major_minor(keras.__version__) <= keras_high
