"""Your own CSV for 05: read it carefully, check it, split it. One clear message per fault."""
import csv
import math
from pathlib import Path

import numpy as np

from .errors import fail
from .utils import display_width

MISSING = {"", "na", "nan", "null", "none", "?"}
MAX_CLASSES = 100  # more label values than this is a measurement column, not classes


def read_csv(path):
    """Header and rows as lists of strings; one clear message for each way a CSV can be wrong."""
    path = Path(path)
    if path.is_dir():
        fail(f"{path} 是文件夹，不是 CSV 文件 / is a folder, not a CSV file")
    if not path.is_file():
        fail(f"找不到文件 / file not found: {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        fail(f"{path} 不是 UTF-8 编码（Excel 默认存成 GBK）：请在 Excel 里“另存为 → CSV UTF-8”。\n"
             f"{path} is not UTF-8 text (GBK?); save it as \"CSV UTF-8\"")
    except csv.Error as error:
        fail(f"{path} 不是可读的 CSV / is not a readable CSV ({error})")
    if not rows:
        fail(f"{path} 是空文件 / is empty")
    header = [name.strip() for name in rows[0]]
    if len(header) == 1:
        for mark, name in ((";", "semicolons ;"), ("\t", "tabs"), ("|", "bars |")):
            if mark in header[0]:
                fail(f"{path} 的各列看起来是用 {mark!r} 分隔的；请存成逗号分隔的 CSV。\n"
                     f"{path}: its columns look separated by {name}; save it with commas")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        fail(f"{path}: 列名重复 / duplicate column names: {', '.join(duplicates)}; give each column its own name")
    if len(rows) < 2:
        fail(f"{path} 只有表头，没有数据 / has a header but no data rows")
    return header, rows[1:]


def column_values(header, rows, name):
    index = header.index(name)
    return [row[index].strip() if index < len(row) else "" for row in rows]


def rows_without_missing(header, rows, names, path, dropna):
    """Row numbers with a value in every named column. A missing value stops with the file lines
    that have one, unless `dropna` (then those rows are left out). Training and --predict share it."""
    raw = {name: column_values(header, rows, name) for name in names}
    missing = {i for values in raw.values() for i, v in enumerate(values) if v.lower() in MISSING}
    if missing and not dropna:
        lines = sorted(missing)
        shown = ", ".join(str(i + 2) for i in lines[:10]) + (" ..." if len(lines) > 10 else "")
        fail(f"有缺失值 / {path}: missing values in {len(lines)} row(s) (file lines {shown}); "
             f"fill them in or pass --dropna")
    return [i for i in range(len(rows)) if i not in missing], raw


def numeric_columns(header, rows, names, path, dropna):
    """Float matrix of the named columns; names the column/rows that are missing or not numbers."""
    keep, raw = rows_without_missing(header, rows, names, path, dropna)
    matrix = np.empty((len(keep), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        for k, i in enumerate(keep):
            try:
                matrix[k, j] = float(raw[name][i])
            except ValueError:
                fail(f"这一列不是数字 / {path}: column '{name}' is not numeric (file line {i + 2}: {raw[name][i]!r}); "
                     f"convert it to numbers or leave it out with --features")
            if not math.isfinite(matrix[k, j]):
                fail(f"这一列有 inf/nan / {path}: column '{name}' has a non-finite value on file line {i + 2}")
    return matrix, keep


def stratified_split(labels, share, rng):
    """Hold out `share` of each class for testing, so both sets have the same class balance."""
    test = []
    for value in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == value))
        test.extend(rows[:max(1, int(round(share * len(rows))))])
    test = np.sort(np.array(test))
    return np.setdiff1d(np.arange(len(labels)), test), test


