"""09 · RNN 写唐诗 / An RNN that writes Tang poems (文章 六.3)

What it shows
  A character-level recurrent network reads 46,000 Tang poems one character at a time and
  learns to predict the next one. Sampling from it, character by character, writes new poems.
  The form is exact by construction: the script decides where "，" and "。" go, and the model
  only chooses the characters inside each line. The same code learns any other text
  (--corpus FILE: Song ci, modern poems, English), one poem or passage per line.

Run / 运行
  python 09_poem_rnn.py                            训练（默认 2 核 CPU 约 14 分钟），可接着训练；
                                                   Ctrl-C 会保存检查点
                                                   train (default: ≈14 min on a 2-core CPU),
                                                   resumable; Ctrl-C saves a checkpoint
  python 09_poem_rnn.py --epochs 1.5               先试一下：约 4 分钟 / a first try: about 4 minutes
  python 09_poem_rnn.py --generate 5 --form 7 --lines 4
                                                   写 5 首七言绝句 / five 7-character quatrains
  python 09_poem_rnn.py --generate 1 --acrostic 春夏秋冬      藏头诗 / an acrostic poem
  python 09_poem_rnn.py --generate 3 --theme 秋夜 思乡       按主题写 / poems on a theme
  python 09_poem_rnn.py --export                   导出给应用程序（SavedModel、LiteRT）/ export for applications
  python 09_poem_rnn.py --evaluate                 损失与二元模型对比，抄袭率、重复率
                                                   loss vs. a bigram baseline, copy and repeat rates
  python 09_poem_rnn.py --corpus my_poems.txt      学另一种文体（另用一个 --train-dir）
                                                   learn another style (own --train-dir)

Expected / 预期结果
  验证损失 ≈4.43 nats/字，二元模型 5.63；诗是简体字，偶数句押韵（README 里有它写的藏头诗）
  validation loss ≈4.43 nats/char against 5.63 for a bigram model; poems in simplified characters
  whose even lines rhyme (README: an acrostic it wrote)
"""
import common  # first: from here on every fault ends in one clear message (common/errors.py)

import time
from functools import partial
from pathlib import Path

import numpy as np

from common import fail
from common.poems import (build_vocab, form_list, load_related, pack, read_text_corpus, regular_tang_poems,
                          related_table, save_related, split_poems, theme_characters, to_simplified_converter,
                          vocab_fingerprint)

# The recipe: every knob of the default run, with why. The flags below default to these values.
HYP = dict(
    embedding=256,    # numbers per character, also the width of the narrow layer before the output
    units=512,        # the GRU's memory of the poem so far: the biggest share of each step's work
    layers=1,         # one GRU layer; a second one roughly doubles the recurrent work of a step
    dropout=0.2,      # a fifth of the activations dropped while training: none can be relied on alone
    tied=True,        # one character table to read and to predict with: fewer weights, rare characters learn twice
    head=1500,        # two-level softmax: the 1,500 commonest characters (91% of the text) first, the rest only when needed
    lr=1e-2,          # Adam's peak learning rate: in 5 epochs 3e-3 and 6e-3 end at 4.76 and 4.51, not 4.43; 2e-2 fell behind
    warmup=0.25,      # the first quarter epoch climbs from lr/10 to lr (early steps are noisy); then cosine to 0
    clipnorm=1.0,     # a longer gradient is shortened to this length: RNN gradients can explode
    batch_size=256,   # sequences per step: steadier gradients, fewer (costly) steps
    seq_len=64,       # characters per sequence: longer than any quatrain (26 or 34 with its markers)
    epochs=5,         # passes over the training poems: about 14 minutes on a 2-core CPU
    precision="auto",  # bfloat16 arithmetic where the CPU has it (AVX512_BF16, AMX), else float32
    temperature=0.8,  # sampling: scores ÷ 0.8, so likely characters get likelier (safer lines)
    top_k=50,         # sampling: only the 50 likeliest characters can be drawn, never a freak one
)

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
parser.add_argument("--epochs", type=common.positive_float, default=HYP["epochs"],
                    help="训练轮数：把全部训练诗过几遍（可以是小数） / passes over the training poems (may be a fraction)")
parser.add_argument("--minutes", type=common.positive_float, default=None,
                    help="训练这么多分钟后停下并保存（默认不限） / stop (and save) after this many minutes (default: no limit)")
