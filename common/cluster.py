"""Where 07 trains: this process, its GPUs, or several machines (tf.distribute).

    cluster = cluster_config(args.workers, args.worker_index)   # right after the flags: typos answer at once
    ...import tensorflow...
    strategy, worker = make_strategy(args.strategy, cluster)

--workers A:PORT,B:PORT --worker-index I (or a TF_CONFIG set by a cluster manager) starts
tf.distribute.MultiWorkerMirroredStrategy: the same command runs on every machine, each with its
own index; worker 0 is the chief. Every step, each worker computes the gradient of its share of
the batch and all of them add the shares up (an all-reduce), so all hold the same weights.
The strategy must exist before TensorFlow does anything else (collective ops are configured at
start-up), so 07 calls this right after importing TensorFlow.
"""
import json
import os
import signal
import socket
import sys
import threading
import time
import zlib

from .errors import fail

# A worker that stops answering ends the others' wait after this long (instead of never).
PEER_TIMEOUT_SECONDS = 600


def parse_workers(text):
    """'host:port,host:port' → ['host:port', ...]; a clear message for anything else."""
    workers = [part.strip() for part in text.split(",") if part.strip()]
    for address in workers:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            fail(f"--workers 里的 {address!r} 不是 主机:端口 / {address!r} in --workers is not host:port "
                 f"(e.g. --workers 192.168.1.10:2222,192.168.1.11:2222)")
    if len(set(workers)) != len(workers):
        fail(f"--workers 里有重复的地址 / --workers lists an address twice: {text}")
    return workers


def cluster_config(workers_text, index):
    """TF_CONFIG as a dict: from the flags (written to the environment), else the one already set,
    else None (one machine)."""
    if workers_text:
        workers = parse_workers(workers_text)
        if index is None or not 0 <= index < len(workers):
            fail(f"--workers 列出了 {len(workers)} 台机器：每台再加 --worker-index 0 到 {len(workers) - 1}（各不相同，"
                 f"0 是主节点）/ --workers lists {len(workers)} machines: give each its own --worker-index, "
                 f"0 to {len(workers) - 1} (0 is the chief)")
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        os.environ["TF_CONFIG"] = json.dumps(config)
        return config
    if index is not None:
        fail("--worker-index 要和 --workers 一起用 / --worker-index needs --workers")
    if not os.environ.get("TF_CONFIG"):
        return None
    try:
        config = json.loads(os.environ["TF_CONFIG"])
        workers, task = config["cluster"]["worker"], config["task"]
        if task.get("type", "worker") != "worker" or not 0 <= int(task["index"]) < len(workers):
            raise ValueError(task)
    except (ValueError, KeyError, TypeError) as error:
        fail(f"环境变量 TF_CONFIG 不是 07 能用的集群描述（{type(error).__name__}）/ TF_CONFIG is not a cluster 07 can "
             f'use: it needs {{"cluster": {{"worker": ["host:port", ...]}}, "task": {{"type": "worker", '
             f'"index": N}}}} (only workers; no chief or ps tasks). Unset it to train on one machine.')
    return config


def make_strategy(kind, config):
    """(strategy, this worker's index): the default one, MirroredStrategy, or for a cluster
    (`config` from cluster_config) MultiWorkerMirroredStrategy."""
    import tensorflow as tf
    if config is None:
        return (tf.distribute.MirroredStrategy() if kind == "mirrored" else tf.distribute.get_strategy()), 0
    workers, me = config["cluster"]["worker"], int(config["task"]["index"])
    port = int(workers[me].rpartition(":")[2])
    with socket.socket() as probe:  # TensorFlow's own server would abort the process on a taken port
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC does: a closed run's port is free
        try:
            probe.bind(("", port))
        except OSError:
            fail(f"端口 {port} 已被占用：先停掉上次的 07，或在 --workers 里换一个端口 / port {port} of {workers[me]} "
                 f"is in use: stop the earlier 07 there, or choose another port in --workers (on every machine)")
    print(f"第 {me} 号机器，共 {len(workers)} 台：等其他机器用同一条命令启动 / worker {me} of {len(workers)} "
          f"({workers[me]}): waiting until every worker has started the same command", flush=True)
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=PEER_TIMEOUT_SECONDS)
    return _wait_interruptibly(lambda: tf.distribute.MultiWorkerMirroredStrategy(communication_options=options),
                               [address for i, address in enumerate(workers) if i != me]), me


def _wait_interruptibly(connect, others, seconds=PEER_TIMEOUT_SECONDS):
    """connect() in a helper thread: TensorFlow's wait for the other workers has no time limit and
    ignores Ctrl-C and SIGTERM, so the main thread waits for it, answering both, for `seconds`."""
    made = {}

    def target():
        try:
            made["strategy"] = connect()
        except BaseException as error:  # handed to the main thread below
            made["error"] = error

    def stop(signum, _frame):
        print("\n收到 SIGTERM，不再等待 / SIGTERM: stopped waiting", file=sys.stderr, flush=True)
        os._exit(143)

    helper = threading.Thread(target=target, daemon=True)
    helper.start()
    deadline = time.time() + seconds
    while helper.is_alive():
        signal.signal(signal.SIGTERM, stop)  # again and again: TensorFlow installs its own while connecting
        helper.join(0.5)
        if helper.is_alive() and time.time() > deadline:
            fail(f"{seconds // 60} 分钟内没有等到其他机器：{', '.join(others)}。在它们上面运行同一条命令（各自的 "
                 f"--worker-index），检查地址和防火墙 / the other workers ({', '.join(others)}) did not join within "
                 f"{seconds // 60} minutes: run the same command there, each with its own --worker-index; "
                 f"check the addresses and the firewall")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (07's run installs its own: a checkpoint first)
    if "error" in made:
        raise made["error"]
    return made["strategy"]


def leave_together(strategy, worker):
    """The end of a run: wait for every worker, then the chief leaves last (it hosts the cluster's
    coordination service; the others would log errors about it if it went first)."""
    if worker_count(strategy) == 1:
        return
    _every_worker(strategy, 0.0)
    if worker == 0:
        time.sleep(2)


def worker_count(strategy):
    import tensorflow as tf
    return strategy.cluster_resolver.cluster_spec().num_tasks("worker") if isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy) else 1


def on_any_worker(strategy, flag):
    """True on every worker when `flag` is True on any: all must stop at the same step (Ctrl-C,
    SIGTERM or --minutes may come to one machine only), or the others would wait for it forever."""
    if worker_count(strategy) == 1:
        return flag
    agreed = bool(_every_worker(strategy, float(flag)).max() > 0)
    if agreed and not flag:
        print("另一台机器要停下：这里也保存并停下 / another worker is stopping: saving and stopping here too", flush=True)
    return agreed


def fingerprint(*values):
    """A number that differs when any of `values` (flags, steps, sizes) differs."""
    return zlib.crc32(json.dumps(values, sort_keys=True, default=str).encode()) % 2 ** 24  # exact in float32


def same_on_every_worker(strategy, number):
    """Is `number` (a fingerprint of the flags and the step reached) the same on all workers?"""
    if worker_count(strategy) == 1:
        return True
    return bool((_every_worker(strategy, float(number)) == float(number)).all())


def _every_worker(strategy, value):
    """The value of every replica on every worker, as a NumPy array (an all-gather)."""
    import tensorflow as tf
    if not hasattr(strategy, "_gather_fn"):
        strategy._gather_fn = tf.function(
            lambda x: strategy.gather(strategy.run(lambda v: tf.reshape(v, [1]), args=(x,)), axis=0))
    return strategy._gather_fn(tf.constant(value, tf.float32)).numpy()
