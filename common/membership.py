"""The stand-in for the article's private activity logs (05), and reading 05's saved model
(05 --predict, 10's membership part).

The article's data is private, so a documented generator writes a stand-in with a known hidden
model. Knowing its own probabilities, it also gives the Bayes-optimal accuracy: the best any
model could reach on those rows.
"""
import csv
import json
import math
from pathlib import Path

import numpy as np

from .errors import fail
from .files import atomic_open, load_keras_model, write_text
from .paths import cache_dir
from .tables import column_values, numeric_columns, read_csv, rows_without_missing

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
    with atomic_open(path, newline="") as f:
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


def stand_in_csv(rows, seed):
    """Path of the stand-in CSV in the cache folder (common/paths.py), made again when its recipe
    (rows, seed, hidden model) changed, so the Bayes-optimal accuracy always matches the data."""
    path = cache_dir() / "membership.csv"
    recipe = json.dumps({"rows": rows, "seed": seed, "hidden_model": HIDDEN_MODEL}, sort_keys=True)
    recipe_path = path.with_suffix(".recipe.json")
    if not (path.is_file() and recipe_path.is_file() and recipe_path.read_text(encoding="utf-8") == recipe):
        generate_membership_csv(path, rows, seed=seed)
        write_text(recipe_path, recipe)
        print(f"已生成 {rows} 行替身活动日志 / generated {rows} activity-log rows -> {path}")
    return path


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
        fail(f"活动日志里有不合法的值 / {path}: bad value in the activity log ({error})")
    for k in range(4):
        table[f"ip{k + 1}"] = octets[:, k]
    platforms = column_values(header, rows, "platform")
    table["platform_ios"] = np.array([1.0 if p.lower() == "ios" else 0.0 for p in platforms])
    table["ip_int"] = (octets.astype(np.float64) * [2 ** 24, 2 ** 16, 2 ** 8, 1]).sum(axis=1)
    return table


def article_inputs(table, raw=False):
    """文章 五: (values, names, divisors): the columns 05's model takes, and what to divide each by
    to get the article's 11 features in [0, 1]; with raw=True, the unscaled Unix time and IP
    number the article first fed in (divisors 1), which produced its NaN."""
    flags = [table[name] for name in FLAG_NAMES]
    if raw:
        columns, names = [table["join_time"], table["ip_int"], table["platform_ios"], *flags], ["join_time", "ip_int"]
        divisors = [1.0] * len(columns)
    else:
        hour = (table["join_time"].astype(np.int64) % 86400) // 3600
        columns = [hour] + [table[f"ip{k}"] for k in range(1, 5)] + [table["platform_ios"], *flags]
        names = ["hour", "ip1", "ip2", "ip3", "ip4"]
        divisors = [24.0] + [255.0] * 4 + [1.0] * (1 + len(flags))
    return np.stack(columns, axis=1).astype(np.float64), names + ["platform_ios", *FLAG_NAMES], np.array(divisors)


# ---------------------------------------------------------------- 05's saved model
# How the page (10) names the generated data's columns: Chinese first, English beside it.
FEATURE_LABELS = {"hour": "加入的钟点 / hour of joining (0-23)", "platform_ios": "iOS 手机 / on iOS",
                  **{f"ip{k}": f"IP 第 {k} 段 / IP part {k}" for k in range(1, 5)},
                  "gift_vip": "领了会员礼包 / claimed the VIP gift", "gift_ticket": "领了票券 / claimed a ticket",
                  "gift_snack": "领了零食 / claimed a snack", "share": "分享过 / shared", "lottery": "抽过奖 / played the lottery",
                  "join_time": "加入时间（Unix 秒） / join time (Unix seconds)", "ip_int": "IP（一个整数） / IP as one integer"}


def feature_file(model_path):
    """05_membership.keras → 05_membership_features.json: what the model's input columns are."""
    return Path(model_path).with_name(Path(model_path).stem + "_features.json")


def describe_inputs(names, x):
    """Each input column's name, range, middle value and whether it only takes whole numbers
    (for a form: 10's membership part), from the training rows."""
    return [{"name": name, "label": FEATURE_LABELS.get(name, name), "min": float(column.min()), "max": float(column.max()), "median": float(np.median(column)),
             "integer": bool(np.all(column == np.round(column)))} for name, column in zip(names, x.T)]


