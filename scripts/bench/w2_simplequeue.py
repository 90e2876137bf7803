# Python twin of w2_simplequeue.lua: 1,000,000 integers through a
# queue.SimpleQueue, one producer thread, one consumer thread.
import queue
import threading
import time

N, REPS = 1000000, 5


def run():
    q = queue.SimpleQueue()
    result = []

    def consume():
        s = 0
        for _ in range(N):
            s += q.get()
        result.append(s)

    def produce():
        for i in range(1, N + 1):
            q.put(i)

    t0 = time.perf_counter()
    c = threading.Thread(target=consume)
    p = threading.Thread(target=produce)
    c.start()
    p.start()
    p.join()
    c.join()
    dt = time.perf_counter() - t0
    assert result[0] == N * (N + 1) // 2
    return dt


best = min(run() for _ in range(REPS))
print(f"msg_per_s={N / best:.0f}")
