"""Run bad inputs through the real scripts and tabulate what a user sees (issue #11).

    python bench/failure_audit.py                   this checkout
    python bench/failure_audit.py --repo /tmp/old   another checkout (e.g. a git worktree of
                                                    an older commit), for a before/after table

Each case runs in a fresh process on tiny data, with no network (HTTP(S) proxies pointed at a
closed port on 127.0.0.1, so any download fails at once, locally). Prints one Markdown row per case: exit code,
whether stderr holds a Python traceback, and the message's first line.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))
from conftest import write_tiny_cifar10, write_tiny_mnist  # noqa: E402

NUMBERS = [
    ("01", "--steps -1"), ("02", "--steps -1"), ("06", "--steps -1"), ("03", "--epochs 0"),
    ("04", "--epochs -1"), ("05", "--epochs 0"), ("07", "--epochs 0"), ("09", "--epochs -1"),
    ("02", "--batch-size 0"), ("03", "--batch-size 0"), ("05", "--batch-size 0"),
    ("02", "--eval-every 0"), ("07", "--save-every 0"), ("09", "--seq-len 0"), ("05", "--rows 5"),
    ("06", "--train-size 0"), ("05", "--test-split 0"), ("05", "--test-split 2"),
    ("05", "--test-split nan"), ("08", "--max-test 0"), ("08", "--watch --interval -1"),
    ("01", "--seed -1"), ("01", "--seed 4294967296"), ("09", "--temperature nan"),
    ("09", "--top-k -1"), ("09", "--generate 0"), ("02", "--lr nan"),
]


def build_cases(work):
    """(name, script number, argument list, extra environment) for every case."""
    line = {"paragraphs": ["白日依山盡，黃河入海流。"]}
    poems = work / "poems-ok" / "tang-poems"
    poems.mkdir(parents=True)
    for k in range(0, 58000, 1000):
        (poems / f"poet.tang.{k}.json").write_text(json.dumps([line], ensure_ascii=False), encoding="utf-8")
    data = {"07": write_tiny_cifar10(work / "cifar-ok", per_file=20)[0], "09": poems.parent}
    mnist = write_tiny_mnist(work / "mnist-ok")
    cases = [(f"{n} {flags}", n, flags.split() + ["--data-dir", str(data.get(n, mnist))], {})
             for n, flags in NUMBERS]
    for n in ("02", "03", "04", "07", "09"):
        cases.append((f"{n} empty data dir, no network", n, ["--data-dir", str(work / "empty")],
                      {"TFDEMOS_OFFLINE": "1"}))
    for damage in ("truncated", "zero-byte", "wrong magic"):
        data = write_tiny_mnist(work / f"mnist-{damage}")
        images = data / "mnist" / "train-images-idx3-ubyte.gz"
        raw = images.read_bytes()
        images.write_bytes(raw[:-200] if damage == "truncated" else b"" if damage == "zero-byte"
                           else (data / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes())
        cases.append((f"02 MNIST images {damage}", "02", ["--data-dir", str(data), "--steps", "2"], {}))
    cifar, _ = write_tiny_cifar10(work / "cifar-cut", per_file=20)
    archive = cifar / "cifar10" / "cifar-10-binary.tar.gz"
    archive.write_bytes(archive.read_bytes()[:3000])
    cases.append(("07 truncated CIFAR archive", "07", ["--data-dir", str(cifar), "--steps", "1"], {}))
    unsafe, _ = write_tiny_cifar10(work / "cifar-unsafe", per_file=5)
    with tarfile.open(unsafe / "cifar10" / "cifar-10-binary.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("../evil.bin")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    cases.append(("07 tar with unsafe member", "07", ["--data-dir", str(unsafe), "--steps", "1"], {}))
    good, _ = write_tiny_cifar10(work / "cifar-good", per_file=20)
    (work / "a-file").write_text("x", encoding="utf-8")
    cases.append(("07 cache folder cannot be created", "07", ["--data-dir", str(good), "--steps", "1"],
                  {"TFDEMOS_CACHE_DIR": str(work / "a-file" / "cache")}))
    for name, content in (("invalid JSON", b"[{"), ("GBK", json.dumps([line], ensure_ascii=False).encode("gbk")),
                          ("an object", b"{}"), ('"paragraphs": 5', b'[{"paragraphs": 5}]'), ("a folder", None)):
        folder = work / f"poems-{len(cases)}" / "tang-poems"
        folder.mkdir(parents=True)
        for k in range(0, 58000, 1000):
            (folder / f"poet.tang.{k}.json").write_text(json.dumps([line], ensure_ascii=False), encoding="utf-8")
        first = folder / "poet.tang.0.json"
        if content is None:
            first.unlink()
            first.mkdir()
        else:
            first.write_bytes(content)
        cases.append((f"09 poem file: {name}", "09", ["--data-dir", str(folder.parent)], {}))
    cases.append(("09 --corpus is a folder", "09", ["--corpus", str(work)], {}))
    cases.append(("09 --generate with no model", "09", ["--generate", "1", "--data-dir", str(work / "empty")],
                  {"TFDEMOS_OFFLINE": "1"}))
    csvs = {"semicolons": "a;b;label\n1;2;0\n3;4;1\n", "2 rows": "a,b,label\n1,2,0\n3,4,1\n",
            "duplicate columns": "a,a,label\n1,2,0\n3,4,1\n",
            "1e308": "a,b,label\n1e308,1,0\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20))}
    for name, text in csvs.items():
        path = work / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        cases.append((f"05 CSV with {name}", "05", ["--csv", str(path), "--label", "label"], {}))
    cases.append(("05 label in --features", "05",
                  ["--csv", str(work / "1e308.csv"), "--label", "label", "--features", "b,label"], {}))
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", default=str(HERE), help="checkout whose scripts to run")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    scripts = {p.name[:2]: p for p in repo.glob("0[1-9]_*.py")}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        print("| case | exit | traceback | error line of stderr (last line if a traceback) |\n|---|---|---|---|")
        tracebacks = 0
        for name, number, extra, env in build_cases(work):
            out = work / "out" / name.replace(" ", "_").replace("/", "_")
            argv = [sys.executable, str(scripts[number]), *extra, "--out-dir", str(out)]
            if number in ("07", "09"):
                argv += ["--train-dir", str(out / "train")]
            full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TFDEMOS_CACHE_DIR=str(work / "cache"))
            full_env.update(env)
            # No network, whatever the code under test does: every download fails at once, locally.
            full_env.update(http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
            full_env.pop("TFDEMOS_DATA_DIR", None)
            try:
                result = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8", errors="replace",
                                        env=full_env, timeout=args.timeout, cwd=repo)
                code, err = result.returncode, result.stderr
            except subprocess.TimeoutExpired:
                code, err = "timeout", ""
            lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("WARNING: All",
                                                                                                "I0000", "E0000"))]
            traced = "Traceback" in err
            tracebacks += traced
            errors = [line for line in lines if "error" in line.lower() and not line.startswith("warning")]
            shown = lines[-1] if traced and lines else (errors or lines or [""])[0]
            print(f"| {name} | {code} | {'yes' if traced else 'no'} | {shown[:110].replace('|', '/')} |", flush=True)
        print(f"\n{tracebacks} tracebacks")


if __name__ == "__main__":
    main()