parser.add_argument("--batch-size", type=common.positive_int, default=HYP["batch_size"],
                    help="每步训练的序列数 / training sequences per step")
parser.add_argument("--seq-len", type=common.positive_int, default=HYP["seq_len"],
                    help="每条训练序列的字数 / characters per training sequence")
parser.add_argument("--units", type=common.positive_int, default=HYP["units"], help="GRU 单元数 / GRU units")
parser.add_argument("--embedding", type=common.positive_int, default=HYP["embedding"],
                    help="每个字的向量长度 / width of a character's vector")
parser.add_argument("--layers", type=common.positive_int, default=HYP["layers"], help="GRU 层数 / GRU layers")
parser.add_argument("--dropout", type=common.dropout_share, default=HYP["dropout"],
                    help="训练时（层与层之间）随机丢掉的激活比例 / "
                         "share of activations dropped while training (between layers)")
parser.add_argument("--untied", dest="tied", action="store_false", default=HYP["tied"],
                    help="输出层另用一张表，不和输入的字向量表共用 / "
                         "a separate output table instead of scoring against the input embedding")
parser.add_argument("--head", type=common.positive_int, default=HYP["head"],
                    help="最常见的这么多个字直接打分，其余的字走第二级 softmax（≥ 字表大小：普通的一级 softmax）/ "
                         "the commonest N characters are scored directly, the rest through a second-level "
                         "softmax (≥ the vocabulary size: a plain one-level softmax)")
parser.add_argument("--lr", type=common.positive_float, default=HYP["lr"], help="Adam 的最高学习率 / peak Adam learning rate")
parser.add_argument("--sample-every", type=common.positive_int, default=150,
                    help="每 N 步打印损失和一首示例诗 / print losses and a sample every N steps")
parser.add_argument("--fresh", action="store_true",
                    help="删掉旧检查点，从头训练 / delete old checkpoints and start over")
parser.add_argument("--jit", choices=["on", "off"], default="off",
                    help="用 XLA 编译训练步 / XLA-compile the training step")
parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default=HYP["precision"],
                    help="bfloat16：训练时用 16 位计算（权重仍是 32 位；要 CPU 支持 AVX512_BF16 或 AMX）；auto：CPU 支持就用 / "
                         "bfloat16: train in 16-bit arithmetic, weights kept in 32 (needs AVX512_BF16 or AMX on a CPU); "
                         "auto: where the CPU has it")
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
parser.add_argument("--theme", nargs="+", metavar="WORD",
                    help="主题：一两个词，如 --theme 秋夜 思乡（简繁皆可） / a theme: a word or two, e.g. --theme 秋夜 思乡")
parser.add_argument("--temperature", type=common.positive_float, default=HYP["temperature"],
                    help="温度：< 1 选得更稳，> 1 更放飞 / < 1: safer choices, > 1: wilder")
parser.add_argument("--top-k", type=common.nonnegative_int, default=HYP["top_k"],
                    help="只在最可能的 k 个字里抽（0：全部） / sample only among the k likeliest characters (0: all)")
parser.add_argument("--script", choices=["simplified", "traditional"], default="simplified",
                    help="用简体或繁体打印诗；输入哪种都行 / "
                         "print poems in simplified or traditional characters; input may be either")
parser.add_argument("--no-rhyme", dest="rhyme", action="store_false",
                    help="不让第 2、4……句押韵（中华新韵，平声） / do not make lines 2, 4, ... rhyme (中华新韵, level tone)")
parser.add_argument("--repeats", action="store_true",
                    help="允许一句里同一个字出现两次 / allow a character twice in one line")
parser.add_argument("--export", action="store_true",
                    help="把训练好的模型导出给应用程序：SavedModel（TF Serving）和 LiteRT，输入一串字、输出下一个字的概率 / "
                         "export the trained model for applications: a SavedModel (TF Serving) and LiteRT, "
                         "characters so far in, the next character's probabilities out")
parser.add_argument("--evaluate", action="store_true",
                    help="评估保存的模型（见 README） / measure the saved model (see README)")
common.add_common_args(parser)
args = common.parse_args(parser)
args.start, args.acrostic = common.argv_text(args.start), common.argv_text(args.acrostic)
args.theme = args.theme and [common.argv_text(word) for word in args.theme]
if (args.start or args.acrostic or args.theme) and not args.generate:
    args.generate = 1  # asking for a first character or a theme means: write a poem
