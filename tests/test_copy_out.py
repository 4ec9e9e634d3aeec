"""Lessons you can copy (issue #37): a lesson's network, loss and training step run when copied
alone into a new file that imports only NumPy, Keras and TensorFlow.

Each script's pieces are named below by how their statement begins (`def train_step`, `W = `,
or more than one line where the first is not enough: `with strategy.scope():\n    optimizer`);
they are taken from the script's source with `ast`, in the order given, between a few lines that
stand for the reader's own (settings, random data), and the new file runs with `python -I` from an
empty folder: this repository is not on sys.path, so nothing can come from `common`.
09's copy trains its network with the two-level softmax and draws characters with its sampler.
07's batch stream is left out (its image windows come from common/augment.py, shared with 04):
its copy trains on random batches instead.
"""
import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEADER = "import math\nfrom functools import partial\nfrom types import SimpleNamespace\n\nimport keras\nimport numpy as np\nimport tensorflow as tf\n\nnp.random.seed(0)\ntf.random.set_seed(0)\n"


class Own(str):
    """Lines the reader writes themselves (not copied from the script)."""


LESSONS = {
    "02_mnist_softmax.py": [
        Own("args = SimpleNamespace(naive_loss=False)\nsettings = {'loss_sum': False}"),
        "W = ", "b = ", "def logits_of", "def naive_cross_entropy", "def stable_cross_entropy", "per_image_loss = ",
        "reduce_batch = ", "def train_step", "def accuracy",
        Own("x = np.random.rand(100, 784).astype('float32')\nlabels = x[:, :10].argmax(axis=1).astype('int32')  # a rule it can learn\n"
            "losses = [float(train_step(x, np.eye(10, dtype='float32')[labels], 0.1)) for _ in range(5)]\n"
            "assert all(map(math.isfinite, losses)) and losses[-1] < losses[0], losses\n"
            "print('accuracy', float(accuracy(x, labels)))"),
    ],
    "03_mnist_mlp.py": [
        Own("args = SimpleNamespace(hidden=32, batch_size=50, lr=2e-3, epochs=2)\n"
            "x_train, x_test = np.random.rand(300, 784).astype('float32'), np.random.rand(100, 784).astype('float32')\n"
            "y_train, y_test = x_train[:, :10].argmax(axis=1), x_test[:, :10].argmax(axis=1)\n"
            "nan_guard = keras.callbacks.TerminateOnNaN()"),
        "model = keras.Sequential", "steps_per_epoch = ", "schedule = ", "model.compile(", "class PrintTestAccuracy",
        "history = model.fit(",
        Own("assert all(map(math.isfinite, history.history['loss'])), history.history"),
    ],
    "04_mnist_cnn.py": [
        "FAST = dict(", "RECIPES = ",
        Own("x_train, x_test = np.random.rand(480, 28, 28, 1).astype('float32'), np.random.rand(100, 28, 28, 1).astype('float32')\n"
            "y_train, y_test = (x_train.reshape(-1, 784)[:, :10].argmax(axis=1), x_test.reshape(-1, 784)[:, :10].argmax(axis=1))\n"
            "report, nan_guard = keras.callbacks.History(), keras.callbacks.TerminateOnNaN()\n"
            "recipe, epochs, batch_size = RECIPES['fast'], 2, 48  # the default; the article's net is built below\n"
            "steps_per_epoch = len(x_train) // batch_size\ndata = dict(x=x_train, y=y_train, batch_size=batch_size)"),
        "def article_model", "def fast_model", 'if recipe["network"] == "fast"', "steps, lr = ", "warmup = ", "rate = ",
        "group = ", "model.compile(", "swap = ", "model.fit(",
        Own("assert np.isfinite(model.predict(x_test, verbose=0)).all()  # (evaluate() without metrics fails in Keras 3.3)\n"
            "assert article_model((8, 16), 32, 0.4)(x_test[:2]).shape == (2, 10)"),
    ],
    "05_membership.py": [
        "def make_weights", "def logits_of", "def make_train_step", "def keras_model",
        Own("x = np.random.rand(200, 11).astype('float32')\ny = np.eye(2, dtype='float32')[(x[:, 0] > 0.5).astype(int)]\n"
            "for hidden in (0, 8):\n"
            "    weights = make_weights(11, 2, hidden)\n    train_step = make_train_step(weights, False, 0.5)\n"
            "    losses = [float(train_step(x, y)) for _ in range(20)]\n"
            "    assert all(map(math.isfinite, losses)) and losses[-1] < losses[0], losses\n"
            "    model = keras_model({name: w.numpy() for name, w in weights.items()}, np.zeros(11), np.ones(11))\n"
            "    assert np.allclose(model.predict(x, verbose=0), tf.nn.softmax(logits_of(weights, x)), atol=1e-5)"),
    ],
    "06_age_gt5.py": [
        Own("args = SimpleNamespace(lr=0.1)"),
        "def make_samples", "W = ", "b = ", "optimizer = ", "def train_steps", "def accuracy",
        Own("x, y = make_samples(200)\nloss = float(train_steps(x, y, tf.constant(50)))\n"
            "assert math.isfinite(loss) and accuracy(x, y) > 0.5, (loss, accuracy(x, y))"),
    ],
    "07_cifar10_train.py": [
        "AIRBENCH = dict(",
        Own("args = SimpleNamespace(jit='off')\nhyp = dict(AIRBENCH, width=16, batch_size=32)\n"
            "strategy = tf.distribute.get_strategy()  # one machine\n"
            "images = np.random.randint(0, 256, (96, 32, 32, 3)).astype('uint8')\n"
            "labels = (images[:, :16].mean(axis=(1, 2, 3)) > images[:, 16:].mean(axis=(1, 2, 3))).astype('int32')\n"
            "steps_per_epoch, total_steps = 1, 12"),
        "class ShiftOnlyBatchNorm", "TORCH_START = ", "def scale_pixels", "def airbench_model", "def set_airbench_start",
        Own("model = airbench_model(hyp['width'], images.reshape(-1, 3).mean(axis=0), images.reshape(-1, 3).std(axis=0))\n"
            "set_airbench_start(model, images, hyp['whitening'], hyp['dirac'])"),
        "class PiecewiseLinear", "with strategy.scope():\n    optimizer", "trained = ", 'if hyp["whitening"]:', "lr_factor = ",
        "def replica_step", "def train_step", "def lookahead", "def after_step",
        Own("x, y = tf.constant(images[:32], tf.float32), tf.constant(labels[:32])\nlosses = []\n"
            "for step in range(1, total_steps + 1):\n"
            "    losses.append(float(train_step(x, y, step < hyp['whiten_bias_epochs'] * steps_per_epoch)))\n"
            "    after_step(step, steps_per_epoch, total_steps)\n"
            "assert all(map(math.isfinite, losses)) and min(losses[4:]) < losses[0], losses\n"
            "# Its batch normalization is Keras's BatchNormalization(scale=False) in one fused op: the same numbers.\n"
            "shift_only = next(layer for layer in model.layers if isinstance(layer, ShiftOnlyBatchNorm))\n"
            "features = keras.Model(model.input, shift_only.input)(x)\n"
            "plain = keras.layers.BatchNormalization(scale=False, epsilon=1e-5)\nplain.build(features.shape)\n"
            "plain.set_weights(shift_only.get_weights())\n"
            "assert np.allclose(plain(features), shift_only(features), atol=1e-4)\n"
            "assert not np.allclose(shift_only.get_weights()[1], 0)  # its moving mean has moved"),
    ],
    "09_poem_rnn.py": [
        "HYP = dict(",
        Own("args, hyp = SimpleNamespace(jit='off'), dict(HYP, lr=1e-2)\nsteps_per_epoch, total_steps, vocab_size = 10, 30, 60\n"
            "# Characters drawn from a Zipf-like law, as in poems: the commonest 20 form the head, the rest are rare.\n"
            "p = 1 / np.arange(1, vocab_size + 1)\n"
            "text = np.random.default_rng(0).choice(vocab_size, size=(16, 13), p=p / p.sum()).astype('int32')\n"
            "x, y = text[:, :-1], text[:, 1:]"),
        "class HeadTailOutput", "def build_model",
        Own("model = build_model(vocab_size, 16, 32, dropout=0.1, head=20)"),
        "features, scores = ", "warmup_steps = ", "schedule = ", "optimizer = ", "optimizer.build(", "def train_step",
        Own("losses = [float(train_step(x, y)) for _ in range(total_steps)]\n"
            "assert all(map(math.isfinite, losses)) and losses[-1] < losses[0] - 0.5, losses\n"
            "log_p = model(x).numpy()\nassert np.allclose(np.exp(log_p).sum(axis=-1), 1, atol=1e-4)\n"
            "assert np.allclose(-np.take_along_axis(log_p, y[..., None], -1)[..., 0], scores(features(x), targets=y), atol=1e-4)"),
        "def choose_character", "choose = ",
        Own("rng, last = np.random.default_rng(0), log_p[:, -1]\nallowed = np.ones(vocab_size, bool)\nallowed[0] = False\n"
            "picked = choose(last, allowed, rng=rng)\nassert picked.shape == (16,) and (picked != 0).all()\n"
            "assert (choose(last, allowed, rng=rng, top_k=1) == np.where(allowed, last, -np.inf).argmax(axis=1)).all()"),
    ],
}


