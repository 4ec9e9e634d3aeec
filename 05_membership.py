"""05 · 业务应用：从活动日志预测超级会员 / Predict "super members" from activity logs (文章 五)

What it shows
  The article's business demo. Raw log rows (QQ number, IP, phone platform, time of joining,
  five gift-claim flags) become 11 numbers in [0, 1]; softmax regression, written by hand as in
  02, predicts member / non-member. The article's data is private, so a documented generator
  writes a stand-in (data/membership.csv). It knows its own probabilities, so the script also
  prints the Bayes-optimal accuracy: the best any model could reach on these rows.

Run
  python 05_membership.py                          the article's pipeline (≈10 s)
  python 05_membership.py --hidden 32              also a small MLP, printed next to it
  python 05_membership.py --raw-features           the article's NaN story: unscaled inputs
  python 05_membership.py --raw-features --normalize zscore       ... and its fix
  python 05_membership.py --csv my.csv --label churned            your own data (0/1 or two values)
  python 05_membership.py --predict new_users.csv                 score new rows with the saved model

Expected
  test accuracy: ≈0.87, Bayes-optimal accuracy: ≈0.88 (article: 87%)
"""
import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np

import common
from common import fail  # bad input: one clear message and exit code 2, never a traceback

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--csv", help="train on your own CSV instead of the generated data")
parser.add_argument("--label", help="with --csv: the label column (0/1 or two distinct values)")
parser.add_argument("--features", help="with --csv: comma-separated feature columns (default: all others)")
parser.add_argument("--dropna", action="store_true",
                    help="with --csv / --predict: skip rows with missing values")
parser.add_argument("--test-split", type=common.fraction, default=0.2, help="with --csv: stratified test share")
parser.add_argument("--predict", metavar="NEW_CSV", help="score NEW_CSV with the saved model")
parser.add_argument("--raw-features", action="store_true",
                    help="unscaled inputs (IP as one integer, Unix time) + the hand-written log loss")
parser.add_argument("--normalize", choices=["none", "minmax", "zscore"], default=None,
                    help="scale features, fitted on the training rows only (default: zscore with --csv, "
                         "none for the generated data, whose 11 features are already in [0, 1])")
parser.add_argument("--hidden", type=common.nonnegative_int, default=0,
                    help="also train an MLP with this many hidden units")
parser.add_argument("--rows", type=common.at_least(200), default=7700,
                    help="rows to generate (last 1,000 are the test set)")
parser.add_argument("--epochs", type=common.positive_int, default=40)
parser.add_argument("--batch-size", type=common.positive_int, default=100)
parser.add_argument("--lr", type=common.positive_float, default=0.5, help="gradient descent learning rate")
common.add_common_args(parser, seed=2017)
args = parser.parse_args()
args.label, args.features = common.argv_text(args.label), common.argv_text(args.features)  # 中文列名, any locale


# ================================================================ 1. the stand-in data set
# The hidden model (a naive-Bayes generator): first decide membership, then draw each field
# from a distribution that depends on it. Every field carries a partial signal.
HIDDEN_MODEL = {
    "member_rate": 0.30,
    # P(claimed successfully | member), P(... | non-member). gift_vip can only be claimed by members.
    "flags": {"gift_vip": (0.57, 0.0), "gift_ticket": (0.50, 0.35), "gift_snack": (0.35, 0.25),
              "share": (0.45, 0.45), "lottery": (0.40, 0.55)},
    "ios": (0.55, 0.35),  # P(platform = iOS | member), (... | non-member)
    # Hour of joining, and the first two IP octets (region, provider): P(v) ∝ exp(tilt · v/scale)
    "hour_tilt": (1.2, -0.3),  # members join later in the day
    "ip1_tilt": (-1.0, 0.5),
    "ip2_tilt": (0.6, 0.0),
}
FLAG_NAMES = list(HIDDEN_MODEL["flags"])
HOURS, IP1, IP2 = np.arange(24), np.arange(1, 224), np.arange(256)
CAMPAIGN_START = 1483228800  # 2017-01-01 00:00 UTC+0, the campaign ran for 14 days
RAW_COLUMNS = ["qq", "is_member", "ip", "platform", "join_time"] + FLAG_NAMES