hyp = {key: getattr(args, key, value) for key, value in HYP.items()}  # the recipe, as the flags changed it
training = not (args.generate or args.evaluate or args.export)  # else sections 6-9 use the model an earlier run trained

# TensorFlow comes after the flags (--help and typos answer at once), minus its start-up noise.
common.load_tensorflow_quietly()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from common.poem_writer import (CONFIG_FILE, VOCAB_FILE, evaluate, export_model, load_poem_model,  # noqa: E402
                                network_sizes, read_config, related_for, show, start_characters, write_on_theme,
                                write_poems)

common.set_seed(args.seed)
train_dir = Path(args.train_dir or common.SCRIPTS_DIR / "outputs" / "poem_rnn")


# %% 1. 准备数据 / Corpus: regular 5/7-character poems (or your text), a fixed validation split
def load_corpus(corpus, data_dir, forms, max_poems):
    poems = read_text_corpus(corpus) if corpus else regular_tang_poems(data_dir, forms)
    return split_poems(poems, max_poems)


if training:
    train_poems, valid_poems = load_corpus(args.corpus, args.data_dir, args.forms, args.max_poems)
    run = common.ResumableRun(train_dir, fresh=args.fresh, run_files=[VOCAB_FILE, CONFIG_FILE])
    vocab = build_vocab(train_poems)  # the special tokens, then every character, most frequent first
    config = dict(vocab_size=len(vocab), vocab_fingerprint=vocab_fingerprint(vocab),
                  **{key: hyp[key] for key in ("units", "embedding", "layers", "dropout", "tied", "head")},
                  corpus=args.corpus or "tang", forms=",".join(map(str, args.forms)))
    if (train_dir / CONFIG_FILE).exists() and run.has_checkpoint():  # resume with the saved sizes, same vocabulary
        saved = read_config(train_dir)
        if saved["vocab_fingerprint"] != config["vocab_fingerprint"]:
            fail(f"这个文件夹里的模型用的是另一份字表 / the model in {train_dir} was trained with a different vocabulary ({saved['vocab_size']} "
                 f"characters, corpus {saved['corpus']}); this corpus gives {len(vocab)}. "
                 f"Use --fresh to start over or another --train-dir")
        config = saved
    # Poems with start/end markers, end to end, cut into rows; y is x moved on by one character.
    index = {ch: i for i, ch in enumerate(vocab)}
    x_train, y_train = pack(train_poems, index, hyp["seq_len"])
    x_valid, y_valid = pack(valid_poems, index, hyp["seq_len"])
    if len(x_train) < hyp["batch_size"] or len(x_valid) == 0:
        fail(f"语料太少 / corpus too small for --batch-size {hyp['batch_size']} and --seq-len {hyp['seq_len']}: "
             f"lower them or add poems")
    common.write_json(train_dir / VOCAB_FILE, vocab, indent=None)  # checked above: only now is anything written
    common.write_json(train_dir / CONFIG_FILE, config)
    steps_per_epoch = len(x_train) // hyp["batch_size"]
    total_steps = max(1, int(hyp["epochs"] * steps_per_epoch))
    print(f"训练集 {len(train_poems):,} 首诗（{x_train.size:,} 字），验证集 {len(valid_poems):,} 首；"
          f"字表 {len(vocab):,} 字；每轮 {steps_per_epoch} 步\n"
          f"  / {len(train_poems):,} training poems ({x_train.size:,} characters), {len(valid_poems):,} "
          f"validation poems; vocabulary {len(vocab):,}; {steps_per_epoch} steps per epoch")


