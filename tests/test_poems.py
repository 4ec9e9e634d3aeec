"""09_poem_rnn.py on tiny corpora: train, save, generate in exact form, refuse bad input, UTF-8 anywhere."""
import json
import re
import signal
import subprocess
import sys
import time

import pytest

from common.lessons import from_script
from conftest import C_LOCALE, QUICK, ROOT, copy_of, run_outside_repo, run_script, tang_folder

@pytest.fixture
def trained(poem_model):
    """09 trained once per test run on the tiny corpus (conftest.poem_model); read-only here."""
    return poem_model


def test_training_saves_model_and_vocabulary(trained):
    data, train_dir, result = trained
    assert re.search(r"48 training poems|47 training poems", result.stdout)  # 2 bad ones cleaned out
    assert "验证损失 / validation loss" in result.stdout and "示例 / sample:" in result.stdout
    vocab = json.loads((train_dir / "vocab.json").read_text(encoding="utf-8"))
    assert "春" in vocab and "□" not in vocab
    assert (train_dir / "checkpoint").exists()
    results = json.loads((train_dir.parent / "out" / "09_poem_rnn.json").read_text(encoding="utf-8"))
    assert results["step"] == results["total_steps"] and results["validation_loss"] > 0
    assert f"validation loss {results['validation_loss']:.3f} nats/char" in result.stdout


@pytest.mark.slow
def test_exported_model_writes_what_the_checkpoint_writes(trained):
    """poem_model.keras (for the web app) loads without 09's code and writes 09 --generate's poems."""
    data, train_dir, _ = trained
    generated = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 3,
                           "--seed", 1, "--script", "traditional")
    assert generated.returncode == 0, generated.stderr[-2000:]
    code = ("import sys, functools, numpy as np, common; common.load_tensorflow_quietly()\n"
            "from common.lessons import from_script\n"
            "from common.poem_writer import load_exported_model, show, write_poems\n"
            "choose_character = from_script('09_poem_rnn.py', 'choose_character', np=np)\n"
            "model, vocab, config = load_exported_model(sys.argv[1])\n"
            "choose = functools.partial(choose_character, rng=np.random.default_rng(1))\n"
            "print('\\n'.join(show(p) for p in write_poems(model, vocab, 3, choose)))\n")
    exported = subprocess.run([sys.executable, "-c", code, str(train_dir)], cwd=ROOT, capture_output=True,
                              text=True, encoding="utf-8")
    assert exported.returncode == 0, exported.stderr[-2000:]
    poems = [line for line in exported.stdout.splitlines() if "，" in line]
    assert len(poems) == 6 and all(line in generated.stdout for line in poems)


@pytest.mark.slow
def test_evaluate_against_the_bigram_baseline(trained, tmp_path):
    data, train_dir, _ = trained
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--evaluate",
                        "--out-dir", tmp_path, env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "09_poem_rnn_evaluate.json").read_text(encoding="utf-8"))
    assert results["bigram_loss"] > 0 and 0 <= results["copied_lines"] <= 1
    assert f"模型 / model {results['validation_loss']:.3f} nats" in result.stdout
    # The tiny corpus has no 7-character poem: that row says "—" for it, no NaN, no NumPy warning.
    assert results["corpus"]["first_line_7"] is None and "nan" not in result.stdout
    assert "RuntimeWarning" not in result.stderr


def test_generate_exact_form_in_a_new_process(trained):
    data, train_dir, _ = trained
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 3,
                        "--form", 5, "--lines", 4, env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    poems = re.findall(r"\[\d\]\n(.+)\n(.+)\n", result.stdout)
    assert len(poems) == 3
    for first, second in poems:
        for row in (first, second):
            assert re.fullmatch(r"[\u3400-\u9fff]{5}，[\u3400-\u9fff]{5}。", row), row


