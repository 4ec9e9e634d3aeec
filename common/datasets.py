"""Loaders for the real data sets, read from their official file formats (no pickle).

- MNIST: the four IDX .gz files.
- CIFAR-10: the binary release (1 label byte + 3072 image bytes per record).
- Tang poems: chinese-poetry's 全唐诗/poet.tang.N.json, always decoded as UTF-8.
"""
import gzip
import json
import shutil
import sys
import zlib
from pathlib import Path

import numpy as np

from .download import fetch, safe_extract_tar
from .errors import UserError, describe_os_error
from .files import lock, write_text
from .paths import cache_dir, resolve_data_dir


class DataError(UserError, ValueError):
    """A data file is present but damaged or not in the expected format."""


def _cannot_read(path, error):
    return UserError(f"无法读取 / cannot read {path}\n{describe_os_error(error)}")


# ---------------------------------------------------------------- MNIST
MNIST_MIRRORS = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",  # often refuses scripts: last
]
MNIST_FILES = {  # name: official MD5 of the .gz
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 2051, 2049


def read_idx_gz(path, magic):
    """Read one gzipped IDX file; check its magic number and that its size matches its header."""
    try:
        with open(path, "rb") as f:
            packed = f.read()
    except OSError as error:  # no permission, a folder: the file may be fine, never "delete it"
        raise _cannot_read(path, error) from error
    try:
        raw = gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError; truncation EOFError
        raise DataError(f"文件已损坏，请删除后重新运行以重新下载：{path}\n"
                        f"{path} is not a complete gzip file ({error}); delete it and run again "
                        f"to re-download") from error
    if len(raw) < 8 or int.from_bytes(raw[:4], "big") != magic:
        found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
        raise DataError(f"文件格式不对（不是 MNIST 的 IDX 文件，或已损坏），请删除后重新下载：{path}\n"
                        f"{path}: IDX magic number is {found}, expected {magic} "
                        f"({'images' if magic == IDX_IMAGES_MAGIC else 'labels'}); wrong or damaged file")
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header_end + int(np.prod(shape)):
        raise DataError(f"文件不完整，请删除后重新下载：{path}\n"
                        f"{path}: header says shape {shape} ({int(np.prod(shape)):,} bytes of data) "
                        f"but the file holds {len(raw) - header_end:,}; damaged file")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_end).reshape(shape)


def load_mnist(data_dir=None):
    """Return (x_train, y_train), (x_test, y_test): uint8 images N×28×28 and uint8 labels."""
    folder = resolve_data_dir(data_dir) / "mnist"
    arrays = {}
    for name, md5 in MNIST_FILES.items():
        path = fetch(name, [m + name for m in MNIST_MIRRORS], folder, md5=md5)
        magic = IDX_IMAGES_MAGIC if "images" in name else IDX_LABELS_MAGIC
        arrays[name.split("-")[0] + ("_x" if "images" in name else "_y")] = read_idx_gz(path, magic)
    for split in ("train", "t10k"):
        if len(arrays[f"{split}_x"]) != len(arrays[f"{split}_y"]):
            raise DataError(f"MNIST 图片和标签数目不一致 / MNIST {split}: {len(arrays[f'{split}_x'])} images but "
                            f"{len(arrays[f'{split}_y'])} labels in {folder}")
    return (arrays["train_x"], arrays["train_y"]), (arrays["t10k_x"], arrays["t10k_y"])


# ---------------------------------------------------------------- CIFAR-10
CIFAR10_URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
CIFAR10_RECORD_BYTES = 1 + 32 * 32 * 3
CIFAR10_TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]
CIFAR10_TEST_FILES = ["test_batch.bin"]


def _cifar10_batches_ok(folder):
    files = CIFAR10_TRAIN_FILES + CIFAR10_TEST_FILES
    return all((folder / f).is_file() and (folder / f).stat().st_size % CIFAR10_RECORD_BYTES == 0
               and (folder / f).stat().st_size > 0 for f in files)


def cifar10_files(data_dir=None):
    """Paths of the binary batches: {'train': [5 paths], 'test': [1 path]}.

    Uses `DATA/cifar10/cifar-10-batches-bin/` if it is already unpacked there; otherwise
    fetches `DATA/cifar10/cifar-10-binary.tar.gz` and unpacks it into this project's own
    cache folder (common/paths.py: $TFDEMOS_CACHE_DIR, else data/ beside the scripts), so a
    shared or read-only data folder is only ever read.
    """
    folder = resolve_data_dir(data_dir) / "cifar10"
    unpacked = folder / "cifar-10-batches-bin"
    if not _cifar10_batches_ok(unpacked):
        archive = fetch("cifar-10-binary.tar.gz", CIFAR10_URLS, folder, md5=CIFAR10_MD5)
        cache = cache_dir() / "cifar10"
        unpacked = cache / "cifar-10-batches-bin"
        stamp = cache / "unpacked-from.txt"
        source = f"{archive.resolve()} {archive.stat().st_size}"
        def unpacked_from_this_archive():
            return (_cifar10_batches_ok(unpacked) and stamp.is_file()
                    and stamp.read_text(encoding="utf-8") == source)
        if not unpacked_from_this_archive():
            try:
                cache.mkdir(parents=True, exist_ok=True)
                held = lock(cache / ".unpacking.lock", wait=False)
                if held is None:  # another program (07 in a second terminal, 08) is unpacking it now
                    print(f"另一个程序正在解压 CIFAR-10，等它完成 / another program is unpacking CIFAR-10 into "
                          f"{cache}: waiting for it", flush=True)
                    held = lock(cache / ".unpacking.lock")
            except OSError as error:
                raise UserError(f"无法创建缓存文件夹 / cannot create the cache folder {cache}\n"
                                f"{describe_os_error(error)}") from error
            with held:  # one program at a time; the lock ends with the program, however it ends
                if not unpacked_from_this_archive():  # (else the other program just did it)
                    for leftover in cache.glob(".extracting*"):  # a program that died while unpacking
                        shutil.rmtree(leftover, ignore_errors=True)
                    print(f"unpacking {archive} into {cache}", flush=True)
                    safe_extract_tar(archive, cache)
                    if not _cifar10_batches_ok(unpacked):
                        raise DataError(f"压缩包里没有 CIFAR-10 二进制版的文件 / {archive} does not hold cifar-10-batches-bin/*.bin in the binary "
                                        f"layout (1 + 3072 bytes per record)")
                    write_text(stamp, source)
    return {"train": [str(unpacked / f) for f in CIFAR10_TRAIN_FILES],
            "test": [str(unpacked / f) for f in CIFAR10_TEST_FILES]}