# %% 2. 模型 / Model: characters → vectors → GRU → a probability for every possible next character
class HeadTailOutput(keras.layers.Layer):
    """Log-probabilities of every character through a two-level softmax, and the training loss.

    The vocabulary is sorted by frequency. Its first `head` characters and one extra "rare" entry
    share a softmax; a rarer character gets p(rare) × its share in a second softmax over the rare
    ones alone: exact, summing to 1. call(x, targets) gives each position's loss, −log p(the next
    character), and runs the second softmax only where the next character is rare (9% of the
    Tang poems' characters with head 1500): most of a flat softmax's work over 8,000 scores is
    skipped. Scores come from `embedding`'s table (weight tying) or a table of its own.
    """

    def __init__(self, vocab_size, head, embedding=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.head, self.embedding = vocab_size, min(head, vocab_size), embedding
        self.split = self.head < vocab_size  # else one plain softmax: no rare characters, no "rare" entry

    def build(self, input_shape):
        width = input_shape[-1]
        if self.embedding is None:
            self.table = self.add_weight(shape=(self.vocab_size, width), initializer="glorot_uniform", name="table")
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")
        if self.split:  # the "rare" entry's vector and bias
            self.rare = self.add_weight(shape=(width,), initializer="zeros", name="rare")
            self.rare_bias = self.add_weight(shape=(), initializer="zeros", name="rare_bias")

    def _table(self, dtype):
        return keras.ops.cast(self.table if self.embedding is None else self.embedding.embeddings, dtype)

    def _head_log_probs(self, x):  # [..., head + 1]: the head characters, then "rare" (if split)
        table, head = self._table(x.dtype), self.head
        scores = keras.ops.matmul(x, keras.ops.transpose(table[:head])) + keras.ops.cast(self.bias[:head], x.dtype)
        if self.split:
            rare = keras.ops.matmul(x, keras.ops.cast(self.rare, x.dtype)[:, None]) + keras.ops.cast(self.rare_bias, x.dtype)
            scores = keras.ops.concatenate([scores, rare], axis=-1)
        return tf.nn.log_softmax(tf.cast(scores, tf.float32))  # (float32 even under mixed bfloat16)

    def _tail_log_probs(self, x):  # [..., vocab - head]: each rare character's share among the rare ones
        scores = (keras.ops.matmul(x, keras.ops.transpose(self._table(x.dtype)[self.head:]))
                  + keras.ops.cast(self.bias[self.head:], x.dtype))
        return tf.nn.log_softmax(tf.cast(scores, tf.float32))

    def call(self, x, targets=None):
        head = self._head_log_probs(x)
        if targets is None:  # every character's log-probability (to choose the next one)
            if not self.split:
                return head
            return keras.ops.concatenate([head[..., :-1], head[..., -1:] + self._tail_log_probs(x)], axis=-1)
        targets = tf.cast(targets, tf.int32)
        loss = -tf.gather(head, tf.minimum(targets, self.head), batch_dims=len(targets.shape))
        if not self.split:
            return loss
        where = tf.where(targets >= self.head)  # only these positions pay for the second softmax
        tail = self._tail_log_probs(tf.gather_nd(x, where))
        tail_loss = -tf.gather(tail, tf.gather_nd(targets, where) - self.head, batch_dims=1)
        return tf.tensor_scatter_nd_add(loss, where, tail_loss)  # per position: −log p(next character)

    def compute_output_shape(self, shape):
        return (*shape[:-1], self.vocab_size)


def build_model(vocab_size, embedding, units, layers=1, dropout=0.0, tied=True, head=1500):
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
    # Log-probabilities of every character: the commonest `head` directly, the rare ones through a
    # second softmax that training runs only where one comes next. Tied: scored against the input table.
    log_probs = HeadTailOutput(vocab_size, head, embed if tied else None, name="scores")(x)
    return keras.Model(characters, log_probs, name="poem_gru")


if training:  # a resumed run keeps the sizes it was started with (config.json)
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if common.use_bfloat16(args.precision) else "float32")
    model = build_model(*network_sizes(config, train_dir))
    features, scores = keras.Model(model.input, model.get_layer("scores").input), model.get_layer("scores")