def test_acrostic(trained):
    data, train_dir, _ = trained
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 1,
                        "--acrostic", "春花明月", "--form", 5, env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    body = result.stdout.split("[1]\n", 1)[1]
    lines = re.findall(r"([\u3400-\u9fff]{5})[，。]", body)
    assert [line[0] for line in lines] == list("春花明月")


def test_unknown_start_character_refused(trained):
    data, train_dir, _ = trained
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 1,
                        "--start", "龘", env=C_LOCALE)
    assert result.returncode == 2 and "龘" in result.stderr and "vocabulary" in result.stderr
    assert "Traceback" not in result.stderr


def test_vocabulary_mismatch_refused(trained, tmp_path):
    data, train_dir, _ = trained
    copy = copy_of(train_dir, tmp_path / "model")
    vocab = json.loads((copy / "vocab.json").read_text(encoding="utf-8"))
    (copy / "vocab.json").write_text(json.dumps(vocab[:-1] + ["龘"], ensure_ascii=False), encoding="utf-8")
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", copy, "--generate", 1)
    assert result.returncode == 2 and "different vocabulary" in result.stderr


def test_checkpoint_of_another_shape_is_refused_not_half_loaded(trained, tmp_path):
    # config.json says "untied" (a separate output table) but the checkpoint has none: the old
    # restore filled what it could and wrote noise; now every weight must come from the file.
    data, train_dir, _ = trained
    copy = copy_of(train_dir, tmp_path / "model")
    config = json.loads((copy / "config.json").read_text(encoding="utf-8"))
    (copy / "config.json").write_text(json.dumps({**config, "tied": False}), encoding="utf-8")
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", copy, "--generate", 1)
    assert result.returncode == 2 and "could not be read" in result.stderr and "--fresh" in result.stderr
    assert "Traceback" not in result.stderr


def test_model_of_an_older_09_is_refused_with_what_to_do(trained, tmp_path):
    data, train_dir, _ = trained
    copy = copy_of(train_dir, tmp_path / "model")
    config = json.loads((copy / "config.json").read_text(encoding="utf-8"))
    del config["head"]  # what 09 wrote before the two-level softmax
    (copy / "config.json").write_text(json.dumps(config), encoding="utf-8")
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", copy, "--generate", 1)
    assert result.returncode == 2 and "older 09" in result.stderr and "--fresh" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("head", [4, 1, 30])  # two levels; almost all rare; one plain softmax (head ≥ vocabulary)
@pytest.mark.parametrize("tied", [True, False])
def test_two_level_softmax_is_exact(head, tied):
    """09's HeadTailOutput: probabilities sum to 1, and the training loss (targets given, second softmax
    only where needed) is exactly −log p of the full distribution, in float32 and mixed bfloat16."""
    import keras
    import numpy as np
    import tensorflow as tf
    HeadTailOutput = from_script("09_poem_rnn.py", "HeadTailOutput", keras=keras, tf=tf)
    rng = np.random.default_rng(head)
    x = rng.normal(size=(3, 9, 8)).astype("float32")
    targets = rng.integers(0, 20, size=(3, 9))
    embed = keras.layers.Embedding(20, 8)
    embed.build((None,))
    layer = HeadTailOutput(20, head, embed if tied else None)
    layer.build(x.shape)
    for weight in layer.weights:  # (not the zeros they start from)
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    log_p = layer(x).numpy()
    assert log_p.shape == (3, 9, 20)
    np.testing.assert_allclose(np.exp(log_p).sum(-1), 1, rtol=1e-5)
    expected = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0]
    np.testing.assert_allclose(layer(x, targets=targets).numpy(), expected, rtol=1e-5, atol=1e-5)
    half = HeadTailOutput(20, head, embed if tied else None, dtype="mixed_bfloat16")  # as training on AVX512_BF16
    half.build(x.shape)
    half.set_weights(layer.get_weights())
    loss = half(x, targets=targets)
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss.numpy(), expected, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("head, tied", [(4, True), (4, False), (30, True)])  # two levels tied/untied; one softmax
def test_exported_model_is_plain_keras_with_the_same_log_probabilities(tmp_path, head, tied):
    """poem_model.keras is made of Keras's own layers: a Python without this repository loads it
    and gets the two-level softmax's log-probabilities (to float32 rounding)."""
    import keras
    import numpy as np
    import tensorflow as tf
    from common.poem_writer import EXPORT_FILE, export_model
    HeadTailOutput = from_script("09_poem_rnn.py", "HeadTailOutput", keras=keras, tf=tf)
    rng = np.random.default_rng(head)
    characters = keras.Input((None,), dtype="int32")
    embed = keras.layers.Embedding(20, 8)
    x = keras.layers.GRU(8, return_sequences=True)(embed(characters))
    model = keras.Model(characters, HeadTailOutput(20, head, embed if tied else None, name="scores")(keras.layers.Dense(8)(x)))
    for weight in model.weights:
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    tokens = rng.integers(0, 20, size=(2, 7))
    export_model(model, tmp_path)
    np.save(tmp_path / "tokens.npy", tokens)
    code = ("import sys, json, numpy as np, keras\n"
            "model = keras.models.load_model(sys.argv[1])\n"
            "print(json.dumps(keras.ops.convert_to_numpy(model(np.load('tokens.npy'))).tolist()))\n")
    exported = np.array(json.loads(run_outside_repo(code, tmp_path / EXPORT_FILE, cwd=tmp_path).splitlines()[-1]))
    np.testing.assert_allclose(exported, model(tokens).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.exp(exported).sum(-1), 1, rtol=1e-5)


