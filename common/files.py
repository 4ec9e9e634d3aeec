"""Safe writes: a file appears under its final name whole, or not at all.

Everything is written to a temporary name in the same folder and then renamed with
os.replace, which is atomic on Windows and POSIX. If the disk is full or the folder
read-only, the previous file stays as it was and the message says so.
"""
import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path

from .errors import UserError, describe_os_error


def _write_failed(path, error):
    kept = ("之前的文件未改动 / the previous file is unchanged" if Path(path).exists()
            else "没有写出任何文件 / nothing was written")
    return UserError(f"无法写入 / could not write {path}\n{describe_os_error(error)}\n{kept}")


def _ordinary_mode(path):
    """The mode the file already has, else what a plain open() would give (0o666 less the umask)."""
    try:
        return Path(path).stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def temporary_path(path):
    """Yield a temporary path beside `path` (same suffix); on success it replaces `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
        os.close(handle)
        os.chmod(temp, _ordinary_mode(path))  # mkstemp makes owner-only files; ours are ordinary files
    except OSError as error:
        raise _write_failed(path, error) from error
    temp = Path(temp)
    try:
        yield temp
        os.replace(temp, path)
    except OSError as error:
        raise _write_failed(path, error) from error
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


@contextlib.contextmanager
def temporary_folder(path):
    """Yield a new folder beside `path`; once the block has filled it, it takes `path`'s place
    (an old folder there is moved aside first, then deleted). A failure leaves `path` as it was."""
    import shutil
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    except OSError as error:
        raise _write_failed(path, error) from error
    try:
        yield temp
        old = path.parent / f".{path.name}.old-{os.getpid()}"
        if path.exists():
            os.rename(path, old)
        os.replace(temp, path)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        raise _write_failed(path, error) from error
    finally:
        shutil.rmtree(temp, ignore_errors=True)


@contextlib.contextmanager
def atomic_open(path, mode="w", encoding="utf-8", newline=None):
    """open() for writing that never leaves a half-written file under `path`."""
    with temporary_path(path) as temp:
        binary = "b" in mode
        with open(temp, mode, encoding=None if binary else encoding,
                  newline=None if binary else newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def write_text(path, text):
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)


def write_json(path, data, indent=1):
    return write_text(path, json.dumps(data, ensure_ascii=False, indent=indent))


def save_keras_model(model, path):
    """model.save(path), through a temporary .keras file in the same folder."""
    with temporary_path(path) as temp:
        model.save(temp)
    return Path(path)


def load_keras_model(path, how_to_fix):
    """keras.models.load_model(path), or one clear message that says how to make the file again."""
    import keras
    try:
        return keras.models.load_model(path)
    except Exception as error:  # zero bytes, cut short, another program's file: all say the same
        raise UserError(f"保存的模型已损坏 / the saved model {path} is damaged ({type(error).__name__}); {how_to_fix}") from None


_LOCK_BUSY = {errno.EAGAIN, errno.EACCES, errno.EDEADLK, getattr(errno, "EDEADLOCK", errno.EDEADLK)}


def lock(path, wait=True):
    """An exclusive lock on the file `path` (made if missing) between processes: the returned open
    file holds it until it is closed or the process ends, however it ends (a kill included).
    With wait=False, None when another process holds it; with wait=True, wait for it."""
    import time
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")
    while True:
        try:
            if os.name == "nt":
                import msvcrt
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except OSError as error:
            if error.errno not in _LOCK_BUSY:  # not "held by another process": a real fault
                handle.close()
                raise
            if not wait:
                handle.close()
                return None
            time.sleep(0.2)
