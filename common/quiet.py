"""Load TensorFlow without its start-up noise, keeping every real warning.

TensorFlow 2.21's C++ libraries log to the process's stderr (file descriptor 2) while they load,
before any Python setting can reach them: "All log messages before absl::InitializeLog()",
"oneDNN custom operations are on", "Could not find cuda drivers", "failed call to cuInit: ...
UNKNOWN ERROR (303)" (which reads like a failure but only means: no GPU). TF_CPP_MIN_LOG_LEVEL
hides only some of them. So during the import (and the first look for a GPU) descriptor 2 is
pointed at a temporary file; afterwards every captured line that is not one of these known
start-up messages is written to stderr as it was. TFDEMOS_DEBUG=1 shows everything.
"""
import contextlib
import os
import re
import sys
import tempfile

from .errors import UserError

# The versions the tests run on (CI: the newest, from requirements-lock.txt, and the oldest);
# requirements.txt names the same range.
TESTED = {"TensorFlow": ((2, 16), (2, 21)), "Keras": ((3, 3), (3, 15))}

START_UP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|oneDNN custom operations are on"
    r"|cudart_stub\.cc.*Could not find cuda drivers"
    r"|failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation placer already registered"
    r"|TF-TRT Warning: Could not find TensorRT"
    r"|Created TensorFlow Lite XNNPACK delegate for CPU"
    r"|tf_tfl_flatbuffer_helpers\.cc.*Ignored (output_format|drop_control_dependency)"  # (TF 2.16's converter)
    r"|Attempting to use a delegate that only supports static-sized tensors"  # (LiteRT falls back by itself)
    r"|^fully_quantize: \d+, inference_type: "
    r"|^\s*$")


@contextlib.contextmanager
def native_output_filtered(stream_name="stderr"):
    """What native libraries write to the process's stderr (or, with "stdout", its stdout) while
    the block runs: their known harmless lines (START_UP_NOISE) are dropped, everything else kept."""
    stream = getattr(sys, stream_name)
    fd = 2 if stream_name == "stderr" else 1
    try:
        stream.flush()
        saved = os.dup(fd)
    except (OSError, ValueError):  # no real descriptor (some IDEs): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), fd)
        try:
            yield
        finally:
            stream.flush()
            os.dup2(saved, fd)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines()
                    if not START_UP_NOISE.search(line)]
            if kept:
                print("\n".join(kept), file=stream, flush=True)


def _major_minor(version):
    numbers = re.findall(r"\d+", str(version))[:2]
    return tuple(int(n) for n in numbers) if len(numbers) == 2 else (0, 0)


def check_versions(versions):
    """{"TensorFlow": "2.21.0", "Keras": "3.15.1"} → older than tested: UserError (exit 2) with
    what to install; newer: one line of warning, and the script goes on."""
    found = " / ".join(f"{name} {version}" for name, version in versions.items())
    tested = "，".join(f"{name} {low[0]}.{low[1]}–{high[0]}.{high[1]}" for name, (low, high) in TESTED.items())
    tested_en = ", ".join(f"{name} {low[0]}.{low[1]}-{high[0]}.{high[1]}" for name, (low, high) in TESTED.items())
    if any(_major_minor(versions[name]) < low for name, (low, _) in TESTED.items()):
        raise UserError(f"这里的 {found} 太旧了，本项目需要（也测试过）{tested}。在虚拟环境里安装测试过的版本：\n"
                        f"  pip install -r requirements-lock.txt\n"
                        f"{found} is too old: this project needs (and is tested on) {tested_en}. Install the tested "
                        f"versions in a virtual environment: pip install -r requirements-lock.txt")
    if any(_major_minor(versions[name]) > high for name, (_, high) in TESTED.items()):
        print(f"注意：{found} 比测试过的版本（{tested}）新；出错时请 pip install -r requirements-lock.txt / "
              f"note: {found} is newer than tested ({tested_en}); if something breaks, "
              f"pip install -r requirements-lock.txt", file=sys.stderr, flush=True)


def load_tensorflow_quietly():
    """Import TensorFlow and Keras (later `import tensorflow` lines reuse them) without the noise,
    and check that they are versions this project is tested on."""
    if os.environ.get("TFDEMOS_DEBUG"):
        import keras
        import tensorflow as tf
        check_versions({"TensorFlow": tf.__version__, "Keras": keras.__version__})
        return
    with native_output_filtered():
        import keras
        import tensorflow as tf
        versions = {"TensorFlow": tf.__version__, "Keras": keras.__version__}
    check_versions(versions)  # (after the filter: its message is no start-up noise)
    with native_output_filtered():
        tf.config.list_physical_devices("GPU")  # the CUDA probe, and its messages, happen here