def load_labeled_csv(path, label, features=None, dropna=False, test_split=0.2, seed=0):
    """Feature matrix, class numbers 0..K-1 and a stratified train/test split from a CSV with a label column.

    Returns a dict: x, y, names (feature columns), classes (the K ≥ 2 label values; numbers in
    numeric order), ids (file line numbers), train_rows, test_rows.
    """
    if not label:
        fail("用 --csv 时要用 --label 指出标签列 / --csv needs --label COLUMN (the column to predict)")
    header, rows = read_csv(path)
    if label not in header:
        fail(f"没有这一列 / {path} has no column '{label}'; its columns are: {', '.join(header)}")
    names = [c.strip() for c in features.split(",")] if features else [c for c in header if c != label]
    unknown = [c for c in names if c not in header]
    if unknown:
        fail(f"没有这些列 / {path} has no column(s) {', '.join(unknown)}; its columns are: {', '.join(header)}")
    if label in names:
        fail(f"--features 里包含了标签列 '{label}'（用答案去预测答案）/ --features lists the label "
             f"'{label}' itself; leave it out")
    if len(set(names)) < len(names):
        fail(f"--features 里有重复的列 / --features names a column twice: {features}")
    if not names:
        fail(f"除了标签列没有别的列 / {path}: no feature columns besides the label '{label}'")
    labels_text = column_values(header, rows, label)
    x_all, kept = numeric_columns(header, rows, names, path, dropna)
    labels_text = [labels_text[i] for i in kept]
    if any(v.lower() in MISSING for v in labels_text):
        bad = [i for i, v in zip(kept, labels_text) if v.lower() in MISSING]
        fail(f"标签有缺失 / {path}: label '{label}' is missing on file lines {', '.join(str(i + 2) for i in bad[:10])}"
             + ("" if dropna else "; fill them in or pass --dropna"))
    values = set(labels_text)
    if all(v.lstrip("-").isdigit() for v in values):  # numbered classes: 2 before 10
        classes = sorted(values, key=int)
    else:
        classes = sorted(values)
    if len(classes) < 2:
        fail(f"标签至少要有两种取值 / label '{label}' has {len(classes)} distinct value ({', '.join(classes)}): "
             f"there is nothing to tell apart")
    if len(classes) > MAX_CLASSES:
        fail(f"标签有 {len(classes)} 种取值，太多了 / label '{label}' has {len(classes)} distinct values "
             f"(at most {MAX_CLASSES}): is it a measurement rather than a class? Pick the column to predict "
             f"with --label")
    y_all = np.array([classes.index(v) for v in labels_text])
    smallest = min(np.bincount(y_all, minlength=len(classes)))
    if smallest < 2 or len(y_all) < 10:
        fail(f"{path}: 数据太少 / too few rows to train and test ({len(y_all)} rows, {smallest} in the "
             f"smallest class); need at least 10 rows and 2 of each class")
    train_rows, test_rows = stratified_split(y_all, test_split, np.random.default_rng(seed))
    print(f"{path}：{len(y_all)} 行，特征 {', '.join(names)}；标签列 '{label}'，{len(classes)} 类（{' / '.join(classes)}）；"
          f"留出 {len(test_rows)} 行做测试\n  / {len(y_all)} rows, features {', '.join(names)}; label '{label}'; "
          f"{len(test_rows)} held out for testing")
    return dict(x=x_all, y=y_all, names=names, classes=classes, ids=[str(i + 2) for i in kept],
                train_rows=train_rows, test_rows=test_rows)


def _pad(text, width):
    return " " * (width - display_width(text)) + str(text)


def print_confusion(confusion, class_names):
    """The confusion table (rows: actual class, columns: predicted) and each class's accuracy."""
    width = max(6, *(display_width(name) for name in class_names)) + 2
    print("混淆表（行：实际类别，列：预测类别）/ confusion table (rows: actual, columns: predicted):")
    print(_pad("", width) + "".join(_pad(name, width) for name in class_names) + "   每类准确率 / per-class accuracy")
    for name, row in zip(class_names, confusion):
        share = row[list(class_names).index(name)] / row.sum() if row.sum() else float("nan")
        print(_pad(name, width) + "".join(_pad(count, width) for count in row) + f"   {share:8.1%}")
