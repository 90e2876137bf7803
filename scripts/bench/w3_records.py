# Python twin of w3_records.lua: 100,000 records through queue.Queue between
# two threads (objects are passed by reference, never copied), and through
# multiprocessing.Queue between two processes (pickled, like tide's copy).
import multiprocessing as mp
import queue
import threading
import time

N, REPS = 100000, 3


def produce(q, n):
    for i in range(1, n + 1):
        q.put({"id": i, "name": "item" + str(i), "tags": ["a", "b", "c"], "score": i * 0.5})


def consume(q, n, out=None):
    ids = 0
    for _ in range(n):
        r = q.get()
        ids += r["id"]
        assert r["name"] == "item" + str(r["id"]) and len(r["tags"]) == 3
    if out is not None:
        out.put(ids)
    return ids


def threads():
    q = queue.Queue()
    result = []
    t0 = time.perf_counter()
    c = threading.Thread(target=lambda: result.append(consume(q, N)))
    p = threading.Thread(target=produce, args=(q, N))
    c.start()
    p.start()
    p.join()
    c.join()
    dt = time.perf_counter() - t0
    assert result[0] == N * (N + 1) // 2
    return dt


def processes():
    q, out = mp.Queue(), mp.Queue()
    t0 = time.perf_counter()
    c = mp.Process(target=consume, args=(q, N, out))
    p = mp.Process(target=produce, args=(q, N))
    c.start()
    p.start()
    ids = out.get()
    p.join()
    c.join()
    dt = time.perf_counter() - t0
    assert ids == N * (N + 1) // 2
    return dt


if __name__ == "__main__":
    t = min(threads() for _ in range(REPS))
    m = min(processes() for _ in range(REPS))
    print(f"thread_per_s={N / t:.0f} mp_per_s={N / m:.0f}")
