# The cluster benchmark's Python twins (scripts/bench/w12_cluster.lua runs
# this with Debian's python3, on the same Redis): RQ (python3-rq, two
# SimpleWorkers) and Celery (python3-celery, two solo workers, Redis broker
# and result backend). Tiny tasks: N ident(x) jobs enqueued one by one, and
# the time until all have finished (tasks/s). Map: 100,000 items squared in
# chunks of 1000 (RQ: one job per chunk; Celery: task.chunks), µs per item.
# Prints key=value figures; a framework that is missing prints nothing.
import os
import subprocess
import sys
import time

url = sys.argv[1]
N_RQ, N_CELERY, MAP_N, CHUNK = int(sys.argv[2]), int(sys.argv[3]), 100000, 1000
here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, BENCH_REDIS=url, PYTHONPATH=here)
sys.path.insert(0, here)
os.environ["BENCH_REDIS"] = url


def start(args, n):
    return [subprocess.Popen(args, env=env, cwd=here, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def bench_rq():
    try:
        import redis
        from rq import Queue, Worker
    except ImportError:
        return
    import cluster_py_tasks as t
    conn = redis.Redis.from_url(url)
    q = Queue("bench", connection=conn)
    procs = start([sys.executable, "-m", "rq.cli", "worker", "-u", url, "-w", "rq.worker.SimpleWorker", "bench"], 2)
    try:
        while len(Worker.all(connection=conn)) < 2:  # both registered
            time.sleep(0.05)

        def run(jobs):
            base = q.finished_job_registry.count
            t0 = time.perf_counter()
            js = [q.enqueue(f, *a) for f, a in jobs]
            while q.finished_job_registry.count - base < len(js):
                if q.failed_job_registry.count:
                    raise RuntimeError("rq: a job failed")
                time.sleep(0.005)
            dt = time.perf_counter() - t0
            return dt, [j.return_value() if hasattr(j, "return_value") else j.result for j in js]

        run([(t.ident, (1,))] * 20)  # warm-up
        dt, out = run([(t.ident, (i,)) for i in range(N_RQ)])
        assert out == list(range(N_RQ)), "rq: wrong results"
        print("rq_tasks_per_s=%.0f" % (N_RQ / dt))
        chunks = [(t.square_chunk, (list(range(i, min(i + CHUNK, MAP_N))),)) for i in range(0, MAP_N, CHUNK)]
        dt, out = run(chunks)
        flat = [x for c in out for x in c]
        assert flat == [x * x for x in range(MAP_N)], "rq: wrong map"
        print("rq_map_us=%.3f" % (dt / MAP_N * 1e6))
    finally:
        stop(procs)


def bench_celery():
    try:
        import cluster_py_tasks as t
    except ImportError:
        return
    procs = start([sys.executable, "-m", "celery", "-A", "cluster_py_tasks", "worker", "--pool", "solo",
                   "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                   "--without-heartbeat", "-n", "w%d@bench" % 0], 1)
    procs += start([sys.executable, "-m", "celery", "-A", "cluster_py_tasks", "worker", "--pool", "solo",
                    "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                    "--without-heartbeat", "-n", "w%d@bench" % 1], 1)
    try:
        while True:  # both answer a ping
            replies = t.app.control.ping(timeout=0.5) or []
            if len(replies) >= 2:
                break
        [r.get(timeout=60) for r in [t.c_ident.delay(1) for _ in range(20)]]  # warm-up
        t0 = time.perf_counter()
        rs = [t.c_ident.delay(i) for i in range(N_CELERY)]
        out = [r.get(timeout=120) for r in rs]
        dt = time.perf_counter() - t0
        assert out == list(range(N_CELERY)), "celery: wrong results"
        print("celery_tasks_per_s=%.0f" % (N_CELERY / dt))
        t0 = time.perf_counter()
        res = t.c_square.chunks(zip(range(MAP_N)), CHUNK).apply_async()
        out = res.get(timeout=300)
        dt = time.perf_counter() - t0
        flat = [x for c in out for x in c]
        assert flat == [x * x for x in range(MAP_N)], "celery: wrong map"
        print("celery_map_us=%.3f" % (dt / MAP_N * 1e6))
    finally:
        stop(procs)


bench_rq()
sys.stdout.flush()
bench_celery()
