"""Checked argparse types and the flags every script shares.

A wrong number (`--epochs 0`, `--lr nan`, `--seed -1`) stops at once with argparse's usage line
and exit code 2, before any data is read or any saved model is touched.
"""
import argparse
import difflib
import math
import re
import os
import sys

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
fraction = _checked(float, lambda v: 0 < v < 1, "在 0 和 1 之间（不含两端）", "between 0 and 1 (exclusive)")
dropout_share = _checked(float, lambda v: 0 <= v < 1, "在 0（含）和 1（不含）之间", "in [0, 1)")
seed_number = _checked(int, lambda v: 0 <= v <= MAX_SEED, f"在 0 到 {MAX_SEED} 之间", f"in 0..{MAX_SEED}")


def at_least(minimum):
    return _checked(int, lambda v: v >= minimum, f"是 ≥ {minimum} 的整数", f"a whole number ≥ {minimum}")


def add_common_args(parser, seed=42):
    """--data-dir, --seed and --out-dir, the same on every script."""
    parser.add_argument("--data-dir", default=None,
                        help="数据文件夹（默认：环境变量 TFDEMOS_DATA_DIR，否则脚本旁的 data/） / "
                             "data folder (default: $TFDEMOS_DATA_DIR, else data/ beside the scripts)")
    parser.add_argument("--seed", type=seed_number, default=seed,
                        help="随机种子：同一个种子每次得到同样的结果 / random seed: the same seed repeats a run")
    parser.add_argument("--out-dir", default=str(SCRIPTS_DIR / "outputs"),
                        help="模型、图片和结果写到这里 / where models, figures and results go")
    return parser


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """--help keeps the docstring's layout and shows every flag's default after its text."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.option_strings and action.nargs != 0 and action.default not in (None, [], argparse.SUPPRESS) \
                and "%(default)" not in text:  # nargs 0: an on/off switch, its help says what it does
            text += "（默认 / default: %(default)s）"
        return text

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法 / usage: " if prefix is None else prefix)


def _doc_sections(doc, wanted=("Run", "Expected")):
    """The docstring's sections whose heading (an unindented line) names one of `wanted`."""
    kept, keep = [], False
    for line in (doc or "").strip().splitlines()[1:]:
        if line and not line[0].isspace():
            keep = any(word in line for word in wanted)
        if keep:
            kept.append(line)
    return "\n".join(kept).strip()


# argparse's own messages (English only), said in Chinese first: (pattern, Chinese).
ARGPARSE_ZH = [(r"unrecognized arguments: ", "不认识的参数"),
               (r"argument (\S+): invalid choice: ", r"参数 \1 只能取列出的值之一"),
               (r"argument (\S+): expected one argument", r"参数 \1 后面要写一个值"),
               (r"argument (\S+): expected at least one argument", r"参数 \1 后面至少要写一个值"),
               (r"argument (\S+): ignored explicit argument", r"参数 \1 是开关，后面不能写值"),
               (r"argument (\S+): invalid \S+ value", r"参数 \1 的值不对"),
               (r"argument (\S+): not allowed with argument (\S+)", r"参数 \1 和 \2 不能一起用"),
               (r"ambiguous option: (\S+) could match", r"参数 \1 是缩写，能对应好几个参数，请写完整"),
               (r"the following arguments are required", "缺少必需的参数")]


class BilingualParser(argparse.ArgumentParser):
    """argparse's errors Chinese first, and for a mistyped flag the nearest real one."""

    def error(self, message):
        said = next((re.match(pattern, message).expand(chinese) for pattern, chinese in ARGPARSE_ZH
                     if re.match(pattern, message)), None)
        own = re.fullmatch(r"argument (\S+): ([^/]*[\u4e00-\u9fff][^/]*) / (.*)", message, re.S)
        if said:
            message = f"{said} / {message}"
        elif own:  # a value our checked types refused: their text is bilingual already
            message = f"参数 {own[1]}：{own[2]} / argument {own[1]}: {own[3]}"
        elif not re.search(r"[\u4e00-\u9fff]", message):  # (the scripts' own parser.error calls are bilingual)
            message = f"参数有误 / {message}"
        if message.startswith("不认识的参数"):
            flags = [flag for action in self._actions for flag in action.option_strings]
            for word in message.split("unrecognized arguments: ", 1)[1].split():
                near = difflib.get_close_matches(word.split("=")[0], flags, n=1, cutoff=0.75)
                if word.startswith("-") and near:
                    message += f"\n  {word.split('=')[0]}：你是想写 {near[0]} 吗？/ did you mean {near[0]}?"
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: 错误 / error: {message}\n")


def make_parser(doc):
    """An ArgumentParser whose --help reads: title, flags (bilingual, defaults), then Run / Expected."""
    title = (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""
    parser = BilingualParser(description=title, epilog=_doc_sections(doc) or None,
                             formatter_class=HelpFormatter, add_help=False)
    parser._optionals.title = "参数 / options"
    parser.add_argument("-h", "--help", action="help", help="显示本帮助并退出 / show this help and exit")
    return parser


def in_jupyter_kernel():
    """True when Jupyter or VS Code's interactive window started this Python (its argv is the kernel's)."""
    return "ipykernel" in sys.modules and "ipykernel" in os.path.basename(sys.argv[0] if sys.argv else "")


def parse_args(parser):
    """The command line's flags; in a notebook kernel, the defaults (the kernel's own -f is not ours).

    To try other flags in a notebook, run a cell like `sys.argv = ["04_mnist_cnn.py", "--epochs", "3"]`
    before the cell that parses them.
    """
    if in_jupyter_kernel():
        print("（Notebook：使用默认参数 / notebook kernel: default flags; see README 像 Notebook 一样逐格运行）")
        return parser.parse_args([])
    return parser.parse_args()
