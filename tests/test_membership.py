"""05_membership.py: generator, the article's pipeline, the NaN lesson, your own CSV, --predict."""
import csv
import json
import re

import numpy as np
import pytest

from conftest import PREDICT_WITH_EACH_FORMAT, run_outside_repo, run_script

QUICK = ["--rows", 1500, "--epochs", 5]


def run05(tmp_path, *args):
    # The stand-in CSV is made by the script, so it goes to the cache folder (common/paths.py).
    return run_script("05_membership.py", "--out-dir", tmp_path / "out", *args,
                      env={"TFDEMOS_CACHE_DIR": str(tmp_path / "cache")})


@pytest.fixture(scope="module")
def generated(membership_run):
    """05 on its generated stand-in (QUICK, conftest.py), once per test run: (its folder, the run)."""
    return membership_run


def test_generator_is_deterministic_and_default_pipeline_runs(generated, tmp_path, monkeypatch):
    from common.membership import stand_in_csv
    first_dir, first = generated
    monkeypatch.setenv("TFDEMOS_CACHE_DIR", str(tmp_path / "b"))  # the same generator, in-process, afresh
    csv_a = (first_dir / "cache" / "membership.csv").read_bytes()
    assert csv_a == stand_in_csv(1500, 2017).read_bytes()  # (05's default --seed)
    assert csv_a.count(b"\n") == 1501
    out = first.stdout
    assert "所有行的特征取值范围 / feature range over all rows: min 0.0000, max 1.0000" in out
    assert re.search(r"QQ \d+: P\(非会员\) [\d.]+%，P\(会员\) [\d.]+% — 实际 / actual: (非会员|会员) [✓✗]", out)
    results = json.loads((first_dir / "out" / "05_membership.json").read_text(encoding="utf-8"))
    accuracy, bayes = results["test_accuracy"], results["bayes_optimal_accuracy"]
    assert f"测试准确率 / test accuracy: {accuracy:.4f}\n" in out
    assert f"贝叶斯最优准确率 / Bayes-optimal accuracy: {bayes:.4f}\n" in out
    assert 0.83 <= bayes <= 0.93  # the generator's own ceiling, on 1,000 test rows
    assert accuracy >= 0.75  # 5 epochs on 500 rows: learned something beyond the 70% majority
    assert (first_dir / "out" / "05_membership.keras").exists()
    features = json.loads((first_dir / "out" / "05_membership_features.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in features["features"]][:3] == ["hour", "ip1", "ip2"]  # raw columns: scaling inside
    assert features["features"][0]["max"] == 23 and features["features"][0]["integer"] is True


def test_raw_features_hit_the_nan_guard(tmp_path):
    raw = run05(tmp_path, *QUICK, "--raw-features")
    assert raw.returncode == 1
    assert re.search(r"NaN guard: loss is (nan|inf) at step \d+, batch = rows \d+\.\.\d+", raw.stderr)
    assert "--normalize minmax" in raw.stderr and "--normalize zscore" in raw.stderr
    assert "文章的 NaN 故事 / the article's NaN story" in raw.stdout


@pytest.mark.slow
def test_raw_features_with_zscore_train(tmp_path):
    fixed = run05(tmp_path, *QUICK, "--raw-features", "--normalize", "zscore")
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert "文章的修复 / the article's fix" in fixed.stdout and "test accuracy:" in fixed.stdout


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _own_data(path, n=200):
    rows = []
    for i in range(n):
        visits, minutes = i % 17, (i * 7) % 50
        label = "流失" if visits + minutes / 5 < 12 else "留存"  # label as two Chinese strings
        rows.append([visits, minutes, f"user{i}", label])
    return _write_csv(path, ["visits", "minutes", "name", "status"], rows)


@pytest.fixture(scope="module")
def own_model(tmp_path_factory):
    """05 trained on a small CSV of 'your own' data, once for this file: (the CSV, out dir, run)."""
    folder = tmp_path_factory.mktemp("own")
    data = _own_data(folder / "mine.csv")
    result = run_script("05_membership.py", "--csv", data, "--label", "status", "--features",
                        "visits,minutes", "--out-dir", folder / "out", "--epochs", 30, "--export")
    assert result.returncode == 0, result.stderr[-2000:]
    return data, folder / "out", result


def test_own_csv_training_and_predict_roundtrip(own_model):
    data, out, result = own_model
    tmp_path = data.parent
    assert "held out for testing" in result.stdout and "test accuracy:" in result.stdout
    assert "归一化 / normalization: zscore（" in result.stdout  # own CSV: scaled by default
    assert "fitted on the training rows; --normalize none turns it off" in result.stdout
    assert "Bayes" not in result.stdout and "贝叶斯" not in result.stdout
    with open(tmp_path / "out" / "05_membership_test_predictions.csv", encoding="utf-8-sig") as f:
        at_training = {row["id"]: row for row in csv.DictReader(f)}
    assert len(at_training) == 40  # stratified 20% of 200

    again = run_script("05_membership.py", "--predict", data, "--out-dir", tmp_path / "out")
    assert again.returncode == 0, again.stderr[-2000:]
    with open(tmp_path / "mine.predictions.csv", encoding="utf-8-sig") as f:
        scored = list(csv.DictReader(f))
    assert len(scored) == 200
    for line, row in at_training.items():
        new = scored[int(line) - 2]
        for column in ("p_流失", "p_留存"):
            assert abs(float(new[column]) - float(row[column])) < 1e-5


@pytest.mark.slow
def test_own_model_and_its_exports_load_without_this_repository(own_model, tmp_path):
    """The .keras (normalization inside), the SavedModel and the .tflite, loaded by a Python that
    cannot see this repository, take raw CSV values and give the probabilities 05 wrote."""
    data, out, result = own_model
    with open(out / "05_membership_test_predictions.csv", encoding="utf-8-sig") as f:
        at_training = list(csv.DictReader(f))
    with open(data, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    features = json.loads((out / "05_membership_features.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in features["features"]] == ["visits", "minutes"]
    x = [[float(rows[int(r["id"]) - 2][name]) for name in ("visits", "minutes")] for r in at_training]
    np.save(tmp_path / "x.npy", np.array(x, np.float32))
    expected = np.array([[float(r[f"p_{c}"]) for c in features["classes"]] for r in at_training])
    export = out / "05_membership_export"
    fresh = run_outside_repo(PREDICT_WITH_EACH_FORMAT, out / "05_membership.keras",
                             export / "saved_model" / "membership" / "1", "features", export / "membership.tflite", cwd=tmp_path)
    for probabilities in json.loads(fresh.splitlines()[-1]):
        np.testing.assert_allclose(probabilities, expected, atol=1e-4)  # (the CSV has 6 decimals)
    assert "LiteRT vs Keras, largest difference in probability" in result.stdout
    assert not [p for p in export.rglob(".*")]  # no temporary folder or file left


def test_predict_refuses_an_older_05s_json_model_and_a_damaged_feature_list(own_model, tmp_path):
    data, out, _ = own_model
    older = tmp_path / "older"
    older.mkdir()
    (older / "05_membership_model.json").write_text('{"weights": {"W": [[0, 0]], "b": [0, 0]}}', encoding="utf-8")
    refused = run_script("05_membership.py", "--predict", data, "--out-dir", older)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "旧版 05" in refused.stderr and "run python 05_membership.py again" in refused.stderr
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "05_membership.keras").write_bytes((out / "05_membership.keras").read_bytes())
    (damaged / "05_membership_features.json").write_text('{"features": [{"name": "visits"}]}', encoding="utf-8")
    refused = run_script("05_membership.py", "--predict", data, "--out-dir", damaged)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "特征列表已损坏" in refused.stderr and "is damaged (KeyError)" in refused.stderr
    (damaged / "05_membership.keras").write_bytes(b"not a model")
    (damaged / "05_membership_features.json").write_bytes((out / "05_membership_features.json").read_bytes())
    refused = run_script("05_membership.py", "--predict", data, "--out-dir", damaged)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "保存的模型已损坏" in refused.stderr


def test_chinese_column_names_under_a_non_utf8_locale(tmp_path):
    rows = [[i % 17, f"u{i}", "是" if i % 17 > 8 else "否"] for i in range(120)]
    data = _write_csv(tmp_path / "会员.csv", ["访问次数", "name", "是否会员"], rows)
    c_locale = {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
                "PYTHONIOENCODING": None}
    result = run_script("05_membership.py", "--csv", data, "--label", "是否会员", "--features", "访问次数",
                        "--out-dir", tmp_path / "out", "--epochs", 2, env=c_locale)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "label '是否会员'" in result.stdout and "test accuracy:" in result.stdout


def test_predict_refuses_other_columns(own_model, tmp_path):
    _, out, _ = own_model
    other = _write_csv(tmp_path / "other.csv", ["visits", "hours"], [[1, 2]])
    result = run_script("05_membership.py", "--predict", other, "--out-dir", out)
    assert result.returncode == 2 and "missing minutes" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case, content, expected", [
    ("missing file", None, "file not found"),
    ("empty file", "", "is empty"),
    ("no label column", "a,b\n1,2\n3,4\n", "no column 'label'"),
    ("non-numeric", "a,b,label\n1,x,0\n2,y,1\n", "column 'b' is not numeric"),
    ("missing values", "a,b,label\n1,2,0\n,4,1\n5,6,0\n7,,1\n", "missing values in 2 row(s) (file lines 3, 5)"),
    ("one class", "a,b,label\n1,2,1\n3,4,1\n5,6,1\n", "has 1 distinct value"),
    ("a measurement as label", "a,label\n" + "".join(f"{i},{i * 0.37:.2f}\n" for i in range(150)),
     "has 150 distinct values"),
    ("semicolons", "a;b;label\n1;2;0\n3;4;1\n", "separated by semicolons"),
    ("duplicate columns", "a,a,label\n1,2,0\n3,4,1\n", "duplicate column names: a"),
    ("two rows", "a,b,label\n1,2,0\n3,4,1\n", "too few rows"),
    ("huge value", "a,b,label\n1e308,1,0\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)),
     "column 'a' has values too large"),
    ("GBK file", "访问,标签,label\n1,2,0\n".encode("gbk"), "not UTF-8"),
    ("folder", "folder", "is a folder"),
])
def test_bad_input_is_one_clear_line(tmp_path, case, content, expected):
    path = tmp_path / "bad.csv"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_script("05_membership.py", "--csv", path, "--label", "label", "--out-dir", tmp_path)
    assert result.returncode == 2, (case, result.stdout, result.stderr)
    assert expected in result.stderr, (case, result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_dropna_drops_rows(tmp_path):
    rows = [[i, i % 5 if i % 9 else "", "a" if i % 2 else "b"] for i in range(60)]
    path = _write_csv(tmp_path / "holes.csv", ["x", "y", "label"], rows)
    result = run_script("05_membership.py", "--csv", path, "--label", "label", "--dropna",
                        "--out-dir", tmp_path, "--epochs", 2)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"holes.csv：53 行", result.stdout) and "53 rows" in result.stdout


def test_label_in_features_refused(tmp_path):
    data = _own_data(tmp_path / "mine.csv")
    result = run_script("05_membership.py", "--csv", data, "--label", "status", "--features", "visits,status",
                        "--out-dir", tmp_path / "out")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--features lists the label 'status'" in result.stderr


def test_predict_applies_the_missing_value_rule(own_model, tmp_path):
    _, out, _ = own_model
    holes = _write_csv(tmp_path / "new.csv", ["visits", "minutes"], [[1, 2], ["", 3], [4, 5]])
    refused = run_script("05_membership.py", "--predict", holes, "--out-dir", out)
    assert refused.returncode == 2 and "missing values in 1 row(s)" in refused.stderr
    assert not (tmp_path / "new.predictions.csv").exists()
    scored = run_script("05_membership.py", "--predict", holes, "--dropna", "--out-dir", out)
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert "scored 2 rows (1 with missing values left blank)" in scored.stdout
    with open(tmp_path / "new.predictions.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [bool(row["p_流失"]) for row in rows] == [True, False, True]


def test_predict_on_activity_logs_follows_the_same_missing_value_rule(generated, tmp_path):
    folder, _ = generated
    with open(folder / "cache" / "membership.csv", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))[:4]
    rows[1][header.index("ip")] = ""
    logs = _write_csv(tmp_path / "logs.csv", header, rows)
    refused = run_script("05_membership.py", "--predict", logs, "--out-dir", folder / "out")
    assert refused.returncode == 2 and "missing values in 1 row(s) (file lines 3)" in refused.stderr
    scored = run_script("05_membership.py", "--predict", logs, "--dropna", "--out-dir", folder / "out")
    assert scored.returncode == 0 and "scored 2 rows (1 with missing values left blank)" in scored.stdout


@pytest.mark.slow
def test_three_class_csv_gets_a_softmax_over_three_and_a_confusion_table(tmp_path):
    """Softmax regression is multi-class: three flower species, Chinese names, one model."""
    rng = np.random.default_rng(0)
    centres = {"山鸢尾": (5.0, 3.4, 1.5), "变色鸢尾": (5.9, 2.8, 4.3), "维吉尼亚鸢尾": (6.6, 3.0, 5.6)}
    rows = [[f"{v + rng.normal(0, 0.3):.1f}" for v in centres[name]] + [name]
            for i in range(150) for name in [list(centres)[i % 3]]]
    data = _write_csv(tmp_path / "flowers.csv", ["花萼长", "花萼宽", "花瓣长", "品种"], rows)
    result = run_script("05_membership.py", "--csv", data, "--label", "品种", "--out-dir", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((tmp_path / "out" / "05_membership.json").read_text(encoding="utf-8"))
    assert sorted(results["classes"]) == sorted(centres) and results["test_accuracy"] >= 0.85
    confusion = np.array(results["confusion"])
    assert confusion.shape == (3, 3) and confusion.sum() == 30  # 20% of each class held out
    assert np.trace(confusion) / confusion.sum() == pytest.approx(results["test_accuracy"])
    assert "混淆表" in result.stdout and "confusion table" in result.stdout and "3 类" in result.stdout

    scored = run_script("05_membership.py", "--predict", data, "--out-dir", tmp_path / "out")
    assert scored.returncode == 0, scored.stderr[-2000:]
    with open(tmp_path / "flowers.predictions.csv", encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 150
    for row in table:
        p = {name: float(row[f"p_{name}"]) for name in centres}
        assert sum(p.values()) == pytest.approx(1, abs=1e-5) and row["predicted"] == max(p, key=p.get)
    assert np.mean([row["predicted"] == row["品种"] for row in table]) >= 0.85
