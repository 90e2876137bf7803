# Python twin of w7_lock.lua: 2 threads x 500,000 of lock / increment a
# shared counter / unlock, with threading.Lock.
import threading
import time

N, THREADS, REPS = 500000, 2, 5


def run():
    lock = threading.Lock()
    value = [0]  # a shared cell: the closest equivalent of a shared Value
    go = threading.Event()

    def worker():
        go.wait()
        for _ in range(N):
            lock.acquire()
            value[0] = value[0] + 1
            lock.release()

    ts = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in ts:
        t.start()
    t0 = time.perf_counter()
    go.set()
    for t in ts:
        t.join()
    dt = time.perf_counter() - t0
    assert value[0] == N * THREADS, value[0]
    return dt


best = min(run() for _ in range(REPS))
print(f"ns_per_pair={best / (N * THREADS) * 1e9:.2f}")
