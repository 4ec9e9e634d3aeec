"""The resumable-training scaffold shared by 07 (CIFAR-10) and 09 (poems).

    run = ResumableRun(train_dir, fresh=args.fresh, run_files=["config.json"])
    run.restore(model=model, optimizer=optimizer)     # resumes if a checkpoint is there
    while run.step < total_steps and not run.stop_requested(max_minutes):
        ...one step...; run.step += 1
        if run.step % save_every == 0: run.save("every N steps")
    if run.finish():                                    # saves; True after Ctrl-C or SIGTERM
        raise SystemExit(run.exit_code)

What it does for you: one training per folder at a time (a second program is refused, exit 2,
before it touches anything); --fresh removes every trace of the old run; a checkpoint cut short by a
kill is removed; the training time is counted across resumes (08 reports it); Ctrl-C and SIGTERM
(an IDE's stop button, `docker stop`, `kill`) only set a flag, so the step in progress finishes
and a whole checkpoint is saved before exiting (130 after Ctrl-C, 143 after SIGTERM).
"""
import json
import signal
import time
from pathlib import Path

from . import checkpoints
from .errors import UserError, describe_os_error, fail
from .files import lock
from .utils import output_dir


class ResumableRun:
    def __init__(self, train_dir, fresh=False, run_files=()):
        self.train_dir = Path(train_dir)
        output_dir(self.train_dir)
        # One training per folder: a second one would interleave its checkpoints with the first's.
        try:
            self._lock = lock(self.train_dir / ".training.lock", wait=False)
        except OSError as error:
            raise UserError(f"无法在 {self.train_dir} 里建锁文件 / cannot create a lock file in {self.train_dir}\n"
                            f"{describe_os_error(error)}") from error
        if self._lock is None:
            fail(f"另一个程序正在 {self.train_dir} 里训练。等它结束（或在它的窗口按 Ctrl-C，会保存），或换一个 --train-dir。\n"
                 f"another program is training in {self.train_dir}: wait for it to finish (or press Ctrl-C in its "
                 f"window: it saves), or use another --train-dir")
        if fresh:
            checkpoints.clear(self.train_dir, also=run_files)
            print(f"--fresh：已删除旧的检查点 / removed old checkpoints in {self.train_dir}")
        if checkpoints.remove_unfinished(self.train_dir):
            print(f"已删除一个没写完的检查点（上次保存时被强行结束）/ removed an unfinished checkpoint "
                  f"(a run was stopped while saving) in {self.train_dir}")
        self.step, self._stop_signal, self._out_of_time = 0, None, False

    def require_same_settings(self, settings):
        """Refuse to resume checkpoints trained with other settings ({"width": 8, ...}, named like
        the flags); nothing is written yet (require_same_model writes them with the model)."""
        self._settings, path = settings, self.train_dir / "settings.json"
        if not (self.has_checkpoint() and path.is_file()):
            return
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # unreadable: the model check below still guards the checkpoints

        def as_flag(name, value):  # "--width 8", "--without lookahead", "no --without"
            if isinstance(value, list):
                return f"--{name} {' '.join(value)}" if value else f"no --{name}"
            return f"--{name} {value}"
        for name, value in saved.items():
            if settings.get(name, [] if isinstance(value, list) else None) != value:
                old, new = as_flag(name, value), as_flag(name, settings.get(name))
                fail(f"{self.train_dir} 里的检查点是用 {old} 训练的，这次是 {new}。\n"
                     f"the checkpoints in {self.train_dir} were trained with {old}, not {new}: "
                     f"continue with {old}, or start over with --fresh")

    def require_same_model(self, model):
        """Refuse checkpoints of another network; then write model.json (08 rebuilds the network
        from it) and the settings."""
        from .files import write_json, write_text
        path = self.train_dir / "model.json"
        if self.has_checkpoint() and path.is_file() and path.read_text(encoding="utf-8") != model.to_json():
            fail(f"{self.train_dir} 里的检查点属于另一个网络（--width 或 --precision 不同，或是旧版 07 训练的？）/ the checkpoints "
                 f"in {self.train_dir} belong to another network (a different --width or --precision, or an older 07?): use the old flags, "
                 f"or start over with --fresh")
        write_text(path, model.to_json())
        write_json(self.train_dir / "settings.json", getattr(self, "_settings", {}))

    def trained_precision(self):
        """'bfloat16' or 'float32': the arithmetic the checkpoints here were trained in; None before
        the first one."""
        return trained_precision(self.train_dir) if self.has_checkpoint() else None

    def has_checkpoint(self):
        import tensorflow as tf
        return tf.train.latest_checkpoint(str(self.train_dir)) is not None

    def restore(self, optimizer, max_to_keep=3, keep_every_minutes=None, **objects):
        """Track `objects` + the optimizer; resume from the newest checkpoint if there is one."""
        import tensorflow as tf
        self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)  # across resumes
        self.checkpoint = tf.train.Checkpoint(optimizer=optimizer, train_seconds=self.train_seconds, **objects)
        keep_hours = keep_every_minutes / 60 if keep_every_minutes else None
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.train_dir, max_to_keep=max_to_keep,
                                                  keep_checkpoint_every_n_hours=keep_hours)
        latest = self.manager.latest_checkpoint
        if latest:
            checkpoints.restore_every_weight(self.checkpoint, latest,
                                             "use the flags it was trained with, or start over with --fresh")
            print(f"从检查点接着训练 / resumed from {latest}，第 {int(optimizer.iterations.numpy())} 步 / "
                  f"at step {int(optimizer.iterations.numpy())}")
        else:
            print(f"从头开始训练 / starting fresh in {self.train_dir}")
        self.step = self._saved_step = int(optimizer.iterations.numpy())
        self._seconds_before, self._started = float(self.train_seconds.numpy()), time.time()
        signal.signal(signal.SIGINT, self._on_stop_signal)
        if hasattr(signal, "SIGTERM"):
            signal.signal(signal.SIGTERM, self._on_stop_signal)
        return self

    def _on_stop_signal(self, signum, _frame):
        if self._stop_signal is None:
            name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
            print(f"\n收到 {name}：这一步做完就保存检查点并退出 / {name}: saving a checkpoint after this step",
                  flush=True)
        self._stop_signal = signum

    @property
    def _interrupted(self):
        return self._stop_signal is not None

    @property
    def exit_code(self):
        """130 after Ctrl-C, 143 after SIGTERM (128 + the signal's number, as shells report it)."""
        return 143 if self._stop_signal == getattr(signal, "SIGTERM", None) else 130

    @property
    def minutes(self):
        """Minutes of training in all runs so far."""
        return (self._seconds_before + time.time() - self._started) / 60

    def stop_requested(self, max_minutes=None):
        if max_minutes and self.minutes >= max_minutes and not self._out_of_time:
            print(f"已到 --minutes {max_minutes:g} 分钟 / --minutes {max_minutes:g} reached")
            self._out_of_time = True
        return self._interrupted or self._out_of_time

    def save(self, reason):
        """Write a checkpoint of this step, unless this step is saved already (08 may be reading it)."""
        import tensorflow as tf
        if self.step == self._saved_step:
            return
        self.train_seconds.assign(self.minutes * 60)
        try:
            path = self.manager.save(checkpoint_number=self.step)
        except (tf.errors.OpError, OSError) as error:  # full disk, read-only folder, ...
            detail = error.message if isinstance(error, tf.errors.OpError) else describe_os_error(error)
            raise UserError(f"无法保存检查点（之前的检查点仍然完好）/ could not save a checkpoint in "
                            f"{self.train_dir}; the earlier checkpoints are intact.\n"
                            f"{str(detail).splitlines()[0][:300]}\n"
                            f"清理磁盘空间或换一个 --train-dir / free disk space or use another --train-dir") from error
        self._saved_step = self.step
        print(f"已保存检查点 / saved checkpoint {path} ({reason})", flush=True)

    def finish(self):
        """Save the last step; return True after Ctrl-C or SIGTERM (the script then exits with exit_code)."""
        if self._interrupted:
            name = "Ctrl-C" if self.exit_code == 130 else "SIGTERM"
            self.save(f"{name} 中断 / interrupted by {name}")
            print(f"再次运行同一条命令即可接着训练 / run the same command again to resume", flush=True)
        else:
            self.save("训练结束 / end of training")
        return self._interrupted


def trained_precision(train_dir):
    """'bfloat16' or 'float32': the arithmetic of the network in train_dir/model.json (it names
    Keras's policy); None where there is none."""
    path = Path(train_dir) / "model.json"
    if not path.is_file():
        return None
    return "bfloat16" if "mixed_bfloat16" in path.read_text(encoding="utf-8") else "float32"