def tilted(values, tilt, scale):
    weights = np.exp(tilt * values / scale)
    return weights / weights.sum()


def generate_membership_csv(path, rows, seed):
    rng = np.random.default_rng(seed)
    member = rng.random(rows) < HIDDEN_MODEL["member_rate"]

    def draw(values, tilts, scale):
        out = np.empty(rows, dtype=np.int64)
        for is_member, tilt in ((True, tilts[0]), (False, tilts[1])):
            chosen = member == is_member
            out[chosen] = rng.choice(values, chosen.sum(), p=tilted(values, tilt, scale))
        return out

    hour = draw(HOURS, HIDDEN_MODEL["hour_tilt"], 24)
    ip1, ip2 = draw(IP1, HIDDEN_MODEL["ip1_tilt"], 255), draw(IP2, HIDDEN_MODEL["ip2_tilt"], 255)
    ip3, ip4 = rng.integers(0, 256, rows), rng.integers(1, 255, rows)  # no signal
    ios = rng.random(rows) < np.where(member, *HIDDEN_MODEL["ios"])
    join_time = CAMPAIGN_START + rng.integers(0, 14, rows) * 86400 + hour * 3600 + rng.integers(0, 3600, rows)
    flags = {name: rng.random(rows) < np.where(member, p_member, p_other)
             for name, (p_member, p_other) in HIDDEN_MODEL["flags"].items()}
    qq = 10_000_000 + rng.choice(2_990_000_000, rows, replace=False)  # unique QQ numbers
    with common.atomic_open(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RAW_COLUMNS)
        for i in range(rows):
            writer.writerow([qq[i], int(member[i]), f"{ip1[i]}.{ip2[i]}.{ip3[i]}.{ip4[i]}",
                             "iOS" if ios[i] else "Android", join_time[i]]
                            + [int(flags[name][i]) for name in FLAG_NAMES])


def bayes_member_probability(table):
    """P(member | all fields) from the generator's own probabilities (the best possible guess)."""
    hour = (table["join_time"].astype(np.int64) % 86400) // 3600
    ip1, ip2 = table["ip1"], table["ip2"]
    log_odds = np.full(len(hour), math.log(HIDDEN_MODEL["member_rate"] / (1 - HIDDEN_MODEL["member_rate"])))
    for values, column, tilts, scale in ((HOURS, hour, "hour_tilt", 24), (IP1, ip1, "ip1_tilt", 255),
                                         (IP2, ip2, "ip2_tilt", 255)):
        member_p, other_p = (tilted(values, t, scale) for t in HIDDEN_MODEL[tilts])
        index = np.searchsorted(values, column)
        log_odds += np.log(member_p[index]) - np.log(other_p[index])
    p_member, p_other = HIDDEN_MODEL["ios"]
    ios = table["platform_ios"] == 1
    log_odds += np.where(ios, np.log(p_member / p_other), np.log((1 - p_member) / (1 - p_other)))
    for name, (p_member, p_other) in HIDDEN_MODEL["flags"].items():
        claimed = table[name] == 1
        with np.errstate(divide="ignore"):
            log_odds += np.where(claimed, np.log(p_member) - np.log(p_other) if p_other else np.inf,
                                 np.log((1 - p_member) / (1 - p_other)))
    return 1 / (1 + np.exp(-log_odds))


# ================================================================ 2. reading CSVs, carefully
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


MISSING = {"", "na", "nan", "null", "none", "?"}