@pytest.mark.slow
def test_plain_text_corpus_free_generation_terminates(tmp_path):
    corpus = tmp_path / "songs.txt"
    corpus.write_text("\n".join(["the wind blows over the hill", "a river runs to the sea",
                                 "the moon is high tonight", "we sing along the road"] * 10), encoding="utf-8")
    train_dir = tmp_path / "model"
    result = run_script("09_poem_rnn.py", "--corpus", corpus, "--train-dir", train_dir, *QUICK, env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_script("09_poem_rnn.py", "--corpus", corpus, "--train-dir", train_dir, "--generate", 2,
                        "--temperature", 1.5, timeout=120, env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("\n[") == 2
    themed = run_script("09_poem_rnn.py", "--corpus", corpus, "--train-dir", train_dir, "--theme", "月", env=C_LOCALE)
    assert themed.returncode == 2 and "--theme works with the Tang poems model only" in themed.stderr
    assert "Traceback" not in themed.stderr


def test_corpus_not_utf8_is_a_clear_error(tmp_path):
    corpus = tmp_path / "gbk.txt"
    corpus.write_bytes("床前明月光".encode("gbk"))
    result = run_script("09_poem_rnn.py", "--corpus", corpus, "--train-dir", tmp_path / "m", env=C_LOCALE)
    assert result.returncode == 2 and "not UTF-8" in result.stderr


@pytest.mark.slow
def test_odd_acrostic_still_ends_with_a_full_stop(trained):
    data, train_dir, _ = trained
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 1,
                        "--acrostic", "春花明", "--form", 5, env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    body = result.stdout.split("[1]\n", 1)[1].strip()
    assert [line[0] for line in re.findall(r"[\u3400-\u9fff]{5}[，。]", body)] == list("春花明")
    assert body.endswith("。")


@pytest.mark.slow
def test_simplified_by_default_traditional_on_request_and_rhyme(trained):
    from common.poems import even_lines_rhyme, inline_repeat, quatrain_lines, repeated_rhyme
    data, train_dir, _ = trained
    simplified = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 4,
                            "--acrostic", "春风明月", "--form", 5, env=C_LOCALE)  # 风: simplified input
    assert simplified.returncode == 0, simplified.stderr[-3000:]
    assert "风" in simplified.stdout and "風" not in simplified.stdout
    traditional = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 4,
                             "--acrostic", "春风明月", "--form", 5, "--script", "traditional", env=C_LOCALE)
    assert traditional.returncode == 0 and "風" in traditional.stdout
    poems = re.findall(r"\[\d\]\n(.+)\n(.+)\n", traditional.stdout)
    assert len(poems) == 4
    for first, second in poems:
        lines = quatrain_lines(first + second)
        assert [line[0] for line in lines] == list("春風明月")
        assert even_lines_rhyme(lines), lines  # by construction
        assert not repeated_rhyme(lines), lines
        assert not any(inline_repeat(line) for line in lines), lines