def read_features(model_path):
    """The feature list saved beside 05's model, checked; one clear message if it is missing or damaged."""
    path = feature_file(model_path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        for feature in info["features"]:
            float(feature["min"]), float(feature["max"]), str(feature["name"])  # noqa: B018
        len(info["classes"]), info["source"], info["input_columns"]  # noqa: B018
    except FileNotFoundError:
        fail(f"缺少模型的特征列表 / {path} is missing (05 saves it beside {Path(model_path).name}); "
             f"run python 05_membership.py again")
    except (ValueError, KeyError, TypeError) as error:
        fail(f"特征列表已损坏 / {path} is damaged ({type(error).__name__}); run python 05_membership.py again")
    return info


def load_model(model_path):
    """05's Keras model and its feature list; a model saved by an older 05 (weights in a JSON) is
    refused with what to do."""
    model_path = Path(model_path)
    if not model_path.is_file():
        older = model_path.with_name("05_membership_model.json")
        if older.is_file():
            fail(f"{older} 是旧版 05 保存的模型（权重存在 JSON 里），现在的 05 保存为 Keras 模型；"
                 f"请重新运行 python 05_membership.py（几秒钟） / {older} was saved by an older 05 (weights in a JSON); "
                 f"05 now saves a Keras model: run python 05_membership.py again (a few seconds)")
        fail(f"还没有保存的模型 / no saved model at {model_path}; train first (run without --predict)")
    info = read_features(model_path)
    model = load_keras_model(model_path, "请重新运行 python 05_membership.py / run python 05_membership.py again")
    if model.input_shape[-1] != len(info["features"]) or model.output_shape[-1] != len(info["classes"]):
        fail(f"{model_path} 和它的特征列表 {feature_file(model_path).name} 对不上 / does not match its feature list "
             f"({model.input_shape[-1]} inputs, {len(info['features'])} features); run python 05_membership.py again")
    return model, info


def score_csv(model_path, path, dropna=False):
    """05 --predict: add p_<class> columns to a CSV with the saved model; returns the output path."""
    model, info = load_model(model_path)
    header, rows = read_csv(path)
    missing = [c for c in info["input_columns"] if c not in header]
    if missing:
        fail(f"列和保存的模型不一致 / {path} does not match the saved model's columns: missing {', '.join(missing)} "
             f"(the model was trained on: {', '.join(info['input_columns'])})")
    extra = [c for c in header if c not in info["input_columns"]]
    if extra:
        print(f"注意：模型不用的列原样复制到输出 / note: columns not used by the model are copied through: "
              f"{', '.join(extra)}")
    # The same missing-value rule as in training: refuse, or with --dropna skip those rows
    # (they are copied to the output with empty probabilities, so row numbers still line up).
    if info["source"] == "generated":
        kept, _ = rows_without_missing(header, rows, info["input_columns"], path, dropna)
        x, _, _ = article_inputs(membership_table(header, [rows[i] for i in kept], path), raw=info["raw_features"])
    else:
        x, kept = numeric_columns(header, rows, info["input_columns"], path, dropna=dropna)
    probabilities = dict(zip(kept, model.predict(x.astype(np.float32), verbose=0) if len(kept) else []))
    target = Path(path).with_suffix(".predictions.csv")
    with atomic_open(target, encoding="utf-8-sig", newline="") as f:  # -sig: Excel reads UTF-8
        writer = csv.writer(f)
        writer.writerow(header + [f"p_{c}" for c in info["classes"]] + ["predicted"])
        for i, row in enumerate(rows):
            p = probabilities.get(i)
            writer.writerow(row + ([f"{v:.6f}" for v in p] + [info["classes"][int(np.argmax(p))]] if p is not None
                                   else [""] * (len(info["classes"]) + 1)))
    blank = len(rows) - len(kept)
    skipped_zh = f"（{blank} 行有缺失值，概率留空）" if blank else ""
    skipped = f" ({blank} with missing values left blank)" if blank else ""
    print(f"已为 {len(kept)} 行算出概率{skipped_zh} / scored {len(kept)} rows{skipped} -> {target}")
    return target
