"""Seeds, output folder, PNG figures, command-line text, terminal widths."""
import os
import random
import sys
import unicodedata
from pathlib import Path

import numpy as np

from .errors import UserError, describe_os_error
from .files import temporary_path
from .paths import SCRIPTS_DIR


def set_seed(seed):
    """Seed Python, NumPy and TensorFlow so a run can be repeated."""
    import tensorflow as tf
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)


def cpu_has_bfloat16():
    """True where the CPU multiplies bfloat16 in hardware (AVX512_BF16 or AMX; read on Linux only):
    mixed bfloat16 pays off there. Elsewhere (other OSes, older CPUs) False, and float32 is used."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def use_bfloat16(precision):
    """--precision → train in mixed bfloat16? 'auto': where the CPU has it and no GPU trains."""
    import tensorflow as tf
    return precision == "bfloat16" or (precision == "auto" and cpu_has_bfloat16()
                                       and not tf.config.list_physical_devices("GPU"))


def output_dir(out_dir=None):
    path = Path(out_dir or SCRIPTS_DIR / "outputs")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"无法创建输出文件夹 / cannot create the output folder {path}\n"
                        f"{describe_os_error(error)}") from error
    return path


def save_figure(fig, name, out_dir=None):
    """Save a matplotlib figure as out_dir/name.png (headless-safe), close it, print the path."""
    import matplotlib.pyplot as plt
    path = output_dir(out_dir) / (name if name.endswith(".png") else name + ".png")
    try:
        with temporary_path(path) as temp:
            fig.savefig(temp, dpi=100, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)
    print(f"图片已保存 / saved figure: {path}")
    if "ipykernel" in sys.modules:  # in a notebook, show the picture under the cell as well
        from IPython.display import Image, display
        display(Image(filename=str(path)))
    return path


def plt_headless():
    """pyplot on the Agg backend: works without a screen (CI, servers, SSH)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def display_width(text):
    """Columns a text takes on a terminal: Chinese characters and full-width ，。 take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def argv_text(text):
    """Command-line text (a Chinese column name, a poem's first character) as real Unicode.

    Under a locale that is not UTF-8 (LANG=C with PYTHONUTF8=0, a Latin-1 locale) Python decodes
    the bytes a UTF-8 terminal sent with the wrong code. If the original bytes are valid UTF-8,
    decode them as UTF-8; otherwise (e.g. a GBK terminal under a GBK locale, decoded correctly)
    keep the text as it is.
    """
    if text is None:
        return None
    try:
        return os.fsencode(text).decode("utf-8")
    except UnicodeDecodeError:
        return text
