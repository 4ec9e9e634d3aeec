"""A numbered script's own function or class, used by another program (10, the tests, a bench)
without a second copy: the code stays where the lesson's reader reads it (09's sampler, its
two-level softmax).

    choose_character = from_script("09_poem_rnn.py", "choose_character", np=np)

The named top-level definitions are taken from the script's source with `ast` and run on their
own, in a namespace holding only what is passed in (tests/test_copy_out.py checks that each
lesson's pieces run alone). A traceback names the script's own file and line.
"""
import ast

from .paths import SCRIPTS_DIR


def from_script(script, *names, **namespace):
    """The definitions `names` of SCRIPTS_DIR/script (one, or a tuple of several)."""
    path = SCRIPTS_DIR / script
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    exec(compile(ast.Module(body=[found[name] for name in names], type_ignores=[]), str(path), "exec"), namespace)
    return namespace[names[0]] if len(names) == 1 else tuple(namespace[name] for name in names)
