"""Verified downloads and safe archive extraction.

One function, `fetch`, does what every demo needs before it can train:
use the local copy if there is one, else try each mirror in turn, show progress,
write `NAME.part` and rename it only after the checksum matched.
Each download is capped in size and in total time; TFDEMOS_OFFLINE=1 never downloads.
TFDEMOS_MIRRORS="URL [URL ...]" adds your own mirrors, tried first and checked the same way:
each is the root of a copy of the data folder (URL/mnist/..., URL/cifar10/..., URL/tang-poems/...).
"""
import errno
import hashlib
import os
import shutil
import sys
import tarfile
import threading
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from .errors import UserError, describe_os_error


class DownloadError(UserError, RuntimeError):
    """Every mirror failed; the message says what to do offline."""


class ArchiveError(UserError, RuntimeError):
    """An archive is damaged or holds an unsafe member."""


DEFAULT_MAX_BYTES = 400 * 2 ** 20  # the largest file here, CIFAR-10, is 163 MiB
_LOCAL_DISK_ERRORS = {errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR,
                      getattr(errno, "EDQUOT", errno.ENOSPC)}
DEFAULT_MAX_SECONDS = float(os.environ.get("TFDEMOS_DOWNLOAD_MINUTES") or 60) * 60


def _checksum_matches(path, md5=None, sha256=None):
    wanted = {name: value.lower() for name, value in (("md5", md5), ("sha256", sha256)) if value}
    digests = {name: hashlib.new(name) for name in wanted}
    with open(path, "rb") as f:  # one pass over the file, however many checksums are given
        for block in iter(lambda: f.read(1 << 20), b""):
            for digest in digests.values():
                digest.update(block)
    return all(digests[name].hexdigest() == value for name, value in wanted.items())


class _Progress:
    """One line per 10%, or per 1 MB when the server sends no size (works in any terminal)."""

    def __init__(self, name, total):
        self.name, self.total, self.next_mark, self.start = name, total, 0, time.time()

    def update(self, done):
        if self.total:
            percent = 100 * done // self.total
            if percent >= self.next_mark:
                bar = "#" * (percent // 5)
                speed = done / max(time.time() - self.start, 1e-3) / 2 ** 20
                print(f"  {self.name}: [{bar:<20}] {percent:3d}%  {done:,} / {self.total:,} bytes"
                      f"  {speed:.2f} MB/s", flush=True)
                self.next_mark = percent + 10
        elif done >= self.next_mark:
            print(f"  {self.name}: {done:,} bytes", flush=True)
            self.next_mark = done + (1 << 20)


def _download_one(url, part_path, timeout, max_bytes, max_seconds):
    started = time.time()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        if total > max_bytes:
            raise ValueError(f"server announces {total:,} bytes, more than the {max_bytes:,} expected")
        progress = _Progress(part_path.name[:-5], total)
        done = 0
        with open(part_path, "wb") as out:
            while True:
                block = response.read(1 << 16)
                if not block:
                    break
                out.write(block)
                done += len(block)
                progress.update(done)
                if done > max_bytes:
                    raise ValueError(f"more than {max_bytes:,} bytes: not the expected file")
                if time.time() - started > max_seconds:
                    raise TimeoutError(f"took longer than {max_seconds / 60:g} min "
                                       f"(TFDEMOS_DOWNLOAD_MINUTES raises the limit)")
        if total and done != total:
            raise OSError(f"connection closed after {done:,} of {total:,} bytes")


def user_mirrors(dataset, filename):
    """URLs from $TFDEMOS_MIRRORS (separated by spaces, commas or semicolons), laid out like the data folder."""
    bases = os.environ.get("TFDEMOS_MIRRORS", "").replace(",", " ").replace(";", " ").split()
    return [f"{base.rstrip('/')}/{dataset}/{filename}" for base in bases]


def _offline_help(filename, target):
    return (f"请自行下载 {filename}（用上面任一网址，浏览器即可），放到：\n  {target}\n"
            f"（或用 --data-dir / TFDEMOS_DATA_DIR 指向已有这个文件的文件夹）\n"
            f"To work offline, download {filename} yourself (any URL above, in a browser) and put"
            f" it at:\n  {target}\n(or point --data-dir / TFDEMOS_DATA_DIR at a folder that has it)")


def _warn_mismatch(path):
    print(f"注意：{path} 的校验和与官方文件不同，仍然使用它 / warning: {path} differs from the official "
          f"file's checksum; using it anyway", file=sys.stderr)


def fetch(filename, urls, folder, md5=None, sha256=None, validate=None, timeout=30,
          max_bytes=DEFAULT_MAX_BYTES, max_seconds=None, on_mismatch=_warn_mismatch):
    """Return the path of `folder/filename`, downloading it from `urls` if it is missing.

    A file that is already there is used without any network access; if its checksum
    differs from the official one we warn (on_mismatch) and carry on: re-packed copies must work.
    `validate(path)` may raise ValueError for data sets that publish no checksum.
    """
    folder = Path(folder)
    target = folder / filename
    if target.exists():
        if not target.is_file():
            raise UserError(f"{target} 是一个文件夹，这里应当是数据文件：请改名或删除它。\n"
                            f"{target} is a folder where the data file should be: rename or remove it")
        try:
            matches = not (md5 or sha256) or _checksum_matches(target, md5, sha256)
        except OSError as error:
            raise UserError(f"无法读取 / cannot read {target}\n{describe_os_error(error)}") from error
        if not matches:
            on_mismatch(target)
        return target
    if os.environ.get("TFDEMOS_OFFLINE"):
        raise DownloadError(f"找不到 {target}，且 TFDEMOS_OFFLINE 已设置（不下载）。\n"
                            f"{target} is missing and TFDEMOS_OFFLINE is set (no downloads).\n"
                            f"Official URLs:\n" + "\n".join(f"  {url}" for url in urls) + "\n"
                            + _offline_help(filename, target))

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"无法创建数据文件夹 / cannot create the data folder {folder}\n"
                        f"{describe_os_error(error)}") from error
    # A name of its own: two programs downloading the same file at once never write into one .part.
    part = folder / f"{filename}.{os.getpid()}-{threading.get_ident()}.part"
    failures = []
    candidates = user_mirrors(folder.name, filename) + list(urls)
    for number, url in enumerate(candidates, 1):
        print(f"downloading {url} (mirror {number} of {len(candidates)})", flush=True)
        try:
            _download_one(url, part, timeout, max_bytes, max_seconds or DEFAULT_MAX_SECONDS)
            if not _checksum_matches(part, md5, sha256):
                raise ValueError("checksum mismatch (corrupt or changed file)")
            if validate:
                validate(part)
            os.replace(part, target)  # atomic: the real name only ever holds a whole, checked file
            return target
        except OSError as error:
            if error.errno in _LOCAL_DISK_ERRORS and not isinstance(error, urllib.error.URLError):
                # our own disk, not the network: full disk, no permission. Another mirror won't help.
                raise UserError(f"无法保存下载的文件 / cannot save the download {part}\n"
                                f"{describe_os_error(error)}") from error
            failures.append(f"  {url}\n      -> {error}")
            print(f"  failed: {error}; trying the next mirror", flush=True)
        except ValueError as error:
            failures.append(f"  {url}\n      -> {error}")
            print(f"  failed: {error}; trying the next mirror", flush=True)
        finally:
            if part.exists():
                part.unlink()
    raise DownloadError(
        f"无法下载 {filename}。could not download {filename}. Tried:\n" + "\n".join(failures)
        + "\n" + _offline_help(filename, target))


