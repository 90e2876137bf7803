# Python twin of w9_pool_start.lua: multiprocessing.Pool(2) and
# ProcessPoolExecutor(2) per start method: made, one task submitted, its
# result back (the time measured), then shut down.
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor

REPS = 10


def inc(x):
    return x + 1


def first_pool(ctx):
    t0 = time.perf_counter()
    p = ctx.Pool(2)
    assert p.apply_async(inc, (1,)).get() == 2
    first = time.perf_counter() - t0
    p.close()
    p.join()
    return first


def first_executor(ctx):
    t0 = time.perf_counter()
    e = ProcessPoolExecutor(2, mp_context=ctx)
    assert e.submit(inc, 1).result() == 2
    first = time.perf_counter() - t0
    e.shutdown()
    return first


def best(fn, ctx):
    fn(ctx)  # warm-up (starts the forkserver)
    return min(fn(ctx) for _ in range(REPS)) * 1e3


if __name__ == "__main__":
    out = []
    for m in ("fork", "forkserver", "spawn"):
        ctx = mp.get_context(m)
        out.append(f"mp_{m}_ms={best(first_pool, ctx):.3f}")
        out.append(f"ex_{m}_ms={best(first_executor, ctx):.3f}")
    print(" ".join(out))
