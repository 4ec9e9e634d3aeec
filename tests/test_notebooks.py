"""The scripts as notebooks: jupytext turns them into .ipynb, a real Jupyter kernel runs every cell.

Each notebook runs in a copy of the project made in tmp_path (the script and common/), so what it
writes lands there and not in the repository's outputs/.
"""
import json
import shutil

import pytest

from conftest import ROOT

jupytext = pytest.importorskip("jupytext", reason="pip install -r requirements-dev.txt")
nbclient = pytest.importorskip("nbclient", reason="pip install -r requirements-dev.txt")
import nbformat  # noqa: E402  (installed with jupytext)

pytestmark = pytest.mark.slow  # a kernel per notebook: the full tier


def run_as_notebook(script, folder, argv=None, timeout=240):
    """Convert SCRIPT with jupytext, execute it in a python3 kernel inside `folder`; return all text output."""
    shutil.copytree(ROOT / "common", folder / "common", ignore=shutil.ignore_patterns("__pycache__"))
    notebook = jupytext.read(ROOT / script)
    if argv is not None:  # what a reader does to try other flags: set sys.argv in a cell first
        notebook.cells.insert(0, nbformat.v4.new_code_cell(f"import sys\nsys.argv = {[script, *argv]!r}"))
    nbformat.write(notebook, folder / script.replace(".py", ".ipynb"))
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", output
            texts.append(output.get("text", "") if output["output_type"] == "stream"
                         else json.dumps(output.get("data", {}), ensure_ascii=False))
    return "".join(texts), notebook


def test_01_runs_cell_by_cell_in_a_kernel_with_its_defaults(tmp_path):
    text, notebook = run_as_notebook("01_linear_fit.py", tmp_path)
    assert len(notebook.cells) >= 6  # the `# %%` sections became cells
    assert "Notebook：使用默认参数" in text  # the kernel's own `-f kernel.json` was not taken for a flag
    assert "第 200 步 / step 200  W = [0.100, 0.200]  b = 0.300" in text
    assert "image/png" in text  # the house-price figure is shown under its cell
    results = json.loads((tmp_path / "outputs" / "01_linear_fit.json").read_text(encoding="utf-8"))
    assert results["steps"] == 201 and round(results["b"], 3) == 0.3


def test_06_runs_in_a_kernel_with_flags_set_in_a_cell(tmp_path):
    text, _ = run_as_notebook("06_age_gt5.py", tmp_path, argv=["--steps", "8000", "--test-size", "300"])
    assert "Notebook：使用默认参数" not in text
    results = json.loads((tmp_path / "outputs" / "06_age_gt5.json").read_text(encoding="utf-8"))
    assert results["steps"] == 8000 and results["test_accuracy"] >= 0.99
    assert f"{results['test_accuracy']:.4f}" in text and "分界点" in text