def numeric_columns(header, rows, names, path, dropna):
    """Float matrix of the named columns; names the column/rows that are missing or not numbers."""
    raw = {name: column_values(header, rows, name) for name in names}
    missing_rows = sorted({i for values in raw.values() for i, v in enumerate(values) if v.lower() in MISSING})
    if missing_rows and not dropna:
        shown = ", ".join(str(i + 2) for i in missing_rows[:10]) + (" ..." if len(missing_rows) > 10 else "")
        fail(f"{path}: missing values in {len(missing_rows)} row(s) (file lines {shown}); "
             f"fill them in or pass --dropna")
    keep = [i for i in range(len(rows)) if i not in set(missing_rows)]
    matrix = np.empty((len(keep), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        for k, i in enumerate(keep):
            try:
                matrix[k, j] = float(raw[name][i])
            except ValueError:
                fail(f"{path}: column '{name}' is not numeric (file line {i + 2}: {raw[name][i]!r}); "
                     f"convert it to numbers or leave it out with --features")
            if not math.isfinite(matrix[k, j]):
                fail(f"{path}: column '{name}' has a non-finite value on file line {i + 2}")
    return matrix, keep


def membership_table(header, rows, path):
    """Parse the generator's raw columns (also used for --predict on such files)."""
    table = {}
    try:
        for name in ["join_time"] + FLAG_NAMES:
            table[name] = np.array([float(v) for v in column_values(header, rows, name)])
        octets = np.array([[int(o) for o in ip.split(".")] for ip in column_values(header, rows, "ip")])
        if octets.shape[1:] != (4,) or octets.min() < 0 or octets.max() > 255:
            raise ValueError("IP address out of range")
    except ValueError as error:
        fail(f"{path}: bad value in the activity log ({error})")
    for k in range(4):
        table[f"ip{k + 1}"] = octets[:, k]
    platforms = column_values(header, rows, "platform")
    table["platform_ios"] = np.array([1.0 if p.lower() == "ios" else 0.0 for p in platforms])
    table["ip_int"] = (octets.astype(np.float64) * [2 ** 24, 2 ** 16, 2 ** 8, 1]).sum(axis=1)
    return table


def article_features(table, raw=False):
    """文章 五: the 11 features in [0, 1]; or, with raw=True, the unscaled values."""
    flags = [table[name] for name in FLAG_NAMES]
    if raw:  # what the article first fed in, and what produced its NaN
        return np.stack([table["join_time"], table["ip_int"], table["platform_ios"], *flags], axis=1), \
            ["join_time", "ip_int", "platform_ios", *FLAG_NAMES]
    hour = (table["join_time"].astype(np.int64) % 86400) // 3600
    columns = [hour / 24] + [table[f"ip{k}"] / 255 for k in range(1, 5)] + [table["platform_ios"]] + flags
    names = ["hour/24", "ip1/255", "ip2/255", "ip3/255", "ip4/255", "platform_ios", *FLAG_NAMES]
    return np.stack(columns, axis=1), names


def stratified_split(labels, share, rng):
    test = []
    for value in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == value))
        test.extend(rows[:max(1, int(round(share * len(rows))))])
    test = np.sort(np.array(test))
    return np.setdiff1d(np.arange(len(labels)), test), test


# ================================================================ 3. the model, as in 02
def train_model(x_train, y_train, hidden, naive_loss, seed, lr, epochs, batch_size):
    """Softmax regression (hidden=0) or a one-hidden-layer MLP, trained by plain gradient descent."""
    import tensorflow as tf
    tf.random.set_seed(seed)
    n_features = x_train.shape[1]
    if hidden:
        params = [tf.Variable(tf.random.normal([n_features, hidden], stddev=math.sqrt(2 / n_features))),
                  tf.Variable(tf.zeros([hidden])),
                  tf.Variable(tf.random.normal([hidden, 2], stddev=math.sqrt(1 / hidden))),
                  tf.Variable(tf.zeros([2]))]
    else:
        params = [tf.Variable(tf.zeros([n_features, 2])), tf.Variable(tf.zeros([2]))]  # W, b

    def logits_of(x):
        if hidden:
            return tf.matmul(tf.nn.relu(tf.matmul(x, params[0]) + params[1]), params[2]) + params[3]
        return tf.matmul(x, params[0]) + params[1]

    @tf.function
    def train_step(x, y_onehot):
        with tf.GradientTape() as tape:
            logits = logits_of(x)
            if naive_loss:  # 文章: -Σ y'·log(y), which overflows/NaNs on unscaled inputs
                loss = tf.reduce_mean(-tf.reduce_sum(y_onehot * tf.math.log(tf.nn.softmax(logits)), axis=1))
            else:
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_onehot, logits=logits))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(lr * g)
        return loss

    x_train = x_train.astype(np.float32)
    y_onehot = np.eye(2, dtype=np.float32)[y_train]
    guard = common.NanGuard(hint="Try --normalize minmax or --normalize zscore." if naive_loss else "")
    rng = np.random.default_rng(seed)
    step = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        for first in range(0, len(x_train), batch_size):
            rows = order[first:first + batch_size]
            step += 1
            loss = train_step(x_train[rows], y_onehot[rows])
            guard.check(step, loss, rows=(first, first + len(rows)))
        if epoch in (1, epochs) or epoch % 10 == 0:
            print(f"  epoch {epoch:3d} (step {step}): loss {float(loss):.4f}")
    return [p.numpy() for p in params]