def printed_poems(output):
    """The poems 09 --generate printed (two lines a row), each as one string."""
    return ["".join(rows) for rows in re.findall(r"\[\d+\]\n(.+)\n(.+)\n", output)]


def test_theme_steers_the_poems_and_keeps_form_and_rhyme(trained):
    from common.poems import even_lines_rhyme, inline_repeat, quatrain_lines, repeated_rhyme
    data, train_dir, _ = trained
    assert (train_dir / "related.npz").is_file()  # training counted which characters go together
    generate = ("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 8, "--seed", 3,
                "--script", "traditional")
    plain = run_script(*generate, env=C_LOCALE)
    themed = run_script(*generate, "--theme", "柳", "舟", env=C_LOCALE)  # two words, as a reader types them
    assert plain.returncode == 0 and themed.returncode == 0, themed.stderr[-3000:]
    plain_poems, themed_poems = printed_poems(plain.stdout), printed_poems(themed.stdout)
    assert len(plain_poems) == len(themed_poems) == 8
    def uses(poem):  # (each of 柳 and 舟 is in one of the tiny corpus's 12 lines)
        return poem.count("柳") + poem.count("舟")
    assert all(uses(poem) for poem in themed_poems), themed_poems
    assert sum(map(uses, themed_poems)) >= 1.5 * sum(map(uses, plain_poems)), (themed_poems, plain_poems)
    for poem in themed_poems:
        lines = quatrain_lines(poem)
        assert [len(line) for line in lines] == [5, 5, 5, 5], lines
        assert even_lines_rhyme(lines) and not repeated_rhyme(lines), lines
        assert not any(inline_repeat(line) for line in lines), lines
    acrostic = run_script(*generate, "--theme", "月", "--acrostic", "春花明", env=C_LOCALE)  # together
    assert acrostic.returncode == 0, acrostic.stderr[-3000:]
    firsts = [line[0] for line in re.findall(r"([\u3400-\u9fff]{5})[，。]", acrostic.stdout)]
    assert firsts == list("春花明") * 8, acrostic.stdout


def test_a_model_from_before_themes_counts_its_table_once(trained, tmp_path):
    data, train_dir, _ = trained
    copy = copy_of(train_dir, tmp_path / "model")
    (copy / "related.npz").unlink()
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", copy, "--theme", "明月", env=C_LOCALE)
    assert result.returncode == 0 and "first theme: counting" in result.stdout, result.stderr[-3000:]
    assert (copy / "related.npz").is_file() and result.stdout.count("\n[") == 1


def test_a_damaged_theme_table_is_counted_again(trained, tmp_path):
    data, train_dir, _ = trained
    copy = copy_of(train_dir, tmp_path / "model")
    (copy / "related.npz").write_bytes((train_dir / "related.npz").read_bytes()[:300])  # cut short
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", copy, "--theme", "明月", env=C_LOCALE)
    assert result.returncode == 0 and "first theme: counting" in result.stdout, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and result.stdout.count("\n[") == 1


@pytest.mark.parametrize("theme, says", [
    ("", "--theme needs a word or two"),
    ("moon", "must be Chinese characters, not m n o"),
    ("春夏秋冬東南西北中", "at most 8 characters"),
    ("留", "the model never saw 留（读音相近的有 / sounds like:"),  # 流 and 柳 are in the tiny corpus
])
def test_bad_themes_are_refused_clearly(trained, theme, says):
    data, train_dir, _ = trained
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--theme", theme, env=C_LOCALE)
    assert result.returncode == 2 and says in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and re.search("[\u4e00-\u9fff]{2}", result.stderr.replace("错误", ""))


