# Python twin of w4_process_pool_submit.lua: ProcessPoolExecutor(2), submit
# 20,000 tasks x+1, then collect every result.
import time
from concurrent.futures import ProcessPoolExecutor

N, REPS = 20_000, 5


def inc(x):
    return x + 1


if __name__ == "__main__":
    with ProcessPoolExecutor(2) as ex:
        list(ex.map(inc, range(100)))  # warm-up: workers up
        best = float("inf")
        for _ in range(REPS):
            t0 = time.perf_counter()
            futs = [ex.submit(inc, i) for i in range(1, N + 1)]
            total = sum(f.result() for f in futs)
            best = min(best, time.perf_counter() - t0)
            assert total == N * (N + 1) // 2 + N, total
    print(f"us_per_task={best / N * 1e6:.2f}")
