"""Min-max and z-score scaling, fitted on training data only.

Each `*_fit` returns plain parameters (JSON-friendly) so they can be saved with a model and
applied unchanged to new data with `normalize_apply`. A constant column (max == min, or
std == 0) is divided by 1 instead of 0: it maps to 0 rather than to NaN.
"""
import json

import numpy as np


def _safe_scale(scale):
    scale = np.asarray(scale, dtype=np.float64)
    return np.where(scale > 0, scale, 1.0)


def minmax_fit(x):
    x = np.asarray(x, dtype=np.float64)
    return {"kind": "minmax", "min": x.min(axis=0).tolist(), "max": x.max(axis=0).tolist()}


def zscore_fit(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: the caller checks for inf
        return {"kind": "zscore", "mean": x.mean(axis=0).tolist(), "std": x.std(axis=0).tolist()}


def normalize_fit(kind, x):
    if kind == "minmax":
        return minmax_fit(x)
    if kind == "zscore":
        return zscore_fit(x)
    if kind == "none":
        return {"kind": "none"}
    raise ValueError(f"unknown normalization {kind!r}; use minmax, zscore or none")


def normalize_apply(params, x):
    """Scale new data with parameters from `*_fit` (never re-fitted on the new data)."""
    x = np.asarray(x, dtype=np.float64)
    if params["kind"] == "minmax":
        low = np.asarray(params["min"])
        return ((x - low) / _safe_scale(np.asarray(params["max"]) - low)).astype(np.float32)
    if params["kind"] == "zscore":
        return ((x - np.asarray(params["mean"])) / _safe_scale(params["std"])).astype(np.float32)
    if params["kind"] == "none":
        return x.astype(np.float32)
    raise ValueError(f"unknown normalization {params['kind']!r}")


def save_params(params, path):
    from .files import write_json  # whole or not at all
    write_json(path, params)


def load_params(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