def read_cifar10_bin(paths):
    """Read binary batches into numpy: images uint8 N×32×32×3 (HWC), labels uint8 N."""
    try:
        records = np.concatenate([np.fromfile(p, dtype=np.uint8).reshape(-1, CIFAR10_RECORD_BYTES)
                                  for p in paths])
    except OSError as error:
        raise _cannot_read(paths, error) from error
    except ValueError as error:  # a size that is not whole records
        raise DataError(f"不是 CIFAR-10 二进制版的数据 / {paths}: not CIFAR-10 binary records of {CIFAR10_RECORD_BYTES} bytes "
                        f"({error}); delete the unpacked folder and run again") from error
    labels = records[:, 0]
    if labels.max(initial=0) > 9:
        raise DataError(f"不是 CIFAR-10 二进制版的数据 / label byte {labels.max()} > 9 in {paths}: not CIFAR-10 binary records")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # planes R,G,B -> HWC
    return np.ascontiguousarray(images), labels


# ---------------------------------------------------------------- Tang poems
# Release 2.0.1 of the chinese-poetry npm package (MIT): a fixed release, so every file has a known
# sha256 (common/checksums/). Both CDNs serve any file of a published npm version at
# /npm/PACKAGE@VERSION/FILE (jsDelivr) and /PACKAGE@VERSION/FILE (unpkg).
TANG_FILES = [f"poet.tang.{n}.json" for n in range(0, 58000, 1000)]
TANG_MIRRORS = [
    "https://cdn.jsdelivr.net/npm/chinese-poetry@2.0.1/dist/quantangshi/",
    "https://unpkg.com/chinese-poetry@2.0.1/dist/quantangshi/",
]
TANG_MAX_BYTES = 16 * 2 ** 20  # each file is 1-3 MB


def tang_checksums():
    listing = Path(__file__).with_name("checksums") / "tang-poems-2.0.1.sha256"
    pairs = (line.split() for line in listing.read_text(encoding="utf-8").splitlines() if line.strip())
    return {name: digest for digest, name in pairs}


def read_poem_file(path):
    """A list of poems, each a dict whose 'paragraphs' is a list of lines; DataError otherwise."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM (Windows editors add one) is fine
        poems = json.loads(text)
    except OSError as error:
        raise _cannot_read(path, error) from error
    except UnicodeDecodeError as error:
        raise DataError(f"{path} 不是 UTF-8 编码（GBK？）：请用 UTF-8 重新保存，或删除后重新下载。\n"
                        f"{path} is not UTF-8 ({error}); re-save it as UTF-8 or delete it to "
                        f"re-download") from error
    except json.JSONDecodeError as error:
        raise DataError(f"{path} 不是完整的 JSON（第 {error.lineno} 行）：删除后重新运行以重新下载。\n"
                        f"{path} is not valid JSON ({error}); delete it and run again") from error
    if not isinstance(poems, list):
        raise DataError(f"{path}: 应当是诗的列表 [...]，却是 {type(poems).__name__} / "
                        f"expected a JSON list of poems, found a {type(poems).__name__}")
    for number, poem in enumerate(poems):
        lines = poem.get("paragraphs") if isinstance(poem, dict) else None
        if not (isinstance(lines, list) and all(isinstance(line, str) for line in lines)):
            raise DataError(f"{path}: 第 {number} 首诗的 \"paragraphs\" 应当是文字行的列表 / poem "
                            f"{number}: \"paragraphs\" must be a list of lines, found {lines!r:.60}")
    return poems


def load_tang_poems(data_dir=None):
    """All poems as dicts with 'title', 'author', 'paragraphs' (list of lines)."""
    folder = resolve_data_dir(data_dir) / "tang-poems"
    checksums = tang_checksums()
    poems, differ = [], []
    for name in TANG_FILES:
        path = fetch(name, [m + name for m in TANG_MIRRORS], folder, sha256=checksums[name],
                     validate=read_poem_file, max_bytes=TANG_MAX_BYTES, on_mismatch=differ.append)
        poems.extend(read_poem_file(path))
    if differ:  # one line, not 58: an edited or other release's copy is allowed
        print(f"注意：{folder} 里 {len(TANG_FILES)} 个唐诗文件中有 {len(differ)} 个与 2.0.1 版不同，仍然使用 / "
              f"warning: {len(differ)} of {len(TANG_FILES)} poem files in {folder} differ from release "
              f"2.0.1 (common/checksums/); using them anyway", file=sys.stderr)
    return poems
