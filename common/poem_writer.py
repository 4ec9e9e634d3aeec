"""Writing poems with 09's trained model: loading a train dir, the form and rhyme rules, --evaluate.

09 trains the model; this is what 09's --generate / --evaluate and the web app (10) share: the
form's rules, loading a trained model. (The sampler, choose(scores, allowed), is 09's own.) It imports TensorFlow: import it after the flags.
"""
import collections
import json
import re
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import checkpoints
from .errors import fail
from .files import load_keras_model, save_keras_model
from .poems import (BOS, EOS, PUNCTUATION, SPECIALS, UNK, bigram_baseline, encode, even_lines_rhyme,
                    first_line_rhymes, inline_repeat, load_related, quatrain_lines, related_table, repeated_rhyme,
                    rhyme_table, save_related, simplified_to_vocab, vocab_fingerprint)
from .utils import display_width

VOCAB_FILE, CONFIG_FILE = "vocab.json", "config.json"  # beside the checkpoints in a train dir
EXPORT_FILE = "poem_model.keras"  # the trained network as one file: loads without 09's code
MARKS = PUNCTUATION + "？！；：、"  # punctuation a corpus may hold: never inside a line of a Tang poem


# ---------------------------------------------------------------- a trained model
def read_config(train_dir):
    """config.json of a train dir: the network's sizes, the vocabulary's fingerprint, the corpus."""
    path = Path(train_dir) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        config["vocab_fingerprint"], config["vocab_size"], config["corpus"], config["units"]  # noqa: B018
        return config
    except (OSError, ValueError, KeyError, TypeError) as error:
        fail(f"{path} 已损坏 / is damaged ({type(error).__name__}); train again with --fresh")


def read_vocab(train_dir):
    """vocab.json of a train dir, refused unless it is the vocabulary config.json describes."""
    vocab_path, config = Path(train_dir) / VOCAB_FILE, read_config(train_dir)
    try:
        vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        matches = vocab_fingerprint(vocab) == config["vocab_fingerprint"] and len(vocab) == config["vocab_size"]
    except (ValueError, TypeError) as error:
        fail(f"{vocab_path} 已损坏 / is damaged ({type(error).__name__}); train again with --fresh")
    if not matches:
        fail(f"字表和模型不匹配 / {vocab_path} does not belong to the model in {train_dir} (different vocabulary); "
             f"train again with --fresh, or use the --train-dir it was saved with")
    return vocab


def network_sizes(config, train_dir):
    """build_model's arguments from a config.json, in order; a model of an older 09 is refused."""
    if "head" not in config:  # before 2026-12-02: one flat softmax, a network this code no longer builds
        fail(f"{train_dir} 里的模型是旧版 09 训练的 / the model in {train_dir} was trained by an older 09 "
             f"(one flat softmax): train again with --fresh")
    return [config[key] for key in ("vocab_size", "embedding", "units", "layers", "dropout", "tied", "head")]


def load_poem_model(train_dir, build_model):
    """(model, vocabulary, config) from the newest checkpoint in train_dir, or None if there is none.

    build_model(vocab_size, embedding, units, layers, dropout, tied, head) makes the empty network (09's);
    a vocabulary or checkpoint that does not belong to the config is refused, never half loaded."""
    train_dir = Path(train_dir)
    vocab_path = train_dir / VOCAB_FILE
    checkpoints.remove_unfinished(train_dir)
    latest = tf.train.latest_checkpoint(str(train_dir))
    if not (vocab_path.exists() and (train_dir / CONFIG_FILE).exists() and latest):
        return None
    config, vocab = read_config(train_dir), read_vocab(train_dir)
    model = build_model(*network_sizes(config, train_dir))
    checkpoints.restore_every_weight(tf.train.Checkpoint(model=model), latest, "train again with --fresh", partial=True)
    return model, vocab, config


