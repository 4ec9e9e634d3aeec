"""Results as data: each script writes its key figures to outputs/NN_name.json.

Tests and benchmarks read these files instead of parsing printed text; the printed lines stay
for people. Written whole or not at all (files.py).
"""
import json
import time
from pathlib import Path

from .files import write_text


def _plain(value):
    """NumPy numbers and arrays, paths → JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in results JSON")


def save_results(name, out_dir, **values):
    path = Path(out_dir) / f"{name}.json"
    record = {"script": name, "finished": time.strftime("%Y-%m-%d %H:%M:%S"), **values}
    write_text(path, json.dumps(record, ensure_ascii=False, indent=1, default=_plain))
    return path


def load_results(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))
