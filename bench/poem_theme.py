"""Benchmark: does 09 --theme write about the theme, and what does it cost? (issue #39)

For each theme of a fixed list, the same number of poems three ways, from 09's trained model
(poem_model.keras, as the web app loads it):
  untargeted   today's 09 --generate: no theme
  nudged       09's theme_bonus added to the scores, one draft per poem
  theme        what --theme does: 4 nudged drafts, the best by fluency + coverage kept
and prints, per way: the share of poems holding a theme character, the share holding a theme
character or a keyword planned for it (for the untargeted poems: a plan drawn the same way), the
model's loss on the poems it wrote (nats per character, punctuation left out: what the theme costs
in fluency), the share that pass the rhyme and form checks of --evaluate, the share with a doubled
character (秋秋: allowed, but a nudge must not breed it), and seconds per poem.

Run (a benchmark, not a test; about 3 minutes on a 2-core CPU with the defaults):
  python 09_poem_rnn.py                        # first: the default model in outputs/poem_rnn
  python bench/poem_theme.py --train-dir outputs/poem_rnn --poems 5 --seeds 0 1 2
"""
import argparse
import functools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Seasons, weather, places, feelings, things, scenes: 24 themes of one or two words.
THEMES = ["春雨", "秋夜", "冬雪", "夏日", "边塞", "江南", "长安", "洞庭", "离别", "思乡", "怀古", "闺怨",
          "明月", "梅花", "杨柳", "菊花", "登高", "渔舟", "饮酒", "送友人", "山寺", "落日", "战马", "春风 桃花"]


def passes(poem, form):
    """The checks --evaluate makes: lines of `form` characters, even lines rhyme, no repeated rhyme
    character, no character twice in a line (a doubling aside)."""
    from common.poems import even_lines_rhyme, inline_repeat, quatrain_lines, repeated_rhyme
    lines = quatrain_lines(poem)
    return (len(lines) == 4 and all(len(line) == form for line in lines) and even_lines_rhyme(lines)
            and not repeated_rhyme(lines) and not any(inline_repeat(line) for line in lines))


def doubled(poem):
    """Does a character follow itself (秋秋)?"""
    return any(a == b for a, b in zip(poem, poem[1:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-dir", type=Path, default=ROOT / "outputs" / "poem_rnn")
    parser.add_argument("--poems", type=int, default=5, help="poems per theme, way and seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--form", type=int, choices=[5, 7], default=5)
    parser.add_argument("--themes", nargs="+", default=THEMES)
    parser.add_argument("--show", type=int, default=12, help="themes whose first poems are printed")
    parser.add_argument("--keyword-bonus", type=float, help="instead of theme_bonus's default (09)")
    parser.add_argument("--company-bonus", type=float, help="instead of theme_bonus's default (09)")
    parser.add_argument("--candidates", type=int, default=4, help="drafts per --theme poem")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import common
    common.load_tensorflow_quietly()
    import numpy as np
    import tensorflow as tf
    from common.lessons import from_script
    from common.poem_writer import (load_exported_model, mean_log_likelihood, plan_theme, related_for,
                                    write_on_theme, write_poems)
    from common.poems import theme_characters, to_simplified_converter
    choose_character, theme_bonus = from_script("09_poem_rnn.py", "choose_character", "theme_bonus", np=np)
    changed = {name: value for name, value in (("keyword_bonus", args.keyword_bonus),
                                                 ("company_bonus", args.company_bonus)) if value is not None}
    theme_bonus = functools.partial(theme_bonus, **changed)

    loaded = load_exported_model(args.train_dir)
    if loaded is None:
        sys.exit(f"no poem_model.keras in {args.train_dir}: train 09 first")
    network, vocab, config = loaded
    model = tf.function(network, reduce_retracing=True)
    related = related_for(args.train_dir, vocab)
    if related is None:
        sys.exit(f"no related.npz in {args.train_dir}: run 09_poem_rnn.py --generate 1 --theme 春 once")
    to_simplified = to_simplified_converter()
    write_poems(model, vocab, 2, functools.partial(choose_character, rng=np.random.default_rng()))  # warm-up
    ways = ("untargeted", "nudged", "theme")
    rows = {way: [] for way in ways}  # per poem: (theme character?, theme or plan?, passes?, doubled?)
    seconds, poems_of, examples = dict.fromkeys(ways, 0.0), {way: [] for way in ways}, []

    for number, words in enumerate(args.themes):
        theme = theme_characters(words.split(), vocab, to_simplified)
        for seed in args.seeds:
            written = {}
            for way in ways:
                rng = np.random.default_rng([seed, number])
                choose = functools.partial(choose_character, rng=rng)
                start = time.perf_counter()
                if way == "theme":
                    poems, plans = write_on_theme(model, vocab, args.poems, choose, theme, related, theme_bonus, rng,
                                                  candidates=args.candidates, form=args.form, lines=4)
                else:  # the untargeted poems get a plan too, drawn the same way, to count its keywords
                    drawn = [plan_theme(theme, related, 4, rng) for _ in range(args.poems)]
                    plans = [plan for plan, _ in drawn]
                    bonus = None if way == "untargeted" else np.stack(
                        [theme_bonus(plan, company, len(vocab)) for plan, company in drawn])
                    poems = write_poems(model, vocab, args.poems, choose, form=args.form, lines=4, bonus=bonus)
                seconds[way] += time.perf_counter() - start
                for poem, plan in zip(poems, plans):
                    has_theme = any(vocab[k] in poem for k in theme)
                    rows[way].append((has_theme, has_theme or any(vocab[k] in poem for k in plan),
                                      passes(poem, args.form), doubled(poem)))
                poems_of[way] += poems
                written[way] = poems
            if seed == args.seeds[0] and number < args.show:
                examples.append((words, to_simplified(written["theme"][0]), to_simplified(written["untargeted"][0])))

    total = len(args.themes) * len(args.seeds) * args.poems
    print(f"\n{len(args.themes)} themes × {len(args.seeds)} seeds × {args.poems} poems = {total} poems per way, "
          f"{args.form}-character quatrains, {args.train_dir}, theme_bonus {changed or 'as in 09'}, "
          f"{args.candidates} drafts per --theme poem")
    print(f"{'way':<11} {'theme char':>10} {'theme/plan':>10} {'loss/char':>9} {'rhyme+form':>10} {'doubled':>8} "
          f"{'s/poem':>7}")
    for way in ways:
        share = np.mean(rows[way], axis=0)
        loss = -np.mean(np.concatenate([mean_log_likelihood(model, vocab, poems_of[way][i:i + 64])
                                        for i in range(0, len(poems_of[way]), 64)]))
        print(f"{way:<11} {share[0]:>10.1%} {share[1]:>10.1%} {loss:>9.3f} {share[2]:>10.1%} {share[3]:>8.1%} "
              f"{seconds[way] / total:>7.3f}")
    print("\nexamples (first seed): theme | --theme poem | untargeted poem")
    for words, themed, plain in examples:
        print(f"{words} | {themed} | {plain}")


if __name__ == "__main__":
    main()