def export_model(model, train_dir, only_if_stale=False):
    """Save the network as EXPORT_FILE in float32 and of Keras's own layers only, so that it loads
    in any Python with Keras (no code of this project) and gives the same log-probabilities.

    The two-level softmax (HeadTailOutput) becomes Dense, Add, Concatenate and log_softmax layers:
    log p = log_softmax([head scores, rare score + log_softmax(tail scores)]) is exactly the
    layer's head/tail split (the "rare" entry's share is spread over the rare characters)."""
    path, latest = Path(train_dir) / EXPORT_FILE, tf.train.latest_checkpoint(str(train_dir))
    if only_if_stale and path.exists() and latest and path.stat().st_mtime >= Path(latest + ".index").stat().st_mtime:
        return
    scores = model.get_layer("scores")  # HeadTailOutput
    features = keras.Model(model.input, scores.input)

    def clone(layer):  # in float32, also after training in bfloat16
        config = layer.get_config()
        if not isinstance(layer, keras.layers.InputLayer):
            config["dtype"] = "float32"
        return layer.__class__.from_config(config)
    copy = keras.models.clone_model(features, clone_function=clone)
    for old, new in zip(features.layers, copy.layers):
        new.set_weights(old.get_weights())
    numbers = lambda weight: np.asarray(keras.ops.convert_to_numpy(weight), "float32")  # noqa: E731
    table, bias, head, x = numbers(scores._table("float32")), numbers(scores.bias), scores.head, copy.output

    def dense(units, name, kernel, constant):  # a Dense layer on the features, holding these weights
        layer = keras.layers.Dense(units, name=name, dtype="float32")
        answer = layer(x)
        layer.set_weights([kernel, constant])
        return answer
    if not scores.split:  # one plain softmax
        joined = dense(scores.vocab_size, "scores", table.T, bias)
    else:
        rare_score = dense(1, "rare_score", numbers(scores.rare)[:, None], numbers(scores.rare_bias)[None])
        tail_log_probs = keras.layers.Activation("log_softmax", dtype="float32")(
            dense(scores.vocab_size - head, "tail_scores", table[head:].T, bias[head:]))
        rare_scores = keras.layers.Add(dtype="float32")([rare_score, tail_log_probs])  # (Add broadcasts rare_score)
        joined = keras.layers.Concatenate(dtype="float32")([dense(head, "head_scores", table[:head].T, bias[:head]),
                                                            rare_scores])
    log_probs = keras.layers.Activation("log_softmax", name="log_probabilities", dtype="float32")(joined)
    save_keras_model(keras.Model(copy.input, log_probs, name=model.name), path)


def step_model(network):
    """EXPORT_FILE's network one character at a time, for LiteRT: a character and each GRU layer's
    state in, the next character's probabilities and the new states out. (LiteRT's own operations
    cannot run a GRU over a text of any length: the converter stops at TensorFlow's TensorList ops,
    which would need the larger Select-TF-ops runtime. One step has no loop.)"""
    grus = [layer for layer in network.layers if isinstance(layer, keras.layers.GRU)]
    embed = next(layer for layer in network.layers if isinstance(layer, keras.layers.Embedding))
    projection = next(layer for layer in network.layers[network.layers.index(grus[-1]):]
                      if isinstance(layer, keras.layers.Dense))  # GRU units → embedding width
    head = keras.Model(projection.output, network.output)  # from there to the log-probabilities
    character = keras.Input((1,), dtype="int32", name="character")
    states = [keras.Input((gru.units,), name=f"state_{i}") for i, gru in enumerate(grus, 1)]
    x, new_states = embed(character), []
    for gru, state in zip(grus, states):
        one_step = keras.layers.GRU.from_config({**gru.get_config(), "return_sequences": True, "return_state": True,
                                                 "unroll": True, "name": f"{gru.name}_step"})  # (the same settings)
        x, new_state = one_step(x, initial_state=state)
        one_step.set_weights(gru.get_weights())
        new_states.append(new_state)
    probabilities = keras.ops.exp(head(projection(x))[:, -1])
    return keras.Model([character, *states], [probabilities, *new_states], name="next_character_step")


def load_exported_model(train_dir):
    """(model, vocabulary, config) from the EXPORT_FILE a training run wrote, or None (for apps)."""
    train_dir = Path(train_dir)
    if not all((train_dir / name).exists() for name in (EXPORT_FILE, VOCAB_FILE, CONFIG_FILE)):
        return None
    config, vocab = read_config(train_dir), read_vocab(train_dir)
    model = load_keras_model(train_dir / EXPORT_FILE, f"删掉它，再用 python 09_poem_rnn.py --generate 1 --train-dir {train_dir} "
                             f"重新写出 / delete it and run python 09_poem_rnn.py --generate 1 --train-dir {train_dir} "
                             f"to write it again")
    return model, vocab, config


