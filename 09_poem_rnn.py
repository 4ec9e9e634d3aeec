"""09 · RNN 写唐诗 / An RNN that writes Tang poems (文章 六.3)

What it shows
  A character-level recurrent network reads 50,000+ Tang poems one character at a time and
  learns to predict the next one. Sampling from it, character by character, writes new poems.
  The form is exact by construction: the script decides where "，" and "。" go, and the model
  only chooses the characters inside each line. The same code learns any other text
  (--corpus FILE: Song ci, modern poems, English), one poem or passage per line.

Run
  python 09_poem_rnn.py                            train (default: ≈35 min on a 2-core CPU),
                                                   resumable; Ctrl-C saves a checkpoint
  python 09_poem_rnn.py --generate 5 --form 7 --lines 4
  python 09_poem_rnn.py --generate 1 --acrostic 春夏秋冬      藏头诗
  python 09_poem_rnn.py --evaluate                 loss vs. a bigram baseline, copy and repeat rates
  python 09_poem_rnn.py --corpus my_poems.txt      learn another style (own --train-dir)

Expected
  validation loss ≈4.8 nats/char against ≈5.6 for a bigram model (README: measured, five poems)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import argparse
import collections
import hashlib
import json
import math
import re
import signal
import time
from pathlib import Path

import numpy as np

from common import checkpoints, fail


def form_list(text):
    """--forms 5,7 → [5, 7]"""
    try:
        forms = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为逗号分隔的整数 / expected numbers like 5,7, got {text!r}") from None
    if not forms or forms[0] < 1:
        raise argparse.ArgumentTypeError(f"每行字数必须是正整数 / line lengths must be positive, got {text!r}")
    return forms


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--corpus", help="UTF-8 text file, one poem or passage per line (default: the Tang poems)")
parser.add_argument("--forms", type=form_list, default=[5, 7],
                    help="Tang corpus: keep poems whose lines all have one of these lengths (default 5,7)")
parser.add_argument("--max-poems", type=common.at_least(2), default=None, help="use only the first N poems (quick runs)")
parser.add_argument("--train-dir", default=None, help="checkpoints, vocabulary (default outputs/poem_rnn)")
parser.add_argument("--epochs", type=common.positive_float, default=8)
parser.add_argument("--minutes", type=common.positive_float, default=None, help="stop (and save) after this many minutes")
parser.add_argument("--batch-size", type=common.positive_int, default=128)
parser.add_argument("--seq-len", type=common.positive_int, default=64, help="characters per training sequence")
parser.add_argument("--units", type=common.positive_int, default=384, help="GRU units")
parser.add_argument("--embedding", type=common.positive_int, default=128)
parser.add_argument("--lr", type=common.positive_float, default=3e-3, help="peak Adam learning rate")
parser.add_argument("--sample-every", type=common.positive_int, default=500,
                    help="print losses and a sample every N steps")
parser.add_argument("--fresh", action="store_true", help="delete old checkpoints and start over")
parser.add_argument("--jit", choices=["on", "off"], default="off", help="XLA-compile the training step")
parser.add_argument("--generate", type=common.positive_int, metavar="N", help="write N poems with the saved model")
parser.add_argument("--form", type=int, choices=[5, 7], default=5, help="characters per line")
parser.add_argument("--lines", type=int, choices=[4, 8], default=4)
parser.add_argument("--start", help="first character of the poem")
parser.add_argument("--acrostic", help="藏头诗: line i starts with character i (sets the number of lines)")
parser.add_argument("--temperature", type=common.positive_float, default=0.8, help="< 1: safer choices, > 1: wilder")
parser.add_argument("--top-k", type=common.nonnegative_int, default=50,
                    help="sample only among the k likeliest characters (0: all)")
parser.add_argument("--evaluate", action="store_true", help="measure the saved model (see README)")
common.add_common_args(parser)
args = parser.parse_args()
common.set_seed(args.seed)
args.start, args.acrostic = common.argv_text(args.start), common.argv_text(args.acrostic)


PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = [PAD, BOS, EOS, UNK]
PUNCTUATION = "，。"
DAMAGED = re.compile(r"[□■○●◎〇{}\[\]()（）《》〈〉「」『』【】〔〕_<>|/\\\-0-9a-zA-Z]")

# ---------------------------------------------------------------- 1. corpus
def tang_poems(forms):
    """Regular Tang poems as strings like '床前明月光，疑是地上霜。...' (only ，and 。 inside)."""
    keep = []
    for poem in common.load_tang_poems(args.data_dir):
        text = "".join(poem.get("paragraphs") or [])
        if not text or DAMAGED.search(text):
            continue
        lines = re.split(r"[，。]", text)
        if lines[-1] != "" or not text.endswith("。"):
            continue
        lines = lines[:-1]
        if len(lines) < 2 or len(lines) % 2 or len({len(line) for line in lines}) != 1 or len(lines[0]) not in forms:
            continue
        if any(not line or re.search(r"[^\u3400-\u9fff\U00020000-\U0002ffff]", line) for line in lines):
            continue  # only CJK characters inside a line
        keep.append(text)
    return keep


def text_corpus(path):
    if Path(path).is_dir():
        fail(f"--corpus {path} 是文件夹；请给一个文本文件（每行一首诗）/ is a folder: give one text file, "
             f"one poem or passage per line")
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        fail(f"找不到语料文件 / corpus file not found: {path}")
    except UnicodeDecodeError:
        fail(f"{path} 不是 UTF-8 编码（GBK？请用 UTF-8 另存）/ is not UTF-8 text; save it as UTF-8 "
             f"(GBK files: re-save with UTF-8 encoding)")
    poems = [line.strip() for line in text.splitlines() if line.strip()]
    if not poems:
        fail(f"{path} has no non-empty lines")
    return poems


train_dir = Path(args.train_dir or common.SCRIPTS_DIR / "outputs" / "poem_rnn")
vocab_path, config_path = train_dir / "vocab.json", train_dir / "config.json"


def load_corpus():
    poems = text_corpus(args.corpus) if args.corpus else tang_poems(args.forms)
    poems = poems[:args.max_poems]
    if len(poems) < 2:
        fail("the corpus has fewer than 2 usable poems")
    order = np.random.default_rng(0).permutation(len(poems))  # fixed split, whatever --seed
    n_valid = max(1, int(0.02 * len(poems)))
    return [poems[i] for i in order[n_valid:]], [poems[i] for i in order[:n_valid]]


# ---------------------------------------------------------------- 2. vocabulary, saved as UTF-8 JSON
def build_vocab(poems):
    counts = collections.Counter(ch for poem in poems for ch in poem)
    return SPECIALS + [ch for ch, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def vocab_fingerprint(vocab):
    return hashlib.sha256("\n".join(vocab).encode("utf-8")).hexdigest()[:16]


def encode(poem, index):
    unk = index[UNK]
    return [index[BOS]] + [index.get(ch, unk) for ch in poem] + [index[EOS]]


# ---------------------------------------------------------------- 3. model
def build_model(vocab_size, embedding, units):
    import keras
    return keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(vocab_size, embedding),
        # reset_after=True and tanh/sigmoid keep the fast cuDNN kernel on GPUs.
        keras.layers.GRU(units, return_sequences=True, reset_after=True),
        # Factorised output: units → embedding size → vocabulary. A direct units × 7,000 layer
        # would be most of the work; through a narrow layer it costs a third as much.
        keras.layers.Dense(embedding),
        keras.layers.Dense(vocab_size),  # logits over the vocabulary; never one-hot the targets
    ], name="poem_gru")


def load_trained():
    """Model, vocabulary and config from train_dir; refuse a vocabulary that does not match."""
    import tensorflow as tf
    checkpoints.remove_unfinished(train_dir)
    if not (vocab_path.exists() and config_path.exists() and tf.train.latest_checkpoint(str(train_dir))):
        return None
    try:
        vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        config = json.loads(config_path.read_text(encoding="utf-8"))
        matches = vocab_fingerprint(vocab) == config["vocab_fingerprint"] and len(vocab) == config["vocab_size"]
    except (ValueError, KeyError, TypeError) as error:
        fail(f"{vocab_path.name} 或 {config_path.name} 已损坏 / is damaged ({type(error).__name__}) in "
             f"{train_dir}; train again with --fresh")
    if not matches:
        fail(f"{vocab_path} does not belong to the model in {train_dir} (different vocabulary); "
             f"train again with --fresh, or use the --train-dir it was saved with")
    model = build_model(config["vocab_size"], config["embedding"], config["units"])
    try:
        tf.train.Checkpoint(model=model).restore(tf.train.latest_checkpoint(str(train_dir))).expect_partial()
    except (tf.errors.OpError, ValueError, AssertionError) as error:
        fail(f"检查点读不出来 / the checkpoint in {train_dir} cannot be read ({type(error).__name__}); "
             f"train again with --fresh")
    return model, vocab, config


# ---------------------------------------------------------------- 4. training
def train(train_poems, valid_poems):
    import keras
    import tensorflow as tf
    if args.fresh:
        checkpoints.clear(train_dir, also=[vocab_path.name, config_path.name])
    common.output_dir(train_dir)
    if checkpoints.remove_unfinished(train_dir):
        print(f"removed an unfinished checkpoint (a run was stopped while saving) in {train_dir}")
    vocab = build_vocab(train_poems)
    config = {"vocab_size": len(vocab), "vocab_fingerprint": vocab_fingerprint(vocab), "units": args.units,
              "embedding": args.embedding, "corpus": args.corpus or "tang",
              "forms": ",".join(map(str, args.forms))}
    if config_path.exists() and tf.train.latest_checkpoint(str(train_dir)):
        try:
            saved = json.loads(config_path.read_text(encoding="utf-8"))
            saved["vocab_fingerprint"], saved["vocab_size"], saved["corpus"]  # noqa: B018
        except (ValueError, KeyError, TypeError) as error:
            fail(f"{config_path} 已损坏 / is damaged ({type(error).__name__}); start over with --fresh")
        if saved["vocab_fingerprint"] != config["vocab_fingerprint"]:
            fail(f"the model in {train_dir} was trained with a different vocabulary ({saved['vocab_size']} "
                 f"characters, corpus {saved['corpus']}); this corpus gives {len(vocab)}. "
                 f"Use --fresh to start over or another --train-dir")
        config = saved  # resume with the saved sizes
    index = {ch: i for i, ch in enumerate(vocab)}

    # Poems with start/end markers, packed end to end and cut into sequences: no padding wasted.
    def packed(poems):
        stream = np.fromiter((t for poem in poems for t in encode(poem, index)), dtype=np.int32)
        n = (len(stream) - 1) // args.seq_len
        return stream[:n * args.seq_len].reshape(n, args.seq_len), stream[1:n * args.seq_len + 1].reshape(n, args.seq_len)

    x_train, y_train = packed(train_poems)
    x_valid, y_valid = packed(valid_poems)
    if len(x_train) < args.batch_size or len(x_valid) == 0:
        fail(f"语料太少 / corpus too small for --batch-size {args.batch_size} and --seq-len {args.seq_len}: "
             f"lower them or add poems")
    common.write_json(vocab_path, vocab, indent=None)  # checked above: only now is anything written
    common.write_json(config_path, config)
    steps_per_epoch = len(x_train) // args.batch_size
    total_steps = max(1, int(args.epochs * steps_per_epoch))
    print(f"{len(train_poems):,} training poems ({x_train.size:,} characters), {len(valid_poems):,} "
          f"validation poems; vocabulary {len(vocab):,}; {steps_per_epoch} steps per epoch")

    model = build_model(config["vocab_size"], config["embedding"], config["units"])
    schedule = keras.optimizers.schedules.CosineDecay(args.lr / 10, total_steps - total_steps // 20,
                                                      warmup_target=args.lr, warmup_steps=total_steps // 20)
    optimizer = keras.optimizers.Adam(schedule, clipnorm=1.0)
    optimizer.build(model.trainable_variables)
    train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, train_seconds=train_seconds)
    manager = tf.train.CheckpointManager(checkpoint, train_dir, max_to_keep=2)
    if manager.latest_checkpoint:
        try:
            checkpoint.restore(manager.latest_checkpoint)
        except (tf.errors.OpError, ValueError, AssertionError) as error:
            fail(f"检查点读不出来 / cannot restore {manager.latest_checkpoint} ({type(error).__name__}); "
                 f"start over with --fresh")
        print(f"resumed from {manager.latest_checkpoint} at step {int(optimizer.iterations.numpy())}")
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=args.jit == "on")
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    @tf.function(jit_compile=args.jit == "on")
    def valid_loss_sum(x, y):
        return tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=True))

    def validation_loss():
        total = sum(float(valid_loss_sum(x_valid[i:i + 256], y_valid[i:i + 256])) for i in range(0, len(x_valid), 256))
        return total / x_valid.size

    interrupted = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    guard = common.NanGuard(hint="Try a lower --lr.")
    rng = np.random.default_rng(args.seed)
    step = int(optimizer.iterations.numpy())
    start, seconds_before, recent = time.time(), float(train_seconds.numpy()), []
    last_print = start
    order = rng.permutation(len(x_train))

    save_checkpoint = checkpoints.SaveOnce(manager, resumed_step=step)

    def save(reason):
        train_seconds.assign(seconds_before + time.time() - start)
        path = save_checkpoint(step)
        if path:
            print(f"saved checkpoint {path} ({reason})", flush=True)

    while step < total_steps and not interrupted:
        position = step % steps_per_epoch
        if position == 0:
            order = rng.permutation(len(x_train))
        rows = order[position * args.batch_size:(position + 1) * args.batch_size]
        loss = train_step(x_train[rows], y_train[rows])
        step += 1
        recent.append(float(loss))
        guard.check(step, recent[-1], rows=(position * args.batch_size, (position + 1) * args.batch_size))
        if args.minutes and seconds_before + time.time() - start > args.minutes * 60:
            print(f"--minutes {args.minutes:g} reached")
            break
        if step % args.sample_every == 0 or step == total_steps:
            elapsed = time.time() - start
            chars_per_s = len(recent) * args.batch_size * args.seq_len / (time.time() - last_print)
            print(f"step {step}/{total_steps} (epoch {step / steps_per_epoch:.2f}, "
                  f"{(seconds_before + elapsed) / 60:.1f} min, {chars_per_s:,.0f} chars/s): "
                  f"train loss {np.mean(recent):.3f}, "
                  f"validation loss {validation_loss():.3f} nats/char", flush=True)
            print("  sample: " + "".join(write_poems(model, vocab, 1, rng)[0]), flush=True)
            recent, last_print = [], time.time()
            save(f"step {step}")
    save("interrupted by Ctrl-C" if interrupted else "end of training")
    if interrupted:
        raise SystemExit(130)
    return model, vocab, config


# ---------------------------------------------------------------- 5. writing poems
def write_poems(model, vocab, n, rng, form=None, lines=None, starts=None, free=False, max_len=200):
    """Sample n poems. Tang: exact form, punctuation by position; free text: until </s> or max_len."""
    index = {ch: i for i, ch in enumerate(vocab)}
    banned = np.zeros(len(vocab), dtype=bool)
    banned[[index[s] for s in SPECIALS]] = True
    for mark in PUNCTUATION + "？！；：、":
        if mark in index:
            banned[index[mark]] = True  # inside a line: characters only
    form = form or args.form
    lines = lines or args.lines
    tokens = np.full((n, 1), index[BOS], dtype=np.int32)

    def pick(allowed_mask):
        logits = model(tokens, training=False)[:, -1, :].numpy().astype(np.float64) / max(args.temperature, 1e-3)
        logits[:, ~allowed_mask] = -np.inf
        if args.top_k and args.top_k < allowed_mask.sum():
            kth = np.sort(logits, axis=1)[:, -args.top_k][:, None]
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

    for line in range(lines):
        for position in range(form):
            if position == 0 and starts is not None and starts[line] is not None:
                chosen = np.full(n, index[starts[line]], dtype=np.int32)
            else:
                chosen = pick(~banned)
            tokens = np.concatenate([tokens, chosen[:, None]], axis=1)
        mark = "。" if line % 2 or line == lines - 1 else "，"  # a poem always ends with 。
        tokens = np.concatenate([tokens, np.full((n, 1), index.get(mark, index[UNK]), np.int32)], axis=1)
    return ["".join(vocab[t] for t in row[1:]) for row in tokens]


def start_characters(vocab):
    """Per-line forced first characters from --start / --acrostic; unknown ones are refused."""
    if args.acrostic:
        wanted = list(args.acrostic.strip())
        if not wanted:
            fail("--acrostic 不能为空 / --acrostic needs at least one character")
    elif args.start:
        wanted = [args.start.strip()[:1]] + [None] * (args.lines - 1)
    else:
        return None
    known = set(vocab) - set(SPECIALS) - set(PUNCTUATION)
    missing = [ch for ch in wanted if ch is not None and ch not in known]
    if missing:
        fail(f"character(s) {'、'.join(missing)} not in the model's vocabulary (learned from the corpus; "
             f"the Tang corpus uses traditional characters, e.g. 風 not 风); choose another")
    return wanted


def show(poem):
    lines = re.findall(r"[^，。]+[，。]", poem)
    return "\n".join(lines[i] + (lines[i + 1] if i + 1 < len(lines) else "") for i in range(0, len(lines), 2))


# ---------------------------------------------------------------- 6. evaluation
def bigram_baseline(train_poems, valid_poems, vocab):
    """Validation loss per character of an interpolated (unigram + bigram) model on the same split."""
    index = {ch: i for i, ch in enumerate(vocab)}
    pairs, firsts, unigram = collections.Counter(), collections.Counter(), collections.Counter()
    for poem in train_poems:
        tokens = encode(poem, index)
        unigram.update(tokens[1:])
        pairs.update(zip(tokens[:-1], tokens[1:]))
        firsts.update(tokens[:-1])
    total, v = sum(unigram.values()), len(vocab)
    best = None
    for weight in (0.5, 0.7, 0.8, 0.9, 0.95):  # interpolation weight picked on validation, generously
        loss, count = 0.0, 0
        for poem in valid_poems:
            tokens = encode(poem, index)
            for a, b in zip(tokens[:-1], tokens[1:]):
                p_uni = (unigram[b] + 1) / (total + v)
                p_bi = pairs[(a, b)] / firsts[a] if firsts[a] else 0.0
                loss -= math.log(weight * p_bi + (1 - weight) * p_uni)
                count += 1
        best = min(best or math.inf, loss / count)
    return best


def evaluate(model, vocab, train_poems, valid_poems):
    import keras
    index = {ch: i for i, ch in enumerate(vocab)}
    loss, count = 0.0, 0
    for poem in valid_poems:  # one poem at a time, from its start marker: the honest per-character loss
        tokens = np.array([encode(poem, index)], dtype=np.int32)
        logits = model(tokens[:, :-1], training=False)
        loss += float(keras.losses.sparse_categorical_crossentropy(tokens[:, 1:], logits, from_logits=True).numpy().sum())
        count += tokens.shape[1] - 1
    model_loss, bigram = loss / count, bigram_baseline(train_poems, valid_poems, vocab)
    print(f"validation loss per character: model {model_loss:.3f} nats, smoothed bigram {bigram:.3f} nats "
          f"(better by {bigram - model_loss:.3f}; target ≥ 0.3)")

    rng = np.random.default_rng(args.seed)
    corpus_lines = {line for poem in train_poems + valid_poems for line in re.split(r"[，。]", poem) if line}
    poems = []
    for form in (5, 7):
        poems += write_poems(model, vocab, 50, rng, form=form, lines=4)
    lines = [re.split(r"[，。]", p)[:-1] for p in poems]
    copied = sum(line in corpus_lines for poem in lines for line in poem) / sum(map(len, lines))
    repeated = sum(len(set(poem)) < len(poem) for poem in lines) / len(lines)
    print(f"generated {len(poems)} poems: {copied:.1%} of lines appear verbatim in the corpus (target < 5%), "
          f"{repeated:.1%} of poems repeat a line (target < 5%)")


# ---------------------------------------------------------------- main
if (args.start or args.acrostic) and not args.generate:
    args.generate = 1  # asking for a first character means: write a poem
if args.generate or args.evaluate:
    trained = load_trained()
    if trained is None:
        # Training takes about half an hour on a laptop CPU: never start it by surprise.
        fail(f"还没有训练好的模型（{train_dir}）。先训练（2 核 CPU 约 30 分钟，Ctrl-C 会保存，再运行即可接着训练）：\n"
             f"  python 09_poem_rnn.py" + (f" --train-dir {train_dir}" if args.train_dir else "") + "\n"
             f"no trained model in {train_dir} yet. Train one first with the command above (about "
             f"30 min on a 2-core CPU; Ctrl-C saves, running it again resumes), then ask for poems.")
    model, vocab, config = trained
    if args.evaluate:
        evaluate(model, vocab, *load_corpus())
    if args.generate:
        free = config["corpus"] != "tang"
        starts = start_characters(vocab)
        lines = len(starts) if args.acrostic else args.lines
        poems = write_poems(model, vocab, args.generate, np.random.default_rng(args.seed),
                            lines=lines, starts=starts, free=free)
        for i, poem in enumerate(poems, 1):
            print(f"\n[{i}]\n" + (poem if free else show(poem)))
else:
    train(*load_corpus())