def predict_proba(weights, x):
    x = np.asarray(x, dtype=np.float64)
    if len(weights) == 4:
        x = np.maximum(x @ weights[0] + weights[1], 0)
        weights = weights[2:]
    logits = x @ weights[0] + weights[1]
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


# ================================================================ 4. --predict with a saved model
out = common.output_dir(args.out_dir)
bundle_path = out / "05_membership_model.json"

if args.predict:
    if not bundle_path.is_file():
        fail(f"还没有保存的模型 / no saved model at {bundle_path}; train first (run without --predict)")
    try:
        bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
        bundle["weights"], bundle["input_columns"], bundle["normalization"]["kind"]  # noqa: B018
    except (ValueError, KeyError, TypeError) as error:
        fail(f"保存的模型已损坏 / the saved model {bundle_path} is damaged ({type(error).__name__}); "
             f"train again (run without --predict)")
    header, rows = read_csv(args.predict)
    missing = [c for c in bundle["input_columns"] if c not in header]
    if missing:
        fail(f"{args.predict} does not match the saved model's columns: missing {', '.join(missing)} "
             f"(the model was trained on: {', '.join(bundle['input_columns'])})")
    extra = [c for c in header if c not in bundle["input_columns"]]
    if extra:
        print(f"note: columns not used by the model are copied through: {', '.join(extra)}")
    # The same missing-value rule as in training: refuse, or with --dropna skip those rows
    # (they are copied to the output with empty probabilities, so row numbers still line up).
    if bundle["source"] == "generated":
        kept = [i for i in range(len(rows))
                if all(v.lower() not in MISSING for v in (column_values(header, rows, c)[i]
                                                          for c in bundle["input_columns"]))]
        if len(kept) < len(rows) and not args.dropna:
            fail(f"{args.predict}: missing values in {len(rows) - len(kept)} row(s); fill them in or pass --dropna")
        x, _ = article_features(membership_table(header, [rows[i] for i in kept], args.predict),
                                raw=bundle["raw_features"])
    else:
        x, kept = numeric_columns(header, rows, bundle["input_columns"], args.predict, dropna=args.dropna)
    x = common.normalize_apply(bundle["normalization"], x)
    probabilities = dict(zip(kept, predict_proba([np.array(w) for w in bundle["weights"]], x)))
    target = Path(args.predict).with_suffix(".predictions.csv")
    with common.atomic_open(target, encoding="utf-8-sig", newline="") as f:  # -sig: Excel reads UTF-8
        writer = csv.writer(f)
        writer.writerow(header + [f"p_{c}" for c in bundle["classes"]])
        for i, row in enumerate(rows):
            p = probabilities.get(i)
            writer.writerow(row + ([f"{v:.6f}" for v in p] if p is not None else [""] * len(bundle["classes"])))
    skipped = f" ({len(rows) - len(kept)} with missing values left blank)" if len(kept) < len(rows) else ""
    print(f"scored {len(kept)} rows{skipped} -> {target}")
    raise SystemExit(0)