def copied(script, pieces):
    """The new file: the header, then each piece (the script's statement, dedented, or the reader's own)."""
    source = (ROOT / script).read_text(encoding="utf-8")
    lines = source.splitlines()
    statements = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.stmt)]
    parts = [HEADER]
    for piece in pieces:
        if isinstance(piece, Own):
            parts.append(piece)
            continue
        found = [node for node in statements
                 if textwrap.dedent("\n".join(lines[node.lineno - 1:node.end_lineno])).startswith(piece)]
        assert found, f"{script}: no statement begins with {piece!r}"
        node = found[0]
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        parts.append(textwrap.dedent("\n".join(lines[first - 1:node.end_lineno])))
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize("script", sorted(LESSONS))
def test_the_lesson_runs_copied_alone(script, tmp_path):
    program = tmp_path / "my_lesson.py"
    text = copied(script, LESSONS[script])
    program.write_text(text, encoding="utf-8")
    tree = ast.parse(text)  # nothing of this repository's `common` is imported or used (comments may name it)
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "common"
                or isinstance(node, (ast.Import, ast.ImportFrom)) and "common" in ast.dump(node)]
    result = subprocess.run([sys.executable, "-I", str(program)], capture_output=True, text=True, encoding="utf-8",
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, text + result.stderr[-3000:]
