"""Does every version pinned in requirements-lock.txt exist as a wheel for each Python README
allows (3.10-3.12) on Linux x86-64, Windows x86-64 and macOS arm64? Asks the package index only
(pip index versions, no downloads); prints a table and exits 1 if any is missing.

  python .ci/check_lock.py [requirements-lock.txt]
"""
import re
import subprocess
import sys
from pathlib import Path

PYTHONS = ["3.10", "3.11", "3.12"]
PLATFORMS = {  # the wheel tags pip accepts there (a wheel for any of them installs)
    "Linux x86-64": [f"manylinux_2_{n}_x86_64" for n in (17, 27, 28, 34)] + ["manylinux2014_x86_64",
                                                                               "manylinux2010_x86_64"],
    "Windows x86-64": ["win_amd64"],
    "macOS arm64": [f"macosx_{v}_0_arm64" for v in (11, 12, 13, 14)],
}


def available(name, python, tags):
    """The versions of `name` that have a wheel for this Python and one of these platform tags."""
    command = [sys.executable, "-m", "pip", "index", "versions", name, "--only-binary=:all:",
               "--python-version", python, *(f"--platform={tag}" for tag in tags)]
    result = subprocess.run(command, capture_output=True, text=True)
    match = re.search(r"Available versions: (.*)", result.stdout)
    return set(match.group(1).split(", ")) if match else set()


def main():
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "requirements-lock.txt")
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", lock.read_text(encoding="utf-8"), re.M)
    missing = []
    for name, version in pins:
        row = []
        for platform, tags in PLATFORMS.items():
            for python in PYTHONS:
                ok = version in available(name, python, tags)
                row.append("ok" if ok else "MISSING")
                if not ok:
                    missing.append(f"{name}=={version}: no wheel for Python {python} on {platform}")
        print(f"{name}=={version}: {' '.join(row)}", flush=True)
    print(f"\n{len(pins)} pins × {len(PYTHONS)} Pythons × {len(PLATFORMS)} platforms "
          f"({', '.join(PLATFORMS)}; columns: each platform's {', '.join(PYTHONS)}): "
          f"{'all there' if not missing else f'{len(missing)} missing'}")
    print("\n".join(missing))
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
