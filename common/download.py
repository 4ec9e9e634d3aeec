"""Verified downloads and safe archive extraction.

One function, `fetch`, does what every demo needs before it can train:
use the local copy if there is one, else try each mirror in turn, show progress,
write `NAME.part` and rename it only after the checksum matched.
"""
import hashlib
import os
import shutil
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent.parent


class DownloadError(RuntimeError):
    """Every mirror failed; the message says what to do offline."""


class ArchiveError(RuntimeError):
    """An archive is damaged or holds an unsafe member."""


def resolve_data_dir(data_dir=None):
    """--data-dir, else $TFDEMOS_DATA_DIR, else data/ beside the scripts."""
    chosen = data_dir or os.environ.get("TFDEMOS_DATA_DIR") or SCRIPTS_DIR / "data"
    return Path(chosen).expanduser().resolve()


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
                print(f"  {self.name}: [{bar:<20}] {percent:3d}%  {done:,} / {self.total:,} bytes",
                      flush=True)
                self.next_mark = percent + 10
        elif done >= self.next_mark:
            print(f"  {self.name}: {done:,} bytes", flush=True)
            self.next_mark = done + (1 << 20)


def _download_one(url, part_path, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
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
        if total and done != total:
            raise OSError(f"connection closed after {done:,} of {total:,} bytes")


def fetch(filename, urls, folder, md5=None, sha256=None, validate=None, timeout=30):
    """Return the path of `folder/filename`, downloading it from `urls` if it is missing.

    A file that is already there is used without any network access; if its checksum
    differs from the official one we warn once and carry on (re-packed copies must work).
    `validate(path)` may raise ValueError for data sets that publish no checksum.
    """
    folder = Path(folder)
    target = folder / filename
    if target.exists():
        if (md5 or sha256) and not _checksum_matches(target, md5, sha256):
            print(f"warning: {target} differs from the official file's checksum; using it anyway",
                  file=sys.stderr)
        return target

    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (filename + ".part")
    failures = []
    for url in urls:
        print(f"downloading {url}", flush=True)
        try:
            _download_one(url, part, timeout)
            if not _checksum_matches(part, md5, sha256):
                raise ValueError("checksum mismatch (corrupt or changed file)")
            if validate:
                validate(part)
            os.replace(part, target)  # atomic: the real name only ever holds a whole, checked file
            return target
        except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
            failures.append(f"  {url}\n      -> {error}")
            print(f"  failed: {error}; trying the next mirror", flush=True)
        finally:
            if part.exists():
                part.unlink()
    raise DownloadError(
        f"could not download {filename}. Tried:\n" + "\n".join(failures) +
        f"\nTo work offline, download {filename} yourself (any URL above, in a browser) and put"
        f" it at:\n  {target}\n(or point --data-dir / TFDEMOS_DATA_DIR at a folder that has it)")


def safe_extract_tar(archive, destination):
    """Unpack a .tar(.gz) into `destination`, refusing absolute paths, `..` and links.

    Files go to a temporary folder first and are moved into place only when the whole
    archive unpacked, so an interrupted run never leaves half a data set behind.
    """
    destination = Path(destination).resolve()
    staging = destination / ".extracting"
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                name = member.name.replace("\\", "/")
                if name.startswith("/") or ".." in name.split("/") or name[1:2] == ":":
                    raise ArchiveError(f"{archive}: unsafe member path {member.name!r}; not extracting")
                if not (member.isfile() or member.isdir()):
                    raise ArchiveError(f"{archive}: member {member.name!r} is not a plain file")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # older Python without extraction filters: members were checked above
                tar.extractall(staging, members=members)
        for entry in staging.iterdir():
            final = destination / entry.name
            if final.exists():
                shutil.rmtree(final) if final.is_dir() else final.unlink()
            os.replace(entry, final)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ArchiveError(f"{archive} is damaged ({error}); delete it and run again to "
                           f"re-download") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination
