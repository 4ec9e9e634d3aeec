"""Checked argparse types and the flags every script shares.

A wrong number (`--epochs 0`, `--lr nan`, `--seed -1`) stops at once with argparse's usage line
and exit code 2, before any data is read or any saved model is touched.
"""
import argparse
import math

from .paths import SCRIPTS_DIR

MAX_SEED = 2 ** 32 - 1  # NumPy's limit


def _number(text, kind):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"需要一个{'整数' if kind is int else '数'} / "
                                         f"expected {'a whole number' if kind is int else 'a number'}, "
                                         f"got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"必须是有限的数 / must be a finite number, got {text!r}")
    return value


def _checked(kind, test, rule_zh, rule_en):
    def parse(text):
        value = _number(text, kind)
        if not test(value):
            raise argparse.ArgumentTypeError(f"必须{rule_zh} / must be {rule_en}, got {text!r}")
        return value
    parse.__name__ = rule_en  # argparse shows this name in "invalid ... value"
    return parse


positive_int = _checked(int, lambda v: v > 0, "是正整数", "a positive whole number")
nonnegative_int = _checked(int, lambda v: v >= 0, "是 ≥ 0 的整数", "a whole number ≥ 0")
positive_float = _checked(float, lambda v: v > 0, "大于 0", "greater than 0")
nonnegative_float = _checked(float, lambda v: v >= 0, "≥ 0", "≥ 0")
fraction = _checked(float, lambda v: 0 < v < 1, "在 0 和 1 之间（不含两端）", "between 0 and 1 (exclusive)")
dropout_share = _checked(float, lambda v: 0 <= v < 1, "在 0（含）和 1（不含）之间", "in [0, 1)")
seed_number = _checked(int, lambda v: 0 <= v <= MAX_SEED, f"在 0 到 {MAX_SEED} 之间", f"in 0..{MAX_SEED}")


def at_least(minimum):
    return _checked(int, lambda v: v >= minimum, f"是 ≥ {minimum} 的整数", f"a whole number ≥ {minimum}")


def add_common_args(parser, seed=42):
    """--data-dir, --seed and --out-dir, the same on every script."""
    parser.add_argument("--data-dir", default=None,
                        help="data folder (default: $TFDEMOS_DATA_DIR, else data/ beside the scripts)")
    parser.add_argument("--seed", type=seed_number, default=seed, help="random seed")
    parser.add_argument("--out-dir", default=str(SCRIPTS_DIR / "outputs"),
                        help="where models, figures and results go (default: outputs/)")
    return parser
