"""Checkpoint folders that survive a kill at any moment (used by 07 and 09).

TensorFlow writes a checkpoint as `ckpt-N_temp/` first, then the final `ckpt-N.index` and
`ckpt-N.data-*` files, and rewrites the small `checkpoint` index file last, so a reader (08)
only ever sees finished checkpoints. A run killed while saving leaves the `_temp` folder behind:
`remove_unfinished` clears it, `clear` (for --fresh) removes every trace of the old run.
Saving itself is in training.py (ResumableRun.save); `restore_every_weight` reads one back
for 07's resume, 08, 09 and 10.
"""
import shutil
from pathlib import Path

from .errors import UserError, describe_os_error


def _remove(path):
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    except OSError as error:
        raise UserError(f"无法删除旧的检查点 / cannot remove the old checkpoint {path}\n"
                        f"{describe_os_error(error)}") from error


def remove_unfinished(train_dir):
    """Delete the `ckpt-N_temp` folders a killed save left; return how many there were."""
    leftovers = [p for p in Path(train_dir).glob("ckpt-*_temp*")]
    for path in leftovers:
        _remove(path)
    return len(leftovers)


def clear(train_dir, also=()):
    """--fresh: the checkpoints, their index, temp folders and the run's own files (`also`)."""
    train_dir = Path(train_dir)
    if not train_dir.exists():
        return
    for path in [*train_dir.glob("ckpt-*"), train_dir / "checkpoint", *(train_dir / name for name in also)]:
        _remove(path)


def restore_every_weight(checkpoint, path, how_to_fix, partial=False):
    """checkpoint.restore(path), with every object it tracks found in the file (a silent partial
    restore would train or evaluate noise), or one clear message ending in `how_to_fix`.
    partial: the file may hold more (an optimizer's slots) than `checkpoint` asks for."""
    import tensorflow as tf
    try:
        status = checkpoint.restore(path)
        (status.expect_partial() if partial else status).assert_existing_objects_matched()
    except (tf.errors.OpError, ValueError, AssertionError, IndexError, KeyError, RuntimeError) as error:
        raise UserError(f"检查点读不出来，或不属于这个模型 / the checkpoint {path} could not be read or does not fit "
                        f"this model ({type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}); "
                        f"{how_to_fix}") from None
