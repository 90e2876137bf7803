# Python twin of actor.lua: a multiprocessing.Manager proxy method call
# round trip (BaseManager with a registered class; its server process serves
# each call), and ThreadPoolExecutor(1) submit(...).result().
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.managers import BaseManager

N, REPS = 20_000, 5


class Counter:
    def __init__(self):
        self.n = 0

    def inc(self):
        self.n += 1
        return self.n


class Manager(BaseManager):
    pass


Manager.register("Counter", Counter)


def best(fn):
    b = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b / N * 1e6


def one():
    return 1


if __name__ == "__main__":
    with Manager() as m:
        c = m.Counter()

        def calls():
            for _ in range(N):
                c.inc()

        manager_us = best(calls)
    with ThreadPoolExecutor(1) as ex:
        def submits():
            for _ in range(N):
                ex.submit(one).result()

        threadpool_us = best(submits)
    print(f"manager_us={manager_us:.2f} threadpool_us={threadpool_us:.2f}")
