"""05 · 业务应用：从活动日志预测超级会员 / Predict "super members" from activity logs (文章 五)

What it shows
  The article's business demo. Raw log rows (QQ number, IP, phone platform, time of joining,
  five gift-claim flags) become 11 numbers in [0, 1]; softmax regression, written by hand as in
  02, predicts member / non-member. The article's data is private, so a documented generator
  writes a stand-in (common/membership.py). It knows its own probabilities, so the script also
  prints the Bayes-optimal accuracy: the best any model could reach on these rows.
  Your own CSV (--csv) may have any number of classes: softmax gives one probability per class,
  and the script prints a confusion table (which class was taken for which).

Run / 运行
  python 05_membership.py                     文章的流程，几秒钟 / the article's pipeline, a few seconds
  python 05_membership.py --hidden 32         再训练一个小 MLP 对比 / also a small MLP, printed next to it
  python 05_membership.py --raw-features      文章的 NaN 故事：不缩放的输入 / the NaN story: unscaled inputs
  python 05_membership.py --raw-features --normalize zscore    ……和它的修复 / ... and its fix
  python 05_membership.py --csv my.csv --label churned         你自己的数据 / your own data (2 or more classes)
  python 05_membership.py --predict new_users.csv              用保存的模型给新行打分 / score new rows

Expected / 预期结果
  测试准确率 0.8860，贝叶斯最优准确率 0.8840（文章：87%）；--raw-features 在第 2 步被 NaN 守卫停下
  test accuracy 0.8860, Bayes-optimal accuracy 0.8840 (article: 87%); --raw-features: the NaN guard
  stops training at step 2 (exit code 1)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import csv
import math

import numpy as np

from common import membership, tables

parser = common.make_parser(__doc__)
parser.add_argument("--csv", help="用你自己的 CSV 训练，代替生成的数据 / train on your own CSV instead of the generated data")
parser.add_argument("--label", help="配合 --csv：标签列，两种或更多种取值（如 0/1、三个品种） / "
                                    "with --csv: the label column, 2 or more distinct values (0/1, three species...)")
parser.add_argument("--features", help="配合 --csv：特征列，逗号分隔（不给则用其余所有列） / "
                                       "with --csv: comma-separated feature columns (default: all others)")
parser.add_argument("--dropna", action="store_true",
                    help="配合 --csv / --predict：跳过有缺失值的行 / with --csv / --predict: skip rows with missing values")
parser.add_argument("--test-split", type=common.fraction, default=0.2,
                    help="配合 --csv：按类别分层抽出做测试集的比例 / with --csv: stratified test share")
parser.add_argument("--predict", metavar="NEW_CSV",
                    help="用已保存的模型给 NEW_CSV 的每一行打分 / score NEW_CSV with the saved model")
parser.add_argument("--raw-features", action="store_true",
                    help="不缩放的原始输入（IP 当作一个整数、Unix 时间）+ 文章手写的对数损失 / "
                         "unscaled inputs (IP as one integer, Unix time) + the hand-written log loss")
parser.add_argument("--normalize", choices=["none", "minmax", "zscore"], default=None,
                    help="缩放特征，只用训练行拟合（不给：--csv 时用 zscore；生成的数据用 none，它的 11 个特征已在 "
                         "[0, 1] 内） / scale features, fitted on the training rows only (default: zscore with "
                         "--csv, none for the generated data, whose 11 features are already in [0, 1])")
parser.add_argument("--export", action="store_true",
                    help="训练后再导出给应用程序用：SavedModel（TF Serving）和 LiteRT/TFLite / "
                         "after training, also export for applications: a SavedModel (TF Serving) and LiteRT/TFLite")
parser.add_argument("--hidden", type=common.nonnegative_int, default=0,
                    help="另外训练一个有这么多隐藏单元的 MLP（0：不训练） / "
                         "also train an MLP with this many hidden units (0: none)")
parser.add_argument("--rows", type=common.at_least(200), default=7700,
                    help="生成多少行（最后 1,000 行做测试集；不超过 2,000 行时是最后 13%%） / "
                         "rows to generate (the last 1,000 are the test set; the last 13%% up to 2,000 rows)")
parser.add_argument("--epochs", type=common.positive_int, default=40,
                    help="训练轮数（每轮把训练行过一遍） / epochs (passes over the training rows)")
parser.add_argument("--batch-size", type=common.positive_int, default=100,
                    help="每一步（一批）用多少行 / rows per gradient step (batch)")
parser.add_argument("--lr", type=common.positive_float, default=0.5,
                    help="梯度下降的学习率 / gradient descent learning rate")
common.add_common_args(parser, seed=2017)
args = common.parse_args(parser)
args.label, args.features = common.argv_text(args.label), common.argv_text(args.features)  # 中文列名, any locale
out = common.output_dir(args.out_dir)
model_path = out / "05_membership.keras"

if args.predict:  # a separate job: score new rows with the model saved by an earlier run, then stop
    common.load_tensorflow_quietly()
    membership.score_csv(model_path, args.predict, dropna=args.dropna)
    raise SystemExit(0)

# %% 1. 准备数据 / Data (文章 五): activity-log rows → 11 numbers in [0, 1] per user
if args.csv:  # your own data: numeric columns, a label column with K ≥ 2 values (common/tables.py)
    data = tables.load_labeled_csv(args.csv, args.label, args.features, args.dropna, args.test_split, args.seed)
    x_inputs, y_all, input_names, class_names = data["x"], data["y"], data["names"], data["classes"]
    train_rows, test_rows, ids = data["train_rows"], data["test_rows"], data["ids"]
    x_all, feature_names, input_columns = x_inputs, input_names, input_names
    divisors = np.ones(len(input_names))
else:  # the stand-in for the article's private logs (common/membership.py)
    csv_path = membership.stand_in_csv(args.rows, args.seed)
    header, rows = tables.read_csv(csv_path)
    print(f"原始日志的一行（文章 五）/ one raw log row: {dict(zip(header, rows[0]))}")
    table = membership.membership_table(header, rows, csv_path)
    # The article's 11 features: hour of joining / 24, the four IP numbers / 255, iOS or not, five
    # gift flags. --raw-features feeds the unscaled Unix time and IP instead (the article's NaN).
    x_inputs, input_names, divisors = membership.article_inputs(table, raw=args.raw_features)
    x_all = x_inputs / divisors
    feature_names = [f"{name}/{d:.0f}" if d != 1 else name for name, d in zip(input_names, divisors)]
    y_all = np.array([int(v) for v in tables.column_values(header, rows, "is_member")])
    split = len(rows) - 1000 if len(rows) > 2000 else int(len(rows) * 0.87)
    train_rows, test_rows = np.arange(split), np.arange(split, len(rows))
    input_columns = [c for c in membership.RAW_COLUMNS if c not in ("qq", "is_member")]
    class_names, ids = ["非会员", "会员"], tables.column_values(header, rows, "qq")
    np.set_printoptions(precision=4, suppress=True, linewidth=120)
    print(f"变成 {len(feature_names)} 个特征 / as {len(feature_names)} features ({', '.join(feature_names)}):\n"
          f"  {x_all[0]} -> one-hot 标签 / label {np.eye(2, dtype=int)[y_all[0]]}（{class_names[y_all[0]]}）")
    print(f"所有行的特征取值范围 / feature range over all rows: min {x_all.min():.4f}, max {x_all.max():.4f}")

# Normalization (文章: 归一化): each column becomes (x − shift) / spread, both fitted on the
# training rows only and applied unchanged to the test rows (and, inside the saved model, to new ones).
# Your own CSV is z-scored unless you say otherwise: with one learning rate for all columns, raw
# columns in the hundreds next to 0/1 flags train badly.
normalize = args.normalize or ("zscore" if args.csv else "none")
fit_rows = x_all[train_rows]
with np.errstate(over="ignore", invalid="ignore"):  # huge values: checked for inf below
    shift, spread = {"minmax": (fit_rows.min(axis=0), np.ptp(fit_rows, axis=0)),
                     "zscore": (fit_rows.mean(axis=0), fit_rows.std(axis=0)),
                     "none": (np.zeros(fit_rows.shape[1]), np.ones(fit_rows.shape[1]))}[normalize]
    spread = np.where(spread > 0, spread, 1.0)  # a constant column becomes 0, not 0/0 = NaN
    x_train = ((x_all[train_rows] - shift) / spread).astype(np.float32)
    x_test = ((x_all[test_rows] - shift) / spread).astype(np.float32)
y_train, y_test = y_all[train_rows], y_all[test_rows]
# Values such as 1e308 pass as numbers but overflow the mean/std or float32 (max ≈ 3.4e38).
overflow = ~np.isfinite(np.concatenate([x_train, x_test, [shift, spread]])).all(axis=0)
if overflow.any():
    j = int(np.flatnonzero(overflow)[0])
    common.fail(f"列 '{feature_names[j]}' 的数值太大，无法计算 / column '{feature_names[j]}' has values too "
                f"large to compute with (largest {np.abs(x_all[:, j]).max():.3g}); rescale it (e.g. divide by 1e6)")
print(f"训练 {len(x_train)} 行，测试 {len(x_test)} 行，{x_train.shape[1]} 个特征 / "
      f"train {len(x_train)} rows, test {len(x_test)} rows, {x_train.shape[1]} features")
if normalize == "none":
    why = ("（原始数值直接输入 / raw values go in as they are）" if args.raw_features
           else "" if args.csv else "（特征已在 [0, 1] 内 / the features are already in [0, 1]）")
elif args.csv and not args.normalize:
    why = "（只用训练行拟合；--normalize none 可关掉 / fitted on the training rows; --normalize none turns it off）"
else:
    why = "（只用训练行拟合 / fitted on the training rows）"
print(f"归一化 / normalization: {normalize}{why}")
if args.raw_features and not args.csv and normalize == "none":
    print("文章的 NaN 故事 / the article's NaN story:\n"
          "  输入是没缩放的大数（上十亿），更新几步后 logits 大得惊人，softmax 给出的概率恰好是 0，\n"
          "  手写损失 -Σ y'·log(y) 里的 log(0) = -inf，损失就成了 NaN/Inf\n"
          "  / inputs in the billions make the logits huge within a few steps; softmax then gives exactly 0,\n"
          "  and log(0) = -inf turns the hand-written loss -Σ y'·log(y) into NaN/Inf")
elif args.raw_features and not args.csv:
    print("文章的修复 / the article's fix: 同样的原始数值和手写损失，先缩放就能正常训练 / "
          "the same raw values and hand-written loss train well once scaled")


# TensorFlow comes after the flags and the data (--help, typos and a bad CSV answer at once),
# minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

common.set_seed(args.seed)


# %% 2. 模型 / Model, as in 02: y = softmax(x·W + b); or with one hidden ReLU layer (--hidden)
def make_weights(n_features, n_classes, hidden):
    """One column of W per class: 2 for member / non-member, K for a CSV label with K values."""
    if not hidden:
        return {"W": tf.Variable(tf.zeros([n_features, n_classes])), "b": tf.Variable(tf.zeros([n_classes]))}
    return {"W1": tf.Variable(tf.random.normal([n_features, hidden], stddev=math.sqrt(2 / n_features))),
            "b1": tf.Variable(tf.zeros([hidden])),
            "W2": tf.Variable(tf.random.normal([hidden, n_classes], stddev=math.sqrt(1 / hidden))),
            "b2": tf.Variable(tf.zeros([n_classes]))}


def logits_of(weights, x):
    if "W1" in weights:
        x = tf.nn.relu(tf.matmul(x, weights["W1"]) + weights["b1"])
        return tf.matmul(x, weights["W2"]) + weights["b2"]
    return tf.matmul(x, weights["W"]) + weights["b"]


# %% 3. 损失函数 / Loss and 4. training by plain gradient descent
def make_train_step(weights, naive_loss, lr):
    """One step of gradient descent on a batch: w ← w − lr·∂loss/∂w for every weight."""
    variables = list(weights.values())

    @tf.function
    def train_step(x, y_onehot):
        with tf.GradientTape() as tape:
            logits = logits_of(weights, x)
            if naive_loss:  # 文章: -Σ y'·log(y), which overflows/NaNs on unscaled inputs
                loss = tf.reduce_mean(-tf.reduce_sum(y_onehot * tf.math.log(tf.nn.softmax(logits)), axis=1))
            else:
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_onehot, logits=logits))
        for variable, gradient in zip(variables, tape.gradient(loss, variables)):
            variable.assign_sub(lr * gradient)
        return loss
    return train_step


def train_model(x_train, y_train, n_classes, hidden, naive_loss, seed, lr, epochs, batch_size):
    """Returns the trained weights as NumPy arrays, by name."""
    tf.random.set_seed(seed)
    weights = make_weights(x_train.shape[1], n_classes, hidden)
    train_step = make_train_step(weights, naive_loss, lr)
    x_train = x_train.astype(np.float32)
    y_onehot = np.eye(n_classes, dtype=np.float32)[y_train]
    fix = "试试 --normalize minmax 或 --normalize zscore / try --normalize minmax or --normalize zscore."
    guard = common.NanGuard(hint=fix if naive_loss else "")
    rng = np.random.default_rng(seed)
    step = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        for first in range(0, len(x_train), batch_size):
            rows = order[first:first + batch_size]
            step += 1
            loss = train_step(x_train[rows], y_onehot[rows])
            guard.check(step, loss, rows=(first, first + len(rows)))  # a NaN stops here (exit 1)
        if epoch in (1, epochs) or epoch % 10 == 0:
            print(f"  第 {epoch:3d} 轮 / epoch {epoch:3d}（{step} 步 / steps）：损失 / loss {float(loss):.4f}")
    return {name: variable.numpy() for name, variable in weights.items()}


settings = dict(naive_loss=args.raw_features, seed=args.seed, lr=args.lr, epochs=args.epochs,
                batch_size=args.batch_size)
print("（下面的损失是每轮最后一批的，所以会上下跳 / each loss below is the epoch's last batch, so it jumps around）")
print("softmax 回归 / softmax regression:")
weights = train_model(x_train, y_train, len(class_names), 0, **settings)
mlp_weights = None
if args.hidden:
    print(f"MLP（{args.hidden} 个隐藏单元）/ MLP with {args.hidden} hidden units:")
    mlp_weights = train_model(x_train, y_train, len(class_names), args.hidden, **settings)

# %% 5. 一个 Keras 模型 / One Keras model: the scaling inside, raw columns in, probabilities out
def keras_model(weights, shift, spread):
    """The trained weights as a Keras model that takes the raw input columns: what --predict, the
    web page (10) and your own program use. It loads with plain Keras: keras.models.load_model."""
    features = keras.Input((len(shift),), name="features")
    # (x − shift) / spread as in training (Keras's Normalization divides by √variance)
    x = keras.layers.Normalization(mean=shift, variance=np.square(spread), name="scaling")(features)
    if "W1" in weights:
        hidden = keras.layers.Dense(len(weights["b1"]), activation="relu", name="hidden")
        x = hidden(x)
        hidden.set_weights([weights["W1"], weights["b1"]])
    last = [weights["W2"], weights["b2"]] if "W1" in weights else [weights["W"], weights["b"]]
    output = keras.layers.Dense(len(last[1]), activation="softmax", name="probabilities")  # one per class
    probabilities = output(x)
    output.set_weights(last)
    return keras.Model(features, probabilities, name="membership")


# The raw columns (hour 0-23, IP numbers 0-255, ...) are the training features times `divisors`.
model = keras_model(weights, shift * divisors, spread * divisors)
x_test_inputs = x_inputs[test_rows].astype(np.float32)

# %% 6. 验证 / Verify (文章: "82% 非会员, 17.9% 会员"), save the model with what it needs
probabilities = model.predict(x_test_inputs, verbose=0)
accuracy = float((probabilities.argmax(axis=1) == y_test).mean())
shown = min(5, len(y_test))
print(f"测试集前 {shown} 行的预测 / predictions for the first {shown} test rows:")
for i in range(shown):
    p = probabilities[i]
    guess, actual = int(p.argmax()), int(y_test[i])
    who = f"文件第 {ids[test_rows[i]]} 行 / line {ids[test_rows[i]]}" if args.csv else f"QQ {ids[test_rows[i]]}"
    likeliest = np.argsort(p)[::-1][:3]  # all classes when there are 2 or 3, else the top 3
    print(f"  {who}: " + "，".join(f"P({class_names[c]}) {p[c]:.1%}" for c in likeliest)
          + f" — 实际 / actual: {class_names[actual]} {'✓' if guess == actual else '✗'}")

common.save_keras_model(model, model_path)
# Beside it, what a program needs to call it: the input columns in order, their ranges, the classes.
common.write_json(membership.feature_file(model_path), {
    "source": "csv" if args.csv else "generated", "raw_features": args.raw_features,
    "input_columns": input_columns, "features": membership.describe_inputs(input_names, x_inputs[train_rows]),
    "classes": class_names, "normalization": normalize})
predictions_path = out / "05_membership_test_predictions.csv"
with common.atomic_open(predictions_path, encoding="utf-8-sig", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["id"] + [f"p_{c}" for c in class_names] + ["actual"])
    for i, p in zip(test_rows, probabilities):
        writer.writerow([ids[i]] + [f"{v:.6f}" for v in p] + [class_names[y_all[i]]])
print(f"已保存模型（归一化在模型里）和特征列表 / saved the model (normalization inside) and its feature list: "
      f"{model_path}, {membership.feature_file(model_path).name}")
print(f"测试集每一行的预测 / test predictions, row by row: {predictions_path}")

# Confusion table: how often each actual class (row) was predicted as each class (column).
predicted = probabilities.argmax(axis=1)
confusion = np.zeros((len(class_names), len(class_names)), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
tables.print_confusion(confusion, class_names)
results = dict(test_accuracy=accuracy, majority=float(np.bincount(y_test).max() / len(y_test)),
               classes=class_names, confusion=confusion.tolist(),
               normalization=normalize, train_rows=len(y_train), test_rows=len(y_test), **settings)
if mlp_weights is not None:
    mlp_probabilities = keras_model(mlp_weights, shift * divisors, spread * divisors).predict(x_test_inputs, verbose=0)
    results["mlp_test_accuracy"] = float((mlp_probabilities.argmax(axis=1) == y_test).mean())
    print(f"MLP（{args.hidden} 个隐藏单元）测试准确率 / MLP ({args.hidden} hidden units) test accuracy: "
          f"{results['mlp_test_accuracy']:.4f}，softmax 回归 / vs softmax: {accuracy:.4f}")
print(f"（总是猜最常见的那一类，也能得到 {results['majority']:.4f} / "
      f"always guessing the most common class would give {results['majority']:.4f}）")
print(f"测试准确率 / test accuracy: {accuracy:.4f}")
if not args.csv:  # the generator knows the true probabilities: the best any model could do
    bayes = membership.bayes_member_probability({k: v[test_rows] for k, v in table.items()})
    results["bayes_optimal_accuracy"] = float(((bayes > 0.5) == (y_test == 1)).mean())
    print(f"贝叶斯最优准确率 / Bayes-optimal accuracy: {results['bayes_optimal_accuracy']:.4f}\n"
          f"  生成器知道每行的真实概率，照它猜平均最准；只有 {len(y_test):,} 个测试行，运气能让模型略高于它\n"
          f"  / the generator knows each row's true probability, the best guess on average;\n"
          f"  on {len(y_test):,} test rows luck can put a model slightly above it")
common.save_results("05_membership", out, **results)

# %% 7. 带走模型 / Take the model home (--export): TF Serving and LiteRT take the raw columns too
if args.export:
    from common.export import export_for_apps, litert_predict
    export_dir = out / "05_membership_export"
    files = export_for_apps(model, export_dir, "membership")
    lite = litert_predict(files["membership.tflite"], x_test_inputs)
    print(f"导出 / exported to {export_dir}: saved_model/membership/1/, membership.tflite（输入 / input: "
          f"{len(input_names)} 列 / columns {', '.join(input_names)}）；LiteRT 和 Keras 的概率最多差 / "
          f"LiteRT vs Keras, largest difference in probability: {np.abs(lite - probabilities).max():.1e}")
