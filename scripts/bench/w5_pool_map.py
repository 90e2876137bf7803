# Python twin of w5_pool_map.lua: executor.map and multiprocessing.Pool.map
# of x*x over 1..n, pool start and shutdown included. executor.map is one
# future per item: at 10^7 it would take minutes, so it runs up to 10^5.
# TIDE_BENCH_W5_MAX=<n> replaces 10^7 by n, as in w5_pool_map.lua.
import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor


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
    top = int(os.environ.get("TIDE_BENCH_W5_MAX") or 10_000_000)
    for n in (1000, 100_000, top):
        data = range(1, n + 1)
        reps = 2 if n >= 10_000_000 else 3
        if n <= 100_000:
            def tp():
                with ThreadPoolExecutor(2) as ex:
                    r = list(ex.map(sq, data))
                    assert r[-1] == n * n
            print(f"executor_us_{n}={best(reps, tp) / n * 1e6:.4f}")

        def mp():
            with multiprocessing.Pool(2) as p:
                r = p.map(sq, data)
                assert r[-1] == n * n
        print(f"mp_us_{n}={best(reps, mp) / n * 1e6:.4f}")