# ================================================================ 5. data → features
common.set_seed(args.seed)
if args.csv:
    if not args.label:
        fail("--csv needs --label COLUMN (the column to predict)")
    header, rows = read_csv(args.csv)
    if args.label not in header:
        fail(f"{args.csv} has no column '{args.label}'; its columns are: {', '.join(header)}")
    names = [c.strip() for c in args.features.split(",")] if args.features else [c for c in header if c != args.label]
    unknown = [c for c in names if c not in header]
    if unknown:
        fail(f"{args.csv} has no column(s) {', '.join(unknown)}; its columns are: {', '.join(header)}")
    if args.label in names:
        fail(f"--features 里包含了标签列 '{args.label}'（用答案去预测答案）/ --features lists the label "
             f"'{args.label}' itself; leave it out")
    if len(set(names)) < len(names):
        fail(f"--features 里有重复的列 / --features names a column twice: {args.features}")
    if not names:
        fail(f"{args.csv}: no feature columns besides the label '{args.label}'")
    labels_text = column_values(header, rows, args.label)
    x_all, kept = numeric_columns(header, rows, names, args.csv, args.dropna)
    labels_text = [labels_text[i] for i in kept]
    if any(v.lower() in MISSING for v in labels_text):
        bad = [i for i, v in zip(kept, labels_text) if v.lower() in MISSING]
        fail(f"{args.csv}: label '{args.label}' is missing on file lines {', '.join(str(i + 2) for i in bad[:10])}"
             + ("" if args.dropna else "; fill them in or pass --dropna"))
    classes = sorted(set(labels_text), key=lambda v: (v not in ("0", "1"), v))
    if len(classes) != 2:
        fail(f"label '{args.label}' has {len(classes)} distinct value(s) ({', '.join(classes[:5])}); "
             f"this demo needs exactly two classes")
    y_all = np.array([classes.index(v) for v in labels_text])
    smallest = min(np.bincount(y_all))
    if smallest < 2 or len(y_all) < 10:
        fail(f"{args.csv}: 数据太少 / too few rows to train and test ({len(y_all)} rows, {smallest} in the "
             f"smaller class); need at least 10 rows and 2 of each class")
    train_rows, test_rows = stratified_split(y_all, args.test_split, np.random.default_rng(args.seed))
    input_columns, feature_names, source, raw = names, names, "csv", False
    class_names = classes
    ids = [str(i + 2) for i in kept]
    print(f"{args.csv}: {len(y_all)} rows, features {', '.join(names)}; label '{args.label}' "
          f"({classes[0]} / {classes[1]}); {len(test_rows)} held out for testing")
else:
    # Made by this script, so it lives in the cache folder (common/paths.py), never in a data folder.
    csv_path = common.cache_dir() / "membership.csv"
    # The generator's settings are stored beside the file: change any of them and it is rebuilt,
    # so the Bayes-optimal accuracy always matches the data.
    recipe = json.dumps({"rows": args.rows, "seed": args.seed, "hidden_model": HIDDEN_MODEL}, sort_keys=True)
    recipe_path = csv_path.with_suffix(".recipe.json")
    if not (csv_path.is_file() and recipe_path.is_file() and recipe_path.read_text(encoding="utf-8") == recipe):
        generate_membership_csv(csv_path, args.rows, seed=args.seed)
        common.write_text(recipe_path, recipe)
        print(f"generated {args.rows} activity-log rows -> {csv_path}")
    header, rows = read_csv(csv_path)
    table = membership_table(header, rows, csv_path)
    print(f"raw row (文章 五 的原始日志): {dict(zip(header, rows[0]))}")
    x_all, feature_names = article_features(table, raw=args.raw_features)
    y_all = np.array([int(v) for v in column_values(header, rows, "is_member")])
    split = len(rows) - 1000 if len(rows) > 2000 else int(len(rows) * 0.87)
    train_rows, test_rows = np.arange(split), np.arange(split, len(rows))
    input_columns = [c for c in RAW_COLUMNS if c not in ("qq", "is_member")]
    source, raw, class_names = "generated", args.raw_features, ["非会员", "会员"]
    ids = column_values(header, rows, "qq")
    np.set_printoptions(precision=4, suppress=True, linewidth=120)
    print(f"features ({', '.join(feature_names)}):\n  {x_all[0]} -> label {np.eye(2, dtype=int)[y_all[0]]}")
    print(f"feature range over all rows: min {x_all.min():.4f}, max {x_all.max():.4f}")

