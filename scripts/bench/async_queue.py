# Python twin of async_queue.lua: 1,000,000 integers through an
# asyncio.Queue(100), one producer task and one consumer task.
import asyncio
import time

from async_common import loops, run

N, SIZE, REPS = 1_000_000, 100, 3


async def main():
    q = asyncio.Queue(SIZE)

    async def consume():
        s = 0
        for _ in range(N):
            s += await q.get()
        return s

    consumer = asyncio.create_task(consume())
    for i in range(1, N + 1):
        await q.put(i)
    return await consumer


for name, factory in loops():
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        assert run(factory, main()) == N * (N + 1) // 2
        best = min(best, time.perf_counter() - t0)
    print(f"{name}_per_s={N / best:.0f}")
