"""Poem corpora for 09: cleaning the Tang poems, reading a text corpus, the vocabulary, packing.

Everything here is data handling, without TensorFlow; the lesson (model, training, choosing each
character) stays in 09, and writing whole poems with a trained model is in poem_writer.py.
"""
import argparse
import collections
import functools
import hashlib
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from .datasets import load_tang_poems
from .errors import fail

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = [PAD, BOS, EOS, UNK]
PUNCTUATION = "，。"
_DAMAGED = re.compile(r"[□■○●◎〇{}\[\]()（）《》〈〉「」『』【】〔〕_<>|/\\\-0-9a-zA-Z]")
_NOT_HANZI = re.compile(r"[^\u3400-\u9fff\U00020000-\U0002ffff]")


def form_list(text):
    """--forms 5,7 → [5, 7] (an argparse type: a bad value is a usage error)"""
    try:
        forms = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为逗号分隔的整数 / expected numbers like 5,7, got {text!r}") from None
    if not forms or forms[0] < 1:
        raise argparse.ArgumentTypeError(f"每行字数必须是正整数 / line lengths must be positive, got {text!r}")
    return forms


def regular_tang_poems(data_dir, forms):
    """Regular Tang poems as strings like '床前明月光，疑是地上霜。...' (only ，and 。 inside):
    an even number of lines, all of one length in `forms`, nothing but Chinese characters."""
    keep = []
    for poem in load_tang_poems(data_dir):
        text = "".join(poem.get("paragraphs") or [])
        if not text or _DAMAGED.search(text) or not text.endswith("。"):
            continue
        lines = re.split(r"[，。]", text)[:-1]
        if len(lines) < 2 or len(lines) % 2 or len({len(line) for line in lines}) != 1 or len(lines[0]) not in forms:
            continue
        if any(not line or _NOT_HANZI.search(line) for line in lines):
            continue
        keep.append(text)
    return keep


def read_text_corpus(path):
    """A UTF-8 text file, one poem or passage per line."""
    path = Path(path)
    if path.is_dir():
        fail(f"--corpus {path} 是文件夹；请给一个文本文件（每行一首诗）/ is a folder: give one text file, "
             f"one poem or passage per line")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        fail(f"找不到语料文件 / corpus file not found: {path}")
    except UnicodeDecodeError:
        fail(f"{path} 不是 UTF-8 编码（GBK？请用 UTF-8 另存）/ is not UTF-8 text; save it as UTF-8 "
             f"(GBK files: re-save with UTF-8 encoding)")
    poems = [line.strip() for line in text.splitlines() if line.strip()]
    if not poems:
        fail(f"语料是空的 / {path} has no non-empty lines")
    return poems


def split_poems(poems, max_poems=None, valid_share=0.02):
    """(training poems, validation poems): a fixed split, whatever --seed."""
    poems = poems[:max_poems]
    if len(poems) < 2:
        fail("语料里可用的诗少于 2 首 / the corpus has fewer than 2 usable poems")
    order = np.random.default_rng(0).permutation(len(poems))
    n_valid = max(1, int(valid_share * len(poems)))
    return [poems[i] for i in order[n_valid:]], [poems[i] for i in order[:n_valid]]


