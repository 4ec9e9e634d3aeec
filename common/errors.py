"""One error boundary for every script: bad input or a fault of the machine ends in one clear
message; an error in the code (ours, or the reader's own edit) shows its traceback, because the
line it points at is what a learner needs, followed by one line saying what to do.

Importing `common` installs `friendly_excepthook` as sys.excepthook, so each numbered script
stays a plain top-to-bottom file (that also runs cell by cell in Jupyter, which ignores this hook).

    exit 2    bad usage or bad input, a missing/damaged file, a folder we cannot write, full disk
    exit 1    training diverged (the NaN guard), or an error in the code (with its traceback)
    exit 130  Ctrl-C (training scripts save a checkpoint first)

Set TFDEMOS_DEBUG=1 to see the full traceback of the other errors as well.
"""
import errno
import os
import re
import sys
import sysconfig
import traceback


class UserError(Exception):
    """Something the user can fix (a flag, a file, a folder). The message says what and how."""

    exit_code = 2


class NanLossError(RuntimeError):
    """Training produced NaN/Inf; the message names the step, the batch and the last finite loss."""

    exit_code = 1


def fail(message):
    """Stop here with a message for the user (exit code 2)."""
    raise UserError(message)


# errno → (Chinese, English) advice for faults of the machine rather than of the program.
_OS_ADVICE = {
    errno.ENOSPC: ("磁盘已满：请清理空间，或用 --out-dir / --data-dir 换到空间更大的磁盘",
                   "disk full: free some space or point --out-dir / --data-dir at another disk"),
    errno.EACCES: ("没有权限：换一个可写的文件夹（--out-dir、--data-dir 或 TFDEMOS_CACHE_DIR）",
                   "permission denied: use a folder you can write (--out-dir, --data-dir or TFDEMOS_CACHE_DIR)"),
    errno.EROFS: ("只读文件系统：换一个可写的文件夹（--out-dir、--data-dir 或 TFDEMOS_CACHE_DIR）",
                  "read-only file system: use a writable folder (--out-dir, --data-dir or TFDEMOS_CACHE_DIR)"),
    errno.EISDIR: ("这里应当是文件，却是一个文件夹：改名或删除这个文件夹",
                   "a folder stands where a file should be: rename or remove that folder"),
    errno.ENOTDIR: ("路径中有一段是文件而不是文件夹", "part of the path is a file, not a folder"),
    errno.ENOENT: ("文件或文件夹不存在：检查路径", "no such file or folder: check the path"),
}
_OS_ADVICE[errno.EPERM] = _OS_ADVICE[errno.EACCES]


def describe_os_error(error):
    """One bilingual paragraph for an OSError: which file, what happened, what to do."""
    where = error.filename if error.filename is not None else ""
    if getattr(error, "filename2", None):
        where = f"{where} -> {error.filename2}"
    chinese, english = _OS_ADVICE.get(error.errno, ("系统错误", "system error"))
    detail = error.strerror or str(error)
    return f"{chinese}。\n{english} ({detail}{': ' + str(where) if where else ''})"


def message_for(error):
    """(exit code, message) for an exception that reached the top of a script."""
    if isinstance(error, KeyboardInterrupt):
        return 130, "已中断 (Ctrl-C) / interrupted"
    if isinstance(error, (UserError, NanLossError)):
        return error.exit_code, str(error)
    if isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError":
        return 2, ("内存不足：请减小 --batch-size（或 --max-train）后重试。\n"
                   "out of memory: try a smaller --batch-size (or --max-train)")
    if type(error).__name__ in ("UnavailableError", "DeadlineExceededError"):  # 07 --workers: a peer is gone
        return 2, ("另一台机器停下了或连不上（看它的输出）。在每台机器上重新运行同一条命令，会从检查点接着训练。\n"
                   "another worker stopped or cannot be reached (see its output): run the same command again on "
                   f"every machine; they resume from their checkpoints. ({type(error).__name__})")
    if isinstance(error, ModuleNotFoundError):
        return 2, (f"缺少 Python 包 {error.name}：请先安装依赖（在虚拟环境里）pip install -r requirements.txt\n"
                   f"missing Python package {error.name}: run pip install -r requirements.txt "
                   f"(in the virtual environment you run the scripts with)")
    if isinstance(error, OSError):
        return 2, describe_os_error(error)
    said = tensorflow_says(error) or (str(error).strip().splitlines() or [""])[0][:300]
    line = script_line(error.__traceback__)
    where = f"{line.filename} 第 {line.lineno} 行 / line {line.lineno}: {line.line}\n" if line else ""
    return 1, (f"代码出错 / an error in the code: {type(error).__name__}: {said}\n{where}"
               f"上面的 Traceback 指出出错的文件和行号：是你改过的代码，就改那一行；是本项目的代码，欢迎报告（附上整段输出）。\n"
               f"the traceback above names the file and line: if it is code you changed, fix that line; "
               f"if it is this project's code, please report it (with the whole output)")


def tensorflow_says(error):
    """What went wrong, in TensorFlow's own words, from a graph error (tf.errors.OpError) whose
    message is mostly the stack of the operation's definition; None for other errors."""
    if not hasattr(error, "node_def"):
        return None
    told = [line.strip() for line in str(error).splitlines()]
    told = [line for line in told if line and not line.startswith(("File \"", "Detected at node", "Graph execution",
                                                                   "[[", "Stack trace", "defined at"))
            and not re.search(r"successful operations|derived errors ignored|root error\(s\) found", line)]
    return told[-1][:300] + ("…" if len(told[-1]) > 300 else "") if told else None


def script_line(trace):
    """The last frame of the traceback in a script of the reader's (not a library, not common/)."""
    not_the_readers = [os.path.dirname(os.path.abspath(__file__))]  # common/, and Python's own library
    not_the_readers += {os.path.abspath(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib")}
    frames = [frame for frame in traceback.extract_tb(trace)
              if not re.search(r"[\\/](site|dist)-packages[\\/]|^<|__autograph_generated", frame.filename)
              and not any(os.path.abspath(frame.filename).startswith(folder + os.sep) for folder in not_the_readers)]
    return frames[-1] if frames else None


def friendly_excepthook(kind, error, trace):
    code, message = message_for(error)
    said = tensorflow_says(error)
    if said and code == 1 and not os.environ.get("TFDEMOS_DEBUG"):  # the Python stack, TensorFlow's words
        print("Traceback (most recent call last):\n" + "".join(traceback.format_tb(trace))
              + f"{kind.__name__}: {said}", file=sys.stderr)
    elif code == 1 and not isinstance(error, NanLossError) or os.environ.get("TFDEMOS_DEBUG"):
        sys.__excepthook__(kind, error, trace)  # an error in the code: where it happened
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    prefix = "" if code == 130 or message.startswith(("错误", "NaN")) else "错误 / error: "
    try:
        print(prefix + message, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    # os._exit: the exit code must be ours (an uncaught exception would give 1, Ctrl-C -2), and
    # the `finally` blocks and `with` statements of the script already ran on the way up here.
    os._exit(code)


def install():
    sys.excepthook = friendly_excepthook
