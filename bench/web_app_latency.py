"""Load test of a running 10_web_app.py: N threads post 1,000 digit pictures; latency p50 / p95 / max.

The pictures are MNIST test images (PNG) when the data is there, else digits drawn here. Each
request is timed from sending to the whole answer read; any answer other than 200 is an error.

Run (a benchmark, not a test: nothing else busy on the machine):
  python 10_web_app.py &
  TFDEMOS_DATA_DIR=../shared/data python bench/web_app_latency.py --url http://127.0.0.1:8000
  ... --count 200 --threads 1          (one request at a time)
  ... --burst 64                       (also: 64 clients connecting at the same instant)
"""
import argparse
import concurrent.futures
import io
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def digit_pictures(count, data_dir):
    """`count` PNG files: MNIST's test images if they are on disk (nothing is downloaded), else drawn."""
    sys.path.insert(0, str(ROOT))
    from common.datasets import IDX_IMAGES_MAGIC, read_idx_gz, resolve_data_dir
    path = resolve_data_dir(data_dir) / "mnist" / "t10k-images-idx3-ubyte.gz"
    if path.is_file():
        images = read_idx_gz(path, IDX_IMAGES_MAGIC)
        print(f"MNIST 测试图片 / MNIST test images ({count})")
        return [png(Image.fromarray(images[i % len(images)])) for i in range(count)]
    print(f"没有 MNIST，用画出来的数字 / no MNIST here: {count} drawn digits")
    rng = np.random.default_rng(0)
    pictures = []
    for _ in range(count):  # a random zigzag of 2-4 strokes, dark on light, like a drawing on the page
        picture = Image.new("L", (280, 280), 255)
        points = [tuple(int(v) for v in rng.integers(40, 240, size=2)) for _ in range(rng.integers(3, 6))]
        ImageDraw.Draw(picture).line(points, fill=0, width=20, joint="curve")
        pictures.append(png(picture))
    return pictures


def post(url, body):
    """(seconds, error or None) for one request."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=60) as answer:
            answer.read()
            error = None if answer.status == 200 else f"HTTP {answer.status}"
    except urllib.error.HTTPError as failure:
        error = f"HTTP {failure.code}: {failure.read()[:200].decode('utf-8', 'replace')}"
    except OSError as failure:
        error = f"{type(failure).__name__}: {failure}"
    return time.perf_counter() - started, error


def summary(label, results, seconds):
    latencies = sorted(1000 * s for s, _ in results)
    errors = [error for _, error in results if error]
    p50, p95 = statistics.median(latencies), latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(f"{label}, {len(results) / seconds:.0f} 个/秒 / per s: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms, 错误 / errors {len(errors)}")
    for error in sorted(set(errors))[:5]:
        print(f"  {error}")
    return errors


def burst(url, pictures, clients):
    """`clients` threads wait at a barrier, then all connect and post at once: what a classroom
    opening the page together, or a load test, does to the listening socket."""
    start = threading.Barrier(clients)

    def one(i):
        start.wait(timeout=60)
        return post(url, pictures[i % len(pictures)])
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(clients)))
    return results, time.perf_counter() - started


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running app")
    parser.add_argument("--count", type=int, default=1000, help="requests in all")
    parser.add_argument("--threads", type=int, default=8, help="requests at the same time")
    parser.add_argument("--data-dir", default=None, help="data folder (default: $TFDEMOS_DATA_DIR, else data/)")
    parser.add_argument("--burst", type=int, default=0,
                        help="then this many clients connecting at the same instant (0: no burst)")
    args = parser.parse_args()
    pictures = digit_pictures(args.count, args.data_dir)
    url = args.url.rstrip("/") + "/api/digit"
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        results = list(pool.map(lambda body: post(url, body), pictures))
    errors = summary(f"{args.count} 个请求 / requests, {args.threads} 线程 / threads", results,
                     time.perf_counter() - started)
    if args.burst:
        errors += summary(f"突发 / burst: {args.burst} 个客户端同时连接 / clients at once",
                          *burst(url, pictures, args.burst))
    raise SystemExit(1 if errors else 0)
