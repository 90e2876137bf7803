# Python twin of w9_process_pool_map.lua: multiprocessing.Pool(2).map and
# ProcessPoolExecutor(2).map(chunksize=n/8) of x*x over 1..n, pool start and
# shutdown included, each with its default start method.
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor


def sq(x):
    return x * x


def best(reps, fn):
    b = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


if __name__ == "__main__":
    out = []
    for n in (1000, 100_000, 10_000_000):
        data = range(1, n + 1)
        reps = 2 if n >= 10_000_000 else 3

        def mp():
            with multiprocessing.Pool(2) as p:
                r = p.map(sq, data)
                assert r[-1] == n * n

        def ex():
            with ProcessPoolExecutor(2) as e:
                r = list(e.map(sq, data, chunksize=max(1, n // 8)))
                assert r[-1] == n * n

        out.append(f"mp_us_{n}={best(reps, mp) / n * 1e6:.4f}")
        out.append(f"executor_us_{n}={best(reps, ex) / n * 1e6:.4f}")
    print(" ".join(out))
