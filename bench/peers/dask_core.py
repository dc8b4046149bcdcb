#!/usr/bin/python3
"""Dask peer of bench/core.c: the same `ray microbenchmark` shapes on Dask distributed.

LocalCluster(n_workers=2, threads_per_worker=1, processes=True), no dashboard, as the shared
bench-peers/dask_micro.py that this adapts. Prints `name: value unit`
lines with exactly bench/core.c's names; bench/core.c runs this script after its own
figures and prints the ratios. Exits 0 with a `# dask peer skipped: ...` line when dask
is not importable. Knobs (shared with bench/core.c): PEER_BENCH_WARMUP (0.3 s),
PEER_BENCH_SECONDS (1.0 s), PEER_BENCH_REPEATS (2). Run with /usr/bin/python3 (Debian's
python3-distributed).

Shapes (Ray's ray_perf.py -> here):
  single_client_tasks_sync   submit + result, one at a time
  single_client_tasks_async  1,000 tasks (client.map, Dask's fastest submit) then gather
  multi_client_tasks_async   4 client processes, each mapping batches of 1,000 tasks
  1_1_actor_calls_sync       actor method call + result
  1_1_actor_calls_async      200 calls in flight, then results
  1_n_actor_calls_async      200 calls round robin over one actor per worker (2)
  n_n_actor_calls_async      4 tasks, each making 50 calls over the actors (Ray's work())
(Batches of actor calls are smaller than bench/core.c's so that the run stays near a
minute: Dask answers ~200 calls/s; rates per call are what is compared.)
  single_client_put_calls    client.scatter(0)
  single_client_get_calls    future.result() of a scattered int
  single_client_put_gigabytes  client.scatter of a 100 MiB array
"""
import multiprocessing as mp
import os
import signal
import statistics
import sys
import time

WARMUP_S = float(os.environ.get("PEER_BENCH_WARMUP", "0.3"))
RUN_S = float(os.environ.get("PEER_BENCH_SECONDS", "1.0"))
REPEATS = int(os.environ.get("PEER_BENCH_REPEATS", "2"))
BATCH = 1000
ACTOR_BATCH = 200  # Dask answers ~200 actor calls/s: keep each timed call short
CLIENTS = 4
BIG_MIB = 100


def emit(name, value, unit):
    print(f"{name}: {value:.6g} {unit}", flush=True)


def rate(name, fn, multiplier=1.0, unit="per_s"):
    """ray_perf.timeit, shorter: warm up, then REPEATS loops of RUN_S; mean rate."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < WARMUP_S:
        fn()
    # One call already longer than a loop: one timed loop is enough (keeps the run short).
    repeats = 1 if time.perf_counter() - t0 > RUN_S else REPEATS
    stats = []
    for _ in range(repeats):
        count = 0
        t0 = time.perf_counter()
        while True:
            fn()
            count += 1
            el = time.perf_counter() - t0
            if el >= RUN_S:
                break
        stats.append(multiplier * count / el)
    emit(name, statistics.fmean(stats), unit)


def small_value():
    return b"ok"


def small_value_arg(x):
    return b"ok"


class Actor:
    def small_value(self):
        return b"ok"


def work(actors, n):
    futs = [actors[i % len(actors)].small_value() for i in range(n)]
    for f in futs:
        f.result()
    return n


def client_proc(address, ready, go, out):
    from distributed import Client
    c = Client(address)
    c.gather(c.map(small_value_arg, range(100), pure=False))
    ready.put(1)
    go.get()
    ops, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < RUN_S * REPEATS:
        c.gather(c.map(small_value_arg, range(BATCH), pure=False))
        ops += BATCH
    out.put((ops, time.perf_counter() - t0))
    c.close()


def multi_client(address):
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=client_proc, args=(address, ready, go, out))
             for _ in range(CLIENTS)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    for _ in procs:
        go.put(1)
    res = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join()
    emit("multi_client_tasks_async", sum(r[0] for r in res) / max(r[1] for r in res), "tasks/s")


def main():
    try:
        import dask
        import distributed
        import numpy as np
        from distributed import Client, LocalCluster
    except Exception as e:  # noqa: BLE001 - any import failure means "not installed"
        print(f"# dask peer skipped: {type(e).__name__}: {e}", flush=True)
        return 0
    signal.alarm(300)  # never hang the benchmark

    dask.config.set({"distributed.logging.distributed": "error"})
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    client.wait_for_workers(2)
    emit("cluster_start", time.perf_counter() - t0, "s")
    print(f"# dask {dask.__version__} distributed {distributed.__version__}, "
          f"LocalCluster 2 workers x 1 thread", flush=True)

    rate("single_client_tasks_sync", lambda: client.submit(small_value, pure=False).result(),
         unit="tasks/s")
    rate("single_client_tasks_async",
         lambda: client.gather(client.map(small_value_arg, range(BATCH), pure=False)),
         multiplier=BATCH, unit="tasks/s")
    multi_client(cluster.scheduler_address)

    a = client.submit(Actor, actor=True, pure=False).result()
    rate("1_1_actor_calls_sync", lambda: a.small_value().result(), unit="calls/s")

    def actor_async(actors):
        futs = [actors[i % len(actors)].small_value() for i in range(ACTOR_BATCH)]
        for f in futs:
            f.result()

    rate("1_1_actor_calls_async", lambda: actor_async([a]), multiplier=ACTOR_BATCH,
         unit="calls/s")
    workers = list(client.scheduler_info()["workers"])
    actors = [client.submit(Actor, actor=True, workers=[w], pure=False).result()
              for w in workers]
    rate("1_n_actor_calls_async", lambda: actor_async(actors), multiplier=ACTOR_BATCH,
         unit="calls/s")
    per = ACTOR_BATCH // CLIENTS
    rate("n_n_actor_calls_async",
         lambda: client.gather([client.submit(work, actors, per, pure=False)
                                for _ in range(CLIENTS)]),
         multiplier=per * CLIENTS, unit="calls/s")
    del a, actors

    rate("single_client_put_calls", lambda: client.scatter(0, hash=False), unit="calls/s")
    small = client.scatter(0, hash=False)
    rate("single_client_get_calls", lambda: small.result(), unit="calls/s")
    del small
    big = np.ones(BIG_MIB * 2**20 // 8, dtype=np.float64)
    rate("single_client_put_gigabytes", lambda: client.scatter(big, hash=False),
         multiplier=big.nbytes / 1e9, unit="GB/s")
    client.close()
    cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
