"""The stand-in for the article's private activity logs (05), and scoring new rows with 05's model.

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
from .files import atomic_open, write_text
from .normalize import normalize_apply
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


# ---------------------------------------------------------------- 05's saved model
def named_weights(weights):
    """{"W": ..., "b": ...} (softmax) or {"W1", "b1", "W2", "b2"} (MLP) as arrays; older files
    stored a plain list of 2 or 4 arrays."""
    if isinstance(weights, list):
        names = ["W", "b"] if len(weights) == 2 else ["W1", "b1", "W2", "b2"]
        weights = dict(zip(names, weights, strict=True))
    return {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}


def predict_proba(weights, x):
    """softmax(x·W + b) in NumPy, or through the MLP's hidden ReLU layer first."""
    x = np.asarray(x, dtype=np.float64)
    if "W1" in weights:
        x = np.maximum(x @ weights["W1"] + weights["b1"], 0)
        logits = x @ weights["W2"] + weights["b2"]
    else:
        logits = x @ weights["W"] + weights["b"]
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def score_csv(bundle_path, path, dropna=False):
    """05 --predict: add p_<class> columns to a CSV with the saved model; returns the output path."""
    if not bundle_path.is_file():
        fail(f"还没有保存的模型 / no saved model at {bundle_path}; train first (run without --predict)")
    try:
        bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
        bundle["weights"] = named_weights(bundle["weights"])
        bundle["input_columns"], bundle["normalization"]["kind"]  # noqa: B018
    except (ValueError, KeyError, TypeError, IndexError) as error:
        fail(f"保存的模型已损坏 / the saved model {bundle_path} is damaged ({type(error).__name__}); "
             f"train again (run without --predict)")
    header, rows = read_csv(path)
    missing = [c for c in bundle["input_columns"] if c not in header]
    if missing:
        fail(f"列和保存的模型不一致 / {path} does not match the saved model's columns: missing {', '.join(missing)} "
             f"(the model was trained on: {', '.join(bundle['input_columns'])})")
    extra = [c for c in header if c not in bundle["input_columns"]]
    if extra:
        print(f"注意：模型不用的列原样复制到输出 / note: columns not used by the model are copied through: "
              f"{', '.join(extra)}")
    # The same missing-value rule as in training: refuse, or with --dropna skip those rows
    # (they are copied to the output with empty probabilities, so row numbers still line up).
    if bundle["source"] == "generated":
        kept, _ = rows_without_missing(header, rows, bundle["input_columns"], path, dropna)
        x, _ = article_features(membership_table(header, [rows[i] for i in kept], path),
                                raw=bundle["raw_features"])
    else:
        x, kept = numeric_columns(header, rows, bundle["input_columns"], path, dropna=dropna)
    x = normalize_apply(bundle["normalization"], x)
    probabilities = dict(zip(kept, predict_proba(bundle["weights"], x)))
    target = Path(path).with_suffix(".predictions.csv")
    with atomic_open(target, encoding="utf-8-sig", newline="") as f:  # -sig: Excel reads UTF-8
        writer = csv.writer(f)
        writer.writerow(header + [f"p_{c}" for c in bundle["classes"]] + ["predicted"])
        for i, row in enumerate(rows):
            p = probabilities.get(i)
            writer.writerow(row + ([f"{v:.6f}" for v in p] + [bundle["classes"][int(np.argmax(p))]] if p is not None
                                   else [""] * (len(bundle["classes"]) + 1)))
    blank = len(rows) - len(kept)
    skipped_zh = f"（{blank} 行有缺失值，概率留空）" if blank else ""
    skipped = f" ({blank} with missing values left blank)" if blank else ""
    print(f"已为 {len(kept)} 行算出概率{skipped_zh} / scored {len(kept)} rows{skipped} -> {target}")
    return target