# ---------------------------------------------------------------- writing poems
def write_poems(model, vocab, n, choose, form=5, lines=4, starts=None, free=False, max_len=200, rhyme=True,
                repeats=False, bonus=None):
    """Write n poems side by side, one character at a time: the model scores every next character and
    choose(scores, allowed) picks one per poem among the `allowed` ones (a poems × vocabulary mask).

    Tang (free=False): exact form; this code, not the model, puts "，" and "。" at the ends of lines.
    rhyme: lines 2, 4, ... (and line 1 of a 7-character poem, as in most real ones) end on a
    level-tone character of one rhyme group (中华新韵), chosen by the model among those, never the
    same character twice. repeats=False: no character twice in a line, except a doubling (雙雙).
    starts: the forced first character of each line (or None). free=True (a --corpus model):
    anything but the special tokens, until the end marker or max_len characters.
    bonus: [n, lines, vocabulary] added to the model's scores before choosing (09's theme_bonus), except
    to a character its line already has (a nudged 秋 would come back as 秋秋)."""
    index = {ch: i for i, ch in enumerate(vocab)}
    banned = np.zeros(len(vocab), dtype=bool)
    banned[[index[s] for s in SPECIALS]] = True
    for mark in MARKS:
        if mark in index:
            banned[index[mark]] = True  # inside a line: characters only
    tokens = np.full((n, 1), index[BOS], dtype=np.int32)

    def pick(allowed, line=0, in_line=None):  # the model's scores for the character after `tokens`, and 09's choice
        scores = model(tokens, training=False)[:, -1, :].numpy()
        if bonus is None:
            return choose(scores, allowed)
        nudge = bonus[:, line].copy()
        if in_line is not None:  # no nudge for a character the line already has: 秋 once, not 秋秋
            np.put_along_axis(nudge, in_line, 0.0, axis=1)
        return choose(scores + nudge, allowed)

    if free:  # a --corpus model: run until the end marker (or the cap), never forever
        if starts and starts[0] is not None:
            tokens = np.concatenate([tokens, np.full((n, 1), index[starts[0]], np.int32)], axis=1)
        allowed = ~banned.copy()
        allowed[index[EOS]] = True
        for ch in MARKS:
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
            chosen = pick(allowed, line, tokens[:, line_start:])
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
    """'床前明月光，疑是地上霜。举头…' → two lines a row, as poems are printed."""
    lines = re.findall(r"[^，。]+[，。]", poem)
    return "\n".join(lines[i] + (lines[i + 1] if i + 1 < len(lines) else "") for i in range(0, len(lines), 2))


# ---------------------------------------------------------------- --evaluate
def evaluate(model, vocab, train_poems, valid_poems, choose):
    """Print the model's loss against a bigram baseline, and how its 绝句 compare with the corpus'."""
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
        poems += write_poems(model, vocab, 100, choose, form=form, lines=4)
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
    column = max(display_width(f"{zh} / {en}") for _, zh, en in rows) + 2
    for key, zh, en in rows:
        label = f"{zh} / {en}"
        compared = (f"   语料 / corpus {percent(theirs[key])}" if key in theirs
                    else "   （目标 / target < 5%）" if key == "copied" else "")
        print(f"  {label}{' ' * (column - display_width(label))}{percent(ours[key])}{compared}")
    return dict(validation_loss=model_loss, bigram_loss=bigram, copied_lines=ours["copied"],
                repeated_line_poems=ours["repeated_line"], generated=ours, corpus=theirs)


# ---------------------------------------------------------------- 09 --export
def export_for_apps(train_dir, export_dir, test_text):
    """EXPORT_FILE as a SavedModel (the whole text so far in, the next character's probabilities
    out) and a LiteRT file (one character and the GRU states in per call), with vocab.json. Reads
    `test_text` through LiteRT one character at a time, as a phone app would, and compares with
    Keras on the whole text: returns (the .tflite file's KB, the largest difference in probability)."""
    from .export import export_for_apps as write_formats, litert_predict
    from .files import write_json
    network, vocab, _ = load_exported_model(train_dir)  # poem_model.keras: Keras's own layers only
    characters = keras.Input((None,), dtype="int32", name="characters")  # vocabulary numbers, "<s>" first
    app_model = keras.Model(characters, keras.ops.exp(network(characters)[:, -1]), name="next_character")
    files = write_formats(app_model, export_dir, "poem", litert_model=step_model(network))
    write_json(Path(export_dir) / "vocab.json", vocab)  # number → character: the model's own list
    text = [vocab.index(BOS)] + [vocab.index(ch) for ch in test_text if ch in vocab]
    grus = [layer for layer in network.layers if isinstance(layer, keras.layers.GRU)]
    states = {f"state_{i}": np.zeros((1, gru.units), np.float32) for i, gru in enumerate(grus, 1)}  # "nothing read yet"
    for number in text:  # one call per character, the state carried along
        answer = litert_predict(files["poem.tflite"], {"character": np.array([[number]], np.int32), **states})
        states = {name: answer[f"output_{i}"] for i, name in enumerate(states, 1)}
    difference = np.abs(answer["output_0"] - app_model(np.array([text], np.int32)).numpy()).max()
    return len(files["poem.tflite"]) / 1024, float(difference)


