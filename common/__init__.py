"""Shared helpers for the numbered demo scripts: errors, flags, safe files, data, NaN guard, plots.

Importing it is cheap (no TensorFlow): it installs the error boundary (errors.py) first, so
even Ctrl-C during start-up ends in one line. The NaN guard, which needs Keras, loads on first use.
"""
import os
import sys

if sys.version_info < (3, 10):  # checked before anything that needs a newer Python
    sys.exit(f"需要 Python 3.10–3.12，当前是 {sys.version.split()[0]} / this project needs Python 3.10-3.12, "
             f"not {sys.version.split()[0]}: install a newer 64-bit Python (README: 安装)")

from . import errors as _errors  # noqa: E402

_errors.install()

# Quieter TensorFlow start-up; set TF_CPP_MIN_LOG_LEVEL=0 to see everything again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Chinese text must print on any console (Windows code pages, LANG=C): always UTF-8.
for _stream in (sys.stdout, sys.stderr):
    if hasattr(_stream, "reconfigure") and (_stream.encoding or "").lower() not in ("utf-8", "utf8"):
        _stream.reconfigure(encoding="utf-8", errors="replace")

from .errors import UserError, NanLossError, fail  # noqa: E402
from .paths import SCRIPTS_DIR, resolve_data_dir, cache_dir  # noqa: E402
from .flags import (make_parser, parse_args, in_jupyter_kernel, add_common_args, positive_int, nonnegative_int, positive_float,  # noqa: E402
                    fraction, dropout_share, at_least)
from .files import atomic_open, temporary_folder, write_text, write_json, save_keras_model, load_keras_model  # noqa: E402
from .download import DownloadError, ArchiveError, fetch, safe_extract_tar  # noqa: E402
from .datasets import DataError, load_mnist, cifar10_files, read_cifar10_bin, load_tang_poems, CIFAR10_CLASSES  # noqa: E402
from .utils import set_seed, cpu_has_bfloat16, use_bfloat16, output_dir, save_figure, plt_headless, argv_text, display_width  # noqa: E402
from .results import save_results, load_results  # noqa: E402
from .training import ResumableRun  # noqa: E402
from .quiet import load_tensorflow_quietly  # noqa: E402


def __getattr__(name):
    """NanGuard and NanGuardCallback import Keras: load them only when a script uses them."""
    if name in ("NanGuard", "NanGuardCallback"):
        from . import nan_guard
        return getattr(nan_guard, name)
    raise AttributeError(f"module 'common' has no attribute {name!r}")