# %% 3. 损失与优化器 / Loss and optimizer
if training:
    # The loss: −log p(the next character), averaged; scores(x, targets) gives it position by position.
    # Adam, warm-up, then cosine decay; clipping tames exploding RNN gradients.
    warmup_steps = min(int(steps_per_epoch * hyp["warmup"]), total_steps // 2)  # (a short run: at most half)
    schedule = keras.optimizers.schedules.CosineDecay(hyp["lr"] / 10, total_steps - warmup_steps,
                                                      warmup_target=hyp["lr"], warmup_steps=warmup_steps)
    optimizer = keras.optimizers.Adam(schedule, clipnorm=hyp["clipnorm"])
    optimizer.build(model.trainable_variables)
    run.restore(optimizer, max_to_keep=2, model=model)  # resumes from the newest checkpoint, if any


# %% 4. 选字 / Choosing the next character: the model's scores → one character (samples and --generate)
def choose_character(scores, allowed, rng, temperature=0.8, top_k=50):
    """One character per row of scores (log-probabilities), drawn at random among the `allowed`
    ones (the form's rules in common/poem_writer.py decide which: no punctuation inside a line,
    the rhyme at its end, ...). The web app (10) writes its poems with this function too."""
    logits = scores.astype(np.float64) / temperature  # < 1: the likeliest get likelier; > 1: wilder
    logits[~np.broadcast_to(allowed, logits.shape)] = -np.inf  # probability 0
    if top_k:  # only the k best stay (all, where fewer are allowed): never a freak character
        kth = np.sort(logits, axis=1)[:, [-min(top_k, logits.shape[1])]]
        logits[logits < kth] = -np.inf
    p = np.exp(logits - logits.max(axis=1, keepdims=True))  # softmax: scores → probabilities
    p /= p.sum(axis=1, keepdims=True)
    return np.array([rng.choice(len(row), p=row) for row in p], dtype=np.int32)


choose = partial(choose_character, temperature=HYP["temperature"], top_k=HYP["top_k"])


def theme_bonus(plan, company, vocab_size, keyword_bonus=4.0, company_bonus=0.7):
    """--theme steers the choice by adding to the scores before choose_character draws: in line i
    its planned keyword plan[i] gets +keyword_bonus (e^4: 55 times likelier), the theme's company
    (characters that go with it in the training poems) +company_bonus (2 times) everywhere. A nudge,
    not an order: the model still writes what it finds fluent, and the form's rules still hold."""
    bonus = np.zeros((len(plan), vocab_size), np.float32)  # [lines, vocabulary]
    bonus[:, company] = company_bonus
    bonus[np.arange(len(plan)), plan] = keyword_bonus
    return bonus


# %% 5. 训练 / Training: random batches of rows; losses and a sample poem now and then (resumable)
if training:
    @tf.function(jit_compile=args.jit == "on")
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(scores(features(x, training=True), targets=y))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    @tf.function(jit_compile=args.jit == "on")
    def valid_loss_sum(x, y):
        return tf.reduce_sum(scores(features(x), targets=y))

    guard = common.NanGuard(hint="Try a lower --lr.")  # a NaN stops here (exit 1)
    rng = np.random.default_rng(args.seed)  # the batches' order and the samples' draws
    order, recent, last_print = rng.permutation(len(x_train)), [], time.time()  # (a resumed run may start mid-epoch)
    batch = hyp["batch_size"]
    while run.step < total_steps and not run.stop_requested(args.minutes):  # Ctrl-C, SIGTERM, --minutes
        position = run.step % steps_per_epoch
        if position == 0:
            order = rng.permutation(len(x_train))
        rows = order[position * batch:(position + 1) * batch]
        recent.append(float(train_step(x_train[rows], y_train[rows])))
        run.step += 1
        guard.check(run.step, recent[-1], rows=(position * batch, (position + 1) * batch))
        if run.step % args.sample_every == 0 or run.step == total_steps:
            chars_per_s = len(recent) * batch * hyp["seq_len"] / (time.time() - last_print)
            valid = sum(float(valid_loss_sum(x_valid[i:i + 256], y_valid[i:i + 256]))
                        for i in range(0, len(x_valid), 256)) / x_valid.size
            print(f"第 {run.step}/{total_steps} 步 / step，第 {run.step / steps_per_epoch:.2f} 轮 / epoch，"
                  f"{run.minutes:.1f} 分钟 / min，{chars_per_s:,.0f} 字/秒 / chars/s\n"
                  f"  训练损失 / train loss {np.mean(recent):.3f}，"
                  f"验证损失 / validation loss {valid:.3f} nats/char", flush=True)
            print("  示例 / sample: " + write_poems(model, vocab, 1, partial(choose, rng=rng))[0], flush=True)
            common.save_results("09_poem_rnn", common.output_dir(args.out_dir), step=run.step,
                                total_steps=total_steps, minutes=run.minutes, validation_loss=valid,
                                train_loss=float(np.mean(recent)), chars_per_second=chars_per_s, **config)
            recent, last_print = [], time.time()
            run.save(f"step {run.step}")
    interrupted = run.finish()
    export_model(model, train_dir)  # one .keras file that other programs (the web app, 10) load
    if config["corpus"] == "tang" and load_related(train_dir, vocab) is None:  # for --theme, once per vocabulary
        save_related(train_dir, *related_table(train_poems, vocab), vocab)  # which characters go together
    if interrupted:  # Ctrl-C or SIGTERM: saved; run again to resume
        raise SystemExit(run.exit_code)

# %% 6. 读取模型 / --generate, --evaluate: the model an earlier run trained (common/poem_writer.py)
if not training:
    trained = load_poem_model(train_dir, build_model)
    if trained is None:
        # Training takes about 14 minutes on a 2-core CPU: never start it by surprise.
        fail(f"还没有训练好的模型（{train_dir}）。先训练（2 核 CPU 约 14 分钟，Ctrl-C 会保存，再运行即可接着训练）：\n"
             f"  python 09_poem_rnn.py" + (f" --corpus {args.corpus}" if args.corpus else "")
             + (f" --train-dir {train_dir}" if args.train_dir else "") + "\n"
             f"no trained model in {train_dir} yet. Train one first with the command above (about "
             f"14 min on a 2-core CPU; Ctrl-C saves, running it again resumes), then ask for poems.")
    model, vocab, config = trained
    export_model(model, train_dir, only_if_stale=True)  # (a run stopped by a kill had no time to)
    # One compiled graph for every length of text so far: a poem in 0.2 s instead of 1.4 s (as in 10).
    model = tf.function(model, reduce_retracing=True)

# %% 7. 评估 / --evaluate: the model against a bigram baseline, and what its poems look like
if args.evaluate:  # the recipe's temperature and top-k, whatever the flags: figures comparable with README
    figures = evaluate(model, vocab, *load_corpus(args.corpus, args.data_dir, args.forms, args.max_poems),
                       partial(choose, rng=np.random.default_rng(args.seed)))
    common.save_results("09_poem_rnn_evaluate", common.output_dir(args.out_dir), **figures)

# %% 8. 写诗 / --generate: the model picks each character, common/poem_writer.py keeps the form
if args.generate:
    free = config["corpus"] != "tang"  # a --corpus model writes free text, until its end marker
    to_simplified = to_simplified_converter()
    starts = start_characters(vocab, args.start, args.acrostic, args.lines, to_simplified)
    lines = len(starts) if args.acrostic else args.lines
    rng = np.random.default_rng(args.seed)
    drawing = partial(choose, rng=rng, temperature=args.temperature, top_k=args.top_k)
    form = dict(form=args.form, lines=lines, starts=starts, rhyme=args.rhyme, repeats=args.repeats)
    if args.theme:  # several drafts per poem, each nudged by theme_bonus (section 4); the most fluent on theme is kept
        if free:
            fail("--theme 只用于唐诗模型（这个模型学的是 --corpus 的文字）/ --theme works with the Tang poems model "
                 "only (this one learned a --corpus text)")
        theme = theme_characters(args.theme, vocab, to_simplified)
        forms = form_list(config.get("forms", "5,7"))  # the poems it trained on, for a model from before --theme
        related = related_for(train_dir, vocab, lambda: load_corpus(None, args.data_dir, forms, None)[0])
        poems, _ = write_on_theme(model, vocab, args.generate, drawing, theme, related, theme_bonus, rng, **form)
    else:
        poems = write_poems(model, vocab, args.generate, drawing, free=free, **form)
    for i, poem in enumerate(poems, 1):
        poem = to_simplified(poem) if args.script == "simplified" else poem  # the model writes as it read
        print(f"\n[{i}]\n" + (poem if free else show(poem)))

# %% 9. 带走模型 / --export: an application feeds "<s>" and the poem so far, gets the next character's
#    probabilities and chooses as section 4 does (the choosing and the form's rules stay in its own code)
if args.export:
    from common.poem_writer import export_for_apps
    export_dir = common.output_dir(args.out_dir) / "poem_export"
    # The SavedModel reads the whole text; the LiteRT file one character per call, with the GRU's state.
    kb, difference = export_for_apps(train_dir, export_dir, test_text="床前明月光")
    print(f"导出 / exported to {export_dir}: saved_model/poem/1/ (整段文字 / a whole text), poem.tflite "
          f"（一次一个字 / one character per call, {kb:,.0f} KB）, vocab.json\n"
          f"  LiteRT 一个字一个字地读，和 Keras 读整段的概率最多差 / LiteRT character by character vs Keras on "
          f"the whole text, largest difference in probability: {difference:.1e}")