# Normalization is fitted on the training rows only, then applied to both (文章: 归一化).
# Your own CSV is z-scored unless you say otherwise: raw columns in the hundreds next to 0/1
# flags train badly (a real 30-column medical CSV: 0.76 unscaled, 0.97 z-scored, issue #11).
normalize = args.normalize or ("zscore" if args.csv else "none")
normalization = common.normalize_fit(normalize, x_all[train_rows])
x_train = common.normalize_apply(normalization, x_all[train_rows])
x_test = common.normalize_apply(normalization, x_all[test_rows])
y_train, y_test = y_all[train_rows], y_all[test_rows]
# Values such as 1e308 pass as numbers but overflow the mean/std or float32 (max ≈ 3.4e38).
fitted = np.array([normalization[key] for key in ("mean", "std", "min", "max") if key in normalization])
overflow = ~np.isfinite(np.concatenate([x_train, x_test, fitted.reshape(-1, x_train.shape[1])])).all(axis=0)
if overflow.any():
    j = int(np.flatnonzero(overflow)[0])
    fail(f"列 '{feature_names[j]}' 的数值太大，无法计算 / column '{feature_names[j]}' has values too large "
         f"to compute with (largest {np.abs(x_all[:, j]).max():.3g}); rescale it (e.g. divide by 1e6)")
print(f"train {len(x_train)} rows, test {len(x_test)} rows, {x_train.shape[1]} features, "
      f"normalization: {normalize}" + (" (fitted on the training rows; --normalize none turns it off)"
                                       if args.csv and not args.normalize else ""))

# ================================================================ 6. train, verify, save
# A NaN stops training with the guard's message and exit code 1.
settings = dict(naive_loss=args.raw_features, seed=args.seed, lr=args.lr, epochs=args.epochs,
                batch_size=args.batch_size)
print("softmax regression:")
weights = train_model(x_train, y_train, 0, **settings)
mlp_weights = None
if args.hidden:
    print(f"MLP with {args.hidden} hidden units:")
    mlp_weights = train_model(x_train, y_train, args.hidden, **settings)

probabilities = predict_proba(weights, x_test)
accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
for i in range(min(5, len(y_test))):  # 文章: "82% 非会员, 17.9% 会员"
    p = probabilities[i]
    guess, actual = int(p.argmax()), int(y_test[i])
    who = f"QQ {ids[test_rows[i]]}" if source == "generated" else f"line {ids[test_rows[i]]}"
    print(f"{who}: {p[0]:.1%} {class_names[0]} / {p[1]:.1%} {class_names[1]} — actual: "
          f"{class_names[actual]} {'✓' if guess == actual else '✗'}")

bundle = {"source": source, "raw_features": raw, "input_columns": input_columns,
          "feature_names": feature_names, "classes": class_names, "normalization": normalization,
          "weights": [w.tolist() for w in weights]}
common.write_json(bundle_path, bundle, indent=None)
with common.atomic_open(out / "05_membership_test_predictions.csv", encoding="utf-8-sig", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["id"] + [f"p_{c}" for c in class_names] + ["actual"])
    for i, p in zip(test_rows, probabilities):
        writer.writerow([ids[i]] + [f"{v:.6f}" for v in p] + [class_names[y_all[i]]])
print(f"saved model, normalization and feature list: {bundle_path}")

if mlp_weights is not None:
    mlp_accuracy = float((predict_proba(mlp_weights, x_test).argmax(axis=1) == y_test).mean())
    print(f"MLP ({args.hidden} hidden units) test accuracy: {mlp_accuracy:.4f}  vs softmax: {accuracy:.4f}")
majority = max(y_test.mean(), 1 - y_test.mean())
print(f"(always guessing the larger class would give {majority:.4f})")
print(f"test accuracy: {accuracy:.4f}")
if source == "generated":
    bayes = bayes_member_probability({k: v[test_rows] for k, v in table.items()})
    print(f"Bayes-optimal accuracy: {float(((bayes > 0.5) == (y_test == 1)).mean()):.4f}")
