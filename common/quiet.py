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

START_UP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|oneDNN custom operations are on"
    r"|cudart_stub\.cc.*Could not find cuda drivers"
    r"|failed call to cuInit"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation placer already registered"
    r"|TF-TRT Warning: Could not find TensorRT"
    r"|^\s*$")


@contextlib.contextmanager
def _native_stderr_filtered():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (some IDEs): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines()
                    if not START_UP_NOISE.search(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


def load_tensorflow_quietly():
    """Import TensorFlow and Keras (later `import tensorflow` lines reuse them) without the noise."""
    if os.environ.get("TFDEMOS_DEBUG"):
        import tensorflow  # noqa: F401
        return
    with _native_stderr_filtered():
        import keras  # noqa: F401
        import tensorflow as tf
        tf.config.list_physical_devices("GPU")  # the CUDA probe, and its messages, happen here
