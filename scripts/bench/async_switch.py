# Python twin of async_switch.lua: 100,000 tasks each awaiting
# asyncio.sleep(0) ten times, then gathered; us per switch.
import asyncio
import time

from async_common import loops, run

N, K, REPS = 100_000, 10, 3


async def worker():
    for _ in range(K):
        await asyncio.sleep(0)
    return 1


async def main():
    tasks = [asyncio.create_task(worker()) for _ in range(N)]
    return sum(await asyncio.gather(*tasks))


for name, factory in loops():
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        assert run(factory, main()) == N
        best = min(best, time.perf_counter() - t0)
    print(f"{name}_us={best / (N * K) * 1e6:.3f}")
