# Python twin of async_pool.lua: one event loop awaits 100,000
# run_in_executor futures of a ThreadPoolExecutor(2), in order.
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from async_common import loops, run

N, REPS = 100_000, 3


def inc(x):
    return x + 1


async def main(ex):
    loop = asyncio.get_running_loop()
    futs = [loop.run_in_executor(ex, inc, i) for i in range(1, N + 1)]
    total = 0
    for f in futs:
        total += await f
    return total


with ThreadPoolExecutor(2) as ex:
    for name, factory in loops():
        best = float("inf")
        for _ in range(REPS):
            t0 = time.perf_counter()
            assert run(factory, main(ex)) == N * (N + 1) // 2 + N
            best = min(best, time.perf_counter() - t0)
        print(f"{name}_us={best / N * 1e6:.2f}")
