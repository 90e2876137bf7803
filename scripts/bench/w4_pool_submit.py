# Python twin of w4_pool_submit.lua: ThreadPoolExecutor(2), submit 100,000
# tasks x+1, then collect every result; once with one function for every
# task, once with a new lambda at each submit; then the mean of the runs of
# one function back to back (Python frees each future as its last
# reference goes).
import time
from concurrent.futures import ThreadPoolExecutor

N, REPS = 100_000, 5


def inc(x):
    return x + 1


def one_function(ex):
    return [ex.submit(inc, i) for i in range(1, N + 1)]


def new_lambda(ex):
    return [ex.submit(lambda x: x + 1, i) for i in range(1, N + 1)]


def best(ex, submit_all):
    b = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        futs = submit_all(ex)
        total = sum(f.result() for f in futs)
        b = min(b, time.perf_counter() - t0)
        assert total == N * (N + 1) // 2 + N, total
    return b


def mean(ex, submit_all):
    t0 = time.perf_counter()
    for _ in range(REPS):
        futs = submit_all(ex)
        assert sum(f.result() for f in futs) == N * (N + 1) // 2 + N
    return (time.perf_counter() - t0) / REPS


with ThreadPoolExecutor(2) as ex:
    fn = best(ex, one_function)
    lam = best(ex, new_lambda)
    row = mean(ex, one_function)
print(f"us_per_task={fn / N * 1e6:.2f} us_per_task_lambda={lam / N * 1e6:.2f} "
      f"us_per_task_in_a_row={row / N * 1e6:.2f}")
