"""Where 07 trains: this process, its GPUs, or several machines (tf.distribute).

    add_flags(parser)                    # --strategy, --workers, --worker-index
    cluster = cluster_from_flags(args)   # right after the flags: typos answer at once
    ...import tensorflow...
    strategy, worker = make_strategy(args.strategy, cluster)
    batches = strategy.distribute_datasets_from_function(
        lambda context: per_replica(batch, batch_size, first_step, total_steps, context))
    require_same_everywhere(strategy, flags, step, ...)   # before the first step

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


def add_flags(parser):
    """07's flags for where it trains."""
    parser.add_argument("--strategy", choices=["default", "mirrored"], default="default",
                        help="mirrored：用 tf.distribute.MirroredStrategy 分到所有 GPU（或 CPU）上 / "
                             "mirrored: tf.distribute.MirroredStrategy over all GPUs (or the CPU)")
    parser.add_argument("--workers", metavar="HOST:PORT,...",
                        help="在几台机器上一起训练：每台都运行同一条命令，各加自己的 --worker-index（docs/multi_machine.md）/ "
                             "train on several machines: run the same command on each, with its own --worker-index")
    parser.add_argument("--worker-index", type=int,
                        help="这台机器在 --workers 里的序号，0 是主节点（检查点写在它的 --train-dir）/ this machine's "
                             "place in --workers; 0 is the chief (its --train-dir holds the run 08 evaluates)")


def cluster_from_flags(args):
    """The cluster (a TF_CONFIG dict) the flags or the environment describe; None: one machine."""
    cluster = cluster_config(args.workers, args.worker_index)
    if cluster and args.strategy == "mirrored":
        fail("--strategy mirrored 只用于一台机器；有 --workers 或 TF_CONFIG 时 07 自动用多机策略，去掉这个参数即可 / "
             "--strategy mirrored is for one machine; with --workers or TF_CONFIG 07 uses the multi-worker "
             "strategy by itself: leave the flag out")
    return cluster


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


def require_same_everywhere(strategy, *values):
    """Stop with what to do unless `values` (flags, the step reached, data sizes) match on all workers."""
    if worker_count(strategy) == 1:
        return
    number = float(fingerprint(*values))
    if not (_every_worker(strategy, number) == number).all():
        fail("各台机器的参数、数据或检查点不一样：每台用同一条命令，同样的数据，同样从头开始（--fresh）或接着练 / "
             "the workers differ in flags, data or checkpoints: run the same command with the same data on "
             "each, all --fresh or all resuming")


def per_replica(batch, batch_size, first_step, total_steps, context):
    """A tf.data.Dataset of this machine's shares of batch(step) (`batch_size` images) for the steps from `first_step`:
    with several replicas (`context`: GPUs, machines) each takes its own slice of the same batch;
    on one machine with one replica, simply batch(first_step), batch(first_step + 1), ..."""
    import tensorflow as tf
    replicas = context.num_replicas_in_sync
    here = replicas // context.num_input_pipelines  # replicas fed by this pipeline (this machine)
    size = batch_size // replicas

    def share(i):  # this pipeline's i-th element: one replica's slice of one step's batch
        x, y = batch(first_step + i // here)
        replica = context.input_pipeline_id * here + i % here
        return x[replica * size:(replica + 1) * size], y[replica * size:(replica + 1) * size]

    return (tf.data.Dataset.range((total_steps - first_step) * here)
            .map(share, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def _every_worker(strategy, value):
    """The value of every replica on every worker, as a NumPy array (an all-gather)."""
    import tensorflow as tf
    if not hasattr(strategy, "_gather_fn"):
        strategy._gather_fn = tf.function(
            lambda x: strategy.gather(strategy.run(lambda v: tf.reshape(v, [1]), args=(x,)), axis=0))
    return strategy._gather_fn(tf.constant(value, tf.float32)).numpy()
