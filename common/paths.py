"""Where every file goes: one rule for all scripts (README: 出错了怎么办 / When something goes wrong).

    data dir   --data-dir, else $TFDEMOS_DATA_DIR, else data/ beside the scripts.
               Downloaded or hand-placed data sets. Written only to save a missing download.
    cache dir  $TFDEMOS_CACHE_DIR, else data/ beside the scripts.
               Files the scripts derive: the unpacked CIFAR-10 batches, 05's stand-in CSV.
               A shared or read-only data dir is therefore never written to.
    out dir    --out-dir (07/09: --train-dir), else outputs/ beside the scripts.
               Models, checkpoints, figures, predictions, results.
"""
import os
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent.parent


def resolve_data_dir(data_dir=None):
    """--data-dir, else $TFDEMOS_DATA_DIR, else data/ beside the scripts."""
    chosen = data_dir or os.environ.get("TFDEMOS_DATA_DIR") or SCRIPTS_DIR / "data"
    return Path(chosen).expanduser().resolve()


def cache_dir():
    """$TFDEMOS_CACHE_DIR, else data/ beside the scripts: for files made from the data."""
    return Path(os.environ.get("TFDEMOS_CACHE_DIR") or SCRIPTS_DIR / "data").expanduser().resolve()