# ---------------------------------------------------------------- 09 --theme
def related_for(train_dir, vocab, corpus_poems=None):
    """The related-characters table (poems.related_table) that training saved beside the model. A
    model trained before --theme has none: built from corpus_poems() and saved (about 10 s), or None
    when corpus_poems is not given (the web app)."""
    related = load_related(train_dir, vocab)
    if related is None and corpus_poems is not None:
        print("第一次用主题：从训练诗里统计哪些字常在一起（约 10 秒）/ first theme: counting which characters "
              "go together in the training poems (about 10 s)", flush=True)
        related = related_table(corpus_poems(), vocab)
        save_related(train_dir, *related, vocab)
    return related


def plan_theme(theme, related, lines, rng, company_size=24):
    """(one keyword per line, the theme's company), as vocabulary numbers. The company: the
    characters that go with the theme's characters in the training poems, ranked by their PMI
    summed over the theme (one that goes with several comes first). The plan: the theme's own
    characters, then company drawn at random (likelier the higher it ranks), in a random order."""
    numbers, scores = related
    together = collections.Counter()
    for character in theme:
        for other, pmi in zip(numbers[character], scores[character]):
            if other >= 0 and other not in theme:
                together[int(other)] += float(pmi)
    company = [character for character, _ in together.most_common(company_size)]
    plan = list(theme)[:lines]
    if company and len(plan) < lines:
        weight = np.array([together[c] for c in company])
        plan += [company[i] for i in rng.choice(len(company), min(lines - len(plan), len(company)), replace=False,
                                                 p=weight / weight.sum())]
    plan += [plan[i % len(plan)] for i in range(lines - len(plan))]  # a theme with little company: again
    return [plan[i] for i in rng.permutation(lines)], list(theme) + company


def mean_log_likelihood(model, vocab, poems):
    """Each poem's mean log-probability per character under the model, its punctuation (which the
    form's rules put in place) left out: how fluent the model finds what was written."""
    index = {ch: i for i, ch in enumerate(vocab)}
    marks = [index[mark] for mark in MARKS if mark in index]
    tokens = np.array([encode(poem, index)[:-1] for poem in poems], np.int32)  # (no end marker: not scored)
    log_p = np.asarray(model(tokens[:, :-1], training=False))  # (poems of one form: one length)
    chosen = np.take_along_axis(log_p, tokens[:, 1:, None].astype(np.int64), axis=2)[..., 0]
    return np.array([row[~np.isin(ids, marks)].mean() for row, ids in zip(chosen, tokens[:, 1:])])


def write_on_theme(model, vocab, n, choose, theme, related, bonus_of, rng, candidates=4, coverage_weight=0.5,
                   **form):
    """n poems on a theme (vocabulary numbers): for each, `candidates` drafts, each with its own plan
    (plan_theme) turned into a bonus on the model's scores by bonus_of(plan, company, vocabulary
    size) (09's theme_bonus); the draft kept has the best mean log-likelihood (fluency, about −4 to
    −6 nats) plus coverage_weight × the share of its plan it used (coverage, 0 to 1).
    Returns (the poems, each one's plan)."""
    lines = len(form["starts"]) if form.get("starts") else form.get("lines", 4)
    plans = [plan_theme(theme, related, lines, rng) for _ in range(n * candidates)]
    bonus = np.stack([bonus_of(plan, company, len(vocab)) for plan, company in plans])
    drafts = write_poems(model, vocab, n * candidates, choose, bonus=bonus, **form)
    used = np.array([np.mean([vocab[k] in draft for k in set(plan)]) for draft, (plan, _) in zip(drafts, plans)])
    best = (mean_log_likelihood(model, vocab, drafts) + coverage_weight * used).reshape(n, candidates).argmax(axis=1)
    kept = [i * candidates + best[i] for i in range(n)]
    return [drafts[i] for i in kept], [plans[i][0] for i in kept]
