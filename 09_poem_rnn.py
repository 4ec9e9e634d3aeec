"""09 · RNN 写唐诗 / An RNN that writes Tang poems (文章 六.3)

What it shows
  A character-level recurrent network reads 46,000 Tang poems one character at a time and
  learns to predict the next one. Sampling from it, character by character, writes new poems.
  The form is exact by construction: the script decides where "，" and "。" go, and the model
  only chooses the characters inside each line. The same code learns any other text
  (--corpus FILE: Song ci, modern poems, English), one poem or passage per line.

Run / 运行
  python 09_poem_rnn.py                            训练（默认 2 核 CPU 约 30 分钟），可接着训练；
                                                   Ctrl-C 会保存检查点
                                                   train (default: ≈30 min on a 2-core CPU),
                                                   resumable; Ctrl-C saves a checkpoint
  python 09_poem_rnn.py --generate 5 --form 7 --lines 4
                                                   写 5 首七言绝句 / five 7-character quatrains
  python 09_poem_rnn.py --generate 1 --acrostic 春夏秋冬      藏头诗 / an acrostic poem
  python 09_poem_rnn.py --evaluate                 损失与二元模型对比，抄袭率、重复率
                                                   loss vs. a bigram baseline, copy and repeat rates
  python 09_poem_rnn.py --corpus my_poems.txt      学另一种文体（另用一个 --train-dir）
                                                   learn another style (own --train-dir)

Expected / 预期结果
  验证损失 ≈4.56 nats/字，二元模型 5.63；诗是简体字，偶数句押韵（README 里有实测的五首）
  validation loss ≈4.56 nats/char against 5.63 for a bigram model; poems in simplified characters
  whose even lines rhyme (README: measured, five poems)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from common import checkpoints, fail
from common.poems import (BOS, EOS, PUNCTUATION, SPECIALS, UNK, bigram_baseline, build_vocab, encode,
                          even_lines_rhyme, first_line_rhymes, inline_repeat, pack, quatrain_lines,
                          read_text_corpus, regular_tang_poems, repeated_rhyme, rhyme_table, simplified_to_vocab,
                          split_poems, to_simplified_converter, vocab_fingerprint)


def form_list(text):
    """--forms 5,7 → [5, 7]"""
    try:
        forms = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为逗号分隔的整数 / expected numbers like 5,7, got {text!r}") from None
    if not forms or forms[0] < 1:
        raise argparse.ArgumentTypeError(f"每行字数必须是正整数 / line lengths must be positive, got {text!r}")
    return forms


parser = common.make_parser(__doc__)
# Training: the corpus, the model's size, the optimizer, the log.
parser.add_argument("--corpus", help="UTF-8 文本文件，每行一首诗或一段文字（默认：唐诗） / "
                                     "UTF-8 text file, one poem or passage per line (default: the Tang poems)")
parser.add_argument("--forms", type=form_list, default="5,7",
                    help="唐诗：只留每句字数都是其中之一的诗，如 5,7 / "
                         "Tang corpus: keep poems whose lines all have one of these lengths, e.g. 5,7")
parser.add_argument("--max-poems", type=common.at_least(2), default=None,
                    help="只用前 N 首诗（快速试跑；默认全部） / use only the first N poems (quick runs; default: all)")
parser.add_argument("--train-dir", default=None,
                    help="检查点和字表放这里（默认 outputs/poem_rnn） / "
                         "checkpoints and vocabulary (default: outputs/poem_rnn)")
parser.add_argument("--epochs", type=common.positive_float, default=8,
                    help="训练轮数：把全部训练诗过几遍（可以是小数） / passes over the training poems (may be a fraction)")
parser.add_argument("--minutes", type=common.positive_float, default=None,
                    help="训练这么多分钟后停下并保存（默认不限） / stop (and save) after this many minutes (default: no limit)")
parser.add_argument("--batch-size", type=common.positive_int, default=256,
                    help="每步训练的序列数 / training sequences per step")
parser.add_argument("--seq-len", type=common.positive_int, default=64,
                    help="每条训练序列的字数 / characters per training sequence")
parser.add_argument("--units", type=common.positive_int, default=512, help="GRU 单元数 / GRU units")
parser.add_argument("--embedding", type=common.positive_int, default=256,
                    help="每个字的向量长度 / width of a character's vector")
parser.add_argument("--layers", type=common.positive_int, default=1, help="GRU 层数 / GRU layers")
parser.add_argument("--dropout", type=common.dropout_share, default=0.2,
                    help="训练时（层与层之间）随机丢掉的激活比例 / "
                         "share of activations dropped while training (between layers)")
parser.add_argument("--untied", dest="tied", action="store_false",
                    help="输出层另用一张表，不和输入的字向量表共用 / "
                         "a separate output table instead of scoring against the input embedding")
parser.add_argument("--lr", type=common.positive_float, default=3e-3, help="Adam 的最高学习率 / peak Adam learning rate")
parser.add_argument("--sample-every", type=common.positive_int, default=150,
                    help="每 N 步打印损失和一首示例诗 / print losses and a sample every N steps")
parser.add_argument("--fresh", action="store_true",
                    help="删掉旧检查点，从头训练 / delete old checkpoints and start over")
parser.add_argument("--jit", choices=["on", "off"], default="off",
                    help="用 XLA 编译训练步 / XLA-compile the training step")
# Writing poems with the saved model.
parser.add_argument("--generate", type=common.positive_int, metavar="N",
                    help="用保存的模型写 N 首诗 / write N poems with the saved model")
parser.add_argument("--form", type=int, choices=[5, 7], default=5, help="每句字数（五言或七言） / characters per line")
parser.add_argument("--lines", type=int, choices=[4, 8], default=4,
                    help="句数（绝句 4，律诗 8） / lines per poem (4: quatrain, 8: regulated verse)")
parser.add_argument("--start", help="诗的第一个字 / first character of the poem")
parser.add_argument("--acrostic",
                    help="藏头诗：第 i 句以第 i 个字开头（字数就是句数） / "
                         "acrostic: line i starts with character i (sets the number of lines)")
parser.add_argument("--temperature", type=common.positive_float, default=0.8,
                    help="温度：< 1 选得更稳，> 1 更放飞 / < 1: safer choices, > 1: wilder")
parser.add_argument("--top-k", type=common.nonnegative_int, default=50,
                    help="只在最可能的 k 个字里抽（0：全部） / sample only among the k likeliest characters (0: all)")
parser.add_argument("--script", choices=["simplified", "traditional"], default="simplified",
                    help="用简体或繁体打印诗；输入哪种都行 / "
                         "print poems in simplified or traditional characters; input may be either")
parser.add_argument("--no-rhyme", dest="rhyme", action="store_false",
                    help="不让第 2、4……句押韵（中华新韵，平声） / do not make lines 2, 4, ... rhyme (中华新韵, level tone)")
parser.add_argument("--repeats", action="store_true",
                    help="允许一句里同一个字出现两次 / allow a character twice in one line")
parser.add_argument("--evaluate", action="store_true",
                    help="评估保存的模型（见 README） / measure the saved model (see README)")
common.add_common_args(parser)
args = common.parse_args(parser)
args.start, args.acrostic = common.argv_text(args.start), common.argv_text(args.acrostic)
if (args.start or args.acrostic) and not args.generate:
    args.generate = 1  # asking for a first character means: write a poem

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from common.layers import TiedOutput  # noqa: E402  (weight tying, section 2)

common.set_seed(args.seed)
train_dir = Path(args.train_dir or common.SCRIPTS_DIR / "outputs" / "poem_rnn")
vocab_path, config_path = train_dir / "vocab.json", train_dir / "config.json"


# %% 1. 准备数据 / Corpus: regular 5/7-character poems (or your text), a fixed validation split
def load_corpus():
    poems = read_text_corpus(args.corpus) if args.corpus else regular_tang_poems(args.data_dir, args.forms)
    return split_poems(poems, args.max_poems)


# %% 2. 模型 / Model: characters → vectors → GRU → a score for every possible next character
def build_model(vocab_size, embedding, units, layers=1, dropout=0.0, tied=True):
    characters = keras.Input((None,), dtype="int32")
    embed = keras.layers.Embedding(vocab_size, embedding)
    x = keras.layers.Dropout(dropout)(embed(characters))  # dropout: only while training
    for _ in range(layers):
        # reset_after=True and tanh/sigmoid keep the fast cuDNN kernel on GPUs.
        x = keras.layers.GRU(units, return_sequences=True, reset_after=True)(x)
        x = keras.layers.Dropout(dropout)(x)
    # Factorised output: units → embedding width → vocabulary. A direct units × 8,000 layer
    # would be most of the work; through a narrow layer it costs a fraction as much.
    x = keras.layers.Dense(embedding)(x)
    # Logits over the vocabulary (never one-hot the targets); tied: scored against the input table.
    logits = TiedOutput(embed)(x) if tied else keras.layers.Dense(vocab_size)(x)
    return keras.Model(characters, logits, name="poem_gru")


# %% 3-4. 损失、优化与训练 / Loss, optimizer and training (resumable: common/training.py)
def train(train_poems, valid_poems, hp):
    """Train on packed sequences; `hp` holds the hyper-parameters (the flags). Returns model, vocab."""
    run = common.ResumableRun(train_dir, fresh=hp["fresh"], run_files=[vocab_path.name, config_path.name])
    vocab = build_vocab(train_poems)
    config = {"vocab_size": len(vocab), "vocab_fingerprint": vocab_fingerprint(vocab), "units": hp["units"],
              "embedding": hp["embedding"], "layers": hp["layers"], "dropout": hp["dropout"], "tied": hp["tied"],
              "corpus": hp["corpus"], "forms": hp["forms"]}
    if config_path.exists() and run.has_checkpoint():  # resume with the saved sizes, same vocabulary
        saved = read_config()
        if saved["vocab_fingerprint"] != config["vocab_fingerprint"]:
            fail(f"这个文件夹里的模型用的是另一份字表 / the model in {train_dir} was trained with a different vocabulary ({saved['vocab_size']} "
                 f"characters, corpus {saved['corpus']}); this corpus gives {len(vocab)}. "
                 f"Use --fresh to start over or another --train-dir")
        config = saved
    index = {ch: i for i, ch in enumerate(vocab)}
    x_train, y_train = pack(train_poems, index, hp["seq_len"])
    x_valid, y_valid = pack(valid_poems, index, hp["seq_len"])
    if len(x_train) < hp["batch_size"] or len(x_valid) == 0:
        fail(f"语料太少 / corpus too small for --batch-size {hp['batch_size']} and --seq-len {hp['seq_len']}: "
             f"lower them or add poems")
    common.write_json(vocab_path, vocab, indent=None)  # checked above: only now is anything written
    common.write_json(config_path, config)
    steps_per_epoch = len(x_train) // hp["batch_size"]
    total_steps = max(1, int(hp["epochs"] * steps_per_epoch))
    print(f"训练集 {len(train_poems):,} 首诗（{x_train.size:,} 字），验证集 {len(valid_poems):,} 首；"
          f"字表 {len(vocab):,} 字；每轮 {steps_per_epoch} 步\n"
          f"  / {len(train_poems):,} training poems ({x_train.size:,} characters), {len(valid_poems):,} "
          f"validation poems; vocabulary {len(vocab):,}; {steps_per_epoch} steps per epoch")

    model = build_model(config["vocab_size"], config["embedding"], config["units"], config.get("layers", 1),
                        config.get("dropout", 0.0), config.get("tied", False))
    # Sparse cross-entropy on the logits: the target is the next character's number.
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # Adam, warm-up over 5% of the steps, then cosine decay; clipping tames exploding RNN gradients.
    schedule = keras.optimizers.schedules.CosineDecay(hp["lr"] / 10, total_steps - total_steps // 20,
                                                      warmup_target=hp["lr"], warmup_steps=total_steps // 20)
    optimizer = keras.optimizers.Adam(schedule, clipnorm=1.0)
    optimizer.build(model.trainable_variables)
    run.restore(optimizer, max_to_keep=2, model=model)

    @tf.function(jit_compile=hp["jit"])
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    @tf.function(jit_compile=hp["jit"])
    def valid_loss_sum(x, y):
        return tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=True))

    def validation_loss():
        total = sum(float(valid_loss_sum(x_valid[i:i + 256], y_valid[i:i + 256])) for i in range(0, len(x_valid), 256))
        return total / x_valid.size

    guard = common.NanGuard(hint="Try a lower --lr.")  # a NaN stops here (exit 1)
    rng = np.random.default_rng(hp["seed"])
    order, recent, last_print = rng.permutation(len(x_train)), [], time.time()
    batch = hp["batch_size"]
    while run.step < total_steps and not run.stop_requested(hp["minutes"]):
        position = run.step % steps_per_epoch
        if position == 0:
            order = rng.permutation(len(x_train))
        rows = order[position * batch:(position + 1) * batch]
        recent.append(float(train_step(x_train[rows], y_train[rows])))
        run.step += 1
        guard.check(run.step, recent[-1], rows=(position * batch, (position + 1) * batch))
        if run.step % hp["sample_every"] == 0 or run.step == total_steps:
            chars_per_s = len(recent) * batch * hp["seq_len"] / (time.time() - last_print)
            valid = validation_loss()
            print(f"第 {run.step}/{total_steps} 步 / step，第 {run.step / steps_per_epoch:.2f} 轮 / epoch，"
                  f"{run.minutes:.1f} 分钟 / min，{chars_per_s:,.0f} 字/秒 / chars/s\n"
                  f"  训练损失 / train loss {np.mean(recent):.3f}，"
                  f"验证损失 / validation loss {valid:.3f} nats/char", flush=True)
            print("  示例 / sample: " + write_poems(model, vocab, 1, rng)[0], flush=True)
            common.save_results("09_poem_rnn", common.output_dir(args.out_dir), step=run.step,
                                total_steps=total_steps, minutes=run.minutes, validation_loss=valid,
                                train_loss=float(np.mean(recent)), chars_per_second=chars_per_s, **config)
            recent, last_print = [], time.time()
            run.save(f"step {run.step}")
    if run.finish():  # Ctrl-C or SIGTERM: saved; run again to resume
        raise SystemExit(run.exit_code)
    return model, vocab


def read_config():
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["vocab_fingerprint"], config["vocab_size"], config["corpus"], config["units"]  # noqa: B018
        return config
    except (OSError, ValueError, KeyError, TypeError) as error:
        fail(f"{config_path} 已损坏 / is damaged ({type(error).__name__}); train again with --fresh")


# %% 5. 写诗 / Writing poems: the model picks each character, the script keeps the form
def write_poems(model, vocab, n, rng, form=5, lines=4, starts=None, free=False, temperature=0.8, top_k=50,
                max_len=200, rhyme=True, repeats=False):
    """Sample n poems. Tang: exact form, punctuation by position; free text: until </s> or max_len.

    rhyme: lines 2, 4, ... (and line 1 of a 7-character poem, as in most real ones) end on a
    level-tone character of one rhyme group (中华新韵), chosen by the model among those, never the
    same character twice. repeats=False: no character twice in a line, except a doubling (雙雙)."""
    index = {ch: i for i, ch in enumerate(vocab)}
    banned = np.zeros(len(vocab), dtype=bool)
    banned[[index[s] for s in SPECIALS]] = True
    for mark in PUNCTUATION + "？！；：、":
        if mark in index:
            banned[index[mark]] = True  # inside a line: characters only
    tokens = np.full((n, 1), index[BOS], dtype=np.int32)

    def pick(allowed_mask):
        # Temperature divides the scores (< 1: safer, > 1: wilder); top-k keeps the k best.
        logits = model(tokens, training=False)[:, -1, :].numpy().astype(np.float64) / temperature
        logits[~np.broadcast_to(allowed_mask, logits.shape)] = -np.inf
        if top_k and top_k < allowed_mask.sum():
            kth = np.sort(logits, axis=1)[:, -top_k][:, None]
            logits[logits < kth] = -np.inf
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return np.array([rng.choice(len(vocab), p=row) for row in p], dtype=np.int32)

    if free:  # a --corpus model: run until the end marker (or the cap), never forever
        if starts and starts[0] is not None:
            tokens = np.concatenate([tokens, np.full((n, 1), index[starts[0]], np.int32)], axis=1)
        allowed = ~banned.copy()
        allowed[index[EOS]] = True
        for ch in PUNCTUATION + "？！；：、":
            if ch in index:
                allowed[index[ch]] = True
        done = np.zeros(n, dtype=bool)
        for _ in range(max_len):
            chosen = pick(allowed)
            chosen[done] = index[EOS]
            tokens = np.concatenate([tokens, chosen[:, None]], axis=1)
            done |= chosen == index[EOS]
            if done.all():
                break
        return ["".join(vocab[t] for t in row[1:] if vocab[t] not in SPECIALS) for row in tokens]

    groups, level = rhyme_table(vocab) if rhyme else (None, None)
    rhyming_lines = {i for i in range(lines) if i % 2 == 1 or (i == 0 and form == 7)}  # 七言: 首句入韵
    poem_rhyme = np.full(n, -1)  # each poem's rhyme group, set by its first rhyming line
    for line in range(lines):
        line_start = tokens.shape[1]
        for position in range(form):
            if position == 0 and starts is not None and starts[line] is not None:
                chosen = np.full(n, index[starts[line]], dtype=np.int32)
                tokens = np.concatenate([tokens, chosen[:, None]], axis=1)
                continue
            allowed = np.tile(~banned, (n, 1))
            if not repeats and position > 0:
                for row in range(n):  # the model may not reuse a character of this line ...
                    used = tokens[row, line_start:]
                    allowed[row, used] = False
                    if len(used) < 2 or used[-2] != used[-1]:
                        allowed[row, used[-1]] = True  # ... except to double it once (雙雙)
            if rhyme and line in rhyming_lines and position == form - 1:  # the end of a rhyming line
                for row in range(n):
                    same = allowed[row] & (groups >= 0 if poem_rhyme[row] < 0 else groups == poem_rhyme[row])
                    new = np.ones_like(same)
                    new[tokens[row, form::form + 1]] = False  # not a character ending a line yet (no 重韵) ...
                    # ... on the level tone: the first wish that some character still meets wins.
                    for want in (same & new & level, same & new, same & level, same):
                        if want.any():
                            allowed[row] = want
                            break
            chosen = pick(allowed)
            tokens = np.concatenate([tokens, chosen[:, None]], axis=1)
        if rhyme and line == min(rhyming_lines, default=-1):
            poem_rhyme = groups[tokens[:, -1]]
        mark = "。" if line % 2 or line == lines - 1 else "，"  # a poem always ends with 。
        tokens = np.concatenate([tokens, np.full((n, 1), index.get(mark, index[UNK]), np.int32)], axis=1)
    return ["".join(vocab[t] for t in row[1:]) for row in tokens]


def start_characters(vocab, start, acrostic, lines, to_simplified):
    """Per-line forced first characters from --start / --acrostic; unknown ones are refused."""
    if acrostic is not None:
        wanted = list(acrostic.strip())
        if not wanted:
            fail("--acrostic 不能为空 / --acrostic needs at least one character")
    elif start:
        wanted = [start.strip()[:1]] + [None] * (lines - 1)
    else:
        return None
    # Simplified or traditional, either works: 风 → 風, 发 → 發 (the commonest of 發/髮 in the corpus).
    to_vocab = simplified_to_vocab(vocab, to_simplified)
    for ch in PUNCTUATION:
        to_vocab.pop(ch, None)
    missing = [ch for ch in wanted if ch is not None and ch not in to_vocab]
    if missing:
        fail(f"语料里没有这个字 / character(s) {'、'.join(missing)} not in the model's vocabulary (learned "
             f"from the corpus); choose another")
    return [None if ch is None else to_vocab[ch] for ch in wanted]


def show(poem):
    lines = re.findall(r"[^，。]+[，。]", poem)
    return "\n".join(lines[i] + (lines[i + 1] if i + 1 < len(lines) else "") for i in range(0, len(lines), 2))


def load_trained():
    """Model, vocabulary and config from train_dir, or None; refuse a vocabulary that does not match."""
    checkpoints.remove_unfinished(train_dir)
    latest = tf.train.latest_checkpoint(str(train_dir))
    if not (vocab_path.exists() and config_path.exists() and latest):
        return None
    config = read_config()
    try:
        vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        matches = vocab_fingerprint(vocab) == config["vocab_fingerprint"] and len(vocab) == config["vocab_size"]
    except (ValueError, TypeError) as error:
        fail(f"{vocab_path} 已损坏 / is damaged ({type(error).__name__}); train again with --fresh")
    if not matches:
        fail(f"字表和模型不匹配 / {vocab_path} does not belong to the model in {train_dir} (different vocabulary); "
             f"train again with --fresh, or use the --train-dir it was saved with")
    model = build_model(config["vocab_size"], config["embedding"], config["units"], config.get("layers", 1),
                        config.get("dropout", 0.0), config.get("tied", False))
    try:
        # Every weight must come from the file (a silent partial restore would write noise).
        tf.train.Checkpoint(model=model).restore(latest).expect_partial().assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError) as error:
        fail(f"检查点读不出来 / the checkpoint in {train_dir} cannot be read ({type(error).__name__}); "
             f"train again with --fresh")
    return model, vocab, config


# %% 6. 评估 / --evaluate: the model against a bigram baseline, and what its poems look like
def evaluate(model, vocab, train_poems, valid_poems, rng):
    index = {ch: i for i, ch in enumerate(vocab)}
    loss, count = 0.0, 0
    for poem in valid_poems:  # one poem at a time, from its start marker: the honest per-character loss
        tokens = np.array([encode(poem, index)], dtype=np.int32)
        logits = model(tokens[:, :-1], training=False)
        loss += float(keras.losses.sparse_categorical_crossentropy(tokens[:, 1:], logits, from_logits=True).numpy().sum())
        count += tokens.shape[1] - 1
    model_loss, bigram = loss / count, bigram_baseline(train_poems, valid_poems, vocab)
    print(f"每字验证损失 / validation loss per character:\n"
          f"  模型 / model {model_loss:.3f} nats，平滑二元模型 / smoothed bigram {bigram:.3f} nats\n"
          f"  模型的损失低 {bigram - model_loss:.3f}（目标 ≥ 0.3）/ better by {bigram - model_loss:.3f} (target ≥ 0.3)")
    # 200 seeded 绝句 (4 lines; 100 of 5 and 100 of 7 characters) against the real 绝句 of the corpus.
    poems = []
    for form in (5, 7):
        poems += write_poems(model, vocab, 100, rng, form=form, lines=4)
    written = [quatrain_lines(p) for p in poems]
    corpus = [quatrain_lines(p) for p in train_poems + valid_poems]
    corpus_lines = {line for lines in corpus for line in lines}
    real = [lines for lines in corpus if len(lines) == 4 and len(lines[0]) in (5, 7)]

    def share(values):  # None when there is nothing to count (a corpus without 7-character poems)
        return float(np.mean(values)) if len(values) else None

    def shares(group):
        return dict(rhyme=share([even_lines_rhyme(lines) for lines in group]),
                    repeated_line=share([len(set(lines)) < len(lines) for lines in group]),
                    first_line_7=share([first_line_rhymes(lines) for lines in group if len(lines[0]) == 7]),
                    repeated_rhyme=share([repeated_rhyme(lines) for lines in group]),
                    inline_repeat=share([inline_repeat(line) for lines in group for line in lines]))
    ours, theirs = shares(written), shares(real)
    ours["form"] = share([len(lines) == 4 and len({len(line) for line in lines}) == 1 and p.count("，") == 2
                          and p.count("。") == 2 for p, lines in zip(poems, written)])
    ours["copied"] = share([line in corpus_lines for lines in written for line in lines])

    def percent(value):
        return "      —" if value is None else f"{value:7.1%}"
    print(f"生成的 {len(poems)} 首绝句与语料里的 {len(real):,} 首对比（押韵按中华新韵，今音）\n"
          f"  / {len(poems)} generated 绝句 against {len(real):,} in the corpus (rhyme: 中华新韵, modern reading):")
    rows = [("form", "格式对（四句等长，，。到位）", "form (4 equal lines, ，。 in place)"),
            ("rhyme", "第 2、4 句押韵", "lines 2 and 4 rhyme"),
            ("copied", "原样抄自语料的句子", "lines copied verbatim from the corpus"),
            ("repeated_line", "有重复句的诗", "poems that repeat a line"),
            ("first_line_7", "七言首句也入韵", "7-character: line 1 rhymes as well"),
            ("repeated_rhyme", "第 2、4 句韵脚是同一个字", "lines 2 and 4 end on the same character"),
            ("inline_repeat", "一句里有重复的字（叠字除外）", "lines with a character twice (not AA)")]
    column = max(common.display_width(f"{zh} / {en}") for _, zh, en in rows) + 2
    for key, zh, en in rows:
        label = f"{zh} / {en}"
        compared = (f"   语料 / corpus {percent(theirs[key])}" if key in theirs
                    else "   （目标 / target < 5%）" if key == "copied" else "")
        print(f"  {label}{' ' * (column - common.display_width(label))}{percent(ours[key])}{compared}")
    return dict(validation_loss=model_loss, bigram_loss=bigram, copied_lines=ours["copied"],
                repeated_line_poems=ours["repeated_line"], generated=ours, corpus=theirs)


# %% 7. 运行 / Run: train, or write poems / evaluate with the trained model
if not (args.generate or args.evaluate):
    hp = dict(fresh=args.fresh, units=args.units, embedding=args.embedding, layers=args.layers, dropout=args.dropout,
              tied=args.tied, corpus=args.corpus or "tang",
              forms=",".join(map(str, args.forms)), seq_len=args.seq_len, batch_size=args.batch_size,
              epochs=args.epochs, lr=args.lr, jit=args.jit == "on", seed=args.seed, minutes=args.minutes,
              sample_every=args.sample_every)
    train(*load_corpus(), hp)
else:  # --generate / --evaluate: use the model an earlier run trained
    trained = load_trained()
    if trained is None:
        # Training takes about half an hour on a laptop CPU: never start it by surprise.
        fail(f"还没有训练好的模型（{train_dir}）。先训练（2 核 CPU 约 30 分钟，Ctrl-C 会保存，再运行即可接着训练）：\n"
             f"  python 09_poem_rnn.py" + (f" --corpus {args.corpus}" if args.corpus else "")
             + (f" --train-dir {train_dir}" if args.train_dir else "") + "\n"
             f"no trained model in {train_dir} yet. Train one first with the command above (about "
             f"30 min on a 2-core CPU; Ctrl-C saves, running it again resumes), then ask for poems.")
    model, vocab, config = trained
    if args.evaluate:
        figures = evaluate(model, vocab, *load_corpus(), np.random.default_rng(args.seed))
        common.save_results("09_poem_rnn_evaluate", common.output_dir(args.out_dir), **figures)
    if args.generate:
        free = config["corpus"] != "tang"
        to_simplified = to_simplified_converter()
        starts = start_characters(vocab, args.start, args.acrostic, args.lines, to_simplified)
        lines = len(starts) if args.acrostic else args.lines
        poems = write_poems(model, vocab, args.generate, np.random.default_rng(args.seed), form=args.form,
                            lines=lines, starts=starts, free=free, temperature=args.temperature, top_k=args.top_k,
                            rhyme=args.rhyme, repeats=args.repeats)
        for i, poem in enumerate(poems, 1):
            poem = to_simplified(poem) if args.script == "simplified" else poem  # the model writes as it read
            print(f"\n[{i}]\n" + (poem if free else show(poem)))
