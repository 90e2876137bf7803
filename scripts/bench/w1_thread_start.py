# Python twin of w1_thread_start.lua: start 1000 threads, each produces its
# index, join all and sum.
import threading
import time

N, REPS = 1000, 5


def run():
    # threading.Thread has no return value, so each thread stores its result
    # where the joiner reads it: the closest equivalent of tide's join().
    results = [0] * (N + 1)

    def work(i):
        results[i] = i

    ts = [threading.Thread(target=work, args=(i,)) for i in range(1, N + 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    total = sum(results)
    assert total == N * (N + 1) // 2, total


best = float("inf")
for _ in range(REPS):
    t0 = time.perf_counter()
    run()
    best = min(best, time.perf_counter() - t0)
print(f"us_per_thread={best / N * 1e6:.2f}")
