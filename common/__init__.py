"""Shared helpers for the numbered demo scripts: data, NaN guard, normalization, seeds, plots."""
import os
import sys

# Quieter TensorFlow start-up; set TF_CPP_MIN_LOG_LEVEL=0 to see everything again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Chinese text must print on any console (Windows code pages, LANG=C): always UTF-8.
for _stream in (sys.stdout, sys.stderr):
    if hasattr(_stream, "reconfigure") and (_stream.encoding or "").lower() not in ("utf-8", "utf8"):
        _stream.reconfigure(encoding="utf-8", errors="replace")

from .download import SCRIPTS_DIR, DownloadError, ArchiveError, fetch, resolve_data_dir, safe_extract_tar  # noqa: E402
from .datasets import (DataError, load_mnist, load_cifar10, cifar10_files, cifar10_dataset,  # noqa: E402
                       read_cifar10_bin, load_tang_poems, CIFAR10_CLASSES)
from .normalize import (minmax_fit, zscore_fit, normalize_fit, normalize_apply,  # noqa: E402
                        save_params, load_params)
from .utils import set_seed, add_common_args, output_dir, save_figure, plt_headless, argv_text  # noqa: E402

from .nan_guard import NanGuard, NanGuardCallback, NanLossError  # noqa: E402
