"""01 and 06 end to end, as a user runs them."""
import re

from conftest import run_script


def test_01_linear_fit(tmp_path):
    result = run_script("01_linear_fit.py", "--out-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "step 200  W = [0.100, 0.200]  b = 0.300" in result.stdout
    assert re.search(r"81\.5 m² -> \d+\.\d 万", result.stdout)
    assert (tmp_path / "01_house_prices.png").stat().st_size > 1000


def test_06_age_gt5(tmp_path):
    result = run_script("06_age_gt5.py", "--out-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy: 1.0000" in result.stdout
    threshold = float(re.search(r"learned threshold: year = ([\d.]+)", result.stdout).group(1))
    assert abs(threshold - 5) < 0.05
