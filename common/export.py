"""Take a model home (04, 05, 08 --export, 09): the two formats applications run, written safely.

    files = export_for_apps(app_model, export_dir, "mnist_cnn", calibration=images)
    # export_dir/saved_model/mnist_cnn/1/   TF Serving, tf.saved_model.load (Python, Java, C++, Go)
    # export_dir/mnist_cnn.tflite           LiteRT (formerly TensorFlow Lite): phones, Raspberry Pi
    # export_dir/mnist_cnn_int8.tflite      with a calibration set: int8 weights and activations
    probabilities = litert_predict(files["mnist_cnn.tflite"], x)

The Keras and TensorFlow calls are model.export(folder, format="tf_saved_model") and
tf.lite.TFLiteConverter.from_saved_model(folder).convert(); this adds temporary names (a stop
leaves no half-written model) and silences the converters' progress lines.
Import it after TensorFlow.
"""
import contextlib
import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from .files import atomic_open, temporary_folder
from .quiet import native_output_filtered


def export_for_apps(model, export_dir, name, calibration=None, litert_model=None):
    """Write the SavedModel of `model` and the LiteRT files of `litert_model` (default: the same
    model); return {file name: the .tflite bytes}."""
    export_dir = Path(export_dir)
    # TF Serving (and TensorFlow for Java, C++, Go) loads SavedModels from NAME/VERSION/ folders.
    saved_model = export_dir / "saved_model" / name / "1"
    with temporary_folder(saved_model) as folder:
        saved_model_of(model, folder)
    if litert_model is None:
        files = litert_files(saved_model, name, calibration)
    else:  # converted from a SavedModel of its own, in a temporary folder
        with tempfile.TemporaryDirectory(dir=export_dir, prefix=f".{name}-") as folder:
            saved_model_of(litert_model, folder)
            files = litert_files(folder, name, calibration)
    for file_name, content in files.items():
        with atomic_open(export_dir / file_name, "wb") as f:
            f.write(content)
    return files


def saved_model_of(model, folder):
    with native_output_filtered(), contextlib.redirect_stdout(io.StringIO()):  # (Keras prints its listing)
        model.export(str(folder), format="tf_saved_model")


def litert_files(saved_model, name, calibration=None):
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    with native_output_filtered(), native_output_filtered("stdout"):  # (the converter's progress lines)
        files = {f"{name}.tflite": converter.convert()}
        if calibration is not None:
            # int8 reads 4 times fewer bytes; the ranges of its activations come from the calibration set.
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([example[None]] for example in calibration)
            files[f"{name}_int8.tflite"] = converter.convert()
    return files


def litert_predict(tflite, x):
    """The model's output for the batch `x` (or, for a model with several inputs, a dict of them by
    name: then a dict of its outputs), run by the LiteRT interpreter as an application would."""
    with warnings.catch_warnings(), native_output_filtered():  # (its deprecation notice points apps
        warnings.simplefilter("ignore", UserWarning)          # to the ai-edge-litert package)
        interpreter = tf.lite.Interpreter(model_content=tflite)
        if isinstance(x, dict):
            return interpreter.get_signature_runner()(**x)
        given, answer = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        interpreter.resize_tensor_input(given["index"], x.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(given["index"], np.asarray(x, dtype=given["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(answer["index"])