@pytest.mark.slow
def test_seven_character_poems_rhyme_on_line_one_too(trained):
    from common.poems import even_lines_rhyme, first_line_rhymes, quatrain_lines
    data, train_dir, _ = trained
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 3,
                        "--form", 7, "--script", "traditional", env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    poems = re.findall(r"\[\d\]\n(.+)\n(.+)\n", result.stdout)
    assert len(poems) == 3
    for first, second in poems:
        lines = quatrain_lines(first + second)
        assert [len(line) for line in lines] == [7, 7, 7, 7], lines
        assert even_lines_rhyme(lines) and first_line_rhymes(lines), lines  # 首句入韵 by construction


def test_rhyme_and_repeat_rules():
    from common.poems import (even_lines_rhyme, first_line_rhymes, inline_repeat, quatrain_lines, repeated_rhyme,
                              rhyme_of)
    assert rhyme_of("流") == ("尤", True) and rhyme_of("樓") == ("尤", True)
    assert rhyme_of("時")[0] == "支" and rhyme_of("賒")[0] == "波"  # the non-rhyming pair
    assert even_lines_rhyme(quatrain_lines("白日依山盡，黃河入海流。欲窮千里目，更上一層樓。"))
    assert not even_lines_rhyme(quatrain_lines("白首雙雙入野源，風亭春日更歸時。長門夜半深山近，白日閑遊去又賒。"))
    assert inline_repeat("一醉江城一夜燈") and not inline_repeat("白首雙雙入野源")
    assert repeated_rhyme(["白日依山盡", "風亭春日時", "欲窮千里目", "白日閑遊時"])
    assert first_line_rhymes(quatrain_lines("清明時節雨紛紛，路上行人欲斷魂。借問酒家何處有，牧童遙指杏花村。"))
    assert not first_line_rhymes(quatrain_lines("白日依山盡，黃河入海流。欲窮千里目，更上一層樓。"))
    assert not repeated_rhyme(quatrain_lines("白日依山盡，黃河入海流。欲窮千里目，更上一層樓。"))



def test_a_nudge_is_not_repeated_as_a_doubling():
    """The theme's bonus goes to a character once per line: with it still on after the character was
    written, the doubling rule (雙雙 allowed once) let a nudged 秋 come back as 秋秋."""
    import numpy as np
    from common.poem_writer import write_poems
    from common.poems import SPECIALS
    vocab = SPECIALS + list("，。山水秋月花")
    import tensorflow as tf
    flat = lambda tokens, training=False: tf.zeros((len(tokens), tokens.shape[1], len(vocab)))  # a stand-in model
    first_best = lambda scores, allowed: np.argmax(np.where(allowed, scores, -np.inf), axis=1)  # ties: the first
    bonus = np.zeros((1, 4, len(vocab)), np.float32)
    bonus[:, :, vocab.index("秋")] = 5.0  # every line nudged toward 秋
    poem = write_poems(flat, vocab, 1, first_best, rhyme=False, bonus=bonus)[0]
    assert poem == "秋山山水水，秋山山水水。" * 2, poem  # 秋 once per line (before the fix: 秋秋山山水)
    plain = write_poems(flat, vocab, 1, first_best, rhyme=False)[0]
    assert plain == "山山水水秋，山山水水秋。" * 2, plain  # the doubling rule itself is unchanged

