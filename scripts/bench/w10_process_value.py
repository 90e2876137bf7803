# Python twin of w10_process_value.lua: 2 processes x 100,000 increments of
# a multiprocessing.Value under its own lock.
import multiprocessing as mp
import time

N, PROCS, REPS = 100000, 2, 3


def work(v):
    for _ in range(N):
        with v.get_lock():
            v.value += 1


def run():
    v = mp.Value("i", 0)
    ps = [mp.Process(target=work, args=(v,)) for _ in range(PROCS)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    assert v.value == N * PROCS, v.value


if __name__ == "__main__":
    mp.set_start_method("fork")
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    print(f"us_per_increment={best / (N * PROCS) * 1e6:.4f}")