def build_vocab(poems):
    """The special tokens, then every character, most frequent first."""
    counts = collections.Counter(ch for poem in poems for ch in poem)
    return SPECIALS + [ch for ch, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def vocab_fingerprint(vocab):
    return hashlib.sha256("\n".join(vocab).encode("utf-8")).hexdigest()[:16]


def encode(poem, index):
    unk = index[UNK]
    return [index[BOS]] + [index.get(ch, unk) for ch in poem] + [index[EOS]]


def pack(poems, index, seq_len):
    """Poems with start/end markers, end to end, cut into (input, next-character) rows: no padding."""
    stream = np.fromiter((t for poem in poems for t in encode(poem, index)), dtype=np.int32)
    n = (len(stream) - 1) // seq_len
    return stream[:n * seq_len].reshape(n, seq_len), stream[1:n * seq_len + 1].reshape(n, seq_len)


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


# ---------------------------------------------------------------- rhyme (中华新韵, 14 groups)
# 中华新韵 (十四韵, 中华诗词学会): finals by modern Mandarin pronunciation, as pypinyin spells them
# (strict: ü is "v", wei/gui is "uei", you/liu is "iou", wen/dun is "uen"). Level tone (平声) is
# tone 1 or 2 (阴平, 阳平). -i after zh ch sh r z c s is its own group 支; other i is 齐.
RHYME_GROUPS = {
    "麻": "a ia ua", "波": "o e uo", "皆": "ie ve", "开": "ai uai", "微": "ei uei", "豪": "ao iao",
    "尤": "ou iou", "寒": "an ian uan van", "文": "en in uen vn", "唐": "ang iang uang",
    "庚": "eng ing ueng ong iong", "齐": "i er v", "姑": "u",
}
_FINAL_TO_GROUP = {final: group for group, finals in RHYME_GROUPS.items() for final in finals.split()}
_APICAL_INITIALS = {"zh", "ch", "sh", "r", "z", "c", "s"}


@functools.lru_cache(maxsize=None)  # a few thousand characters, asked for again and again
def rhyme_of(character):
    """(rhyme group, is level tone) of a character's usual modern reading, or (None, False)."""
    from pypinyin import Style, pinyin
    final = pinyin(character, style=Style.FINALS_TONE3, strict=True, errors=lambda _: [""])[0][0]
    initial = pinyin(character, style=Style.INITIALS, strict=True, errors=lambda _: [""])[0][0]
    tone = final[-1:] if final[-1:].isdigit() else "5"
    final = final.rstrip("012345")
    group = "支" if final == "i" and initial in _APICAL_INITIALS else _FINAL_TO_GROUP.get(final)
    return group, group is not None and tone in "12"


def rhyme_table(vocab):
    """For every vocabulary entry: its rhyme group's number (-1 if none) and whether it is level tone."""
    groups = list(RHYME_GROUPS) + ["支"]
    numbers, level = np.full(len(vocab), -1), np.zeros(len(vocab), dtype=bool)
    for i, ch in enumerate(vocab):
        if ch in SPECIALS or ch in PUNCTUATION:
            continue
        group, is_level = rhyme_of(ch)
        if group is not None:
            numbers[i], level[i] = groups.index(group), is_level
    return numbers, level


def quatrain_lines(poem):
    """'床前明月光，疑是地上霜。...' → ['床前明月光', '疑是地上霜', ...]"""
    return [line for line in re.split(r"[，。]", poem) if line]


def even_lines_rhyme(lines):
    """Do lines 2, 4, ... all end on characters of one rhyme group (as the table reads them)?"""
    groups = {rhyme_of(line[-1])[0] for line in lines[1::2]}
    return len(groups) == 1 and None not in groups


def first_line_rhymes(lines):
    """Does line 1 end in line 2's rhyme group too (首句入韵, usual in 7-character poems)?"""
    group = rhyme_of(lines[1][-1])[0]
    return group is not None and rhyme_of(lines[0][-1])[0] == group


def repeated_rhyme(lines):
    """Do two of lines 2, 4, ... end on the same character (重韵, avoided in regular verse)?"""
    ends = [line[-1] for line in lines[1::2]]
    return len(set(ends)) < len(ends)


def inline_repeat(line):
    """A character used twice in a line, other than a reduplication such as 雙雙 (AA)."""
    seen = set()
    for i, ch in enumerate(line):
        if ch in seen and not (i > 0 and line[i - 1] == ch):
            return True
        seen.add(ch)
    return False


# ---------------------------------------------------------------- simplified ↔ traditional
def to_simplified_converter():
    """OpenCC's traditional → simplified conversion, as a function of a string (the model writes
    traditional characters; printing them as written is --script traditional, so s2t is never needed)."""
    import opencc
    return opencc.OpenCC("t2s").convert


def simplified_to_vocab(vocab, to_simplified):
    """Simplified character → the most frequent vocabulary character that simplifies to it.

    One simplified character can stand for several traditional ones (发: 發 and 髮); the vocabulary
    is sorted by frequency, so the first match is the commonest. Characters already in the
    vocabulary map to themselves."""
    mapping = {}
    for ch in vocab:
        if ch in SPECIALS:
            continue
        mapping.setdefault(ch, ch)
        simple = to_simplified(ch)
        if len(simple) == 1:
            mapping.setdefault(simple, ch)
    return mapping


# ---------------------------------------------------------------- themes (09 --theme)
RELATED_FILE = "related.npz"  # beside the checkpoints: which characters go together in the training poems
MAX_THEME_CHARACTERS = 8


def related_table(poems, vocab, per_character=40, min_poems=None, min_together=None):
    """For each vocabulary character, up to `per_character` others that share a poem with it more
    often than chance: by pointwise mutual information over poems (each poem counts a pair once),
    PMI = log(P(both in a poem) / (P(one) · P(other))). Returns (numbers [V, k] int32, -1 where
    there are fewer; PMI [V, k] float32). Characters in fewer than `min_poems` poems, and pairs
    seen together fewer than `min_together` times, take no part: their counts are mostly chance
    (defaults: 20 and 5 for the 46,000 Tang poems, less for fewer)."""
    min_poems = min_poems or int(np.clip(len(poems) // 2000, 2, 20))
    min_together = min_together or int(np.clip(len(poems) // 8000, 2, 5))
    index = {ch: i for i, ch in enumerate(vocab)}
    ignored = {index[ch] for ch in SPECIALS + list(PUNCTUATION) if ch in index}
    per_poem = [np.unique([index[ch] for ch in poem if ch in index and index[ch] not in ignored]) for poem in poems]
    in_poems = np.bincount(np.concatenate(per_poem + [np.zeros(0, np.int64)]).astype(np.int64), minlength=len(vocab))
    kept = np.flatnonzero(in_poems >= min_poems)  # the characters with enough poems, renumbered 0..m-1
    local = np.full(len(vocab), -1)
    local[kept] = np.arange(len(kept))
    m = len(kept)
    together = np.zeros(m * m, np.int64)
    for start in range(0, len(per_poem), 4096):  # every pair of characters in a poem, counted in chunks
        pairs = []
        for ids in per_poem[start:start + 4096]:
            ids = local[ids][local[ids] >= 0]
            pairs.append((ids[:, None] * m + ids[None, :]).ravel())
        together += np.bincount(np.concatenate(pairs + [np.zeros(0, np.int64)]), minlength=m * m)
    together = together.reshape(m, m).astype(np.float64)
    np.fill_diagonal(together, 0)
    counts = in_poems[kept].astype(np.float64)
    with np.errstate(divide="ignore"):
        pmi = np.log(together * len(poems) / np.outer(counts, counts))
    pmi[together < min_together] = -np.inf
    # Ranked by PMI × pairs seen (local mutual information): PMI alone prefers rare characters
    # that happened to meet once or twice, which a poem can rarely use; this prefers the company
    # a character keeps often and more than by chance (秋 → 砧 萸 … by PMI; 秋 → 霜 雁 … by this).
    with np.errstate(invalid="ignore"):
        rank = np.where(pmi > 0, pmi * together, -np.inf)
    k = min(per_character, max(m - 1, 0))
    numbers = np.full((len(vocab), per_character), -1, np.int32)
    scores = np.zeros((len(vocab), per_character), np.float32)
    if k:
        best = np.argsort(-rank, axis=1)[:, :k]
        best_pmi = np.where(np.isfinite(np.take_along_axis(rank, best, axis=1)), np.take_along_axis(pmi, best, axis=1), -np.inf)
        found = np.isfinite(best_pmi)
        numbers[kept, :k] = np.where(found, kept[best], -1)
        scores[kept, :k] = np.where(found, best_pmi, 0)
    return numbers, scores


def save_related(train_dir, numbers, scores, vocab):
    """RELATED_FILE, written whole or not at all (NumPy's own format, no pickle)."""
    from .files import atomic_open
    with atomic_open(Path(train_dir) / RELATED_FILE, "wb") as f:
        np.savez(f, numbers=numbers, scores=scores, vocab_fingerprint=np.array(vocab_fingerprint(vocab)))


def load_related(train_dir, vocab):
    """(numbers, scores) from RELATED_FILE, or None if it is missing or belongs to another vocabulary."""
    path = Path(train_dir) / RELATED_FILE
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["vocab_fingerprint"]) != vocab_fingerprint(vocab):
                return None
            return saved["numbers"], saved["scores"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # missing, cut short or not ours: built again
        return None


def theme_characters(words, vocab, to_simplified):
    """--theme 秋夜 思乡 → the theme's characters as vocabulary numbers, in order, each once (simplified
    or traditional input). Refuses, with what to do: no theme, anything but Chinese characters,
    more than MAX_THEME_CHARACTERS, or a character the model never saw (suggesting ones that sound alike)."""
    text = "".join(words).replace(" ", "").replace(",", "").replace("，", "").replace("、", "")
    if not text:
        fail("--theme 不能为空：写一两个词，如 --theme 秋夜 思乡 / --theme needs a word or two, e.g. --theme 秋夜 思乡")
    strange = sorted({ch for ch in text if _NOT_HANZI.match(ch)})
    if strange:
        fail(f"主题只能是汉字，不能有 {' '.join(strange)} / the theme must be Chinese characters, not "
             f"{' '.join(strange)} (e.g. --theme 秋夜 思乡)")
    wanted = list(dict.fromkeys(text))
    if len(wanted) > MAX_THEME_CHARACTERS:
        fail(f"主题最多 {MAX_THEME_CHARACTERS} 个字（现在 {len(wanted)} 个）：挑最要紧的一两个词 / at most "
             f"{MAX_THEME_CHARACTERS} characters in a theme ({len(wanted)} given): keep the word or two that matter most")
    to_vocab = simplified_to_vocab(vocab, to_simplified)
    missing = [ch for ch in wanted if ch not in to_vocab]
    if missing:
        fail("模型没见过这个字 / the model never saw " + "; ".join(
            f"{ch}" + (f"（读音相近的有 / sounds like: {' '.join(near)}）" if (near := sounds_like(ch, vocab, to_simplified)) else "")
            for ch in missing) + "：换一个字 / choose another character")
    return [vocab.index(to_vocab[ch]) for ch in wanted]


def sounds_like(character, vocab, to_simplified, most=3):
    """The commonest vocabulary characters read like `character` (same pinyin, any tone), simplified."""
    from pypinyin import Style, lazy_pinyin
    sound = lazy_pinyin(character, style=Style.NORMAL, errors=lambda _: [""])[0]
    if not sound:
        return []
    alike = [to_simplified(ch) for ch in vocab if ch not in SPECIALS and len(ch) == 1
             and lazy_pinyin(ch, style=Style.NORMAL, errors=lambda _: [""])[0] == sound]
    return list(dict.fromkeys(alike))[:most]