@pytest.mark.slow
def test_sigterm_is_a_stop_button_the_next_run_resumes(tmp_path, spawn):
    """An IDE's stop button or `docker stop` sends SIGTERM: save a checkpoint, say so, exit 143."""
    data, train_dir = tang_folder(tmp_path / "data"), tmp_path / "model"
    flags = ["--data-dir", data, "--train-dir", train_dir, "--out-dir", tmp_path / "out", *QUICK[:-4],
             "--epochs", 1000, "--sample-every", 5]
    trainer = spawn([sys.executable, str(ROOT / "09_poem_rnn.py"), *map(str, flags)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    deadline = time.time() + 180
    for line in trainer.stdout:  # the first progress report: training is under way
        if "/ step" in line or time.time() > deadline:
            break
    trainer.send_signal(signal.SIGTERM)
    stdout, stderr = trainer.communicate(timeout=120)
    assert trainer.returncode == 143, stderr[-3000:]
    assert "收到 SIGTERM" in stdout and "run the same command again to resume" in stdout
    assert "Traceback" not in stderr
    saved = re.findall(r"saved checkpoint \S+-(\d+)", stdout)
    assert saved, stdout[-2000:]
    again = run_script("09_poem_rnn.py", *flags[:-4], "--epochs", 1000, "--minutes", 0.05)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"at step {saved[-1]}" in again.stdout  # the next run went on from the saved step


@pytest.mark.slow
def test_a_second_training_in_the_same_folder_is_refused(tmp_path, spawn):
    """Two trainings on one --train-dir would interleave their checkpoints: the second is refused
    (exit 2) before it writes anything, and the first goes on and saves as usual."""
    data, train_dir = tang_folder(tmp_path / "data"), tmp_path / "model"
    flags = ["--data-dir", data, "--train-dir", train_dir, "--out-dir", tmp_path / "out", *QUICK[:-4],
             "--epochs", 1000, "--sample-every", 5]
    first = spawn([sys.executable, str(ROOT / "09_poem_rnn.py"), *map(str, flags)],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    for line in first.stdout:  # the first progress report: training is under way
        if "/ step" in line:
            break
    before = sorted(p.name for p in train_dir.iterdir())
    second = run_script("09_poem_rnn.py", *flags, "--fresh")  # even --fresh must not wipe a running run
    assert second.returncode == 2 and "another program is training in" in second.stderr, second.stderr[-2000:]
    assert "Traceback" not in second.stderr and "--fresh" not in second.stdout
    assert set(before) <= {p.name for p in train_dir.iterdir()}  # nothing of the first run was removed
    first.send_signal(signal.SIGTERM)
    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 143 and "saved checkpoint" in stdout, stderr[-3000:]


@pytest.mark.slow
def test_bfloat16_training_then_float32_generation(tmp_path):
    """--precision bfloat16 trains in 16-bit arithmetic with 32-bit weights: the saved model
    loads and writes poems like any other."""
    data = tang_folder(tmp_path / "data")
    train_dir = tmp_path / "model"
    result = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, *QUICK,
                        "--precision", "bfloat16", "--out-dir", tmp_path / "out", env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    loss = json.loads((tmp_path / "out" / "09_poem_rnn.json").read_text(encoding="utf-8"))["validation_loss"]
    assert 0 < loss < 20
    poems = run_script("09_poem_rnn.py", "--data-dir", data, "--train-dir", train_dir, "--generate", 1,
                       "--form", 5, timeout=120, env=C_LOCALE)
    assert poems.returncode == 0 and "\n[1]" in poems.stdout, poems.stderr[-3000:]


@pytest.mark.parametrize("layers", [1, 2])
def test_step_model_reads_one_character_at_a_time_like_the_whole_text(layers):
    """09 --export's LiteRT model: one character and the GRU states per call give the probabilities
    the exported network gives after reading the whole text at once."""
    import keras
    import numpy as np
    from common.poem_writer import step_model
    rng = np.random.default_rng(layers)
    characters = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(20, 8)(characters)
    for _ in range(layers):
        x = keras.layers.Dropout(0.1)(keras.layers.GRU(6, return_sequences=True)(x))
    head = keras.layers.Dense(20)(keras.layers.Dense(8)(x))
    network = keras.Model(characters, keras.layers.Activation("log_softmax")(head))
    for weight in network.weights:
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    text = rng.integers(0, 20, size=(1, 9)).astype("int32")
    step, states = step_model(network), [np.zeros((1, 6), "float32")] * layers
    for number in text[0]:
        probabilities, *states = [t.numpy() for t in step([np.array([[number]], "int32"), *states])]
    np.testing.assert_allclose(probabilities, np.exp(network(text).numpy()[:, -1]), atol=1e-5)


@pytest.mark.slow
def test_09_exports_a_saved_model_and_a_litert_step_model(poem_model, tmp_path):
    """--export: the SavedModel takes "<s>" and the text so far, the .tflite one character and the
    GRU state per call; a Python without this repository gets poem_model.keras's probabilities."""
    import numpy as np
    _, train_dir, _ = poem_model
    result = run_script("09_poem_rnn.py", "--train-dir", copy_of(train_dir, tmp_path / "model"), "--export",
                        "--out-dir", tmp_path / "out", env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LiteRT character by character vs Keras on the whole text" in result.stdout
    export = tmp_path / "out" / "poem_export"
    vocab = json.loads((export / "vocab.json").read_text(encoding="utf-8"))
    assert vocab == json.loads((train_dir / "vocab.json").read_text(encoding="utf-8"))
    code = ("import json, sys, numpy as np, keras, tensorflow as tf\n"
            "vocab = json.load(open(sys.argv[1] + '/vocab.json', encoding='utf-8'))\n"
            "text = [vocab.index('<s>')] + [vocab.index(c) for c in '山月白雲' if c in vocab]\n"
            "network = keras.models.load_model(sys.argv[2])\n"
            "expected = np.exp(network(np.array([text])).numpy()[0, -1])\n"
            "serve = tf.saved_model.load(sys.argv[1] + '/saved_model/poem/1').signatures['serving_default']\n"
            "served = serve(characters=tf.constant([text], tf.int32))['output_0'].numpy()[0]\n"
            "step = tf.lite.Interpreter(model_path=sys.argv[1] + '/poem.tflite').get_signature_runner()\n"
            "grus = [layer for layer in network.layers if isinstance(layer, keras.layers.GRU)]\n"
            "states = {f'state_{i}': np.zeros((1, gru.units), np.float32) for i, gru in enumerate(grus, 1)}\n"
            "for number in text:\n"
            "    answer = step(character=np.array([[number]], np.int32), **states)\n"
            "    states = {name: answer[f'output_{i}'] for i, name in enumerate(states, 1)}\n"
            "print(json.dumps([len(text), float(np.abs(served - expected).max()),\n"
            "                  float(np.abs(answer['output_0'][0] - expected).max())]))\n")
    length, served, lite = json.loads(run_outside_repo(code, export, train_dir / "poem_model.keras",
                                                       cwd=tmp_path).splitlines()[-1])
    assert length >= 3 and served <= 1e-4 and lite <= 1e-4, (served, lite)
    assert not [p for p in export.rglob(".*")]  # no temporary folder or file left


@pytest.mark.slow
def test_theme_bench_on_the_tiny_model(trained):
    """bench/poem_theme.py: a line per way (untargeted, nudged, theme) and the example poems."""
    _, train_dir, _ = trained
    result = run_script("bench/poem_theme.py", "--train-dir", train_dir, "--themes", "柳舟", "明月", "--poems", 2,
                        "--seeds", 0, 1, env=C_LOCALE)
    assert result.returncode == 0, result.stderr[-3000:]
    table = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()
             if line.split() and line.split()[0] in ("untargeted", "nudged", "theme")}
    assert set(table) == {"untargeted", "nudged", "theme"}, result.stdout
    assert float(table["theme"][0].rstrip("%")) >= float(table["untargeted"][0].rstrip("%"))
    assert table["theme"][3] == "100.0%", result.stdout  # rhyme and form: by construction
    assert "柳舟 | " in result.stdout
