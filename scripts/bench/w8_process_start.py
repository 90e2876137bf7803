# Python twin of w8_process_start.lua: start and join 100 processes one after another,
# each target returning at once, for each start method (ms per process).
import multiprocessing as mp
import time

N, REPS = 100, 3


def target(x):
    return x


def run(ctx, n=N):
    for i in range(n):
        p = ctx.Process(target=target, args=(i,))
        p.start()
        p.join()
        assert p.exitcode == 0


if __name__ == "__main__":
    out = []
    for m in ("fork", "forkserver", "spawn"):
        ctx = mp.get_context(m)
        run(ctx, 5)  # warm-up (starts the forkserver)
        best = float("inf")
        for _ in range(REPS):
            t0 = time.perf_counter()
            run(ctx)
            best = min(best, time.perf_counter() - t0)
        out.append(f"{m}_ms={best / N * 1e3:.3f}")
    print(" ".join(out))