def _archive_fault(archive, destination, error):
    """Damaged archive, or a folder we may not write? Advice must not destroy a good file."""
    if isinstance(error, OSError) and error.errno in _LOCAL_DISK_ERRORS:
        return UserError(f"无法解压到 {destination}（压缩包本身没有问题，不要删除它）。\n"
                         f"cannot unpack into {destination} (the archive itself is fine; keep it)\n"
                         f"{describe_os_error(error)}\n"
                         f"设置 TFDEMOS_CACHE_DIR 指向一个可写的文件夹 / set TFDEMOS_CACHE_DIR to a writable folder")
    return ArchiveError(f"压缩包已损坏，请删除后重新运行以重新下载：{archive}\n"
                        f"{archive} is damaged ({error}); delete it and run again to re-download")


def safe_extract_tar(archive, destination):
    """Unpack a .tar(.gz) into `destination`, refusing absolute paths, `..` and links.

    Files go to a temporary folder first and are moved into place only when the whole
    archive unpacked, so an interrupted run never leaves half a data set behind.
    """
    destination = Path(destination).resolve()
    staging = None
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                name = member.name.replace("\\", "/")
                if name.startswith("/") or ".." in name.split("/") or name[1:2] == ":":
                    raise ArchiveError(f"{archive}: unsafe member path {member.name!r}; not extracting "
                                       f"(压缩包含有不安全的路径，已拒绝解压)")
                if not (member.isfile() or member.isdir()):
                    raise ArchiveError(f"{archive}: member {member.name!r} is not a plain file; not "
                                       f"extracting (压缩包含有链接或特殊文件，已拒绝解压)")
            destination.mkdir(parents=True, exist_ok=True)
            # A name of its own: another process unpacking the same archive never touches this one.
            staging = Path(tempfile.mkdtemp(dir=destination, prefix=".extracting-"))
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # older Python without extraction filters: members were checked above
                tar.extractall(staging, members=members)
        for entry in staging.iterdir():
            final = destination / entry.name
            if final.exists():
                shutil.rmtree(final) if final.is_dir() else final.unlink()
            os.replace(entry, final)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise _archive_fault(archive, destination, error) from error
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return destination
